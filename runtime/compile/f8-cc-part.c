// SPDX-License-Identifier: MIT
/*
 * A model split between a device and the host, node by node (f8-compile.h, f8_cc_part_open;
 * docs/compiler.md, "Placement"). The compiler is asked for the whole model; when it refuses
 * a node (an operation, a type, a shift or a limit the device lacks: its F8_ERR_RANGE names
 * the node), that node goes to the host and the runs of nodes between host nodes are compiled
 * again, each into a program of its own, until every program compiles. A run the device
 * refuses without naming a node of it goes to the host whole.
 *
 * Running: the stages in node order, a batch at a time. A program reads the int32 tensors
 * (or the pixels) it needs from host buffers and writes back the ones read after it; a host
 * node runs f8_qm_node_forward, the reference kernels the device itself executes, image by
 * image. So the logits are f8_qm_forward's whatever the split.
 */
#include <stdlib.h>
#include <string.h>

#include "f8-compile.h"

struct part_stage {
	bool device;
	uint32_t lo, hi;           /* nodes; a host stage is one node */
	struct f8_cc_prog *prog;
	struct f8_cc_session *sess;
};

struct f8_cc_part {
	struct f8_be *be;
	const struct f8_qm *m;
	uint32_t batch;
	bool *needed, *host, *vis;   /* [nnodes]; vis: held in a host buffer while running */
	char (*why)[512];   /* [nnodes]: why a node is on the host */
	struct part_stage *st;
	uint32_t nst;
	int32_t **t;                 /* [nnodes]: int32 [batch][h][w][c] of the visible nodes */
	uint8_t *in8;
};

static size_t elems(const struct f8_qm_node *n)
{
	return (size_t)n->c * n->h * n->w;
}

static void drop_stages(struct f8_cc_part *pt)
{
	uint32_t k;

	for (k = 0; k < pt->nst; k++) {
		f8_cc_session_close(pt->st[k].sess);
		f8_cc_free(pt->st[k].prog);
	}
	pt->nst = 0;
}

void f8_cc_part_close(struct f8_cc_part *pt)
{
	uint32_t i;

	if (!pt)
		return;
	drop_stages(pt);
	if (pt->t)
		for (i = 0; i < pt->m->nnodes; i++)
			free(pt->t[i]);
	free(pt->t);
	free(pt->in8);
	free(pt->st);
	free(pt->why);
	free(pt->needed);
	free(pt->host);
	free(pt->vis);
	free(pt);
}

/* Stages from the current host set: runs of device nodes between host nodes. */
static void make_stages(struct f8_cc_part *pt)
{
	const uint32_t nn = pt->m->nnodes;
	uint32_t i = 1, j;

	pt->nst = 0;
	while (i < nn) {
		if (!pt->needed[i]) {
			i++;
			continue;
		}
		if (pt->host[i]) {
			pt->st[pt->nst++] = (struct part_stage){ .device = false, .lo = i, .hi = i };
			i++;
			continue;
		}
		for (j = i; j + 1 < nn && !pt->host[j + 1]; j++)
			;
		pt->st[pt->nst++] = (struct part_stage){ .device = true, .lo = i, .hi = j };
		i = j + 1;
	}
}

/* Compile every device stage; false (and more host nodes) when one must be split again. */
static int compile_stages(struct f8_cc_part *pt, const struct f8_cc_opts *o, bool *again,
			  struct f8_err *e)
{
	uint32_t k, i;

	*again = false;
	for (k = 0; k < pt->nst; k++) {
		struct part_stage *s = &pt->st[k];
		struct f8_cc_opts so = *o;
		struct f8_err ce = { { 0 } };
		int32_t refused;
		int rc;

		if (!s->device)
			continue;
		so.first = s->lo;
		so.last = s->hi;
		rc = f8_cc_compile_ex(pt->m, &pt->be->caps, &so, &s->prog, &refused, &ce);
		if (rc == F8_ERR_NOMEM || rc == F8_ERR_MISUSE || rc == F8_ERR_FORMAT)
			return f8_fail(e, rc, "%s", ce.msg);
		if (rc == F8_OK)
			continue;
		if (refused >= (int32_t)s->lo && refused <= (int32_t)s->hi && !pt->host[refused]) {
			pt->host[refused] = true;
			snprintf(pt->why[refused], sizeof(pt->why[refused]), "%s", ce.msg);
		} else { /* nothing of this run can be placed alone: all of it to the host */
			char why[sizeof(pt->why[0])];

			/* a refused node before the run: converting a tensor the host hands in */
			if (refused >= 0 && refused < (int32_t)s->lo)
				snprintf(why, sizeof(why), "reads node %d from the host, in a form the "
					 "device cannot convert it to (%.400s)", refused, ce.msg);
			else
				snprintf(why, sizeof(why), "%s", ce.msg);
			for (i = s->lo; i <= s->hi; i++)
				if (pt->needed[i] && !pt->host[i]) {
					pt->host[i] = true;
					memcpy(pt->why[i], why, sizeof(why));
				}
		}
		*again = true;
		return F8_OK;
	}
	return F8_OK;
}

