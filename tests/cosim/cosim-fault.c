// SPDX-License-Identifier: MIT
/*
 * Faults: mutations of a valid job that make one descriptor (or the header,
 * or the memory behind them) hit a chosen error code of docs/regs.md, each
 * built so that no earlier check of docs/isa.md §5 fires first. The model
 * still decides what the job does; the intended code only feeds statistics.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cosim.h"

enum { O_SRC, O_AUX, O_W, O_BIAS, O_DST0, O_DST1, O_N };
#define O_INPUTS ((1u << O_SRC) | (1u << O_AUX) | (1u << O_W) | (1u << O_BIAS))
#define O_OUTPUTS ((1u << O_DST0) | (1u << O_DST1))
#define O_TENSORS ((1u << O_SRC) | (1u << O_AUX) | (1u << O_DST0) | (1u << O_DST1))
#define O_ALL (O_INPUTS | O_OUTPUTS)

static const char *const opnd_name[O_N] = { "src", "aux", "weights", "bias", "dst[0]", "dst[1]" };

struct mut {
	struct cs_rng *r;
	struct cs_job *job;
	struct cs_stream *s;
	unsigned int di; /* target descriptor */
	struct f8npu_desc *d;
};

static void note(struct cs_job *job, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(struct cs_job *job, const char *fmt, ...)
{
	size_t len = strlen(job->fault_what);
	va_list ap;

	if (len + 4 >= sizeof(job->fault_what))
		return;
	if (len) {
		strcpy(job->fault_what + len, "; ");
		len += 2;
	}
	va_start(ap, fmt);
	vsnprintf(job->fault_what + len, sizeof(job->fault_what) - len, fmt, ap);
	va_end(ap);
}

static bool is_compute(const struct f8npu_desc *d)
{
	return d->opcode >= F8NPU_OP_CONV2D && d->opcode <= F8NPU_OP_ADD;
}

static bool has_window(const struct f8npu_desc *d)
{
	return d->opcode >= F8NPU_OP_CONV2D && d->opcode <= F8NPU_OP_POOL_SUM;
}

static bool used(const struct f8npu_desc *d, int o)
{
	if (!is_compute(d))
		return false;
	switch (o) {
	case O_SRC:
	case O_DST0:
		return true;
	case O_AUX:
		return d->flags & F8NPU_FLAG_AUX;
	case O_W:
		return d->opcode == F8NPU_OP_CONV2D;
	case O_BIAS:
		return d->opcode == F8NPU_OP_CONV2D && (d->flags & F8NPU_FLAG_BIAS);
	default:
		return d->flags & F8NPU_FLAG_DST1;
	}
}

static struct f8npu_tensor_ref *tref(struct f8npu_desc *d, int o)
{
	switch (o) {
	case O_SRC:
		return &d->src;
	case O_AUX:
		return &d->aux;
	case O_DST0:
		return &d->dst[0];
	case O_DST1:
		return &d->dst[1];
	default:
		return NULL;
	}
}

static uint8_t *oregion(struct f8npu_desc *d, int o)
{
	return o == O_W ? &d->weights.region : o == O_BIAS ? &d->bias.region : &tref(d, o)->region;
}

static uint32_t *ooffset(struct f8npu_desc *d, int o)
{
	return o == O_W ? &d->weights.offset : o == O_BIAS ? &d->bias.offset : &tref(d, o)->offset;
}

static uint64_t cout_of(const struct f8npu_desc *d)
{
	return (d->flags & F8NPU_FLAG_DEPTHWISE) ? d->src.c : d->dst[0].c;
}

static uint64_t oextent(struct f8npu_desc *d, int o)
{
	if (o == O_W)
		return cout_of(d) * d->kernel_h * d->kernel_w * ((d->flags & F8NPU_FLAG_DEPTHWISE) ? 1 : d->src.c);
	if (o == O_BIAS)
		return cout_of(d) * 4;
	return cs_extent(tref(d, o));
}

static uint32_t oalign(struct f8npu_desc *d, int o)
{
	if (o == O_BIAS)
		return 4;
	if (o == O_W)
		return 1;
	return tref(d, o)->type == F8NPU_TYPE_S32 ? 4 : 1;
}

/* A used operand among @mask, at random; -1 if none. */
static int pick_opnd(struct mut *m, unsigned int mask)
{
	int cand[O_N], n = 0, o;

	for (o = 0; o < O_N; o++)
		if ((mask & (1u << o)) && used(m->d, o))
			cand[n++] = o;
	return n ? cand[cs_below(m->r, (uint32_t)n)] : -1;
}

static int free_region(struct mut *m)
{
	int cand[F8NPU_REGIONS], n = 0, r;

	for (r = 0; r < (int)F8NPU_REGIONS; r++)
		if (!m->job->reg[r].on)
			cand[n++] = r;
	return n ? cand[cs_below(m->r, (uint32_t)n)] : -1;
}

static uint16_t *dim_ptr(struct f8npu_tensor_ref *t, unsigned int k)
{
	return k == 0 ? &t->n : k == 1 ? &t->h : k == 2 ? &t->w : &t->c;
}

static bool reg_ok(const struct f8npu_desc *d, int o)
{
	const uint8_t *reg = o == O_W ? &d->weights.region : o == O_BIAS ? &d->bias.region
			   : o == O_SRC ? &d->src.region : o == O_AUX ? &d->aux.region
			   : o == O_DST0 ? &d->dst[0].region : &d->dst[1].region;

	return *reg < F8NPU_REGIONS;
}

static uint8_t nz(struct cs_rng *r)
{
	return (uint8_t)(1 + cs_below(r, 255));
}

static uint64_t align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) / a * a;
}

