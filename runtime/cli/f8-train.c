// SPDX-License-Identifier: MIT
/*
 * f8 train: train a float CNN of the zoo (or an architecture file) on Fashion-MNIST
 * with the libf8 training loop (docs/train.md). After every epoch it writes, in --out:
 * ckpt.f8c (everything needed to resume), log.csv (the whole history) and curves.svg,
 * each replaced atomically. Progress goes to stderr, one summary line per epoch to
 * stdout. --bench-batches times the training step instead (bench/train-bench.sh).
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "f8-cli.h"
#include "f8-fs.h"
#include "f8-model.h"
#include "f8-opt.h"
#include "f8-plot.h"
#include "f8-qexport.h"
#include "f8-train.h"

#define F8_PATH_MAX 4096

/* Options; the run-configuration ones are fixed by the checkpoint on --resume. */
enum {
	O_MODEL, O_DATA, O_OUT, O_RESUME, O_EPOCHS, O_BATCH, O_LR, O_FINAL_LR, O_WARMUP,
	O_MOMENTUM, O_WD, O_NO_NESTEROV, O_DECAY_BN, O_THREADS, O_SEED, O_TRAIN_LIMIT,
	O_TEST_LIMIT, O_NO_AUGMENT, O_CROP_PAD, O_HFLIP, O_NO_HFLIP, O_FORCE, O_BENCH,
	O_BENCH_WARMUP, O_RAW_INPUT, O_PACT, O_QUANT, O_FROM, O_INT_EVAL, O_COUNT
};

struct opt_def {
	const char *name;
	char kind;     /* 'i' integer, 'f' real, 's' string, 'b' no value */
	enum f8_lim lim; /* numbers: the range in the tool's table of limits (f8-opt.h) */
	bool run_cfg;  /* stored in the checkpoint: refused with --resume */
};

static const struct opt_def opt_defs[O_COUNT] = {
	[O_MODEL] = { "--model", 's', 0, false },
	[O_DATA] = { "--data", 's', 0, false },
	[O_OUT] = { "--out", 's', 0, false },
	[O_RESUME] = { "--resume", 's', 0, false },
	[O_EPOCHS] = { "--epochs", 'i', F8_LIM_EPOCHS, false },
	[O_BATCH] = { "--batch", 'i', F8_LIM_BATCH, true },
	[O_LR] = { "--lr", 'f', F8_LIM_LR, true },
	[O_FINAL_LR] = { "--final-lr", 'f', F8_LIM_FINAL_LR, true },
	[O_WARMUP] = { "--warmup", 'f', F8_LIM_WARMUP, true },
	[O_MOMENTUM] = { "--momentum", 'f', F8_LIM_MOMENTUM, true },
	[O_WD] = { "--wd", 'f', F8_LIM_WD, true },
	[O_NO_NESTEROV] = { "--no-nesterov", 'b', 0, true },
	[O_DECAY_BN] = { "--decay-bn", 'b', 0, true },
	[O_THREADS] = { "--threads", 'i', F8_LIM_THREADS, false },
	[O_SEED] = { "--seed", 'i', F8_LIM_SEED, true },
	[O_TRAIN_LIMIT] = { "--train-limit", 'i', F8_LIM_TRAIN_LIMIT, true },
	[O_TEST_LIMIT] = { "--test-limit", 'i', F8_LIM_TEST_LIMIT, true },
	[O_NO_AUGMENT] = { "--no-augment", 'b', 0, true },
	[O_CROP_PAD] = { "--crop-pad", 'i', F8_LIM_CROP_PAD, true },
	[O_HFLIP] = { "--hflip", 'b', 0, true },
	[O_NO_HFLIP] = { "--no-hflip", 'b', 0, true },
	[O_FORCE] = { "--force", 'b', 0, false },
	[O_BENCH] = { "--bench-batches", 'i', F8_LIM_BENCH_BATCHES, false },
	[O_BENCH_WARMUP] = { "--bench-warmup", 'i', F8_LIM_BENCH_WARMUP, false },
	[O_RAW_INPUT] = { "--raw-input", 'b', 0, true },
	[O_PACT] = { "--pact", 'b', 0, true },
	[O_QUANT] = { "--quant", 's', 0, true },
	[O_FROM] = { "--from", 's', 0, true },
	[O_INT_EVAL] = { "--int-eval", 's', 0, false },
};

union opt_val {
	uint64_t u; /* 'i': within its limits (at most 2^64 - 1 for --seed) */
	double d;
	const char *s;
};

struct opts {
	bool given[O_COUNT];
	union opt_val v[O_COUNT];
};

