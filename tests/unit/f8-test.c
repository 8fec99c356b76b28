// SPDX-License-Identifier: MIT
/*
 * Shared fixtures of the f8npu unit tests: see f8-test.h.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "f8-test.h"
#include "f8npu_build.h"

uint64_t f8t_seed = 0x5eed0f8u;
struct f8t_ctx *f8t;

/* ---- PRNG ---- */

void f8t_seed_init(void)
{
	const char *e = getenv("F8_TEST_SEED");

	if (e && *e) {
		char *end;
		unsigned long long v = strtoull(e, &end, 0);

		if (*end) {
			fprintf(stderr, "f8-unit: bad F8_TEST_SEED '%s'\n", e);
			exit(2);
		}
		f8t_seed = v;
	}
	printf("f8-unit: seed %#" PRIx64 " (set F8_TEST_SEED to change it)\n", f8t_seed);
	fflush(stdout);
}

static uint64_t splitmix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

void f8t_rng_init(struct f8t_rng *r, const char *name, int idx)
{
	uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a of the name */

	for (; *name; name++)
		h = (h ^ (uint8_t)*name) * 0x100000001b3ull;
	r->s = f8t_seed ^ h ^ ((uint64_t)(uint32_t)idx * 0xd1b54a32d192ed03ull);
	splitmix(&r->s);
}

uint64_t f8t_rand(struct f8t_rng *r)
{
	return splitmix(&r->s);
}

uint32_t f8t_below(struct f8t_rng *r, uint32_t n)
{
	return n ? (uint32_t)(f8t_rand(r) % n) : 0;
}

int64_t f8t_range(struct f8t_rng *r, int64_t lo, int64_t hi)
{
	uint64_t span = (uint64_t)hi - (uint64_t)lo + 1;

	return span ? (int64_t)((uint64_t)lo + f8t_rand(r) % span) : (int64_t)f8t_rand(r);
}

bool f8t_chance(struct f8t_rng *r, unsigned int percent)
{
	return f8t_below(r, 100) < percent;
}

void f8t_fill(struct f8t_rng *r, void *p, size_t n)
{
	uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)f8t_rand(r);
}

size_t f8t_first_diff(const void *a, const void *b, size_t n)
{
	const uint8_t *x = a, *y = b;

	for (size_t i = 0; i < n; i++)
		if (x[i] != y[i])
			return i;
	return (size_t)-1;
}

/* ---- fixture ---- */

struct scratch {
	struct scratch *next;
	max_align_t data[];
};

void *f8t_calloc(size_t n)
{
	struct scratch *s = calloc(1, sizeof(*s) + (n ? n : 1));

	ck_assert_msg(s, "out of memory (%zu bytes)", n);
	s->next = f8t->scratch;
	f8t->scratch = s;
	return s->data;
}

static void ctx_release(void)
{
	if (f8t->dev)
		f8npu_dev_destroy(f8t->dev);
	f8t->dev = NULL;
	f8npu_hostmem_free(&f8t->hm);
}

void f8t_reset(const struct f8npu_model_config *cfg)
{
	ctx_release();
	f8npu_hostmem_init(&f8t->hm);
	f8t->mem = f8npu_hostmem_port(&f8t->hm);
	if (cfg)
		f8t->cfg = *cfg;
	else
		f8npu_model_default_config(&f8t->cfg);
	memset(f8t->reg, 0, sizeof(f8t->reg));
	for (unsigned int r = 0; r < F8NPU_REGIONS; r++)
		f8t->reg[r].buf = -1;
	f8t->cmd = NULL;
	f8t->cmd_addr = 0;
	f8t->cmd_size = 0;
	f8t->dev = f8npu_model_create(&f8t->cfg, &f8t->mem);
	ck_assert_msg(f8t->dev, "f8npu_model_create failed");
}

void f8t_setup(void)
{
	f8t = calloc(1, sizeof(*f8t));
	ck_assert(f8t);
	f8npu_hostmem_init(&f8t->hm);
	f8t_reset(NULL);
}

void f8t_teardown(void)
{
	if (!f8t)
		return;
	ctx_release();
	while (f8t->scratch) {
		struct scratch *s = f8t->scratch;

		f8t->scratch = s->next;
		free(s);
	}
	free(f8t);
	f8t = NULL;
}

uint8_t *f8t_alloc(uint64_t size, uint64_t *addr)
{
	uint8_t *p = f8npu_hostmem_alloc(&f8t->hm, size, addr);

	ck_assert_msg(p, "f8npu_hostmem_alloc(%" PRIu64 ") failed (%u buffers)", size,
		      f8t->hm.count);
	ck_assert_msg((*addr & 3) == 0, "host buffer at %#" PRIx64 " not 4-byte aligned", *addr);
	return p;
}

/* The host buffer holding @addr; a region may run past its end (BUS tests). */
static int buf_of(uint64_t addr)
{
	for (unsigned int i = 0; i < f8t->hm.count; i++) {
		const struct f8npu_hostmem_buf *b = &f8t->hm.bufs[i];

		if (addr >= b->addr && addr - b->addr < b->size)
			return (int)i;
	}
	return -1;
}

/* Bytes of region @r that its host buffer backs. */
static uint64_t backed(const struct f8t_region *g)
{
	const struct f8npu_hostmem_buf *b = &f8t->hm.bufs[g->buf];
	uint64_t left = b->size - (g->addr - b->addr);

	return g->size < left ? g->size : left;
}