/* Host buffers: the pixels' int32 form and every tensor that crosses a stage boundary. */
static int alloc_buffers(struct f8_cc_part *pt)
{
	const struct f8_qm *m = pt->m;
	uint32_t k, j, i;

	for (k = 0; k < pt->nst; k++) {
		const struct part_stage *s = &pt->st[k];

		if (s->device) {
			for (j = 0; j < s->prog->nin; j++) /* the pixels go in as they are */
				if (s->prog->in[j].node)
					pt->vis[s->prog->in[j].node] = true;
			for (j = 0; j < s->prog->nout; j++)
				pt->vis[s->prog->out[j].node] = true;
			continue;
		}
		pt->vis[s->lo] = true;
		pt->vis[m->nodes[s->lo].in[0]] = true;
		if (m->nodes[s->lo].in[1] >= 0)
			pt->vis[m->nodes[s->lo].in[1]] = true;
	}
	pt->vis[m->nnodes - 1] = true;
	for (i = 0; i < m->nnodes; i++) {
		if (!pt->vis[i])
			continue;
		pt->t[i] = malloc(sizeof(int32_t) * elems(&m->nodes[i]) * pt->batch);
		if (!pt->t[i])
			return F8_ERR_NOMEM;
	}
	pt->in8 = malloc(f8_qm_in8_bytes(m) + 1);
	return pt->in8 ? F8_OK : F8_ERR_NOMEM;
}

int f8_cc_part_open(struct f8_be *be, const struct f8_qm *m, const struct f8_cc_opts *o,
		    struct f8_cc_part **out, struct f8_err *e)
{
	const struct f8_cc_opts none = { 0 };
	struct f8_qm_error qe;
	struct f8_cc_part *pt;
	struct f8_cc_opts so;
	bool again = true;
	uint32_t i, k;
	int rc;

	if (!be || !m || !out)
		return f8_fail(e, F8_ERR_MISUSE, "f8_cc_part_open: NULL backend, model or output");
	*out = NULL;
	rc = f8_qm_check(m, &qe);
	if (rc)
		return f8_fail(e, rc, "model: node %d: %s", qe.node, qe.what);
	so = o ? *o : none;
	so.first = so.last = 0;
	pt = calloc(1, sizeof(*pt));
	if (!pt)
		return f8_fail(e, F8_ERR_NOMEM, "placement: out of memory");
	pt->be = be;
	pt->m = m;
	pt->batch = so.batch ? so.batch : 1;
	pt->needed = calloc(m->nnodes, sizeof(bool));
	pt->host = calloc(m->nnodes, sizeof(bool));
	pt->vis = calloc(m->nnodes, sizeof(bool));
	pt->why = calloc(m->nnodes, sizeof(*pt->why));
	pt->st = calloc(m->nnodes, sizeof(*pt->st));
	pt->t = calloc(m->nnodes, sizeof(*pt->t));
	if (!pt->needed || !pt->host || !pt->vis || !pt->why || !pt->st || !pt->t) {
		f8_cc_part_close(pt);
		return f8_fail(e, F8_ERR_NOMEM, "placement: out of memory");
	}
	pt->needed[m->nnodes - 1] = true;
	for (i = m->nnodes; i-- > 1;) {
		if (!pt->needed[i])
			continue;
		pt->needed[m->nodes[i].in[0]] = true;
		if (m->nodes[i].in[1] >= 0)
			pt->needed[m->nodes[i].in[1]] = true;
	}
	/* each pass puts at least one more node on the host, so this ends */
	while (again) {
		drop_stages(pt);
		make_stages(pt);
		rc = compile_stages(pt, &so, &again, e);
		if (rc) {
			f8_cc_part_close(pt);
			return rc;
		}
	}
	rc = alloc_buffers(pt);
	if (rc) {
		f8_cc_part_close(pt);
		return f8_fail(e, rc, "placement: out of memory");
	}
	for (k = 0; k < pt->nst; k++) {
		if (!pt->st[k].device)
			continue;
		rc = f8_cc_session_open(be, pt->st[k].prog, &pt->st[k].sess, e);
		if (rc) {
			f8_cc_part_close(pt);
			return rc;
		}
	}
	*out = pt;
	return F8_OK;
}

