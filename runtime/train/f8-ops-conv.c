// SPDX-License-Identifier: MIT
/*
 * Float 2-D convolution, forward and backward (f8-ops.h).
 *
 * groups == 1: im2col then SGEMM (OpenBLAS, single-threaded inside the pool's tasks).
 * Small images make skinny GEMMs, so a task takes a chunk of B images (a power of two,
 * chosen from the geometry alone) laid side by side: col is [K][B*P], the GEMM writes
 * [cout][B*P] and the result is scattered to NCHW. A 1x1 stride-1 unpadded conv on
 * single-image chunks uses the image itself as its column matrix.
 *
 * Backward splits the chunks into a fixed number of groups (independent of the thread
 * count): each group sums dW = dY * col^T over its chunks into its own partial in ws,
 * then the partials are added in group order, so dw is bit-identical for any thread
 * count. dx goes through dcol = W^T * dY and col2im, accumulating into dx.
 *
 * Depthwise (groups == cin): direct loops over each plane, the inner loop along a
 * row so that gcc vectorises it; backward works per channel, so dw needs no partials.
 */
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include <cblas.h>

#include "f8-err.h"
#include "f8-ops.h"
#include "f8-par.h"

/* Groups of the dW partial sums (fixed: results must not depend on threads). */
#define F8_CONV_PARTS 16
/* GEMM columns a chunk aims at: below ~800 the SGEMM kernels lose half their speed. */
#define F8_CONV_COLS 768
/* Chunks per batch at least (load balance over the pool). */
#define F8_CONV_MIN_CHUNKS 8
/* Larger kernels are out of range (the depthwise backward keeps k*k sums on the stack). */
#define F8_CONV_KMAX 32

/* ws slots start on 64-byte boundaries relative to ws. */
static size_t round16(size_t v)
{
	return (v + 15) & ~(size_t)15;
}

int f8_conv_geom_finish(struct f8_conv_geom *g)
{
	long long oh, ow;

	if (g->n < 1 || g->cin < 1 || g->h < 1 || g->w < 1 || g->cout < 1 || g->k < 1 ||
	    g->stride < 1 || g->pad < 0 || g->groups < 1)
		return F8_ERR_RANGE;
	if (g->groups != 1 && (g->groups != g->cin || g->cout != g->cin))
		return F8_ERR_RANGE;
	if (g->k > F8_CONV_KMAX || g->pad > 1024 || g->h > (1 << 20) || g->w > (1 << 20))
		return F8_ERR_RANGE;
	oh = ((long long)g->h + 2LL * g->pad - g->k) / g->stride + 1;
	ow = ((long long)g->w + 2LL * g->pad - g->k) / g->stride + 1;
	if (g->h + 2LL * g->pad < g->k || g->w + 2LL * g->pad < g->k || oh < 1 || ow < 1)
		return F8_ERR_RANGE;
	g->oh = (int)oh;
	g->ow = (int)ow;
	return F8_OK;
}

/* Images per chunk: a power of two, from the geometry only. */
static size_t conv_chunk(const struct f8_conv_geom *g)
{
	const size_t p = (size_t)g->oh * g->ow;
	size_t b = 1;

	while (b * p < F8_CONV_COLS && 2 * b * F8_CONV_MIN_CHUNKS <= (size_t)g->n)
		b *= 2;
	return b;
}

/* A 1x1 conv that reads every input pixel once, in place: no column matrix. */
static bool conv_direct(const struct f8_conv_geom *g)
{
	return g->k == 1 && g->stride == 1 && g->pad == 0 && conv_chunk(g) == 1;
}

static size_t conv_kdim(const struct f8_conv_geom *g)
{
	return (size_t)(g->cin / g->groups) * g->k * g->k;
}

static size_t conv_nchunks(const struct f8_conv_geom *g)
{
	return ((size_t)g->n + conv_chunk(g) - 1) / conv_chunk(g);
}

static size_t conv_parts(const struct f8_conv_geom *g)
{
	return conv_nchunks(g) < F8_CONV_PARTS ? conv_nchunks(g) : F8_CONV_PARTS;
}

