// SPDX-License-Identifier: MIT
/* PGM and PNG decoding for single-image classification (f8-image.h). */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "f8-fs.h"
#include "f8-image.h"

#define IMAGE_MAX_FILE (64u << 20)

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* --- PGM (P5): "P5" whitespace W whitespace H whitespace 255 one-whitespace data --- */

/* The next decimal field after whitespace and '#' comments; -1 if none or too large. */
static long pgm_field(const uint8_t *buf, size_t len, size_t *pos)
{
	long v = 0;
	size_t p = *pos;
	int digits = 0;

	for (;;) {
		while (p < len && (buf[p] == ' ' || buf[p] == '\t' || buf[p] == '\n' || buf[p] == '\r'))
			p++;
		if (p < len && buf[p] == '#') {
			while (p < len && buf[p] != '\n')
				p++;
			continue;
		}
		break;
	}
	while (p < len && buf[p] >= '0' && buf[p] <= '9') {
		v = v * 10 + (buf[p++] - '0');
		if (++digits > 6)
			return -1;
	}
	*pos = p;
	return digits ? v : -1;
}

static int pgm_decode(const uint8_t *buf, size_t len, struct f8_image *img, struct f8_err *e)
{
	size_t pos = 2;
	long w = pgm_field(buf, len, &pos), h = pgm_field(buf, len, &pos);
	long maxval = pgm_field(buf, len, &pos);

	if (w < 1 || h < 1 || maxval < 0)
		return f8_fail(e, F8_ERR_FORMAT, "PGM header: width, height and maxval expected");
	if (w > F8_IMAGE_MAX_DIM || h > F8_IMAGE_MAX_DIM)
		return f8_fail(e, F8_ERR_RANGE, "PGM %ldx%ld: larger than %d pixels a side", w, h,
			       F8_IMAGE_MAX_DIM);
	if (maxval != 255)
		return f8_fail(e, F8_ERR_FORMAT, "PGM maxval %ld: only 8-bit (255) images are read",
			       maxval);
	/* Exactly one whitespace byte separates the header from the pixels. */
	if (pos >= len || !(buf[pos] == ' ' || buf[pos] == '\t' || buf[pos] == '\n' || buf[pos] == '\r'))
		return f8_fail(e, F8_ERR_FORMAT, "PGM header: no whitespace before the pixels");
	pos++;
	if (len - pos < (size_t)w * (size_t)h)
		return f8_fail(e, F8_ERR_CORRUPT, "PGM truncated: %zu of %ld pixel bytes", len - pos,
			       w * h);
	img->pixels = malloc((size_t)w * (size_t)h);
	if (!img->pixels)
		return f8_fail(e, F8_ERR_NOMEM, "PGM: out of memory");
	memcpy(img->pixels, buf + pos, (size_t)w * (size_t)h);
	img->w = (int)w;
	img->h = (int)h;
	img->c = 1;
	return F8_OK;
}

/* --- PNG: chunks with CRCs; IHDR, optional PLTE, IDAT (zlib), IEND --- */

static const uint8_t png_sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };

struct png_info {
	uint32_t w, h;
	int color, channels; /* colour type, samples per pixel in the file */
	uint8_t palette[256][3];
	uint32_t palette_n;
	uint8_t *idat; /* concatenated IDAT data */
	size_t idat_len;
};

static int paeth(int a, int b, int c)
{
	int p = a + b - c, pa = abs(p - a), pb = abs(p - b), pc = abs(p - c);

	if (pa <= pb && pa <= pc)
		return a;
	return pb <= pc ? b : c;
}

/* Undo the per-row filters in place; @raw holds h rows of 1 + stride bytes. */
static int png_unfilter(uint8_t *raw, uint32_t h, size_t stride, int bpp, struct f8_err *e)
{
	uint8_t *prev = NULL;
	uint32_t y;
	size_t x;

	for (y = 0; y < h; y++) {
		uint8_t *row = raw + (size_t)y * (stride + 1);
		uint8_t type = row[0];
		uint8_t *p = row + 1;

		if (type > 4)
			return f8_fail(e, F8_ERR_FORMAT, "PNG row %u: filter type %u unknown", y, type);
		for (x = 0; x < stride; x++) {
			int a = x >= (size_t)bpp ? p[x - bpp] : 0;
			int b = prev ? prev[x] : 0;
			int c = prev && x >= (size_t)bpp ? prev[x - bpp] : 0;
			int add = type == 1 ? a : type == 2 ? b : type == 3 ? (a + b) / 2
				: type == 4 ? paeth(a, b, c) : 0;

			p[x] = (uint8_t)(p[x] + add);
		}
		prev = p;
	}
	return F8_OK;
}

