// SPDX-License-Identifier: MIT
/*
 * Checkpoints of a training run (f8-ckpt.h; byte layout in docs/checkpoint-format.md).
 *
 * A 32-byte header (magic, version, payload length, payload CRC-32, header CRC-32) and
 * a payload of tagged, length-prefixed sections, all little-endian, encoded field by
 * field (never a struct image, so padding and ABI never leak into the file).
 *
 * Saving streams the payload into <path>.tmp.<pid> in the destination's directory
 * (f8-fs.h: created exclusively, temporaries of dead writers removed first), rewrites
 * the header once the CRC is known, fsyncs, renames over <path> and fsyncs the
 * directory: readers see the old file or the new one, never a mix.
 *
 * Loading is one sequential pass under a running CRC, and no size the file announces
 * drives an allocation on its own: the header's length must be the file's size, the
 * small sections have fixed bounds, ARCH comes first and the network it describes fixes
 * the exact size of the float arrays, which are read straight into the network. A
 * layout or range error found on the way is held back until the CRC has been checked,
 * so a damaged file is always reported as corrupt; nothing is returned before the CRC
 * and every decoded value (configuration, progress, history) have been checked.
 */
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "f8-ckpt.h"
#include "f8-fs.h"
#include "f8-train.h"

/* "\x89" keeps 7-bit channels and text-mode transfers from passing a mangled file. */
static const uint8_t f8_ckpt_magic[8] = { 0x89, 'F', '8', 'C', 'K', 'P', 'T', '\n' };

#define F8_CKPT_HDR 32
#define F8_CKPT_SEC_HDR 12 /* tag (4) + length (u64) */
/* Larger than any model libf8 trains (and a bound on what a corrupt length can ask for). */
#define F8_CKPT_MAX_BYTES (1ull << 36)
/* Bounds of the sections read into memory whole (the float arrays are sized by ARCH). */
#define F8_CKPT_ARCH_MAX (1u << 24)      /* architecture text: 16 MiB */
#define F8_CKPT_SMALL_MAX (1u << 16)     /* CONF, PROG of a later minor version */
#define F8_CKPT_HIST_ENTRY_MAX 4096u     /* one HIST entry of a later minor version */
#define F8_CKPT_MODEL_MAX ((int)sizeof(((struct f8_train_cfg *)0)->model))

/* Section tags, in the order the writer emits them. */
#define F8_TAG(a, b, c, d) ((uint32_t)(a) | (uint32_t)(b) << 8 | (uint32_t)(c) << 16 | (uint32_t)(d) << 24)
enum {
	F8_SEC_ARCH = F8_TAG('A', 'R', 'C', 'H'),
	F8_SEC_CONF = F8_TAG('C', 'O', 'N', 'F'),
	F8_SEC_PROG = F8_TAG('P', 'R', 'O', 'G'),
	F8_SEC_HIST = F8_TAG('H', 'I', 'S', 'T'),
	F8_SEC_PARM = F8_TAG('P', 'A', 'R', 'M'),
	F8_SEC_BNST = F8_TAG('B', 'N', 'S', 'T'),
	F8_SEC_VELO = F8_TAG('V', 'E', 'L', 'O'),
};

/* Fixed section sizes of version 1.0. */
#define F8_CONF_BYTES (4 + F8_CKPT_MODEL_MAX + 3 * 4 + 3 * 4 + 2 * 4 + 4 + 4 + 1 + 8 + 2 * 4)
#define F8_PROG_BYTES (4 + 8)
#define F8_HIST_ENTRY (4 + 7 * 8)

/* ---- little-endian encoding ---- */

static void f8_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static void f8_put64(uint8_t *p, uint64_t v)
{
	f8_put32(p, (uint32_t)v);
	f8_put32(p + 4, (uint32_t)(v >> 32));
}

static uint32_t f8_get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t f8_get64(const uint8_t *p)
{
	return (uint64_t)f8_get32(p) | (uint64_t)f8_get32(p + 4) << 32;
}

static uint32_t f8_f2u(float f)
{
	uint32_t u;

	memcpy(&u, &f, 4);
	return u;
}

static float f8_u2f(uint32_t u)
{
	float f;

	memcpy(&f, &u, 4);
	return f;
}

static uint64_t f8_d2u(double d)
{
	uint64_t u;

	memcpy(&u, &d, 8);
	return u;
}

static double f8_u2d(uint64_t u)
{
	double d;

	memcpy(&d, &u, 8);
	return d;
}

/* ---- writer: buffered, CRC of everything after the header ---- */

struct f8_ckw {
	FILE *f;
	uLong crc;
	uint64_t bytes;
	int failed; /* errno of the first failed write, 0 if none */
	size_t fill;
	uint8_t buf[65536]; /* last: f8_ckpt_save zeroes only what precedes it */
};

static void f8_ckw_flush(struct f8_ckw *w)
{
	if (w->fill && !w->failed) {
		w->crc = crc32(w->crc, w->buf, (uInt)w->fill);
		errno = 0;
		if (fwrite(w->buf, 1, w->fill, w->f) != w->fill)
			w->failed = errno ? errno : EIO;
	}
	w->bytes += w->fill;
	w->fill = 0;
}