/* ---- header and stream ---- */

static bool m_magic(struct mut *m)
{
	static const uint32_t bad[] = { 0, 0x46384353u, 0x53433847u, 0xffffffffu, 0x53433846u ^ 0x80000000u };

	m->s->hdr.magic = cs_chance(m->r, 60) ? bad[cs_below(m->r, 5)] : F8NPU_CMD_MAGIC ^ (1u << cs_below(m->r, 32));
	note(m->job, "header magic %#x", m->s->hdr.magic);
	return true;
}

static bool m_version(struct mut *m)
{
	switch (cs_below(m->r, 4)) {
	case 0:
		m->s->hdr.version_major = 0;
		break;
	case 1:
		m->s->hdr.version_major = (uint16_t)(F8NPU_CMD_VERSION_MAJOR + 1 + cs_below(m->r, 3));
		break;
	case 2:
		m->s->hdr.version_major = 0xffff;
		break;
	default:
		m->s->hdr.version_minor = (uint16_t)(F8NPU_CMD_VERSION_MINOR + 1 + cs_below(m->r, 0xfffe));
		break;
	}
	note(m->job, "header version %u.%u", m->s->hdr.version_major, m->s->hdr.version_minor);
	return true;
}

static bool m_header(struct mut *m)
{
	static const uint32_t sizes[] = { 0, 128, 255, 257, 512, 0xffffffffu };
	static const uint32_t counts[] = { 0x00ffffffu, 0x01000000u, 0x01000001u, 0xffffffffu };
	struct cs_stream *s = m->s;
	unsigned int k;

	switch (cs_below(m->r, 4)) {
	case 0:
		s->hdr.desc_size = sizes[cs_below(m->r, 6)];
		note(m->job, "header desc_size %u", s->hdr.desc_size);
		break;
	case 1:
		k = cs_below(m->r, 4);
		s->hdr.reserved[k] = (uint32_t)nz(m->r) << (8 * cs_below(m->r, 4));
		note(m->job, "header reserved[%u] = %#x", k, s->hdr.reserved[k]);
		break;
	case 2: /* CMD_SIZE one byte or more short of desc_count descriptors */
		s->cmd_size = F8NPU_CMD_HEADER_SIZE + s->hdr.desc_count * F8NPU_CMD_DESC_SIZE - 1 -
			      cs_below(m->r, 256);
		note(m->job, "CMD_SIZE %u for %u descriptors", s->cmd_size, s->hdr.desc_count);
		break;
	default: /* desc_count beyond CMD_SIZE, including counts whose byte size overflows 32 bits */
		s->hdr.desc_count = cs_chance(m->r, 50) ? counts[cs_below(m->r, 4)]
							: (s->cmd_size - F8NPU_CMD_HEADER_SIZE) / F8NPU_CMD_DESC_SIZE + 1 +
								  cs_below(m->r, 1000);
		note(m->job, "header desc_count %u with CMD_SIZE %u", s->hdr.desc_count, s->cmd_size);
		break;
	}
	return true;
}

static bool m_cmd_oob(struct mut *m)
{
	m->s->cmd_size = cs_below(m->r, F8NPU_CMD_HEADER_SIZE);
	note(m->job, "CMD_SIZE %u", m->s->cmd_size);
	return true;
}

