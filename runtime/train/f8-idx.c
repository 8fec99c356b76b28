// SPDX-License-Identifier: MIT
/*
 * Datasets in the IDX format (the MNIST family), gzip'd or plain, read through zlib
 * (gzread passes plain files through unchanged), and the Fashion-MNIST loader
 * (f8-data.h).
 *
 * IDX: a 4-byte magic (0, 0, type, rank), rank big-endian u32 dimensions, then the
 * elements. Only u8 elements (type 0x08) are supported: images of rank 3 (n, h, w),
 * labels of rank 1 (n). The files are untrusted: every field is checked, the data must
 * fill the file exactly (a short file is truncated, a longer one has trailing bytes),
 * and gzip errors (bad stream, bad CRC, early end) are reported, never ignored.
 * A path must be a regular file (opened non-blocking, so a FIFO is refused, not waited
 * on); both headers are read and compared before any data, and the data buffer grows
 * with what the stream really holds, never to a size the header only announces.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "f8-data.h"
#include "f8-fs.h"

#define F8_IDX_TYPE_U8 0x08
/* Limits of what libf8 loads: a side of 4096 and 2^31 bytes of pixels are far above any
 * dataset it trains on, and keep every count and product inside int. */
#define F8_IDX_MAX_SIDE 4096u
#define F8_IDX_MAX_BYTES ((1ull << 31) - 1)
#define F8_IDX_MAX_RANK 3

struct f8_idx {
	int rank;
	uint32_t dims[F8_IDX_MAX_RANK];
	uint8_t *data; /* dims[0] * ... * dims[rank-1] bytes */
	size_t size;
};

/* Why the last gzread stopped early: zlib's message for a bad stream, else truncation. */
static int f8_idx_read_fail(struct f8_err *err, gzFile f, const char *path, const char *what,
			    size_t got, size_t want)
{
	int zerr = Z_OK;
	const char *msg = gzerror(f, &zerr);
	const size_t plen = strlen(path);

	/* zlib prefixes its messages with the path; ours already starts with it. */
	if (!strncmp(msg, path, plen) && !strncmp(msg + plen, ": ", 2))
		msg += plen + 2;
	if (zerr == Z_ERRNO)
		return f8_fail(err, F8_ERR_IO, "%s: read error in the %s: %s", path, what,
			       strerror(errno));
	if (zerr != Z_OK && zerr != Z_BUF_ERROR)
		return f8_fail(err, F8_ERR_CORRUPT, "%s: corrupt gzip stream (in the %s): %s", path,
			       what, msg);
	if (want == 0)
		return f8_fail(err, F8_ERR_CORRUPT, "%s: truncated gzip stream (no %s)", path, what);
	return f8_fail(err, F8_ERR_CORRUPT, "%s: truncated in the %s: %zu bytes wanted, %zu read",
		       path, what, want, got);
}

/* Read exactly @n bytes; 0 or a status with the reason. */
static int f8_idx_read(struct f8_err *err, gzFile f, const char *path, const char *what, void *buf,
		       size_t n)
{
	size_t done = 0;

	while (done < n) {
		size_t chunk = n - done > (1u << 30) ? (1u << 30) : n - done;
		int r = gzread(f, (uint8_t *)buf + done, (unsigned int)chunk);

		if (r <= 0)
			return f8_idx_read_fail(err, f, path, what, done, n);
		done += (size_t)r;
	}
	return F8_OK;
}

static uint32_t f8_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The first allocation for IDX data; it doubles as the stream delivers (up to the size). */
#define F8_IDX_CHUNK (1u << 20)

/* Open a u8 IDX file of rank @rank and read its header into @idx; *gz open on success. */
static int f8_idx_open(struct f8_idx *idx, const char *path, int rank, gzFile *gz,
		       struct f8_err *err)
{
	uint8_t hdr[4 + 4 * F8_IDX_MAX_RANK];
	unsigned long long total = 1;
	gzFile f;
	int i, rc, fd;

