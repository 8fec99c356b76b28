/* SPDX-License-Identifier: MIT */
/*
 * Single images for classification (f8 run): binary PGM (P5, maxval 255) and PNG (8-bit
 * grey, grey + alpha, RGB, RGBA or palette; not interlaced), decoded with zlib only.
 *
 * The pixels are returned as the model takes them, u8 [h][w][c]: the image must have the
 * model's height and width (nothing is resized or cropped, so no pixel is invented), a
 * colour image given to a one-channel model becomes grey as (77 R + 150 G + 29 B + 128) >> 8,
 * a grey image given to a three-channel model is repeated in each channel, and alpha is
 * dropped. Every chunk's CRC, every size and field is checked: a malformed or truncated file
 * gets F8_ERR_FORMAT / F8_ERR_CORRUPT with what is wrong, never a partial image.
 */
#ifndef F8_IMAGE_H
#define F8_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "f8-err.h"

#ifdef __cplusplus
extern "C" {
#endif

#define F8_IMAGE_MAX_DIM 4096 /* width or height */

/* A decoded image: u8 [h][w][c], c = 1 (grey) or 3 (RGB). */
struct f8_image {
	int w, h, c;
	uint8_t *pixels; /* malloc'd */
};

/* Decode a PGM or PNG file image of @len bytes (the format from its signature). */
int f8_image_decode(const uint8_t *buf, size_t len, struct f8_image *img, struct f8_err *e);
/* Read and decode @path (at most 64 MiB). The error message names the file. */
int f8_image_load(const char *path, struct f8_image *img, struct f8_err *e);
/*
 * The model's input from @img: u8 [h][w][c] into @out (h * w * c bytes); F8_ERR_RANGE when
 * the size differs or c is not 1 or 3.
 */
int f8_image_to_input(const struct f8_image *img, int c, int h, int w, uint8_t *out,
		      struct f8_err *e);
void f8_image_free(struct f8_image *img);

#ifdef __cplusplus
}
#endif
#endif