/* What the hooks need: output paths, progress display, bench timing. */
struct train_ui {
	const struct f8_train_cfg *cfg;
	const char *model;
	char ckpt[F8_PATH_MAX], csv[F8_PATH_MAX], svg[F8_PATH_MAX];
	bool tty;
	int last_tenth;      /* non-tty: tenths of the epoch already reported */
	double last_draw;    /* tty: time of the last redraw */
	double last_batch_t; /* time the last training batch ended (eval time estimate) */
	double eval_s;       /* the last epoch's evaluation + saving time */
	long bench_warm, bench_n;
	double bench_t0, bench_t1;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: f8 train --model NAME|FILE --out DIR [options]\n"
		"       f8 train --resume DIR/ckpt.f8c [--epochs N] [--threads T] [--data DIR] [--out DIR]\n"
		"       f8 train --model NAME|FILE --bench-batches N [--bench-warmup W] [options]\n"
		"Train on Fashion-MNIST; after every epoch DIR holds ckpt.f8c, log.csv, curves.svg.\n"
		"  --model NAME|FILE   built-in model (f8 model --list) or architecture file\n"
		"  --data DIR          Fashion-MNIST IDX files (default " F8_FMNIST_DIR ")\n"
		"  --out DIR           output directory (created; default with --resume: the checkpoint's)\n"
		"  --epochs N          total epochs of the run (default 30; with --resume: extend)\n"
		"  --batch B           mini-batch size (default 128)\n"
		"  --lr X              peak learning rate (default 0.1)\n"
		"  --final-lr X        cosine decay target (default 0)\n"
		"  --warmup E          linear warm-up in epochs, may be fractional (default 1)\n"
		"  --momentum M        SGD momentum (default 0.9)\n"
		"  --wd W              L2 weight decay (default 5e-4)\n"
		"  --no-nesterov       classical momentum instead of Nesterov\n"
		"  --decay-bn          weight decay on BN gamma/beta too\n"
		"  --threads T         worker threads, caller included (default 2)\n"
		"  --seed S            initialisation, shuffle and augmentation seed (default 1)\n"
		"  --train-limit N     use the first N training images only\n"
		"  --test-limit N      use the first N test images only\n"
		"  --crop-pad P        random crop after zero padding by P pixels (default 2)\n"
		"  --hflip, --no-hflip random horizontal flips (default on)\n"
		"  --no-augment        neither crops nor flips\n"
		"  --raw-input         feed pixels as p / 256 (F8Net's FL-8 input) instead of normalised:\n"
		"                      the architecture gets input=raw (docs/arch-format.md)\n"
		"  --pact              F8Net's FP baseline: PACT clip levels (alpha) learnt, activations\n"
		"                      clipped at FL 6 and folded weights at FL 7 without rounding\n"
		"                      (implies --raw-input; the architecture gets clip=pact quant=floating)\n"
		"  --quant f8net       F8Net's conventional quantization-aware training (docs/f8net.md):\n"
		"                      needs --from; the architecture gets clip=pact quant=f8net\n"
		"  --from CKPT         start from the parameters of a trained checkpoint of the same\n"
		"                      architecture (raw input; alphas 8 and FLs 6 unless it has them)\n"
		"  --int-eval B        the closing integer evaluation of an F8Net run on graph (sim/'s\n"
		"                      reference kernels, default) or cpu (the same logits, faster)\n"
		"  --resume CKPT       continue the run stored in CKPT\n"
		"  --force             overwrite an existing DIR/ckpt.f8c\n"
		"  --bench-batches N   time N training batches after --bench-warmup W (default 10);\n"
		"                      no evaluation, no outputs; prints images/s\n");
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* A number must be the whole argument, by the one grammar and table of f8-opt.h. */
static int parse_value(const struct opt_def *d, const char *s, union opt_val *v)
{
	switch (d->kind) {
	case 's':
		v->s = s;
		return 0;
	case 'i':
		return f8_opt_uint("f8 train", d->lim, s, &v->u);
	default:
		return f8_opt_real("f8 train", d->lim, s, &v->d);
	}
}

static int unexpected(const char *a)
{
	f8_errf("f8 train: unexpected argument '%s' (f8 train --help)\n", a);
	return -1;
}

/* Option k of the table: given once, a string not empty, a number within its limits. */
static int take_opt(struct opts *o, int k, const char *val)
{
	if (o->given[k]) {
		f8_errf("f8 train: %s given twice\n", opt_defs[k].name);
		return -1;
	}
	o->given[k] = true;
	if (opt_defs[k].kind == 'b')
		return 0;
	if (opt_defs[k].kind == 's' && !val[0]) {
		f8_errf("f8 train: %s: empty value\n", opt_defs[k].name);
		return -1;
	}
	return parse_value(&opt_defs[k], val, &o->v[k]);
}

/*
 * getopt_long over the table (long options only, vals 256 + index, f8_opt_error), in the
 * order given ("-": an argument that is no option comes back as 1), whatever
 * POSIXLY_CORRECT: 0, 1 after --help, -1 after a message.
 */