static bool m_no_end(struct mut *m)
{
	struct cs_stream *s = m->s;

	switch (cs_below(m->r, 3)) {
	case 0:
		s->hdr.desc_count = 0;
		break;
	case 1:
		s->hdr.desc_count = m->di + 1; /* the descriptors after the target are not in the stream */
		break;
	default:
		s->hdr.desc_count = s->ncompute; /* END is not in the stream */
		break;
	}
	note(m->job, "header desc_count %u (END at %u)", s->hdr.desc_count, s->ncompute);
	return true;
}

/* ---- descriptor fields ---- */

static bool m_opcode(struct mut *m)
{
	static const uint8_t bad[] = { 0, 6, 7, 0x80, 0xff };
	unsigned int at = cs_chance(m->r, 20) ? m->s->ncompute : m->di;
	uint8_t op = cs_chance(m->r, 60) ? bad[cs_below(m->r, 5)] : (uint8_t)cs_range(m->r, 6, 255);

	m->s->d[at].opcode = op;
	note(m->job, "desc %u opcode %u", at, op);
	return true;
}

static bool m_field(struct mut *m)
{
	struct f8npu_desc *d = m->d;
	uint8_t *raw = (uint8_t *)d;
	unsigned int tries, off;
	int o;

	if (cs_chance(m->r, 10)) { /* END: every byte after the opcode MBZ */
		off = 1 + cs_below(m->r, 255);
		((uint8_t *)&m->s->d[m->s->ncompute])[off] = nz(m->r);
		note(m->job, "END (desc %u) byte %u non-zero", m->s->ncompute, off);
		return true;
	}
	for (tries = 0; tries < 64; tries++) {
		switch (cs_below(m->r, 14)) {
		case 0:
			off = 2 + cs_below(m->r, 2);
			break;
		case 1:
			off = 14 + cs_below(m->r, 2);
			break;
		case 2:
			off = 18 + cs_below(m->r, 14);
			break;
		case 3:
			off = 176 + cs_below(m->r, 80);
			break;
		case 4:
			d->flags |= (uint8_t)(0x20u << cs_below(m->r, 3));
			note(m->job, "desc %u flags %#x (reserved bit)", m->di, d->flags);
			return true;
		case 5:
			if (d->opcode == F8NPU_OP_CONV2D)
				continue;
			d->flags |= cs_chance(m->r, 50) ? F8NPU_FLAG_BIAS : F8NPU_FLAG_DEPTHWISE;
			note(m->job, "desc %u flags %#x (not allowed for opcode %u)", m->di, d->flags, d->opcode);
			return true;
		case 6:
			o = pick_opnd(m, O_TENSORS);
			tref(d, o)->type = (uint8_t)cs_range(m->r, 3, 255);
			note(m->job, "desc %u %s type %u", m->di, opnd_name[o], tref(d, o)->type);
			return true;
		case 7:
			o = pick_opnd(m, O_TENSORS);
			off = (unsigned int)((uint8_t *)tref(d, o) - raw) +
			      (cs_chance(m->r, 50) ? 2 + cs_below(m->r, 2) : 28 + cs_below(m->r, 4));
			break;
		case 8:
			if (d->opcode != F8NPU_OP_CONV2D)
				continue;
			d->src.type = F8NPU_TYPE_S32;
			note(m->job, "desc %u CONV2D src type s32", m->di);
			return true;
		case 9:
			if (d->opcode != F8NPU_OP_CONV2D)
				continue;
			off = ((d->flags & F8NPU_FLAG_BIAS) && cs_chance(m->r, 50) ? 168 : 160) + 1 + cs_below(m->r, 3);
			break;
		case 10:
			if (!(d->flags & F8NPU_FLAG_AUX) && cs_chance(m->r, 50))
				off = 64 + cs_below(m->r, 32);
			else if (!(d->flags & F8NPU_FLAG_DST1))
				off = 128 + cs_below(m->r, 32);
			else
				continue;
			break;
		case 11:
			if (d->opcode == F8NPU_OP_CONV2D && !(d->flags & F8NPU_FLAG_BIAS))
				off = 168 + cs_below(m->r, 8);
			else if (d->opcode != F8NPU_OP_CONV2D)
				off = 160 + cs_below(m->r, 16);
			else
				continue;
			break;
		case 12:
			if (d->opcode != F8NPU_OP_ADD)
				continue;
			off = 4 + cs_below(m->r, 8);
			break;
		default:
			if (!(d->flags & F8NPU_FLAG_AUX)) {
				d->align_aux = nz(m->r);
				note(m->job, "desc %u align_aux %u without AUX", m->di, d->align_aux);
				return true;
			}
			if (!(d->flags & F8NPU_FLAG_DST1)) {
				d->out_shift[1] = (int8_t)nz(m->r);
				note(m->job, "desc %u out_shift[1] %d without DST1", m->di, d->out_shift[1]);
				return true;
			}
			continue;
		}
		raw[off] = nz(m->r);
		note(m->job, "desc %u byte %u = %#x", m->di, off, raw[off]);
		return true;
	}
	return false;
}

