// SPDX-License-Identifier: MIT
/*
 * Datasets and batches (runtime/train/f8-idx.c, f8-batch.c).
 *
 * Small IDX files, gzip'd and plain, are written into a fresh temporary directory and
 * loaded; a table of broken files (every header field, truncation, trailing bytes,
 * gzip damage, count and label errors, a missing file) must each give the documented
 * status and a message naming the file. The installed Fashion-MNIST must load with its
 * known sizes and balanced classes. Batches: normalisation values, crop and flip
 * against all hand-enumerated answers on a 3 x 3 image, determinism from the seed.
 * Hostile files: a FIFO named like an IDX file is refused at once; a small file whose
 * header announces the largest set costs what it holds (checked under a data limit), and
 * counts that disagree are refused before any data is read.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include "f8-data.h"
#include "train-test.h"

/* ---- temporary directory and IDX writers ---- */

static void tmp_setup(void)
{
	f8tt_tmpdir_make("f8-data");
}

static void write_gz(const char *path, const void *data, size_t n)
{
	gzFile f = gzopen(path, "wb");

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(gzwrite(f, data, (unsigned int)n), (int)n);
	ck_assert_int_eq(gzclose(f), Z_OK);
}

/* An IDX image: header (magic type rank, dims) and @body bytes, in a growable buffer. */
struct idx_buf {
	uint8_t b[4096];
	size_t n;
};

static void idx_header(struct idx_buf *x, uint8_t type, uint8_t rank, const uint32_t *dims)
{
	int i;

	x->n = 0;
	x->b[x->n++] = 0;
	x->b[x->n++] = 0;
	x->b[x->n++] = type;
	x->b[x->n++] = rank;
	for (i = 0; i < rank; i++) {
		x->b[x->n++] = (uint8_t)(dims[i] >> 24);
		x->b[x->n++] = (uint8_t)(dims[i] >> 16);
		x->b[x->n++] = (uint8_t)(dims[i] >> 8);
		x->b[x->n++] = (uint8_t)dims[i];
	}
}

static void idx_body(struct idx_buf *x, const uint8_t *p, size_t n)
{
	ck_assert_uint_le(x->n + n, sizeof(x->b));
	memcpy(x->b + x->n, p, n);
	x->n += n;
}

/* The good set: 5 images of 3 x 4, pixel (i, y, x) = 16 i + 4 y + x, labels i % 3. */
enum { GN = 5, GH = 3, GW = 4, GCLASSES = 3 };

static void good_images(struct idx_buf *x)
{
	const uint32_t dims[3] = { GN, GH, GW };
	uint8_t px[GN * GH * GW];
	int i;

	for (i = 0; i < GN * GH * GW; i++)
		px[i] = (uint8_t)(16 * (i / (GH * GW)) + i % (GH * GW));
	idx_header(x, 0x08, 3, dims);
	idx_body(x, px, sizeof(px));
}

static void good_labels(struct idx_buf *x)
{
	const uint32_t dims[1] = { GN };
	uint8_t lb[GN];
	int i;

	for (i = 0; i < GN; i++)
		lb[i] = (uint8_t)(i % GCLASSES);
	idx_header(x, 0x08, 1, dims);
	idx_body(x, lb, sizeof(lb));
}

static void check_good(const struct f8_dataset *ds)
{
	int i;

	ck_assert_int_eq(ds->n, GN);
	ck_assert_int_eq(ds->c, 1);
	ck_assert_int_eq(ds->h, GH);
	ck_assert_int_eq(ds->w, GW);
	ck_assert_int_eq(ds->classes, GCLASSES);
	for (i = 0; i < GN * GH * GW; i++)
		ck_assert_uint_eq(ds->pixels[i], (unsigned int)(16 * (i / (GH * GW)) + i % (GH * GW)));
	for (i = 0; i < GN; i++)
		ck_assert_uint_eq(ds->labels[i], (unsigned int)(i % GCLASSES));
}