/* Per thread: the column matrix, and with chunks of several images the [cout][B*P]
 * output (forward) or gathered dY (backward). */
static size_t conv_slot_col(const struct f8_conv_geom *g)
{
	return conv_direct(g) ? 0 : round16(conv_kdim(g) * conv_chunk(g) * g->oh * g->ow);
}

static size_t conv_slot_out(const struct f8_conv_geom *g)
{
	return conv_chunk(g) == 1 ? 0 : round16((size_t)g->cout * conv_chunk(g) * g->oh * g->ow);
}

size_t f8_conv_ws_floats(const struct f8_conv_geom *g)
{
	if (g->groups != 1)
		return 0;
	return conv_parts(g) * round16((size_t)g->cout * conv_kdim(g)) +
	       (size_t)f8_par_threads() * (conv_slot_col(g) + conv_slot_out(g));
}

/* Output columns ox whose input column ox * stride + off lies inside [0, w). */
static void conv_cols(int ow, int w, int stride, int off, int *ox0, int *ox1)
{
	int a = off >= 0 ? 0 : (-off + stride - 1) / stride;
	int b = w - 1 - off < 0 ? 0 : (w - 1 - off) / stride + 1;

	if (b > ow)
		b = ow;
	if (a > b)
		a = b;
	*ox0 = a;
	*ox1 = b;
}

/*
 * col[(c*k + ki)*k + kj][oy*ow + ox] = x[c][oy*s - pad + ki][ox*s - pad + kj] or 0,
 * rows @ld floats apart (a chunk puts its images side by side).
 */
static void im2col(const struct f8_conv_geom *g, const float *restrict x, float *restrict col,
		   size_t ld)
{
	const int k = g->k, s = g->stride, pad = g->pad, ow = g->ow, oh = g->oh;
	int c, ki, kj, oy, ox, ox0, ox1;

	for (c = 0; c < g->cin; c++) {
		const float *xc = x + (size_t)c * g->h * g->w;

		for (ki = 0; ki < k; ki++) {
			for (kj = 0; kj < k; kj++) {
				float *restrict row = col + ((size_t)(c * k + ki) * k + kj) * ld;
				const int off = kj - pad;

				conv_cols(ow, g->w, s, off, &ox0, &ox1);
				for (oy = 0; oy < oh; oy++) {
					const int iy = oy * s - pad + ki;
					float *restrict out = row + (size_t)oy * ow;
					const float *restrict xr;

					if (iy < 0 || iy >= g->h) {
						for (ox = 0; ox < ow; ox++)
							out[ox] = 0.0f;
						continue;
					}
					/* valid columns read xr[ox * s + off] >= xr[0] */
					xr = xc + (size_t)iy * g->w;
					/* Rows are short (7..28): plain loops beat memcpy calls. */
					for (ox = 0; ox < ox0; ox++)
						out[ox] = 0.0f;
					if (s == 1) {
						for (ox = ox0; ox < ox1; ox++)
							out[ox] = xr[ox + off];
					} else {
						for (ox = ox0; ox < ox1; ox++)
							out[ox] = xr[ox * s + off];
					}
					for (ox = ox1; ox < ow; ox++)
						out[ox] = 0.0f;
				}
			}
		}
	}
}

/* The adjoint of im2col: dx[c][iy][ix] += every dcol entry that read it. */
static void col2im_add(const struct f8_conv_geom *g, const float *restrict col, size_t ld,
		       float *restrict dx)
{
	const int k = g->k, s = g->stride, pad = g->pad, ow = g->ow, oh = g->oh;
	int c, ki, kj, oy, ox, ox0, ox1;

	for (c = 0; c < g->cin; c++) {
		float *dxc = dx + (size_t)c * g->h * g->w;

		for (ki = 0; ki < k; ki++) {
			for (kj = 0; kj < k; kj++) {
				const float *restrict row = col + ((size_t)(c * k + ki) * k + kj) * ld;
				const int off = kj - pad;

				conv_cols(ow, g->w, s, off, &ox0, &ox1);
				for (oy = 0; oy < oh; oy++) {
					const int iy = oy * s - pad + ki;
					const float *restrict in = row + (size_t)oy * ow;
					float *restrict dxr;

					if (iy < 0 || iy >= g->h)
						continue;
					dxr = dxc + (size_t)iy * g->w;
					if (s == 1) {
						for (ox = ox0; ox < ox1; ox++)
							dxr[ox + off] += in[ox];
					} else {
						for (ox = ox0; ox < ox1; ox++)
							dxr[ox * s + off] += in[ox];
					}
				}
			}
		}
	}
}