static int png_chunks(const uint8_t *buf, size_t len, struct png_info *pi, struct f8_err *e)
{
	size_t pos = 8;
	bool ihdr = false, iend = false;

	while (!iend) {
		uint32_t n, crc;
		const uint8_t *type, *data;

		if (len - pos < 12)
			return f8_fail(e, F8_ERR_CORRUPT, "PNG truncated: no IEND chunk");
		n = be32(buf + pos);
		if (n > len - pos - 12)
			return f8_fail(e, F8_ERR_CORRUPT, "PNG chunk at byte %zu: length %u past the end",
				       pos, n);
		type = buf + pos + 4;
		data = type + 4;
		crc = (uint32_t)crc32(crc32(0, NULL, 0), type, n + 4);
		if (crc != be32(data + n))
			return f8_fail(e, F8_ERR_CORRUPT, "PNG chunk at byte %zu: CRC mismatch", pos);
		if (!ihdr && memcmp(type, "IHDR", 4))
			return f8_fail(e, F8_ERR_FORMAT, "PNG: the first chunk is not IHDR");
		if (!memcmp(type, "IHDR", 4)) {
			if (ihdr || n != 13)
				return f8_fail(e, F8_ERR_FORMAT, "PNG: bad or repeated IHDR");
			ihdr = true;
			pi->w = be32(data);
			pi->h = be32(data + 4);
			pi->color = data[9];
			if (data[8] != 8)
				return f8_fail(e, F8_ERR_FORMAT, "PNG bit depth %u: only 8-bit images are read",
					       data[8]);
			if (data[10] != 0 || data[11] != 0)
				return f8_fail(e, F8_ERR_FORMAT, "PNG: unknown compression or filter method");
			if (data[12] != 0)
				return f8_fail(e, F8_ERR_FORMAT, "PNG: interlaced images are not read");
			switch (pi->color) {
			case 0: pi->channels = 1; break;
			case 2: pi->channels = 3; break;
			case 3: pi->channels = 1; break;
			case 4: pi->channels = 2; break;
			case 6: pi->channels = 4; break;
			default:
				return f8_fail(e, F8_ERR_FORMAT, "PNG colour type %d unknown", pi->color);
			}
			if (pi->w < 1 || pi->h < 1 || pi->w > F8_IMAGE_MAX_DIM || pi->h > F8_IMAGE_MAX_DIM)
				return f8_fail(e, F8_ERR_RANGE, "PNG %ux%u: each side must be 1 to %d pixels",
					       pi->w, pi->h, F8_IMAGE_MAX_DIM);
		} else if (!memcmp(type, "PLTE", 4)) {
			if (n % 3 || n == 0 || n > 768)
				return f8_fail(e, F8_ERR_FORMAT, "PNG: PLTE of %u bytes", n);
			pi->palette_n = n / 3;
			memcpy(pi->palette, data, n);
		} else if (!memcmp(type, "IDAT", 4)) {
			uint8_t *p = realloc(pi->idat, pi->idat_len + n + 1);

			if (!p)
				return f8_fail(e, F8_ERR_NOMEM, "PNG: out of memory");
			pi->idat = p;
			memcpy(pi->idat + pi->idat_len, data, n);
			pi->idat_len += n;
		} else if (!memcmp(type, "IEND", 4)) {
			iend = true;
		} else if (!(type[0] & 0x20)) {
			return f8_fail(e, F8_ERR_FORMAT, "PNG: critical chunk %.4s not understood", type);
		}
		pos += (size_t)n + 12;
	}
	if (!pi->idat_len)
		return f8_fail(e, F8_ERR_FORMAT, "PNG: no image data (IDAT)");
	if (pi->color == 3 && !pi->palette_n)
		return f8_fail(e, F8_ERR_FORMAT, "PNG: palette image without PLTE");
	return F8_OK;
}

