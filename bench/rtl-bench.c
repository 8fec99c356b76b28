// SPDX-License-Identifier: MIT
/*
 * f8-rtl-bench: the Verilated RTL's performance on real networks.
 *
 * For every convolution of ResNet-18 and MobileNetV2 (224x224, width 1.0) and
 * of two small Fashion-MNIST networks (28x28x1), one CONV2D job (+ END) runs on
 * the RTL (the one libf8npu-rtl.a configuration this program is linked with)
 * and on the functional model (default configuration: 16x16, B = 16, L = 64;
 * an RTL library of another geometry gets a model of that geometry).
 * Reported per distinct layer shape: the RTL's PERF_CYCLES against the ideal
 * MACs / (ROWS x COLS), i.e. the MAC utilization, the model's predicted cycles
 * and the model/RTL ratio, and the simulation speed. The RTL's output bytes
 * and architectural counters must equal the model's (a difference is an RTL
 * bug and is reported loudly). Then the whole Fashion-MNIST ResNet-20 runs as
 * one command stream (residual adds fused as CONV2D with AUX, global sum pool,
 * FC) on a few images: seconds and cycles per image, logits against the model.
 *
 * Every layer job runs in a child process (fork), so an RTL that hangs (cycle
 * budget, then a wall-clock alarm) or aborts in the harness costs one row, not
 * the bench. Identical shapes run once and are multiplied by their count.
 *
 * Usage: f8-rtl-bench [--quick] [--out PREFIX] [-j N] [--net SUBSTR] [--budget F]
 *                     [--max-hangs N] [--timeout S] [--images N]   (--help: what they do)
 * Exit status: 0 when every job ran and matched the model (whatever the
 * performance targets say), 1 on bad usage, 2 when a job failed, timed out,
 * or differed from the model.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "f8npu_build.h"
#include "f8npu_cmd.h"
#include "f8npu_hostmem.h"
#include "f8npu_model.h"
#include "f8npu_prog.h"
#include "f8npu_regs.h"
#include "f8npu_rtl.h"

#define BENCH_B 16u       /* DRAM bytes per cycle, RTL harness and model */
#define BENCH_L 64u       /* DRAM latency, cycles */
#define BENCH_SHIFT 7     /* per-layer out_shift: u8 at FL 4 from acc at FL 4 + 7 */
#define MAX_LAYERS 128u   /* convolutions of one network */
#define MAX_SHAPES 256u   /* distinct shapes over all networks */
#define NAME_LEN 40u

/* Targets of the issue (checked and reported here, never by the tests). */
#define TARGET_UTIL_3X3 85.0   /* % on 3x3 groups=1 convs with >= 64 channels */
#define TARGET_UTIL_DW 50.0    /* % on depthwise 3x3 */
#define TARGET_RATIO_TOL 0.10  /* model/RTL cycles within 10 % */
#define TARGET_NET_SECS 0.5    /* s per image of the whole network: "well under a second" */

/* ---- networks ---- */

struct conv_shape {
	uint16_t h, w, cin, cout;
	uint8_t k, stride, pad;
	bool dw;
};

struct net_layer {
	char name[NAME_LEN];
	struct conv_shape s;
	unsigned int shape; /* index into the distinct shapes */
};

struct net {
	const char *name;
	const char *what;
	bool big; /* ImageNet-sized: --quick runs only some of its rows */
	unsigned int n;
	struct net_layer l[MAX_LAYERS];
};

static uint16_t out_dim(uint16_t in, uint8_t k, uint8_t stride, uint8_t pad)
{
	return (uint16_t)((in + 2u * pad - k) / stride + 1u);
}

static void net_add(struct net *net, const char *name, uint16_t hw, uint16_t cin, uint16_t cout, uint8_t k,
		    uint8_t stride, bool dw)
{
	struct net_layer *l;

	if (net->n >= MAX_LAYERS) {
		fprintf(stderr, "f8-rtl-bench: %s: more than %u layers\n", net->name, MAX_LAYERS);
		exit(1);
	}
	l = &net->l[net->n++];
	snprintf(l->name, sizeof(l->name), "%s", name);
	l->s.h = l->s.w = hw;
	l->s.cin = cin;
	l->s.cout = cout;
	l->s.k = k;
	l->s.stride = stride;
	l->s.pad = (uint8_t)(k / 2);
	l->s.dw = dw;
}

/*
 * Basic-block ResNets. A stage is @blocks blocks of two 3x3 convs with @ch
 * channels; its first block has stride @stride and, when the shape changes, a
 * 1x1/stride downsample conv on the shortcut (torchvision's option B).
 */
struct resnet_stage {
	uint16_t ch;
	uint8_t blocks, stride;
};

/* ResNet-18, torchvision layout: stem 7x7/2 3->64 pad 3, max pool 3x3/2 (not a conv), 4 stages. */
static const struct resnet_stage resnet18_stages[] = {
	{ 64, 2, 1 }, { 128, 2, 2 }, { 256, 2, 2 }, { 512, 2, 2 },
};

/* CIFAR-style ResNet-20 (He et al. 2016, 6n+2 with n = 3), here on 28x28x1 Fashion-MNIST. */
static const struct resnet_stage resnet20_stages[] = {
	{ 16, 3, 1 }, { 32, 3, 2 }, { 64, 3, 2 },
};

static void build_resnet(struct net *net, uint16_t hw, uint16_t cin, uint16_t stem_ch, uint8_t stem_k,
			 uint8_t stem_stride, bool maxpool, const struct resnet_stage *st, unsigned int nst,
			 uint16_t classes)
{
	char name[NAME_LEN];
	unsigned int i, b;
	uint16_t ch = stem_ch;

	net_add(net, "conv1", hw, cin, stem_ch, stem_k, stem_stride, false);
	hw = out_dim(hw, stem_k, stem_stride, stem_k / 2);
	if (maxpool)
		hw = out_dim(hw, 3, 2, 1);
	for (i = 0; i < nst; i++)
		for (b = 0; b < st[i].blocks; b++) {
			uint8_t s = b == 0 ? st[i].stride : 1;
			uint16_t ho = out_dim(hw, 3, s, 1);

			snprintf(name, sizeof(name), "layer%u.%u.conv1", i + 1, b);
			net_add(net, name, hw, ch, st[i].ch, 3, s, false);
			snprintf(name, sizeof(name), "layer%u.%u.conv2", i + 1, b);
			net_add(net, name, ho, st[i].ch, st[i].ch, 3, 1, false);
			if (s != 1 || ch != st[i].ch) {
				snprintf(name, sizeof(name), "layer%u.%u.downsample", i + 1, b);
				net_add(net, name, hw, ch, st[i].ch, 1, s, false);
			}
			hw = ho;
			ch = st[i].ch;
		}
	/* Global average pool (a POOL_SUM, not a conv), then the classifier as a 1x1 conv on [1][1][C]. */
	net_add(net, "fc", 1, ch, classes, 1, 1, false);
}

/* MobileNetV2 inverted-residual stages (Sandler et al. 2018, table 2): expansion t, channels c, n blocks, stride s. */
struct mnv2_stage {
	uint8_t t;
	uint16_t c;
	uint8_t n, s;
};

static const struct mnv2_stage mnv2_224_stages[] = {
	{ 1, 16, 1, 1 }, { 6, 24, 2, 2 }, { 6, 32, 3, 2 }, { 6, 64, 4, 2 },
	{ 6, 96, 3, 1 }, { 6, 160, 3, 2 }, { 6, 320, 1, 1 },
};

/*
 * The small Fashion-MNIST MobileNetV2-like net (our choice): stem 3x3/1 1->16
 * at 28x28, three stages (t 1, c 16, n 1, s 1), (t 4, c 24, n 2, s 2),
 * (t 4, c 32, n 2, s 2) ending at 7x7x32, 1x1 32->128, global pool, FC 128->10.
 */
static const struct mnv2_stage mnv2_fmnist_stages[] = {
	{ 1, 16, 1, 1 }, { 4, 24, 2, 2 }, { 4, 32, 2, 2 },
};

static void build_mnv2(struct net *net, uint16_t hw, uint16_t cin, uint16_t stem_ch, uint8_t stem_stride,
		       const struct mnv2_stage *st, unsigned int nst, uint16_t last_ch, uint16_t classes)
{
	char name[NAME_LEN];
	unsigned int i, b, blk = 1;
	uint16_t ch = stem_ch;

	net_add(net, "stem", hw, cin, stem_ch, 3, stem_stride, false);
	hw = out_dim(hw, 3, stem_stride, 1);
	for (i = 0; i < nst; i++)
		for (b = 0; b < st[i].n; b++, blk++) {
			uint8_t s = b == 0 ? st[i].s : 1;
			uint16_t hid = (uint16_t)(ch * st[i].t), ho = out_dim(hw, 3, s, 1);

			if (st[i].t != 1) {
				snprintf(name, sizeof(name), "block%u.expand", blk);
				net_add(net, name, hw, ch, hid, 1, 1, false);
			}
			snprintf(name, sizeof(name), "block%u.dw", blk);
			net_add(net, name, hw, hid, hid, 3, s, true);
			snprintf(name, sizeof(name), "block%u.project", blk);
			net_add(net, name, ho, hid, st[i].c, 1, 1, false);
			hw = ho;
			ch = st[i].c;
		}
	net_add(net, "conv_last", hw, ch, last_ch, 1, 1, false);
	net_add(net, "fc", 1, last_ch, classes, 1, 1, false);
}

