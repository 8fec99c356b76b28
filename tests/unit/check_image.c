// SPDX-License-Identifier: MIT
/*
 * Image decoding (f8-image.h): PGM and PNG files built here byte by byte decode to the
 * pixels they were built from, through every PNG filter and colour type; every
 * truncation, a CRC error and the unsupported variants are refused with their status.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "f8-image.h"
#include "train-test.h"

/* --- a small PNG writer: chunks with CRCs, rows filtered with a chosen type each --- */

struct png_out {
	uint8_t buf[1 << 16];
	size_t len;
};

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static void png_chunk(struct png_out *o, const char *type, const uint8_t *data, uint32_t n)
{
	put32(o->buf + o->len, n);
	memcpy(o->buf + o->len + 4, type, 4);
	if (n)
		memcpy(o->buf + o->len + 8, data, n);
	put32(o->buf + o->len + 8 + n, (uint32_t)crc32(crc32(0, NULL, 0), o->buf + o->len + 4, n + 4));
	o->len += (size_t)n + 12;
}

static int pred(int type, int a, int b, int c)
{
	int p = a + b - c, pa = abs(p - a), pb = abs(p - b), pc = abs(p - c);

	switch (type) {
	case 1: return a;
	case 2: return b;
	case 3: return (a + b) / 2;
	case 4: return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
	default: return 0;
	}
}

/* A PNG of @w x @h samples (@ch per pixel, colour type @color), row y filtered with type y % 5. */
static void png_build(struct png_out *o, const uint8_t *px, uint32_t w, uint32_t h, int ch, int color,
		      const uint8_t *plte, uint32_t plte_n, int interlace, int depth)
{
	static const uint8_t sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
	uint8_t ihdr[13], raw[8192], z[16384];
	size_t stride = (size_t)w * (size_t)ch, y, x;
	uLongf zlen = sizeof(z);

	o->len = 8;
	memcpy(o->buf, sig, 8);
	put32(ihdr, w);
	put32(ihdr + 4, h);
	ihdr[8] = (uint8_t)depth;
	ihdr[9] = (uint8_t)color;
	ihdr[10] = ihdr[11] = 0;
	ihdr[12] = (uint8_t)interlace;
	png_chunk(o, "IHDR", ihdr, 13);
	png_chunk(o, "tEXt", (const uint8_t *)"k\0v", 3); /* ancillary: skipped */
	if (plte)
		png_chunk(o, "PLTE", plte, plte_n * 3);
	for (y = 0; y < h; y++) {
		const uint8_t *row = px + y * stride, *prev = y ? row - stride : NULL;
		int type = (int)(y % 5);

		raw[y * (stride + 1)] = (uint8_t)type;
		for (x = 0; x < stride; x++) {
			int a = x >= (size_t)ch ? row[x - ch] : 0, b = prev ? prev[x] : 0;
			int c = prev && x >= (size_t)ch ? prev[x - ch] : 0;

			raw[y * (stride + 1) + 1 + x] = (uint8_t)(row[x] - pred(type, a, b, c));
		}
	}
	ck_assert_int_eq(compress(z, &zlen, raw, h * (stride + 1)), Z_OK);
	/* two IDAT chunks: the decoder must join them */
	png_chunk(o, "IDAT", z, (uint32_t)zlen / 2);
	png_chunk(o, "IDAT", z + zlen / 2, (uint32_t)(zlen - zlen / 2));
	png_chunk(o, "IEND", NULL, 0);
}

static void fill(uint8_t *p, size_t n, uint32_t seed)
{
	size_t i;

	for (i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		p[i] = (uint8_t)(seed >> 16);
	}
}

