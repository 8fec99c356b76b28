/* SPDX-License-Identifier: MIT */
/*
 * Datasets: the IDX format (gzip'd or plain, read through zlib), Fashion-MNIST from
 * Debian's dataset-fashion-mnist, and batches with augmentation.
 *
 * Every header field and size is checked: a wrong magic, an unsupported type or rank,
 * dimensions that do not match the file's length, image and label counts that differ,
 * a label outside [0, classes), a truncated or corrupt gzip stream all give F8_ERR_FORMAT
 * or F8_ERR_CORRUPT with the file name and what is wrong.
 */
#ifndef F8_DATA_H
#define F8_DATA_H

#include <stdbool.h>
#include <stdint.h>

#include "f8-err.h"
#include "f8-rng.h"

#ifdef __cplusplus
extern "C" {
#endif

#define F8_FMNIST_DIR "/usr/share/datasets/fashion-mnist"

struct f8_dataset {
	int n, c, h, w;    /* images of c x h x w bytes */
	int classes;
	uint8_t *pixels;   /* n * c * h * w */
	uint8_t *labels;   /* n */
};

/* Load an IDX3 u8 image file and an IDX1 u8 label file (gzip or not). */
int f8_idx_load(struct f8_dataset *ds, const char *images_path, const char *labels_path,
		int classes, struct f8_err *err);
/* Fashion-MNIST train (60k) or test (10k) split from @dir (NULL: F8_FMNIST_DIR). */
int f8_fmnist_load(struct f8_dataset *ds, const char *dir, bool train, struct f8_err *err);
/* Keep the first n images (tests, quick runs); n larger than the set keeps all. */
void f8_dataset_truncate(struct f8_dataset *ds, int n);
void f8_dataset_free(struct f8_dataset *ds);

struct f8_augment {
	int crop_pad;  /* random crop after zero padding by this many pixels (0: none) */
	bool hflip;    /* random horizontal flip with probability 1/2 */
};

/* Per-dataset normalisation: x = (pixel / 255 - mean) / std, one mean/std for all channels. */
struct f8_norm {
	float mean, std;
};
#define F8_FMNIST_NORM ((struct f8_norm){ 0.2860f, 0.3530f })
/* F8Net's raw input: (p / 255) / (256 / 255), which f8_batch_fill makes exactly p / 256 */
#define F8_RAW_NORM ((struct f8_norm){ 0.0f, 256.0f / 255.0f })

/*
 * Fill x [n][c][h][w] and labels [n] from images index[0..n). With aug != NULL the
 * crop offsets and flips come from @rng in image order (deterministic for a seed).
 */
void f8_batch_fill(const struct f8_dataset *ds, const int *index, int n, const struct f8_norm *norm,
		   const struct f8_augment *aug, struct f8_rng *rng, float *x, int *labels);
/* Fisher-Yates shuffle of index[0..n). */
void f8_shuffle(int *index, int n, struct f8_rng *rng);

#ifdef __cplusplus
}
#endif
#endif
