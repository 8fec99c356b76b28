// SPDX-License-Identifier: MIT
/*
 * f8_cc_dump: a compiled program as a person reads it, one line per descriptor (the
 * format is in docs/compiler.md), then the summary: descriptors per opcode, bytes per
 * region, the activation plan against one buffer per view, the cost model's totals.
 */
#include <string.h>

#include "f8-cc-impl.h"

static const char *const op_names[] = { "?", "END", "CONV2D", "POOL_MAX", "POOL_SUM", "ADD" };
static const char *const type_names[] = { "u8", "s8", "s32" };
static const char *const region_names[] = { "input", "weights", "bias", "act", "logits" };

static const char *type_name(unsigned int t)
{
	return t < 3 ? type_names[t] : "?";
}

static void tensor(FILE *f, const char *what, const struct f8npu_tensor_ref *t)
{
	fprintf(f, " %s=%s[%ux%ux%ux%u]@r%u+%u", what, type_name(t->type), t->n, t->h, t->w, t->c,
		t->region, t->offset);
}

static void flags(FILE *f, unsigned int fl)
{
	static const char *const names[] = { "bias", "aux", "relu", "dst1", "dw" };
	const char *sep = " ";
	int b;

	for (b = 0; b < 5; b++)
		if (fl >> b & 1u) {
			fprintf(f, "%s%s", sep, names[b]);
			sep = ",";
		}
}

static double ratio(uint64_t a, uint64_t b)
{
	return b ? (double)a / (double)b : 0.0;
}

/*
 * DRAM bytes per logical operation (its tiles together, descriptor fetches excluded)
 * against its minimum (each operand, weight and output moved once) and against the cost
 * model's floor (the operation as one untiled descriptor).
 */
static void dram(FILE *f, const struct f8_cc_prog *p)
{
	uint64_t bytes = 0, all = 0;
	uint32_t i, first = 0;

	fprintf(f, "# dram: %-26s %5s %11s %11s %6s %11s %6s\n", "layer", "descs", "bytes", "minimum",
		"x min", "floor", "x flr");
	for (i = 0; i + 1 < p->ndesc; i++) {
		const struct f8_cc_desc_info *in = &p->info[i];

		bytes += in->rd_bytes + in->wr_bytes - F8NPU_CMD_DESC_SIZE;
		if (i + 2 < p->ndesc && (p->info[i + 1].c0 || p->info[i + 1].y0))
			continue; /* the operation goes on */
		in = &p->info[first];
		fprintf(f, "# dram: %-26s %5u %11llu %11llu %6.2f %11llu %6.2f\n", in->name,
			i + 1 - first, (unsigned long long)bytes, (unsigned long long)in->min_bytes,
			ratio(bytes, in->min_bytes), (unsigned long long)in->floor_bytes,
			ratio(bytes, in->floor_bytes));
		all += bytes;
		bytes = 0;
		first = i + 1;
	}
	fprintf(f, "# dram: %-26s %5u %11llu %11llu %6.2f %11llu %6.2f\n", "total", p->ndesc - 1,
		(unsigned long long)all, (unsigned long long)p->min_bytes, ratio(all, p->min_bytes),
		(unsigned long long)p->floor_bytes, ratio(all, p->floor_bytes));
}

void f8_cc_dump(FILE *f, const struct f8_cc_prog *p)
{
	uint32_t i, per_op[F8NPU_OP_COUNT_] = { 0 };

	fprintf(f, "# %s: %u descriptors, batch %u, device %ux%u, ibuf/wbuf %u/%u bytes\n",
		p->model_name[0] ? p->model_name : "model", p->ndesc, p->batch, p->caps.rows,
		p->caps.cols, p->caps.ibuf_bytes, p->caps.wbuf_bytes);
	for (i = 0; i < p->ndesc; i++) {
		struct f8npu_desc d;
		const struct f8_cc_desc_info *in = &p->info[i];

		memcpy(&d, p->stream + F8NPU_CMD_HEADER_SIZE + (size_t)i * F8NPU_CMD_DESC_SIZE,
		       sizeof(d));
		if (d.opcode < F8NPU_OP_COUNT_)
			per_op[d.opcode]++;
		fprintf(f, "%4u %-8s %-20s", i, d.opcode < F8NPU_OP_COUNT_ ? op_names[d.opcode] : "?",
			in->name);
		if (d.opcode == F8NPU_OP_END) {
			fprintf(f, " cyc=%llu\n", (unsigned long long)in->cycles);
			continue;
		}
		if (d.opcode != F8NPU_OP_ADD)
			fprintf(f, " k%ux%u/s%u/p%u,%u,%u,%u", d.kernel_h, d.kernel_w, d.stride_h, d.pad_top,
				d.pad_bottom, d.pad_left, d.pad_right);
		flags(f, d.flags);
		tensor(f, "src", &d.src);
		if (d.flags & F8NPU_FLAG_AUX)
			tensor(f, "aux", &d.aux);
		if (d.flags & F8NPU_FLAG_AUX || d.align_src)
			fprintf(f, " align=%u,%u", d.align_src, d.align_aux);
		tensor(f, "dst0", &d.dst[0]);
		fprintf(f, " sh=%d", d.out_shift[0]);
		if (d.flags & F8NPU_FLAG_DST1) {
			tensor(f, "dst1", &d.dst[1]);
			fprintf(f, " sh=%d", d.out_shift[1]);
		}
		if (d.opcode == F8NPU_OP_CONV2D)
			fprintf(f, " w=r%u+%u b=r%u+%u", d.weights.region, d.weights.offset, d.bias.region,
				d.bias.offset);
		fprintf(f, " tile=c%u-%u,y%u-%u cyc=%llu macs=%llu\n", in->c0, in->c1, in->y0, in->y1,
			(unsigned long long)in->cycles, (unsigned long long)in->macs);
	}
	fprintf(f, "# descriptors: %u (conv2d %u, pool_max %u, pool_sum %u, add %u, end %u)\n",
		p->ndesc, per_op[F8NPU_OP_CONV2D], per_op[F8NPU_OP_POOL_MAX], per_op[F8NPU_OP_POOL_SUM],
		per_op[F8NPU_OP_ADD], per_op[F8NPU_OP_END]);
	fprintf(f, "# regions:");
	for (i = 0; i < F8_CC_REGIONS; i++)
		fprintf(f, " %u %s %llu", i, region_names[i], (unsigned long long)p->region_size[i]);
	fprintf(f, "; stream %u bytes\n", p->stream_size);
	fprintf(f, "# activations: peak %llu bytes planned, %llu unplanned (%u buffers, %u steps)\n",
		(unsigned long long)p->act_peak, (unsigned long long)p->act_unplanned, p->nbufs,
		p->nsteps);
	fprintf(f, "# predicted per job: %llu cycles, %llu MACs, %llu bytes read, %llu written\n",
		(unsigned long long)p->cycles, (unsigned long long)p->macs,
		(unsigned long long)p->rd_bytes, (unsigned long long)p->wr_bytes);
	dram(f, p);
}
