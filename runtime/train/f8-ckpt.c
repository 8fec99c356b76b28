// SPDX-License-Identifier: MIT
/*
 * Checkpoints of a training run (f8-ckpt.h; byte layout in docs/checkpoint-format.md).
 *
 * A 32-byte header (magic, version, payload length, payload CRC-32, header CRC-32) and
 * a payload of tagged, length-prefixed sections, all little-endian, encoded field by
 * field (never a struct image, so padding and ABI never leak into the file).
 *
 * Saving streams the payload into <path>.tmp.<pid> in the destination's directory,
 * rewrites the header once the CRC is known, fsyncs, renames over <path> and fsyncs
 * the directory: readers see the old file or the new one, never a mix. Loading reads
 * the file whole, checks header, length and CRC before it decodes anything, checks
 * every section length against what is left, and rebuilds the network from the stored
 * architecture text so that the parameter and state counts can be checked.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "f8-ckpt.h"

/* "\x89" keeps 7-bit channels and text-mode transfers from passing a mangled file. */
static const uint8_t f8_ckpt_magic[8] = { 0x89, 'F', '8', 'C', 'K', 'P', 'T', '\n' };

#define F8_CKPT_HDR 32
#define F8_CKPT_SEC_HDR 12 /* tag (4) + length (u64) */
/* Larger than any model libf8 trains (and a bound on what a corrupt length can ask for). */
#define F8_CKPT_MAX_BYTES (1ull << 36)
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

/* fsync the directory holding @path, so that the rename itself is durable. */
static int f8_fsync_dir(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir;
	int fd, rc = 0;

	if (!slash)
		dir = strdup(".");
	else if (slash == path)
		dir = strdup("/");
	else
		dir = strndup(path, (size_t)(slash - path));
	if (!dir)
		return ENOMEM;
	fd = open(dir, O_RDONLY | O_DIRECTORY);
	free(dir);
	if (fd < 0)
		return errno;
	/* Some file systems cannot fsync a directory; the rename is as durable as they allow. */
	if (fsync(fd) != 0 && errno != EINVAL && errno != ENOTSUP)
		rc = errno;
	close(fd);
	return rc;
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
	size_t tlen;
	FILE *f = NULL;
	int fd, rc, e;

	if (!path || !*path)
		return f8_fail(err, F8_ERR_MISUSE, "checkpoint: empty path");
	rc = f8_ckpt_check_save(net, opt, cfg, st, err);
	if (rc)
		return rc;
	tlen = strlen(path) + 32;
	tmp = malloc(tlen);
	w = malloc(sizeof(*w));
	if (!tmp || !w) {
		free(tmp);
		free(w);
		return f8_fail(err, F8_ERR_NOMEM, "%s: out of memory", path);
	}
	snprintf(tmp, tlen, "%s.tmp.%ld", path, (long)getpid());

	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, 0666);
	if (fd < 0) {
		rc = f8_fail(err, F8_ERR_IO, "%s: cannot create: %s", tmp, strerror(errno));
		free(tmp);
		free(w);
		return rc;
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
	if (rename(tmp, path) != 0) {
		rc = f8_fail(err, F8_ERR_IO, "%s: cannot rename %s over it: %s", path, tmp,
			     strerror(errno));
		goto fail;
	}
	e = f8_fsync_dir(path);
	free(tmp);
	free(w);
	if (e)
		return f8_fail(err, F8_ERR_IO, "%s: written, but its directory could not be synced: %s",
			       path, strerror(e));
	return F8_OK;
fail:
	if (f)
		fclose(f);
	unlink(tmp);
	free(tmp);
	free(w);
	return rc;
}

/* ---- reader ---- */

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

struct f8_ckpt_secs {
	struct f8_ckr s[7]; /* ARCH CONF PROG HIST PARM BNST VELO */
	bool seen[7];
};

