// SPDX-License-Identifier: MIT
/*
 * f8 demo: a small ResNet-style network as one command stream on the
 * functional model. Stem conv (ReLU, int32 residual stream + its u8 copy),
 * a residual block (conv, conv + int32 identity, ReLU), 2x2 max pool,
 * global sum pool and a fully-connected layer producing int32 logits.
 * Prints the logits, a checksum of every output, the counters and the
 * cost model's estimate. Weights are pseudo-random but fixed, so the
 * checksum is the same on every machine and every implementation.
 */
#include <stdio.h>
#include <string.h>

#include "f8-cli.h"
#include "f8-opt.h"
#include "f8npu_build.h"

enum demo_region {
	R_IMAGE,   /* [1][12][12][3] u8 pixels, FL 8 */
	R_WEIGHTS, /* all weights, s8 */
	R_BIAS,    /* all biases, s32 */
	R_STREAM0, /* stem output, s32 residual stream */
	R_ACT,     /* 8-bit activations, one slot each */
	R_STREAM1, /* block output, s32 residual stream */
	R_LOGITS,  /* [1][1][1][10] s32 */
	R_COUNT_
};

#define DEMO_H 12
#define DEMO_CIN 3
#define DEMO_C 16
#define DEMO_CLASSES 10
#define DEMO_ACT_SLOT (DEMO_H * DEMO_H * DEMO_C)

static uint32_t demo_rng = 0x2545f491u;

static uint32_t demo_rand(void)
{
	demo_rng ^= demo_rng << 13;
	demo_rng ^= demo_rng >> 17;
	demo_rng ^= demo_rng << 5;
	return demo_rng;
}

/* Weight bytes in [-range, range]; biases in [-brange, brange]. */
static void fill_weights(uint8_t *w, uint32_t n, int range)
{
	uint32_t i;

	for (i = 0; i < n; i++)
		w[i] = (uint8_t)(int8_t)((int)(demo_rand() % (2u * range + 1)) - range);
}

static void fill_bias(uint8_t *b, uint32_t n, int range)
{
	uint32_t i;

	for (i = 0; i < n; i++)
		f8npu_store(b + 4 * i, F8NPU_TYPE_S32, (int64_t)(demo_rand() % (2u * range + 1)) - range);
}

static struct f8npu_desc conv3x3(struct f8npu_tensor_ref src, struct f8npu_tensor_ref dst, uint32_t w_off,
				 uint32_t b_off, int8_t shift)
{
	struct f8npu_desc d = f8npu_desc_zero(F8NPU_OP_CONV2D);

	d.flags = F8NPU_FLAG_BIAS | F8NPU_FLAG_RELU;
	d.kernel_h = d.kernel_w = 3;
	d.stride_h = d.stride_w = 1;
	d.pad_top = d.pad_bottom = d.pad_left = d.pad_right = 1;
	d.src = src;
	d.dst[0] = dst;
	d.weights = f8npu_buffer_at(R_WEIGHTS, w_off);
	d.bias = f8npu_buffer_at(R_BIAS, b_off);
	d.out_shift[0] = shift;
	return d;
}

/* How much of an 8-bit activation is clipped: shows the shifts are sensible. */
static void print_act(const char *name, const uint8_t *p, uint32_t n)
{
	uint32_t i, zero = 0, top = 0, max = 0;

	for (i = 0; i < n; i++) {
		zero += p[i] == 0;
		top += p[i] == 255;
		max = p[i] > max ? p[i] : max;
	}
	printf("demo: %-7s u8 x %5u: max %3u, %5.1f %% zero, %5.1f %% at 255\n", name, n, max,
	       100.0 * zero / n, 100.0 * top / n);
}

static uint32_t fnv1a(uint32_t h, const uint8_t *p, uint64_t n)
{
	uint64_t i;

	for (i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: f8 demo\n"
		   "A small residual block as one command stream on the functional model: its logits,\n"
		   "a checksum of every output, the counters and the cost model's estimate.\n");
}

