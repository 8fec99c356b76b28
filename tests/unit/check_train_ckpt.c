// SPDX-License-Identifier: MIT
/*
 * Checkpoints (runtime/train/f8-ckpt.c, docs/checkpoint-format.md).
 *
 * A small network with random parameters, BN statistics and momentum (special float
 * values included), a run configuration and a history go through save and load and
 * must come back bit for bit. Every prefix of the file, every single-byte corruption
 * and a wrong major version are refused with the right status; a later minor version
 * with an unknown section still loads. Saving that fails (missing directory, a write
 * that hits the file-size limit, an occupied temporary name, a directory in the way)
 * leaves the previous checkpoint intact and no temporary file behind.
 *
 * Hostile files (docs/untrusted-input.md): a header announcing a payload far beyond what
 * the file's architecture implies is read through the CRC in bounded memory (checked
 * under a data-size limit); float arrays before ARCH, decoded values out of range
 * (a history loss of 1.7e308, a wrong epoch number, a step count no run can reach,
 * threads beyond the pool) are refused with sealed CRCs; a FIFO is refused at once. A
 * save never replaces a symbolic link or a FIFO, removes the temporaries of dead
 * writers and keeps those of live ones; a locked directory refuses a second locker.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include "f8-ckpt.h"
#include "f8-fs.h"
#include "f8-rng.h"
#include "train-test.h"

/* Two small architectures (docs/arch-format.md) with different parameter counts. */
static const char arch_a[] = "f8arch 1\n"
			     "x = input c=1 h=6 w=6\n"
			     "c1 = conv out=3 k=3 p=1\n"
			     "b1 = bn\n"
			     "r1 = relu\n"
			     "g = avgpool k=global\n"
			     "fc = linear out=4\n";
static const char arch_b[] = "f8arch 1\n"
			     "x = input c=1 h=6 w=6\n"
			     "c1 = conv out=5 k=3 p=1\n"
			     "b1 = bn\n"
			     "r1 = relu\n"
			     "g = avgpool k=global\n"
			     "fc = linear out=4\n";

/*
 * Check records every passing ck_assert (a write each); the loops over thousands of
 * files use this form, which costs nothing when the condition holds.
 */
#define CHECK(cond, ...)                        \
	do {                                    \
		if (!(cond))                    \
			ck_abort_msg(__VA_ARGS__); \
	} while (0)

/* ---- temporary directory ---- */

static void tmp_setup(void)
{
	f8tt_tmpdir_make("f8-ckpt");
}

/* Number of entries in the temporary directory (temporary files show up here). */
static int dir_entries(void)
{
	DIR *d = opendir(f8tt_tmpdir);
	struct dirent *e;
	int n = 0;

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)))
		n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	closedir(d);
	return n;
}

/* ---- a run to save ---- */

struct run {
	struct f8_net *net;
	struct f8_sgd opt;
	struct f8_train_cfg cfg;
	struct f8_train_state st;
};

/* Random bits, with the float values that round trips get wrong by value copies. */
static void fill_floats(float *v, size_t n, struct f8_rng *r)
{
	static const uint32_t special[] = { 0x80000000u /* -0 */, 0x7fc12345u /* NaN payload */,
					    0xff800000u /* -inf */, 0x00000001u /* denormal */,
					    0x7f7fffffu /* FLT_MAX */ };
	size_t i;

	for (i = 0; i < n; i++) {
		uint32_t u = i < 5 ? special[i] : (uint32_t)f8_rng_u64(r);

		if (i >= 5)
			u = (u & 0x807fffffu) | (uint32_t)(100 + f8_rng_below(r, 50)) << 23;
		memcpy(&v[i], &u, 4);
	}
}

static void run_make(struct run *run, const char *arch, int epochs, uint64_t seed)
{
	struct f8_err err = { "" };
	struct f8_rng r;
	int i;

	memset(run, 0, sizeof(*run));
	f8_rng_init(&r, seed, 0);
	run->net = f8_net_parse(arch, &err);
	ck_assert_msg(run->net != NULL, "test architecture refused: %s", err.msg);
	ck_assert_uint_gt(run->net->param_count, 5);
	ck_assert_uint_gt(run->net->state_count, 0);
	fill_floats(run->net->param, run->net->param_count, &r);
	fill_floats(run->net->state, run->net->state_count, &r);

	strcpy(run->cfg.model, "tests/tiny.arch");
	run->cfg.epochs = 30;
	run->cfg.batch = 1; /* with all images: up to 2^31 - 1 steps per epoch (a 64-bit step) */
	run->cfg.threads = 2;
	run->cfg.lr = 0.1f;
	run->cfg.final_lr = 1e-4f;
	run->cfg.warmup_epochs = 0.5f;
	run->cfg.sgd = (struct f8_sgd_cfg){ 0.9f, 5e-4f, true, false, true, false };
	run->cfg.aug = (struct f8_augment){ 2, true };
	run->cfg.seed = 0xfedcba9876543210ull;
	run->cfg.train_limit = 0;
	run->cfg.test_limit = 0;
	ck_assert_int_eq(f8_sgd_init(&run->opt, &run->cfg.sgd, run->net), F8_OK);
	fill_floats(run->opt.velocity, run->opt.count, &r);

	run->st.epochs_done = epochs;
	run->st.step = epochs ? epochs * 2000000000L + 1 : 0;
	run->st.history = calloc((size_t)epochs + 1, sizeof(*run->st.history));
	for (i = 0; i < epochs; i++) {
		struct f8_epoch_stats *e = &run->st.history[i];

		e->epoch = i + 1;
		e->lr = 0.1 / (i + 1);
		e->train_loss = 2.302585092994046 - i * 0.1;
		e->train_acc = 0.1 + i * 0.01;
		e->test_loss = -0.0;
		e->test_acc = 1.0 / 3.0;
		e->seconds = 1e300;
		e->images_per_s = 5e-324;
	}
}