/* Room for @n <= 64 bytes; returns where to encode them. */
static uint8_t *f8_ckw_room(struct f8_ckw *w, size_t n)
{
	uint8_t *p;

	if (w->fill + n > sizeof(w->buf))
		f8_ckw_flush(w);
	p = w->buf + w->fill;
	w->fill += n;
	return p;
}

static void f8_ckw_u8(struct f8_ckw *w, uint8_t v)
{
	*f8_ckw_room(w, 1) = v;
}

static void f8_ckw_u32(struct f8_ckw *w, uint32_t v)
{
	f8_put32(f8_ckw_room(w, 4), v);
}

static void f8_ckw_u64(struct f8_ckw *w, uint64_t v)
{
	f8_put64(f8_ckw_room(w, 8), v);
}

static void f8_ckw_bytes(struct f8_ckw *w, const void *p, size_t n)
{
	const uint8_t *s = p;

	while (n) {
		size_t k = n < 64 ? n : 64;

		memcpy(f8_ckw_room(w, k), s, k);
		s += k;
		n -= k;
	}
}

static void f8_ckw_section(struct f8_ckw *w, uint32_t tag, uint64_t len)
{
	f8_ckw_u32(w, tag);
	f8_ckw_u64(w, len);
}

/* A float array section: u64 count, then the floats. */
static void f8_ckw_floats(struct f8_ckw *w, uint32_t tag, const float *v, size_t n)
{
	size_t i;

	f8_ckw_section(w, tag, 8 + 4 * (uint64_t)n);
	f8_ckw_u64(w, n);
	for (i = 0; i < n; i++)
		f8_ckw_u32(w, f8_f2u(v[i]));
}

static void f8_ckw_payload(struct f8_ckw *w, const struct f8_net *net, const struct f8_sgd *opt,
			   const struct f8_train_cfg *cfg, const struct f8_train_state *st)
{
	const size_t arch_len = strlen(net->arch), model_len = strlen(cfg->model);
	uint8_t model[F8_CKPT_MODEL_MAX];
	int i;

	f8_ckw_section(w, F8_SEC_ARCH, arch_len);
	f8_ckw_bytes(w, net->arch, arch_len);

	/* The model name in a fixed field, zero-filled: the section size never varies. */
	memset(model, 0, sizeof(model));
	memcpy(model, cfg->model, model_len);
	f8_ckw_section(w, F8_SEC_CONF, F8_CONF_BYTES);
	f8_ckw_u32(w, (uint32_t)model_len);
	f8_ckw_bytes(w, model, sizeof(model));
	f8_ckw_u32(w, (uint32_t)cfg->epochs);
	f8_ckw_u32(w, (uint32_t)cfg->batch);
	f8_ckw_u32(w, (uint32_t)cfg->threads);
	f8_ckw_u32(w, f8_f2u(cfg->lr));
	f8_ckw_u32(w, f8_f2u(cfg->final_lr));
	f8_ckw_u32(w, f8_f2u(cfg->warmup_epochs));
	f8_ckw_u32(w, f8_f2u(cfg->sgd.momentum));
	f8_ckw_u32(w, f8_f2u(cfg->sgd.weight_decay));
	f8_ckw_u8(w, cfg->sgd.nesterov);
	f8_ckw_u8(w, cfg->sgd.decay_bn);
	f8_ckw_u8(w, cfg->sgd.decay_bias);
	f8_ckw_u8(w, cfg->sgd.decay_dw);
	f8_ckw_u32(w, (uint32_t)cfg->aug.crop_pad);
	f8_ckw_u8(w, cfg->aug.hflip);
	f8_ckw_u64(w, cfg->seed);
	f8_ckw_u32(w, (uint32_t)cfg->train_limit);
	f8_ckw_u32(w, (uint32_t)cfg->test_limit);

	f8_ckw_section(w, F8_SEC_PROG, F8_PROG_BYTES);
	f8_ckw_u32(w, (uint32_t)st->epochs_done);
	f8_ckw_u64(w, (uint64_t)st->step);

	f8_ckw_section(w, F8_SEC_HIST, 4 + (uint64_t)st->epochs_done * F8_HIST_ENTRY);
	f8_ckw_u32(w, (uint32_t)st->epochs_done);
	for (i = 0; i < st->epochs_done; i++) {
		const struct f8_epoch_stats *e = &st->history[i];

		f8_ckw_u32(w, (uint32_t)e->epoch);
		f8_ckw_u64(w, f8_d2u(e->lr));
		f8_ckw_u64(w, f8_d2u(e->train_loss));
		f8_ckw_u64(w, f8_d2u(e->train_acc));
		f8_ckw_u64(w, f8_d2u(e->test_loss));
		f8_ckw_u64(w, f8_d2u(e->test_acc));
		f8_ckw_u64(w, f8_d2u(e->seconds));
		f8_ckw_u64(w, f8_d2u(e->images_per_s));
	}

	f8_ckw_floats(w, F8_SEC_PARM, net->param, net->param_count);
	f8_ckw_floats(w, F8_SEC_BNST, net->state, net->state_count);
	f8_ckw_floats(w, F8_SEC_VELO, opt->velocity, opt->count);
	f8_ckw_flush(w);
}