static const uint32_t f8_sec_tags[7] = { F8_SEC_ARCH, F8_SEC_CONF, F8_SEC_PROG, F8_SEC_HIST,
					 F8_SEC_PARM, F8_SEC_BNST, F8_SEC_VELO };
static const char *const f8_sec_names[7] = { "ARCH", "CONF", "PROG", "HIST",
					     "PARM", "BNST", "VELO" };

/* Read @path whole; check header, length and CRC. *payload malloc'd. */
static int f8_ckpt_read(const char *path, uint8_t **payload, size_t *len, uint16_t *minor,
			struct f8_err *err)
{
	uint8_t h[F8_CKPT_HDR];
	struct stat sb;
	uint64_t plen;
	uint16_t major;
	uint8_t *buf = NULL;
	FILE *f;
	int rc;

	f = fopen(path, "rb");
	if (!f)
		return f8_fail(err, F8_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
	if (fstat(fileno(f), &sb) != 0) {
		rc = f8_fail(err, F8_ERR_IO, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(sb.st_mode)) {
		rc = f8_fail(err, F8_ERR_IO, "%s: not a regular file", path);
		goto out;
	}
	if (sb.st_size < F8_CKPT_HDR) {
		rc = f8_fail(err, F8_ERR_CORRUPT, "%s: truncated: %lld bytes, shorter than the header",
			     path, (long long)sb.st_size);
		goto out;
	}
	if (fread(h, 1, sizeof(h), f) != sizeof(h)) {
		rc = f8_fail(err, F8_ERR_IO, "%s: read failed", path);
		goto out;
	}
	if (memcmp(h, f8_ckpt_magic, 8) != 0) {
		rc = f8_fail(err, F8_ERR_FORMAT, "%s: not an f8 checkpoint (bad magic)", path);
		goto out;
	}
	/* Magic and major sit at fixed offsets in every version: check the version first. */
	major = (uint16_t)(h[8] | h[9] << 8);
	*minor = (uint16_t)(h[10] | h[11] << 8);
	if (major != F8_CKPT_VERSION_MAJOR) {
		rc = f8_fail(err, F8_ERR_VERSION,
			     "%s: checkpoint version %u.%u, this build reads %d.x", path, major,
			     *minor, F8_CKPT_VERSION_MAJOR);
		goto out;
	}
	if (f8_get32(h + 28) != (uint32_t)crc32(crc32(0L, Z_NULL, 0), h, 28)) {
		rc = f8_fail(err, F8_ERR_CORRUPT, "%s: header checksum mismatch", path);
		goto out;
	}
	if (f8_get32(h + 12) != 0) {
		rc = f8_fail(err, F8_ERR_FORMAT, "%s: unknown header flags 0x%08x", path,
			     f8_get32(h + 12));
		goto out;
	}
	plen = f8_get64(h + 16);
	if (plen != (uint64_t)sb.st_size - F8_CKPT_HDR) {
		rc = f8_fail(err, plen > (uint64_t)sb.st_size - F8_CKPT_HDR ? F8_ERR_CORRUPT
									 : F8_ERR_FORMAT,
			     "%s: %s: the header announces %llu payload bytes, the file holds %lld",
			     path,
			     plen > (uint64_t)sb.st_size - F8_CKPT_HDR ? "truncated" : "trailing bytes",
			     (unsigned long long)plen, (long long)sb.st_size - F8_CKPT_HDR);
		goto out;
	}
	if (plen > F8_CKPT_MAX_BYTES) {
		rc = f8_fail(err, F8_ERR_RANGE, "%s: %llu bytes, above the limit", path,
			     (unsigned long long)plen);
		goto out;
	}
	buf = malloc(plen + 1);
	if (!buf) {
		rc = f8_fail(err, F8_ERR_NOMEM, "%s: cannot allocate %llu bytes", path,
			     (unsigned long long)plen);
		goto out;
	}
	if (fread(buf, 1, plen, f) != plen) {
		rc = f8_fail(err, F8_ERR_CORRUPT, "%s: truncated while reading", path);
		goto out;
	}
	if (f8_get32(h + 24) != (uint32_t)crc32_z(crc32(0L, Z_NULL, 0), buf, plen)) {
		rc = f8_fail(err, F8_ERR_CORRUPT, "%s: checksum mismatch (corrupt checkpoint)", path);
		goto out;
	}
	*payload = buf;
	*len = plen;
	buf = NULL;
	rc = F8_OK;
out:
	free(buf);
	fclose(f);
	return rc;
}

/* Split the payload into sections; every length is checked against what is left. */
static int f8_ckpt_sections(const char *path, const uint8_t *p, size_t len,
			    struct f8_ckpt_secs *secs, struct f8_err *err)
{
	int i;

	memset(secs, 0, sizeof(*secs));
	while (len) {
		uint32_t tag;
		uint64_t slen;

		if (len < F8_CKPT_SEC_HDR)
			return f8_fail(err, F8_ERR_FORMAT, "%s: %zu stray bytes after the last section",
				       path, len);
		tag = f8_get32(p);
		slen = f8_get64(p + 4);
		p += F8_CKPT_SEC_HDR;
		len -= F8_CKPT_SEC_HDR;
		if (slen > len)
			return f8_fail(err, F8_ERR_FORMAT,
				       "%s: section 0x%08x of %llu bytes overruns the file (%zu left)",
				       path, tag, (unsigned long long)slen, len);
		for (i = 0; i < 7; i++) {
			if (tag != f8_sec_tags[i])
				continue;
			if (secs->seen[i])
				return f8_fail(err, F8_ERR_FORMAT, "%s: section %s appears twice",
					       path, f8_sec_names[i]);
			secs->seen[i] = true;
			secs->s[i].p = p;
			secs->s[i].left = (size_t)slen;
		}
		/* Unknown tags: sections a later minor version added; skipped. */
		p += slen;
		len -= (size_t)slen;
	}
	for (i = 0; i < 7; i++)
		if (!secs->seen[i])
			return f8_fail(err, F8_ERR_FORMAT, "%s: section %s missing", path,
				       f8_sec_names[i]);
	return F8_OK;
}

/*
 * A section holds at least @need bytes; more only from a later minor version, which
 * may append fields (ignored here).
 */
static int f8_ckpt_size(const char *path, const struct f8_ckr *s, const char *name, uint64_t need,
			uint16_t minor, struct f8_err *err)
{
	if (s->left < need || (s->left > need && minor <= F8_CKPT_VERSION_MINOR))
		return f8_fail(err, F8_ERR_FORMAT, "%s: section %s holds %zu bytes, want %llu", path,
			       name, s->left, (unsigned long long)need);
	return F8_OK;
}

static int f8_ckpt_conf(const char *path, struct f8_ckr *r, uint16_t minor,
			struct f8_train_cfg *cfg, struct f8_err *err)
{
	uint32_t model_len;
	const uint8_t *model;
	bool ok = true;
	int rc = f8_ckpt_size(path, r, "CONF", F8_CONF_BYTES, minor, err);

	if (rc)
		return rc;
	memset(cfg, 0, sizeof(*cfg));
	model_len = f8_ckr_u32(r);
	model = f8_ckr_take(r, F8_CKPT_MODEL_MAX);
	if (model_len >= (uint32_t)F8_CKPT_MODEL_MAX || memchr(model, 0, model_len))
		return f8_fail(err, F8_ERR_FORMAT, "%s: bad model name in the configuration", path);
	memcpy(cfg->model, model, model_len);
	cfg->epochs = (int32_t)f8_ckr_u32(r);
	cfg->batch = (int32_t)f8_ckr_u32(r);
	cfg->threads = (int32_t)f8_ckr_u32(r);
	cfg->lr = f8_u2f(f8_ckr_u32(r));
	cfg->final_lr = f8_u2f(f8_ckr_u32(r));
	cfg->warmup_epochs = f8_u2f(f8_ckr_u32(r));
	cfg->sgd.momentum = f8_u2f(f8_ckr_u32(r));
	cfg->sgd.weight_decay = f8_u2f(f8_ckr_u32(r));
	ok &= f8_ckr_bool(r, &cfg->sgd.nesterov);
	ok &= f8_ckr_bool(r, &cfg->sgd.decay_bn);
	ok &= f8_ckr_bool(r, &cfg->sgd.decay_bias);
	ok &= f8_ckr_bool(r, &cfg->sgd.decay_dw);
	cfg->aug.crop_pad = (int32_t)f8_ckr_u32(r);
	ok &= f8_ckr_bool(r, &cfg->aug.hflip);
	cfg->seed = f8_ckr_u64(r);
	cfg->train_limit = (int32_t)f8_ckr_u32(r);
	cfg->test_limit = (int32_t)f8_ckr_u32(r);
	if (!ok)
		return f8_fail(err, F8_ERR_FORMAT, "%s: a flag of the configuration is neither 0 nor 1",
			       path);
	if (cfg->epochs < 0 || cfg->batch < 0 || cfg->threads < 0 || cfg->aug.crop_pad < 0 ||
	    cfg->train_limit < 0 || cfg->test_limit < 0)
		return f8_fail(err, F8_ERR_FORMAT, "%s: negative count in the configuration", path);
	return F8_OK;
}

static int f8_ckpt_progress(const char *path, struct f8_ckpt_secs *secs, uint16_t minor,
			    struct f8_train_state *st, struct f8_err *err)
{
	struct f8_ckr *r = &secs->s[2], *hr = &secs->s[3];
	uint32_t n;
	int32_t i;
	int rc = f8_ckpt_size(path, r, "PROG", F8_PROG_BYTES, minor, err);

	if (rc)
		return rc;
	memset(st, 0, sizeof(*st));
	st->epochs_done = (int32_t)f8_ckr_u32(r);
	st->step = (long)(int64_t)f8_ckr_u64(r);
	if (st->epochs_done < 0 || st->step < 0)
		return f8_fail(err, F8_ERR_FORMAT, "%s: negative progress (%d epochs, step %ld)",
			       path, st->epochs_done, st->step);
	if (hr->left < 4)
		return f8_fail(err, F8_ERR_FORMAT, "%s: section HIST too short", path);
	n = f8_ckr_u32(hr);
	if (n != (uint32_t)st->epochs_done)
		return f8_fail(err, F8_ERR_FORMAT, "%s: %u history entries for %d epochs done", path,
			       n, st->epochs_done);
	/* Entry size may grow in a later minor version; each entry's known prefix is read. */
	if (n ? hr->left % n != 0 || hr->left / n < F8_HIST_ENTRY ||
			(hr->left / n > F8_HIST_ENTRY && minor <= F8_CKPT_VERSION_MINOR)
	      : hr->left != 0)
		return f8_fail(err, F8_ERR_FORMAT, "%s: section HIST holds %zu bytes for %u entries",
			       path, hr->left + 4, n);
	st->history = calloc(n + 1, sizeof(*st->history));
	if (!st->history)
		return f8_fail(err, F8_ERR_NOMEM, "%s: out of memory", path);
	for (i = 0; i < (int32_t)n; i++) {
		struct f8_epoch_stats *e = &st->history[i];
		size_t entry = hr->left / (n - (uint32_t)i);

		e->epoch = (int32_t)f8_ckr_u32(hr);
		e->lr = f8_u2d(f8_ckr_u64(hr));
		e->train_loss = f8_u2d(f8_ckr_u64(hr));
		e->train_acc = f8_u2d(f8_ckr_u64(hr));
		e->test_loss = f8_u2d(f8_ckr_u64(hr));
		e->test_acc = f8_u2d(f8_ckr_u64(hr));
		e->seconds = f8_u2d(f8_ckr_u64(hr));
		e->images_per_s = f8_u2d(f8_ckr_u64(hr));
		f8_ckr_take(hr, entry - F8_HIST_ENTRY);
	}
	return F8_OK;
}

/* A float array section of exactly @count floats into @dst. */
static int f8_ckpt_floats(const char *path, struct f8_ckr *r, const char *name, size_t count,
			  float *dst, struct f8_err *err)
{
	uint64_t n;
	size_t i;

	if (r->left < 8)
		return f8_fail(err, F8_ERR_FORMAT, "%s: section %s too short", path, name);
	n = f8_ckr_u64(r);
	if (n != count)
		return f8_fail(err, F8_ERR_FORMAT,
			       "%s: section %s holds %llu values, the stored architecture needs %zu",
			       path, name, (unsigned long long)n, count);
	/* Float arrays never grow: exact length whatever the minor version. */
	if (r->left != 4 * (uint64_t)count)
		return f8_fail(err, F8_ERR_FORMAT, "%s: section %s holds %zu bytes for %zu values",
			       path, name, r->left + 8, count);
	for (i = 0; i < count; i++)
		dst[i] = f8_u2f(f8_ckr_u32(r));
	return F8_OK;
}

int f8_ckpt_load(const char *path, struct f8_net **netp, struct f8_sgd *opt,
		 struct f8_train_cfg *cfg, struct f8_train_state *st, struct f8_err *err)
{
	struct f8_train_cfg c;
	struct f8_train_state s = { 0 };
	struct f8_sgd o = { 0 };
	struct f8_ckpt_secs secs;
	struct f8_net *net = NULL;
	struct f8_err perr;
	uint8_t *payload = NULL;
	char *arch = NULL;
	size_t len = 0;
	uint16_t minor = 0;
	int rc;

	if (!path || !netp || !opt || !cfg || !st)
		return f8_fail(err, F8_ERR_MISUSE, "checkpoint: NULL argument");
	*netp = NULL;
	rc = f8_ckpt_read(path, &payload, &len, &minor, err);
	if (rc)
		return rc;
	rc = f8_ckpt_sections(path, payload, len, &secs, err);
	if (rc)
		goto fail;
	rc = f8_ckpt_conf(path, &secs.s[1], minor, &c, err);
	if (rc)
		goto fail;
	rc = f8_ckpt_progress(path, &secs, minor, &s, err);
	if (rc)
		goto fail;

	if (memchr(secs.s[0].p, 0, secs.s[0].left)) {
		rc = f8_fail(err, F8_ERR_FORMAT, "%s: NUL byte in the architecture text", path);
		goto fail;
	}
	arch = strndup((const char *)secs.s[0].p, secs.s[0].left);
	if (!arch) {
		rc = f8_fail(err, F8_ERR_NOMEM, "%s: out of memory", path);
		goto fail;
	}
	perr.msg[0] = 0;
	net = f8_net_parse(arch, &perr);
	if (!net) {
		rc = f8_fail(err, F8_ERR_FORMAT, "%s: stored architecture refused: %s", path,
			     perr.msg);
		goto fail;
	}
	rc = f8_sgd_init(&o, &c.sgd, net);
	if (rc) {
		rc = f8_fail(err, rc, "%s: cannot set up the optimiser", path);
		goto fail;
	}
	rc = f8_ckpt_floats(path, &secs.s[4], "PARM", net->param_count, net->param, err);
	if (!rc)
		rc = f8_ckpt_floats(path, &secs.s[5], "BNST", net->state_count, net->state, err);
	if (!rc)
		rc = f8_ckpt_floats(path, &secs.s[6], "VELO", o.count, o.velocity, err);
	if (rc)
		goto fail;
	free(arch);
	free(payload);
	*netp = net;
	*opt = o;
	*cfg = c;
	*st = s;
	return F8_OK;
fail:
	f8_sgd_free(&o);
	f8_net_free(net);
	free(s.history);
	free(arch);
	free(payload);
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
