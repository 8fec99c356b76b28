// SPDX-License-Identifier: MIT
/*
 * f8 bench: how fast the functional model executes real layer shapes, and
 * what the cost model (isa.md §7) predicts for them on the default 16x16
 * array at 16 bytes/cycle and 64 cycles latency. The baseline is a plain
 * dense int32 convolution loop measured in the same run, so the speed
 * column is a ratio that survives a noisy machine.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "f8-cli.h"
#include "f8-opt.h"
#include "f8npu_build.h"

struct bench_layer {
	const char *name;
	uint16_t hw, cin, cout, k, stride;
	bool depthwise;
};

static const struct bench_layer bench_layers[] = {
	{ "resnet20-fmnist 3x3 16->16 @28", 28, 16, 16, 3, 1, false },
	{ "resnet20-fmnist 3x3 64->64 @7", 7, 64, 64, 3, 1, false },
	{ "resnet18 3x3 64->64 @56", 56, 64, 64, 3, 1, false },
	{ "resnet18 3x3 128->128 @28", 28, 128, 128, 3, 1, false },
	{ "resnet18 3x3 256->256 @14", 14, 256, 256, 3, 1, false },
	{ "resnet18 3x3 512->512 @7", 7, 512, 512, 3, 1, false },
	{ "mobilenetv2 1x1 24->144 @56", 56, 24, 144, 1, 1, false },
	{ "mobilenetv2 dw3x3 144 @56", 56, 144, 144, 3, 1, true },
	{ "mobilenetv2 dw3x3 960 @7", 7, 960, 960, 3, 1, true },
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* The baseline: a dense NHWC 3x3-or-1x1 convolution with zero padding, no epilogue. */
static void baseline_conv(const uint8_t *x, const int8_t *w, int32_t *y, int hw, int cin, int cout, int k)
{
	int oy, ox, co, ky, kx, ci, pad = k / 2;

	for (oy = 0; oy < hw; oy++)
		for (ox = 0; ox < hw; ox++)
			for (co = 0; co < cout; co++) {
				int32_t acc = 0;

				for (ky = 0; ky < k; ky++) {
					int iy = oy + ky - pad;

					if (iy < 0 || iy >= hw)
						continue;
					for (kx = 0; kx < k; kx++) {
						int ix = ox + kx - pad;
						const uint8_t *xp = x + ((size_t)iy * hw + ix) * cin;
						const int8_t *wp = w + (((size_t)co * k + ky) * k + kx) * cin;

						if (ix < 0 || ix >= hw)
							continue;
						for (ci = 0; ci < cin; ci++)
							acc += xp[ci] * wp[ci];
					}
				}
				y[((size_t)oy * hw + ox) * cout + co] = acc;
			}
}

/* Run one layer on the model; returns 0 and the counters, seconds in *secs. */
static int bench_model(const struct bench_layer *l, struct f8npu_perf *perf, double *secs)
{
	uint32_t cin_g = l->depthwise ? 1 : l->cin, out_hw = (l->hw - 1) / l->stride + 1;
	uint64_t wbytes = (uint64_t)l->cout * l->k * l->k * cin_g;
	struct f8npu_desc descs[2];
	struct f8npu_cmd_header hdr;
	struct f8npu_job_result res;
	struct f8_job job;
	uint8_t *src, *w, *dst, *cmd;
	uint64_t i;
	double t0;

	if (f8_job_init(&job, NULL))
		return -1;
	src = f8_job_region(&job, 0, (uint64_t)l->hw * l->hw * l->cin);
	w = f8_job_region(&job, 1, wbytes);
	dst = f8_job_region(&job, 2, (uint64_t)out_hw * out_hw * l->cout);
	cmd = f8_job_stream(&job, F8NPU_CMD_HEADER_SIZE + sizeof(descs));
	if (!src || !w || !dst || !cmd) {
		f8_job_free(&job);
		return -1;
	}
	for (i = 0; i < (uint64_t)l->hw * l->hw * l->cin; i++)
		src[i] = (uint8_t)(i * 7);
	for (i = 0; i < wbytes; i++)
		w[i] = (uint8_t)(i * 13 % 15) - 7;

	descs[0] = f8npu_desc_zero(F8NPU_OP_CONV2D);
	descs[0].flags = F8NPU_FLAG_RELU | (l->depthwise ? F8NPU_FLAG_DEPTHWISE : 0);
	descs[0].kernel_h = descs[0].kernel_w = (uint8_t)l->k;
	descs[0].stride_h = descs[0].stride_w = (uint8_t)l->stride;
	descs[0].pad_top = descs[0].pad_bottom = descs[0].pad_left = descs[0].pad_right = (uint8_t)(l->k / 2);
	descs[0].src = f8npu_tensor_dense(0, F8NPU_TYPE_U8, 0, 1, l->hw, l->hw, l->cin);
	descs[0].dst[0] = f8npu_tensor_dense(2, F8NPU_TYPE_U8, 0, 1, (uint16_t)out_hw, (uint16_t)out_hw, l->cout);
	descs[0].weights = f8npu_buffer_at(1, 0);
	descs[0].out_shift[0] = 8;
	descs[1] = f8npu_desc_zero(F8NPU_OP_END);
	hdr = f8npu_header_make(2);
	memcpy(cmd, &hdr, sizeof(hdr));
	memcpy(cmd + sizeof(hdr), descs, sizeof(descs));

	t0 = now_s();
	if (f8_job_run(&job, UINT64_MAX, &res))
		res.done = false;
	*perf = res.perf;
	*secs = now_s() - t0;
	f8_job_free(&job);
	if (!res.done) {
		fprintf(stderr, "f8 bench: %s: the model stopped with %s\n", l->name, f8npu_err_name(res.err));
		return -1;
	}
	return 0;
}