void f8t_region_set(unsigned int r, uint64_t addr, uint64_t size)
{
	ck_assert_uint_lt(r, F8NPU_REGIONS);
	f8npu_prog_set_region(f8t->dev, r, addr, size);
	f8t->reg[r].addr = addr;
	f8t->reg[r].size = size;
	f8t->reg[r].buf = size ? buf_of(addr) : -1;
}

uint8_t *f8t_region(unsigned int r, uint64_t size)
{
	uint64_t addr;
	uint8_t *p = f8t_alloc(size, &addr);

	f8t_region_set(r, addr, size);
	return p;
}

uint8_t *f8t_region_data(unsigned int r)
{
	const struct f8t_region *g = &f8t->reg[r];

	if (g->buf < 0)
		return NULL;
	return f8t->hm.bufs[g->buf].data + (g->addr - f8t->hm.bufs[g->buf].addr);
}

uint64_t f8t_unbacked_addr(void)
{
	uint64_t end = 0;

	for (unsigned int i = 0; i < f8t->hm.count; i++) {
		const struct f8npu_hostmem_buf *b = &f8t->hm.bufs[i];

		if (b->addr + b->size > end)
			end = b->addr + b->size;
	}
	/* Far above every buffer, far below 2^64. */
	return ((end + 0xfffff) & ~0xfffffull) + (1ull << 32);
}

uint64_t f8t_stream_raw(const struct f8npu_cmd_header *h, const struct f8npu_desc *d, uint32_t n,
			uint32_t size)
{
	uint64_t addr;
	uint8_t *p = f8t_alloc(size ? size : 1, &addr);

	if (size >= sizeof(*h))
		memcpy(p, h, sizeof(*h));
	else
		memcpy(p, h, size);
	for (uint32_t i = 0; i < n; i++) {
		uint64_t at = F8NPU_CMD_HEADER_SIZE + (uint64_t)F8NPU_CMD_DESC_SIZE * i;

		if (at + F8NPU_CMD_DESC_SIZE <= size)
			memcpy(p + at, &d[i], F8NPU_CMD_DESC_SIZE);
	}
	f8t->cmd = p;
	f8t->cmd_addr = addr;
	f8t->cmd_size = size;
	return addr;
}

uint64_t f8t_stream(const struct f8npu_desc *d, uint32_t n)
{
	struct f8npu_cmd_header h = f8npu_header_make(n);

	return f8t_stream_raw(&h, d, n, F8NPU_CMD_HEADER_SIZE + F8NPU_CMD_DESC_SIZE * n);
}

void f8t_run_stream(uint32_t n, struct f8npu_job_result *res)
{
	memset(res, 0, sizeof(*res));
	f8npu_prog_run_job(f8t->dev, f8t->cmd_addr, f8t->cmd_size, n, F8T_MAX_CYCLES, res);
	ck_assert_msg(!res->timed_out, "job timed out");
}

void f8t_run(const struct f8npu_desc *d, uint32_t n, struct f8npu_job_result *res)
{
	f8t_stream(d, n);
	f8t_run_stream(n, res);
}

void f8t_start(uint64_t base, uint32_t size, uint32_t tail)
{
	struct f8npu_dev *dev = f8t->dev;

	f8npu_dev_write(dev, F8NPU_REG_IRQ_MASK, F8NPU_IRQ_ALL);
	f8npu_dev_write(dev, F8NPU_REG_CMD_BASE_LO, (uint32_t)base);
	f8npu_dev_write(dev, F8NPU_REG_CMD_BASE_HI, (uint32_t)(base >> 32));
	f8npu_dev_write(dev, F8NPU_REG_CMD_SIZE, size);
	f8npu_dev_write(dev, F8NPU_REG_CMD_TAIL, tail);
	f8npu_dev_write(dev, F8NPU_REG_CTRL, F8NPU_CTRL_START);
}

void f8t_idle(void)
{
	uint64_t total = 0;

	for (;;) {
		uint64_t c = 0;
		enum f8npu_run_result rr = f8npu_dev_run(f8t->dev, 1ull << 24, &c);

		total += c;
		if (rr == F8NPU_RUN_IDLE)
			break;
		ck_assert_msg(total < F8T_MAX_CYCLES, "device still busy after %" PRIu64 " cycles",
			      total);
	}
}

void f8t_job_read(struct f8t_job *j)
{
	struct f8npu_dev *dev = f8t->dev;

	j->status = f8npu_dev_read(dev, F8NPU_REG_STATUS);
	j->err = f8npu_dev_read(dev, F8NPU_REG_ERR_CODE);
	j->err_index = f8npu_dev_read(dev, F8NPU_REG_ERR_INDEX);
	j->irq_status = f8npu_dev_read(dev, F8NPU_REG_IRQ_STATUS);
	j->head = f8npu_dev_read(dev, F8NPU_REG_CMD_HEAD);
	j->irq = f8npu_dev_irq(dev);
}

void f8t_run_raw(uint64_t base, uint32_t size, uint32_t tail, struct f8t_job *j)
{
	f8t_start(base, size, tail);
	f8t_idle();
	f8t_job_read(j);
}