static void f8_ckpt_header(uint8_t *h, uint64_t payload, uint32_t crc)
{
	memset(h, 0, F8_CKPT_HDR);
	memcpy(h, f8_ckpt_magic, 8);
	h[8] = F8_CKPT_VERSION_MAJOR & 0xff;
	h[9] = F8_CKPT_VERSION_MAJOR >> 8;
	h[10] = F8_CKPT_VERSION_MINOR & 0xff;
	h[11] = F8_CKPT_VERSION_MINOR >> 8;
	f8_put32(h + 12, 0); /* flags */
	f8_put64(h + 16, payload);
	f8_put32(h + 24, crc);
	f8_put32(h + 28, (uint32_t)crc32(crc32(0L, Z_NULL, 0), h, 28));
}

static int f8_ckpt_check_save(const struct f8_net *net, const struct f8_sgd *opt,
			      const struct f8_train_cfg *cfg, const struct f8_train_state *st,
			      struct f8_err *err)
{
	if (!net || !opt || !cfg || !st)
		return f8_fail(err, F8_ERR_MISUSE, "checkpoint: NULL argument");
	if (!net->arch)
		return f8_fail(err, F8_ERR_MISUSE, "checkpoint: the network has no architecture text");
	if ((net->param_count && !net->param) || (net->state_count && !net->state))
		return f8_fail(err, F8_ERR_MISUSE, "checkpoint: the network has no parameters");
	if (opt->count != net->param_count || (opt->count && !opt->velocity))
		return f8_fail(err, F8_ERR_MISUSE,
			       "checkpoint: optimiser holds %zu momentum values, the network %zu "
			       "parameters",
			       opt->count, net->param_count);
	if (strnlen(cfg->model, F8_CKPT_MODEL_MAX) >= (size_t)F8_CKPT_MODEL_MAX)
		return f8_fail(err, F8_ERR_MISUSE, "checkpoint: model name not terminated");
	if (st->epochs_done < 0 || st->step < 0 || (st->epochs_done && !st->history))
		return f8_fail(err, F8_ERR_MISUSE, "checkpoint: bad training state (%d epochs, step %ld)",
			       st->epochs_done, st->step);
	return F8_OK;
}

int f8_ckpt_save(const char *path, const struct f8_net *net, const struct f8_sgd *opt,
		 const struct f8_train_cfg *cfg, const struct f8_train_state *st, struct f8_err *err)
{
	struct f8_ckw *w = NULL;
	uint8_t hdr[F8_CKPT_HDR];
	char *tmp = NULL;
	FILE *f = NULL;
	int fd, rc, e;

	if (!path || !*path)
		return f8_fail(err, F8_ERR_MISUSE, "checkpoint: empty path");
	rc = f8_ckpt_check_save(net, opt, cfg, st, err);
	if (rc)
		return rc;
	/* A checkpoint is a regular file: a link, directory, device or FIFO is never replaced. */
	rc = f8_fs_target(path, err);
	if (rc < 0)
		return rc;
	if (rc == F8_FS_SPECIAL)
		return f8_fail(err, F8_ERR_IO, "%s: not a regular file: a checkpoint is not written there",
			       path);
	w = malloc(sizeof(*w));
	if (!w)
		return f8_fail(err, F8_ERR_NOMEM, "%s: out of memory", path);
	fd = f8_fs_tmp_create(path, &tmp, err);
	if (fd < 0) {
		free(w);
		return fd;
	}
	f = fdopen(fd, "wb");
	if (!f) {
		rc = f8_fail(err, F8_ERR_IO, "%s: %s", tmp, strerror(errno));
		close(fd);
		goto fail;
	}

	/* Header placeholder first; the real one needs the payload's length and CRC. */
	memset(w, 0, offsetof(struct f8_ckw, buf));
	w->f = f;
	w->crc = crc32(0L, Z_NULL, 0);
	memset(hdr, 0, sizeof(hdr));
	if (fwrite(hdr, 1, sizeof(hdr), f) != sizeof(hdr)) {
		rc = f8_fail(err, F8_ERR_IO, "%s: write failed: %s", tmp, strerror(errno));
		goto fail;
	}
	f8_ckw_payload(w, net, opt, cfg, st);
	if (w->failed) {
		rc = f8_fail(err, F8_ERR_IO, "%s: write failed: %s", tmp, strerror(w->failed));
		goto fail;
	}
	f8_ckpt_header(hdr, w->bytes, (uint32_t)w->crc);
	if (fseek(f, 0, SEEK_SET) != 0 || fwrite(hdr, 1, sizeof(hdr), f) != sizeof(hdr) ||
	    fflush(f) != 0 || fsync(fileno(f)) != 0) {
		rc = f8_fail(err, F8_ERR_IO, "%s: write failed: %s", tmp, strerror(errno));
		goto fail;
	}
	e = fclose(f);
	f = NULL;
	if (e != 0) {
		rc = f8_fail(err, F8_ERR_IO, "%s: close failed: %s", tmp, strerror(errno));
		goto fail;
	}
	/* On a failed rename the temporary is removed; a failed directory sync is reported. */
	rc = f8_fs_commit(tmp, path, err);
	free(tmp);
	free(w);
	return rc;
fail:
	if (f)
		fclose(f);
	unlink(tmp);
	free(tmp);
	free(w);
	return rc;
}