static int parse_args(int argc, char **argv, struct opts *o)
{
	struct option lopts[O_COUNT + 2];
	int c, k;

	memset(o, 0, sizeof(*o));
	memset(lopts, 0, sizeof(lopts));
	for (k = 0; k < O_COUNT; k++) {
		lopts[k].name = opt_defs[k].name + 2; /* "--model": "model" */
		lopts[k].has_arg = opt_defs[k].kind == 'b' ? no_argument : required_argument;
		lopts[k].val = 256 + k;
	}
	lopts[O_COUNT].name = "help";
	lopts[O_COUNT].val = 'h';
	optind = 0; /* a full restart: "-" is a GNU extension (getopt(3)) */
	opterr = 0;
	while ((c = getopt_long(argc, argv, "-:h", lopts, NULL)) != -1) {
		if (c == 'h') {
			usage(stdout);
			return 1;
		}
		if (c == 1)
			return unexpected(optarg);
		if (c < 256 || c >= 256 + O_COUNT) {
			f8_opt_error("f8 train", c, argv, lopts);
			return -1;
		}
		if (take_opt(o, c - 256, optarg))
			return -1;
	}
	if (optind < argc) /* after "--" */
		return unexpected(argv[optind]);
	if (o->given[O_HFLIP] && (o->given[O_NO_HFLIP] || o->given[O_NO_AUGMENT])) {
		f8_errf("f8 train: --hflip contradicts %s\n",
			o->given[O_NO_HFLIP] ? "--no-hflip" : "--no-augment");
		return -1;
	}
	if (o->given[O_CROP_PAD] && o->given[O_NO_AUGMENT] && o->v[O_CROP_PAD].u) {
		f8_errf("f8 train: --crop-pad %llu contradicts --no-augment\n",
			(unsigned long long)o->v[O_CROP_PAD].u);
		return -1;
	}
	if (o->given[O_INT_EVAL] && strcmp(o->v[O_INT_EVAL].s, "graph") &&
	    strcmp(o->v[O_INT_EVAL].s, "cpu")) {
		f8_errf("f8 train: --int-eval '%s': expected graph or cpu\n", o->v[O_INT_EVAL].s);
		return -1;
	}
	if (o->given[O_QUANT] && strcmp(o->v[O_QUANT].s, "f8net")) {
		f8_errf("f8 train: --quant '%s': expected f8net\n", o->v[O_QUANT].s);
		return -1;
	}
	if (o->given[O_QUANT] && !o->given[O_FROM]) {
		f8_errf("f8 train: --quant f8net trains from a float checkpoint: give --from CKPT\n");
		return -1;
	}
	if (o->given[O_FROM] && (o->given[O_MODEL] || o->given[O_PACT] || o->given[O_RAW_INPUT])) {
		f8_errf("f8 train: --from takes the architecture from the checkpoint: drop %s\n",
			o->given[O_MODEL] ? "--model" : o->given[O_PACT] ? "--pact" : "--raw-input");
		return -1;
	}
	if (o->given[O_BENCH_WARMUP] && !o->given[O_BENCH]) {
		f8_errf("f8 train: --bench-warmup needs --bench-batches\n");
		return -1;
	}
	/* Timed and warm-up batches take at most one epoch each: within the epoch limit. */
	if (o->given[O_BENCH] &&
	    o->v[O_BENCH].u + (o->given[O_BENCH_WARMUP] ? o->v[O_BENCH_WARMUP].u : 10) >
		    F8_TRAIN_EPOCHS_MAX) {
		f8_errf(
			"f8 train: --bench-batches %llu with --bench-warmup %llu: more than %d batches "
			"in all\n",
			(unsigned long long)o->v[O_BENCH].u,
			(unsigned long long)(o->given[O_BENCH_WARMUP] ? o->v[O_BENCH_WARMUP].u : 10),
			F8_TRAIN_EPOCHS_MAX);
		return -1;
	}
	return 0;
}

/* The configuration of a new run: defaults, then the options. */
static void cfg_from_opts(const struct opts *o, struct f8_train_cfg *c)
{
	memset(c, 0, sizeof(*c));
	c->epochs = o->given[O_EPOCHS] ? (int)o->v[O_EPOCHS].u : 30;
	c->batch = o->given[O_BATCH] ? (int)o->v[O_BATCH].u : 128;
	c->threads = o->given[O_THREADS] ? (int)o->v[O_THREADS].u : 2;
	c->lr = o->given[O_LR] ? (float)o->v[O_LR].d : 0.1f;
	c->final_lr = o->given[O_FINAL_LR] ? (float)o->v[O_FINAL_LR].d : 0.0f;
	c->warmup_epochs = o->given[O_WARMUP] ? (float)o->v[O_WARMUP].d : 1.0f;
	if (c->warmup_epochs > (float)c->epochs && !o->given[O_WARMUP])
		c->warmup_epochs = (float)c->epochs;
	c->sgd.momentum = o->given[O_MOMENTUM] ? (float)o->v[O_MOMENTUM].d : 0.9f;
	c->sgd.weight_decay = o->given[O_WD] ? (float)o->v[O_WD].d : 5e-4f;
	c->sgd.nesterov = !o->given[O_NO_NESTEROV];
	c->sgd.decay_bn = o->given[O_DECAY_BN];
	c->sgd.decay_bias = false;
	c->sgd.decay_dw = false;
	c->aug.crop_pad = o->given[O_CROP_PAD] ? (int)o->v[O_CROP_PAD].u : 2;
	c->aug.hflip = !o->given[O_NO_HFLIP];
	if (o->given[O_NO_AUGMENT]) {
		c->aug.crop_pad = 0;
		c->aug.hflip = false;
	}
	c->seed = o->given[O_SEED] ? o->v[O_SEED].u : 1;
	c->train_limit = o->given[O_TRAIN_LIMIT] ? (int)o->v[O_TRAIN_LIMIT].u : 0;
	c->test_limit = o->given[O_TEST_LIMIT] ? (int)o->v[O_TEST_LIMIT].u : 0;
}