static bool m_shape(struct mut *m)
{
	struct f8npu_desc *d = m->d;
	unsigned int tries;
	uint16_t *dim;
	int o;

	for (tries = 0; tries < 64; tries++) {
		switch (cs_below(m->r, 7)) {
		case 0:
			o = pick_opnd(m, O_TENSORS);
			dim = dim_ptr(tref(d, o), cs_below(m->r, 4));
			*dim = 0;
			note(m->job, "desc %u %s zero dimension", m->di, opnd_name[o]);
			return true;
		case 1:
			if (!has_window(d))
				continue;
			*(cs_chance(m->r, 50) ? &d->kernel_h : &d->kernel_w) = 0;
			note(m->job, "desc %u kernel %ux%u", m->di, d->kernel_h, d->kernel_w);
			return true;
		case 2:
			if (!has_window(d))
				continue;
			*(cs_chance(m->r, 50) ? &d->stride_h : &d->stride_w) = 0;
			note(m->job, "desc %u stride %ux%u", m->di, d->stride_h, d->stride_w);
			return true;
		case 3:
			if (!has_window(d))
				continue;
			switch (cs_below(m->r, 4)) {
			case 0:
				d->pad_top = (uint8_t)(d->kernel_h + cs_below(m->r, 3));
				break;
			case 1:
				d->pad_bottom = (uint8_t)(d->kernel_h + cs_below(m->r, 3));
				break;
			case 2:
				d->pad_left = (uint8_t)(d->kernel_w + cs_below(m->r, 3));
				break;
			default:
				d->pad_right = (uint8_t)(d->kernel_w + cs_below(m->r, 3));
				break;
			}
			note(m->job, "desc %u padding %u/%u/%u/%u >= kernel %ux%u", m->di, d->pad_top, d->pad_bottom,
			     d->pad_left, d->pad_right, d->kernel_h, d->kernel_w);
			return true;
		case 4:
			if (!has_window(d))
				continue;
			if (cs_chance(m->r, 50) && d->src.h + d->pad_top + d->pad_bottom + 3u <= 255u)
				d->kernel_h = (uint8_t)(d->src.h + d->pad_top + d->pad_bottom + 1 + cs_below(m->r, 3));
			else if (d->src.w + d->pad_left + d->pad_right + 3u <= 255u)
				d->kernel_w = (uint8_t)(d->src.w + d->pad_left + d->pad_right + 1 + cs_below(m->r, 3));
			else
				continue;
			note(m->job, "desc %u window %ux%u larger than the padded input", m->di, d->kernel_h,
			     d->kernel_w);
			return true;
		case 5: {
			/* For a groups=1 conv, dst[0].c is Cout: change n, h or w. */
			unsigned int k = cs_below(m->r, d->opcode == F8NPU_OP_CONV2D &&
							     !(d->flags & F8NPU_FLAG_DEPTHWISE) ? 3 : 4);

			dim = dim_ptr(&d->dst[0], k);
			*dim = *dim > 1 && cs_chance(m->r, 50) ? (uint16_t)(*dim - 1) : (uint16_t)(*dim + 1);
			note(m->job, "desc %u dst[0] dimension %u = %u", m->di, k, *dim);
			return true;
		}
		default:
			o = pick_opnd(m, (1u << O_AUX) | (1u << O_DST1));
			if (o < 0)
				continue;
			dim = dim_ptr(tref(d, o), cs_below(m->r, 4));
			*dim = (uint16_t)(*dim + 1);
			note(m->job, "desc %u %s shape differs from dst[0]", m->di, opnd_name[o]);
			return true;
		}
	}
	return false;
}