static struct net nets[4];
static const unsigned int nnets = 4;

static void build_nets(void)
{
	nets[0].name = "resnet18";
	nets[0].what = "ResNet-18, 224x224x3, torchvision layout; fc as 1x1 conv on [1][1][512]";
	nets[0].big = true;
	build_resnet(&nets[0], 224, 3, 64, 7, 2, true, resnet18_stages, 4, 1000);
	nets[1].name = "mobilenetv2";
	nets[1].what = "MobileNetV2 1.0, 224x224x3; classifier as 1x1 conv on [1][1][1280]";
	nets[1].big = true;
	build_mnv2(&nets[1], 224, 3, 32, 2, mnv2_224_stages, 7, 1280, 1000);
	nets[2].name = "resnet20-fmnist";
	nets[2].what = "CIFAR-style ResNet-20 (16/32/64 ch at 28/14/7), 28x28x1, 10 classes";
	build_resnet(&nets[2], 28, 1, 16, 3, 1, false, resnet20_stages, 3, 10);
	nets[3].name = "mnv2-fmnist";
	nets[3].what = "MobileNetV2-like: stem 3x3 1->16 @28; (t1,c16,n1,s1) (t4,c24,n2,s2) "
		       "(t4,c32,n2,s2); 1x1 32->128; fc 128->10";
	build_mnv2(&nets[3], 28, 1, 16, 1, mnv2_fmnist_stages, 3, 128, 10);
}

/* ---- shapes and their arithmetic ---- */

static uint64_t shape_macs(const struct conv_shape *s)
{
	uint64_t ho = out_dim(s->h, s->k, s->stride, s->pad), wo = out_dim(s->w, s->k, s->stride, s->pad);

	return ho * wo * s->cout * s->k * s->k * (s->dw ? 1u : s->cin);
}

static bool shape_eq(const struct conv_shape *a, const struct conv_shape *b)
{
	return a->h == b->h && a->w == b->w && a->cin == b->cin && a->cout == b->cout && a->k == b->k &&
	       a->stride == b->stride && a->pad == b->pad && a->dw == b->dw;
}

static void shape_str(const struct conv_shape *s, char *buf, size_t len)
{
	snprintf(buf, len, "%ux%ux%u -> %u, k%u s%u%s", s->h, s->w, s->cin, s->cout, s->k, s->stride,
		 s->dw ? " dw" : "");
}

/* The big shapes --quick keeps: the cost model's cycles (computed here) at most this many. */
#define QUICK_MAX_CYCLES 300000u

/* The layer's CONV2D (regions: 0 src, 1 weights, 2 bias, 3 dst). */
static struct f8npu_desc shape_desc(const struct conv_shape *s)
{
	struct f8npu_desc d = f8npu_desc_zero(F8NPU_OP_CONV2D);
	uint16_t ho = out_dim(s->h, s->k, s->stride, s->pad), wo = out_dim(s->w, s->k, s->stride, s->pad);

	d.flags = F8NPU_FLAG_BIAS | F8NPU_FLAG_RELU | (s->dw ? F8NPU_FLAG_DEPTHWISE : 0);
	d.kernel_h = d.kernel_w = s->k;
	d.stride_h = d.stride_w = s->stride;
	d.pad_top = d.pad_bottom = d.pad_left = d.pad_right = s->pad;
	d.out_shift[0] = BENCH_SHIFT;
	d.src = f8npu_tensor_dense(0, F8NPU_TYPE_U8, 0, 1, s->h, s->w, s->cin);
	d.weights = f8npu_buffer_at(1, 0);
	d.bias = f8npu_buffer_at(2, 0);
	d.dst[0] = f8npu_tensor_dense(3, F8NPU_TYPE_U8, 0, 1, ho, wo, s->cout);
	return d;
}

/* isa.md §7's array cycles, by the model's one definition (f8npu_model_array_cycles). */
static uint64_t shape_compute_cycles(const struct conv_shape *s, uint32_t rows, uint32_t cols)
{
	struct f8npu_model_config cfg;
	struct f8npu_desc d = shape_desc(s);

	f8npu_model_default_config(&cfg);
	cfg.rows = rows;
	cfg.cols = cols;
	return f8npu_model_array_cycles(&cfg, &d);
}

/* ---- deterministic data ---- */

/* The data of a layer job depends on its shape only (not on which networks are selected). */
static uint64_t shape_seed(const struct conv_shape *s)
{
	uint64_t h = 0xcbf29ce484222325ull;
	uint32_t v[8] = { s->h, s->w, s->cin, s->cout, s->k, s->stride, s->pad, s->dw };
	unsigned int i;

	for (i = 0; i < 8; i++)
		h = (h ^ v[i]) * 0x100000001b3ull;
	return h | 1u;
}

static uint64_t rng_next(uint64_t *st)
{
	/* xorshift64*: plenty for bench data. */
	uint64_t x = *st;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*st = x;
	return x * 2685821657736338717ull;
}

static int32_t rng_range(uint64_t *st, int32_t lo, int32_t hi)
{
	return lo + (int32_t)((rng_next(st) >> 16) % (uint64_t)(hi - lo + 1));
}

/* Post-ReLU-like activations at FL 4: half zeros, the rest 1 .. 63. */
static void fill_acts(uint8_t *p, uint64_t n, uint64_t *st)
{
	uint64_t i;

	for (i = 0; i < n; i++)
		p[i] = (rng_next(st) >> 40) & 1 ? (uint8_t)rng_range(st, 1, 63) : 0;
}

/*
 * He-scaled weights (std 128 * sqrt(2 / K) at FL 7, uniform) so that with
 * fill_acts inputs an out_shift near 7 spreads the outputs over the u8 range.
 */
static void fill_weights(int8_t *p, uint64_t n, uint32_t k_terms, uint64_t *st)
{
	double a = 128.0 * sqrt(6.0 / (double)k_terms);
	int32_t lim = a > 127.0 ? 127 : (int32_t)a < 1 ? 1 : (int32_t)a;
	uint64_t i;

	for (i = 0; i < n; i++)
		p[i] = (int8_t)rng_range(st, -lim, lim);
}

static void fill_bias(int32_t *p, uint32_t n, uint64_t *st)
{
	uint32_t i;

	for (i = 0; i < n; i++)
		p[i] = rng_range(st, -1024, 1024);
}