START_TEST(test_idx_good)
{
	struct idx_buf im, lb;
	struct f8_dataset ds;
	struct f8_err err = { "" };

	good_images(&im);
	good_labels(&lb);
	/* Plain, gzip'd, and one of each. */
	f8tt_write_file(f8tt_path("im"), im.b, im.n);
	f8tt_write_file(f8tt_path("lb"), lb.b, lb.n);
	write_gz(f8tt_path("im.gz"), im.b, im.n);
	write_gz(f8tt_path("lb.gz"), lb.b, lb.n);
	ck_assert_int_eq(f8_idx_load(&ds, f8tt_path("im"), f8tt_path("lb"), GCLASSES, &err), F8_OK);
	check_good(&ds);
	f8_dataset_free(&ds);
	ck_assert_int_eq(f8_idx_load(&ds, f8tt_path("im.gz"), f8tt_path("lb.gz"), GCLASSES, &err),
			 F8_OK);
	check_good(&ds);
	f8_dataset_truncate(&ds, 2);
	ck_assert_int_eq(ds.n, 2);
	f8_dataset_truncate(&ds, 100);
	ck_assert_int_eq(ds.n, 2);
	f8_dataset_truncate(&ds, 0);
	ck_assert_int_eq(ds.n, 2);
	f8_dataset_free(&ds);
	ck_assert_ptr_null(ds.pixels);
	ck_assert_int_eq(f8_idx_load(&ds, f8tt_path("im.gz"), f8tt_path("lb"), GCLASSES, &err), F8_OK);
	check_good(&ds);
	f8_dataset_free(&ds);
	f8_dataset_free(&ds); /* idempotent */
	/* Labels must lie below classes: 3 classes used, 2 declared. */
	ck_assert_int_eq(f8_idx_load(&ds, f8tt_path("im"), f8tt_path("lb"), 2, &err), F8_ERR_FORMAT);
	ck_assert_int_eq(f8_idx_load(&ds, f8tt_path("im"), f8tt_path("lb"), 0, &err), F8_ERR_MISUSE);
	ck_assert_int_eq(f8_idx_load(&ds, f8tt_path("im"), f8tt_path("lb"), 257, &err), F8_ERR_MISUSE);
}
END_TEST

/* ---- the table of bad files ---- */

enum which { IMAGES, LABELS };
enum pack { PLAIN, GZ };

struct bad_case {
	const char *name;
	enum which which; /* the file that is broken */
	enum pack pack;
	int status;
	const char *msg;  /* a word the message must contain (besides the file name) */
};

static const struct bad_case bad_cases[] = {
	{ "bad-magic", IMAGES, GZ, F8_ERR_FORMAT, "not an IDX file" },
	{ "bad-magic-labels", LABELS, PLAIN, F8_ERR_FORMAT, "not an IDX file" },
	{ "wrong-type", IMAGES, PLAIN, F8_ERR_FORMAT, "type 0x0d" },
	{ "wrong-type-labels", LABELS, GZ, F8_ERR_FORMAT, "type 0x0b" },
	{ "wrong-rank", IMAGES, GZ, F8_ERR_FORMAT, "rank 4" },
	{ "wrong-rank-labels", LABELS, PLAIN, F8_ERR_FORMAT, "rank 2" },
	{ "truncated-header", IMAGES, PLAIN, F8_ERR_CORRUPT, "truncated" },
	{ "truncated-dims", LABELS, GZ, F8_ERR_CORRUPT, "truncated" },
	{ "truncated-data", IMAGES, PLAIN, F8_ERR_CORRUPT, "truncated" },
	{ "truncated-data-gz", IMAGES, GZ, F8_ERR_CORRUPT, "truncated" },
	{ "truncated-labels", LABELS, PLAIN, F8_ERR_CORRUPT, "truncated" },
	{ "trailing-bytes", IMAGES, PLAIN, F8_ERR_FORMAT, "trailing" },
	{ "trailing-bytes-gz", LABELS, GZ, F8_ERR_FORMAT, "trailing" },
	{ "count-mismatch", LABELS, PLAIN, F8_ERR_FORMAT, "labels" },
	{ "label-out-of-range", LABELS, GZ, F8_ERR_FORMAT, "label 3" },
	{ "zero-images", IMAGES, PLAIN, F8_ERR_FORMAT, "no items" },
	{ "zero-width", IMAGES, GZ, F8_ERR_FORMAT, "dimension 2 is 0" },
	{ "huge-side", IMAGES, PLAIN, F8_ERR_RANGE, "limit" },
	{ "huge-total", IMAGES, PLAIN, F8_ERR_RANGE, "limit" },
	{ "gzip-bad-block", IMAGES, GZ, F8_ERR_CORRUPT, "corrupt gzip" },
	{ "gzip-bad-crc", LABELS, GZ, F8_ERR_CORRUPT, "corrupt gzip" },
	{ "gzip-cut-compressed", IMAGES, GZ, F8_ERR_CORRUPT, "truncated" },
	{ "gzip-no-trailer", IMAGES, GZ, F8_ERR_CORRUPT, "truncated" },
	{ "missing-file", LABELS, PLAIN, F8_ERR_IO, "cannot open" },
	{ "empty-file", IMAGES, GZ, F8_ERR_CORRUPT, "truncated" },
};