/* K > 65536: rewrite the target as a conv whose window is legal but too deep. */
static void big_conv(struct mut *m)
{
	struct f8npu_desc *d = m->d;
	bool wide = cs_chance(m->r, 50);

	d->opcode = F8NPU_OP_CONV2D;
	d->flags &= (uint8_t)~(F8NPU_FLAG_AUX | F8NPU_FLAG_DST1 | F8NPU_FLAG_DEPTHWISE);
	memset(&d->aux, 0, sizeof(d->aux));
	memset(&d->dst[1], 0, sizeof(d->dst[1]));
	d->align_aux = 0;
	d->out_shift[1] = 0;
	if (d->src.type == F8NPU_TYPE_S32)
		d->src.type = F8NPU_TYPE_U8;
	d->src.h = d->src.w = wide ? 255 : 16;
	d->src.c = wide ? (uint16_t)cs_range(m->r, 2, 40) : (uint16_t)cs_range(m->r, 257, 1000);
	d->kernel_h = d->kernel_w = (uint8_t)d->src.h;
	d->stride_h = d->stride_w = 1;
	d->pad_top = d->pad_bottom = d->pad_left = d->pad_right = 0;
	d->dst[0].n = d->src.n;
	d->dst[0].h = d->dst[0].w = 1;
	note(m->job, "desc %u CONV2D K = %ux%ux%u > 65536", m->di, d->kernel_h, d->kernel_w, d->src.c);
}

static bool m_limit(struct mut *m)
{
	struct f8npu_desc *d = m->d;
	int8_t bad = cs_chance(m->r, 50) ? (int8_t)cs_range(m->r, 32, 127) : (int8_t)cs_range(m->r, -128, -32);

	switch (cs_below(m->r, 5)) {
	case 0:
		d->out_shift[0] = bad;
		note(m->job, "desc %u out_shift[0] %d", m->di, bad);
		break;
	case 1:
		if (!(d->flags & F8NPU_FLAG_DST1)) {
			d->out_shift[0] = bad;
			note(m->job, "desc %u out_shift[0] %d", m->di, bad);
		} else {
			d->out_shift[1] = bad;
			note(m->job, "desc %u out_shift[1] %d", m->di, bad);
		}
		break;
	case 2:
		d->align_src = (uint8_t)cs_range(m->r, 32, 255);
		note(m->job, "desc %u align_src %u", m->di, d->align_src);
		break;
	case 3:
		if (d->flags & F8NPU_FLAG_AUX) {
			d->align_aux = (uint8_t)cs_range(m->r, 32, 255);
			note(m->job, "desc %u align_aux %u", m->di, d->align_aux);
		} else {
			d->align_src = (uint8_t)cs_range(m->r, 32, 255);
			note(m->job, "desc %u align_src %u", m->di, d->align_src);
		}
		break;
	default:
		big_conv(m);
		break;
	}
	return true;
}

/* ---- regions and memory ---- */

static bool m_region(struct mut *m)
{
	struct cs_job *job = m->job;
	int o = pick_opnd(m, O_ALL), fr = free_region(m);
	uint8_t *reg = oregion(m->d, o);

	if (!reg_ok(m->d, o))
		return false;
	switch (cs_below(m->r, 4)) {
	case 0:
		*reg = (uint8_t)cs_range(m->r, F8NPU_REGIONS, 255);
		note(job, "desc %u %s region %u", m->di, opnd_name[o], *reg);
		return true;
	case 1: /* a region that is not programmed (size 0) */
		if (fr < 0)
			break;
		*reg = (uint8_t)fr;
		note(job, "desc %u %s in unprogrammed region %d", m->di, opnd_name[o], fr);
		return true;
	case 2: { /* base + size reaches or passes 2^64 */
		uint64_t base = 0 - 4096ull * (1 + cs_below(m->r, 4));
		int r = fr >= 0 ? fr : *reg;

		job->reg[r] = (struct cs_region){ true, -1, 0, base, (0 - base) + (cs_chance(m->r, 50) ? 0 : 1 + cs_below(m->r, 8192)) };
		*reg = (uint8_t)r;
		note(job, "desc %u %s in region %d at %#llx size %#llx (wraps)", m->di, opnd_name[o], r,
		     (unsigned long long)base, (unsigned long long)job->reg[r].size);
		return true;
	}
	default: /* programmed base, size 0 */
		if (fr < 0)
			break;
		job->reg[fr] = (struct cs_region){ true, job->reg[*reg].buf, job->reg[*reg].off, job->reg[*reg].abs, 0 };
		*reg = (uint8_t)fr;
		note(job, "desc %u %s in region %d of size 0", m->di, opnd_name[o], fr);
		return true;
	}
	*reg = (uint8_t)cs_range(m->r, F8NPU_REGIONS, 255);
	note(job, "desc %u %s region %u", m->di, opnd_name[o], *reg);
	return true;
}