/* mkdir -p: every missing component of @dir. */
static int make_dirs(const char *dir)
{
	char buf[F8_PATH_MAX];
	struct stat st;
	size_t i, n = strlen(dir);

	if (n >= sizeof(buf)) {
		f8_errf("f8 train: --out: path too long\n");
		return -1;
	}
	memcpy(buf, dir, n + 1);
	for (i = 1; i <= n; i++) {
		if (buf[i] != '/' && buf[i] != 0)
			continue;
		buf[i] = 0;
		if (mkdir(buf, 0777) < 0 && errno != EEXIST) {
			f8_errf("f8 train: cannot create %s: %s\n", buf, strerror(errno));
			return -1;
		}
		buf[i] = i < n ? '/' : 0;
	}
	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		f8_errf("f8 train: --out %s: not a directory\n", dir);
		return -1;
	}
	return 0;
}

static int join(char *buf, const char *dir, const char *name)
{
	int n = snprintf(buf, F8_PATH_MAX, "%s/%s", dir, name);

	if (n < 0 || n >= F8_PATH_MAX) {
		f8_errf("f8 train: %s: path too long\n", dir);
		return -1;
	}
	return 0;
}

static void fmt_time(char *buf, size_t size, double s)
{
	long t = s > 0 && s < 1e8 ? lround(s) : 0;

	if (t >= 3600)
		snprintf(buf, size, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
	else
		snprintf(buf, size, "%ld:%02ld", t / 60, t % 60);
}

static void on_progress(void *ctx, const struct f8_train_progress *p)
{
	struct train_ui *ui = ctx;
	const double t = now_s(), per_batch = p->seconds / p->batch;
	const double epoch_left = (p->batches - p->batch) * per_batch;
	const double run_left = epoch_left + ui->eval_s +
				(p->epochs - p->epoch) * (p->batches * per_batch + ui->eval_s);
	const int tenth = (int)((long)p->batch * 10 / p->batches);
	char eta[32], run_eta[32], bar[21];
	int i, fill = (int)((long)p->batch * 20 / p->batches);

	ui->last_batch_t = t;
	if (ui->bench_n) {
		/* Bench: time from the end of the warm-up batches to the end of the last one. */
		if (ui->bench_warm == 0 && p->step == 1)
			ui->bench_t0 = t - p->seconds;
		if (p->step == ui->bench_warm)
			ui->bench_t0 = t;
		if (p->step == ui->bench_warm + ui->bench_n)
			ui->bench_t1 = t;
		return;
	}
	if (ui->tty) {
		if (t - ui->last_draw < 0.1 && p->batch < p->batches)
			return;
	} else {
		if (tenth <= ui->last_tenth)
			return;
		ui->last_tenth = tenth;
	}
	ui->last_draw = t;
	fmt_time(eta, sizeof(eta), epoch_left);
	fmt_time(run_eta, sizeof(run_eta), run_left);
	for (i = 0; i < 20; i++)
		bar[i] = i < fill ? '#' : '.';
	bar[20] = 0;
	fprintf(stderr,
		"%sepoch %d/%d [%s] batch %d/%d  loss %.4f  acc %.2f%%  lr %.4g  %.0f img/s  eta %s "
		"(run %s)%s",
		ui->tty ? "\r" : "", p->epoch, p->epochs, bar, p->batch, p->batches, p->loss,
		100 * p->acc, p->lr, p->images_per_s, eta, run_eta, ui->tty ? "\033[K" : "\n");
	fflush(stderr);
}

/* Render into memory, then replace @path atomically: readers never see half a file. */
static int write_report(const char *path, const struct f8_train_state *st, bool svg,
			const char *title)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int rc;

	if (!f)
		return -1;
	rc = svg ? f8_plot_curves_svg(f, st->history, st->epochs_done, title)
		 : f8_train_write_csv(f, st->history, st->epochs_done);
	if (fclose(f) != 0)
		rc = -1;
	if (!rc)
		rc = f8_file_write_atomic(path, buf, len);
	free(buf);
	return rc;
}