uint64_t f8t_read64(uint32_t lo)
{
	uint64_t v = f8npu_dev_read(f8t->dev, lo); /* _LO first: it latches _HI */

	return v | (uint64_t)f8npu_dev_read(f8t->dev, lo + 4) << 32;
}

/* ---- snapshots ---- */

void f8t_snap_take(struct f8t_snap *s)
{
	memset(s, 0, sizeof(*s));
	s->count = f8t->hm.count;
	for (unsigned int i = 0; i < s->count; i++) {
		const struct f8npu_hostmem_buf *b = &f8t->hm.bufs[i];

		s->copy[i] = f8t_calloc(b->size);
		memcpy(s->copy[i], b->data, b->size);
	}
}

void f8t_snap_mem(struct f8t_snap *s, struct f8t_mem *m)
{
	memset(m, 0, sizeof(*m));
	for (unsigned int r = 0; r < F8NPU_REGIONS; r++) {
		const struct f8t_region *g = &f8t->reg[r];

		if (g->buf < 0 || (unsigned int)g->buf >= s->count)
			continue;
		m->data[r] = s->copy[g->buf] + (g->addr - f8t->hm.bufs[g->buf].addr);
		m->size[r] = backed(g);
	}
}

void f8t_snap_check(const struct f8t_snap *s, const char *what)
{
	ck_assert_uint_eq(s->count, f8t->hm.count);
	for (unsigned int i = 0; i < s->count; i++) {
		const struct f8npu_hostmem_buf *b = &f8t->hm.bufs[i];
		char label[1024], regs[64] = "";
		size_t len = 0;

		for (unsigned int r = 0; r < F8NPU_REGIONS; r++)
			if (f8t->reg[r].buf == (int)i)
				len += (size_t)snprintf(regs + len, sizeof(regs) - len, " %u", r);
		snprintf(label, sizeof(label), "%s: buffer %u%s%s%s%s", what, i,
			 b->data == f8t->cmd ? " (stream)" : "", len ? " (region" : "", regs,
			 len ? ")" : "");
		f8_ck_assert_bytes_eq(b->data, s->copy[i], b->size, label);
	}
}

/* ---- tensors ---- */

unsigned int f8t_tsize(unsigned int type)
{
	return type == F8NPU_TYPE_S32 ? 4 : 1;
}

struct f8npu_tensor_ref f8t_tensor(uint8_t region, uint8_t type, uint32_t offset, uint16_t n,
				   uint16_t h, uint16_t w, uint16_t c, uint32_t sn, uint32_t sh,
				   uint32_t sw)
{
	struct f8npu_tensor_ref t;

	memset(&t, 0, sizeof(t));
	t.region = region;
	t.type = type;
	t.offset = offset;
	t.n = n;
	t.h = h;
	t.w = w;
	t.c = c;
	t.stride_n = sn;
	t.stride_h = sh;
	t.stride_w = sw;
	return t;
}

struct f8npu_tensor_ref f8t_dense(uint8_t region, uint8_t type, uint32_t offset, uint16_t n,
				  uint16_t h, uint16_t w, uint16_t c)
{
	uint32_t es = f8t_tsize(type);

	return f8t_tensor(region, type, offset, n, h, w, c, (uint32_t)h * w * c * es,
			  (uint32_t)w * c * es, (uint32_t)c * es);
}

uint64_t f8t_extent(const struct f8npu_tensor_ref *t)
{
	return (uint64_t)(t->n - 1) * t->stride_n + (uint64_t)(t->h - 1) * t->stride_h +
	       (uint64_t)(t->w - 1) * t->stride_w + (uint64_t)t->c * f8t_tsize(t->type);
}

uint64_t f8t_bytes(const struct f8npu_tensor_ref *t)
{
	return (uint64_t)t->n * t->h * t->w * t->c * f8t_tsize(t->type);
}

static uint64_t elem_off(const struct f8t_mem *m, const struct f8npu_tensor_ref *t, unsigned int i,
			 unsigned int y, unsigned int x, unsigned int k)
{
	unsigned int es = f8t_tsize(t->type);
	uint64_t off = t->offset + (uint64_t)i * t->stride_n + (uint64_t)y * t->stride_h +
		       (uint64_t)x * t->stride_w + (uint64_t)k * es;

	/* Not ck_assert: a passing one costs a write to Check's pipe, per element. */
	if (!m->data[t->region] || off + es > m->size[t->region])
		ck_abort_msg("test bug: element (%u,%u,%u,%u) outside region %u", i, y, x, k,
			     t->region);
	return off;
}

static int64_t get(const struct f8t_mem *m, const struct f8npu_tensor_ref *t, unsigned int i,
		   unsigned int y, unsigned int x, unsigned int k)
{
	return f8t_load(m->data[t->region] + elem_off(m, t, i, y, x, k), t->type);
}

void f8t_put(struct f8t_mem *m, const struct f8npu_tensor_ref *t, unsigned int i, unsigned int y,
	     unsigned int x, unsigned int k, int64_t v)
{
	f8t_store(m->data[t->region] + elem_off(m, t, i, y, x, k), t->type, v);
}

/* ---- arithmetic, from docs/arith.md with a division-based shift ---- */

int64_t f8t_sat32(int64_t v)
{
	const int64_t max = 2147483647;

	if (v > max)
		return max;
	if (v < -max)
		return -max;
	return v;
}