/* An input (OOB_READ) or output (OOB_WRITE) footprint past the end of its region. */
static bool m_oob(struct mut *m, bool write)
{
	int o = pick_opnd(m, write ? O_OUTPUTS : O_INPUTS);
	struct cs_region *reg;
	uint64_t ext, al, off;
	uint32_t *offset;

	if (!reg_ok(m->d, o))
		return false;
	reg = &m->job->reg[*oregion(m->d, o)];
	ext = oextent(m->d, o);
	al = oalign(m->d, o);
	offset = ooffset(m->d, o);

	switch (cs_below(m->r, write ? 2 : 3)) {
	case 0:
		off = align_up(reg->size - ext + 1 + (cs_chance(m->r, 50) ? 0 : cs_below(m->r, 8)), al);
		if (off > UINT32_MAX)
			off = UINT32_MAX & ~(al - 1);
		*offset = (uint32_t)off;
		break;
	case 1:
		*offset = (uint32_t)((UINT32_MAX & ~(al - 1)) - al * cs_below(m->r, 4));
		break;
	default: /* the region ends one byte or more before the operand */
		if (*offset + ext < 2) {
			*offset = (uint32_t)align_up(reg->size - ext + 1, al);
			break;
		}
		reg->size = *offset + ext - 1 - cs_below(m->r, (uint32_t)(*offset + ext - 1));
		note(m->job, "desc %u region %u shrunk to %llu bytes", m->di, *oregion(m->d, o),
		     (unsigned long long)reg->size);
		break;
	}
	note(m->job, "desc %u %s offset %#x extent %llu in a region of %llu bytes", m->di, opnd_name[o], *offset,
	     (unsigned long long)ext, (unsigned long long)reg->size);
	return true;
}

static bool m_align(struct mut *m)
{
	struct f8npu_desc *d = m->d;
	int o = pick_opnd(m, O_TENSORS), cand[O_N], n = 0, k;
	struct f8npu_tensor_ref *t;

	for (k = 0; k < O_N; k++)
		if (used(d, k) && (k == O_BIAS || (tref(d, k) && tref(d, k)->type == F8NPU_TYPE_S32)))
			cand[n++] = k;
	if (n)
		o = cand[cs_below(m->r, (uint32_t)n)];
	if (o == O_BIAS) {
		d->bias.offset += 1 + cs_below(m->r, 3);
		note(m->job, "desc %u bias offset %#x", m->di, d->bias.offset);
		return true;
	}
	if (!n) { /* no s32 data: make dst[0] s32 at an odd offset */
		o = O_DST0;
		d->dst[0].type = F8NPU_TYPE_S32;
		d->dst[0].offset |= 1;
		note(m->job, "desc %u dst[0] s32 at offset %#x", m->di, d->dst[0].offset);
		return true;
	}
	t = tref(d, o);
	switch (cs_below(m->r, 4)) {
	case 0:
		t->offset += 1 + cs_below(m->r, 3);
		break;
	case 1:
		t->stride_n += 1 + cs_below(m->r, 3);
		break;
	case 2:
		t->stride_h += 1 + cs_below(m->r, 3);
		break;
	default:
		t->stride_w += 1 + cs_below(m->r, 3);
		break;
	}
	note(m->job, "desc %u %s s32 offset %#x strides %u/%u/%u", m->di, opnd_name[o], t->offset, t->stride_n,
	     t->stride_h, t->stride_w);
	return true;
}

/* Move output @out so that it intersects input @in (same or aliasing region), staying in bounds. */
static bool overlap_onto(struct mut *m, int out, int in, int alias_region)
{
	struct f8npu_desc *d = m->d;
	uint8_t region = *oregion(d, in);
	uint64_t in_off = *ooffset(d, in), in_ext = oextent(d, in), out_ext = oextent(d, out);
	uint64_t al = oalign(d, out), size, off;

	if (!reg_ok(d, in))
		return false;
	size = m->job->reg[region].size;
	off = in_off / al * al;
	if (off + out_ext > size) {
		if (in_off + in_ext < out_ext)
			return false;
		off = (in_off + in_ext - out_ext) / al * al;
		if (off + out_ext <= in_off || off + out_ext > size)
			return false;
	}
	if (alias_region >= 0) {
		m->job->reg[alias_region] = m->job->reg[region];
		region = (uint8_t)alias_region;
	}
	*oregion(d, out) = region;
	*ooffset(d, out) = (uint32_t)off;
	note(m->job, "desc %u %s at region %u offset %#llx overlaps %s%s", m->di, opnd_name[out], region,
	     (unsigned long long)off, opnd_name[in], alias_region >= 0 ? " (through an aliasing region)" : "");
	return true;
}