START_TEST(test_png_color_types)
{
	/* colour type, samples per pixel: grey, RGB, grey+alpha, RGBA */
	static const int types[][2] = { { 0, 1 }, { 2, 3 }, { 4, 2 }, { 6, 4 } };
	uint8_t px[7 * 6 * 4], want[7 * 6 * 3];
	struct png_out *o = malloc(sizeof(*o));
	unsigned int t;

	for (t = 0; t < 4; t++) {
		struct f8_image img;
		struct f8_err e;
		int ch = types[t][1], oc = ch >= 3 ? 3 : 1;
		size_t i;

		fill(px, sizeof(px), 7 + t);
		png_build(o, px, 7, 6, ch, types[t][0], NULL, 0, 0, 8);
		ck_assert_int_eq(f8_image_decode(o->buf, o->len, &img, &e), F8_OK);
		ck_assert_int_eq(img.w, 7);
		ck_assert_int_eq(img.h, 6);
		ck_assert_int_eq(img.c, oc);
		for (i = 0; i < 42; i++) /* the first oc samples of each pixel; alpha dropped */
			memcpy(want + i * (size_t)oc, px + i * (size_t)ch, (size_t)oc);
		ck_assert_mem_eq(img.pixels, want, 42 * (size_t)oc);
		f8_image_free(&img);
	}
	free(o);
}
END_TEST

START_TEST(test_png_palette)
{
	uint8_t plte[4 * 3] = { 0, 0, 0, 255, 0, 0, 0, 255, 0, 10, 20, 30 }, px[5 * 5];
	struct png_out *o = malloc(sizeof(*o));
	struct f8_image img;
	struct f8_err e;
	int i;

	for (i = 0; i < 25; i++)
		px[i] = (uint8_t)(i % 4);
	png_build(o, px, 5, 5, 1, 3, plte, 4, 0, 8);
	ck_assert_int_eq(f8_image_decode(o->buf, o->len, &img, &e), F8_OK);
	ck_assert_int_eq(img.c, 3);
	for (i = 0; i < 25; i++)
		ck_assert_mem_eq(img.pixels + 3 * i, plte + 3 * (i % 4), 3);
	f8_image_free(&img);
	/* an index past the palette */
	px[12] = 4;
	png_build(o, px, 5, 5, 1, 3, plte, 4, 0, 8);
	ck_assert_int_eq(f8_image_decode(o->buf, o->len, &img, &e), F8_ERR_FORMAT);
	ck_assert_ptr_null(img.pixels);
	free(o);
}
END_TEST

START_TEST(test_png_refused)
{
	uint8_t px[4 * 4];
	struct png_out *o = malloc(sizeof(*o));
	struct f8_image img;
	struct f8_err e;
	size_t n;

	fill(px, sizeof(px), 3);
	png_build(o, px, 4, 4, 1, 0, NULL, 0, 1, 8);
	ck_assert_int_eq(f8_image_decode(o->buf, o->len, &img, &e), F8_ERR_FORMAT);
	ck_assert_ptr_nonnull(strstr(e.msg, "interlaced"));
	png_build(o, px, 2, 4, 2, 0, NULL, 0, 0, 16);
	ck_assert_int_eq(f8_image_decode(o->buf, o->len, &img, &e), F8_ERR_FORMAT);
	ck_assert_ptr_nonnull(strstr(e.msg, "bit depth"));
	png_build(o, px, 4, 4, 1, 0, NULL, 0, 0, 8);
	/* every truncation is refused */
	for (n = 0; n < o->len; n++) {
		ck_assert_int_lt(f8_image_decode(o->buf, n, &img, &e), 0);
		ck_assert_ptr_null(img.pixels);
	}
	/* a flipped bit in the IHDR: the CRC catches it */
	o->buf[8 + 8 + 2] ^= 1;
	ck_assert_int_eq(f8_image_decode(o->buf, o->len, &img, &e), F8_ERR_CORRUPT);
	ck_assert_ptr_nonnull(strstr(e.msg, "CRC"));
	o->buf[8 + 8 + 2] ^= 1;
	ck_assert_int_eq(f8_image_decode(o->buf, o->len, &img, &e), F8_OK);
	f8_image_free(&img);
	/* an unknown critical chunk (upper-case first letter) */
	memcpy(o->buf + 8 + 25 + 4, "XEXt", 4);
	put32(o->buf + 8 + 25 + 8 + 3, (uint32_t)crc32(crc32(0, NULL, 0), o->buf + 8 + 25 + 4, 7));
	ck_assert_int_eq(f8_image_decode(o->buf, o->len, &img, &e), F8_ERR_FORMAT);
	ck_assert_ptr_nonnull(strstr(e.msg, "critical"));
	ck_assert_int_eq(f8_image_decode((const uint8_t *)"GIF89a", 6, &img, &e), F8_ERR_FORMAT);
	free(o);
}
END_TEST