int64_t f8t_shift(int64_t v, int s)
{
	int64_t d, q, r;

	if (s <= 0) {
		for (int i = 0; i < -s; i++)
			v *= 2;
		return v;
	}
	d = (int64_t)1 << s;
	q = v / d; /* C truncates: make it a floor */
	r = v % d;
	if (r < 0) {
		q -= 1;
		r += d;
	}
	if (2 * r > d || (2 * r == d && q % 2 != 0))
		q += 1;
	return q;
}

int64_t f8t_sat(int64_t v, unsigned int type)
{
	switch (type) {
	case F8NPU_TYPE_U8:
		return v < 0 ? 0 : v > 255 ? 255 : v;
	case F8NPU_TYPE_S8:
		return v < -127 ? -127 : v > 127 ? 127 : v;
	default:
		return f8t_sat32(v);
	}
}

int64_t f8t_load(const uint8_t *p, unsigned int type)
{
	uint32_t u;

	switch (type) {
	case F8NPU_TYPE_U8:
		return p[0];
	case F8NPU_TYPE_S8:
		return p[0] < 128 ? p[0] : (int64_t)p[0] - 256;
	default:
		u = p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
		return u < 0x80000000u ? (int64_t)u : (int64_t)u - 4294967296ll;
	}
}

void f8t_store(uint8_t *p, unsigned int type, int64_t v)
{
	uint64_t u = (uint64_t)v;

	p[0] = (uint8_t)u;
	if (type == F8NPU_TYPE_S32) {
		p[1] = (uint8_t)(u >> 8);
		p[2] = (uint8_t)(u >> 16);
		p[3] = (uint8_t)(u >> 24);
	}
}

/* ---- reference ---- */

static bool windowed(const struct f8npu_desc *d)
{
	return d->opcode == F8NPU_OP_CONV2D || d->opcode == F8NPU_OP_POOL_MAX ||
	       d->opcode == F8NPU_OP_POOL_SUM;
}

void f8t_out_shape(const struct f8npu_desc *d, unsigned int *n, unsigned int *h, unsigned int *w,
		   unsigned int *c)
{
	const struct f8npu_tensor_ref *s = &d->src;

	*n = s->n;
	*c = s->c;
	if (windowed(d)) {
		*h = (s->h + d->pad_top + d->pad_bottom - d->kernel_h) / d->stride_h + 1;
		*w = (s->w + d->pad_left + d->pad_right - d->kernel_w) / d->stride_w + 1;
	} else {
		*h = s->h;
		*w = s->w;
	}
	if (d->opcode == F8NPU_OP_CONV2D && !(d->flags & F8NPU_FLAG_DEPTHWISE))
		*c = d->dst[0].c;
}

/* A buffer reference's dense array of @len bytes. */
static const uint8_t *buf_at(const struct f8t_mem *m, const struct f8npu_buffer_ref *b, uint64_t len)
{
	if (!m->data[b->region] || b->offset + len > m->size[b->region])
		ck_abort_msg("test bug: buffer of %" PRIu64 " bytes outside region %u", len,
			     b->region);
	return m->data[b->region] + b->offset;
}

/* Main value v0 (arith.md §3) of output element (i, y, x, k). */
static int64_t main_value(const struct f8npu_desc *d, const struct f8t_mem *m, unsigned int i,
			  unsigned int y, unsigned int x, unsigned int k)
{
	const struct f8npu_tensor_ref *s = &d->src;
	unsigned int kh = d->kernel_h, kw = d->kernel_w, cin = s->c;
	int64_t sum = 0, max = 0;
	bool any = false;

	if (d->opcode == F8NPU_OP_ADD)
		return get(m, s, i, y, x, k);
	for (unsigned int ky = 0; ky < kh; ky++) {
		long iy = (long)y * d->stride_h - d->pad_top + ky;

		if (iy < 0 || iy >= s->h)
			continue; /* absent row */
		for (unsigned int kx = 0; kx < kw; kx++) {
			long ix = (long)x * d->stride_w - d->pad_left + kx;

			if (ix < 0 || ix >= s->w)
				continue;
			if (d->opcode == F8NPU_OP_CONV2D && (d->flags & F8NPU_FLAG_DEPTHWISE)) {
				const uint8_t *wt = buf_at(m, &d->weights, (uint64_t)s->c * kh * kw);

				sum += get(m, s, i, (unsigned int)iy, (unsigned int)ix, k) *
				       f8t_load(wt + ((uint64_t)k * kh + ky) * kw + kx, F8NPU_TYPE_S8);
			} else if (d->opcode == F8NPU_OP_CONV2D) {
				const uint8_t *wt = buf_at(m, &d->weights,
							   (uint64_t)d->dst[0].c * kh * kw * cin) +
						    (((uint64_t)k * kh + ky) * kw + kx) * cin;

				for (unsigned int ci = 0; ci < cin; ci++)
					sum += get(m, s, i, (unsigned int)iy, (unsigned int)ix, ci) *
					       f8t_load(wt + ci, F8NPU_TYPE_S8);
			} else {
				int64_t v = get(m, s, i, (unsigned int)iy, (unsigned int)ix, k);

				sum += v;
				if (!any || v > max)
					max = v;
				any = true;
			}
		}
	}
	switch (d->opcode) {
	case F8NPU_OP_CONV2D:
		if (d->flags & F8NPU_FLAG_BIAS)
			sum += f8t_load(buf_at(m, &d->bias, 4ull * d->dst[0].c) + 4ull * k,
					F8NPU_TYPE_S32);
		return f8t_sat32(sum);
	case F8NPU_OP_POOL_MAX:
		if (!any)
			ck_abort_msg("test bug: pooling window (%u,%u) all padding", y, x);
		return max;
	default:
		return f8t_sat32(sum);
	}
}