static int png_decode(const uint8_t *buf, size_t len, struct f8_image *img, struct f8_err *e)
{
	struct png_info pi;
	size_t stride, raw_len;
	uLongf got;
	uint8_t *raw = NULL;
	uint32_t i;
	int st;

	memset(&pi, 0, sizeof(pi));
	st = png_chunks(buf, len, &pi, e);
	if (st)
		goto free_idat;
	stride = (size_t)pi.w * (size_t)pi.channels;
	raw_len = (stride + 1) * pi.h;
	raw = malloc(raw_len);
	if (!raw) {
		st = f8_fail(e, F8_ERR_NOMEM, "PNG: out of memory");
		goto free_idat;
	}
	got = raw_len;
	/* Z_BUF_ERROR: more data than the image needs; Z_DATA_ERROR: corrupt or truncated. */
	if (uncompress(raw, &got, pi.idat, pi.idat_len) != Z_OK || got != raw_len) {
		st = f8_fail(e, F8_ERR_CORRUPT, "PNG image data: corrupt, or not %ux%u pixels", pi.w,
			     pi.h);
		goto free_raw;
	}
	st = png_unfilter(raw, pi.h, stride, pi.channels, e);
	if (st)
		goto free_raw;
	img->w = (int)pi.w;
	img->h = (int)pi.h;
	img->c = pi.channels >= 3 || pi.color == 3 ? 3 : 1;
	img->pixels = malloc((size_t)pi.w * pi.h * (size_t)img->c);
	if (!img->pixels) {
		st = f8_fail(e, F8_ERR_NOMEM, "PNG: out of memory");
		goto free_raw;
	}
	for (i = 0; i < pi.h; i++) {
		const uint8_t *src = raw + (size_t)i * (stride + 1) + 1;
		uint8_t *dst = img->pixels + (size_t)i * pi.w * (size_t)img->c;
		uint32_t x;

		for (x = 0; x < pi.w; x++, src += pi.channels) {
			if (pi.color == 3) {
				if (src[0] >= pi.palette_n) {
					st = f8_fail(e, F8_ERR_FORMAT, "PNG: palette index %u of %u entries",
						     src[0], pi.palette_n);
					f8_image_free(img);
					goto free_raw;
				}
				memcpy(dst + 3 * (size_t)x, pi.palette[src[0]], 3);
			} else {
				/* grey(+alpha) keeps sample 0; RGB(A) keeps three: alpha is dropped */
				memcpy(dst + (size_t)img->c * x, src, (size_t)img->c);
			}
		}
	}
free_raw:
	free(raw);
free_idat:
	free(pi.idat);
	return st;
}

int f8_image_decode(const uint8_t *buf, size_t len, struct f8_image *img, struct f8_err *e)
{
	memset(img, 0, sizeof(*img));
	if (len >= 8 && !memcmp(buf, png_sig, 8))
		return png_decode(buf, len, img, e);
	if (len >= 2 && buf[0] == 'P' && buf[1] == '5')
		return pgm_decode(buf, len, img, e);
	return f8_fail(e, F8_ERR_FORMAT, "not a PNG or binary PGM (P5) image");
}

int f8_image_load(const char *path, struct f8_image *img, struct f8_err *e)
{
	uint64_t size;
	uint8_t *buf;
	size_t got = 0;
	int fd, st;

	memset(img, 0, sizeof(*img));
	fd = f8_fs_open_regular(path, &size, e);
	if (fd < 0)
		return fd;
	if (size > IMAGE_MAX_FILE) {
		close(fd);
		return f8_fail(e, F8_ERR_RANGE, "%s: %llu bytes, more than an image may have", path,
			       (unsigned long long)size);
	}
	buf = malloc(size ? size : 1);
	if (!buf) {
		close(fd);
		return f8_fail(e, F8_ERR_NOMEM, "%s: out of memory", path);
	}
	while (got < size) {
		ssize_t r = read(fd, buf + got, size - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			st = f8_fail(e, F8_ERR_IO, "%s: read failed: %s", path,
				     r < 0 ? strerror(errno) : "file shrank");
			goto out;
		}
		got += (size_t)r;
	}
	st = f8_image_decode(buf, size, img, e);
	if (st) {
		char why[sizeof(e->msg)];

		memcpy(why, e ? e->msg : "", e ? sizeof(why) : 1);
		if (e)
			f8_fail(e, st, "%s: %s", path, why);
	}
out:
	close(fd);
	free(buf);
	return st;
}

int f8_image_to_input(const struct f8_image *img, int c, int h, int w, uint8_t *out,
		      struct f8_err *e)
{
	size_t i, n = (size_t)h * (size_t)w;

	if (img->w != w || img->h != h)
		return f8_fail(e, F8_ERR_RANGE, "image is %dx%d, the model takes %dx%d (no resizing)",
			       img->w, img->h, w, h);
	if (c != 1 && c != 3)
		return f8_fail(e, F8_ERR_RANGE, "the model takes %d channels: only 1 or 3 are fed images", c);
	for (i = 0; i < n; i++) {
		const uint8_t *p = img->pixels + i * (size_t)img->c;

		if (c == img->c)
			memcpy(out + i * (size_t)c, p, (size_t)c);
		else if (c == 1)
			out[i] = (uint8_t)((77 * p[0] + 150 * p[1] + 29 * p[2] + 128) >> 8);
		else
			memset(out + 3 * i, p[0], 3);
	}
	return F8_OK;
}

void f8_image_free(struct f8_image *img)
{
	free(img->pixels);
	img->pixels = NULL;
}