static bool m_overlap(struct mut *m)
{
	struct f8npu_desc *d = m->d;
	unsigned int tries;

	for (tries = 0; tries < 64; tries++) {
		int out = pick_opnd(m, O_OUTPUTS);
		struct f8npu_tensor_ref *t = tref(d, out);
		uint32_t es = f8npu_type_size(t->type);
		uint64_t pix = (uint64_t)t->c * es;

		switch (cs_below(m->r, 5)) {
		case 0: /* the output overlaps itself */
			if (t->w > 1)
				t->stride_w = (uint32_t)(pix - es);
			else if (t->h > 1)
				t->stride_h = (uint32_t)(pix - es);
			else if (t->n > 1)
				t->stride_n = (uint32_t)(pix - es);
			else
				continue;
			note(m->job, "desc %u %s strides %u/%u/%u overlap", m->di, opnd_name[out], t->stride_n,
			     t->stride_h, t->stride_w);
			return true;
		case 1: /* onto an input */
			if (overlap_onto(m, out, pick_opnd(m, O_INPUTS), -1))
				return true;
			continue;
		case 2: /* dst[1] onto dst[0] */
			if (!used(d, O_DST1))
				continue;
			if (overlap_onto(m, O_DST1, O_DST0, -1))
				return true;
			continue;
		case 3: { /* onto the command buffer, through a region that covers it */
			int r = free_region(m);
			uint64_t off;

			if (r < 0)
				continue;
			off = align_up(cs_below(m->r, m->s->cmd_size ? m->s->cmd_size : 1), es);
			if (off >= m->s->cmd_size && m->s->cmd_size)
				off = 0;
			m->job->reg[r] = (struct cs_region){ true, m->s->buf, m->s->off, 0, off + cs_extent(t) + cs_below(m->r, 16) };
			t->region = (uint8_t)r;
			t->offset = (uint32_t)off;
			note(m->job, "desc %u %s in region %d over the command stream, offset %#llx", m->di,
			     opnd_name[out], r, (unsigned long long)off);
			return true;
		}
		default: { /* a second region aliasing an input's memory */
			int r = free_region(m);

			if (r < 0)
				continue;
			if (overlap_onto(m, out, pick_opnd(m, O_INPUTS), r))
				return true;
			continue;
		}
		}
	}
	return false;
}

/*
 * BUS: the header or a descriptor not backed, the header at the top of the address space (its
 * range may pass 2^64: the device must not fetch it, docs/isa.md §1), or an operand running
 * into the guard gap.
 */