static int on_epoch_end(void *ctx, const struct f8_net *net, const struct f8_sgd *opt,
			const struct f8_train_state *st, struct f8_err *err)
{
	struct train_ui *ui = ctx;
	const struct f8_epoch_stats *e = &st->history[st->epochs_done - 1];
	char title[512];
	int rc;

	rc = f8_ckpt_save(ui->ckpt, net, opt, ui->cfg, st, err);
	if (rc)
		return rc;
	snprintf(title, sizeof(title), "%s on Fashion-MNIST: batch %d, lr %g, %d epochs", ui->model,
		 ui->cfg->batch, ui->cfg->lr, ui->cfg->epochs);
	if (write_report(ui->csv, st, false, NULL) || write_report(ui->svg, st, true, title))
		return f8_fail(err, F8_ERR_IO, "cannot write %s or %s", ui->csv, ui->svg);
	if (ui->tty)
		fputs("\r\033[K", stderr);
	printf("epoch %3d/%d  lr %.5f  train loss %.4f acc %6.2f%%  test loss %.4f acc %6.2f%%  "
	       "%.1f s  %.0f img/s\n",
	       e->epoch, ui->cfg->epochs, e->lr, e->train_loss, 100 * e->train_acc, e->test_loss,
	       100 * e->test_acc, e->seconds, e->images_per_s);
	/* Output errors are not ignored: the checkpoint is safe, the run stops here. */
	if (fflush(stdout) != 0 || ferror(stdout))
		return f8_fail(err, F8_ERR_IO, "standard output: %s", strerror(errno ? errno : EIO));
	ui->eval_s = ui->last_batch_t ? now_s() - ui->last_batch_t : 0;
	ui->last_tenth = 0;
	return 0;
}

static int load_data(const char *dir, const struct f8_train_cfg *c, struct f8_dataset *train,
		     struct f8_dataset *test)
{
	struct f8_err err = { "" };
	struct stat st;

	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		f8_errf("f8 train: --data %s: %s (Fashion-MNIST: apt install dataset-fashion-mnist)\n",
			dir, errno ? strerror(errno) : "not a directory");
		return -1;
	}
	if (f8_fmnist_load(train, dir, true, &err)) {
		f8_errf("f8 train: %s\n", err.msg);
		return -1;
	}
	f8_dataset_truncate(train, c->train_limit);
	if (!test)
		return 0;
	if (f8_fmnist_load(test, dir, false, &err)) {
		f8_errf("f8 train: %s\n", err.msg);
		f8_dataset_free(train);
		return -1;
	}
	f8_dataset_truncate(test, c->test_limit);
	return 0;
}

/* --resume: the run's configuration comes from the checkpoint; only a few options apply. */
static int resume_setup(const struct opts *o, struct f8_net **net, struct f8_sgd *opt,
			struct f8_train_cfg *cfg, struct f8_train_state *st)
{
	const char *path = o->v[O_RESUME].s;
	struct f8_err err = { "" };
	int k;

	for (k = 0; k < O_COUNT; k++)
		if (o->given[k] && (opt_defs[k].run_cfg || k == O_BENCH || k == O_FORCE)) {
			f8_errf(
				"f8 train: %s cannot be combined with --resume: the run's configuration "
				"comes from the checkpoint (only --epochs, --threads, --data, --out and "
				"--model to confirm it)\n",
				opt_defs[k].name);
			return -1;
		}
	if (f8_ckpt_load(path, net, opt, cfg, st, &err)) {
		f8_errf("f8 train: cannot resume from %s: %s\n", path, err.msg);
		return -1;
	}
	if (o->given[O_MODEL]) {
		char *arch = f8_model_arch("f8 train", o->v[O_MODEL].s);
		bool same = arch && !strcmp(arch, (*net)->arch);

		free(arch);
		if (!same) {
			f8_errf(
				"f8 train: --model %s conflicts with the checkpoint, which holds a run of "
				"'%s' (another architecture)\n",
				o->v[O_MODEL].s, cfg->model);
			return -1;
		}
	}
	if (o->given[O_EPOCHS]) {
		if (o->v[O_EPOCHS].u < (uint64_t)st->epochs_done) {
			f8_errf("f8 train: --epochs %llu: the run has already done %d epochs\n",
				(unsigned long long)o->v[O_EPOCHS].u, st->epochs_done);
			return -1;
		}
		cfg->epochs = (int)o->v[O_EPOCHS].u;
	}
	if (o->given[O_THREADS])
		cfg->threads = (int)o->v[O_THREADS].u;
	return 0;
}

/*
 * The run directory's files must be regular (or absent): a link, a FIFO or a device named
 * ckpt.f8c, log.csv or curves.svg is refused before anything runs. A new run does not
 * replace a checkpoint without --force; a resumed run writes only over the checkpoint
 * it resumes, never over another run's (--resume A/ckpt.f8c --out B).
 */
static int check_outputs(const struct train_ui *ui, const char *resume_from, bool force)
{
	const char *const files[3] = { ui->ckpt, ui->csv, ui->svg };
	struct f8_err err = { "" };
	struct stat a, b;
	int i, kind;

	for (i = 0; i < 3; i++) {
		kind = f8_fs_target(files[i], &err);
		if (kind == F8_FS_SPECIAL)
			f8_fail(&err, F8_ERR_IO, "%s: not a regular file", files[i]);
		if (kind < 0 || kind == F8_FS_SPECIAL) {
			f8_errf("f8 train: %s; the run directory's files must be regular files\n",
				err.msg);
			return -1;
		}
	}
	if (stat(ui->ckpt, &b) != 0)
		return 0;
	if (!resume_from && !force) {
		f8_errf("f8 train: %s exists: continue it with --resume %s, or pass --force to start "
			"over\n",
			ui->ckpt, ui->ckpt);
		return -1;
	}
	if (resume_from && (stat(resume_from, &a) != 0 || a.st_dev != b.st_dev || a.st_ino != b.st_ino)) {
		f8_errf("f8 train: %s holds another checkpoint than %s: resume that run, or give an "
			"--out without a checkpoint\n",
			ui->ckpt, resume_from);
		return -1;
	}
	return 0;
}