int64_t *f8t_ref_v2(const struct f8npu_desc *d, const struct f8t_mem *m, size_t *count)
{
	unsigned int n, h, w, c;
	int64_t *v;
	size_t j = 0;

	f8t_out_shape(d, &n, &h, &w, &c);
	*count = (size_t)n * h * w * c;
	v = f8t_calloc(*count * sizeof(*v));
	for (unsigned int i = 0; i < n; i++)
		for (unsigned int y = 0; y < h; y++)
			for (unsigned int x = 0; x < w; x++)
				for (unsigned int k = 0; k < c; k++) {
					int64_t v0 = main_value(d, m, i, y, x, k), a = 0, v1;

					if (d->flags & F8NPU_FLAG_AUX)
						a = get(m, &d->aux, i, y, x, k);
					/* A6: each aligned operand saturates on its own. */
					v1 = f8t_sat32(f8t_sat32(f8t_shift(v0, -(int)d->align_src)) +
						       f8t_sat32(f8t_shift(a, -(int)d->align_aux)));
					if ((d->flags & F8NPU_FLAG_RELU) && v1 < 0)
						v1 = 0;
					v[j++] = v1;
				}
	return v;
}

void f8t_ref_exec(const struct f8npu_desc *d, struct f8t_mem *m)
{
	unsigned int n, h, w, c, outs = (d->flags & F8NPU_FLAG_DST1) ? 2 : 1;
	size_t count, j = 0;
	int64_t *v;

	if (d->opcode == F8NPU_OP_END)
		return;
	v = f8t_ref_v2(d, m, &count);
	f8t_out_shape(d, &n, &h, &w, &c);
	for (unsigned int i = 0; i < n; i++)
		for (unsigned int y = 0; y < h; y++)
			for (unsigned int x = 0; x < w; x++)
				for (unsigned int k = 0; k < c; k++, j++)
					for (unsigned int o = 0; o < outs; o++) {
						const struct f8npu_tensor_ref *t = &d->dst[o];

						f8t_put(m, t, i, y, x, k,
							f8t_sat(f8t_shift(v[j], d->out_shift[o]),
								t->type));
					}
}

/* ---- counters ---- */

static uint64_t ceil_div(uint64_t a, uint64_t b)
{
	return (a + b - 1) / b;
}

/* docs/isa.md §7: validation and set-up of an executed compute descriptor; row steps ahead. */
#define F8T_COST_SETUP 96u
#define F8T_COST_AHEAD 16u
#define F8T_COST_AHEAD_ROWS 8u

void f8t_cost_header(const struct f8npu_model_config *cfg, struct f8t_cost *c)
{
	c->rd += F8NPU_CMD_HEADER_SIZE;
	c->cycles += cfg->dram_latency + ceil_div(F8NPU_CMD_HEADER_SIZE, cfg->dram_bytes_per_cycle);
}

/* Input columns 0 .. @w-1 some window x * @sw - @pl + kx (x < @wo, kx < @kw) uses, by enumeration. */
static uint64_t f8t_cols_used(uint64_t w, uint64_t wo, uint64_t kw, uint64_t sw, uint64_t pl)
{
	uint64_t ix, kx, used = 0;

	for (ix = 0; ix < w; ix++)
		for (kx = 0; kx < kw; kx++)
			if (ix + pl >= kx && (ix + pl - kx) % sw == 0 && (ix + pl - kx) / sw < wo) {
				used++;
				break;
			}
	return used;
}

/* A tile: the widest run of outputs whose windows fit 256 input columns, at most 256 and the row. */
static uint64_t f8t_tile_width(uint64_t wo, uint64_t kw, uint64_t sw)
{
	uint64_t tw = wo < 256 ? wo : 256;

	while ((tw - 1) * sw + kw > 256)
		tw--;
	return tw;
}

/*
 * isa.md §7's group-inner order: a groups = 1 CONV2D of several channel groups, packed or with
 * no column shared by two taps (kernel_w <= stride_w), whose weight
 * blocks (one per tap and input channel group) all fit 1024 at once, and whose tile's row steps
 * (packed: a pass each) number at most 16 with all but the last spanning at most 7 x 256 entries.
 */
static bool f8t_conv_gi(const struct f8npu_desc *d, const struct f8npu_model_config *cfg, uint64_t wo,
			uint64_t co, uint64_t pk)
{
	uint64_t R = cfg->rows, C = cfg->cols, kw = d->kernel_w, cg = ceil_div(d->src.c, R), passes = 0, tw, k;

	if (d->opcode != F8NPU_OP_CONV2D || (d->flags & F8NPU_FLAG_DEPTHWISE) || co <= C)
		return false;
	if (!pk && d->kernel_w > d->stride_w)
		return false;
	if (ceil_div(co, C) * d->kernel_h * kw * cg > 1024)
		return false;
	for (k = 0; pk && k < kw; k += pk)
		passes++;
	if (d->kernel_h * (pk ? passes : cg) > 16)
		return false;
	tw = f8t_tile_width(wo, kw, d->stride_w);
	return (d->kernel_h * (pk ? passes : cg) - 1) * (pk ? tw : (tw - 1) * d->stride_w + kw) <= 7 * 256;
}

