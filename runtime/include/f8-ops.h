/* SPDX-License-Identifier: MIT */
/*
 * Float training kernels: forward and backward of every layer the engine trains.
 *
 * Layout: activations are NCHW float32, contiguous: x[((n * C + c) * H + h) * W + w].
 * Conv weights are [Cout][Cin/groups][k][k]; linear weights are [out][in] (PyTorch's).
 *
 * Gradient convention (so that a tensor read by several layers sums its gradients):
 *   - the gradient of an input activation (dx, da, db...) is ACCUMULATED: dx += ...
 *     (the caller zeroes it once per step); a NULL dx means "not needed" (the image input);
 *   - parameter gradients (dw, dbias, dgamma, dbeta) are OVERWRITTEN.
 *
 * Kernels split their work over the thread pool (f8-par.h) themselves. Scratch memory
 * comes from the caller (planned once, never allocated per step): each kernel that
 * needs any has an f8_*_ws_floats() telling how much, for the current thread count.
 */
#ifndef F8_OPS_H
#define F8_OPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* 2-D convolution, square kernel, symmetric zero padding. groups is 1 or cin (depthwise,
 * then cout == cin). oh = (h + 2*pad - k) / stride + 1, likewise ow. */
struct f8_conv_geom {
	int n, cin, h, w;
	int cout, k, stride, pad, groups;
	int oh, ow;
};

/* Fill oh/ow from the rest; F8_OK or F8_ERR_RANGE (non-positive output, groups not 1 or cin). */
int f8_conv_geom_finish(struct f8_conv_geom *g);

size_t f8_conv_ws_floats(const struct f8_conv_geom *g);
/* y = conv(x, w) (+ bias[cout] when bias != NULL). */
void f8_conv_fwd(const struct f8_conv_geom *g, const float *x, const float *w, const float *bias,
		 float *y, float *ws);
/* From dy: dx += (dx may be NULL), dw = , dbias = (may be NULL). */
void f8_conv_bwd(const struct f8_conv_geom *g, const float *x, const float *w, const float *dy,
		 float *dx, float *dw, float *dbias, float *ws);

/*
 * Batch normalisation over (N, H, W) per channel, hw = H * W.
 * Training: batch mean and biased variance normalise; save_mean/save_invstd [c] keep
 * what backward needs; running stats move by momentum m with the UNBIASED variance:
 *   run_mean = (1 - m) * run_mean + m * mean,  run_var = (1 - m) * run_var + m * var * N*hw/(N*hw - 1)
 * (PyTorch's convention, m = 0.1). Eval: running stats normalise. A NULL y in training
 * computes the statistics only.
 */
void f8_bn_fwd_train(int n, int c, int hw, const float *x, const float *gamma, const float *beta,
		     float eps, float momentum, float *run_mean, float *run_var, float *save_mean,
		     float *save_invstd, float *y);
void f8_bn_fwd_eval(int n, int c, int hw, const float *x, const float *gamma, const float *beta,
		    float eps, const float *run_mean, const float *run_var, float *y);
void f8_bn_bwd(int n, int c, int hw, const float *x, const float *dy, const float *gamma,
	       const float *save_mean, const float *save_invstd, float *dx, float *dgamma,
	       float *dbeta);
/* The same with dx OVERWRITTEN (dx != NULL): for the first writer of an input gradient,
 * which then needs no zeroing pass. */
void f8_bn_bwd_set(int n, int c, int hw, const float *x, const float *dy, const float *gamma,
		   const float *save_mean, const float *save_invstd, float *dx, float *dgamma,
		   float *dbeta);

/* Elementwise over @count floats. ReLU's backward reads its output y (y > 0 passes dy). */
void f8_relu_fwd(size_t count, const float *x, float *y);
void f8_relu_bwd(size_t count, const float *y, const float *dy, float *dx);
/* dx = (overwritten), as f8_bn_bwd_set. */
void f8_relu_bwd_set(size_t count, const float *y, const float *dy, float *dx);
/* y = a + b; backward: da += dy, db += dy. */
void f8_add_fwd(size_t count, const float *a, const float *b, float *y);
void f8_add_bwd(size_t count, const float *dy, float *da, float *db);

/* Pooling, square window k, stride, symmetric padding pad (max pool pads with -inf;
 * average pool divides by k*k, padding counted as zeros: count_include_pad). */
struct f8_pool_geom {
	int n, c, h, w;
	int k, stride, pad;
	int oh, ow;
};
int f8_pool_geom_finish(struct f8_pool_geom *g);
/* argmax[n][c][oh][ow] = index of the winner inside its (h*w) plane, kept for backward. */
void f8_maxpool_fwd(const struct f8_pool_geom *g, const float *x, float *y, int32_t *argmax);
void f8_maxpool_bwd(const struct f8_pool_geom *g, const int32_t *argmax, const float *dy, float *dx);
void f8_avgpool_fwd(const struct f8_pool_geom *g, const float *x, float *y);
void f8_avgpool_bwd(const struct f8_pool_geom *g, const float *dy, float *dx);

/* Fully connected on flattened inputs: y[n][out] = x[n][in] . w[out][in] + bias[out]. */
void f8_linear_fwd(int n, int in, int out, const float *x, const float *w, const float *bias,
		   float *y);
void f8_linear_bwd(int n, int in, int out, const float *x, const float *w, const float *dy,
		   float *dx, float *dw, float *dbias);

/*
 * Softmax cross-entropy, mean over the batch. Returns the mean loss; dlogits (may be NULL)
 * is OVERWRITTEN with d(mean loss)/d(logits); *correct (may be NULL) counts argmax hits.
 * Labels outside [0, classes) are a caller bug (F8_ASSERT): loaders validate them.
 */
float f8_softmax_xent(int n, int classes, const float *logits, const int *labels, float *dlogits,
		      int *correct);

#ifdef __cplusplus
}
#endif
#endif