/* Default --out of a resumed run: the checkpoint's directory. */
static void dir_of(char *buf, const char *path)
{
	const char *slash = strrchr(path, '/');
	size_t n = slash ? (size_t)(slash - path) : 0;

	if (!slash) {
		strcpy(buf, ".");
		return;
	}
	if (n == 0)
		n = 1; /* "/ckpt.f8c" */
	if (n >= F8_PATH_MAX)
		n = F8_PATH_MAX - 1;
	memcpy(buf, path, n);
	buf[n] = 0;
}

/* @model with "input=raw" on its version line (--raw-input); NULL with a message. */
static struct f8_net *load_raw_input(const char *model)
{
	struct f8_err err = { "" };
	char *text = f8_model_arch("f8 train", model), *raw;
	struct f8_net *net = NULL;

	if (!text)
		return NULL;
	raw = f8_arch_with_raw_input(text, &err);
	if (raw)
		net = f8_net_parse(raw, &err);
	if (!net)
		f8_errf("f8 train: --raw-input: %s: %s\n", model, err.msg);
	free(text);
	free(raw);
	return net;
}

/* @text with each key of @kv ({ key, value, ..., NULL }) set on its version line, parsed;
 * NULL + @err. */
static struct f8_net *parse_keyed(const char *text, const char *const *kv, struct f8_err *err)
{
	struct f8_net *net = NULL;
	char *cur = NULL, *next;

	for (; *kv; kv += 2) {
		next = f8_arch_set_key(cur ? cur : text, kv[0], kv[1], err);
		free(cur);
		cur = next;
		if (!cur)
			return NULL;
	}
	net = f8_net_parse(cur ? cur : text, err);
	free(cur);
	return net;
}

/* A new run's network from a trained checkpoint (--from), switched to F8Net's
 * quantization-aware training by --quant; the model name comes from the checkpoint. */
static struct f8_net *load_from(const char *path, bool quant, struct f8_train_cfg *cfg)
{
	struct f8_err err = { "" };
	struct f8_train_cfg src_cfg;
	struct f8_train_state src_st = { 0 };
	struct f8_sgd src_opt = { 0 };
	struct f8_net *src = NULL, *net = NULL;
	static const char *const keys[] = { "clip", "pact", "quant", "f8net", NULL };

	if (f8_ckpt_load(path, &src, &src_opt, &src_cfg, &src_st, &err)) {
		f8_errf("f8 train: --from %s: %s\n", path, err.msg);
		return NULL;
	}
	f8_train_state_free(&src_st);
	f8_sgd_free(&src_opt); /* a new run: a new optimiser */
	memcpy(cfg->model, src_cfg.model, sizeof(cfg->model));
	if (quant && !src->input_raw) {
		f8_errf("f8 train: --from %s: F8Net's conventional training feeds raw pixels (FL 8) to "
			"the first layer; the checkpoint was trained on normalised input (train it with "
			"--raw-input or --pact)\n",
			path);
		goto out;
	}
	if (!quant) {
		net = src;
		src = NULL;
		goto out;
	}
	net = parse_keyed(src->arch, keys, &err);
	if (net) {
		f8_net_init(net, cfg->seed); /* alphas and FLs F8Net's defaults unless copied */
		if (f8_net_copy_from(net, src, &err)) {
			f8_net_free(net);
			net = NULL;
		}
	}
	if (!net)
		f8_errf("f8 train: --from %s: %s\n", path, err.msg);
out:
	f8_net_free(src);
	return net;
}

/* @model for F8Net's FP baseline (--pact): input=raw clip=pact quant=floating. */
static struct f8_net *load_pact(const char *model)
{
	static const char *const keys[] = { "input", "raw", "clip", "pact", "quant", "floating", NULL };
	struct f8_err err = { "" };
	char *text = f8_model_arch("f8 train", model);
	struct f8_net *net = NULL;

	if (!text)
		return NULL;
	net = parse_keyed(text, keys, &err);
	if (!net)
		f8_errf("f8 train: --pact: %s: %s\n", model, err.msg);
	free(text);
	return net;
}

/*
 * The end of an F8Net run: the trainer's own integer evaluation. The network's quantization
 * state becomes an integer model in memory (the same f8_qm_export as f8 export), written to
 * DIR/model.f8m, and the test set runs through it on the reference kernels (or the CPU
 * path, whose logits are the same: --int-eval cpu); the int32 logits go to
 * DIR/int-logits.bin (f8 eval --logits format).
 */