struct conv_job {
	const struct f8_conv_geom *g;
	const float *x, *w, *bias, *dy;
	float *y, *dx, *dw, *dbias, *ws;
	size_t kdim, p, chunk, nchunks, slot_col, slot_out, part, parts;
	bool direct;
};

static float *conv_slot_ptr(const struct conv_job *j, int thread)
{
	return j->ws + j->parts * j->part + (size_t)thread * (j->slot_col + j->slot_out);
}

/* Images [i0, i1) of chunk @ch. */
static void conv_chunk_range(const struct conv_job *j, size_t ch, size_t *i0, size_t *i1)
{
	*i0 = ch * j->chunk;
	*i1 = *i0 + j->chunk < (size_t)j->g->n ? *i0 + j->chunk : (size_t)j->g->n;
}

static void conv_fwd_chunk(void *ctx, size_t ch, int thread)
{
	const struct conv_job *j = ctx;
	const struct f8_conv_geom *g = j->g;
	const size_t xsz = (size_t)g->cin * g->h * g->w, ysz = (size_t)g->cout * j->p;
	float *slot = conv_slot_ptr(j, thread);
	const float *col = slot;
	float *out;
	size_t i0, i1, nb, ld, b, c, q;

	conv_chunk_range(j, ch, &i0, &i1);
	nb = i1 - i0;
	ld = nb * j->p;
	if (j->direct)
		col = j->x + i0 * xsz;
	else
		for (b = 0; b < nb; b++)
			im2col(g, j->x + (i0 + b) * xsz, slot + b * j->p, ld);
	out = j->chunk == 1 ? j->y + i0 * ysz : slot + j->slot_col;
	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, g->cout, (int)ld, (int)j->kdim, 1.0f,
		    j->w, (int)j->kdim, col, (int)ld, 0.0f, out, (int)ld);
	for (b = 0; b < nb; b++) {
		float *y = j->y + (i0 + b) * ysz;

		for (c = 0; c < (size_t)g->cout; c++) {
			float *restrict yc = y + c * j->p;
			const float *restrict oc = out + c * ld + b * j->p;
			const float bias = j->bias ? j->bias[c] : 0.0f;

			if (oc != yc)
				for (q = 0; q < j->p; q++)
					yc[q] = oc[q] + bias;
			else if (j->bias)
				for (q = 0; q < j->p; q++)
					yc[q] += bias;
		}
	}
}

