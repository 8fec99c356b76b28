// SPDX-License-Identifier: MIT
/*
 * Training batches (f8-data.h): images to normalised float tensors, with the usual
 * augmentation of small-image CNN training (random crop after zero padding, random
 * horizontal flip), and the index shuffle of each epoch.
 *
 * Randomness comes only from the caller's rng, in a fixed order (per image: crop dy,
 * crop dx, flip), so a seed gives the same batches on every machine and thread count.
 */
#include <stddef.h>
#include <stdint.h>

#include "f8-data.h"

void f8_batch_fill(const struct f8_dataset *ds, const int *index, int n, const struct f8_norm *norm,
		   const struct f8_augment *aug, struct f8_rng *rng, float *x, int *labels)
{
	const int c = ds->c, h = ds->h, w = ds->w;
	const size_t plane = (size_t)h * w, img = (size_t)c * plane;
	float lut[256];
	int i, v;

	F8_ASSERT(n >= 0 && (n == 0 || (index && x)));
	F8_ASSERT(!aug || aug->crop_pad == 0 || rng);
	F8_ASSERT(!aug || !aug->hflip || rng);
	/* Every pixel is one of 256 values: normalise each once. */
	for (v = 0; v < 256; v++)
		lut[v] = ((float)v / 255.0f - norm->mean) / norm->std;
	/* F8Net's raw input: exactly p / 256, the integer model's FL-8 pixel, which the
	 * division above misses by an ulp for 120 of the 256 values */
	if (norm->mean == F8_RAW_NORM.mean && norm->std == F8_RAW_NORM.std)
		for (v = 0; v < 256; v++)
			lut[v] = (float)v / 256.0f;

	for (i = 0; i < n; i++) {
		const int k = index[i];
		const uint8_t *src;
		float *dst = x + (size_t)i * img;
		int dy = 0, dx = 0, ch, y, xo;
		bool flip = false;

		F8_ASSERT(k >= 0 && k < ds->n);
		src = ds->pixels + (size_t)k * img;
		if (labels)
			labels[i] = ds->labels[k];
		if (aug && aug->crop_pad > 0) {
			/* Offsets of the h x w window in the padded (h + 2p) x (w + 2p) image, minus p. */
			dy = (int)f8_rng_below(rng, (uint32_t)(2 * aug->crop_pad + 1)) - aug->crop_pad;
			dx = (int)f8_rng_below(rng, (uint32_t)(2 * aug->crop_pad + 1)) - aug->crop_pad;
		}
		if (aug && aug->hflip)
			flip = f8_rng_u64(rng) >> 63;
		for (ch = 0; ch < c; ch++) {
			const uint8_t *sp = src + (size_t)ch * plane;
			float *dp = dst + (size_t)ch * plane;

			for (y = 0; y < h; y++) {
				const int sy = y + dy;

				for (xo = 0; xo < w; xo++) {
					/* Output column xo shows cropped column xc (mirrored when flipped). */
					const int xc = flip ? w - 1 - xo : xo, sx = xc + dx;
					const bool in = sy >= 0 && sy < h && sx >= 0 && sx < w;

					/* Padding is pixel value 0, normalised like any pixel. */
					dp[(size_t)y * w + xo] = lut[in ? sp[(size_t)sy * w + sx] : 0];
				}
			}
		}
	}
}

void f8_shuffle(int *index, int n, struct f8_rng *rng)
{
	int i;

	for (i = n - 1; i > 0; i--) {
		int j = (int)f8_rng_below(rng, (uint32_t)i + 1);
		int t = index[i];

		index[i] = index[j];
		index[j] = t;
	}
}