int f8_cmd_demo(int argc, char **argv)
{
	const uint32_t w_stem = 0, w_c1 = w_stem + DEMO_C * 9 * DEMO_CIN, w_c2 = w_c1 + DEMO_C * 9 * DEMO_C;
	const uint32_t w_fc = w_c2 + DEMO_C * 9 * DEMO_C, w_total = w_fc + DEMO_CLASSES * DEMO_C;
	const uint32_t b_stem = 0, b_c1 = 4 * DEMO_C, b_c2 = 8 * DEMO_C, b_fc = 12 * DEMO_C;
	struct f8npu_tensor_ref img, stream0, a0, a1, stream1, a2, pooled, feat, logits;
	struct f8npu_desc descs[7];
	struct f8npu_cmd_header hdr;
	struct f8npu_job_result res;
	const struct f8npu_perf *perf = &res.perf;
	struct f8_job job;
	uint8_t *mem[R_COUNT_], *cmd;
	uint32_t i, n = 0, sum = 2166136261u, rows, cols;
	int best = 0, rc;

	rc = f8_opt_none("f8 demo", argc, argv, usage);
	if (rc)
		return rc > 0 ? F8_EXIT_OK : F8_EXIT_USAGE;
	if (f8_job_init(&job, NULL))
		return F8_EXIT_USAGE;
	mem[R_IMAGE] = f8_job_region(&job, R_IMAGE, DEMO_H * DEMO_H * DEMO_CIN);
	mem[R_WEIGHTS] = f8_job_region(&job, R_WEIGHTS, w_total);
	mem[R_BIAS] = f8_job_region(&job, R_BIAS, 16 * DEMO_C);
	mem[R_STREAM0] = f8_job_region(&job, R_STREAM0, 4 * DEMO_ACT_SLOT);
	mem[R_ACT] = f8_job_region(&job, R_ACT, 5 * DEMO_ACT_SLOT);
	mem[R_STREAM1] = f8_job_region(&job, R_STREAM1, 4 * DEMO_ACT_SLOT);
	mem[R_LOGITS] = f8_job_region(&job, R_LOGITS, 4 * DEMO_CLASSES);
	cmd = f8_job_stream(&job, F8NPU_CMD_HEADER_SIZE + sizeof(descs));
	for (i = 0; i < R_COUNT_; i++)
		if (!mem[i])
			cmd = NULL;
	if (!cmd) {
		f8_job_free(&job);
		return F8_EXIT_USAGE;
	}

	/* A smooth synthetic image: pixels are u8 at FL 8 (arith §1). */
	for (i = 0; i < DEMO_H * DEMO_H * DEMO_CIN; i++)
		mem[R_IMAGE][i] = (uint8_t)((i * 37u + (i / 36u) * 11u) & 0xff);
	fill_weights(mem[R_WEIGHTS], w_total, 24);
	fill_bias(mem[R_BIAS], 4 * DEMO_C, 4000);

	img = f8npu_tensor_dense(R_IMAGE, F8NPU_TYPE_U8, 0, 1, DEMO_H, DEMO_H, DEMO_CIN);
	stream0 = f8npu_tensor_dense(R_STREAM0, F8NPU_TYPE_S32, 0, 1, DEMO_H, DEMO_H, DEMO_C);
	a0 = f8npu_tensor_dense(R_ACT, F8NPU_TYPE_U8, 0, 1, DEMO_H, DEMO_H, DEMO_C);
	a1 = f8npu_tensor_dense(R_ACT, F8NPU_TYPE_U8, DEMO_ACT_SLOT, 1, DEMO_H, DEMO_H, DEMO_C);
	stream1 = f8npu_tensor_dense(R_STREAM1, F8NPU_TYPE_S32, 0, 1, DEMO_H, DEMO_H, DEMO_C);
	a2 = f8npu_tensor_dense(R_ACT, F8NPU_TYPE_U8, 2 * DEMO_ACT_SLOT, 1, DEMO_H, DEMO_H, DEMO_C);
	pooled = f8npu_tensor_dense(R_ACT, F8NPU_TYPE_U8, 3 * DEMO_ACT_SLOT, 1, DEMO_H / 2, DEMO_H / 2, DEMO_C);
	feat = f8npu_tensor_dense(R_ACT, F8NPU_TYPE_U8, 4 * DEMO_ACT_SLOT, 1, 1, 1, DEMO_C);
	logits = f8npu_tensor_dense(R_LOGITS, F8NPU_TYPE_S32, 0, 1, 1, 1, DEMO_CLASSES);

	/*
	 * Fractional lengths: pixels FL 8, weights FL 7. Stem acc FL 15: kept as
	 * the int32 stream at FL 13 (shift 2) and as u8 at FL 7 (shift 8).
	 */
	descs[n] = conv3x3(img, stream0, w_stem, b_stem, 2);
	descs[n].flags |= F8NPU_FLAG_DST1;
	descs[n].dst[1] = a0;
	descs[n++].out_shift[1] = 8;
	/* Block conv1: FL 7+7 = 14 -> u8 at FL 8. */
	descs[n++] = conv3x3(a0, a1, w_c1, b_c1, 6);
	/* Block conv2: FL 8+7 = 15; the identity at FL 13 is aligned by 2; add, ReLU. */
	descs[n] = conv3x3(a1, stream1, w_c2, b_c2, 0);
	descs[n].flags |= F8NPU_FLAG_AUX | F8NPU_FLAG_DST1;
	descs[n].aux = stream0;
	descs[n].align_aux = 2;
	descs[n].dst[1] = a2;
	descs[n++].out_shift[1] = 9; /* FL 15 -> u8 at FL 6 */
	/* 2x2 max pool on the 8-bit copy (max commutes with requantization). */
	descs[n] = f8npu_desc_zero(F8NPU_OP_POOL_MAX);
	descs[n].kernel_h = descs[n].kernel_w = descs[n].stride_h = descs[n].stride_w = 2;
	descs[n].src = a2;
	descs[n++].dst[0] = pooled;
	/* Global sum of 36 values at FL 6, shifted by 5: about the mean (x 36/32) at FL 6. */
	descs[n] = f8npu_desc_zero(F8NPU_OP_POOL_SUM);
	descs[n].kernel_h = descs[n].kernel_w = DEMO_H / 2;
	descs[n].stride_h = descs[n].stride_w = 1;
	descs[n].src = pooled;
	descs[n].dst[0] = feat;
	descs[n++].out_shift[0] = 5;
	/* Classifier: 1x1 conv on [1][1][1][16], int32 logits at FL 6+7. */
	descs[n] = f8npu_desc_zero(F8NPU_OP_CONV2D);
	descs[n].flags = F8NPU_FLAG_BIAS;
	descs[n].kernel_h = descs[n].kernel_w = descs[n].stride_h = descs[n].stride_w = 1;
	descs[n].src = feat;
	descs[n].dst[0] = logits;
	descs[n].weights = f8npu_buffer_at(R_WEIGHTS, w_fc);
	descs[n++].bias = f8npu_buffer_at(R_BIAS, b_fc);
	descs[n++] = f8npu_desc_zero(F8NPU_OP_END);

	hdr = f8npu_header_make(n);
	memcpy(cmd, &hdr, sizeof(hdr));
	memcpy(cmd + sizeof(hdr), descs, n * sizeof(descs[0]));
	if (f8_job_run(&job, 1ull << 32, &res)) {
		f8_job_free(&job);
		return F8_EXIT_USAGE;
	}
	f8_job_report(stdout, "demo", &res);
	if (!res.done) {
		f8_job_free(&job);
		return res.timed_out ? F8_EXIT_TIMEOUT : F8_EXIT_DEVICE;
	}

	print_act("stem", mem[R_ACT], DEMO_ACT_SLOT);
	print_act("conv1", mem[R_ACT] + DEMO_ACT_SLOT, DEMO_ACT_SLOT);
	print_act("block", mem[R_ACT] + 2 * DEMO_ACT_SLOT, DEMO_ACT_SLOT);
	print_act("maxpool", mem[R_ACT] + 3 * DEMO_ACT_SLOT, DEMO_ACT_SLOT / 4);
	print_act("avgpool", mem[R_ACT] + 4 * DEMO_ACT_SLOT, DEMO_C);
	printf("demo: logits (int32, FL 13):");
	for (i = 0; i < DEMO_CLASSES; i++) {
		int64_t v = f8npu_load(mem[R_LOGITS] + 4 * i, F8NPU_TYPE_S32);

		printf(" %lld", (long long)v);
		if (v > f8npu_load(mem[R_LOGITS] + 4 * best, F8NPU_TYPE_S32))
			best = (int)i;
	}
	printf("\ndemo: argmax class %d\n", best);
	for (i = R_STREAM0; i < R_COUNT_; i++)
		sum = fnv1a(sum, mem[i], job.region[i].size);
	printf("demo: checksum of all outputs (FNV-1a) 0x%08x\n", sum);
	rows = job.be->caps.rows;
	cols = job.be->caps.cols;
	printf("demo: cost model: %llu cycles on a %ux%u array, MAC utilisation %.1f %%\n",
	       (unsigned long long)perf->cycles, rows, cols,
	       100.0 * (double)perf->macs / ((double)perf->cycles * rows * cols));
	f8_job_free(&job);
	return F8_EXIT_OK;
}