/* Group @grp of chunks: its dW partial, and dx for its images. */
static void conv_bwd_group(void *ctx, size_t grp, int thread)
{
	const struct conv_job *j = ctx;
	const struct f8_conv_geom *g = j->g;
	const size_t c0 = grp * j->nchunks / j->parts, c1 = (grp + 1) * j->nchunks / j->parts;
	const size_t xsz = (size_t)g->cin * g->h * g->w, ysz = (size_t)g->cout * j->p;
	float *part = j->ws + grp * j->part;
	float *slot = conv_slot_ptr(j, thread), *dyc = slot + j->slot_col;
	const int m = g->cout, kd = (int)j->kdim;
	size_t ch, i0, i1, nb, ld, b, c;

	for (ch = c0; ch < c1; ch++) {
		const float *col = slot, *dyp;

		conv_chunk_range(j, ch, &i0, &i1);
		nb = i1 - i0;
		ld = nb * j->p;
		if (j->direct)
			col = j->x + i0 * xsz;
		else
			for (b = 0; b < nb; b++)
				im2col(g, j->x + (i0 + b) * xsz, slot + b * j->p, ld);
		if (j->chunk == 1) {
			dyp = j->dy + i0 * ysz;
		} else {
			/* gather dY of the chunk as [cout][nb * P] */
			for (c = 0; c < (size_t)g->cout; c++)
				for (b = 0; b < nb; b++)
					memcpy(dyc + c * ld + b * j->p, j->dy + (i0 + b) * ysz + c * j->p,
					       sizeof(*dyc) * j->p);
			dyp = dyc;
		}
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, kd, (int)ld, 1.0f, dyp, (int)ld,
			    col, (int)ld, ch == c0 ? 0.0f : 1.0f, part, kd);
		if (!j->dx)
			continue;
		if (j->direct) {
			cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, kd, (int)ld, m, 1.0f, j->w,
				    kd, dyp, (int)ld, 1.0f, j->dx + i0 * xsz, (int)ld);
			continue;
		}
		cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, kd, (int)ld, m, 1.0f, j->w, kd, dyp,
			    (int)ld, 0.0f, slot, (int)ld);
		for (b = 0; b < nb; b++)
			col2im_add(g, slot + b * j->p, ld, j->dx + (i0 + b) * xsz);
	}
}

/* Output channel @c: its dw row from the partials in group order, and dbias. */
static void conv_bwd_reduce(void *ctx, size_t c, int thread)
{
	const struct conv_job *j = ctx;
	const size_t kd = j->kdim;
	float *restrict dw = j->dw + c * kd;
	size_t grp, q, i;

	(void)thread;
	memcpy(dw, j->ws + c * kd, sizeof(*dw) * kd);
	for (grp = 1; grp < j->parts; grp++) {
		const float *restrict part = j->ws + grp * j->part + c * kd;

		for (q = 0; q < kd; q++)
			dw[q] += part[q];
	}
	if (j->dbias) {
		double sum = 0.0;

		for (i = 0; i < (size_t)j->g->n; i++) {
			const float *restrict dy = j->dy + (i * j->g->cout + c) * j->p;
			float s = 0.0f;

			for (q = 0; q < j->p; q++)
				s += dy[q];
			sum += s;
		}
		j->dbias[c] = (float)sum;
	}
}


/* Depthwise forward of plane (image, channel) = @i. */
static void dw_fwd_plane(void *ctx, size_t i, int thread)
{
	const struct conv_job *j = ctx;
	const struct f8_conv_geom *g = j->g;
	const int k = g->k, s = g->stride, pad = g->pad, ow = g->ow;
	const size_t c = i % g->cin;
	const float *restrict x = j->x + i * g->h * g->w;
	const float *restrict w = j->w + c * k * k;
	float *restrict y = j->y + i * j->p;
	const float b = j->bias ? j->bias[c] : 0.0f;
	int oy, ki, kj, ox, ox0, ox1;

	(void)thread;
	for (oy = 0; oy < g->oh; oy++) {
		float *restrict yr = y + (size_t)oy * ow;

		for (ox = 0; ox < ow; ox++)
			yr[ox] = b;
		for (ki = 0; ki < k; ki++) {
			int iy = oy * s - pad + ki;

			if (iy < 0 || iy >= g->h)
				continue;
			for (kj = 0; kj < k; kj++) {
				const float *restrict xr = x + (size_t)iy * g->w;
				const int off = kj - pad;
				const float wv = w[ki * k + kj];

				conv_cols(ow, g->w, s, off, &ox0, &ox1);
				if (s == 1) {
					for (ox = ox0; ox < ox1; ox++)
						yr[ox] += wv * xr[ox + off];
				} else {
					for (ox = ox0; ox < ox1; ox++)
						yr[ox] += wv * xr[ox * s + off];
				}
			}
		}
	}
}