/* Break @x (the file @c->which of the good set) as @c->name says, before packing. */
static void break_raw(const struct bad_case *c, struct idx_buf *x)
{
	const char *n = c->name;
	uint32_t dims[3];

	if (!strncmp(n, "bad-magic", 9)) {
		x->b[1] = 0x01;
	} else if (!strcmp(n, "wrong-type")) {
		x->b[2] = 0x0d; /* float */
	} else if (!strcmp(n, "wrong-type-labels")) {
		x->b[2] = 0x0b; /* short */
	} else if (!strcmp(n, "wrong-rank")) {
		x->b[3] = 4;
	} else if (!strcmp(n, "wrong-rank-labels")) {
		x->b[3] = 2;
	} else if (!strcmp(n, "truncated-header")) {
		x->n = 3;
	} else if (!strcmp(n, "truncated-dims")) {
		x->n = 6;
	} else if (!strncmp(n, "truncated-", 10)) {
		x->n -= 1;
	} else if (!strncmp(n, "trailing-bytes", 14)) {
		x->b[x->n++] = 0;
	} else if (!strcmp(n, "count-mismatch")) {
		dims[0] = GN - 1;
		idx_header(x, 0x08, 1, dims);
		idx_body(x, (const uint8_t[]){ 0, 1, 2, 0 }, GN - 1);
	} else if (!strcmp(n, "label-out-of-range")) {
		x->b[8 + 3] = GCLASSES; /* label of item 3 */
	} else if (!strcmp(n, "zero-images")) {
		dims[0] = 0;
		dims[1] = GH;
		dims[2] = GW;
		idx_header(x, 0x08, 3, dims);
	} else if (!strcmp(n, "zero-width")) {
		dims[0] = GN;
		dims[1] = GH;
		dims[2] = 0;
		idx_header(x, 0x08, 3, dims);
	} else if (!strcmp(n, "huge-side")) {
		dims[0] = 1;
		dims[1] = 5000;
		dims[2] = 1;
		idx_header(x, 0x08, 3, dims);
	} else if (!strcmp(n, "huge-total")) {
		/* 2^20 images of 4096 x 4096: 2^44 bytes, refused before any allocation. */
		dims[0] = 1u << 20;
		dims[1] = 4096;
		dims[2] = 4096;
		idx_header(x, 0x08, 3, dims);
	} else if (!strcmp(n, "empty-file")) {
		x->n = 0;
	}
}

