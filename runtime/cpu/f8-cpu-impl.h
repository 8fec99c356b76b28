/* SPDX-License-Identifier: MIT */
/*
 * Internals of the CPU backend (f8-cpu.h), shared by its files.
 *
 * A CONV (not depthwise) or LINEAR node is an indirect GEMM: its input is requantized once
 * into 8-bit codes [h + 2 pad][w + 2 pad][cpad] (cpad = channels padded to the kernel's group
 * size G; the border holds the code of 0), so that every window lies inside and a tap is one
 * offset from the window's first pixel, whatever the pixel. A tile of MR output pixels is MR
 * pointers (window starts) plus the taps' offsets. The kernel multiplies those rows by weights
 * packed [block of 16 outputs][tap][group][16][G], so one vector load holds G consecutive
 * inputs of 16 outputs. Signed inputs are stored as code = q + 128 (u8), which lets every
 * kernel multiply unsigned codes by signed weights; the plan subtracts 128 * sum(w) per
 * output channel (exact in int32: |sum| <= 65536 * 255 * 127 < 2^31).
 */
#ifndef F8_CPU_IMPL_H
#define F8_CPU_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "f8-cpu.h"
#include "f8-qmodel.h"

#define F8_CPU_NR 16    /* output channels per packed block */
#define F8_CPU_MR_MAX 8 /* output pixels per kernel call, at most */
#define F8_CPU_S32_MAX 2147483647
/* Cache blocking (f8-cpu-plan.c): bytes of one K block's weights for one kernel step of
 * output blocks, bytes of one chunk's codes per K block, output pixels per chunk at most */
#define F8_CPU_KB_BYTES 65536
#define F8_CPU_MC_BYTES 131072
#define F8_CPU_MC_MAX 512

/* One CONV or LINEAR node as the kernels see it. */
struct f8_cpu_gemm {
	int taps;              /* k * k (1 for LINEAR; k in row-tap mode) */
	int kgroups;           /* groups of G codes per tap: cpad / G (row taps: k * ic / G, up) */
	int cout, nblocks;     /* nblocks = ceil(cout / 16) */
	const void *w;         /* [nblocks][taps][kgroups][16][G], s8 (G 4) or s16 (G 2) */
	const int32_t *bias;   /* [nblocks * 16], zero past cout */
	const int32_t *corr;   /* [nblocks * 16]: 128 * sum(w) for signed input, else 0 */
	bool relu;
	bool sgn;              /* signed input: corr is not all zero */
	/* |bias| + 255 * sum|w| < 2^31 - 1 for every channel: the value's sat32 never acts */
	bool nosat;
};

/*
 * Output pixels (rows) 0 .. @nrows-1 of one tile, output blocks [@nb0, @nb1) (16 channels
 * each), taps [@t0, @t1): row r's codes for group q of tap t are at
 * @rows[r] + @toff[t * kgroups + q] (the tap's offset + 4 q bytes: G codes of esize bytes are
 * 4 bytes on every ISA; the mr - nrows rows past the end repeat a valid one and are not
 * stored); out[r * cout + co]. A K block (taps) that is not the first adds to the int32
 * partial sums already in @out; one that is not the last stores the partial sums raw; the
 * last applies the epilogue (A5, A7) to the whole sum. Integer sums are exact in any order (|partial| <= sum of |products| < 2^31), so the
 * blocking never changes a value. @f (kernels with fuse == F8_CPU_FUSE_NATIVE, else NULL):
 * the last K block's value goes through the fused epilogue instead of into @out.
 */
struct f8_cpu_fuse;
typedef void f8_cpu_gemm_fn(const struct f8_cpu_gemm *g, const uint8_t *const *rows,
			    const ptrdiff_t *toff, int nrows, int32_t *out, int nb0, int nb1, int t0,
			    int t1, const struct f8_cpu_fuse *f);

/*
 * The fused epilogue of a tile (f8-cpu-forward.c), rows as in @out: v = the GEMM's value
 * (A5, A7); with aux, v = sat32(sat32(v 2^la) + sat32(aux 2^lb)), then ReLU if add_relu
 * (A6, A7); v into o32 if not NULL; requant(v, shift) + off, clamped to [lo, hi] first (A4),
 * as u8 at crow[r] + channel if crow is not NULL.
 */
struct f8_cpu_fuse {
	int32_t *o32;
	const int32_t *aux;
	uint8_t *const *crow;
	int la, lb, shift, lo, hi, off;
	bool add_relu;
};

/* How a kernel takes part in fusion: not at all (the plan fuses nothing), through the
 * driver (it stores the value, the driver applies the epilogue to the tile), natively. */
enum { F8_CPU_FUSE_NONE, F8_CPU_FUSE_POST, F8_CPU_FUSE_NATIVE };

/* The element-wise work (requantization, add, pools, depthwise), one build per ISA. */
struct f8_cpu_elem {
	/* @pixels x @c int32 -> codes requant(v, shift) + @off, padded to @cpad with @off, as
	 * u8 (@esize 1) or u16 (@esize 2) */
	void (*requant)(const int32_t *src, size_t pixels, int c, int cpad, int shift, bool sgn,
			int off, int esize, void *dst);
	/* A6 then ReLU */
	void (*add)(const int32_t *a, int la, const int32_t *b, int lb, bool relu, size_t n,
		    int32_t *out);
};