static int integer_eval(struct f8_net *net, const char *out, const char *model,
			const struct f8_dataset *test, bool cpu)
{
	struct f8_export_cfg ec = {
		.act_fl = F8_FL_STD, .weight_fl = F8_FL_STD, .calib_images = 1, .batch = 1,
	};
	struct f8_qm_owned qm;
	struct f8_qm_error qe;
	struct f8_err err = { "" };
	char path[F8_PATH_MAX], lpath[F8_PATH_MAX];
	uint8_t *img = NULL;
	int32_t *logits = NULL;
	size_t len = 0;
	int rc = -1, correct;

	if (join(path, out, "model.f8m") || join(lpath, out, "int-logits.bin"))
		return -1;
	f8_export_for(&ec, net, model);
	if (f8_qm_export(net, test, &ec, &qm, &err)) {
		f8_errf("f8 train: integer model: %s\n", err.msg);
		return -1;
	}
	if (f8_qm_encode(&qm.m, &img, &len, &qe)) {
		f8_errf("f8 train: integer model: %s\n", qe.what);
		goto out;
	}
	logits = malloc(sizeof(int32_t) * qm.m.classes * (size_t)test->n);
	if (!logits) {
		f8_errf("f8 train: out of memory for the integer evaluation\n");
		goto out;
	}
	if (f8_file_write_atomic(path, img, len) ||
	    f8_int_eval("f8 train", &qm.m, test, logits, cpu ? F8_INT_CPU : F8_INT_REF) ||
	    f8_logits_write(lpath, logits, (size_t)test->n * qm.m.classes))
		goto out;
	correct = f8_int_top1(&qm.m, test, logits);
	f8_outf("f8 train: integer top-1 %.2f %% (%d / %d) of %s (%s); logits in %s\n",
		100.0 * correct / test->n, correct, test->n, path,
		cpu ? "the CPU path" : "the reference kernels", lpath);
	rc = 0;
out:
	free(img);
	free(logits);
	f8_qm_owned_free(&qm);
	return rc;
}