/* Damage to the compressed bytes of @path (gzip header 10 bytes, trailer CRC + ISIZE). */
static void break_packed(const struct bad_case *c, const char *path)
{
	size_t n;
	uint8_t *p;

	if (strncmp(c->name, "gzip-", 5))
		return;
	p = f8tt_read_file(path, &n);
	ck_assert_uint_gt(n, 20);
	if (!strcmp(c->name, "gzip-bad-block"))
		p[10] = 0x07;          /* BFINAL 1, BTYPE 11: an invalid deflate block type */
	else if (!strcmp(c->name, "gzip-bad-crc"))
		p[n - 8] ^= 0x5a;      /* the CRC-32 of the trailer */
	else if (!strcmp(c->name, "gzip-cut-compressed"))
		n = n / 2;
	else if (!strcmp(c->name, "gzip-no-trailer"))
		n -= 8;
	f8tt_write_file(path, p, n);
	free(p);
}

START_TEST(test_idx_bad)
{
	const struct bad_case *c = &bad_cases[_i];
	struct idx_buf im, lb;
	struct idx_buf *x;
	char imname[96], lbname[96];
	const char *bad;
	struct f8_dataset ds;
	struct f8_err err = { "" };
	int rc;

	good_images(&im);
	good_labels(&lb);
	x = c->which == IMAGES ? &im : &lb;
	break_raw(c, x);
	snprintf(imname, sizeof(imname), "%s-images%s", c->name, c->pack == GZ && c->which == IMAGES ? ".gz" : "");
	snprintf(lbname, sizeof(lbname), "%s-labels%s", c->name, c->pack == GZ && c->which == LABELS ? ".gz" : "");
	(c->pack == GZ && c->which == IMAGES ? write_gz : f8tt_write_file)(f8tt_path(imname), im.b, im.n);
	(c->pack == GZ && c->which == LABELS ? write_gz : f8tt_write_file)(f8tt_path(lbname), lb.b, lb.n);
	bad = f8tt_path(c->which == IMAGES ? imname : lbname);
	break_packed(c, bad);
	if (!strcmp(c->name, "missing-file"))
		ck_assert_int_eq(unlink(bad), 0);

	ds.n = 12345;
	rc = f8_idx_load(&ds, f8tt_path(imname), f8tt_path(lbname), GCLASSES, &err);
	ck_assert_msg(rc == c->status, "%s: status %d (%s), want %d; message: %s", c->name, rc,
		      f8_status_str(rc), c->status, err.msg);
	ck_assert_msg(strstr(err.msg, bad) != NULL, "%s: message does not name %s: %s", c->name,
		      bad, err.msg);
	ck_assert_msg(strstr(err.msg, c->msg) != NULL, "%s: message lacks '%s': %s", c->name,
		      c->msg, err.msg);
	/* Nothing is returned on failure (free is still harmless). */
	ck_assert_ptr_null(ds.pixels);
	ck_assert_ptr_null(ds.labels);
	ck_assert_int_eq(ds.n, 0);
	f8_dataset_free(&ds);
}
END_TEST

/* f8_idx_load in a child whose data segment may grow by @headroom bytes; its status. */
static int load_limited(const char *images, const char *labels, size_t headroom)
{
	pid_t pid = fork();
	int wst;

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct f8_dataset ds;
		struct f8_err err = { "" };
		f8tt_limit_data(headroom);
		_exit(-f8_idx_load(&ds, images, labels, 10, &err));
	}
	ck_assert_int_eq(waitpid(pid, &wst, 0), pid);
	ck_assert_msg(WIFEXITED(wst), "the loader died (signal %d)", WTERMSIG(wst));
	ck_assert_int_ne(WEXITSTATUS(wst), 100);
	return -WEXITSTATUS(wst);
}