static bool m_bus(struct mut *m)
{
	struct cs_job *job = m->job;
	struct cs_stream *s = m->s;
	int o, r, b;
	uint64_t ext, al, e;

	switch (cs_below(m->r, 5)) {
	case 0: /* header */
		if (cs_chance(m->r, 40)) {
			if (cs_chance(m->r, 50)) { /* in memory up to 2^64: descriptor k passes it */
				uint32_t k = cs_below(m->r, s->ndesc);

				s->top = F8NPU_CMD_HEADER_SIZE + k * F8NPU_CMD_DESC_SIZE + 4 * (1 + cs_below(m->r, 63));
				s->top_backed = true;
				note(job, "stream at CMD_BASE 2^64 - %u, in memory: descriptor %u wraps past 2^64",
				     s->top, k);
				return true;
			}
			s->top = 4 * (1 + cs_below(m->r, 16));
			note(job, "CMD_BASE 2^64 - %u (the header %s)", s->top,
			     s->top < F8NPU_CMD_HEADER_SIZE ? "wraps past 2^64" : "is not backed");
			return true;
		}
		if (s->off < 4)
			s->off = 4 * (1 + cs_below(m->r, 16));
		s->buf_len = cs_chance(m->r, 50) ? 1 + cs_below(m->r, (uint32_t)s->off)
						 : s->off + cs_below(m->r, F8NPU_CMD_HEADER_SIZE);
		note(job, "stream buffer ends %lld bytes after CMD_BASE (header not backed)",
		     (long long)s->buf_len - (long long)s->off);
		return true;
	case 1: { /* descriptor k: the buffer ends inside or before it */
		uint32_t k = cs_chance(m->r, 70) ? m->di : cs_below(m->r, s->ndesc);

		s->buf_len = s->off + F8NPU_CMD_HEADER_SIZE + (uint64_t)k * F8NPU_CMD_DESC_SIZE +
			     cs_below(m->r, F8NPU_CMD_DESC_SIZE);
		note(job, "stream buffer ends inside descriptor %u", k);
		return true;
	}
	default:
		break;
	}
	/* An operand in a fresh region that runs past its buffer, or lies wholly past it. */
	r = free_region(m);
	o = pick_opnd(m, O_ALL);
	if (r < 0)
		return false;
	ext = oextent(m->d, o);
	al = oalign(m->d, o);
	e = (ext + 8 + cs_below(m->r, 512) + 3) & ~3ull;
	b = cs_job_add_buf(m->r, job, e);
	if (b < 0)
		return false;
	/* Stay within the 4 KiB guard gap after the buffer (it is the last one anyway). */
	if (cs_chance(m->r, 75) || ext + 256 + 64 >= 4096) {
		uint64_t delta = al * (1 + cs_below(m->r, (uint32_t)((ext < 3968 ? ext : 3968) / al)));
		uint64_t off = e - ext + delta;

		job->reg[r] = (struct cs_region){ true, b, 0, 0, off + ext + cs_below(m->r, 64) };
		*ooffset(m->d, o) = (uint32_t)off;
		note(job, "desc %u %s runs %llu bytes past its buffer (region %d)", m->di, opnd_name[o],
		     (unsigned long long)delta, r);
	} else {
		job->reg[r] = (struct cs_region){ true, b, e + 4 * cs_below(m->r, 64), 0, ext + cs_below(m->r, 64) };
		*ooffset(m->d, o) = (uint32_t)((job->reg[r].size - ext) / al * al);
		note(job, "desc %u %s in region %d past the end of its buffer", m->di, opnd_name[o], r);
	}
	*oregion(m->d, o) = (uint8_t)r;
	return true;
}

void cs_fault_apply(struct cs_rng *r, struct cs_job *job, int code)
{
	struct mut m;
	bool ok = false;

	m.r = r;
	m.job = job;
	m.s = &job->s[job->fault_stream];
	m.di = cs_below(r, m.s->ncompute);
	m.d = &m.s->d[m.di];
	/* After an earlier mutation the target may no longer be a compute descriptor. */
	if (code >= F8NPU_ERR_BAD_FIELD && code <= F8NPU_ERR_OVERLAP && !is_compute(m.d))
		code = F8NPU_ERR_BAD_OPCODE;
	if (code == F8NPU_ERR_BUS && !is_compute(m.d))
		code = F8NPU_ERR_NO_END;
	switch (code) {
	case F8NPU_ERR_BAD_MAGIC:
		ok = m_magic(&m);
		break;
	case F8NPU_ERR_BAD_VERSION:
		ok = m_version(&m);
		break;
	case F8NPU_ERR_BAD_HEADER:
		ok = m_header(&m);
		break;
	case F8NPU_ERR_CMD_OOB:
		ok = m_cmd_oob(&m);
		break;
	case F8NPU_ERR_BAD_OPCODE:
		ok = m_opcode(&m);
		break;
	case F8NPU_ERR_BAD_FIELD:
		ok = m_field(&m);
		break;
	case F8NPU_ERR_BAD_SHAPE:
		ok = m_shape(&m);
		break;
	case F8NPU_ERR_LIMIT:
		ok = m_limit(&m);
		break;
	case F8NPU_ERR_BAD_REGION:
		ok = m_region(&m);
		break;
	case F8NPU_ERR_OOB_READ:
		ok = m_oob(&m, false);
		break;
	case F8NPU_ERR_OOB_WRITE:
		ok = m_oob(&m, true);
		break;
	case F8NPU_ERR_ALIGN:
		ok = m_align(&m);
		break;
	case F8NPU_ERR_OVERLAP:
		ok = m_overlap(&m);
		break;
	case F8NPU_ERR_NO_END:
		ok = m_no_end(&m);
		break;
	case F8NPU_ERR_BUS:
		ok = m_bus(&m);
		break;
	default:
		break;
	}
	if (!ok) /* no way to reach that code in this job: corrupt the magic instead */
		note(job, "(no %s mutation applies)", f8npu_err_name((uint32_t)code));
}