static void run_free(struct run *run)
{
	f8_net_free(run->net);
	f8_sgd_free(&run->opt);
	f8_train_state_free(&run->st);
}

static void save_ok(const char *path, const struct run *run)
{
	struct f8_err err = { "" };
	int rc = f8_ckpt_save(path, run->net, &run->opt, &run->cfg, &run->st, &err);

	ck_assert_msg(rc == F8_OK, "save %s: %s", path, err.msg);
}

/* Load must fail with @status and return nothing. */
static int load_fails(const char *path, int status, const char *what)
{
	struct f8_net *net = (struct f8_net *)&net; /* must be reset to NULL */
	struct f8_sgd opt = { .count = 77 };
	struct f8_train_cfg cfg;
	struct f8_train_state st = { .epochs_done = 99 };
	struct f8_err err = { "" };
	int rc = f8_ckpt_load(path, &net, &opt, &cfg, &st, &err);

	CHECK(rc == status, "%s: status %d (%s), want %d (%s); %s", what, rc, f8_status_str(rc),
	      status, f8_status_str(status), err.msg);
	CHECK(err.msg[0], "%s: no message", what);
	CHECK(net == NULL && opt.count == 77 && st.epochs_done == 99,
	      "%s: outputs changed on failure", what);
	return rc;
}

static void check_same(const struct run *a, const struct f8_net *net, const struct f8_sgd *opt,
		       const struct f8_train_cfg *cfg, const struct f8_train_state *st)
{
	ck_assert_str_eq(net->arch, a->net->arch);
	ck_assert_uint_eq(net->param_count, a->net->param_count);
	ck_assert_uint_eq(net->state_count, a->net->state_count);
	ck_assert(memcmp(net->param, a->net->param, 4 * net->param_count) == 0);
	ck_assert(memcmp(net->state, a->net->state, 4 * net->state_count) == 0);
	ck_assert_uint_eq(opt->count, a->opt.count);
	ck_assert(memcmp(opt->velocity, a->opt.velocity, 4 * opt->count) == 0);
	ck_assert(memcmp(&opt->cfg, &a->cfg.sgd, sizeof(opt->cfg)) == 0);
	/* Both configurations started zeroed: padding and the name's tail compare too. */
	ck_assert_str_eq(cfg->model, a->cfg.model);
	ck_assert(memcmp(cfg, &a->cfg, sizeof(*cfg)) == 0);
	ck_assert_int_eq(st->epochs_done, a->st.epochs_done);
	ck_assert_int_eq(st->step, a->st.step);
	ck_assert(memcmp(st->history, a->st.history,
			 (size_t)st->epochs_done * sizeof(*st->history)) == 0);
}

/* Arrays of several read buffers (the loader reads those straight into the network). */
static const char arch_big[] = "f8arch 1\n"
			       "x = input c=1 h=16 w=16\n"
			       "c1 = conv out=8 k=3 p=1\n"
			       "b1 = bn\n"
			       "r1 = relu\n"
			       "fc = linear out=70\n";

START_TEST(test_round_trip)
{
	static const int epochs[] = { 0, 1, 3, 2 };
	size_t k;

	for (k = 0; k < sizeof(epochs) / sizeof(epochs[0]); k++) {
		struct run a;
		struct f8_net *net = NULL;
		struct f8_sgd opt;
		struct f8_train_cfg cfg;
		struct f8_train_state st;
		struct f8_err err = { "" };
		uint8_t *f1, *f2;
		size_t n1, n2;
		int rc;

		run_make(&a, k == 3 ? arch_big : arch_a, epochs[k], 100 + k);
		if (k == 3)
			ck_assert_uint_gt(a.net->param_count, 65536); /* 4 bytes each: many buffers */
		save_ok(f8tt_path("run.ckpt"), &a);
		ck_assert_int_eq(dir_entries(), 1); /* no temporary file left */
		rc = f8_ckpt_load(f8tt_path("run.ckpt"), &net, &opt, &cfg, &st, &err);
		ck_assert_msg(rc == F8_OK, "load: %s", err.msg);
		check_same(&a, net, &opt, &cfg, &st);
		ck_assert_ptr_null(net->plan);

		/* Saving what was loaded gives the same bytes (the format is deterministic). */
		f1 = f8tt_read_file(f8tt_path("run.ckpt"), &n1);
		ck_assert_int_eq(f8_ckpt_save(f8tt_path("again.ckpt"), net, &opt, &cfg, &st, &err), F8_OK);
		f2 = f8tt_read_file(f8tt_path("again.ckpt"), &n2);
		ck_assert_uint_eq(n1, n2);
		ck_assert(memcmp(f1, f2, n1) == 0);
		ck_assert_int_eq(unlink(f8tt_path("again.ckpt")), 0);
		free(f1);
		free(f2);
		f8_net_free(net);
		f8_sgd_free(&opt);
		f8_train_state_free(&st);
		run_free(&a);
	}
}
END_TEST