/* Depthwise backward of channel @c over the whole batch: dx, dw[c], dbias[c]. */
static void dw_bwd_channel(void *ctx, size_t c, int thread)
{
	const struct conv_job *j = ctx;
	const struct f8_conv_geom *g = j->g;
	const int k = g->k, s = g->stride, pad = g->pad, ow = g->ow;
	const size_t hw = (size_t)g->h * g->w;
	const float *restrict w = j->w + c * k * k;
	double acc[F8_CONV_KMAX * F8_CONV_KMAX];
	double bsum = 0.0;
	int n, oy, ki, kj, ox, ox0, ox1, q;

	(void)thread;
	for (q = 0; q < k * k; q++)
		acc[q] = 0.0;
	for (n = 0; n < g->n; n++) {
		const size_t plane = (size_t)n * g->cin + c;
		const float *restrict x = j->x + plane * hw;
		const float *restrict dy = j->dy + plane * j->p;
		float *restrict dx = j->dx ? j->dx + plane * hw : NULL;

		for (ki = 0; ki < k; ki++) {
			for (kj = 0; kj < k; kj++) {
				const float wv = w[ki * k + kj];
				float sum = 0.0f;

				conv_cols(ow, g->w, s, kj - pad, &ox0, &ox1);
				for (oy = 0; oy < g->oh; oy++) {
					int iy = oy * s - pad + ki;
					const float *restrict dyr = dy + (size_t)oy * ow;
					ptrdiff_t off;

					if (iy < 0 || iy >= g->h)
						continue;
					off = (ptrdiff_t)iy * g->w + kj - pad;
					if (s == 1) {
						for (ox = ox0; ox < ox1; ox++)
							sum += dyr[ox] * x[off + ox];
						if (dx)
							for (ox = ox0; ox < ox1; ox++)
								dx[off + ox] += wv * dyr[ox];
					} else {
						for (ox = ox0; ox < ox1; ox++)
							sum += dyr[ox] * x[off + (ptrdiff_t)ox * s];
						if (dx)
							for (ox = ox0; ox < ox1; ox++)
								dx[off + (ptrdiff_t)ox * s] += wv * dyr[ox];
					}
				}
				acc[ki * k + kj] += sum;
			}
		}
		if (j->dbias) {
			float sum = 0.0f;

			for (q = 0; q < (int)j->p; q++)
				sum += dy[q];
			bsum += sum;
		}
	}
	for (q = 0; q < k * k; q++)
		j->dw[c * k * k + q] = (float)acc[q];
	if (j->dbias)
		j->dbias[c] = (float)bsum;
}

static void conv_job_init(struct conv_job *j, const struct f8_conv_geom *g, float *ws)
{
	memset(j, 0, sizeof(*j));
	j->g = g;
	j->ws = ws;
	j->kdim = conv_kdim(g);
	j->p = (size_t)g->oh * g->ow;
	j->chunk = conv_chunk(g);
	j->nchunks = conv_nchunks(g);
	j->direct = conv_direct(g);
	j->slot_col = conv_slot_col(g);
	j->slot_out = conv_slot_out(g);
	j->part = round16((size_t)g->cout * j->kdim);
	j->parts = conv_parts(g);
}

void f8_conv_fwd(const struct f8_conv_geom *g, const float *x, const float *w, const float *bias,
		 float *y, float *ws)
{
	struct conv_job j;

	conv_job_init(&j, g, ws);
	j.x = x;
	j.w = w;
	j.bias = bias;
	j.y = y;
	if (g->groups == 1)
		f8_par_for(j.nchunks, conv_fwd_chunk, &j);
	else
		f8_par_for((size_t)g->n * g->cin, dw_fwd_plane, &j);
}

void f8_conv_bwd(const struct f8_conv_geom *g, const float *x, const float *w, const float *dy,
		 float *dx, float *dw, float *dbias, float *ws)
{
	struct conv_job j;

	conv_job_init(&j, g, ws);
	j.x = x;
	j.w = w;
	j.dy = dy;
	j.dx = dx;
	j.dw = dw;
	j.dbias = dbias;
	if (g->groups == 1) {
		f8_par_for(j.parts, conv_bwd_group, &j);
		f8_par_for((size_t)g->cout, conv_bwd_reduce, &j);
	} else {
		f8_par_for((size_t)g->cin, dw_bwd_channel, &j);
	}
}