START_TEST(test_idx_hostile)
{
	const uint32_t big[3] = { 2739128, 28, 28 }; /* 2147476352 bytes: the largest set */
	struct idx_buf im, lb;
	struct f8_dataset ds;
	struct f8_err err = { "" };
	uint8_t body[100] = { 0 };

	/* A FIFO where the images should be: refused, never waited on. */
	good_labels(&lb);
	f8tt_write_file(f8tt_path("l"), lb.b, lb.n);
	ck_assert_int_eq(mkfifo(f8tt_path("fifo"), 0600), 0);
	alarm(20); /* a blocking open fails the run instead of hanging it (CK_FORK=no) */
	ck_assert_int_eq(f8_idx_load(&ds, f8tt_path("fifo"), f8tt_path("l"), 10, &err), F8_ERR_IO);
	alarm(0);
	ck_assert_msg(strstr(err.msg, "not a regular file") != NULL, "%s", err.msg);

	/* 100 bytes of a gzip'd set announcing 2 GiB, 5 labels: the counts first, no 2 GiB. */
	idx_header(&im, 0x08, 3, big);
	idx_body(&im, body, sizeof(body));
	write_gz(f8tt_path("big.gz"), im.b, im.n);
	ck_assert_int_eq(load_limited(f8tt_path("big.gz"), f8tt_path("l"), 256u << 20), F8_ERR_FORMAT);
	ck_assert_int_eq(f8_idx_load(&ds, f8tt_path("big.gz"), f8tt_path("l"), 10, &err), F8_ERR_FORMAT);
	ck_assert_msg(strstr(err.msg, "2739128 images") != NULL, "%s", err.msg);

	/* Counts that agree, both files short: truncated, not out of memory. */
	idx_header(&lb, 0x08, 1, (const uint32_t[]){ big[0] });
	idx_body(&lb, body, 5);
	write_gz(f8tt_path("bigl.gz"), lb.b, lb.n);
	ck_assert_int_eq(load_limited(f8tt_path("big.gz"), f8tt_path("bigl.gz"), 256u << 20),
			 F8_ERR_CORRUPT);
}
END_TEST

/* ---- the installed Fashion-MNIST ---- */

static void check_fmnist(bool train, int n)
{
	struct f8_dataset ds;
	struct f8_err err = { "" };
	int count[10] = { 0 }, i, rc;
	uint8_t maxpx = 0;

	rc = f8_fmnist_load(&ds, NULL, train, &err);
	ck_assert_msg(rc == F8_OK, "Fashion-MNIST %s: %s", train ? "train" : "test", err.msg);
	ck_assert_int_eq(ds.n, n);
	ck_assert_int_eq(ds.c, 1);
	ck_assert_int_eq(ds.h, 28);
	ck_assert_int_eq(ds.w, 28);
	ck_assert_int_eq(ds.classes, 10);
	for (i = 0; i < ds.n; i++)
		count[ds.labels[i]]++;
	for (i = 0; i < 10; i++)
		ck_assert_int_eq(count[i], n / 10);
	for (i = 0; i < 784; i++)
		maxpx = ds.pixels[i] > maxpx ? ds.pixels[i] : maxpx;
	ck_assert_uint_gt(maxpx, 0);
	f8_dataset_free(&ds);
}

START_TEST(test_fmnist_train)
{
	check_fmnist(true, 60000);
}
END_TEST

START_TEST(test_fmnist_test)
{
	struct f8_dataset ds;
	struct f8_err err = { "" };

	check_fmnist(false, 10000);
	/* A directory without the files: F8_ERR_IO naming the file. */
	ck_assert_int_eq(f8_fmnist_load(&ds, f8tt_tmpdir, false, &err), F8_ERR_IO);
	ck_assert_ptr_nonnull(strstr(err.msg, "t10k-images-idx3-ubyte"));
}
END_TEST

/* Unpacked copies are found too (the loader tries <name>.gz, then <name>). */
START_TEST(test_fmnist_plain_dir)
{
	struct idx_buf im, lb;
	struct f8_dataset ds;
	struct f8_err err = { "" };
	const uint32_t dims[1] = { GN };

	good_images(&im);
	idx_header(&lb, 0x08, 1, dims);
	idx_body(&lb, (const uint8_t[]){ 9, 8, 7, 6, 5 }, GN);
	f8tt_write_file(f8tt_path("t10k-images-idx3-ubyte"), im.b, im.n);
	write_gz(f8tt_path("t10k-labels-idx1-ubyte.gz"), lb.b, lb.n);
	ck_assert_msg(f8_fmnist_load(&ds, f8tt_tmpdir, false, &err) == F8_OK, "%s", err.msg);
	ck_assert_int_eq(ds.n, GN);
	ck_assert_uint_eq(ds.labels[0], 9);
	f8_dataset_free(&ds);
}
END_TEST