/*
 * isa.md §7's DRAM server cycles, by walking the requests one by one in the order of the RTL's
 * readers (the model computes them in closed form): the row steps of every channel group, the
 * weight lane rows, the bias, aux and output vectors. In the group-inner order (@gi) the
 * input is fetched for the first group only and the bias once per tile (@tiles of a group).
 */
static uint64_t f8t_cost_mem(const struct f8npu_desc *d, const struct f8npu_model_config *cfg, uint64_t ho,
			     uint64_t wo, uint64_t co, bool fast, uint64_t pk, bool gi, uint64_t tiles,
			     uint64_t *cols_out, uint64_t *rows_out)
{
	uint64_t B = cfg->dram_bytes_per_cycle, R = cfg->rows, C = cfg->cols, mem = 0;
	bool add = d->opcode == F8NPU_OP_ADD, conv = d->opcode == F8NPU_OP_CONV2D;
	bool dense = conv && !(d->flags & F8NPU_FLAG_DEPTHWISE);
	uint64_t kh = add ? 1 : d->kernel_h, kw = add ? 1 : d->kernel_w, sh = add ? 1 : d->stride_h;
	uint64_t pt = add ? 0 : d->pad_top, cin = d->src.c, esz = f8t_tsize(d->src.type);
	uint64_t vw = dense ? R : C, cols, g, i, y, ky, c0, kx, pix = (uint64_t)d->src.n * ho * wo;

	cols = f8t_cols_used(d->src.w, wo, kw, add ? 1 : d->stride_w, add ? 0 : d->pad_left);
	*cols_out = cols;
	/* The fast depthwise path's line buffer: every input row some window uses, once. */
	*rows_out = f8t_cols_used(d->src.h, ho, kh, sh, pt);
	for (g = 0; g < co; g += C) {
		uint64_t lanes = co - g < C ? co - g : C;

		if (fast) {
			mem += d->src.n * *rows_out * cols * ceil_div(lanes * esz, B);
			mem += lanes * ceil_div(kh * kw, B); /* a lane's whole kernel per request */
		}
		for (i = 0; i < d->src.n && !fast && !(gi && g > 0); i++)
			for (y = 0; y < ho; y++)
				for (ky = 0; ky < kh; ky++) {
					if (y * sh + ky < pt || y * sh + ky - pt >= d->src.h)
						continue;
					if (!dense) { /* this group's channels */
						mem += cols * ceil_div(lanes * esz, B);
						continue;
					}
					if (pk) { /* tap packing: a read per output and pass, clipped */
						int64_t x, k0, ix, lo, hi, nk;

						for (k0 = 0; k0 < (int64_t)kw; k0 += (int64_t)pk)
							for (x = 0; x < (int64_t)wo; x++) {
								nk = (int64_t)kw - k0 < (int64_t)pk ?
									     (int64_t)kw - k0 : (int64_t)pk;
								ix = x * d->stride_w - d->pad_left + k0;
								lo = ix < 0 ? (-ix < nk ? -ix : nk) : 0;
								hi = d->src.w - ix;
								hi = hi < 0 ? 0 : hi > nk ? nk : hi;
								if (hi > lo)
									mem += ceil_div((uint64_t)(hi - lo) * cin, B);
							}
						continue;
					}
					for (c0 = 0; c0 < cin; c0 += vw)
						mem += cols * ceil_div(cin - c0 < vw ? cin - c0 : vw, B);
				}
		if (conv && !fast)
			for (ky = 0; ky < kh; ky++)
				for (kx = 0; kx < kw; kx++) {
					if (!dense) {
						mem += lanes; /* one byte per lane */
						continue;
					}
					if (pk) { /* a lane row of up to P taps per pass */
						if (kx % pk == 0)
							mem += lanes * ceil_div((kw - kx < pk ? kw - kx : pk) * cin, B);
						continue;
					}
					for (c0 = 0; c0 < cin; c0 += vw)
						mem += lanes * ceil_div(cin - c0 < vw ? cin - c0 : vw, B);
				}
		if (conv && (d->flags & F8NPU_FLAG_BIAS))
			mem += ceil_div(lanes * 4, B) * (gi ? tiles : 1);
		if (d->flags & F8NPU_FLAG_AUX)
			mem += pix * ceil_div(lanes * f8t_tsize(d->aux.type), B);
		mem += pix * ceil_div(lanes * f8t_tsize(d->dst[0].type), B);
		if (d->flags & F8NPU_FLAG_DST1)
			mem += pix * ceil_div(lanes * f8t_tsize(d->dst[1].type), B);
	}
	return mem;
}

