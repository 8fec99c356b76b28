/* SPDX-License-Identifier: MIT */
/*
 * Networks for training: the architecture text format (docs/arch-format.md), the
 * built-in model zoo, and a planned float network with forward and backward.
 *
 *   struct f8_err err;
 *   char *text = f8_zoo_arch("resnet20", &err);            // or a file's contents
 *   struct f8_net *net = f8_net_parse(text, &err);         // graph, shapes, parameters
 *   f8_net_init(net, seed);                                // He init, BN gamma 1 / beta 0
 *   f8_net_plan(net, batch, &err);                         // every buffer, once
 *   f8_net_forward(net, x, n, true);                       // x: [n][c][h][w] float
 *   loss = f8_net_loss(net, labels, n, &correct);          // softmax CE, seeds backward
 *   f8_net_backward(net, n);                               // net->grad filled
 *
 * Layers are kept in topological order (the order of the text); layer 0 is the input.
 * The last layer's output is the logits (shape classes x 1 x 1); the loss is implicit.
 * Parameters, their gradients and the BN running statistics live in three flat arrays,
 * described by struct f8_param entries, so that optimizers and checkpoints see one
 * vector each.
 */
#ifndef F8_NET_H
#define F8_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "f8-data.h"
#include "f8-err.h"

#ifdef __cplusplus
extern "C" {
#endif

#define F8_ARCH_VERSION 1     /* the `f8arch <version>` line of the text format */
#define F8_NAME_MAX 32        /* layer names, including the NUL */
#define F8_MAX_LAYERS 4096
#define F8_PACT_ALPHA_INIT 8.0f /* F8Net's initial clip level */
#define F8_PACT_FL_INIT 6.0f    /* ... and running activation FL */

enum f8_layer_kind {
	F8_LAYER_INPUT,
	F8_LAYER_CONV,    /* k, stride, pad, groups (1 or depthwise), out channels, bias */
	F8_LAYER_BN,
	F8_LAYER_RELU,
	F8_LAYER_ADD,     /* two inputs of the same shape */
	F8_LAYER_MAXPOOL, /* k, stride, pad */
	F8_LAYER_AVGPOOL, /* k, stride, pad; global when k covers the input */
	F8_LAYER_LINEAR,  /* flattens its input; out features, bias always */
	F8_LAYER_COUNT
};

struct f8_layer {
	enum f8_layer_kind kind;
	char name[F8_NAME_MAX];
	int in[2];     /* producer layer indices; -1 when unused */
	int c, h, w;   /* output shape of one image */
	/* CONV, MAXPOOL, AVGPOOL: window; CONV also groups and bias; CONV/LINEAR: out */
	int k, stride, pad, groups;
	bool bias;
	int param[2];  /* indices into net->params (weight/gamma, bias/beta); -1 when none */
	int state;     /* index into net->states: BN's running mean, then var; a CONV/LINEAR
			* with a clipped input (clip=pact): the running FL of that input; else -1 */
	int clip;      /* CONV/LINEAR under clip=pact: the F8_PARAM_CLIP of its input (shared
			* along a residual stream); -1 for the first layer and without PACT */
};

enum f8_param_kind {
	F8_PARAM_CONV_W,   /* [cout][cin/groups][k][k], groups == 1 */
	F8_PARAM_DW_W,     /* depthwise conv weight [c][1][k][k] */
	F8_PARAM_BIAS,     /* conv or linear bias */
	F8_PARAM_BN_GAMMA,
	F8_PARAM_BN_BETA,
	F8_PARAM_LINEAR_W, /* [out][in] */
	F8_PARAM_CLIP,     /* PACT clip level alpha of a group of quantized inputs (1 float) */
	F8_PARAM_COUNT
};

struct f8_param {
	int layer;
	enum f8_param_kind kind;
	size_t off, count; /* floats into net->param / net->grad */
};

struct f8_state {
	int layer;
	size_t off, count; /* floats into net->state: BN running mean [c], running var [c] */
};

struct f8_net_plan; /* private to f8-net.c: arenas, per-layer buffers */
struct f8_quant;    /* private to f8-net-quant.c: the fake-quantization state */

/*
 * F8Net fake quantization, a mode of the network (docs/f8net.md): conv + BN pairs run
 * F8Net's double forward (statistics with the float weights, BN folded with the batch
 * statistics, folded weights quantized to s8 at an FL from their std, STE), and every
 * conv or linear input except the image is quantized to u8 (after a ReLU) or s8 at an FL
 * chosen per batch (with a running value, momentum 0.1, for eval). No clipping (eta = 1):
 * F8Net's tiny fine-tuning. Average pools feed their consumer's quantizer as the device
 * computes them (sum / 2^round(log2(k*k))).
 */
enum f8_quant_mode {
	F8_QUANT_OFF = 0,
	F8_QUANT_FIXED = 1,    /* fixed point: round half to even, clamp */
	F8_QUANT_FLOATING = 2, /* clamp only, no rounding: F8Net's "floating" mode (gradient checks) */
};

struct f8_quant_cfg {
	enum f8_quant_mode mode;
	bool act_grid, weight_grid; /* FL by grid search instead of floor(log2(c / std)) */
	float momentum;             /* of the running activation FL (0.1) */
	/* PACT (the network must be clip=pact): every quantized input is clipped at its
	 * group's alpha through eta = 2^FL * |alpha| / M, tensors are stored normalised by
	 * their consumer's eta, and the running FLs live in the network's state */
	bool pact;
	bool fixed_fl;              /* FLs fixed at fl_x (activations) and fl_w (weights): */
	int fl_x, fl_w;             /* F8Net's floating FP baseline (6, 7) */
};


struct f8_net {
	char *arch;               /* the architecture text it was parsed from (owned) */
	int nlayers;
	struct f8_layer *layers;
	int nparams;
	struct f8_param *params;
	int nstates;
	struct f8_state *states;
	size_t param_count, state_count;
	float *param, *grad;      /* param_count floats each */
	float *state;             /* state_count floats */
	float bn_eps, bn_momentum;/* 1e-5, 0.1 unless the text says otherwise */
	bool input_raw;           /* "f8arch 1 input=raw": the image enters as p / 256 (F8Net's
				   * FL-8 pixels), not normalised by the dataset's mean and std */
	bool clip_pact;           /* "clip=pact": F8_PARAM_CLIP alphas and running FLs appended
				   * after the float parameters and states (same prefix layout) */
	enum f8_quant_mode arch_quant; /* "quant=f8net|floating": the mode f8_net_parse sets */
	int classes;              /* outputs of the last layer */
	struct f8_net_plan *plan; /* NULL until f8_net_plan() */
	struct f8_quant *quant;   /* NULL unless f8_net_set_quant() */
};

/* Parse architecture text; shapes inferred, parameters allocated (zero). NULL + @err on bad text. */
struct f8_net *f8_net_parse(const char *text, struct f8_err *err);
/* The same with the status: F8_OK and *@net, or F8_ERR_FORMAT / _VERSION / _RANGE / _NOMEM
 * (and MISUSE for a NULL text) with *@net = NULL and the reason in @err. */
int f8_net_new(const char *text, struct f8_net **net, struct f8_err *err);
void f8_net_free(struct f8_net *net);

/* Kaiming-normal (fan_out, ReLU gain) conv weights, PyTorch-default linear, BN 1/0,
 * running mean 0 / var 1, biases 0; deterministic from @seed. */
void f8_net_init(struct f8_net *net, uint64_t seed);

/* Switch the mode (before f8_net_plan; OFF returns to float). F8_ERR_RANGE with the layer
 * when the network has a pattern F8Net does not quantize. */
int f8_net_set_quant(struct f8_net *net, const struct f8_quant_cfg *cfg, struct f8_err *err);
/* The running activation FL of the conv/linear layer @layer (-1 when not quantized). */
float f8_net_quant_fl(const struct f8_net *net, int layer);
/* Set it (an exported model's input FL, so that the eval-mode forward simulates that
 * integer model in float); F8_ERR_RANGE if @layer has no quantized input. */
int f8_net_quant_set_fl(struct f8_net *net, int layer, float fl);
/* The eval-mode unit of conv/linear @layer as the integer model takes it: folded weights
 * @wf (the layer's layout; running BN statistics, eta_self / (gain * eta_next) included)
 * and bias @bf in the output's normalised domain, its input FL (8 for the image) and
 * weight FL. F8_ERR_RANGE if @layer is not a unit. */
int f8_net_quant_folded(const struct f8_net *net, int layer, float *wf, float *bf, int *fl_x,
			int *fl_w);
/* True when the quantization state says how the integer model is built (PACT: trained
 * alphas and running FLs), so f8 export takes it instead of calibrating. */
bool f8_net_quant_trained(const struct f8_net *net);

/* Allocate every activation, gradient and scratch buffer for batches up to @batch.
 * Call again after f8_par_set_threads() changes the thread count. */
int f8_net_plan(struct f8_net *net, int batch, struct f8_err *err);
/* Bytes the plan holds (activations + gradients + scratch), for reports. */
size_t f8_net_plan_bytes(const struct f8_net *net);

/* Forward @n <= batch images; train selects batch statistics for BN (and updates the
 * running ones). Returns the logits [n][classes], valid until the next call. */
const float *f8_net_forward(struct f8_net *net, const float *x, int n, bool train);
/* Output of layer @layer in the last forward ([n][c][h][w] float), valid until the next
 * call; for calibration and reports (NULL before any forward). */
const float *f8_net_layer_output(const struct f8_net *net, int layer);
/* Softmax cross-entropy of the last forward; seeds backward. */
float f8_net_loss(struct f8_net *net, const int *labels, int n, int *correct);
/* Gradients of the mean loss w.r.t. every parameter into net->grad (overwritten). */
void f8_net_backward(struct f8_net *net, int n);

/* How the network reads pixels (f8_batch_fill): p / 256 with input=raw, else the dataset's
 * normalisation (Fashion-MNIST's). */
struct f8_norm f8_net_input_norm(const struct f8_net *net);
/* @text with "input=raw" on its version line (malloc'd; NULL + @err if it has one already or
 * no version line). */
char *f8_arch_with_raw_input(const char *text, struct f8_err *err);
/* @text with "key=value" set on its version line (replaced if present, else appended);
 * NULL + @err without a version line. The caller frees the result. */
char *f8_arch_set_key(const char *text, const char *key, const char *value, struct f8_err *err);
/* Copy parameters and states from @src into @dst, whose layout must extend @src's (same
 * layers; @dst may add clip=pact alphas and FL states after them, left as they are). */
int f8_net_copy_from(struct f8_net *dst, const struct f8_net *src, struct f8_err *err);
/* The quantization configuration an architecture's quant= key stands for (mode OFF if none). */
struct f8_quant_cfg f8_net_arch_quant_cfg(const struct f8_net *net);

/* Forward multiply-accumulates of one image (conv + linear), for reports. */
uint64_t f8_net_macs(const struct f8_net *net);
const char *f8_layer_kind_name(enum f8_layer_kind kind);
const char *f8_param_kind_name(enum f8_param_kind kind);
/* One line per layer (name, kind, output shape, params, MACs) for `f8 model`. */
void f8_net_summary(const struct f8_net *net, FILE *out);

/* The model zoo: architecture text of a built-in model (malloc'd), or NULL + @err. */
char *f8_zoo_arch(const char *name, struct f8_err *err);
/* NULL-terminated list of built-in names, and a one-line description of each. */
const char *const *f8_zoo_names(void);
const char *f8_zoo_describe(const char *name);

#ifdef __cplusplus
}
#endif
#endif