/* ---- batches ---- */

/* One 3 x 3 image, pixels 1..9, label 7. */
static uint8_t tiny_px[9] = { 1, 2, 3, 4, 5, 6, 7, 8, 9 };
static uint8_t tiny_lb[1] = { 7 };
static const struct f8_dataset tiny = { 1, 1, 3, 3, 10, tiny_px, tiny_lb };
/* Pixel values as floats: norm {0, 1/255} leaves them unscaled (up to rounding). */
static const struct f8_norm identity = { 0.0f, 1.0f / 255.0f };

/*
 * Every crop of a 3 x 3 image padded by 1, and its mirror, written out by hand:
 * crops[dy + 1][dx + 1] is the window whose top-left is (dy, dx) in the unpadded image.
 */
static const uint8_t crops[3][3][9] = {
	{ { 0, 0, 0, 0, 1, 2, 0, 4, 5 }, { 0, 0, 0, 1, 2, 3, 4, 5, 6 }, { 0, 0, 0, 2, 3, 0, 5, 6, 0 } },
	{ { 0, 1, 2, 0, 4, 5, 0, 7, 8 }, { 1, 2, 3, 4, 5, 6, 7, 8, 9 }, { 2, 3, 0, 5, 6, 0, 8, 9, 0 } },
	{ { 0, 4, 5, 0, 7, 8, 0, 0, 0 }, { 4, 5, 6, 7, 8, 9, 0, 0, 0 }, { 5, 6, 0, 8, 9, 0, 0, 0, 0 } },
};

static void mirror(const uint8_t *in, uint8_t *out)
{
	int y, x;

	for (y = 0; y < 3; y++)
		for (x = 0; x < 3; x++)
			out[3 * y + x] = in[3 * y + 2 - x];
}

/* Which of the 18 answers @x is (index 2 * (3 (dy+1) + dx+1) + flip), or -1. */
static int which_answer(const float *x)
{
	int k, j, hit = -1;
	uint8_t m[9];

	for (k = 0; k < 18; k++) {
		const uint8_t *want = crops[k / 6][(k / 2) % 3];

		if (k & 1) {
			mirror(want, m);
			want = m;
		}
		for (j = 0; j < 9; j++)
			if (x[j] != ((float)want[j] / 255.0f - identity.mean) / identity.std)
				break;
		if (j == 9) {
			/* The 18 answers all differ: a match is unique. */
			ck_assert_msg(hit < 0, "answers %d and %d are equal", hit, k);
			hit = k;
		}
	}
	return hit;
}

START_TEST(test_batch_crop_flip)
{
	enum { N = 400 };
	const struct f8_augment aug = { 1, true };
	static int index[N], labels[N];
	static float x[N * 9];
	int seen[18] = { 0 }, i;
	struct f8_rng rng, ref;

	f8_rng_init(&rng, 42, 3);
	ref = rng;
	f8_batch_fill(&tiny, index, N, &identity, &aug, &rng, x, labels);
	for (i = 0; i < N; i++) {
		int k = which_answer(x + 9 * i), dy, dx, flip;

		ck_assert_msg(k >= 0, "image %d is no crop/flip of the input", i);
		ck_assert_int_eq(labels[i], 7);
		seen[k]++;
		/* The documented draw order: dy, dx in [-p, p], then the flip bit. */
		dy = (int)f8_rng_below(&ref, 3) - 1;
		dx = (int)f8_rng_below(&ref, 3) - 1;
		flip = (int)(f8_rng_u64(&ref) >> 63);
		ck_assert_int_eq(k, 2 * (3 * (dy + 1) + dx + 1) + flip);
	}
	for (i = 0; i < 18; i++)
		ck_assert_msg(seen[i] > 0, "answer %d never drawn in %d images", i, N);
	/* The rng was advanced exactly as far as the reference. */
	ck_assert_uint_eq(f8_rng_u64(&rng), f8_rng_u64(&ref));
}
END_TEST