void f8t_cost_desc(const struct f8npu_desc *d, bool executed, const struct f8npu_model_config *cfg,
		   struct f8t_cost *c)
{
	uint64_t B = cfg->dram_bytes_per_cycle, L = cfg->dram_latency;
	uint64_t R = cfg->rows, C = cfg->cols;
	uint64_t rd = 0, wr = 0, comp = 0, macs = 0, kk = (uint64_t)d->kernel_h * d->kernel_w;
	unsigned int n, h, w, co;
	uint64_t pix, aux = 0, groups, busy, mem, cols, cg = 1, steps, first_w = 0, v1, lanes1, ramp;
	uint64_t outs = (d->flags & F8NPU_FLAG_DST1) ? 2 : 1, row_comp = 0, in_rows;
	bool fast = false, gi;
	uint64_t tw, tiles; /* the RTL's column tile, and the tiles of one channel group */
	uint64_t pk = 0, passes = 0; /* tap packing: taps per pass (docs/rtl.md) */

	c->rd += F8NPU_CMD_DESC_SIZE;
	c->cycles += L + ceil_div(F8NPU_CMD_DESC_SIZE, B);
	if (!executed)
		return;
	c->descs++;
	if (d->opcode == F8NPU_OP_END)
		return;
	f8t_out_shape(d, &n, &h, &w, &co);
	pix = (uint64_t)n * h * w;
	if (d->flags & F8NPU_FLAG_AUX)
		aux = f8t_bytes(&d->aux);
	wr = f8t_bytes(&d->dst[0]);
	if (d->flags & F8NPU_FLAG_DST1)
		wr += f8t_bytes(&d->dst[1]);
	lanes1 = co < C ? co : C;
	v1 = ceil_div(lanes1 * f8t_tsize(d->src.type), B);
	switch (d->opcode) {
	case F8NPU_OP_CONV2D: {
		uint64_t cin = d->src.c, bias = (d->flags & F8NPU_FLAG_BIAS) ? 4ull * co : 0;

		groups = ceil_div(co, C);
		if (d->flags & F8NPU_FLAG_DEPTHWISE) {
			/* The RTL's fast path (isa.md §7): taps on the array rows, a line buffer. */
			fast = d->kernel_w <= 3 && d->kernel_h <= (R < 4 ? R : 4) && kk <= R &&
			       d->stride_h <= d->kernel_h && w <= 256 &&
			       (uint64_t)(w - 1) * d->stride_w + d->kernel_w <= 256;

			macs = pix * co * kk;
			rd = f8t_bytes(&d->src) + (uint64_t)co * kk + bias + aux;
			comp = pix * kk * groups;
			first_w = lanes1 * (fast ? ceil_div(kk, B) : kk);
			if (fast) {
				row_comp = (uint64_t)(w - 1) * d->stride_w + d->kernel_w -
					   (d->pad_left < d->kernel_w ? d->pad_left : d->kernel_w - 1u);
				comp = (uint64_t)n * h * groups * row_comp;
			}
		} else {
			uint64_t c0;

			macs = pix * co * kk * cin;
			rd = f8t_bytes(&d->src) * groups + co * kk * cin + bias + aux;
			cg = ceil_div(cin, R);
			comp = pix * kk * cg * groups;
			for (c0 = 0; c0 < cin; c0 += R)
				first_w += lanes1 * kk * ceil_div(cin - c0 < R ? cin - c0 : R, B);
			v1 = ceil_div(cin < R ? cin : R, B);
			/* Tap packing (isa.md §7): Cin <= R / 2, dense u8/s8 input, kw >= 2. */
			if (2 * cin <= R && d->kernel_w >= 2 && f8t_tsize(d->src.type) == 1 &&
			    d->src.stride_w == cin) {
				uint64_t kx;

				pk = R / cin;
				passes = d->kernel_h * ceil_div(d->kernel_w, pk);
				comp = pix * passes * groups;
				first_w = 0;
				for (kx = 0; kx < d->kernel_w; kx += pk)
					first_w += lanes1 * d->kernel_h *
						   ceil_div((d->kernel_w - kx < pk ? d->kernel_w - kx : pk) * cin, B);
				v1 = ceil_div(pk * cin, B);
			}
		}
		break;
	}
	case F8NPU_OP_POOL_MAX:
	case F8NPU_OP_POOL_SUM:
		groups = ceil_div(d->src.c, C);
		rd = f8t_bytes(&d->src) + aux;
		comp = pix * kk * groups;
		break;
	default: /* ADD: a 1 x 1 window */
		groups = ceil_div(d->src.c, C);
		rd = f8t_bytes(&d->src) + aux;
		comp = pix * groups;
		kk = 1;
		break;
	}
	if (!pk)
		passes = kk;
	/* A tile: the widest run of outputs whose windows fit 256 input columns, at most 256 and
	 * the row (ADD: a 1 x 1 window; fast depthwise: the row); tiles: those of one group. */
	tw = fast ? w : f8t_tile_width(w, d->opcode == F8NPU_OP_ADD ? 1 : d->kernel_w,
				       d->opcode == F8NPU_OP_ADD ? 1 : d->stride_w);
	tiles = (uint64_t)n * h * ceil_div(w, tw);
	gi = f8t_conv_gi(d, cfg, w, co, pk);
	mem = f8t_cost_mem(d, cfg, h, w, co, fast, pk, gi, tiles, &cols, &in_rows);
	if (pk)
		cols = w; /* a pass's reads: one per output */
	{
		/* The epilogue drains a tile while the array works on the next (docs/rtl.md): the
		 * longer side paces, the first tile's shorter side shows. */
		uint64_t in1, epi = pix * groups * outs;

		if (gi && (d->flags & F8NPU_FLAG_BIAS)) /* a BIAS item per tile and group */
			epi += tiles * groups;
		in1 = fast ? row_comp : tw * passes * cg;
		busy = (comp > epi ? comp : epi) + (in1 < tw * outs ? in1 : tw * outs);
	}
	if (fast) {
		steps = (uint64_t)n * in_rows < F8T_COST_AHEAD_ROWS ? (uint64_t)n * in_rows : F8T_COST_AHEAD_ROWS;
		ramp = first_w + steps * cols * v1;
		ramp = ramp > row_comp + w * outs ? ramp - row_comp - w * outs : 0;
	} else {
		/* a row step per (kernel row, channel group); packed: per pass */
		steps = (uint64_t)n * h * (pk ? passes : (d->opcode == F8NPU_OP_ADD ? 1 : d->kernel_h) * cg);
		if (steps > F8T_COST_AHEAD)
			steps = F8T_COST_AHEAD;
		ramp = first_w + steps * cols * v1;
		/* group-inner: the first tile's later groups wait for their weights, and all wait for
		 * the bias reads of the first 64 (tile, group) pairs, which go first */
		if (gi && first_w > w * (passes * cg + outs))
			ramp += (groups - 1) * (first_w - w * (passes * cg + outs));
		if (gi && (d->flags & F8NPU_FLAG_BIAS)) {
			uint64_t k, g;

			for (k = 0; k < tiles * groups && k < 64; k++) {
				g = k % groups;
				ramp += ceil_div((co - g * C < C ? co - g * C : C) * 4, B);
			}
		}
		ramp = ramp > w * (passes * cg + outs) ? ramp - w * (passes * cg + outs) : 0;
	}
	c->macs += macs;
	c->rd += rd;
	c->wr += wr;
	c->compute += comp;
	c->cycles += F8T_COST_SETUP + 2 * L + (busy + ramp > mem ? busy + ramp : mem);
}