/* ---- reader: one pass under a running CRC ---- */

enum { SEC_ARCH, SEC_CONF, SEC_PROG, SEC_HIST, SEC_PARM, SEC_BNST, SEC_VELO, SEC_COUNT };

static const uint32_t f8_sec_tags[SEC_COUNT] = { F8_SEC_ARCH, F8_SEC_CONF, F8_SEC_PROG, F8_SEC_HIST,
						 F8_SEC_PARM, F8_SEC_BNST, F8_SEC_VELO };
static const char *const f8_sec_names[SEC_COUNT] = { "ARCH", "CONF", "PROG", "HIST",
						     "PARM", "BNST", "VELO" };

struct f8_ckin {
	const char *path;
	int fd;
	uLong crc;       /* of the payload consumed so far */
	uint64_t left;   /* payload bytes not consumed yet */
	uint64_t unread; /* payload bytes not read from the file yet */
	uint16_t minor;  /* of the file */
	size_t pos, fill; /* buf[pos, fill) read but not consumed */
	uint8_t buf[65536];
};

/* The next @n <= in->left payload bytes into @dst (NULL: through the CRC only). */
static int f8_ckin_read(struct f8_ckin *in, void *dst, uint64_t n, struct f8_err *err)
{
	uint8_t *d = dst;

	F8_ASSERT(n <= in->left);
	while (n) {
		uint8_t *p;
		size_t k;
		ssize_t r;

		if (in->pos < in->fill) {
			/* Buffered bytes first. */
			k = in->fill - in->pos < n ? in->fill - in->pos : (size_t)n;
			p = in->buf + in->pos;
			in->pos += k;
			r = (ssize_t)k;
		} else {
			/* Large reads go straight to their destination; the rest through buf. */
			const bool direct = d && n >= sizeof(in->buf);
			const uint64_t cap = direct ? (1u << 30) : sizeof(in->buf);

			k = (size_t)(in->unread < cap ? in->unread : cap);
			if (direct && k > n)
				k = (size_t)n; /* never past the destination */
			p = direct ? d : in->buf;
			r = k ? read(in->fd, p, k) : 0;
			if (r < 0 && errno == EINTR)
				continue;
			if (r < 0)
				return f8_fail(err, F8_ERR_IO, "%s: read failed: %s", in->path,
					       strerror(errno));
			if (r == 0)
				return f8_fail(err, F8_ERR_CORRUPT,
					       "%s: truncated while reading (the file shrank)", in->path);
			in->unread -= (uint64_t)r;
			if (!direct) {
				in->pos = 0;
				in->fill = (size_t)r;
				continue;
			}
		}
		in->crc = crc32_z(in->crc, p, (size_t)r);
		if (d) {
			if (p != d)
				memcpy(d, p, (size_t)r);
			d += r;
		}
		in->left -= (uint64_t)r;
		n -= (uint64_t)r;
	}
	return F8_OK;
}