/*
 * A real model's checkpoint (ResNet-8: sections of ~300 KiB, larger than the reader's
 * 64 KiB buffer, so they are read straight into their destination) comes back bit for
 * bit: a direct read must stop at the section's end.
 */
START_TEST(test_round_trip_large)
{
	struct f8_err err = { "" };
	char *text = f8_zoo_arch("resnet8", &err);
	struct run a;
	struct f8_net *net = NULL;
	struct f8_sgd opt;
	struct f8_train_cfg cfg;
	struct f8_train_state st;
	int rc;

	ck_assert_ptr_nonnull(text);
	run_make(&a, text, 2, 7);
	ck_assert_uint_gt(a.net->param_count * sizeof(float), 4 * 65536);
	save_ok(f8tt_path("big.ckpt"), &a);
	rc = f8_ckpt_load(f8tt_path("big.ckpt"), &net, &opt, &cfg, &st, &err);
	ck_assert_msg(rc == F8_OK, "load: %s", err.msg);
	check_same(&a, net, &opt, &cfg, &st);
	f8_net_free(net);
	f8_sgd_free(&opt);
	f8_train_state_free(&st);
	run_free(&a);
	free(text);
}
END_TEST

/* Overwriting an existing checkpoint replaces it; the other run's values come back. */
START_TEST(test_overwrite)
{
	struct run a, b;
	struct f8_net *net = NULL;
	struct f8_sgd opt;
	struct f8_train_cfg cfg;
	struct f8_train_state st;
	struct f8_err err = { "" };

	run_make(&a, arch_a, 2, 1);
	run_make(&b, arch_b, 4, 2);
	save_ok(f8tt_path("x.ckpt"), &a);
	save_ok(f8tt_path("x.ckpt"), &b);
	ck_assert_int_eq(dir_entries(), 1);
	ck_assert_msg(f8_ckpt_load(f8tt_path("x.ckpt"), &net, &opt, &cfg, &st, &err) == F8_OK, "%s", err.msg);
	check_same(&b, net, &opt, &cfg, &st);
	f8_net_free(net);
	f8_sgd_free(&opt);
	f8_train_state_free(&st);
	run_free(&a);
	run_free(&b);
}
END_TEST

/* Proper prefixes of the file are refused as corrupt, one byte more as trailing bytes. */
START_TEST(test_truncation)
{
	struct run a;
	uint8_t *f;
	size_t n, len;

	run_make(&a, arch_a, 2, 3);
	save_ok(f8tt_path("full.ckpt"), &a);
	f = f8tt_read_file(f8tt_path("full.ckpt"), &n);
	ck_assert_uint_gt(n, 64);
	/* Every length through the header and the first sections, then every 5th. */
	for (len = 0; len < n; len += len < 512 ? 1 : 5) {
		char what[64];

		snprintf(what, sizeof(what), "prefix of %zu of %zu bytes", len, n);
		f8tt_write_file(f8tt_path("cut.ckpt"), f, len);
		load_fails(f8tt_path("cut.ckpt"), F8_ERR_CORRUPT, what);
	}
	f8tt_write_file(f8tt_path("cut.ckpt"), f, n - 1);
	load_fails(f8tt_path("cut.ckpt"), F8_ERR_CORRUPT, "one byte short");
	f[n] = 0;
	f8tt_write_file(f8tt_path("cut.ckpt"), f, n + 1);
	load_fails(f8tt_path("cut.ckpt"), F8_ERR_FORMAT, "one trailing byte");
	load_fails(f8tt_path("missing.ckpt"), F8_ERR_IO, "missing file");
	load_fails(f8tt_tmpdir, F8_ERR_IO, "a directory");
	free(f);
	run_free(&a);
}
END_TEST

/*
 * Single-byte corruptions are refused: in the magic as not a checkpoint, in the major
 * version as another version, anywhere else by a CRC. Every byte of the header and the
 * first sections with two different flips, then every 7th byte (a stride that walks
 * through every position of the 4-byte floats).
 */
START_TEST(test_corruption)
{
	static const uint8_t flips[] = { 0x01, 0xa4 };
	struct run a;
	uint8_t *f;
	size_t n, i, k;

	run_make(&a, arch_a, 1, 4);
	save_ok(f8tt_path("good.ckpt"), &a);
	f = f8tt_read_file(f8tt_path("good.ckpt"), &n);
	for (i = 0; i < n; i += i < 512 ? 1 : 7) {
		for (k = 0; k < (i < 512 ? sizeof(flips) : 1); k++) {
			char what[64];
			int want = i < 8 ? F8_ERR_FORMAT : i < 10 ? F8_ERR_VERSION : F8_ERR_CORRUPT;

			f[i] ^= flips[k];
			snprintf(what, sizeof(what), "byte %zu of %zu ^ 0x%02x", i, n, flips[k]);
			f8tt_write_file(f8tt_path("bad.ckpt"), f, n);
			load_fails(f8tt_path("bad.ckpt"), want, what);
			f[i] ^= flips[k];
		}
	}
	/* The last byte too (the end of the velocity). */
	f[n - 1] ^= 0x80;
	f8tt_write_file(f8tt_path("bad.ckpt"), f, n);
	load_fails(f8tt_path("bad.ckpt"), F8_ERR_CORRUPT, "last byte");
	f[n - 1] ^= 0x80;
	free(f);
	run_free(&a);
}
END_TEST