	memset(idx, 0, sizeof(*idx));
	*gz = NULL;
	fd = f8_fs_open_regular(path, NULL, err);
	if (fd < 0)
		return fd;
	errno = 0;
	f = gzdopen(fd, "rb");
	if (!f) {
		close(fd);
		return f8_fail(err, F8_ERR_NOMEM, "%s: cannot open: out of memory", path);
	}
	gzbuffer(f, 256 * 1024);
	rc = f8_idx_read(err, f, path, "IDX header", hdr, 4);
	if (rc)
		goto out;
	if (hdr[0] != 0 || hdr[1] != 0) {
		rc = f8_fail(err, F8_ERR_FORMAT,
			     "%s: not an IDX file (magic %02x %02x %02x %02x, want 00 00 08 %02x)",
			     path, hdr[0], hdr[1], hdr[2], hdr[3], rank);
		goto out;
	}
	if (hdr[2] != F8_IDX_TYPE_U8) {
		rc = f8_fail(err, F8_ERR_FORMAT,
			     "%s: IDX element type 0x%02x is not supported (only u8, 0x08)", path,
			     hdr[2]);
		goto out;
	}
	if (hdr[3] != rank) {
		rc = f8_fail(err, F8_ERR_FORMAT, "%s: IDX rank %d, want %d (%s)", path, hdr[3],
			     rank, rank == 1 ? "labels" : "images n x h x w");
		goto out;
	}
	rc = f8_idx_read(err, f, path, "IDX dimensions", hdr + 4, 4 * (size_t)rank);
	if (rc)
		goto out;
	idx->rank = rank;
	for (i = 0; i < rank; i++) {
		idx->dims[i] = f8_be32(hdr + 4 + 4 * i);
		if (idx->dims[i] == 0) {
			rc = f8_fail(err, F8_ERR_FORMAT, "%s: dimension %d is 0 (%s)", path, i,
				     i == 0 ? "no items" : "empty items");
			goto out;
		}
		if (i > 0 && idx->dims[i] > F8_IDX_MAX_SIDE) {
			rc = f8_fail(err, F8_ERR_RANGE, "%s: dimension %d is %u, above the limit %u",
				     path, i, idx->dims[i], F8_IDX_MAX_SIDE);
			goto out;
		}
		total *= idx->dims[i]; /* <= 2^32 * 4096^2: no overflow in 64 bits */
	}
	if (total > F8_IDX_MAX_BYTES) {
		rc = f8_fail(err, F8_ERR_RANGE, "%s: %llu bytes of data, above the limit %llu", path,
			     total, F8_IDX_MAX_BYTES);
		goto out;
	}
	idx->size = (size_t)total;
	*gz = f;
	return F8_OK;
out:
	gzclose(f);
	return rc;
}

/*
 * Read the @idx->size data bytes that follow the header, then check the end of the
 * stream; closes @f. The buffer grows as data arrives, so a small file that announces
 * a large set costs what it holds, not what it announces.
 */
static int f8_idx_read_data(struct f8_idx *idx, gzFile f, const char *path, struct f8_err *err)
{
	uint8_t extra;
	size_t done = 0, cap = 0;
	int rc = F8_OK, r;

	while (done < idx->size) {
		size_t want;

		if (done == cap) {
			size_t next = cap ? 2 * cap : F8_IDX_CHUNK;
			uint8_t *p;

			if (next > idx->size)
				next = idx->size;
			p = realloc(idx->data, next);
			if (!p) {
				rc = f8_fail(err, F8_ERR_NOMEM, "%s: cannot allocate %zu bytes", path,
					     next);
				goto out;
			}
			idx->data = p;
			cap = next;
		}
		want = cap - done < (1u << 30) ? cap - done : (1u << 30);
		r = gzread(f, idx->data + done, (unsigned int)want);
		if (r <= 0) {
			rc = f8_idx_read_fail(err, f, path, "data", done, idx->size);
			goto out;
		}
		done += (size_t)r;
	}
	/* Reading past the data also makes zlib check the gzip trailer (CRC and length). */
	r = gzread(f, &extra, 1);
	if (r > 0) {
		rc = f8_fail(err, F8_ERR_FORMAT,
			     "%s: trailing bytes after the %zu bytes the dimensions describe", path,
			     idx->size);
		goto out;
	}
	if (r < 0 || (gzerror(f, &r), r != Z_OK)) {
		/* A bad CRC, or a gzip member cut after its data but before its trailer. */
		rc = f8_idx_read_fail(err, f, path, "gzip trailer", 0, 0);
		goto out;
	}
out:
	if (gzclose(f) != Z_OK && !rc)
		rc = f8_fail(err, F8_ERR_IO, "%s: close failed", path);
	if (rc) {
		free(idx->data);
		idx->data = NULL;
	}
	return rc;
}