/* Checks 1-7 of docs/checkpoint-format.md: the file, the header, the payload length. */
static int f8_ckin_open(struct f8_ckin *in, const char *path, uint32_t *crc, struct f8_err *err)
{
	uint8_t h[F8_CKPT_HDR];
	uint64_t size = 0, plen;
	uint16_t major;
	size_t got = 0;
	int rc;

	in->path = path;
	in->crc = crc32(0L, Z_NULL, 0);
	in->fd = f8_fs_open_regular(path, &size, err);
	if (in->fd < 0)
		return in->fd;
	if (size < F8_CKPT_HDR)
		return f8_fail(err, F8_ERR_CORRUPT, "%s: truncated: %llu bytes, shorter than the header",
			       path, (unsigned long long)size);
	while (got < sizeof(h)) {
		ssize_t r = read(in->fd, h + got, sizeof(h) - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return f8_fail(err, F8_ERR_IO, "%s: read failed", path);
		got += (size_t)r;
	}
	if (memcmp(h, f8_ckpt_magic, 8) != 0)
		return f8_fail(err, F8_ERR_FORMAT, "%s: not an f8 checkpoint (bad magic)", path);
	/* Magic and major sit at fixed offsets in every version: check the version first. */
	major = (uint16_t)(h[8] | h[9] << 8);
	in->minor = (uint16_t)(h[10] | h[11] << 8);
	if (major != F8_CKPT_VERSION_MAJOR)
		return f8_fail(err, F8_ERR_VERSION, "%s: checkpoint version %u.%u, this build reads %d.x",
			       path, major, in->minor, F8_CKPT_VERSION_MAJOR);
	if (f8_get32(h + 28) != (uint32_t)crc32(crc32(0L, Z_NULL, 0), h, 28))
		return f8_fail(err, F8_ERR_CORRUPT, "%s: header checksum mismatch", path);
	if (f8_get32(h + 12) != 0)
		return f8_fail(err, F8_ERR_FORMAT, "%s: unknown header flags 0x%08x", path,
			       f8_get32(h + 12));
	plen = f8_get64(h + 16);
	if (plen != size - F8_CKPT_HDR) {
		rc = plen > size - F8_CKPT_HDR ? F8_ERR_CORRUPT : F8_ERR_FORMAT;
		return f8_fail(err, rc, "%s: %s: the header announces %llu payload bytes, the file holds %llu",
			       path, rc == F8_ERR_CORRUPT ? "truncated" : "trailing bytes",
			       (unsigned long long)plen, (unsigned long long)(size - F8_CKPT_HDR));
	}
	if (plen > F8_CKPT_MAX_BYTES)
		return f8_fail(err, F8_ERR_RANGE, "%s: %llu bytes, above the limit of %llu", path,
			       (unsigned long long)plen, F8_CKPT_MAX_BYTES);
	in->left = in->unread = plen;
	in->pos = in->fill = 0;
	*crc = f8_get32(h + 24);
	return F8_OK;
}

/* What the pass collects: the small sections' bytes, the network and the optimiser. */
struct f8_ckpt_doc {
	bool seen[SEC_COUNT];
	uint8_t *body[SEC_COUNT]; /* CONF, PROG, HIST: malloc'd */
	uint64_t len[SEC_COUNT];
	uint16_t minor;           /* of the file */
	struct f8_net *net;       /* from ARCH */
	struct f8_sgd opt;        /* velocity from VELO */
};

static void f8_ckpt_doc_free(struct f8_ckpt_doc *doc)
{
	int i;

	for (i = 0; i < SEC_COUNT; i++)
		free(doc->body[i]);
	f8_sgd_free(&doc->opt);
	f8_net_free(doc->net);
	memset(doc, 0, sizeof(*doc));
}

/* ARCH: at most F8_CKPT_ARCH_MAX bytes, no NUL, a text f8_net_parse accepts. */
static int f8_ckpt_arch(struct f8_ckin *in, uint64_t len, struct f8_ckpt_doc *doc,
			struct f8_err *err)
{
	struct f8_err perr = { "" };
	char *text;
	int rc;

	if (len > F8_CKPT_ARCH_MAX)
		return f8_fail(err, F8_ERR_RANGE, "%s: architecture text of %llu bytes, above the limit of %u",
			       in->path, (unsigned long long)len, F8_CKPT_ARCH_MAX);
	text = malloc((size_t)len + 1);
	if (!text)
		return f8_fail(err, F8_ERR_NOMEM, "%s: out of memory", in->path);
	rc = f8_ckin_read(in, text, len, err);
	if (rc) {
		free(text);
		return rc;
	}
	text[len] = 0;
	if (memchr(text, 0, (size_t)len)) {
		free(text);
		return f8_fail(err, F8_ERR_FORMAT, "%s: NUL byte in the architecture text", in->path);
	}
	doc->net = f8_net_parse(text, &perr);
	free(text);
	if (!doc->net)
		return f8_fail(err, F8_ERR_FORMAT, "%s: stored architecture refused: %s", in->path,
			       perr.msg);
	return F8_OK;
}

/* A float array: exactly a u64 count and @count floats, the count the network fixes. */
static int f8_ckpt_array(struct f8_ckin *in, int sec, uint64_t len, struct f8_ckpt_doc *doc,
			 struct f8_err *err)
{
	const char *name = f8_sec_names[sec];
	size_t count = sec == SEC_BNST ? doc->net->state_count : doc->net->param_count;
	uint8_t cnt[8];
	uint8_t *bytes;
	float *dst;
	size_t i;
	int rc;

	/* Float arrays never grow: exact length whatever the minor version. */
	if (len != 8 + 4 * (uint64_t)count)
		return f8_fail(err, F8_ERR_FORMAT,
			       "%s: section %s holds %llu bytes, the stored architecture needs %llu (%zu values)",
			       in->path, name, (unsigned long long)len,
			       (unsigned long long)(8 + 4 * (uint64_t)count), count);
	rc = f8_ckin_read(in, cnt, 8, err);
	if (rc)
		return rc;
	if (f8_get64(cnt) != count)
		return f8_fail(err, F8_ERR_FORMAT,
			       "%s: section %s holds %llu values, the stored architecture needs %zu",
			       in->path, name, (unsigned long long)f8_get64(cnt), count);
	if (sec == SEC_VELO) {
		struct f8_sgd_cfg none = { 0 };

		/* The optimiser's configuration comes from CONF once it has been checked. */
		rc = f8_sgd_init(&doc->opt, &none, doc->net);
		if (rc)
			return f8_fail(err, rc, "%s: cannot set up the optimiser", in->path);
		dst = doc->opt.velocity;
	} else {
		dst = sec == SEC_PARM ? doc->net->param : doc->net->state;
	}
	/* Straight into the destination, then decoded in place (little-endian bit patterns). */
	bytes = (uint8_t *)dst;
	rc = f8_ckin_read(in, bytes, 4 * (uint64_t)count, err);
	if (rc)
		return rc;
	for (i = 0; i < count; i++)
		dst[i] = f8_u2f(f8_get32(bytes + 4 * i));
	return F8_OK;
}

/* One known section, just after its header; the bound of each comes before its bytes. */
static int f8_ckpt_section(struct f8_ckin *in, int sec, uint64_t len, struct f8_ckpt_doc *doc,
			   struct f8_err *err)
{
	const bool newer = in->minor > F8_CKPT_VERSION_MINOR;
	uint64_t need = sec == SEC_CONF ? F8_CONF_BYTES : sec == SEC_PROG ? F8_PROG_BYTES : 0;
	uint64_t max = need;

	switch (sec) {
	case SEC_ARCH:
		return f8_ckpt_arch(in, len, doc, err);
	case SEC_PARM:
	case SEC_BNST:
	case SEC_VELO:
		return f8_ckpt_array(in, sec, len, doc, err);
	case SEC_HIST:
		/* u32 count (epochs done, at most F8_TRAIN_EPOCHS_MAX), then the entries. */
		need = 4;
		max = 4 + (uint64_t)F8_TRAIN_EPOCHS_MAX * (newer ? F8_CKPT_HIST_ENTRY_MAX : F8_HIST_ENTRY);
		break;
	default:
		/* A later minor version may append fields to CONF and PROG. */
		if (newer)
			max = F8_CKPT_SMALL_MAX;
		break;
	}
	if (len < need || len > max) {
		if (need == max)
			return f8_fail(err, F8_ERR_FORMAT, "%s: section %s holds %llu bytes, want %llu",
				       in->path, f8_sec_names[sec], (unsigned long long)len,
				       (unsigned long long)need);
		return f8_fail(err, F8_ERR_FORMAT, "%s: section %s holds %llu bytes, want %llu to %llu",
			       in->path, f8_sec_names[sec], (unsigned long long)len,
			       (unsigned long long)need, (unsigned long long)max);
	}

	doc->body[sec] = malloc((size_t)len + 1);
	if (!doc->body[sec])
		return f8_fail(err, F8_ERR_NOMEM, "%s: out of memory", in->path);
	doc->len[sec] = len;
	return f8_ckin_read(in, doc->body[sec], len, err);
}

/* ---- decoding the small sections, every value range-checked ---- */

struct f8_ckr {
	const uint8_t *p;
	size_t left;
};

/* @n bytes from the section; the caller has checked the section's length. */
static const uint8_t *f8_ckr_take(struct f8_ckr *r, size_t n)
{
	const uint8_t *p = r->p;

	F8_ASSERT(n <= r->left);
	r->p += n;
	r->left -= n;
	return p;
}

static uint32_t f8_ckr_u32(struct f8_ckr *r)
{
	return f8_get32(f8_ckr_take(r, 4));
}

static uint64_t f8_ckr_u64(struct f8_ckr *r)
{
	return f8_get64(f8_ckr_take(r, 8));
}

static int f8_ckr_bool(struct f8_ckr *r, bool *b)
{
	uint8_t v = *f8_ckr_take(r, 1);

	*b = v != 0;
	return v <= 1;
}

static int f8_ckpt_conf(const char *path, const struct f8_ckpt_doc *doc, struct f8_train_cfg *cfg,
			struct f8_err *err)
{
	struct f8_ckr r = { doc->body[SEC_CONF], (size_t)doc->len[SEC_CONF] };
	struct f8_err cerr = { "" };
	uint32_t model_len;
	const uint8_t *model;
	bool ok = true;

	memset(cfg, 0, sizeof(*cfg));
	model_len = f8_ckr_u32(&r);
	model = f8_ckr_take(&r, F8_CKPT_MODEL_MAX);
	if (model_len >= (uint32_t)F8_CKPT_MODEL_MAX || memchr(model, 0, model_len))
		return f8_fail(err, F8_ERR_FORMAT, "%s: bad model name in the configuration", path);
	memcpy(cfg->model, model, model_len);
	cfg->epochs = (int32_t)f8_ckr_u32(&r);
	cfg->batch = (int32_t)f8_ckr_u32(&r);
	cfg->threads = (int32_t)f8_ckr_u32(&r);
	cfg->lr = f8_u2f(f8_ckr_u32(&r));
	cfg->final_lr = f8_u2f(f8_ckr_u32(&r));
	cfg->warmup_epochs = f8_u2f(f8_ckr_u32(&r));
	cfg->sgd.momentum = f8_u2f(f8_ckr_u32(&r));
	cfg->sgd.weight_decay = f8_u2f(f8_ckr_u32(&r));
	ok &= f8_ckr_bool(&r, &cfg->sgd.nesterov);
	ok &= f8_ckr_bool(&r, &cfg->sgd.decay_bn);
	ok &= f8_ckr_bool(&r, &cfg->sgd.decay_bias);
	ok &= f8_ckr_bool(&r, &cfg->sgd.decay_dw);
	cfg->aug.crop_pad = (int32_t)f8_ckr_u32(&r);
	ok &= f8_ckr_bool(&r, &cfg->aug.hflip);
	cfg->seed = f8_ckr_u64(&r);
	cfg->train_limit = (int32_t)f8_ckr_u32(&r);
	cfg->test_limit = (int32_t)f8_ckr_u32(&r);
	if (!ok)
		return f8_fail(err, F8_ERR_FORMAT, "%s: a flag of the configuration is neither 0 nor 1",
			       path);
	/* The same limits as a new run's options: a stored value never escapes them. */
	if (f8_train_cfg_check(cfg, &cerr))
		return f8_fail(err, F8_ERR_FORMAT, "%s: configuration out of range: %s", path, cerr.msg);
	return F8_OK;
}

/*
 * Most optimiser steps @epochs epochs can take: ceil(images / batch) per epoch, with at
 * most train_limit images (or F8 IDX's 2^31 - 1).
 */
static int64_t f8_ckpt_max_steps(const struct f8_train_cfg *cfg, int epochs)
{
	const int64_t images = cfg->train_limit ? cfg->train_limit : INT32_MAX;

	return (int64_t)epochs * ((images + cfg->batch - 1) / cfg->batch);
}

/* One history entry's values, as the training loop can produce them. */
static int f8_ckpt_entry(const char *path, int i, const struct f8_epoch_stats *e, struct f8_err *err)
{
	const char *bad = NULL;
	double v = 0;

#define F8_RANGE(x, ok)                    \
	do {                               \
		if (!bad && !(ok)) {       \
			bad = #x;          \
			v = e->x;          \
		}                          \
	} while (0)
	if (e->epoch != i + 1)
		return f8_fail(err, F8_ERR_FORMAT, "%s: history entry %d is for epoch %d", path, i + 1,
			       e->epoch);
	/* Train losses are means of finite float losses; a test loss may have diverged. */
	F8_RANGE(lr, e->lr >= 0 && e->lr <= F8_TRAIN_LR_MAX);
	F8_RANGE(train_loss, e->train_loss >= 0 && e->train_loss <= FLT_MAX);
	F8_RANGE(train_acc, e->train_acc >= 0 && e->train_acc <= 1);
	F8_RANGE(test_loss, isnan(e->test_loss) || e->test_loss >= 0);
	F8_RANGE(test_acc, e->test_acc >= 0 && e->test_acc <= 1);
	F8_RANGE(seconds, e->seconds >= 0 && isfinite(e->seconds));
	F8_RANGE(images_per_s, e->images_per_s >= 0 && isfinite(e->images_per_s));
#undef F8_RANGE
	if (bad)
		return f8_fail(err, F8_ERR_FORMAT, "%s: history of epoch %d: %s %g is out of range", path,
			       i + 1, bad, v);
	return F8_OK;
}

static int f8_ckpt_progress(const char *path, const struct f8_ckpt_doc *doc,
			    const struct f8_train_cfg *cfg, struct f8_train_state *st,
			    struct f8_err *err)
{
	struct f8_ckr r = { doc->body[SEC_PROG], (size_t)doc->len[SEC_PROG] };
	struct f8_ckr hr = { doc->body[SEC_HIST], (size_t)doc->len[SEC_HIST] };
	const size_t known = doc->len[SEC_HIST] - 4;
	int64_t step;
	uint32_t n;
	int32_t i;
	int rc;

	memset(st, 0, sizeof(*st));
	st->epochs_done = (int32_t)f8_ckr_u32(&r);
	step = (int64_t)f8_ckr_u64(&r);
	if (st->epochs_done < 0 || st->epochs_done > cfg->epochs)
		return f8_fail(err, F8_ERR_FORMAT, "%s: %d epochs done, outside [0, %d] (the run's epochs)",
			       path, st->epochs_done, cfg->epochs);
	/* Every epoch takes at least one step and at most ceil(images / batch). */
	if (step < st->epochs_done || step > f8_ckpt_max_steps(cfg, st->epochs_done))
		return f8_fail(err, F8_ERR_FORMAT,
			       "%s: step %lld does not fit %d epochs of batch %d (at most %lld steps)",
			       path, (long long)step, st->epochs_done, cfg->batch,
			       (long long)f8_ckpt_max_steps(cfg, st->epochs_done));
	st->step = (long)step;
	n = f8_ckr_u32(&hr);
	if (n != (uint32_t)st->epochs_done)
		return f8_fail(err, F8_ERR_FORMAT, "%s: %u history entries for %d epochs done", path,
			       n, st->epochs_done);
	/* Entry size may grow in a later minor version; each entry's known prefix is read. */
	if (n ? known % n != 0 || known / n < F8_HIST_ENTRY ||
			(known / n > F8_HIST_ENTRY && doc->minor <= F8_CKPT_VERSION_MINOR)
	      : known != 0)
		return f8_fail(err, F8_ERR_FORMAT, "%s: section HIST holds %zu bytes for %u entries",
			       path, known + 4, n);
	st->history = calloc(n + 1, sizeof(*st->history));
	if (!st->history)
		return f8_fail(err, F8_ERR_NOMEM, "%s: out of memory", path);
	for (i = 0; i < (int32_t)n; i++) {
		struct f8_epoch_stats *e = &st->history[i];
		const size_t entry = known / n;

		e->epoch = (int32_t)f8_ckr_u32(&hr);
		e->lr = f8_u2d(f8_ckr_u64(&hr));
		e->train_loss = f8_u2d(f8_ckr_u64(&hr));
		e->train_acc = f8_u2d(f8_ckr_u64(&hr));
		e->test_loss = f8_u2d(f8_ckr_u64(&hr));
		e->test_acc = f8_u2d(f8_ckr_u64(&hr));
		e->seconds = f8_u2d(f8_ckr_u64(&hr));
		e->images_per_s = f8_u2d(f8_ckr_u64(&hr));
		f8_ckr_take(&hr, entry - F8_HIST_ENTRY);
		rc = f8_ckpt_entry(path, i, e, err);
		if (rc) {
			free(st->history);
			st->history = NULL;
			return rc;
		}
	}
	return F8_OK;
}

int f8_ckpt_load(const char *path, struct f8_net **netp, struct f8_sgd *opt,
		 struct f8_train_cfg *cfg, struct f8_train_state *st, struct f8_err *err)
{
	struct f8_ckin *in;
	struct f8_ckpt_doc doc;
	struct f8_train_cfg c;
	struct f8_train_state s = { 0 };
	struct f8_err later = { "" };
	uint32_t want_crc = 0;
	int rc, held = F8_OK, i;

	if (!path || !netp || !opt || !cfg || !st)
		return f8_fail(err, F8_ERR_MISUSE, "checkpoint: NULL argument");
	*netp = NULL;
	memset(&doc, 0, sizeof(doc));
	in = malloc(sizeof(*in));
	if (!in)
		return f8_fail(err, F8_ERR_NOMEM, "%s: out of memory", path);
	rc = f8_ckin_open(in, path, &want_crc, err);
	if (rc)
		goto out;
	doc.minor = in->minor;

	/*
	 * The sections, in one pass. A layout or range problem is held back (and the rest
	 * only read through the CRC, nothing more allocated): a damaged file must come out
	 * as corrupt, whatever its damage looks like.
	 */
	while (in->left && !held) {
		uint8_t h[F8_CKPT_SEC_HDR];
		uint32_t tag;
		uint64_t len;
		int sec;

		if (in->left < F8_CKPT_SEC_HDR) {
			held = f8_fail(&later, F8_ERR_FORMAT, "%s: %llu stray bytes after the last section",
				       path, (unsigned long long)in->left);
			break;
		}
		rc = f8_ckin_read(in, h, sizeof(h), err);
		if (rc)
			goto out;
		tag = f8_get32(h);
		len = f8_get64(h + 4);
		for (i = 0; i < 4 && h[i] > 0x20 && h[i] < 0x7f; i++)
			;
		if (i < 4) {
			held = f8_fail(&later, F8_ERR_FORMAT,
				       "%s: section tag %02x %02x %02x %02x is not four ASCII characters",
				       path, h[0], h[1], h[2], h[3]);
			break;
		}
		if (len > in->left) {
			held = f8_fail(&later, F8_ERR_FORMAT,
				       "%s: section 0x%08x of %llu bytes overruns the file (%llu left)",
				       path, tag, (unsigned long long)len, (unsigned long long)in->left);
			break;
		}
		for (sec = 0; sec < SEC_COUNT && tag != f8_sec_tags[sec]; sec++)
			;
		/* ARCH first: the network it describes sizes the float arrays before they come. */
		if (!doc.seen[SEC_ARCH] && sec != SEC_ARCH) {
			held = f8_fail(&later, F8_ERR_FORMAT, "%s: the first section is not ARCH", path);
			break;
		}
		if (sec == SEC_COUNT) {
			/* A section a later minor version added: skipped, through the CRC. */
			rc = f8_ckin_read(in, NULL, len, err);
			if (rc)
				goto out;
			continue;
		}
		if (doc.seen[sec]) {
			held = f8_fail(&later, F8_ERR_FORMAT, "%s: section %s appears twice", path,
				       f8_sec_names[sec]);
			break;
		}
		doc.seen[sec] = true;
		held = f8_ckpt_section(in, sec, len, &doc, &later);
		if (held == F8_ERR_IO || held == F8_ERR_NOMEM || held == F8_ERR_CORRUPT) {
			rc = f8_fail(err, held, "%s", later.msg);
			goto out;
		}
	}
	if (in->left) {
		rc = f8_ckin_read(in, NULL, in->left, err);
		if (rc)
			goto out;
	}
	if ((uint32_t)in->crc != want_crc) {
		rc = f8_fail(err, F8_ERR_CORRUPT, "%s: checksum mismatch (corrupt checkpoint)", path);
		goto out;
	}
	if (held) {
		rc = f8_fail(err, held, "%s", later.msg);
		goto out;
	}
	for (i = 0; i < SEC_COUNT; i++)
		if (!doc.seen[i]) {
			rc = f8_fail(err, F8_ERR_FORMAT, "%s: section %s missing", path, f8_sec_names[i]);
			goto out;
		}
	rc = f8_ckpt_conf(path, &doc, &c, err);
	if (!rc)
		rc = f8_ckpt_progress(path, &doc, &c, &s, err);
	if (rc)
		goto out;
	doc.opt.cfg = c.sgd;
	*netp = doc.net;
	*opt = doc.opt;
	*cfg = c;
	*st = s;
	doc.net = NULL;
	memset(&doc.opt, 0, sizeof(doc.opt));
	rc = F8_OK;
out:
	if (in->fd >= 0)
		close(in->fd);
	free(in);
	f8_ckpt_doc_free(&doc);
	return rc;
}

void f8_train_state_free(struct f8_train_state *st)
{
	if (!st)
		return;
	free(st->history);
	st->history = NULL;
	st->epochs_done = 0;
}