/* Rewrite the header of @f (n bytes) with @major.@minor and correct CRCs. */
static void reseal(uint8_t *f, size_t n, unsigned int major, unsigned int minor)
{
	uint32_t crc = (uint32_t)crc32_z(crc32(0L, Z_NULL, 0), f + 32, n - 32), hcrc;
	uint64_t plen = n - 32;
	int i;

	f[8] = (uint8_t)major;
	f[9] = (uint8_t)(major >> 8);
	f[10] = (uint8_t)minor;
	f[11] = (uint8_t)(minor >> 8);
	for (i = 0; i < 8; i++)
		f[16 + i] = (uint8_t)(plen >> (8 * i));
	for (i = 0; i < 4; i++)
		f[24 + i] = (uint8_t)(crc >> (8 * i));
	hcrc = (uint32_t)crc32(crc32(0L, Z_NULL, 0), f, 28);
	for (i = 0; i < 4; i++)
		f[28 + i] = (uint8_t)(hcrc >> (8 * i));
}

/* Offset of section @tag in the payload of @f, or 0. */
static size_t find_section(const uint8_t *f, size_t n, const char *tag)
{
	size_t off = 32;

	while (off + 12 <= n) {
		uint64_t len = 0;
		int i;

		for (i = 0; i < 8; i++)
			len |= (uint64_t)f[off + 4 + i] << (8 * i);
		if (!memcmp(f + off, tag, 4))
			return off;
		off += 12 + len;
	}
	return 0;
}

START_TEST(test_versions)
{
	struct run a;
	struct f8_net *net = NULL;
	struct f8_sgd opt;
	struct f8_train_cfg cfg;
	struct f8_train_state st;
	struct f8_err err = { "" };
	uint8_t *f, *g;
	size_t n, off;
	/* An unknown section: what a later minor version may add. */
	static const uint8_t extra[] = { 'X', 'T', 'R', 'A', 3, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3 };

	run_make(&a, arch_a, 2, 5);
	save_ok(f8tt_path("v.ckpt"), &a);
	f = f8tt_read_file(f8tt_path("v.ckpt"), &n);
	ck_assert(memcmp(f, "\x89" "F8CKPT\n", 8) == 0);
	ck_assert_uint_eq(f[8] | f[9] << 8, F8_CKPT_VERSION_MAJOR);
	ck_assert_uint_eq(f[10] | f[11] << 8, F8_CKPT_VERSION_MINOR);

	/* Another major version, correctly sealed: refused as a version mismatch. */
	reseal(f, n, 2, 0);
	f8tt_write_file(f8tt_path("v2.ckpt"), f, n);
	ck_assert_int_eq(load_fails(f8tt_path("v2.ckpt"), F8_ERR_VERSION, "major 2"), F8_ERR_VERSION);
	reseal(f, n, 0, 7);
	f8tt_write_file(f8tt_path("v0.ckpt"), f, n);
	load_fails(f8tt_path("v0.ckpt"), F8_ERR_VERSION, "major 0");

	/* Same major, later minor, an unknown section appended: loads. */
	g = malloc(n + sizeof(extra));
	memcpy(g, f, n);
	memcpy(g + n, extra, sizeof(extra));
	reseal(g, n + sizeof(extra), F8_CKPT_VERSION_MAJOR, F8_CKPT_VERSION_MINOR + 1);
	f8tt_write_file(f8tt_path("v1x.ckpt"), g, n + sizeof(extra));
	ck_assert_msg(f8_ckpt_load(f8tt_path("v1x.ckpt"), &net, &opt, &cfg, &st, &err) == F8_OK,
		      "%s", err.msg);
	check_same(&a, net, &opt, &cfg, &st);
	f8_net_free(net);
	f8_sgd_free(&opt);
	f8_train_state_free(&st);

	/* A known section missing (renamed) or twice: a layout error, even with good CRCs. */
	memcpy(g, f, n);
	off = find_section(g, n, "PROG");
	ck_assert_uint_gt(off, 0);
	g[off] = 'Q';
	reseal(g, n, F8_CKPT_VERSION_MAJOR, F8_CKPT_VERSION_MINOR);
	f8tt_write_file(f8tt_path("noprog.ckpt"), g, n);
	load_fails(f8tt_path("noprog.ckpt"), F8_ERR_FORMAT, "PROG missing");
	memcpy(g, f, n);
	off = find_section(g, n, "BNST");
	memcpy(g + off, "VELO", 4);
	reseal(g, n, F8_CKPT_VERSION_MAJOR, F8_CKPT_VERSION_MINOR);
	f8tt_write_file(f8tt_path("twice.ckpt"), g, n);
	load_fails(f8tt_path("twice.ckpt"), F8_ERR_FORMAT, "VELO twice");
	/* A section length beyond the file, sealed. */
	memcpy(g, f, n);
	off = find_section(g, n, "HIST");
	g[off + 4 + 5] = 1;
	reseal(g, n, F8_CKPT_VERSION_MAJOR, F8_CKPT_VERSION_MINOR);
	f8tt_write_file(f8tt_path("long.ckpt"), g, n);
	load_fails(f8tt_path("long.ckpt"), F8_ERR_FORMAT, "HIST overruns");
	/* A boolean that is neither 0 nor 1, sealed. */
	memcpy(g, f, n);
	off = find_section(g, n, "CONF");
	ck_assert_uint_eq(g[off + 12 + 4 + 256 + 32], 1); /* nesterov */
	g[off + 12 + 4 + 256 + 32] = 2;
	reseal(g, n, F8_CKPT_VERSION_MAJOR, F8_CKPT_VERSION_MINOR);
	f8tt_write_file(f8tt_path("bool.ckpt"), g, n);
	load_fails(f8tt_path("bool.ckpt"), F8_ERR_FORMAT, "nesterov = 2");
	free(g);
	free(f);
	run_free(&a);
}
END_TEST