struct f8_cpu_kern {
	enum f8_cpu_isa isa;
	int mr;    /* output pixels per tile */
	int nbs;   /* output blocks per kernel step (the driver's channel step) */
	int g;     /* codes per group */
	int esize; /* bytes per code */
	int fuse;  /* F8_CPU_FUSE_* */
	f8_cpu_gemm_fn *gemm;
	const struct f8_cpu_elem *elem;
	/* (optional) the kernel for layers of >= 4 blocks (64 channels): another tile shape on
	 * the same packing */
	const struct f8_cpu_kern *wide;
};

extern const struct f8_cpu_kern f8_cpu_kern_portable;
extern const struct f8_cpu_elem f8_cpu_elem_c;
#if defined(__x86_64__) || defined(__i386__)
#define F8_CPU_X86 1
extern const struct f8_cpu_kern f8_cpu_kern_avx2;
extern const struct f8_cpu_kern f8_cpu_kern_vnni;
extern const struct f8_cpu_elem f8_cpu_elem_avx2;
#endif

/* One node of the plan. */
struct f8_cpu_node {
	const struct f8_qm_node *q;
	int slot;            /* buffer of the int32 output */
	/* CONV / LINEAR: the input as the kernels see it (LINEAR: 1 x 1 x h*w*c) */
	int ih, iw, ic, cpad;
	/* Row taps (a CONV whose ic is not a multiple of G, e.g. an RGB stem): codes stored
	 * unpadded (cpad = ic), one tap per kernel row reading k * ic consecutive codes (the
	 * window's row), padded to G with zero weights; the codes past the row's end that those
	 * zeros meet lie inside the padded image (or its slack). */
	bool rowtaps;
	/* A 1 x 1 CONV without padding and of stride sub > 1 reads every sub-th pixel only: its
	 * codes are those pixels alone (ih x iw is then its output's size), and it runs at
	 * stride 1 on them; else 1. */
	int sub;
	const struct f8_cpu_kern *gk; /* the GEMM kernel: the plan's, or its wide one */
	int tpk;             /* taps per K block */
	int mc;              /* output pixels per chunk (a multiple of mr) */
	int shift;           /* FL(in0) - fl_in: the requantization of the input */
	struct f8_cpu_gemm g;
	const int16_t *dw;   /* depthwise: weights [tap][c] */
	/*
	 * Fusion (f8-cpu-plan.c). The epilogue of a GEMM node computes the value of vnode: the
	 * node itself, or the ADD right after it (add >= 0) that takes its output as the only
	 * reader, whose other operand is already computed and which the node's own ReLU does not
	 * precede. out32: that value is written as int32 (some reader reads int32, or it is the
	 * last node); ocview >= 0: it is also written as the 8-bit codes of reader ocview's
	 * padded input (into code buffer ocslot), for every GEMM reader with that same view
	 * (in_fused: this node's input codes are already there, nothing to requantize).
	 */
	int add, vnode;
	bool out32, fused_add; /* fused_add: this ADD is computed by the node before it */
	int ocview, ocslot;
	int cslot;           /* code buffer of this node's input codes (GEMM, depthwise) */
	bool in_fused;
	int la, lb;          /* fused ADD: left shifts of this node's value and of aux */
	int aux;             /* fused ADD: the other operand's node */
};

struct f8_cpu {
	const struct f8_qm *m;
	const struct f8_cpu_kern *k;
	struct f8_cpu_node *nodes;
	int nslots;
	int ncslots;         /* code buffers, req_bytes per image each */
	size_t slot_elems;   /* int32 per image per slot: the largest tensor */
	size_t req_bytes;    /* per image: the largest requantized input */
	size_t max_taps;     /* (tap, group) offsets of the largest K */
	size_t acc_count;    /* int64 accumulators of a pool: largest c */
	void *packed;        /* every packed weight, bias and correction */
};

/* Bytes of slack after each requantized image (row taps read up to G - 1 codes past). */
#define F8_CPU_REQ_SLACK 64

/* Depthwise CONV of @n images: @x the requantized input (true values) [n][h][w][c], @acc
 * room for c int64; f8-cpu-dw.c. */
void f8_cpu_depthwise(const struct f8_cpu_node *cn, const struct f8_qm_node *in, int n,
		      const int16_t *x, int64_t *acc, int32_t *out);
/* SUMPOOL of @n images; f8-cpu-pool.c. */
void f8_cpu_pool(const struct f8_qm_node *q, const struct f8_qm_node *in, int n, const int32_t *x,
		 int64_t *acc, int32_t *out);
/* MAXPOOL, output row @row (image row / q->h, row % q->h), @avx2: the AVX2 build. */
void f8_cpu_maxpool_row(const struct f8_qm_node *q, const struct f8_qm_node *in, size_t row,
			const int32_t *x, int32_t *out, bool avx2);

/* A1 */
static inline int64_t f8_cpu_sat32(int64_t v)
{
	return v > F8_CPU_S32_MAX ? F8_CPU_S32_MAX : v < -F8_CPU_S32_MAX ? -F8_CPU_S32_MAX : v;
}

/* The window rule: offset of output o's first tap along one axis. */
static inline int f8_cpu_win0(int o, int stride, int pad)
{
	return o * stride - pad;
}

#endif