static double clock_s(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double now_s(void)
{
	return clock_s(CLOCK_MONOTONIC);
}

/* ---- the devices ---- */

struct devpair {
	struct f8npu_hostmem hm;
	struct f8npu_mem mem;
	struct f8npu_dev *model;
	struct f8npu_dev *rtl;
};

static int devpair_open(struct devpair *d)
{
	struct f8npu_rtl_config rc;
	struct f8npu_model_config mc;

	f8npu_hostmem_init(&d->hm);
	d->mem = f8npu_hostmem_port(&d->hm);
	/* The default configuration (16 x 16); another RTL geometry gets a model of its own geometry. */
	f8npu_model_default_config(&mc);
	mc.rows = f8npu_rtl_rows();
	mc.cols = f8npu_rtl_cols();
	mc.dram_bytes_per_cycle = BENCH_B;
	mc.dram_latency = BENCH_L;
	d->model = f8npu_model_create(&mc, &d->mem);
	f8npu_rtl_default_config(&rc);
	rc.dram_bytes_per_cycle = BENCH_B;
	rc.dram_latency = BENCH_L;
	d->rtl = f8npu_rtl_create(&rc, &d->mem);
	if (!d->model || !d->rtl) {
		fprintf(stderr, "f8-rtl-bench: cannot create the %s\n", d->model ? "RTL device" : "model");
		return -1;
	}
	if (f8npu_prog_check_id(d->rtl) || f8npu_prog_check_id(d->model)) {
		fprintf(stderr, "f8-rtl-bench: the %s does not identify as an f8npu 1.x\n",
			f8npu_prog_check_id(d->rtl) ? "RTL" : "model");
		return -1;
	}
	if (f8npu_dev_read(d->rtl, F8NPU_REG_CAP_ARRAY) != (f8npu_rtl_rows() | f8npu_rtl_cols() << 16)) {
		fprintf(stderr, "f8-rtl-bench: RTL CAP_ARRAY 0x%08x, library built for %ux%u\n",
			f8npu_dev_read(d->rtl, F8NPU_REG_CAP_ARRAY), f8npu_rtl_rows(), f8npu_rtl_cols());
		return -1;
	}
	return 0;
}

static void devpair_close(struct devpair *d)
{
	f8npu_dev_destroy(d->rtl);
	f8npu_dev_destroy(d->model);
	f8npu_hostmem_free(&d->hm);
}

static uint8_t *alloc_buf(struct devpair *d, uint64_t size, uint64_t *addr)
{
	uint8_t *p = f8npu_hostmem_alloc(&d->hm, size, addr);

	if (!p)
		fprintf(stderr, "f8-rtl-bench: out of memory (%" PRIu64 " bytes)\n", size);
	return p;
}

/* A region of the job: the same for both devices, or one buffer per device (outputs). */
struct jregion {
	uint64_t addr[2]; /* [0] model, [1] RTL */
	uint64_t size;
};

/*
 * One job on one device: regions, PERF_CLEAR, run; wall-clock seconds in *secs,
 * CPU seconds of this process (a job process runs one job at a time) in *cpu,
 * cycles clocked in *clk.
 */
static void run_on(struct f8npu_dev *dev, bool is_rtl, const struct jregion *reg, unsigned int nreg,
		   uint64_t cmd_addr, uint32_t cmd_size, uint32_t ndesc, uint64_t budget,
		   struct f8npu_job_result *res, double *secs, double *cpu, uint64_t *clk)
{
	uint64_t c0 = 0;
	unsigned int r;
	double t0, u0;

	for (r = 0; r < nreg; r++)
		f8npu_prog_set_region(dev, r, reg[r].addr[is_rtl], reg[r].size);
	f8npu_dev_write(dev, F8NPU_REG_CTRL, F8NPU_CTRL_PERF_CLEAR);
	if (is_rtl)
		c0 = f8npu_rtl_cycles(dev);
	u0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
	t0 = now_s();
	f8npu_prog_run_job(dev, cmd_addr, cmd_size, ndesc, budget, res);
	*secs = now_s() - t0;
	*cpu = clock_s(CLOCK_PROCESS_CPUTIME_ID) - u0;
	*clk = is_rtl ? f8npu_rtl_cycles(dev) - c0 : res->cycles;
}

/* ---- one layer ---- */

enum run_status {
	ST_OK = 0,
	ST_SKIP,     /* not run (--quick) */
	ST_MISMATCH, /* RTL output bytes differ from the model's */
	ST_COUNTERS, /* architectural counters differ */
	ST_ERROR,    /* a device stopped with an error */
	ST_TIMEOUT,  /* cycle budget or wall-clock alarm */
	ST_CRASH,    /* the child died (harness abort on an RTL bug, ...) */
	ST_SETUP,    /* could not build the job */
	ST_NOTRUN,   /* not run: the RTL had already hung --max-hangs times */
};

static const char *const status_names[] = {
	"OK", "SKIP", "MISMATCH", "COUNTERS", "ERROR", "TIMEOUT", "CRASH", "SETUP", "NOTRUN",
};

struct layer_result {
	int status;
	char detail[256];
	struct f8npu_perf rtl, model;
	uint64_t rtl_clocked;
	double rtl_secs, rtl_cpu, model_secs;
	uint64_t diff_bytes;
};

struct opts {
	bool quick;
	const char *out;
	unsigned int jobs;
	const char *only;
	double budget;
	unsigned int timeout;
	unsigned int images;
	unsigned int max_hangs;
};

static struct opts opt = { false, NULL, 1, NULL, 8.0, 900, 3, 3 };

/* Cycle budget of the RTL: a multiple of the model's prediction, plus slack. */
static uint64_t rtl_budget(uint64_t model_cycles)
{
	return (uint64_t)(opt.budget * (double)model_cycles) + 100000u;
}

static void result_fail(struct layer_result *r, int st, const char *msg)
{
	r->status = st;
	snprintf(r->detail, sizeof(r->detail), "%s", msg);
}

/* Compare the architectural counters; 0 if equal. */
static int perf_arch_cmp(const struct f8npu_perf *a, const struct f8npu_perf *b, char *buf, size_t len)
{
	if (a->macs != b->macs || a->rd_bytes != b->rd_bytes || a->wr_bytes != b->wr_bytes || a->descs != b->descs) {
		snprintf(buf, len, "RTL macs/rd/wr/descs %" PRIu64 "/%" PRIu64 "/%" PRIu64 "/%u, model %" PRIu64
			 "/%" PRIu64 "/%" PRIu64 "/%u",
			 a->macs, a->rd_bytes, a->wr_bytes, a->descs, b->macs, b->rd_bytes, b->wr_bytes, b->descs);
		return -1;
	}
	return 0;
}

static void write_stream(uint8_t *cmd, const struct f8npu_desc *d, uint32_t n)
{
	struct f8npu_cmd_header h = f8npu_header_make(n);

	memcpy(cmd, &h, sizeof(h));
	memcpy(cmd + sizeof(h), d, (size_t)n * sizeof(*d));
}

static uint64_t count_diff(const uint8_t *a, const uint8_t *b, uint64_t n, uint64_t *first)
{
	uint64_t i, d = 0;

	for (i = 0; i < n; i++)
		if (a[i] != b[i] && d++ == 0)
			*first = i;
	return d;
}

static void run_layer(const struct conv_shape *s, uint64_t seed, struct layer_result *r)
{
	uint16_t ho = out_dim(s->h, s->k, s->stride, s->pad), wo = out_dim(s->w, s->k, s->stride, s->pad);
	uint32_t kterms = (uint32_t)s->k * s->k * (s->dw ? 1u : s->cin);
	uint64_t nsrc = (uint64_t)s->h * s->w * s->cin, nw = (uint64_t)s->cout * kterms;
	uint64_t ndst = (uint64_t)ho * wo * s->cout, a_src, a_w, a_b, a_cmd, a_dm, a_dr, first = 0, clk;
	double cpu;
	uint32_t cmd_size = F8NPU_CMD_HEADER_SIZE + 2u * F8NPU_CMD_DESC_SIZE;
	struct f8npu_desc d[2];
	struct f8npu_job_result jm, jr;
	struct jregion reg[4];
	struct devpair dp;
	uint8_t *src, *w, *b, *cmd, *dm, *dr;
	char buf[120];

	memset(r, 0, sizeof(*r));
	if (devpair_open(&dp)) {
		result_fail(r, ST_SETUP, "device creation failed");
		devpair_close(&dp);
		return;
	}
	src = alloc_buf(&dp, nsrc, &a_src);
	w = alloc_buf(&dp, nw, &a_w);
	b = alloc_buf(&dp, 4u * s->cout, &a_b);
	cmd = alloc_buf(&dp, cmd_size, &a_cmd);
	dm = alloc_buf(&dp, ndst, &a_dm);
	dr = alloc_buf(&dp, ndst, &a_dr);
	if (!src || !w || !b || !cmd || !dm || !dr) {
		result_fail(r, ST_SETUP, "out of memory");
		devpair_close(&dp);
		return;
	}
	fill_acts(src, nsrc, &seed);
	fill_weights((int8_t *)w, nw, kterms, &seed);
	fill_bias((int32_t *)b, s->cout, &seed);
	memset(dm, 0xa5, ndst);
	memset(dr, 0xa5, ndst);

	d[0] = shape_desc(s);
	d[1] = f8npu_desc_zero(F8NPU_OP_END);
	write_stream(cmd, d, 2);

	reg[0] = (struct jregion){ { a_src, a_src }, nsrc };
	reg[1] = (struct jregion){ { a_w, a_w }, nw };
	reg[2] = (struct jregion){ { a_b, a_b }, 4u * s->cout };
	reg[3] = (struct jregion){ { a_dm, a_dr }, ndst };

	run_on(dp.model, false, reg, 4, a_cmd, cmd_size, 2, UINT64_MAX, &jm, &r->model_secs, &cpu, &clk);
	r->model = jm.perf;
	if (!jm.done || jm.perf.macs != shape_macs(s)) {
		r->status = ST_SETUP;
		snprintf(r->detail, sizeof(r->detail), "the model %s %s (MACs %" PRIu64 ", expected %" PRIu64 "): bench bug",
			 jm.done ? "finished" : "stopped with", jm.done ? "" : f8npu_err_name(jm.err), jm.perf.macs,
			 shape_macs(s));
		devpair_close(&dp);
		return;
	}
	run_on(dp.rtl, true, reg, 4, a_cmd, cmd_size, 2, rtl_budget(jm.perf.cycles), &jr, &r->rtl_secs, &r->rtl_cpu,
	       &r->rtl_clocked);
	r->rtl = jr.perf;
	if (jr.timed_out) {
		snprintf(r->detail, sizeof(r->detail), "RTL did not finish in %" PRIu64 " cycles (model: %" PRIu64 ")",
			 rtl_budget(jm.perf.cycles), jm.perf.cycles);
		r->status = ST_TIMEOUT;
	} else if (!jr.done) {
		snprintf(r->detail, sizeof(r->detail), "RTL stopped with %s at descriptor %u",
			 f8npu_err_name(jr.err), jr.err_index);
		r->status = ST_ERROR;
	} else if ((r->diff_bytes = count_diff(dr, dm, ndst, &first)) != 0) {
		snprintf(r->detail, sizeof(r->detail),
			 "%" PRIu64 " of %" PRIu64 " output bytes differ; first at byte %" PRIu64
			 " (y %" PRIu64 " x %" PRIu64 " c %" PRIu64 "): RTL %u, model %u",
			 r->diff_bytes, ndst, first, first / ((uint64_t)wo * s->cout), first / s->cout % wo,
			 first % s->cout, dr[first], dm[first]);
		r->status = ST_MISMATCH;
	} else if (perf_arch_cmp(&jr.perf, &jm.perf, buf, sizeof(buf))) {
		snprintf(r->detail, sizeof(r->detail), "%s", buf);
		r->status = ST_COUNTERS;
	}
	devpair_close(&dp);
}

/* ---- the whole Fashion-MNIST ResNet-20 as one command stream ---- */

#define NET_MAX_DESCS 64u
#define NET_WBYTES (1u << 20)
#define NET_BBYTES (64u << 10)
#define NET_ABYTES (2u << 20)
#define NET_MAX_IMAGES 16u

/* Regions of the whole-network job. */
enum { R_IMG = 0, R_WGT, R_BIAS, R_ACT, R_LOGIT, R_COUNT };

struct tens {
	uint8_t region, type;
	uint32_t off;
	uint16_t h, w, c;
};

struct chain {
	struct f8npu_desc d[NET_MAX_DESCS];
	uint32_t n;
	uint8_t *wgt, *bias;
	uint32_t wused, bused, aused;
	uint64_t macs, seed;
	int bad;
};

static struct f8npu_tensor_ref tref(const struct tens *t)
{
	return f8npu_tensor_dense(t->region, t->type, t->off, 1, t->h, t->w, t->c);
}

static struct tens act_new(struct chain *ch, uint16_t h, uint16_t w, uint16_t c, uint8_t type)
{
	struct tens t = { R_ACT, type, ch->aused, h, w, c };
	uint64_t bytes = (uint64_t)h * w * c * f8npu_type_size(type);

	ch->aused = (uint32_t)((ch->aused + bytes + 63u) & ~63ull);
	if (ch->aused > NET_ABYTES)
		ch->bad = 1;
	return t;
}

static struct f8npu_desc *chain_desc(struct chain *ch, uint8_t op)
{
	if (ch->n >= NET_MAX_DESCS) {
		ch->bad = 1;
		ch->n = 0;
	}
	ch->d[ch->n] = f8npu_desc_zero(op);
	return &ch->d[ch->n++];
}

/*
 * CONV2D with BIAS on @src into @d0 (type, shift s0) and optionally @d1 (u8,
 * shift s1), @aux added at alignment 0 when given. Output tensors are made here.
 */
static void chain_conv(struct chain *ch, const struct tens *src, uint16_t cout, uint8_t k, uint8_t stride,
		       bool relu, const struct tens *aux, uint8_t t0, int8_t s0, struct tens *d0, struct tens *d1,
		       int8_t s1, uint8_t d0_region)
{
	uint8_t pad = k / 2;
	uint16_t ho = out_dim(src->h, k, stride, pad), wo = out_dim(src->w, k, stride, pad);
	uint32_t kterms = (uint32_t)k * k * src->c, nw = (uint32_t)cout * kterms;
	struct f8npu_desc *d = chain_desc(ch, F8NPU_OP_CONV2D);

	if (ch->wused + nw > NET_WBYTES || ch->bused + 4u * cout > NET_BBYTES) {
		ch->bad = 1;
		return;
	}
	fill_weights((int8_t *)(ch->wgt + ch->wused), nw, kterms, &ch->seed);
	fill_bias((int32_t *)(ch->bias + ch->bused), cout, &ch->seed);
	d->flags = F8NPU_FLAG_BIAS | (relu ? F8NPU_FLAG_RELU : 0) | (aux ? F8NPU_FLAG_AUX : 0) |
		   (d1 ? F8NPU_FLAG_DST1 : 0);
	d->kernel_h = d->kernel_w = k;
	d->stride_h = d->stride_w = stride;
	d->pad_top = d->pad_bottom = d->pad_left = d->pad_right = pad;
	d->src = tref(src);
	d->weights = f8npu_buffer_at(R_WGT, ch->wused);
	d->bias = f8npu_buffer_at(R_BIAS, ch->bused);
	if (aux)
		d->aux = tref(aux);
	if (d0_region == R_ACT) {
		*d0 = act_new(ch, ho, wo, cout, t0);
	} else {
		struct tens t = { d0_region, t0, 0, ho, wo, cout };

		*d0 = t;
	}
	d->dst[0] = tref(d0);
	d->out_shift[0] = s0;
	if (d1) {
		*d1 = act_new(ch, ho, wo, cout, F8NPU_TYPE_U8);
		d->dst[1] = tref(d1);
		d->out_shift[1] = s1;
	}
	ch->wused += (nw + 3u) & ~3u;
	ch->bused += 4u * cout;
	ch->macs += (uint64_t)ho * wo * cout * kterms;
}

/*
 * ResNet-20 in F8Net terms (docs/arith.md §4): activations u8 at FL 4,
 * weights s8 at FL 7, so accumulators at FL 11; the residual stream stays s32
 * at FL 11. The image is u8 at FL 8: the stem's accumulators are at FL 15.
 *   stem:    conv 3x3 1->16, RELU -> s32 stream (shift 4) + u8 (shift 11)
 *   block:   conv1 3x3/s RELU -> u8 (shift 7);
 *            shortcut = stream, or 1x1/2 conv (no RELU) -> s32 (shift 0);
 *            conv2 3x3 + AUX shortcut (align 0/0), RELU -> s32 stream + u8 (shift 7)
 *   head:    POOL_SUM 7x7 on the u8 features (shift 6: sum/64), CONV2D 1x1 64->10 -> s32 logits
 */
static int build_resnet20_chain(struct chain *ch)
{
	struct tens img = { R_IMG, F8NPU_TYPE_U8, 0, 28, 28, 1 }, stream, act, h1, sc, pooled, logits;
	unsigned int i, b;
	uint16_t c = 16;

	chain_conv(ch, &img, 16, 3, 1, true, NULL, F8NPU_TYPE_S32, 4, &stream, &act, 11, R_ACT);
	for (i = 0; i < 3; i++)
		for (b = 0; b < 3; b++) {
			uint8_t s = (i > 0 && b == 0) ? 2 : 1;
			uint16_t co = (uint16_t)(16u << i);
			struct tens *shortcut = &stream;

			chain_conv(ch, &act, co, 3, s, true, NULL, F8NPU_TYPE_U8, 7, &h1, NULL, 0, R_ACT);
			if (s != 1 || co != c) {
				chain_conv(ch, &act, co, 1, s, false, NULL, F8NPU_TYPE_S32, 0, &sc, NULL, 0, R_ACT);
				shortcut = &sc;
			}
			chain_conv(ch, &h1, co, 3, 1, true, shortcut, F8NPU_TYPE_S32, 0, &stream, &act, 7, R_ACT);
			c = co;
		}
	{
		struct f8npu_desc *d = chain_desc(ch, F8NPU_OP_POOL_SUM);

		d->kernel_h = (uint8_t)act.h;
		d->kernel_w = (uint8_t)act.w;
		d->stride_h = d->stride_w = 1;
		d->src = tref(&act);
		pooled = act_new(ch, 1, 1, act.c, F8NPU_TYPE_U8);
		d->dst[0] = tref(&pooled);
		d->out_shift[0] = 6;
	}
	chain_conv(ch, &pooled, 10, 1, 1, false, NULL, F8NPU_TYPE_S32, 0, &logits, NULL, 0, R_LOGIT);
	chain_desc(ch, F8NPU_OP_END);
	return ch->bad ? -1 : 0;
}

struct net_result {
	int status;
	char detail[256];
	uint32_t descs, images;
	uint64_t macs;
	uint64_t rtl_cycles[NET_MAX_IMAGES], model_cycles[NET_MAX_IMAGES], clocked[NET_MAX_IMAGES];
	double rtl_secs[NET_MAX_IMAGES], rtl_cpu[NET_MAX_IMAGES], model_secs[NET_MAX_IMAGES];
	int32_t logits[NET_MAX_IMAGES][10];
};

static void run_chain(struct net_result *r)
{
	struct chain *ch = calloc(1, sizeof(*ch));
	uint64_t a_img, a_w, a_b, a_cmd, a_am, a_ar, a_lm, a_lr, first = 0, clk, seed = 0x5eed0fa5b10aull;
	double cpu;
	uint8_t *img, *cmd, *am, *ar, *lm, *lr;
	struct f8npu_job_result jm, jr;
	struct jregion reg[R_COUNT];
	uint32_t cmd_size;
	struct devpair dp;
	unsigned int i;
	char buf[120];

	memset(r, 0, sizeof(*r));
	if (!ch || devpair_open(&dp)) {
		r->status = ST_SETUP;
		snprintf(r->detail, sizeof(r->detail), "device creation failed");
		free(ch);
		return;
	}
	img = alloc_buf(&dp, 28 * 28, &a_img);
	ch->wgt = alloc_buf(&dp, NET_WBYTES, &a_w);
	ch->bias = alloc_buf(&dp, NET_BBYTES, &a_b);
	cmd = alloc_buf(&dp, F8NPU_CMD_HEADER_SIZE + NET_MAX_DESCS * F8NPU_CMD_DESC_SIZE, &a_cmd);
	am = alloc_buf(&dp, NET_ABYTES, &a_am);
	ar = alloc_buf(&dp, NET_ABYTES, &a_ar);
	lm = alloc_buf(&dp, 40, &a_lm);
	lr = alloc_buf(&dp, 40, &a_lr);
	ch->seed = 0x12345678abcdefull;
	if (!img || !ch->wgt || !ch->bias || !cmd || !am || !ar || !lm || !lr || build_resnet20_chain(ch)) {
		r->status = ST_SETUP;
		snprintf(r->detail, sizeof(r->detail), "cannot build the ResNet-20 stream");
		goto out;
	}
	write_stream(cmd, ch->d, ch->n);
	cmd_size = F8NPU_CMD_HEADER_SIZE + ch->n * F8NPU_CMD_DESC_SIZE;
	r->descs = ch->n;
	r->macs = ch->macs;
	reg[R_IMG] = (struct jregion){ { a_img, a_img }, 28 * 28 };
	reg[R_WGT] = (struct jregion){ { a_w, a_w }, NET_WBYTES };
	reg[R_BIAS] = (struct jregion){ { a_b, a_b }, NET_BBYTES };
	reg[R_ACT] = (struct jregion){ { a_am, a_ar }, NET_ABYTES };
	reg[R_LOGIT] = (struct jregion){ { a_lm, a_lr }, 40 };

	for (i = 0; i < opt.images && i < NET_MAX_IMAGES; i++) {
		uint64_t n;

		/* A Fashion-MNIST-like image: dark background, a bright object. */
		for (n = 0; n < 28 * 28; n++) {
			uint64_t y = n / 28, x = n % 28;
			bool obj = y >= 3 + i && y < 25 && x >= 6 && x < 22 - i;

			img[n] = obj ? (uint8_t)rng_range(&seed, 40, 255) : (uint8_t)rng_range(&seed, 0, 8);
		}
		memset(am, 0, NET_ABYTES);
		memset(ar, 0, NET_ABYTES);
		memset(lm, 0, 40);
		memset(lr, 0, 40);
		run_on(dp.model, false, reg, R_COUNT, a_cmd, cmd_size, ch->n, UINT64_MAX, &jm, &r->model_secs[i],
		       &cpu, &clk);
		r->model_cycles[i] = jm.perf.cycles;
		if (!jm.done) {
			r->status = ST_ERROR;
			snprintf(r->detail, sizeof(r->detail), "model stopped with %s at descriptor %u",
				 f8npu_err_name(jm.err), jm.err_index);
			goto out;
		}
		run_on(dp.rtl, true, reg, R_COUNT, a_cmd, cmd_size, ch->n, rtl_budget(jm.perf.cycles), &jr,
		       &r->rtl_secs[i], &r->rtl_cpu[i], &r->clocked[i]);
		r->rtl_cycles[i] = jr.perf.cycles;
		r->images = i + 1;
		memcpy(r->logits[i], lr, 40);
		if (jr.timed_out) {
			r->status = ST_TIMEOUT;
			snprintf(r->detail, sizeof(r->detail), "image %u: RTL did not finish in %" PRIu64 " cycles", i,
				 rtl_budget(jm.perf.cycles));
			goto out;
		}
		if (!jr.done) {
			r->status = ST_ERROR;
			snprintf(r->detail, sizeof(r->detail), "image %u: RTL stopped with %s at descriptor %u", i,
				 f8npu_err_name(jr.err), jr.err_index);
			goto out;
		}
		if (memcmp(lr, lm, 40)) {
			int32_t a[10], m[10];
			unsigned int k = 0;

			memcpy(a, lr, 40);
			memcpy(m, lm, 40);
			while (k < 9 && a[k] == m[k])
				k++;
			r->status = ST_MISMATCH;
			snprintf(r->detail, sizeof(r->detail), "image %u: logits differ: logit %u RTL %d, model %d", i,
				 k, a[k], m[k]);
			goto out;
		}
		if (count_diff(ar, am, ch->aused, &first)) {
			unsigned int k;

			r->status = ST_MISMATCH;
			for (k = 0; k + 1 < ch->n; k++) {
				const struct f8npu_tensor_ref *t = &ch->d[k].dst[0];
				uint64_t o = t->offset, e = o + f8npu_tensor_dense_bytes(t);

				if (t->region == R_ACT && first >= o && first < e)
					break;
				t = &ch->d[k].dst[1];
				o = t->offset;
				e = o + f8npu_tensor_dense_bytes(t);
				if (ch->d[k].flags & F8NPU_FLAG_DST1 && t->region == R_ACT && first >= o && first < e)
					break;
			}
			snprintf(r->detail, sizeof(r->detail),
				 "image %u: logits equal but activations differ, first at arena byte %" PRIu64
				 " (output of descriptor %u)", i, first, k);
			goto out;
		}
		if (perf_arch_cmp(&jr.perf, &jm.perf, buf, sizeof(buf))) {
			r->status = ST_COUNTERS;
			snprintf(r->detail, sizeof(r->detail), "image %u: %s", i, buf);
			goto out;
		}
	}
out:
	devpair_close(&dp);
	free(ch);
}

/* ---- child processes ---- */

struct task {
	int kind; /* 0 layer, 1 whole network */
	unsigned int shape;
	pid_t pid;
	int fd;
	size_t got;
	union {
		struct layer_result layer;
		struct net_result net;
	} res;
};

static struct conv_shape shapes[MAX_SHAPES];
static struct layer_result shape_res[MAX_SHAPES];
static bool shape_run[MAX_SHAPES];
static unsigned int nshapes;

static size_t task_size(const struct task *t)
{
	return t->kind ? sizeof(t->res.net) : sizeof(t->res.layer);
}

static int task_start(struct task *t)
{
	int p[2];

	if (pipe(p)) {
		perror("f8-rtl-bench: pipe");
		return -1;
	}
	fflush(NULL);
	t->pid = fork();
	if (t->pid < 0) {
		perror("f8-rtl-bench: fork");
		return -1;
	}
	if (t->pid == 0) {
		const char *q;
		size_t left;

		close(p[0]);
		alarm(opt.timeout);
		if (t->kind)
			run_chain(&t->res.net);
		else
			run_layer(&shapes[t->shape], shape_seed(&shapes[t->shape]), &t->res.layer);
		q = (const char *)&t->res;
		left = task_size(t);
		while (left) {
			ssize_t w = write(p[1], q, left);

			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				_exit(3);
			q += w;
			left -= (size_t)w;
		}
		_exit(0);
	}
	close(p[1]);
	t->fd = p[0];
	t->got = 0;
	return 0;
}

/* Read the child's result (the pipe holds it before the child exits), reap it. */
static void task_finish(struct task *t, int wstatus)
{
	char *q = (char *)&t->res;
	size_t want = task_size(t);
	int *st = t->kind ? &t->res.net.status : &t->res.layer.status;
	char *det = t->kind ? t->res.net.detail : t->res.layer.detail;
	size_t dlen = t->kind ? sizeof(t->res.net.detail) : sizeof(t->res.layer.detail);

	for (;;) {
		ssize_t n = read(t->fd, q + t->got, want - t->got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		t->got += (size_t)n;
		if (t->got == want)
			break;
	}
	close(t->fd);
	if (t->got == want && WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0)
		return;
	memset(&t->res, 0, sizeof(t->res));
	if (WIFSIGNALED(wstatus) && WTERMSIG(wstatus) == SIGALRM) {
		*st = ST_TIMEOUT;
		snprintf(det, dlen, "wall-clock limit of %u s (--timeout)", opt.timeout);
	} else {
		*st = ST_CRASH;
		if (WIFSIGNALED(wstatus))
			snprintf(det, dlen, "the job process died of signal %d (%s): see stderr",
				 WTERMSIG(wstatus), strsignal(WTERMSIG(wstatus)));
		else
			snprintf(det, dlen, "the job process exited with status %d: see stderr",
				 WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1);
	}
}

static unsigned int nhangs;

static void give_up(struct task *t)
{
	int *st = t->kind ? &t->res.net.status : &t->res.layer.status;
	char *det = t->kind ? t->res.net.detail : t->res.layer.detail;
	size_t dlen = t->kind ? sizeof(t->res.net.detail) : sizeof(t->res.layer.detail);

	memset(&t->res, 0, sizeof(t->res));
	*st = ST_NOTRUN;
	snprintf(det, dlen, "not run: the RTL already timed out %u times (--max-hangs)", nhangs);
}

/* Run @n tasks, at most opt.jobs at a time; after opt.max_hangs timeouts the rest are NOTRUN. */
static int run_tasks(struct task *tasks, unsigned int n, void (*done)(struct task *t))
{
	unsigned int next = 0, running = 0, i;

	while (next < n || running) {
		int ws;
		pid_t pid;

		while (next < n && running < opt.jobs) {
			if (tasks[next].kind == 0 && opt.max_hangs && nhangs >= opt.max_hangs) {
				tasks[next].pid = 0;
				give_up(&tasks[next]);
				done(&tasks[next++]);
				continue;
			}
			if (task_start(&tasks[next]))
				return -1;
			next++;
			running++;
		}
		if (!running)
			break;
		pid = waitpid(-1, &ws, 0);
		if (pid < 0) {
			if (errno == EINTR)
				continue;
			perror("f8-rtl-bench: waitpid");
			return -1;
		}
		for (i = 0; i < next; i++)
			if (tasks[i].pid == pid) {
				task_finish(&tasks[i], ws);
				tasks[i].pid = 0;
				running--;
				done(&tasks[i]);
				break;
			}
	}
	return 0;
}

static unsigned int ndone, ntodo;
static double t_start;

static void layer_done(struct task *t)
{
	const struct layer_result *r = &t->res.layer;
	char sh[64];

	shape_res[t->shape] = *r;
	if (r->status == ST_TIMEOUT)
		nhangs++;
	shape_str(&shapes[t->shape], sh, sizeof(sh));
	fprintf(stderr, "[%3u/%u %6.1fs] %-34s %s  RTL %" PRIu64 " cycles in %.2fs\n", ++ndone, ntodo,
		now_s() - t_start, sh, status_names[r->status], r->rtl.cycles, r->rtl_secs);
	if (r->status != ST_OK)
		fprintf(stderr, "  *** %s: %s\n", status_names[r->status], r->detail);
}

static struct net_result chain_res;

static void chain_done(struct task *t)
{
	chain_res = t->res.net;
}

/* ---- reporting ---- */

static FILE *md, *csv;

static void out(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void out(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	if (md) {
		va_start(ap, fmt);
		vfprintf(md, fmt, ap);
		va_end(ap);
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, unsigned int n)
{
	if (!n)
		return 0;
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* A distinct row: the first layer of @net with shape @s, and how many layers have it. */
struct row {
	unsigned int first, count;
};

/* The RTL finished the job (possibly with wrong data): its cycles mean something. */
static bool has_cycles(unsigned int s)
{
	int st = shape_res[s].status;

	return shape_run[s] && (st == ST_OK || st == ST_MISMATCH || st == ST_COUNTERS);
}

static void usage(void)
{
	fprintf(stderr, "usage: f8-rtl-bench [--quick] [--out PREFIX] [-j N] [--net SUBSTR] [--budget F]\n"
			"                    [--max-hangs N] [--timeout S] [--images N]\n"
			"  --quick      full Fashion-MNIST tables, but of ResNet-18/MobileNetV2 only the layers\n"
			"               whose cost-model compute is <= %u cycles (CI-sized run)\n"
			"  --out P      also write P.md (markdown) and P.csv\n"
			"  -j N         N layer jobs in parallel (default 1: sim speed of an unloaded core)\n"
			"  --net S      only the networks whose name contains S (the whole-network run: resnet20)\n"
			"  --budget F   RTL cycle budget = F x model cycles + 100000 (default 8)\n"
			"  --max-hangs N  after N layer TIMEOUTs the remaining layers are NOTRUN (default 3,\n"
			"               0: never give up); layers run cheapest first\n"
			"  --timeout S  wall-clock limit per job process, seconds (default 900)\n"
			"  --images N   images through the whole network (default 3, at most %u)\n",
		QUICK_MAX_CYCLES, NET_MAX_IMAGES);
}

static int parse_args(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		char *end = NULL;

		if (!strcmp(a, "--quick")) {
			opt.quick = true;
			continue;
		}
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage();
			return 1;
		}
		if (!v) {
			usage();
			return -1;
		}
		i++;
		errno = 0;
		if (!strcmp(a, "--out")) {
			opt.out = v;
		} else if (!strcmp(a, "--net")) {
			opt.only = v;
		} else if (!strcmp(a, "-j")) {
			unsigned long n = strtoul(v, &end, 10);

			if (n < 1 || n > 64)
				end = NULL;
			opt.jobs = (unsigned int)n;
		} else if (!strcmp(a, "--budget")) {
			opt.budget = strtod(v, &end);
			if (!(opt.budget >= 1.0))
				end = NULL;
		} else if (!strcmp(a, "--timeout")) {
			unsigned long n = strtoul(v, &end, 10);

			if (n < 1 || n > 86400)
				end = NULL;
			opt.timeout = (unsigned int)n;
		} else if (!strcmp(a, "--max-hangs")) {
			unsigned long n = strtoul(v, &end, 10);

			if (n > 100000)
				end = NULL;
			opt.max_hangs = (unsigned int)n;
		} else if (!strcmp(a, "--images")) {
			unsigned long n = strtoul(v, &end, 10);

			if (n > NET_MAX_IMAGES)
				end = NULL;
			opt.images = (unsigned int)n;
		} else {
			usage();
			return -1;
		}
		if (!strcmp(a, "--out") || !strcmp(a, "--net"))
			continue;
		if (!end || *end || errno) {
			fprintf(stderr, "f8-rtl-bench: bad value for %s: %s\n", a, v);
			return -1;
		}
	}
	return 0;
}

static bool net_selected(const struct net *n)
{
	return !opt.only || strstr(n->name, opt.only);
}

/* The first three fields of /proc/loadavg: how busy the machine was (sim speeds are wall clock). */
static void read_loadavg(char *buf, size_t len)
{
	FILE *f = fopen("/proc/loadavg", "r");
	double a, b, c;

	if (f && fscanf(f, "%lf %lf %lf", &a, &b, &c) == 3)
		snprintf(buf, len, "%.2f %.2f %.2f", a, b, c);
	if (f)
		fclose(f);
}

static char *open_path(const char *ext)
{
	size_t len = strlen(opt.out) + strlen(ext) + 1;
	char *p = malloc(len);

	if (p)
		snprintf(p, len, "%s%s", opt.out, ext);
	return p;
}

int main(int argc, char **argv)
{
	static struct row rows[4][MAX_LAYERS];
	static struct task tasks[MAX_SHAPES];
	unsigned int nrows[4] = { 0 }, ni, li, s, ntasks = 0, i;
	uint32_t R = f8npu_rtl_rows(), C = f8npu_rtl_cols(), RC = R * C;
	double v3[MAX_SHAPES], vdw[MAX_SHAPES], m3[MAX_SHAPES], mdw[MAX_SHAPES], worst_ratio = 1.0, total_s;
	unsigned int n3 = 0, ndw = 0, nout = 0, nratio = 0, nbad = 0, nskip = 0;
	unsigned int worst_row_net = 0, worst_row = 0;
	double min3 = 1e9, mindw = 1e9, all_secs = 0, all_cpu = 0;
	char loadavg[64] = "?";
	uint64_t all_clk = 0;
	char sh[64], *mdpath = NULL, *csvpath = NULL;
	bool run_chain_net;
	int rc = 0;

	i = (unsigned int)parse_args(argc, argv);
	if (i)
		return i == 1 ? 0 : 1;
	build_nets();
	t_start = now_s();
	read_loadavg(loadavg, sizeof(loadavg));

	/* Distinct shapes over every selected network; rows per network. */
	for (ni = 0; ni < nnets; ni++) {
		struct net *n = &nets[ni];

		if (!net_selected(n))
			continue;
		for (li = 0; li < n->n; li++) {
			struct net_layer *l = &n->l[li];
			unsigned int r;

			for (s = 0; s < nshapes && !shape_eq(&shapes[s], &l->s); s++)
				;
			if (s == nshapes) {
				if (nshapes == MAX_SHAPES) {
					fprintf(stderr, "f8-rtl-bench: more than %u shapes\n", MAX_SHAPES);
					return 1;
				}
				shapes[nshapes++] = l->s;
			}
			l->shape = s;
			for (r = 0; r < nrows[ni] && n->l[rows[ni][r].first].shape != s; r++)
				;
			if (r == nrows[ni])
				rows[ni][nrows[ni]++] = (struct row){ li, 0 };
			rows[ni][r].count++;
			/* --quick: the Fashion-MNIST nets in full, the big nets' cheap rows only. */
			if (!opt.quick || !n->big || shape_compute_cycles(&l->s, R, C) <= QUICK_MAX_CYCLES)
				shape_run[s] = true;
		}
	}
	for (s = 0; s < nshapes; s++)
		if (shape_run[s]) {
			tasks[ntasks].kind = 0;
			tasks[ntasks].shape = s;
			ntasks++;
		} else {
			shape_res[s].status = ST_SKIP;
		}
	/* Cheapest first: a broken RTL shows up early and cheaply (--max-hangs). */
	for (i = 1; i < ntasks; i++) {
		struct task t = tasks[i];
		unsigned int j = i;
		uint64_t c = shape_compute_cycles(&shapes[t.shape], R, C);

		while (j > 0 && shape_compute_cycles(&shapes[tasks[j - 1].shape], R, C) > c) {
			tasks[j] = tasks[j - 1];
			j--;
		}
		tasks[j] = t;
	}
	ntodo = ntasks;
	fprintf(stderr, "f8-rtl-bench: RTL %ux%u, B = %u, L = %u: %u distinct layer shapes to run, %u job(s) at a time\n",
		R, C, BENCH_B, BENCH_L, ntasks, opt.jobs);
	if (run_tasks(tasks, ntasks, layer_done))
		return 2;

	run_chain_net = !opt.only || strstr("resnet20-fmnist", opt.only);
	if (run_chain_net && opt.images) {
		struct task t;

		memset(&t, 0, sizeof(t));
		t.kind = 1;
		fprintf(stderr, "f8-rtl-bench: whole ResNet-20 (Fashion-MNIST) as one stream, %u image(s)\n", opt.images);
		if (run_tasks(&t, 1, chain_done))
			return 2;
	}
	total_s = now_s() - t_start;

	if (opt.out) {
		mdpath = open_path(".md");
		csvpath = open_path(".csv");
		md = mdpath ? fopen(mdpath, "w") : NULL;
		csv = csvpath ? fopen(csvpath, "w") : NULL;
		if (!md || !csv) {
			fprintf(stderr, "f8-rtl-bench: cannot write %s.md / %s.csv\n", opt.out, opt.out);
			return 1;
		}
	}

	out("# f8npu RTL bench\n\n");
	out("RTL: Verilated f8npu_core, %u x %u MAC array (libf8npu-rtl.a r%uc%u); memory model %u bytes/cycle, "
	    "latency %u cycles. Functional model: default configuration%s (%u x %u, %u bytes/cycle, latency %u).\n\n",
	    R, C, R, C, BENCH_B, BENCH_L, R == 16 && C == 16 ? "" : " with the RTL's array geometry", R, C, BENCH_B,
	    BENCH_L);
	out("Each row is one distinct conv shape, run once as a job of one CONV2D (u8 input: half zeros, the rest "
	    "1..63; He-scaled s8 weights; s32 bias; RELU; out_shift %d; u8 output; N = 1, dense NHWC) and END; "
	    "`count` layers of the network have that shape. RTL cycles = PERF_CYCLES of the whole job (header, "
	    "CONV2D and END fetches included, about 3 x L); ideal = MACs / (%u x %u); util = ideal / RTL cycles; "
	    "sim speed = cycles clocked per wall-clock second of the run. `check`: RTL output bytes and "
	    "architectural counters against the model.%s\n\n",
	    BENCH_SHIFT, R, C,
	    opt.quick ? " **--quick**: ResNet-18 and MobileNetV2 rows whose cost-model compute exceeds "
			"300000 cycles are SKIPped." : "");
	for (ni = 0; ni < nnets; ni++)
		if (net_selected(&nets[ni]))
			out("- `%s`: %s\n", nets[ni].name, nets[ni].what);
	out("\n| net | layer | shape (HxWxCin -> Cout, k, stride, dw) | count | MMACs | ideal cycles | RTL cycles | "
	    "util %% | model cycles | model/RTL | sim kcycles/s | check |\n");
	out("|---|---|---|--:|--:|--:|--:|--:|--:|--:|--:|---|\n");
	if (csv)
		fprintf(csv, "net,layer,h,w,cin,cout,k,stride,pad,depthwise,count,macs,ideal_cycles,rtl_cycles,"
			     "util_pct,model_cycles,model_rtl_ratio,sim_kcycles_per_s,sim_kcycles_per_cpu_s,check\n");

	for (ni = 0; ni < nnets; ni++) {
		const struct net *n = &nets[ni];
		uint64_t net_macs = 0, net_rtl = 0, net_model = 0, run_macs = 0, net_clk = 0;
		double net_secs = 0;
		unsigned int r, layers = 0, missing = 0;

		if (!net_selected(n))
			continue;
		for (r = 0; r < nrows[ni]; r++) {
			const struct net_layer *l = &n->l[rows[ni][r].first];
			const struct conv_shape *cs = &l->s;
			const struct layer_result *res = &shape_res[l->shape];
			uint64_t macs = shape_macs(cs), cnt = rows[ni][r].count;
			double ideal = (double)macs / RC, util = 0, ratio = 0, kcps = 0;
			bool cyc = has_cycles(l->shape);
			char ucell[16] = "-", rcell[24] = "-", mcell[24] = "-", ratcell[16] = "-", kcell[16] = "-";
			char cpucell[16] = "-";

			shape_str(cs, sh, sizeof(sh));
			layers += (unsigned int)cnt;
			net_macs += macs * cnt;
			if (cyc) {
				util = 100.0 * ideal / (double)res->rtl.cycles;
				ratio = (double)res->model.cycles / (double)res->rtl.cycles;
				kcps = (double)res->rtl_clocked / res->rtl_secs / 1e3;
				snprintf(ucell, sizeof(ucell), "%.1f", util);
				snprintf(rcell, sizeof(rcell), "%" PRIu64, res->rtl.cycles);
				snprintf(ratcell, sizeof(ratcell), "%.3f", ratio);
				snprintf(kcell, sizeof(kcell), "%.0f", kcps);
				snprintf(cpucell, sizeof(cpucell), "%.0f",
					 res->rtl_cpu > 0 ? (double)res->rtl_clocked / res->rtl_cpu / 1e3 : 0.0);
				net_rtl += res->rtl.cycles * cnt;
				net_clk += res->rtl_clocked;
				net_secs += res->rtl_secs;
				net_model += res->model.cycles * cnt;
				run_macs += macs * cnt;
			} else {
				missing += (unsigned int)cnt;
			}
			if (shape_run[l->shape] && res->model.cycles)
				snprintf(mcell, sizeof(mcell), "%" PRIu64, res->model.cycles);
			out("| %s | %s | %s | %" PRIu64 " | %.2f | %.0f | %s | %s | %s | %s | %s | %s |\n", n->name,
			    l->name, sh, cnt, (double)macs / 1e6, ideal, rcell, ucell, mcell, ratcell, kcell,
			    status_names[res->status]);
			if (csv)
				fprintf(csv, "%s,%s,%u,%u,%u,%u,%u,%u,%u,%d,%" PRIu64 ",%" PRIu64 ",%.1f,%s,%s,%s,%s,%s,%s,%s\n",
					n->name, l->name, cs->h, cs->w, cs->cin, cs->cout, cs->k, cs->stride, cs->pad,
					cs->dw ? 1 : 0, cnt, macs, ideal, cyc ? rcell : "", cyc ? ucell : "",
					strcmp(mcell, "-") ? mcell : "", cyc ? ratcell : "", cyc ? kcell : "",
					cyc ? cpucell : "", status_names[res->status]);
			/* Summary statistics, once per distinct row. */
			if (cyc) {
				if (ratio < 1.0 - TARGET_RATIO_TOL || ratio > 1.0 + TARGET_RATIO_TOL)
					nout++;
				nratio++;
				if (nratio == 1 || fabs(ratio - 1.0) > fabs(worst_ratio - 1.0)) {
					worst_ratio = ratio;
					worst_row_net = ni;
					worst_row = r;
				}
				if (!cs->dw && cs->k == 3 && cs->cin >= 64 && cs->cout >= 64) {
					m3[n3] = 100.0 * ideal / (double)res->model.cycles;
					v3[n3++] = util;
					if (util < min3)
						min3 = util;
				}
				if (cs->dw && cs->k == 3) {
					mdw[ndw] = 100.0 * ideal / (double)res->model.cycles;
					vdw[ndw++] = util;
					if (util < mindw)
						mindw = util;
				}
			}
			if (!shape_run[l->shape])
				nskip++;
			else if (res->status != ST_OK)
				nbad++;
		}
		/* Per-network totals: the sum over its layers (count x per-layer job). */
		out("| %s | **all convs**%s | | %u | %.1f | %.0f | %" PRIu64 " | %.1f | %" PRIu64 " | %.3f | %.0f | %s |\n",
		    n->name, missing ? " (the rows run)" : "", layers, (double)net_macs / 1e6, (double)net_macs / RC,
		    net_rtl, net_rtl ? 100.0 * (double)run_macs / RC / (double)net_rtl : 0.0, net_model,
		    net_rtl ? (double)net_model / (double)net_rtl : 0.0, net_secs > 0 ? (double)net_clk / net_secs / 1e3 : 0.0,
		    missing ? "PARTIAL" : "");
	}

	/* ---- summary ---- */
	out("\n## Summary\n\n");
	{
		double med3 = median(v3, n3), meddw = median(vdw, ndw);
		double mmed3 = median(m3, n3), mmeddw = median(mdw, ndw); /* sorted: [0] is the minimum */
		double mmin3 = n3 ? m3[0] : 0, mmindw = ndw ? mdw[0] : 0;
		bool ok3 = n3 && min3 >= TARGET_UTIL_3X3, okdw = ndw && mindw >= TARGET_UTIL_DW;
		bool okr = nratio && nout == 0;

		out("- 3x3 convs with >= 64 input and output channels (groups = 1), %u distinct shapes: RTL utilization "
		    "min %.1f %%, median %.1f %% (the model predicts min %.1f %%, median %.1f %%). Target >= %.0f %%: "
		    "**%s**\n",
		    n3, n3 ? min3 : 0.0, med3, mmin3, mmed3, TARGET_UTIL_3X3,
		    n3 ? (ok3 ? "PASS" : "MISS") : "NOT MEASURED");
		out("- depthwise 3x3, %u distinct shapes: RTL utilization min %.1f %%, median %.1f %% (the model predicts "
		    "min %.1f %%, median %.1f %%). Target >= %.0f %%: **%s**\n",
		    ndw, ndw ? mindw : 0.0, meddw, mmindw, mmeddw, TARGET_UTIL_DW,
		    ndw ? (okdw ? "PASS" : "MISS") : "NOT MEASURED");
		if (ndw && mmindw < TARGET_UTIL_DW)
			out("  - the cost model (isa.md section 7) already misses it: a depthwise 3x3 with u8 input and "
			    "output moves 2 bytes per output element (stride 1; 5 at stride 2) for 9 MACs, so at %u "
			    "bytes/cycle it is bandwidth-bound at <= 9 x %u / (2 x %u x %u) = %.1f %% utilization.\n",
			    BENCH_B, BENCH_B, R, C, 100.0 * 9.0 * BENCH_B / (2.0 * RC));
		if (nratio) {
			const struct net_layer *wl = &nets[worst_row_net].l[rows[worst_row_net][worst_row].first];

			shape_str(&wl->s, sh, sizeof(sh));
			out("- model/RTL cycles over %u distinct rows: worst %.3f (%s %s, %s); %u outside [%.2f, %.2f]. "
			    "Target within %.0f %%: **%s**\n",
			    nratio, worst_ratio, nets[worst_row_net].name, wl->name, sh, nout, 1.0 - TARGET_RATIO_TOL,
			    1.0 + TARGET_RATIO_TOL, 100 * TARGET_RATIO_TOL, okr ? "PASS" : "MISS");
		} else {
			out("- model/RTL cycles: no row ran. Target within 10 %%: **NOT MEASURED**\n");
		}
		out("- rows not OK: %u%s; rows skipped: %u\n", nbad, nbad ? " (**RTL BUG or HANG: see below**)" : "",
		    nskip);
	}
	if (nbad) {
		out("\n## Layer jobs that failed (each distinct shape once)\n\n");
		for (s = 0; s < nshapes; s++)
			if (shape_run[s] && shape_res[s].status != ST_OK) {
				shape_str(&shapes[s], sh, sizeof(sh));
				out("- %s: **%s**: %s\n", sh, status_names[shape_res[s].status], shape_res[s].detail);
			}
	}

	if (run_chain_net && opt.images) {
		const struct net_result *nr = &chain_res;
		double secs = 0, cpu = 0, cyc = 0, mcyc = 0, clk = 0;

		out("\n## Whole network: resnet20-fmnist as one command stream\n\n");
		out("%u descriptors: stem, 9 basic blocks (conv1; 1x1/2 downsample in blocks 4 and 7; conv2 with the "
		    "residual as AUX (s32 stream, align 0), RELU, DST1 = s32 stream + u8 activations), POOL_SUM 7x7, "
		    "FC as CONV2D 1x1 to s32 logits, END. %.2f MMACs per image.\n\n",
		    nr->descs, (double)nr->macs / 1e6);
		out("| image | RTL cycles | util %% | model cycles | model/RTL | RTL wall s | RTL CPU s | sim kcycles/s | "
		    "logits[0..3] |\n");
		out("|--:|--:|--:|--:|--:|--:|--:|--:|---|\n");
		for (i = 0; i < nr->images; i++) {
			out("| %u | %" PRIu64 " | %.1f | %" PRIu64 " | %.3f | %.3f | %.3f | %.0f | %d %d %d %d |\n", i,
			    nr->rtl_cycles[i], nr->rtl_cycles[i] ? 100.0 * (double)nr->macs / RC / (double)nr->rtl_cycles[i] : 0,
			    nr->model_cycles[i], nr->rtl_cycles[i] ? (double)nr->model_cycles[i] / (double)nr->rtl_cycles[i] : 0,
			    nr->rtl_secs[i], nr->rtl_cpu[i], nr->rtl_secs[i] > 0 ? (double)nr->clocked[i] / nr->rtl_secs[i] / 1e3 : 0,
			    nr->logits[i][0], nr->logits[i][1], nr->logits[i][2], nr->logits[i][3]);
			secs += nr->rtl_secs[i];
			cpu += nr->rtl_cpu[i];
			cyc += (double)nr->rtl_cycles[i];
			mcyc += (double)nr->model_cycles[i];
			clk += (double)nr->clocked[i];
		}
		if (nr->images) {
			secs /= nr->images;
			cpu /= nr->images;
			cyc /= nr->images;
			mcyc /= nr->images;
		}
		out("\n- check: **%s**%s%s\n", status_names[nr->status], nr->status ? ": " : " (logits, every activation "
		    "byte and the architectural counters equal the model's)", nr->status ? nr->detail : "");
		if (nr->status == ST_OK && nr->images == opt.images) {
			out("- per image: %.0f RTL cycles (model %.0f, ratio %.3f), utilization %.1f %%, %.3f s wall clock "
			    "(%.0f kcycles/s; %.3f s of CPU). Target well under 1 s/image (wall clock < %.1f s): **%s**\n",
			    cyc, mcyc, mcyc / cyc, 100.0 * (double)nr->macs / RC / cyc, secs, clk / nr->images / secs / 1e3,
			    cpu, TARGET_NET_SECS, secs < TARGET_NET_SECS ? "PASS" : "MISS");
		} else {
			out("- per image: not measured (the run failed). Target well under 1 s/image: **NOT MEASURED**\n");
			nbad++;
		}
	}
	for (s = 0; s < nshapes; s++)
		if (has_cycles(s)) {
			all_clk += shape_res[s].rtl_clocked;
			all_secs += shape_res[s].rtl_secs;
			all_cpu += shape_res[s].rtl_cpu;
		}
	out("\nBench wall time: %.1f s (%u job process(es) at a time); the layer jobs clocked the RTL %.1f M cycles "
	    "in %.1f s of run time (%.0f kcycles/s; %.1f s of CPU, %.0f kcycles/CPU-s). Load average at the start: "
	    "%s on %ld CPUs.\n", total_s, opt.jobs, (double)all_clk / 1e6, all_secs,
	    all_secs > 0 ? (double)all_clk / all_secs / 1e3 : 0.0, all_cpu,
	    all_cpu > 0 ? (double)all_clk / all_cpu / 1e3 : 0.0, loadavg, sysconf(_SC_NPROCESSORS_ONLN));
	fflush(stdout);
	if (md)
		fclose(md);
	if (csv)
		fclose(csv);
	if (opt.out)
		fprintf(stderr, "f8-rtl-bench: wrote %s and %s\n", mdpath, csvpath);
	free(mdpath);
	free(csvpath);
	if (nbad) {
		fprintf(stderr, "f8-rtl-bench: %u job(s) failed or differed from the model: RTL bug, see above\n", nbad);
		rc = 2;
	}
	return rc;
}
