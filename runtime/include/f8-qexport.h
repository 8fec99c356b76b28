/* SPDX-License-Identifier: MIT */
/*
 * From a trained float network to an integer model (f8-qmodel.h), by F8Net's rules
 * (docs/f8net.md): BN folded into the conv before it with the running statistics, every
 * weight tensor quantized to s8 at its own FL, every conv/linear input requantized to u8
 * (after a ReLU) or s8 at an FL chosen from calibration images, biases int32 at the
 * accumulator's FL, average pooling as a sum with a power-of-two FL gain whose remainder
 * (k*k / 2^shift) is folded into the consumer's weights, and the first conv fed raw pixels
 * at FL 8 (the dataset normalisation folded into its weights and bias).
 *
 * Without training this is F8Net's "tiny fine-tuning" with zero steps: no clipping
 * (eta = 1), fractional lengths recalibrated on data.
 */
#ifndef F8_QEXPORT_H
#define F8_QEXPORT_H

#include "f8-data.h"
#include "f8-err.h"
#include "f8-net.h"
#include "f8-qmodel.h"

#ifdef __cplusplus
extern "C" {
#endif

enum f8_fl_mode {
	F8_FL_GRID, /* the FL with the smallest squared error over the calibration images */
	F8_FL_STD,  /* floor(log2(c / std)), c = 40 signed / 70 unsigned */
};

struct f8_export_cfg {
	enum f8_fl_mode act_fl, weight_fl;
	int calib_images;       /* first N images of the calibration set (1..60000) */
	int batch;              /* calibration batch (1..1024) */
	struct f8_norm norm;    /* the float network's input normalisation */
	const char *model_name; /* <= 23 printable characters */
	const char *const *class_names; /* net->classes names, or NULL: "0", "1", ... */
};

/* An integer model that owns its storage (free with f8_qm_owned_free). */
struct f8_qm_owned {
	struct f8_qm m;
	int8_t **weights; /* [nnodes], NULL where none */
	int32_t **bias;
};

/*
 * Build @out from @net (parameters and BN running statistics as trained), calibrating
 * activation FLs on @calib. The network must be made of the layer patterns F8Net
 * quantizes (conv [+ bn] [+ relu], add [+ relu], max/avg pool, linear [+ relu]); anything
 * else is refused with F8_ERR_RANGE and the layer's name. Plans @net for cfg->batch.
 */
int f8_qm_export(struct f8_net *net, const struct f8_dataset *calib,
		 const struct f8_export_cfg *cfg, struct f8_qm_owned *out, struct f8_err *err);
void f8_qm_owned_free(struct f8_qm_owned *o);

#ifdef __cplusplus
}
#endif
#endif