/* The stored architecture decides the counts: arrays of another size are refused. */
START_TEST(test_arch_mismatch)
{
	struct run a;
	char *saved;
	char junk[] = "this is not an architecture\n";

	run_make(&a, arch_a, 1, 6);
	saved = a.net->arch;
	a.net->arch = (char *)arch_b; /* more parameters than the arrays hold */
	save_ok(f8tt_path("m.ckpt"), &a);
	load_fails(f8tt_path("m.ckpt"), F8_ERR_FORMAT, "PARM count");
	a.net->arch = junk;
	save_ok(f8tt_path("j.ckpt"), &a);
	load_fails(f8tt_path("j.ckpt"), F8_ERR_FORMAT, "bad architecture");
	a.net->arch = saved;
	run_free(&a);
}
END_TEST

/* The previous checkpoint must be byte-identical after a failed save. */
static void check_intact(const uint8_t *want, size_t n, const char *what)
{
	size_t m;
	uint8_t *got = f8tt_read_file(f8tt_path("keep.ckpt"), &m);

	ck_assert_msg(m == n && memcmp(got, want, n) == 0, "%s: previous checkpoint changed", what);
	free(got);
}

START_TEST(test_save_failures)
{
	struct run a, b;
	struct f8_err err = { "" };
	struct rlimit old, lim;
	uint8_t *keep;
	size_t n;
	char path[300];
	int rc;

	run_make(&a, arch_a, 1, 7);
	run_make(&b, arch_b, 3, 8);
	save_ok(f8tt_path("keep.ckpt"), &a);
	keep = f8tt_read_file(f8tt_path("keep.ckpt"), &n);

	/* A directory that does not exist. */
	snprintf(path, sizeof(path), "%s/no/such/dir/x.ckpt", f8tt_tmpdir);
	rc = f8_ckpt_save(path, b.net, &b.opt, &b.cfg, &b.st, &err);
	ck_assert_int_eq(rc, F8_ERR_IO);
	ck_assert_ptr_nonnull(strstr(err.msg, "no/such/dir"));

	/* The write fails half way (file-size limit): old file intact, temporary gone. */
	ck_assert_int_eq(getrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, SIG_IGN);
	lim = old;
	lim.rlim_cur = n / 2;
	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &lim), 0);
	rc = f8_ckpt_save(f8tt_path("keep.ckpt"), b.net, &b.opt, &b.cfg, &b.st, &err);
	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, SIG_DFL);
	ck_assert_msg(rc == F8_ERR_IO, "size limit: status %d: %s", rc, err.msg);
	check_intact(keep, n, "write failure");
	ck_assert_int_eq(dir_entries(), 1);

	/* The temporary name is taken by a directory: creation fails, nothing else moves. */
	snprintf(path, sizeof(path), "%s.tmp.%ld", f8tt_path("keep.ckpt"), (long)getpid());
	ck_assert_int_eq(mkdir(path, 0700), 0);
	rc = f8_ckpt_save(f8tt_path("keep.ckpt"), b.net, &b.opt, &b.cfg, &b.st, &err);
	ck_assert_int_eq(rc, F8_ERR_IO);
	check_intact(keep, n, "temporary name taken");
	ck_assert_int_eq(rmdir(path), 0);
	ck_assert_int_eq(dir_entries(), 1);

	/* The destination is a non-empty directory: the rename fails, the temporary goes. */
	ck_assert_int_eq(mkdir(f8tt_path("d.ckpt"), 0700), 0);
	f8tt_write_file(f8tt_path("d.ckpt/inside"), "x", 1);
	rc = f8_ckpt_save(f8tt_path("d.ckpt"), b.net, &b.opt, &b.cfg, &b.st, &err);
	ck_assert_int_eq(rc, F8_ERR_IO);
	ck_assert_int_eq(dir_entries(), 2);

	/* A read-only directory (meaningless for root, who may write anyway). */
	if (geteuid() != 0) {
		ck_assert_int_eq(chmod(f8tt_tmpdir, 0500), 0);
		rc = f8_ckpt_save(f8tt_path("keep.ckpt"), b.net, &b.opt, &b.cfg, &b.st, &err);
		ck_assert_int_eq(chmod(f8tt_tmpdir, 0700), 0);
		ck_assert_int_eq(rc, F8_ERR_IO);
		check_intact(keep, n, "read-only directory");
		ck_assert_int_eq(dir_entries(), 2);
	}

	/* Misuse is caught before any file is touched. */
	b.opt.count--;
	rc = f8_ckpt_save(f8tt_path("keep.ckpt"), b.net, &b.opt, &b.cfg, &b.st, &err);
	b.opt.count++;
	ck_assert_int_eq(rc, F8_ERR_MISUSE);
	check_intact(keep, n, "misuse");
	ck_assert_int_eq(f8_ckpt_save("", b.net, &b.opt, &b.cfg, &b.st, &err), F8_ERR_MISUSE);
	ck_assert_int_eq(f8_ckpt_save(f8tt_path("keep.ckpt"), NULL, &b.opt, &b.cfg, &b.st, &err),
			 F8_ERR_MISUSE);
	ck_assert_int_eq(dir_entries(), 2);

	/* And the intact file still loads as the first run. */
	{
		struct f8_net *net = NULL;
		struct f8_sgd opt;
		struct f8_train_cfg cfg;
		struct f8_train_state st;

		ck_assert_int_eq(f8_ckpt_load(f8tt_path("keep.ckpt"), &net, &opt, &cfg, &st, &err),
				 F8_OK);
		check_same(&a, net, &opt, &cfg, &st);
		f8_net_free(net);
		f8_sgd_free(&opt);
		f8_train_state_free(&st);
	}
	free(keep);
	run_free(&a);
	run_free(&b);
}
END_TEST

