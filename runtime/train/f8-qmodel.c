// SPDX-License-Identifier: MIT
/*
 * The integer model file (docs/model-format.md): validation, decoding and encoding.
 *
 * The checks live in one place, node_check(), used by both the parser (a file image from
 * anywhere) and the encoder (a model libf8 built), so that no file libf8 writes can be
 * refused by libf8 and nothing refused can be written. The parser and the checks are
 * freestanding: no libc, no allocation; only f8_qm_encode allocates.
 */
#include <stdlib.h>

#include "f8-err.h"
#include "f8-qmodel.h"

/* Payloads above this are refused (a ResNet-50 is ~26 MB). */
#define F8_QM_MAX_PAYLOAD (256u << 20)
/* The largest int32 tensor of one image (elements). */
#define F8_QM_MAX_ELEMS (1u << 24)
/* The device's longest reduction (F8NPU_MAX_K). */
#define F8_QM_MAX_RED 65536u

/* ---- little-endian access and the checksum ---- */

static uint32_t rd16(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8;
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void wr16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void wr32(uint8_t *p, uint32_t v)
{
	wr16(p, v);
	wr16(p + 2, v >> 16);
}

/* CRC-32 (IEEE 802.3, reflected, zlib's crc32()), four bits at a time. */
static uint32_t crc32_update(uint32_t crc, const uint8_t *p, size_t n)
{
	static const uint32_t t[16] = {
		0x00000000u, 0x1db71064u, 0x3b6e20c8u, 0x26d930acu, 0x76dc4190u, 0x6b6b51f4u,
		0x4db26158u, 0x5005713cu, 0xedb88320u, 0xf00f9344u, 0xd6d6a3e8u, 0xcb61b38cu,
		0x9b64c2b0u, 0x86d3d2d4u, 0xa00ae278u, 0xbdbdf21cu,
	};
	size_t i;

	crc = ~crc;
	for (i = 0; i < n; i++) {
		crc ^= p[i];
		crc = (crc >> 4) ^ t[crc & 15];
		crc = (crc >> 4) ^ t[crc & 15];
	}
	return ~crc;
}

static int fail(struct f8_qm_error *e, int status, int node, const char *what)
{
	if (e) {
		e->status = status;
		e->node = node;
		e->what = what;
	}
	return status;
}

static bool host_is_le(void)
{
	const uint32_t one = 1;

	return *(const uint8_t *)&one == 1;
}

/* A name field: printable ASCII, NUL-terminated inside @size bytes, zero after the NUL. */
static bool name_ok(const char *s, size_t size, bool may_be_empty)
{
	size_t i = 0;

	while (i < size && s[i]) {
		if (s[i] < 0x20 || s[i] > 0x7e)
			return false;
		i++;
	}
	if (i == size || (i == 0 && !may_be_empty))
		return false;
	for (; i < size; i++)
		if (s[i])
			return false;
	return true;
}

const char *f8_qm_op_name(unsigned int op)
{
	static const char *const names[] = { "?", "input", "conv", "add", "maxpool", "sumpool",
					     "linear" };

	return op < F8_QM_OP_END_ ? names[op] : "?";
}

static size_t elems(const struct f8_qm_node *n)
{
	return (size_t)n->c * n->h * n->w;
}

size_t f8_qm_weight_count(const struct f8_qm *m, const struct f8_qm_node *n)
{
	const struct f8_qm_node *a;

	if ((n->op != F8_QM_CONV && n->op != F8_QM_LINEAR) || n->in[0] < 0)
		return 0;
	a = &m->nodes[n->in[0]];
	if (n->op == F8_QM_LINEAR)
		return (size_t)n->c * elems(a);
	if (n->flags & F8_QM_F_DEPTHWISE)
		return (size_t)n->c * n->k * n->k;
	return (size_t)n->c * n->k * n->k * a->c;
}

size_t f8_qm_bias_count(const struct f8_qm_node *n)
{
	return n->op == F8_QM_CONV || n->op == F8_QM_LINEAR ? n->c : 0;
}

/* Output size of a window: (in + 2 pad - k) / stride + 1, or 0 when it does not fit. */
static uint32_t win_out(uint32_t in, uint32_t k, uint32_t stride, uint32_t pad)
{
	if (in + 2 * pad < k)
		return 0;
	return (in + 2 * pad - k) / stride + 1;
}

/* The checks of docs/model-format.md §4 on node @i (its producers are already checked). */
static int node_check(const struct f8_qm *m, uint32_t i, struct f8_qm_error *e)
{
	const struct f8_qm_node *n = &m->nodes[i];
	const struct f8_qm_node *a = NULL, *b = NULL;
	const int ni = (int)i;
	size_t q, nw;
	int fl_max;

	if (n->op < F8_QM_INPUT || n->op >= F8_QM_OP_END_)
		return fail(e, F8_ERR_FORMAT, ni, "unknown operation");
	if (n->flags & ~F8_QM_F_ALL)
		return fail(e, F8_ERR_FORMAT, ni, "unknown flag bits");
	if (!name_ok(n->name, F8_QM_NAME_MAX, false))
		return fail(e, F8_ERR_FORMAT, ni, "node name not printable, empty or not terminated");
	if (n->c < 1 || n->h < 1 || n->w < 1 || n->c > F8_QM_MAX_DIM || n->h > F8_QM_MAX_DIM ||
	    n->w > F8_QM_MAX_DIM || elems(n) > F8_QM_MAX_ELEMS)
		return fail(e, F8_ERR_RANGE, ni, "output shape out of range");
	if (n->fl_out < 0 || n->fl_out > F8_QM_MAX_FL)
		return fail(e, F8_ERR_RANGE, ni, "output FL outside 0..40");
	if ((i == 0) != (n->op == F8_QM_INPUT))
		return fail(e, F8_ERR_FORMAT, ni, "node 0 and only node 0 is the input");
	if (n->op == F8_QM_INPUT) {
		if (n->in[0] != -1 || n->in[1] != -1 || n->flags || n->k || n->stride || n->pad ||
		    n->fl_in || n->fl_w || n->pool_shift || n->weights || n->bias)
			return fail(e, F8_ERR_FORMAT, ni, "input node with operands or parameters");
		if (n->fl_out != 8)
			return fail(e, F8_ERR_FORMAT, ni, "input FL is not 8 (raw u8 pixels)");
		return F8_OK;
	}
	if (n->in[0] < 0 || n->in[0] >= ni)
		return fail(e, F8_ERR_FORMAT, ni, "first operand is not an earlier node");
	a = &m->nodes[n->in[0]];
	if (n->op == F8_QM_ADD) {
		if (n->in[1] < 0 || n->in[1] >= ni)
			return fail(e, F8_ERR_FORMAT, ni, "second operand is not an earlier node");
		b = &m->nodes[n->in[1]];
	} else if (n->in[1] != -1) {
		return fail(e, F8_ERR_FORMAT, ni, "second operand on a one-operand operation");
	}
	if ((n->flags & F8_QM_F_DEPTHWISE) && n->op != F8_QM_CONV)
		return fail(e, F8_ERR_FORMAT, ni, "depthwise flag outside a conv");
	if ((n->flags & F8_QM_F_SIGNED) && n->op != F8_QM_CONV && n->op != F8_QM_LINEAR)
		return fail(e, F8_ERR_FORMAT, ni, "signed-input flag outside conv/linear");
	if ((n->flags & F8_QM_F_RELU) && n->op != F8_QM_CONV && n->op != F8_QM_ADD &&
	    n->op != F8_QM_LINEAR)
		return fail(e, F8_ERR_FORMAT, ni, "ReLU flag on a pooling node");
	if (n->op != F8_QM_SUMPOOL && n->pool_shift)
		return fail(e, F8_ERR_FORMAT, ni, "pool shift outside a sum pool");
	if (n->op != F8_QM_CONV && n->op != F8_QM_LINEAR) {
		if (n->fl_in || n->fl_w || n->weights || n->bias)
			return fail(e, F8_ERR_FORMAT, ni, "weights or FLs on an operation without weights");
	}

	switch (n->op) {
	case F8_QM_CONV:
	case F8_QM_MAXPOOL:
	case F8_QM_SUMPOOL:
		if (n->k < 1 || n->k > F8_QM_MAX_K || n->stride < 1 || n->stride > F8_QM_MAX_K ||
		    n->pad >= n->k)
			return fail(e, F8_ERR_RANGE, ni, "window: k 1..32, stride 1..32, pad < k");
		if (n->h != win_out(a->h, n->k, n->stride, n->pad) ||
		    n->w != win_out(a->w, n->k, n->stride, n->pad))
			return fail(e, F8_ERR_FORMAT, ni, "output size does not follow from the window");
		if ((n->op != F8_QM_CONV || (n->flags & F8_QM_F_DEPTHWISE)) && n->c != a->c)
			return fail(e, F8_ERR_FORMAT, ni, "channel count differs from the input's");
		if (n->op == F8_QM_CONV &&
		    (size_t)n->k * n->k * ((n->flags & F8_QM_F_DEPTHWISE) ? 1u : a->c) > F8_QM_MAX_RED)
			return fail(e, F8_ERR_RANGE, ni, "reduction longer than 65536 products");
		break;
	case F8_QM_LINEAR:
		if (n->k || n->stride || n->pad || n->h != 1 || n->w != 1)
			return fail(e, F8_ERR_FORMAT, ni, "linear: window fields set or output not c x 1 x 1");
		if (elems(a) > F8_QM_MAX_RED || a->h > 255 || a->w > 255)
			return fail(e, F8_ERR_RANGE, ni, "linear input longer than 65536 or wider than 255");
		break;
	case F8_QM_ADD:
		if (n->k || n->stride || n->pad)
			return fail(e, F8_ERR_FORMAT, ni, "add with window fields");
		if (a->c != n->c || a->h != n->h || a->w != n->w || b->c != n->c || b->h != n->h ||
		    b->w != n->w)
			return fail(e, F8_ERR_FORMAT, ni, "add operands of different shapes");
		break;
	default:
		break;
	}

	/* fractional lengths */
	switch (n->op) {
	case F8_QM_CONV:
	case F8_QM_LINEAR:
		fl_max = (n->flags & F8_QM_F_SIGNED) ? 7 : 8;
		if (n->fl_in < 0 || n->fl_in > fl_max)
			return fail(e, F8_ERR_RANGE, ni, "input FL outside 0..8 (u8) / 0..7 (s8)");
		if (n->fl_w < 0 || n->fl_w > 7)
			return fail(e, F8_ERR_RANGE, ni, "weight FL outside 0..7");
		if (n->fl_out != n->fl_in + n->fl_w)
			return fail(e, F8_ERR_FORMAT, ni, "output FL is not input FL + weight FL");
		if (a->fl_out - n->fl_in > 31 || a->fl_out - n->fl_in < -31)
			return fail(e, F8_ERR_RANGE, ni, "input requantization shift outside -31..31");
		nw = f8_qm_weight_count(m, n);
		if (!n->weights || !n->bias)
			return fail(e, F8_ERR_FORMAT, ni, "conv/linear without weights or bias");
		for (q = 0; q < nw; q++)
			if (n->weights[q] == -128)
				return fail(e, F8_ERR_RANGE, ni, "weight -128 (s8 is symmetric, -127..127)");
		for (q = 0; q < n->c; q++)
			if (n->bias[q] == INT32_MIN)
				return fail(e, F8_ERR_RANGE, ni, "bias -2^31 (int32 is symmetric)");
		break;
	case F8_QM_ADD: {
		int hi = a->fl_out > b->fl_out ? a->fl_out : b->fl_out;
		int lo = a->fl_out < b->fl_out ? a->fl_out : b->fl_out;

		if (n->fl_out != hi)
			return fail(e, F8_ERR_FORMAT, ni, "add FL is not the larger operand FL");
		if (hi - lo > 31)
			return fail(e, F8_ERR_RANGE, ni, "add operands more than 31 FL apart");
		break;
	}
	case F8_QM_MAXPOOL:
		if (n->fl_out != a->fl_out)
			return fail(e, F8_ERR_FORMAT, ni, "max pool changes the FL");
		break;
	case F8_QM_SUMPOOL:
		if (n->pool_shift < 0 || n->pool_shift > 16 || n->fl_out != a->fl_out + n->pool_shift)
			return fail(e, F8_ERR_FORMAT, ni, "sum pool FL is not input FL + shift (0..16)");
		break;
	default:
		break;
	}
	return F8_OK;
}

int f8_qm_check(const struct f8_qm *m, struct f8_qm_error *e)
{
	const struct f8_qm_node *last;
	uint32_t i;
	int rc;

	if (!m || !m->nodes || m->nnodes < 2 || m->nnodes > F8_QM_MAX_NODES)
		return fail(e, F8_ERR_RANGE, -1, "node count outside 2..4096");
	if (!name_ok(m->model_name, 24, true))
		return fail(e, F8_ERR_FORMAT, -1, "model name not printable or longer than 23");
	for (i = 0; i < m->nnodes; i++) {
		rc = node_check(m, i, e);
		if (rc)
			return rc;
	}
	last = &m->nodes[m->nnodes - 1];
	if (last->h != 1 || last->w != 1 || (last->op != F8_QM_LINEAR && last->op != F8_QM_CONV))
		return fail(e, F8_ERR_FORMAT, (int)m->nnodes - 1,
			    "the last node must be a conv or linear giving classes x 1 x 1 logits");
	if (m->classes < 1 || m->classes > F8_QM_MAX_CLASSES || last->c != m->classes)
		return fail(e, F8_ERR_FORMAT, -1, "class count differs from the logits' or is 0 / > 1000");
	for (i = 0; i < m->classes; i++)
		if (!m->class_names || !name_ok(m->class_names[i], F8_QM_NAME_MAX, false))
			return fail(e, F8_ERR_FORMAT, -1, "class name not printable, empty or not terminated");
	return F8_OK;
}

/* ---- the file image ---- */

/*
 * Header (64 bytes): magic, major, minor, header size, node size, node count, classes,
 * payload size, body CRC, model name [24], reserved, header CRC (of bytes 0..59).
 * Then node records (96 bytes each), class names (32 bytes each), the payload.
 */
enum {
	H_MAGIC = 0, H_MAJOR = 4, H_MINOR = 6, H_HSIZE = 8, H_NSIZE = 12, H_NODES = 16,
	H_CLASSES = 20, H_PAYLOAD = 24, H_BODY_CRC = 28, H_NAME = 32, H_RESERVED = 56,
	H_CRC = 60,
};

enum {
	N_OP = 0, N_FLAGS = 1, N_RES0 = 2, N_IN0 = 4, N_IN1 = 8, N_C = 12, N_H = 14, N_W = 16,
	N_K = 18, N_STRIDE = 19, N_PAD = 20, N_FL_OUT = 21, N_FL_IN = 22, N_FL_W = 23,
	N_POOL_SHIFT = 24, N_RES1 = 25, N_W_OFF = 28, N_W_LEN = 32, N_B_OFF = 36, N_B_LEN = 40,
	N_RES2 = 44, N_NAME = 48, N_RES3 = 80,
};

uint32_t f8_qm_peek_nodes(const uint8_t *buf, size_t len)
{
	uint32_t nn;

	if (!buf || len < F8_QM_HEADER_SIZE || rd32(buf + H_MAGIC) != F8_QM_MAGIC)
		return 0;
	/* an announced count sizes the caller's storage: only what the file can hold */
	nn = rd32(buf + H_NODES);
	if (nn > F8_QM_MAX_NODES || (uint64_t)nn * F8_QM_NODE_SIZE > len - F8_QM_HEADER_SIZE)
		return 0;
	return nn;
}

static bool all_zero(const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

static void copy_bytes(void *dst, const void *src, size_t n)
{
	uint8_t *d = dst;
	const uint8_t *s = src;

	while (n--)
		*d++ = *s++;
}

int f8_qm_parse(const uint8_t *buf, size_t len, struct f8_qm_node *nodes, uint32_t cap,
		char (*names)[F8_QM_NAME_MAX], uint32_t names_cap, struct f8_qm *m,
		struct f8_qm_error *e)
{
	uint32_t nn, classes, payload, i;
	uint64_t total;
	const uint8_t *rec, *pay;

	if (!buf || !m || !nodes)
		return fail(e, F8_ERR_MISUSE, -1, "no buffer");
	if (!host_is_le())
		return fail(e, F8_ERR_RANGE, -1, "big-endian hosts are not supported");
	if ((uintptr_t)buf & 3)
		return fail(e, F8_ERR_MISUSE, -1, "buffer not 4-byte aligned");
	if (len < F8_QM_HEADER_SIZE)
		return fail(e, F8_ERR_CORRUPT, -1, "shorter than the 64-byte header");
	if (rd32(buf + H_MAGIC) != F8_QM_MAGIC)
		return fail(e, F8_ERR_FORMAT, -1, "not an f8 integer model (bad magic)");
	if (crc32_update(0, buf, H_CRC) != rd32(buf + H_CRC))
		return fail(e, F8_ERR_CORRUPT, -1, "header checksum mismatch");
	if (rd16(buf + H_MAJOR) != F8_QM_VERSION_MAJOR)
		return fail(e, F8_ERR_VERSION, -1, "unsupported major version (this reader: 1)");
	if (rd16(buf + H_MINOR) > F8_QM_VERSION_MINOR)
		return fail(e, F8_ERR_VERSION, -1, "newer minor version than this reader (1.0)");
	if (rd32(buf + H_HSIZE) != F8_QM_HEADER_SIZE || rd32(buf + H_NSIZE) != F8_QM_NODE_SIZE ||
	    !all_zero(buf + H_RESERVED, 4))
		return fail(e, F8_ERR_FORMAT, -1, "header size, node size or reserved field");
	nn = rd32(buf + H_NODES);
	classes = rd32(buf + H_CLASSES);
	payload = rd32(buf + H_PAYLOAD);
	if (nn < 2 || nn > F8_QM_MAX_NODES || classes < 1 || classes > F8_QM_MAX_CLASSES ||
	    payload > F8_QM_MAX_PAYLOAD || (payload & 3))
		return fail(e, F8_ERR_RANGE, -1, "node count, class count or payload size out of range");
	total = (uint64_t)F8_QM_HEADER_SIZE + (uint64_t)nn * F8_QM_NODE_SIZE +
		(uint64_t)classes * F8_QM_NAME_MAX + payload;
	if (len < total)
		return fail(e, F8_ERR_CORRUPT, -1, "truncated: shorter than its header announces");
	if (len > total)
		return fail(e, F8_ERR_FORMAT, -1, "trailing bytes after the payload");
	if (crc32_update(0, buf + F8_QM_HEADER_SIZE, (size_t)(total - F8_QM_HEADER_SIZE)) !=
	    rd32(buf + H_BODY_CRC))
		return fail(e, F8_ERR_CORRUPT, -1, "body checksum mismatch");
	if (nn > cap || classes > names_cap || !names)
		return fail(e, F8_ERR_MISUSE, -1, "node or name storage too small");

	m->nnodes = nn;
	m->nodes = nodes;
	m->classes = classes;
	m->class_names = names;
	copy_bytes(m->model_name, buf + H_NAME, 24);
	for (i = 24; i < F8_QM_NAME_MAX; i++)
		m->model_name[i] = 0;
	rec = buf + F8_QM_HEADER_SIZE;
	pay = rec + (size_t)nn * F8_QM_NODE_SIZE + (size_t)classes * F8_QM_NAME_MAX;
	for (i = 0; i < classes; i++)
		copy_bytes(names[i], rec + (size_t)nn * F8_QM_NODE_SIZE + (size_t)i * F8_QM_NAME_MAX,
			   F8_QM_NAME_MAX);
	for (i = 0; i < nn; i++, rec += F8_QM_NODE_SIZE) {
		struct f8_qm_node *n = &nodes[i];
		uint32_t woff = rd32(rec + N_W_OFF), wlen = rd32(rec + N_W_LEN);
		uint32_t boff = rd32(rec + N_B_OFF), blen = rd32(rec + N_B_LEN);
		int rc;

		if (!all_zero(rec + N_RES0, 2) || !all_zero(rec + N_RES1, 3) ||
		    !all_zero(rec + N_RES2, 4) || !all_zero(rec + N_RES3, 16))
			return fail(e, F8_ERR_FORMAT, (int)i, "reserved bytes are not zero");
		n->op = rec[N_OP];
		n->flags = rec[N_FLAGS];
		n->in[0] = (int32_t)rd32(rec + N_IN0);
		n->in[1] = (int32_t)rd32(rec + N_IN1);
		n->c = (uint16_t)rd16(rec + N_C);
		n->h = (uint16_t)rd16(rec + N_H);
		n->w = (uint16_t)rd16(rec + N_W);
		n->k = rec[N_K];
		n->stride = rec[N_STRIDE];
		n->pad = rec[N_PAD];
		n->fl_out = (int8_t)rec[N_FL_OUT];
		n->fl_in = (int8_t)rec[N_FL_IN];
		n->fl_w = (int8_t)rec[N_FL_W];
		n->pool_shift = (int8_t)rec[N_POOL_SHIFT];
		copy_bytes(n->name, rec + N_NAME, F8_QM_NAME_MAX);
		n->weights = NULL;
		n->bias = NULL;
		/* parameters: where the node's kind and shape say, inside the payload */
		if (n->op == F8_QM_CONV || n->op == F8_QM_LINEAR) {
			size_t nw;

			/* shape checks first: the expected sizes depend on them */
			n->weights = (const int8_t *)pay; /* placeholders for node_check's presence test */
			n->bias = (const int32_t *)pay;
			if (n->in[0] < 0 || (uint32_t)n->in[0] >= i)
				return fail(e, F8_ERR_FORMAT, (int)i, "first operand is not an earlier node");
			nw = f8_qm_weight_count(m, n);
			if (wlen != nw || blen != 4u * n->c)
				return fail(e, F8_ERR_FORMAT, (int)i, "weight or bias size does not match the shape");
			if ((woff & 3) || (boff & 3) || woff > payload || wlen > payload - woff ||
			    boff > payload || blen > payload - boff)
				return fail(e, F8_ERR_FORMAT, (int)i, "weights or bias outside the payload");
			n->weights = (const int8_t *)(pay + woff);
			n->bias = (const int32_t *)(const void *)(pay + boff);
		} else if (woff || wlen || boff || blen) {
			return fail(e, F8_ERR_FORMAT, (int)i, "parameters on an operation without weights");
		}
		rc = node_check(m, i, e);
		if (rc)
			return rc;
	}
	if (!name_ok(m->model_name, 24, true))
		return fail(e, F8_ERR_FORMAT, -1, "model name not printable or not terminated");
	return f8_qm_check(m, e);
}

static uint32_t round4(size_t v)
{
	return (uint32_t)((v + 3) & ~(size_t)3);
}

int f8_qm_encode(const struct f8_qm *m, uint8_t **out, size_t *len, struct f8_qm_error *e)
{
	size_t payload = 0, total, i, q;
	uint8_t *buf, *rec, *pay;
	uint32_t off;
	int rc;

	*out = NULL;
	*len = 0;
	rc = f8_qm_check(m, e);
	if (rc)
		return rc;
	for (i = 0; i < m->nnodes; i++)
		payload += round4(f8_qm_weight_count(m, &m->nodes[i])) +
			   4 * f8_qm_bias_count(&m->nodes[i]);
	if (payload > F8_QM_MAX_PAYLOAD)
		return fail(e, F8_ERR_RANGE, -1, "parameters larger than 256 MiB");
	total = F8_QM_HEADER_SIZE + (size_t)m->nnodes * F8_QM_NODE_SIZE +
		(size_t)m->classes * F8_QM_NAME_MAX + payload;
	buf = calloc(1, total);
	if (!buf)
		return fail(e, F8_ERR_NOMEM, -1, "out of memory encoding the model");
	rec = buf + F8_QM_HEADER_SIZE;
	pay = rec + (size_t)m->nnodes * F8_QM_NODE_SIZE + (size_t)m->classes * F8_QM_NAME_MAX;
	off = 0;
	for (i = 0; i < m->nnodes; i++, rec += F8_QM_NODE_SIZE) {
		const struct f8_qm_node *n = &m->nodes[i];
		size_t nw = f8_qm_weight_count(m, n), nb = f8_qm_bias_count(n);

		rec[N_OP] = n->op;
		rec[N_FLAGS] = n->flags;
		wr32(rec + N_IN0, (uint32_t)n->in[0]);
		wr32(rec + N_IN1, (uint32_t)n->in[1]);
		wr16(rec + N_C, n->c);
		wr16(rec + N_H, n->h);
		wr16(rec + N_W, n->w);
		rec[N_K] = n->k;
		rec[N_STRIDE] = n->stride;
		rec[N_PAD] = n->pad;
		rec[N_FL_OUT] = (uint8_t)n->fl_out;
		rec[N_FL_IN] = (uint8_t)n->fl_in;
		rec[N_FL_W] = (uint8_t)n->fl_w;
		rec[N_POOL_SHIFT] = (uint8_t)n->pool_shift;
		copy_bytes(rec + N_NAME, n->name, F8_QM_NAME_MAX);
		if (nw || nb) {
			wr32(rec + N_W_OFF, off);
			wr32(rec + N_W_LEN, (uint32_t)nw);
			copy_bytes(pay + off, n->weights, nw);
			off += round4(nw);
			wr32(rec + N_B_OFF, off);
			wr32(rec + N_B_LEN, (uint32_t)(4 * nb));
			for (q = 0; q < nb; q++)
				wr32(pay + off + 4 * q, (uint32_t)n->bias[q]);
			off += (uint32_t)(4 * nb);
		}
	}
	for (i = 0; i < m->classes; i++)
		copy_bytes(rec + i * F8_QM_NAME_MAX, m->class_names[i], F8_QM_NAME_MAX);
	wr32(buf + H_MAGIC, F8_QM_MAGIC);
	wr16(buf + H_MAJOR, F8_QM_VERSION_MAJOR);
	wr16(buf + H_MINOR, F8_QM_VERSION_MINOR);
	wr32(buf + H_HSIZE, F8_QM_HEADER_SIZE);
	wr32(buf + H_NSIZE, F8_QM_NODE_SIZE);
	wr32(buf + H_NODES, m->nnodes);
	wr32(buf + H_CLASSES, m->classes);
	wr32(buf + H_PAYLOAD, (uint32_t)payload);
	copy_bytes(buf + H_NAME, m->model_name, 24);
	wr32(buf + H_BODY_CRC, crc32_update(0, buf + F8_QM_HEADER_SIZE, total - F8_QM_HEADER_SIZE));
	wr32(buf + H_CRC, crc32_update(0, buf, H_CRC));
	*out = buf;
	*len = total;
	return F8_OK;
}