int f8_idx_load(struct f8_dataset *ds, const char *images_path, const char *labels_path,
		int classes, struct f8_err *err)
{
	struct f8_idx im, lb;
	gzFile gi, gl;
	uint32_t i;
	int rc;

	if (!ds || !images_path || !labels_path)
		return f8_fail(err, F8_ERR_MISUSE, "f8_idx_load: NULL argument");
	memset(ds, 0, sizeof(*ds));
	if (classes < 1 || classes > 256)
		return f8_fail(err, F8_ERR_MISUSE, "f8_idx_load: %d classes (u8 labels: 1..256)",
			       classes);
	/* Both headers first: counts that disagree are refused before any data is read. */
	rc = f8_idx_open(&im, images_path, 3, &gi, err);
	if (rc)
		return rc;
	rc = f8_idx_open(&lb, labels_path, 1, &gl, err);
	if (rc) {
		gzclose(gi);
		return rc;
	}
	if (im.dims[0] != lb.dims[0]) {
		rc = f8_fail(err, F8_ERR_FORMAT, "%s holds %u images but %s holds %u labels",
			     images_path, im.dims[0], labels_path, lb.dims[0]);
		gzclose(gi);
		gzclose(gl);
		return rc;
	}
	rc = f8_idx_read_data(&lb, gl, labels_path, err);
	if (rc) {
		gzclose(gi);
		return rc;
	}
	rc = f8_idx_read_data(&im, gi, images_path, err);
	if (rc) {
		free(lb.data);
		return rc;
	}
	for (i = 0; i < lb.dims[0]; i++) {
		if (lb.data[i] >= classes) {
			rc = f8_fail(err, F8_ERR_FORMAT, "%s: label %u of item %u is not below %d classes",
				     labels_path, lb.data[i], i, classes);
			goto fail;
		}
	}
	ds->n = (int)im.dims[0];
	ds->c = 1;
	ds->h = (int)im.dims[1];
	ds->w = (int)im.dims[2];
	ds->classes = classes;
	ds->pixels = im.data;
	ds->labels = lb.data;
	return F8_OK;
fail:
	free(im.data);
	free(lb.data);
	return rc;
}

/* @dir/@name.gz if it exists, else @dir/@name (an unpacked copy), into @buf. */
static int f8_fmnist_path(char *buf, size_t size, const char *dir, const char *name,
			  struct f8_err *err)
{
	int n = snprintf(buf, size, "%s/%s.gz", dir, name);

	if (n < 0 || (size_t)n >= size)
		return f8_fail(err, F8_ERR_RANGE, "Fashion-MNIST directory name too long: %s", dir);
	if (access(buf, F_OK) != 0) {
		snprintf(buf, size, "%s/%s", dir, name);
		if (access(buf, F_OK) != 0)
			return f8_fail(err, F8_ERR_IO,
				       "%s/%s.gz: not found (Debian: apt install dataset-fashion-mnist)",
				       dir, name);
	}
	return F8_OK;
}

int f8_fmnist_load(struct f8_dataset *ds, const char *dir, bool train, struct f8_err *err)
{
	const char *split = train ? "train" : "t10k";
	char name[64], images[4096], labels[4096];
	int rc;

	if (!ds)
		return f8_fail(err, F8_ERR_MISUSE, "f8_fmnist_load: NULL dataset");
	memset(ds, 0, sizeof(*ds));
	if (!dir)
		dir = F8_FMNIST_DIR;
	snprintf(name, sizeof(name), "%s-images-idx3-ubyte", split);
	rc = f8_fmnist_path(images, sizeof(images), dir, name, err);
	if (rc)
		return rc;
	snprintf(name, sizeof(name), "%s-labels-idx1-ubyte", split);
	rc = f8_fmnist_path(labels, sizeof(labels), dir, name, err);
	if (rc)
		return rc;
	return f8_idx_load(ds, images, labels, 10, err);
}

void f8_dataset_truncate(struct f8_dataset *ds, int n)
{
	/* The buffers keep their size: only the count shrinks. n <= 0 keeps everything. */
	if (n > 0 && n < ds->n)
		ds->n = n;
}

void f8_dataset_free(struct f8_dataset *ds)
{
	if (!ds)
		return;
	free(ds->pixels);
	free(ds->labels);
	memset(ds, 0, sizeof(*ds));
}