/* The payload of @f moved so that section @tag comes first; resealed. */
static uint8_t *move_first(const uint8_t *f, size_t n, const char *tag)
{
	size_t off = find_section(f, n, tag), len = 0;
	uint8_t *g = malloc(n);
	int i;

	ck_assert_uint_gt(off, 0);
	for (i = 0; i < 8; i++)
		len |= (size_t)f[off + 4 + i] << (8 * i);
	memcpy(g, f, 32);
	memcpy(g + 32, f + off, 12 + len);
	memcpy(g + 32 + 12 + len, f + 32, off - 32);
	memcpy(g + off + 12 + len, f + off + 12 + len, n - off - 12 - len);
	reseal(g, n, F8_CKPT_VERSION_MAJOR, F8_CKPT_VERSION_MINOR);
	return g;
}

static void put_le(uint8_t *p, uint64_t v, int bytes)
{
	int i;

	for (i = 0; i < bytes; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* Load @path in a child whose data segment may grow by @headroom bytes at most; its status. */
static int load_limited(const char *path, size_t headroom)
{
	pid_t pid = fork();
	int wst;

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct f8_net *net = NULL;
		struct f8_sgd opt;
		struct f8_train_cfg cfg;
		struct f8_train_state st;
		struct f8_err err = { "" };
		f8tt_limit_data(headroom);
		_exit(-f8_ckpt_load(path, &net, &opt, &cfg, &st, &err));
	}
	ck_assert_int_eq(waitpid(pid, &wst, 0), pid);
	ck_assert_msg(WIFEXITED(wst), "the loader died (signal %d)", WTERMSIG(wst));
	ck_assert_int_ne(WEXITSTATUS(wst), 100);
	return -WEXITSTATUS(wst);
}

/*
 * Announced sizes never drive allocations: a good checkpoint grown by 1 GiB of holes
 * whose header announces them (header CRC sealed, payload CRC stale), or whose last
 * section claims them, is read through the CRC in a child allowed 256 MiB more data,
 * and refused as corrupt, not as out of memory.
 */
START_TEST(test_hostile_sizes)
{
	const uint64_t grow = 1ull << 30;
	struct run a;
	uint8_t *f;
	size_t n, off;
	int fd, i, rc;
	uint32_t hcrc;

	run_make(&a, arch_a, 2, 9);
	save_ok(f8tt_path("g.ckpt"), &a);
	f = f8tt_read_file(f8tt_path("g.ckpt"), &n);
	for (i = 0; i < 2; i++) {
		uint8_t *g = malloc(n);

		memcpy(g, f, n);
		put_le(g + 16, n - 32 + grow, 8);
		if (i == 1) {
			/* The last section (VELO) claims every byte up to the end. */
			off = find_section(g, n, "VELO");
			ck_assert_uint_gt(off, 0);
			put_le(g + off + 4, n - off - 12 + grow, 8);
		}
		hcrc = (uint32_t)crc32(crc32(0L, Z_NULL, 0), g, 28);
		put_le(g + 28, hcrc, 4);
		f8tt_write_file(f8tt_path("big.ckpt"), g, n);
		fd = open(f8tt_path("big.ckpt"), O_WRONLY);
		ck_assert_int_ge(fd, 0);
		ck_assert_int_eq(ftruncate(fd, (off_t)(n + grow)), 0);
		close(fd);
		rc = load_limited(f8tt_path("big.ckpt"), 256u << 20);
		ck_assert_msg(rc == F8_ERR_CORRUPT, "case %d: status %d (%s)", i, rc, f8_status_str(rc));
		free(g);
	}
	free(f);
	run_free(&a);
}
END_TEST

/* Sealed files whose layout or decoded values no run can produce: FORMAT, with a reason. */
START_TEST(test_hostile_values)
{
	struct run a;
	uint8_t *f, *g;
	size_t n, hist, conf, prog;
	struct f8_err err = { "" };
	struct f8_net *net = NULL;
	struct f8_sgd opt;
	struct f8_train_cfg cfg;
	struct f8_train_state st;
	double huge = 1.7e308, acc = 1.5;
	uint64_t u;

	run_make(&a, arch_a, 2, 10);
	save_ok(f8tt_path("h.ckpt"), &a);
	f = f8tt_read_file(f8tt_path("h.ckpt"), &n);
	g = malloc(n);
	hist = find_section(f, n, "HIST") + 12;
	conf = find_section(f, n, "CONF") + 12;
	prog = find_section(f, n, "PROG") + 12;

	/* The float arrays must come after ARCH, which sizes them. */
	free(g);
	g = move_first(f, n, "PARM");
	f8tt_write_file(f8tt_path("x.ckpt"), g, n);
	load_fails(f8tt_path("x.ckpt"), F8_ERR_FORMAT, "PARM first");
	ck_assert_int_eq(f8_ckpt_load(f8tt_path("x.ckpt"), &net, &opt, &cfg, &st, &err), F8_ERR_FORMAT);
	ck_assert_ptr_nonnull(strstr(err.msg, "first section"));

	/* A finite train loss no float loss can average to (the SVG axis went infinite). */
	memcpy(g, f, n);
	memcpy(&u, &huge, 8);
	put_le(g + hist + 4 + 12, u, 8);
	reseal(g, n, F8_CKPT_VERSION_MAJOR, F8_CKPT_VERSION_MINOR);
	f8tt_write_file(f8tt_path("x.ckpt"), g, n);
	ck_assert_int_eq(f8_ckpt_load(f8tt_path("x.ckpt"), &net, &opt, &cfg, &st, &err), F8_ERR_FORMAT);
	ck_assert_msg(strstr(err.msg, "train_loss") != NULL, "%s", err.msg);
	load_fails(f8tt_path("x.ckpt"), F8_ERR_FORMAT, "train loss 1.7e308");

	/* An accuracy above 1, a NaN train loss, epoch numbers out of order. */
	memcpy(g, f, n);
	memcpy(&u, &acc, 8);
	put_le(g + hist + 4 + 60 + 20, u, 8);
	reseal(g, n, F8_CKPT_VERSION_MAJOR, F8_CKPT_VERSION_MINOR);
	f8tt_write_file(f8tt_path("x.ckpt"), g, n);
	load_fails(f8tt_path("x.ckpt"), F8_ERR_FORMAT, "train accuracy 1.5");
	memcpy(g, f, n);
	put_le(g + hist + 4 + 12, 0x7ff8000000000000ull, 8);
	reseal(g, n, F8_CKPT_VERSION_MAJOR, F8_CKPT_VERSION_MINOR);
	f8tt_write_file(f8tt_path("x.ckpt"), g, n);
	load_fails(f8tt_path("x.ckpt"), F8_ERR_FORMAT, "NaN train loss");
	memcpy(g, f, n);
	put_le(g + hist + 4 + 60, 7, 4);
	reseal(g, n, F8_CKPT_VERSION_MAJOR, F8_CKPT_VERSION_MINOR);
	f8tt_write_file(f8tt_path("x.ckpt"), g, n);
	load_fails(f8tt_path("x.ckpt"), F8_ERR_FORMAT, "epoch 7 as the second entry");

	/* Threads beyond the pool; more epochs done than the run has; no step for 2 epochs. */
	memcpy(g, f, n);
	put_le(g + conf + 4 + 256 + 8, 65, 4);
	reseal(g, n, F8_CKPT_VERSION_MAJOR, F8_CKPT_VERSION_MINOR);
	f8tt_write_file(f8tt_path("x.ckpt"), g, n);
	ck_assert_int_eq(f8_ckpt_load(f8tt_path("x.ckpt"), &net, &opt, &cfg, &st, &err), F8_ERR_FORMAT);
	ck_assert_msg(strstr(err.msg, "threads 65") != NULL, "%s", err.msg);
	memcpy(g, f, n);
	put_le(g + conf + 4 + 256, 1, 4);
	reseal(g, n, F8_CKPT_VERSION_MAJOR, F8_CKPT_VERSION_MINOR);
	f8tt_write_file(f8tt_path("x.ckpt"), g, n);
	load_fails(f8tt_path("x.ckpt"), F8_ERR_FORMAT, "2 epochs done of 1");
	memcpy(g, f, n);
	put_le(g + prog + 4, 1, 8);
	reseal(g, n, F8_CKPT_VERSION_MAJOR, F8_CKPT_VERSION_MINOR);
	f8tt_write_file(f8tt_path("x.ckpt"), g, n);
	load_fails(f8tt_path("x.ckpt"), F8_ERR_FORMAT, "step 1 after 2 epochs");

	/* Reasons quote untrusted bytes only as printable text: no escape reaches a terminal. */
	f8_fail(&err, F8_ERR_FORMAT, "%s", "a\033]0;x\007b\xc2\x9b\xff \xc3\xa9\x7f");
	ck_assert_str_eq(err.msg, "a\\x1b]0;x\\x07b\\xc2\\x9b\\xff \xc3\xa9\\x7f");
	free(g);
	free(f);
	run_free(&a);
}
END_TEST

/* Non-regular paths: a FIFO is refused at once, never waited on; links are not replaced. */
START_TEST(test_hostile_paths)
{
	struct run a;
	struct f8_err err = { "" };
	char target[300], buf[16];
	ssize_t len;

	run_make(&a, arch_a, 1, 11);
	ck_assert_int_eq(mkfifo(f8tt_path("fifo.ckpt"), 0600), 0);
	alarm(20); /* a blocking open fails the run instead of hanging it (CK_FORK=no) */
	load_fails(f8tt_path("fifo.ckpt"), F8_ERR_IO, "a FIFO");
	ck_assert_int_eq(f8_ckpt_save(f8tt_path("fifo.ckpt"), a.net, &a.opt, &a.cfg, &a.st, &err),
			 F8_ERR_IO);
	alarm(0);
	ck_assert_ptr_nonnull(strstr(err.msg, "not a regular file"));

	/* A symbolic link (even to a checkpoint) is neither replaced nor followed. */
	save_ok(f8tt_path("real.ckpt"), &a);
	ck_assert_int_eq(symlink("real.ckpt", f8tt_path("link.ckpt")), 0);
	ck_assert_int_eq(f8_ckpt_save(f8tt_path("link.ckpt"), a.net, &a.opt, &a.cfg, &a.st, &err),
			 F8_ERR_IO);
	ck_assert_ptr_nonnull(strstr(err.msg, "symbolic link"));
	len = readlink(f8tt_path("link.ckpt"), buf, sizeof(buf) - 1);
	ck_assert_int_eq(len, 9);

	/* Temporaries: a dead writer's is removed by the next save, a live one's (pid 1) kept. */
	{
		pid_t dead = fork();
		int wst;

		ck_assert_int_ge(dead, 0);
		if (dead == 0)
			_exit(0);
		ck_assert_int_eq(waitpid(dead, &wst, 0), dead);
		snprintf(target, sizeof(target), "%s.tmp.%ld", f8tt_path("real.ckpt"), (long)dead);
		f8tt_write_file(target, "half", 4);
		f8tt_write_file(f8tt_path("real.ckpt.tmp.1"), "live", 4);
		f8tt_write_file(f8tt_path("real.ckpt.tmp.12x"), "other", 5);
		save_ok(f8tt_path("real.ckpt"), &a);
		ck_assert_int_eq(access(target, F_OK), -1);
		ck_assert_int_eq(access(f8tt_path("real.ckpt.tmp.1"), F_OK), 0);
		ck_assert_int_eq(access(f8tt_path("real.ckpt.tmp.12x"), F_OK), 0);
	}
	run_free(&a);
}
END_TEST

/* One writer per run directory: a second process cannot take the lock while it is held. */
START_TEST(test_dir_lock)
{
	struct f8_err err = { "" };
	pid_t pid;
	int fd = -1, fd2 = -1, wst;

	ck_assert_int_eq(f8_fs_lock_dir(f8tt_tmpdir, &fd, &err), F8_OK);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int rc = f8_fs_lock_dir(f8tt_tmpdir, &fd2, &err);

		_exit(rc == F8_ERR_IO && strstr(err.msg, "in use") ? 0 : 1);
	}
	ck_assert_int_eq(waitpid(pid, &wst, 0), pid);
	ck_assert_msg(WIFEXITED(wst) && WEXITSTATUS(wst) == 0, "a second locker got in");
	close(fd);
	/* Released: the next one gets it. */
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(f8_fs_lock_dir(f8tt_tmpdir, &fd2, &err) == F8_OK ? 0 : 1);
	ck_assert_int_eq(waitpid(pid, &wst, 0), pid);
	ck_assert_msg(WIFEXITED(wst) && WEXITSTATUS(wst) == 0, "the lock was not released");
}
END_TEST

Suite *f8_train_ckpt_suite(void)
{
	Suite *s = suite_create("train_ckpt");
	TCase *tc = tcase_create("ckpt");

	tcase_add_checked_fixture(tc, tmp_setup, f8tt_tmpdir_remove);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_round_trip);
	tcase_add_test(tc, test_round_trip_large);
	tcase_add_test(tc, test_overwrite);
	tcase_add_test(tc, test_truncation);
	tcase_add_test(tc, test_corruption);
	tcase_add_test(tc, test_versions);
	tcase_add_test(tc, test_arch_mismatch);
	tcase_add_test(tc, test_save_failures);
	tcase_add_test(tc, test_hostile_sizes);
	tcase_add_test(tc, test_hostile_values);
	tcase_add_test(tc, test_hostile_paths);
	tcase_add_test(tc, test_dir_lock);
	suite_add_tcase(s, tc);
	return s;
}