START_TEST(test_pgm)
{
	static const char hdr[] = "P5\n# a comment\n3 2\n255\n";
	uint8_t buf[64];
	struct f8_image img;
	struct f8_err e;
	size_t n = sizeof(hdr) - 1, i;

	memcpy(buf, hdr, n);
	for (i = 0; i < 6; i++)
		buf[n + i] = (uint8_t)(40 * i + 1);
	ck_assert_int_eq(f8_image_decode(buf, n + 6, &img, &e), F8_OK);
	ck_assert_int_eq(img.w, 3);
	ck_assert_int_eq(img.h, 2);
	ck_assert_int_eq(img.c, 1);
	ck_assert_mem_eq(img.pixels, buf + n, 6);
	f8_image_free(&img);
	ck_assert_int_eq(f8_image_decode(buf, n + 5, &img, &e), F8_ERR_CORRUPT);
	ck_assert_int_eq(f8_image_decode((const uint8_t *)"P5 3 2 65535\n", 13, &img, &e),
			 F8_ERR_FORMAT);
	ck_assert_int_eq(f8_image_decode((const uint8_t *)"P5 9999 2 255\n", 14, &img, &e),
			 F8_ERR_RANGE);
	ck_assert_int_eq(f8_image_decode((const uint8_t *)"P5 3", 4, &img, &e), F8_ERR_FORMAT);
}
END_TEST

START_TEST(test_to_input)
{
	uint8_t rgb[2 * 3] = { 255, 0, 0, 10, 200, 30 }, grey[2] = { 9, 250 }, out[6];
	struct f8_image ci = { 2, 1, 3, rgb }, gi = { 2, 1, 1, grey };
	struct f8_err e;

	ck_assert_int_eq(f8_image_to_input(&ci, 1, 1, 2, out, &e), F8_OK);
	/* (77 R + 150 G + 29 B + 128) >> 8, by hand */
	ck_assert_uint_eq(out[0], (77 * 255 + 128) >> 8);
	ck_assert_uint_eq(out[1], (770 + 30000 + 870 + 128) >> 8);
	ck_assert_int_eq(f8_image_to_input(&gi, 3, 1, 2, out, &e), F8_OK);
	ck_assert_uint_eq(out[0], 9);
	ck_assert_uint_eq(out[2], 9);
	ck_assert_uint_eq(out[3], 250);
	ck_assert_uint_eq(out[5], 250);
	ck_assert_int_eq(f8_image_to_input(&gi, 1, 2, 1, out, &e), F8_ERR_RANGE);
	ck_assert_ptr_nonnull(strstr(e.msg, "no resizing"));
	ck_assert_int_eq(f8_image_to_input(&gi, 2, 1, 2, out, &e), F8_ERR_RANGE);
}
END_TEST

Suite *f8_image_suite(void)
{
	Suite *s = suite_create("image");
	TCase *tc = tcase_create("decode");

	tcase_add_test(tc, test_png_color_types);
	tcase_add_test(tc, test_png_palette);
	tcase_add_test(tc, test_png_refused);
	tcase_add_test(tc, test_pgm);
	tcase_add_test(tc, test_to_input);
	suite_add_tcase(s, tc);
	return s;
}