void f8t_check_perf(const struct f8t_cost *want, const char *what)
{
	struct f8npu_perf p;

	memset(&p, 0, sizeof(p));
	f8npu_prog_read_perf(f8t->dev, &p);
	ck_assert_msg(p.macs == want->macs, "%s: PERF_MACS %" PRIu64 ", want %" PRIu64, what,
		      p.macs, want->macs);
	ck_assert_msg(p.rd_bytes == want->rd, "%s: PERF_RD %" PRIu64 ", want %" PRIu64, what,
		      p.rd_bytes, want->rd);
	ck_assert_msg(p.wr_bytes == want->wr, "%s: PERF_WR %" PRIu64 ", want %" PRIu64, what,
		      p.wr_bytes, want->wr);
	ck_assert_msg(p.descs == want->descs, "%s: PERF_DESCS %u, want %u", what, p.descs,
		      want->descs);
	/* prog_read_perf must agree with the registers themselves. */
	ck_assert_uint_eq(f8t_read64(F8NPU_REG_PERF_MACS_LO), p.macs);
	ck_assert_uint_eq(f8t_read64(F8NPU_REG_PERF_RD_LO), p.rd_bytes);
	ck_assert_uint_eq(f8t_read64(F8NPU_REG_PERF_WR_LO), p.wr_bytes);
	ck_assert_uint_eq(f8npu_dev_read(f8t->dev, F8NPU_REG_PERF_DESCS), p.descs);
}

void f8t_check_timing(const struct f8t_cost *want, const char *what)
{
	uint64_t cyc = f8t_read64(F8NPU_REG_PERF_CYCLES_LO);
	uint64_t stall = f8t_read64(F8NPU_REG_PERF_STALL_LO);

	ck_assert_msg(cyc == want->cycles, "%s: PERF_CYCLES %" PRIu64 ", want %" PRIu64, what, cyc,
		      want->cycles);
	ck_assert_msg(stall == want->cycles - want->compute,
		      "%s: PERF_STALL %" PRIu64 ", want %" PRIu64 " (cycles %" PRIu64
		      " - compute %" PRIu64 ")",
		      what, stall, want->cycles - want->compute, want->cycles, want->compute);
}

int64_t f8t_maxabs(const int64_t *v, size_t n)
{
	int64_t m = 0;

	for (size_t i = 0; i < n; i++) {
		int64_t a = v[i] < 0 ? -v[i] : v[i];

		if (a > m)
			m = a;
	}
	return m;
}

int f8t_pick_shift(struct f8t_rng *r, int64_t maxabs, unsigned int type, int jitter)
{
	int bits = 0, target = type == F8NPU_TYPE_U8 ? 8 : type == F8NPU_TYPE_S8 ? 7 : 31;
	int s;

	while (bits < 40 && ((int64_t)1 << bits) <= maxabs)
		bits++;
	s = bits - target + (int)f8t_range(r, -jitter, jitter);
	if (f8t_chance(r, 8))
		s = (int)f8t_range(r, F8NPU_SHIFT_MIN, F8NPU_SHIFT_MAX);
	return s < F8NPU_SHIFT_MIN ? F8NPU_SHIFT_MIN : s > F8NPU_SHIFT_MAX ? F8NPU_SHIFT_MAX : s;
}
