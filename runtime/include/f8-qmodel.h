/* SPDX-License-Identifier: MIT */
/*
 * The integer model (docs/model-format.md): an F8Net network in 8-bit fixed point, as a
 * graph of integer operations whose every number is an integer and every scale a shift.
 *
 *   struct f8_qm m;                      // nodes + weights, built by f8_qm_export()
 *   f8_qm_encode(&m, &bytes, &len);      // the .f8m file image (malloc'd)
 *   f8_qm_parse(bytes, len, nodes, cap, &view, &qe);  // validate a file image
 *   f8_qm_forward(&m, pixels, logits, scratch);       // int32 logits of one image
 *
 * Every tensor between nodes is int32 with a fractional length (FL): the value it stands
 * for is v * 2^-FL. A CONV or LINEAR node first requantizes its input to 8 bits at its
 * own input FL (docs/arith.md A4: round-half-to-even shift, saturation to u8 or s8), then
 * multiply-accumulates 8x8 products into int32 with its int32 bias (A5); its output FL is
 * fl_in + fl_w. ADD aligns both operands to the larger FL (A6). SUMPOOL sums its window
 * exactly and declares the sum at FL + shift (a sum of 49 at FL f is the mean * 49/64 at
 * FL f + 6: no arithmetic at all). Activations are NHWC ([h][w][c], c contiguous), the
 * device's layout; conv weights [cout][k][k][cin], depthwise [c][k][k], LINEAR [out][h][w][c].
 *
 * The parser is freestanding (no libc, no allocation: nodes go to caller storage and
 * weights stay in the caller's buffer), so that a kernel could one day read the format.
 */
#ifndef F8_QMODEL_H
#define F8_QMODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define F8_QM_MAGIC 0x4d513846u /* "F8QM" as bytes in memory */
#define F8_QM_VERSION_MAJOR 1u
#define F8_QM_VERSION_MINOR 0u
#define F8_QM_HEADER_SIZE 64u
#define F8_QM_NODE_SIZE 96u
#define F8_QM_NAME_MAX 32u     /* node and class names, NUL included */
#define F8_QM_MAX_NODES 4096u
#define F8_QM_MAX_CLASSES 1000u
#define F8_QM_MAX_DIM 4096u    /* c, h, w of any tensor */
#define F8_QM_MAX_K 32u        /* window size */
#define F8_QM_MAX_FL 40        /* an int32 tensor's FL: 0 .. 40 */

enum f8_qm_op {
	F8_QM_INPUT = 1,   /* u8 pixels [h][w][c] at FL 8: value p / 256 */
	F8_QM_CONV = 2,    /* requant input, k x k conv (groups 1 or depthwise), bias, ReLU */
	F8_QM_ADD = 3,     /* align-and-add of two int32 tensors of one shape, ReLU */
	F8_QM_MAXPOOL = 4, /* max over the window (padding excluded), same FL */
	F8_QM_SUMPOOL = 5, /* exact sum over the window (zero padding), FL + pool_shift */
	F8_QM_LINEAR = 6,  /* requant the flattened input, fully connected, bias */
	F8_QM_OP_END_
};

#define F8_QM_F_RELU 0x1u      /* max(v, 0) after the bias / the add */
#define F8_QM_F_DEPTHWISE 0x2u /* CONV: groups = channels */
#define F8_QM_F_SIGNED 0x4u    /* CONV/LINEAR: input requantized to s8 [-127, 127], else u8 */
#define F8_QM_F_ALL 0x7u

/* One node, as decoded (the file's 96-byte record is little-endian, docs/model-format.md). */
struct f8_qm_node {
	uint8_t op, flags;
	int32_t in[2];         /* producer node indices (< this node); -1 when unused */
	uint16_t c, h, w;      /* output shape of one image */
	uint8_t k, stride, pad;
	int8_t fl_out;         /* FL of the int32 output */
	int8_t fl_in;          /* CONV/LINEAR: FL the input is requantized to */
	int8_t fl_w;           /* CONV/LINEAR: FL of the weights */
	int8_t pool_shift;     /* SUMPOOL: the FL the sum gains */
	const int8_t *weights; /* CONV/LINEAR, in the layouts above */
	const int32_t *bias;   /* CONV/LINEAR: [c], at FL fl_in + fl_w (host endianness) */
	char name[F8_QM_NAME_MAX];
};

struct f8_qm {
	uint32_t nnodes;
	struct f8_qm_node *nodes;
	uint32_t classes;                    /* = the last node's c */
	char (*class_names)[F8_QM_NAME_MAX]; /* [classes] */
	char model_name[F8_QM_NAME_MAX];
};

/* Why a file image was refused: a status (f8-err.h), the node (-1: not a node), a reason. */
struct f8_qm_error {
	int status;
	int node;
	const char *what;
};

/* Nodes a file image declares, to size f8_qm_parse's storage: 0 if its header is
 * unreadable or announces more than 4096 nodes or more than the image holds. */
uint32_t f8_qm_peek_nodes(const uint8_t *buf, size_t len);
/*
 * Validate a whole file image and decode it into @m, with @nodes (@cap entries) as node
 * storage and @names (>= classes entries) for class names; weights and biases point into
 * @buf, which must stay alive and 4-byte aligned. F8_OK, or a negative status with @e.
 * Freestanding: no allocation, no libc. Every field is checked (docs/model-format.md §4).
 */
int f8_qm_parse(const uint8_t *buf, size_t len, struct f8_qm_node *nodes, uint32_t cap,
		char (*names)[F8_QM_NAME_MAX], uint32_t names_cap, struct f8_qm *m,
		struct f8_qm_error *e);
/* The same checks on an in-memory model (before encoding). */
int f8_qm_check(const struct f8_qm *m, struct f8_qm_error *e);
/* The file image of a checked model: *@out malloc'd, *@len bytes. F8_OK or a status. */
int f8_qm_encode(const struct f8_qm *m, uint8_t **out, size_t *len, struct f8_qm_error *e);

/* Bytes of int32 scratch f8_qm_forward needs for one image. */
size_t f8_qm_scratch_bytes(const struct f8_qm *m);
/*
 * The integer forward pass of one image (u8 [h][w][c] pixels) on the reference kernels of
 * sim/ (f8npu_ref_run: the C the functional model executes): int32 logits [classes] at FL
 * of the last node. @scratch holds f8_qm_scratch_bytes(m) bytes, 8-byte aligned.
 */
void f8_qm_forward(const struct f8_qm *m, const uint8_t *pixels, int32_t *logits, void *scratch);
/*
 * One step of it: node @i (not the INPUT) of one image, from the int32 tensors of its
 * producers (@out[producer], [h][w][c]) into @out[i]. @in8 holds the largest requantized
 * input (f8_qm_in8_bytes). What a runner that computes some nodes elsewhere calls for the rest.
 */
void f8_qm_node_forward(const struct f8_qm *m, uint32_t i, int32_t *const *out, uint8_t *in8);
/* Bytes of f8_qm_node_forward's @in8 for any node of @m. */
size_t f8_qm_in8_bytes(const struct f8_qm *m);

/* Elements of the int8 weights and int32 biases a node holds. */
size_t f8_qm_weight_count(const struct f8_qm *m, const struct f8_qm_node *n);
size_t f8_qm_bias_count(const struct f8_qm_node *n);
const char *f8_qm_op_name(unsigned int op);

#ifdef __cplusplus
}
#endif
#endif