/* Crop only, flip only, none: the known answers of one draw each. */
START_TEST(test_batch_modes)
{
	const struct f8_augment crop = { 1, false }, flip = { 0, true }, none = { 0, false };
	int index[1] = { 0 }, i, label;
	float x[9];
	uint8_t m[9];
	struct f8_rng rng, ref;

	f8_rng_init(&rng, 7, 0);
	ref = rng;
	for (i = 0; i < 20; i++) {
		int dy, dx;

		f8_batch_fill(&tiny, index, 1, &identity, &crop, &rng, x, &label);
		dy = (int)f8_rng_below(&ref, 3);
		dx = (int)f8_rng_below(&ref, 3);
		ck_assert_int_eq(which_answer(x), 2 * (3 * dy + dx));
	}
	for (i = 0; i < 20; i++) {
		int fl;

		f8_batch_fill(&tiny, index, 1, &identity, &flip, &rng, x, &label);
		fl = (int)(f8_rng_u64(&ref) >> 63);
		ck_assert_int_eq(which_answer(x), 2 * 4 + fl);
	}
	/* No augmentation: the image itself, no rng needed, NULL labels allowed. */
	f8_batch_fill(&tiny, index, 1, &identity, &none, NULL, x, NULL);
	ck_assert_int_eq(which_answer(x), 8);
	f8_batch_fill(&tiny, index, 1, &identity, NULL, NULL, x, NULL);
	ck_assert_int_eq(which_answer(x), 8);
	mirror(crops[1][1], m);
	ck_assert_uint_eq(m[0], 3);
}
END_TEST

/* A larger crop pad than the image: everything may be padding, nothing out of bounds. */
START_TEST(test_batch_big_pad)
{
	const struct f8_augment aug = { 5, true };
	int index[64] = { 0 }, i, zero = 0;
	float x[64 * 9];
	struct f8_rng rng;

	f8_rng_init(&rng, 1, 1);
	f8_batch_fill(&tiny, index, 64, &identity, &aug, &rng, x, NULL);
	for (i = 0; i < 64 * 9; i++) {
		ck_assert(x[i] >= -0.001f && x[i] <= 9.001f);
		zero += x[i] == 0.0f;
	}
	ck_assert_int_gt(zero, 64 * 9 / 2);
}
END_TEST

START_TEST(test_batch_norm)
{
	static uint8_t px[4] = { 0, 255, 73, 128 };
	static uint8_t lb[2] = { 1, 0 };
	const struct f8_dataset ds = { 2, 2, 1, 1, 2, px, lb }; /* 2 images, 2 channels of 1 x 1 */
	const struct f8_norm nm = F8_FMNIST_NORM;
	int index[3] = { 1, 0, 1 }, labels[3], i;
	float x[6];

	f8_batch_fill(&ds, index, 3, &nm, NULL, NULL, x, labels);
	for (i = 0; i < 6; i++) {
		const int v = px[2 * index[i / 2] + i % 2];
		const double want = ((double)v / 255.0 - 0.2860) / 0.3530;

		ck_assert_msg(fabs(x[i] - want) < 1e-5, "value %d: %g, want %g", i, x[i], want);
	}
	ck_assert(fabs(x[2] - (0.0 - 0.2860) / 0.3530) < 1e-5);    /* pixel 0 */
	ck_assert(fabs(x[3] - (1.0 - 0.2860) / 0.3530) < 1e-5);    /* pixel 255 */
	ck_assert_int_eq(labels[0], 0);
	ck_assert_int_eq(labels[1], 1);
	ck_assert_int_eq(labels[2], 0);
}
END_TEST