static double bench_baseline(const struct bench_layer *l)
{
	size_t nx = (size_t)l->hw * l->hw * l->cin, nw = (size_t)l->cout * l->k * l->k * l->cin;
	uint8_t *x = malloc(nx);
	int8_t *w = malloc(nw);
	int32_t *y = malloc((size_t)l->hw * l->hw * l->cout * sizeof(int32_t));
	double t0, t = -1;
	size_t i;

	if (x && w && y) {
		for (i = 0; i < nx; i++)
			x[i] = (uint8_t)(i * 7);
		for (i = 0; i < nw; i++)
			w[i] = (int8_t)((int)(i * 13 % 15) - 7);
		t0 = now_s();
		baseline_conv(x, w, y, l->hw, l->cin, l->cout, l->k);
		t = now_s() - t0;
	}
	free(x);
	free(w);
	free(y);
	return t;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: f8 bench\n"
		   "Functional-model speed on real layer shapes and the cost model's MAC utilisation\n"
		   "(16x16 array, 16 bytes/cycle, latency 64), against a plain C convolution in the same run.\n");
}

int f8_cmd_bench(int argc, char **argv)
{
	const size_t nlayers = sizeof(bench_layers) / sizeof(bench_layers[0]);
	struct f8npu_perf perf;
	double secs, base, macs_total = 0, secs_total = 0;
	int rc;
	size_t i;

	rc = f8_opt_none("f8 bench", argc, argv, usage);
	if (rc)
		return rc > 0 ? F8_EXIT_OK : F8_EXIT_USAGE;
	printf("functional model, cost model of a 16x16 array at 16 B/cycle, latency 64\n");
	printf("%-34s %12s %12s %8s %10s\n", "layer", "MACs", "cycles", "util %", "model MMAC/s");
	for (i = 0; i < nlayers; i++) {
		if (bench_model(&bench_layers[i], &perf, &secs))
			return F8_EXIT_DEVICE;
		macs_total += (double)perf.macs;
		secs_total += secs;
		printf("%-34s %12llu %12llu %8.1f %10.0f\n", bench_layers[i].name, (unsigned long long)perf.macs,
		       (unsigned long long)perf.cycles, 100.0 * (double)perf.macs / ((double)perf.cycles * 256.0),
		       (double)perf.macs / secs / 1e6);
	}
	/* Same-run baseline on a 3x3 layer: the model's generality costs this much. */
	if (bench_model(&bench_layers[4], &perf, &secs))
		return F8_EXIT_DEVICE;
	base = bench_baseline(&bench_layers[4]);
	printf("model speed over all layers: %.0f MMAC/s\n", macs_total / secs_total / 1e6);
	printf("model / plain dense C conv on '%s': %.2f (time ratio, lower is better)\n", bench_layers[4].name,
	       secs / base);
	return F8_EXIT_OK;
}