int f8_cmd_train(int argc, char **argv)
{
	struct f8_train_cfg cfg;
	struct f8_train_state st = { 0 };
	struct f8_sgd opt = { 0 };
	struct f8_dataset train = { 0 }, test = { 0 };
	struct f8_train_hooks hooks = { 0 };
	struct f8_net *net = NULL;
	struct f8_err err = { "" };
	struct train_ui ui;
	struct opts o;
	const char *data, *model;
	char out[F8_PATH_MAX];
	bool bench, resume;
	long spe;
	int rc = F8_EXIT_USAGE, start_epochs, lock_fd = -1;
	double t0;

	memset(&ui, 0, sizeof(ui));
	rc = parse_args(argc, argv, &o);
	if (rc)
		return rc > 0 ? F8_EXIT_OK : F8_EXIT_USAGE;
	rc = F8_EXIT_USAGE;
	bench = o.given[O_BENCH];
	resume = o.given[O_RESUME];
	data = o.given[O_DATA] ? o.v[O_DATA].s : F8_FMNIST_DIR;

	if (resume) {
		if (resume_setup(&o, &net, &opt, &cfg, &st))
			goto out;
		if (o.given[O_OUT])
			snprintf(out, sizeof(out), "%s", o.v[O_OUT].s);
		else
			dir_of(out, o.v[O_RESUME].s);
	} else {
		if (!o.given[O_MODEL] && !o.given[O_FROM]) {
			f8_errf("f8 train: --model NAME|FILE is required (f8 model --list)\n");
			goto out;
		}
		if (!o.given[O_OUT] && !bench) {
			f8_errf("f8 train: --out DIR is required\n");
			goto out;
		}
		cfg_from_opts(&o, &cfg);
		if (o.given[O_MODEL] && strlen(o.v[O_MODEL].s) >= sizeof(cfg.model)) {
			f8_errf("f8 train: --model: name longer than %zu bytes\n",
				sizeof(cfg.model) - 1);
			goto out;
		}
		if (o.given[O_FROM]) {
			net = load_from(o.v[O_FROM].s, o.given[O_QUANT], &cfg);
			if (!net)
				goto out;
		} else {
			strcpy(cfg.model, o.v[O_MODEL].s);
		}
		snprintf(out, sizeof(out), "%s", o.given[O_OUT] ? o.v[O_OUT].s : ".");
	}
	if (f8_train_cfg_check(&cfg, &err)) {
		f8_errf("f8 train: %s\n", err.msg);
		goto out;
	}
	model = cfg.model;
	if (!resume) {
		if (!net) {
			net = o.given[O_PACT]	   ? load_pact(model) :
			      o.given[O_RAW_INPUT] ? load_raw_input(model) :
						     f8_model_load("f8 train", model);
			if (!net)
				goto out;
			f8_net_init(net, cfg.seed);
		}
		if (f8_sgd_init(&opt, &cfg.sgd, net)) {
			f8_errf("f8 train: out of memory\n");
			goto out;
		}
	}
	if (!bench) {
		if (make_dirs(out) || join(ui.ckpt, out, "ckpt.f8c") || join(ui.csv, out, "log.csv") ||
		    join(ui.svg, out, "curves.svg"))
			goto out;
		/* One run per directory at a time: two runs started together cannot interleave. */
		if (f8_fs_lock_dir(out, &lock_fd, &err)) {
			f8_errf("f8 train: %s (another f8 train writes into it)\n", err.msg);
			goto out;
		}
		if (check_outputs(&ui, resume ? o.v[O_RESUME].s : NULL, o.given[O_FORCE]))
			goto out;
	}
	if (load_data(data, &cfg, &train, bench ? NULL : &test))
		goto out;

	ui.cfg = &cfg;
	ui.model = model;
	ui.tty = isatty(2);
	hooks.ctx = &ui;
	hooks.progress = on_progress;
	if (bench) {
		ui.bench_warm = o.given[O_BENCH_WARMUP] ? (long)o.v[O_BENCH_WARMUP].u : 10;
		ui.bench_n = (long)o.v[O_BENCH].u;
		hooks.stop_after = ui.bench_warm + ui.bench_n;
		/* Just enough epochs for the batches asked (at most the batches: within the limit
		 * the options were checked against); no evaluation, no outputs. */
		spe = f8_train_steps_per_epoch(&cfg, train.n);
		cfg.epochs = (int)((hooks.stop_after + spe - 1) / spe);
		if (cfg.warmup_epochs > (float)cfg.epochs)
			cfg.warmup_epochs = (float)cfg.epochs;
	} else {
		hooks.epoch_end = on_epoch_end;
	}

	f8_outf("f8 train: %s: %d layers, %zu parameters, %.2f MMACs/image; %d training / %d test "
	       "images; batch %d (%ld steps/epoch); lr %g -> %g cosine, warm-up %g epochs; SGD%s "
	       "momentum %g, wd %g%s; crop-pad %d%s; %d threads; seed %llu\n",
	       model, net->nlayers, net->param_count, (double)f8_net_macs(net) / 1e6, train.n,
	       bench ? 0 : test.n, cfg.batch, f8_train_steps_per_epoch(&cfg, train.n), cfg.lr,
	       cfg.final_lr, cfg.warmup_epochs, cfg.sgd.nesterov ? " Nesterov" : "",
	       cfg.sgd.momentum, cfg.sgd.weight_decay, cfg.sgd.decay_bn ? " (BN too)" : "",
	       cfg.aug.crop_pad, cfg.aug.hflip ? ", hflip" : "", cfg.threads,
	       (unsigned long long)cfg.seed);
	if (resume) {
		f8_outf("f8 train: resuming %s at epoch %d of %d (step %ld)\n", o.v[O_RESUME].s,
		       st.epochs_done + 1, cfg.epochs, st.step);
		if (st.epochs_done >= cfg.epochs) {
			f8_outf("f8 train: the run is complete; --epochs N extends it\n");
			rc = F8_EXIT_OK;
			goto out;
		}
	}
	/* A broken standard output is found before hours of training, not after. */
	if (fflush(stdout) != 0 || ferror(stdout)) {
		f8_errf("f8 train: standard output: %s\n", strerror(errno ? errno : EIO));
		goto out;
	}

	start_epochs = st.epochs_done;
	t0 = now_s();
	if (f8_train_run(&cfg, net, &opt, &st, &train, bench ? NULL : &test, &hooks, &err)) {
		if (ui.tty)
			fputs("\n", stderr);
		f8_errf("f8 train: %s\n", err.msg[0] ? err.msg : "training failed");
		goto out;
	}
	if (bench) {
		double secs = ui.bench_t1 - ui.bench_t0;
		double ips = secs > 0 ? (double)ui.bench_n * cfg.batch / secs : 0;

		/* Counted as full batches: the default 60000 images hold 468 of 128 first. */
		f8_outf("bench: %s batch %d threads %d: %ld batches after %ld warm-up in %.3f s: "
		       "%.1f ms/batch, images_per_s=%.1f\n",
		       model, cfg.batch, cfg.threads, ui.bench_n, ui.bench_warm, secs,
		       1e3 * secs / (double)ui.bench_n, ips);
	} else {
		const struct f8_epoch_stats *best = NULL;
		char took[32];
		int i;

		for (i = 0; i < st.epochs_done; i++)
			if (!best || st.history[i].test_acc > best->test_acc)
				best = &st.history[i];
		fmt_time(took, sizeof(took), now_s() - t0);
		f8_outf("f8 train: %d epochs in %s; final test acc %.2f%%, best %.2f%% (epoch %d); "
		       "%s, %s, %s\n",
		       st.epochs_done - start_epochs, took,
		       100 * st.history[st.epochs_done - 1].test_acc, best ? 100 * best->test_acc : 0,
		       best ? best->epoch : 0, ui.ckpt, ui.csv, ui.svg);
		if (net->arch_quant == F8_QUANT_FIXED && f8_net_quant_trained(net) &&
		    integer_eval(net, out, model, &test,
				 o.given[O_INT_EVAL] && !strcmp(o.v[O_INT_EVAL].s, "cpu")))
			goto out;
	}
	rc = F8_EXIT_OK;
out:
	if (lock_fd >= 0)
		close(lock_fd);
	f8_dataset_free(&train);
	f8_dataset_free(&test);
	f8_sgd_free(&opt);
	f8_net_free(net);
	f8_train_state_free(&st);
	return rc;
}