START_TEST(test_batch_determinism)
{
	enum { N = 32, HW = 28 * 28 };
	const struct f8_augment aug = { 4, true };
	static uint8_t px[8 * HW], lb[8];
	const struct f8_dataset ds = { 8, 1, 28, 28, 10, px, lb };
	static float a[N * HW], b[N * HW];
	int index[N], la[N], lbl[N], i;
	struct f8_rng r1, r2;

	for (i = 0; i < 8 * HW; i++)
		px[i] = (uint8_t)(i * 37 + i / 28);
	for (i = 0; i < 8; i++)
		lb[i] = (uint8_t)i;
	for (i = 0; i < N; i++)
		index[i] = (i * 5) % 8;
	f8_rng_init(&r1, 1234, 2);
	f8_rng_init(&r2, 1234, 2);
	f8_batch_fill(&ds, index, N, &F8_FMNIST_NORM, &aug, &r1, a, la);
	f8_batch_fill(&ds, index, N, &F8_FMNIST_NORM, &aug, &r2, b, lbl);
	ck_assert(memcmp(a, b, sizeof(a)) == 0);
	ck_assert(memcmp(la, lbl, sizeof(la)) == 0);
	/* Another seed: other crops. */
	f8_rng_init(&r2, 1235, 2);
	f8_batch_fill(&ds, index, N, &F8_FMNIST_NORM, &aug, &r2, b, lbl);
	ck_assert(memcmp(a, b, sizeof(a)) != 0);
}
END_TEST

START_TEST(test_shuffle)
{
	enum { N = 1000 };
	static int a[N], b[N];
	int seen[N] = { 0 }, i, moved = 0;
	struct f8_rng r1, r2;

	for (i = 0; i < N; i++)
		a[i] = b[i] = i;
	f8_rng_init(&r1, 99, 1);
	f8_rng_init(&r2, 99, 1);
	f8_shuffle(a, N, &r1);
	f8_shuffle(b, N, &r2);
	ck_assert(memcmp(a, b, sizeof(a)) == 0);
	for (i = 0; i < N; i++) {
		ck_assert(a[i] >= 0 && a[i] < N);
		ck_assert_int_eq(seen[a[i]]++, 0);
		moved += a[i] != i;
	}
	ck_assert_int_gt(moved, N / 2);
	/* Degenerate sizes. */
	f8_shuffle(a, 0, &r1);
	f8_shuffle(a, 1, &r1);
	/* All 6 orders of 3 items appear. */
	{
		int orders[6] = { 0 }, t, k;

		for (t = 0; t < 600; t++) {
			int p[3] = { 0, 1, 2 };

			f8_shuffle(p, 3, &r1);
			k = p[0] * 2 + (p[1] > p[2]);
			orders[k]++;
		}
		for (k = 0; k < 6; k++)
			ck_assert_int_gt(orders[k], 50);
	}
}
END_TEST

Suite *f8_train_data_suite(void)
{
	Suite *s = suite_create("train_data");
	TCase *tc = tcase_create("idx");

	tcase_add_checked_fixture(tc, tmp_setup, f8tt_tmpdir_remove);
	tcase_add_test(tc, test_idx_good);
	tcase_add_loop_test(tc, test_idx_bad, 0, (int)(sizeof(bad_cases) / sizeof(bad_cases[0])));
	suite_add_tcase(s, tc);
	tc = tcase_create("fmnist");
	tcase_add_checked_fixture(tc, tmp_setup, f8tt_tmpdir_remove);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_idx_hostile);
	tcase_add_test(tc, test_fmnist_train);
	tcase_add_test(tc, test_fmnist_test);
	tcase_add_test(tc, test_fmnist_plain_dir);
	suite_add_tcase(s, tc);
	tc = tcase_create("batch");
	tcase_add_test(tc, test_batch_crop_flip);
	tcase_add_test(tc, test_batch_modes);
	tcase_add_test(tc, test_batch_big_pad);
	tcase_add_test(tc, test_batch_norm);
	tcase_add_test(tc, test_batch_determinism);
	tcase_add_test(tc, test_shuffle);
	suite_add_tcase(s, tc);
	return s;
}