/* Host node @i of images [0, @k) of the chunk. */
static void run_host(struct f8_cc_part *pt, uint32_t i, size_t k)
{
	const struct f8_qm *m = pt->m;
	const struct f8_qm_node *n = &m->nodes[i];
	int32_t *ptr[F8_QM_MAX_NODES] = { 0 };
	size_t q;
	int j;

	for (q = 0; q < k; q++) {
		for (j = 0; j < 2; j++)
			if (n->in[j] >= 0)
				ptr[n->in[j]] = pt->t[n->in[j]] + q * elems(&m->nodes[n->in[j]]);
		ptr[i] = pt->t[i] + q * elems(n);
		f8_qm_node_forward(m, i, ptr, pt->in8);
	}
}

static int run_device(struct f8_cc_part *pt, struct part_stage *s, const uint8_t *pixels,
		      size_t k, struct f8_cc_stats *acc, struct f8_err *e)
{
	const void *in[F8_QM_MAX_NODES];
	void *out[F8_QM_MAX_NODES];
	struct f8_cc_stats st;
	uint32_t j;
	int rc;

	for (j = 0; j < s->prog->nin; j++)
		in[j] = s->prog->in[j].node == 0 ? (const void *)pixels :
						    (const void *)pt->t[s->prog->in[j].node];
	for (j = 0; j < s->prog->nout; j++)
		out[j] = pt->t[s->prog->out[j].node];
	rc = f8_cc_session_run_io(s->sess, in, out, (int)k, &st, e);
	if (rc)
		return rc;
	st.images = 0; /* counted once per chunk by the caller */
	f8_cc_stats_add(acc, &st);
	return F8_OK;
}

int f8_cc_part_run(struct f8_cc_part *pt, const uint8_t *pixels_hwc, int n, int32_t *logits,
		   struct f8_cc_stats *st, struct f8_err *e)
{
	const struct f8_qm *m;
	struct f8_cc_stats acc;
	size_t img, done, q;
	uint32_t k;
	int rc;

	if (!pt || n < 0 || (n > 0 && (!pixels_hwc || !logits)))
		return f8_fail(e, F8_ERR_MISUSE, "f8_cc_part_run: NULL placement, images or logits");
	m = pt->m;
	img = elems(&m->nodes[0]);
	memset(&acc, 0, sizeof(acc));
	for (done = 0; done < (size_t)n; done += pt->batch) {
		const size_t kk = (size_t)n - done < pt->batch ? (size_t)n - done : pt->batch;
		const uint8_t *px = pixels_hwc + done * img;

		if (pt->vis[0])
			for (q = 0; q < kk * img; q++)
				pt->t[0][q] = px[q];
		for (k = 0; k < pt->nst; k++) {
			if (!pt->st[k].device) {
				run_host(pt, pt->st[k].lo, kk);
				continue;
			}
			rc = run_device(pt, &pt->st[k], px, kk, &acc, e);
			if (rc)
				return rc;
		}
		memcpy(logits + done * m->classes, pt->t[m->nnodes - 1],
		       sizeof(int32_t) * m->classes * kk);
	}
	acc.images = (uint32_t)n;
	if (st)
		*st = acc;
	return F8_OK;
}

enum f8_cc_where f8_cc_part_where(const struct f8_cc_part *pt, uint32_t node, const char **why,
				  const struct f8_cc_prog **prog)
{
	uint32_t k;

	if (why)
		*why = "";
	if (prog)
		*prog = NULL;
	if (node == 0)
		return F8_CC_AT_INPUT;
	if (node >= pt->m->nnodes || !pt->needed[node])
		return F8_CC_UNUSED;
	if (pt->host[node]) {
		if (why)
			*why = pt->why[node];
		return F8_CC_ON_HOST;
	}
	for (k = 0; k < pt->nst; k++)
		if (pt->st[k].device && node >= pt->st[k].lo && node <= pt->st[k].hi && prog)
			*prog = pt->st[k].prog;
	return F8_CC_ON_DEVICE;
}

uint32_t f8_cc_part_programs(const struct f8_cc_part *pt, const struct f8_cc_prog **progs,
			     uint32_t cap)
{
	uint32_t k, n = 0;

	for (k = 0; k < pt->nst; k++)
		if (pt->st[k].device) {
			if (n < cap)
				progs[n] = pt->st[k].prog;
			n++;
		}
	return n;
}
