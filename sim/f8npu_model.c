// SPDX-License-Identifier: MIT
/*
 * The functional model: registers (docs/regs.md), the command processor and
 * its state machine (docs/isa.md §6), and the cost model behind the
 * performance counters (docs/isa.md §7). Each descriptor executes atomically
 * inside run(); validation (f8npu_validate.c) comes first, so a faulting
 * descriptor never touches memory, and the arithmetic is f8npu_ref.c.
 *
 * Freestanding: no libc calls, no allocation.
 */
#include "f8npu_div64.h"
#include "f8npu_model.h"
#include "f8npu_ref.h"
#include "f8npu_validate.h"

#define F8NPU_ERR_INDEX_HEADER 0xffffffffu
/* Cycles to validate a descriptor and set up its execution (isa.md §7). */
#define F8NPU_COST_SETUP 96u
/* Row steps the RTL's row reader runs ahead of the executor (isa.md §7, the ramp). */
#define F8NPU_COST_AHEAD 16u
/* Input rows the row reader runs ahead on the fast depthwise path (isa.md §7, the ramp). */
#define F8NPU_COST_AHEAD_ROWS 8u
/* Bias and aux reads the RTL's aux reader issues ahead of the epilogue (isa.md §7, the ramp). */
#define F8NPU_COST_AUX_AHEAD 64u
/*
 * The RTL's fast depthwise path (docs/rtl.md "Depthwise"), as the cost model sees it: the
 * reference RTL's buffers (a 256-column row buffer of 8 slots, 256 accumulator words), so
 * that the prediction depends on the array geometry alone, like the rest of §7.
 */
#define F8NPU_COST_RBUF_COLS 256u
#define F8NPU_COST_RBUF_SLOTS 8u
#define F8NPU_COST_ABUF_WORDS 256u
#define F8NPU_COST_WBUF_BLOCKS 1024u /* of ROWS x COLS bytes */
#define F8NPU_COST_DW_KH_MAX 4u /* half the row buffer's slots */
#define F8NPU_COST_DW_KW_MAX 3u
#define F8NPU_CAP_OPS_ALL                                                                          \
	((1u << F8NPU_OP_END) | (1u << F8NPU_OP_CONV2D) | (1u << F8NPU_OP_POOL_MAX) |              \
	 (1u << F8NPU_OP_POOL_SUM) | (1u << F8NPU_OP_ADD))

/* What the command processor does next when busy. */
enum model_phase {
	PHASE_HEADER, /* START seen: fetch and check the header */
	PHASE_DESC    /* fetch, check and execute descriptor HEAD */
};

struct model_perf {
	uint64_t cycles, macs, rd, wr, stall;
	uint32_t descs;
};

struct f8npu_model {
	struct f8npu_dev dev; /* first: the device interface */
	struct f8npu_model_config cfg;
	struct f8npu_mem mem;
	void (*release)(void *storage); /* frees the storage, or NULL */

	/* Registers. */
	uint32_t status;
	uint32_t err_code;
	uint32_t err_index;
	uint32_t irq_status;
	uint32_t irq_mask;
	uint32_t head;
	uint32_t tail;
	struct f8npu_region_table regions; /* also holds CMD_BASE and CMD_SIZE */
	struct model_perf perf;
	uint32_t hi_latch; /* _HI half latched by the last _LO read */

	/* Command processor state. */
	enum model_phase phase;
	uint32_t desc_count; /* from the header of the running job */
};

static struct f8npu_model *to_model(struct f8npu_dev *dev)
{
	return (struct f8npu_model *)dev;
}

static uint64_t ceil_div(uint64_t a, uint32_t b)
{
	return f8npu_div_u64(a + b - 1, b);
}

static uint64_t max_u64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

static void model_reset(struct f8npu_model *m)
{
	uint32_t i;

	m->status = 0;
	m->err_code = 0;
	m->err_index = 0;
	m->irq_status = 0;
	m->irq_mask = 0;
	m->head = 0;
	m->tail = 0;
	for (i = 0; i < F8NPU_REGIONS; i++) {
		m->regions.base[i] = 0;
		m->regions.size[i] = 0;
	}
	m->regions.count = F8NPU_REGIONS;
	m->regions.cmd_base = 0;
	m->regions.cmd_size = 0;
	m->perf = (struct model_perf){ 0 };
	m->hi_latch = 0;
	m->phase = PHASE_HEADER;
	m->desc_count = 0;
}

/* ---- cost model (isa.md §7) ---- */

struct model_cost {
	uint64_t cycles, stall, macs, rd, wr;
};

static uint64_t dma_cycles(const struct f8npu_model_config *cfg, uint64_t bytes)
{
	return cfg->dram_latency + ceil_div(bytes, cfg->dram_bytes_per_cycle);
}

static uint64_t tensor_bytes(const struct f8npu_tensor_ref *t)
{
	return (uint64_t)t->n * t->h * t->w * t->c * f8npu_type_size(t->type);
}

/*
 * Whether a depthwise CONV2D takes the RTL's fast path: kernel taps on the array rows
 * (kh * kw <= ROWS, kw <= 3, kh <= min(ROWS, 4)), stride_h <= kh (every input row is used),
 * and one column tile per output row: Wo <= 256 and (Wo - 1) * stride_w + kw <= 256.
 */
bool f8npu_model_dw_fast(const struct f8npu_model_config *cfg, const struct f8npu_desc *d)
{
	uint32_t kh = d->kernel_h, kw = d->kernel_w, wo = d->dst[0].w;
	uint32_t kh_max = cfg->rows < F8NPU_COST_DW_KH_MAX ? cfg->rows : F8NPU_COST_DW_KH_MAX;

	return d->opcode == F8NPU_OP_CONV2D && (d->flags & F8NPU_FLAG_DEPTHWISE) &&
	       kw <= F8NPU_COST_DW_KW_MAX && kh <= kh_max && kh * kw <= cfg->rows &&
	       d->stride_h <= kh && wo <= F8NPU_COST_ABUF_WORDS &&
	       (uint64_t)(wo - 1) * d->stride_w + kw <= F8NPU_COST_RBUF_COLS;
}

uint32_t f8npu_model_conv_pack(const struct f8npu_model_config *cfg, const struct f8npu_desc *d)
{
	uint32_t cin = d->src.c;

	if (d->opcode != F8NPU_OP_CONV2D || (d->flags & F8NPU_FLAG_DEPTHWISE) || !cin ||
	    2 * cin > cfg->rows || d->kernel_w < 2 || f8npu_type_size(d->src.type) != 1 ||
	    d->src.stride_w != cin)
		return 0;
	return (uint32_t)f8npu_div_u64(cfg->rows, cin);
}

/* Fast depthwise: one cycle per input column of an output row's windows, but for the
 * leading left-padding columns (at most kw - 1). */
static uint64_t dw_fast_row_cycles(const struct f8npu_desc *d)
{
	return (uint64_t)(d->dst[0].w - 1) * d->stride_w + d->kernel_w -
	       (d->pad_left < d->kernel_w ? d->pad_left : d->kernel_w - 1u);
}

uint64_t f8npu_model_array_cycles(const struct f8npu_model_config *cfg, const struct f8npu_desc *d)
{
	const struct f8npu_tensor_ref *o = &d->dst[0];
	uint64_t pixels = (uint64_t)o->n * o->h * o->w, window = (uint64_t)d->kernel_h * d->kernel_w;
	uint64_t groups = ceil_div(o->c, cfg->cols);

	switch (d->opcode) {
	case F8NPU_OP_CONV2D:
		if (f8npu_model_dw_fast(cfg, d))
			return (uint64_t)o->n * o->h * groups * dw_fast_row_cycles(d);
		if (d->flags & F8NPU_FLAG_DEPTHWISE)
			return pixels * window * groups;
		if (f8npu_model_conv_pack(cfg, d)) /* one pass per kernel row and P taps */
			return pixels * d->kernel_h * ceil_div(d->kernel_w, f8npu_model_conv_pack(cfg, d)) *
			       groups;
		return pixels * window * ceil_div(d->src.c, cfg->rows) * groups;
	case F8NPU_OP_POOL_MAX:
	case F8NPU_OP_POOL_SUM:
		return pixels * window * groups;
	case F8NPU_OP_ADD:
		return pixels * groups;
	default:
		return 0;
	}
}

/*
 * The engine's memory traffic in cycles of the DRAM server (isa.md §7): every request of
 * len bytes occupies it ceil(len / B) cycles, so a 3-byte input vector costs as much as a
 * 16-byte one. These helpers count the requests the RTL's readers and writer issue.
 */

/* Outputs o < @outs whose tap o * @stride - @pad + @k falls inside 0 .. @in - 1. */
static uint64_t taps_inside(uint32_t outs, uint32_t stride, uint32_t pad, uint32_t k, uint32_t in)
{
	int64_t lo = 0, hi;

	if ((uint64_t)in + pad <= k)
		return 0;
	if (pad > k)
		lo = (int64_t)ceil_div(pad - k, stride);
	hi = (int64_t)f8npu_div_u64((uint64_t)in + pad - k - 1, stride);
	if (hi > (int64_t)outs - 1)
		hi = (int64_t)outs - 1;
	return hi >= lo ? (uint64_t)(hi - lo + 1) : 0;
}

/* Tap packing: server cycles of one kernel row's reads for an output row: for each pass (taps
 * k .. k + nk - 1) and output o, one request of the segment's columns inside 0 .. @in - 1. */
static uint64_t pack_row_requests(const struct f8npu_model_config *cfg, uint32_t outs, uint32_t stride,
				  uint32_t pad, uint32_t kw, uint32_t pk, uint32_t cin, uint32_t in)
{
	uint64_t r = 0;
	uint32_t k, o;

	for (k = 0; k < kw; k += pk) {
		int64_t nk = kw - k < pk ? kw - k : pk;

		for (o = 0; o < outs; o++) {
			int64_t ix = (int64_t)o * stride - pad + k, lo = 0, hi = nk;

			if (ix < 0)
				lo = -ix < nk ? -ix : nk;
			if ((int64_t)in - ix < hi)
				hi = (int64_t)in - ix > 0 ? (int64_t)in - ix : 0;
			if (hi > lo)
				r += ceil_div((uint64_t)(hi - lo) * cin, cfg->dram_bytes_per_cycle);
		}
	}
	return r;
}

/* Input indices 0 .. @in - 1 inside the span -@pad .. (@outs - 1) * @stride - @pad + @k - 1 that
 * the windows of @outs outputs cover (contiguous when @k >= @stride). */
static uint64_t span_inside(uint32_t outs, uint32_t stride, uint32_t pad, uint32_t k, uint32_t in)
{
	int64_t lo = -(int64_t)pad, hi = (int64_t)(outs - 1) * stride - pad + k - 1;

	if (lo < 0)
		lo = 0;
	if (hi > (int64_t)in - 1)
		hi = (int64_t)in - 1;
	return hi >= lo ? (uint64_t)(hi - lo + 1) : 0;
}

/* The RTL's column tile: as many outputs as fit the accumulator bank and a row step's
 * RBUF_COLS input columns ((tw - 1) * stride + kw <= RBUF_COLS), at most the row. */
static uint64_t tile_width(uint32_t outs, uint32_t stride, uint32_t k)
{
	uint64_t tw = f8npu_div_u64(F8NPU_COST_RBUF_COLS - k, stride) + 1;

	if (tw > F8NPU_COST_ABUF_WORDS)
		tw = F8NPU_COST_ABUF_WORDS;
	return tw < outs ? tw : outs;
}

/*
 * Whether a groups = 1 CONV2D runs in the RTL's group-inner order (docs/rtl.md "Group-inner
 * order"): several channel groups, every IN item with its own input read (kernel_w <=
 * stride_w, or tap packing), whose weights are all resident at once (1024 blocks of
 * ROWS x COLS bytes, a block per kernel tap and input channel group), and a tile whose row
 * steps are all in flight at once: at most 16, and the ring entries of all but the last
 * within 7 x 256 (the reference RTL's 8 row-buffer slots of 256 columns).
 */
bool f8npu_model_conv_gi(const struct f8npu_model_config *cfg, const struct f8npu_desc *d)
{
	uint32_t pk = f8npu_model_conv_pack(cfg, d), kh = d->kernel_h, kw = d->kernel_w;
	uint64_t groups, cgs, steps, tw, span;

	if (d->opcode != F8NPU_OP_CONV2D || (d->flags & F8NPU_FLAG_DEPTHWISE) || d->dst[0].c <= cfg->cols ||
	    (!pk && kw > d->stride_w))
		return false;
	groups = ceil_div(d->dst[0].c, cfg->cols);
	cgs = ceil_div(d->src.c, cfg->rows);
	if (groups * kh * kw * cgs > F8NPU_COST_WBUF_BLOCKS)
		return false;
	steps = (uint64_t)kh * (pk ? ceil_div(kw, pk) : cgs);
	if (steps > F8NPU_COST_AHEAD)
		return false;
	tw = tile_width(d->dst[0].w, d->stride_w, kw);
	span = pk ? tw : (tw - 1) * d->stride_w + kw;
	return (steps - 1) * span <= (F8NPU_COST_RBUF_SLOTS - 1) * F8NPU_COST_RBUF_COLS;
}

/* Server cycles of one request per channel group of @c channels (@cols per group), @esz bytes each. */
static uint64_t group_requests(const struct f8npu_model_config *cfg, uint32_t c, uint32_t cols, uint32_t esz)
{
	uint32_t b = cfg->dram_bytes_per_cycle;
	uint64_t groups = ceil_div(c, cols), last = c - (groups - 1) * cols;

	return (groups - 1) * ceil_div((uint64_t)cols * esz, b) + ceil_div(last * esz, b);
}

/*
 * The cost of executing one valid compute descriptor (its fetch is counted separately).
 * MACs and bytes are architectural; the cycles follow the RTL's schedule (isa.md §7):
 * the array (or the pooling lanes) works on a tile while the epilogue drains the one
 * before, overlapped with the requests the readers and the writer really issue. A function
 * of the configuration and the descriptor alone, so that a runner can know it before the
 * descriptor starts.
 */
static void cost_desc(const struct f8npu_model_config *cfg, const struct f8npu_desc *d,
		      const struct f8npu_plan *p, struct model_cost *c)
{
	const uint32_t cols = cfg->cols, rows = cfg->rows, b = cfg->dram_bytes_per_cycle;
	const bool add = d->opcode == F8NPU_OP_ADD, conv = d->opcode == F8NPU_OP_CONV2D;
	const bool dw = conv && (d->flags & F8NPU_FLAG_DEPTHWISE), dense = conv && !dw;
	const bool fast = f8npu_model_dw_fast(cfg, d);
	const uint32_t pk = f8npu_model_conv_pack(cfg, d);
	const bool gi = f8npu_model_conv_gi(cfg, d);
	const uint32_t kh = add ? 1 : d->kernel_h, kw = add ? 1 : d->kernel_w;
	const uint32_t sh = add ? 1 : d->stride_h, sw = add ? 1 : d->stride_w;
	const uint32_t pt = add ? 0 : d->pad_top, pl = add ? 0 : d->pad_left;
	const uint32_t cin = d->src.c, esz = f8npu_type_size(d->src.type);
	uint64_t n = d->src.n, pixels = n * p->out_h * p->out_w, groups = ceil_div(p->out_c, cols);
	uint64_t src = tensor_bytes(&d->src), rd_src, other = 0, wr, compute, macs = 0, outs;
	uint64_t in_rows = 0, in_cols = 0, vec, first_vec, cgs, wgt = 0, first_wgt = 0, mem, busy;
	uint64_t steps, first_row, ramp, passes = (uint64_t)kh * kw, epi, tw, first_in, row_tiles;
	uint32_t i;

	/* Group-inner: a tile's input serves every channel group; bias per tile and group. */
	tw = fast ? p->out_w : tile_width(p->out_w, sw, kw);
	row_tiles = n * p->out_h * ceil_div(p->out_w, tw);
	/* Input: each row step (output row, kernel row, input channel group) fetches the present
	 * input columns its windows use, each once (the tile is taken as the whole output row). */
	for (i = 0; i < kh; i++)
		in_rows += taps_inside(p->out_h, sh, pt, i, d->src.h);
	if (kw >= sw) {
		in_cols = span_inside(p->out_w, sw, pl, kw, d->src.w);
	} else {
		for (i = 0; i < kw; i++)
			in_cols += taps_inside(p->out_w, sw, pl, i, d->src.w);
	}
	if (dense && pk) {
		/* Tap packing: a pass is (ky, P taps); one request per output whose segment has
		 * a column inside the input (its columns inside), and a lane row of P*Cin weights. */
		uint64_t seg = pack_row_requests(cfg, p->out_w, sw, pl, kw, pk, cin, d->src.w), wrow = 0;

		for (i = 0; i < kw; i += pk)
			wrow += ceil_div((uint64_t)(kw - i < pk ? kw - i : pk) * cin, b);
		cgs = 1;
		passes = (uint64_t)kh * ceil_div(kw, pk);
		in_cols = p->out_w; /* a row step's requests, for the ramp */
		first_vec = ceil_div((uint64_t)pk * cin, b);
		mem = (gi ? 1 : groups) * n * in_rows * seg;
		wgt = (uint64_t)p->out_c * kh * wrow;
		first_wgt = (p->out_c < cols ? p->out_c : cols) * (uint64_t)kh * wrow;
	} else if (dense) {
		/* A vector is Rows channels (fewer in the last group); every channel group of Cout
		 * lanes streams the input again; a lane row of a weight block is one request. */
		cgs = ceil_div(cin, rows);
		vec = group_requests(cfg, cin, rows, 1);
		first_vec = ceil_div(cin < rows ? cin : rows, b);
		mem = (gi ? 1 : groups) * n * in_rows * in_cols * vec;
		wgt = (uint64_t)p->out_c * kh * kw * vec;
		first_wgt = (p->out_c < cols ? p->out_c : cols) * (uint64_t)kh * kw * vec;
	} else {
		/* Depthwise, pools, ADD: a vector is one channel group of the source. */
		cgs = 1;
		vec = group_requests(cfg, cin, cols, esz);
		first_vec = ceil_div((uint64_t)(cin < cols ? cin : cols) * esz, b);
		if (fast) /* each used input row once per channel group (the line buffer) */
			in_rows = span_inside(p->out_h, sh, pt, kh, d->src.h);
		mem = n * in_rows * in_cols * vec;
		if (fast) { /* a lane's whole kernel per weight request */
			wgt = (uint64_t)p->out_c * ceil_div((uint64_t)kh * kw, b);
			first_wgt = (p->out_c < cols ? p->out_c : cols) * ceil_div((uint64_t)kh * kw, b);
		} else if (dw) { /* one byte (one lane's tap) per weight request */
			wgt = (uint64_t)p->out_c * kh * kw;
			first_wgt = (p->out_c < cols ? p->out_c : cols) * (uint64_t)kh * kw;
		}
	}
	mem += wgt;
	if (conv && (d->flags & F8NPU_FLAG_BIAS))
		mem += (gi ? row_tiles : 1) * group_requests(cfg, p->out_c, cols, 4);
	if (d->flags & F8NPU_FLAG_AUX)
		mem += pixels * group_requests(cfg, p->out_c, cols, f8npu_type_size(d->aux.type));
	mem += pixels * group_requests(cfg, p->out_c, cols, f8npu_type_size(d->dst[0].type));
	if (d->flags & F8NPU_FLAG_DST1)
		mem += pixels * group_requests(cfg, p->out_c, cols, f8npu_type_size(d->dst[1].type));

	switch (d->opcode) {
	case F8NPU_OP_CONV2D:
		macs = pixels * p->out_c * p->k;
		rd_src = dw ? src : src * groups;
		other += p->span[F8NPU_OPND_WEIGHTS].extent;
		if (p->span[F8NPU_OPND_BIAS].used)
			other += p->span[F8NPU_OPND_BIAS].extent;
		break;
	default: /* POOL_*, ADD */
		rd_src = src;
		break;
	}
	/* A valid descriptor's dst[0] has the plan's output shape. */
	compute = f8npu_model_array_cycles(cfg, d);
	if (d->flags & F8NPU_FLAG_AUX)
		other += tensor_bytes(&d->aux);
	wr = tensor_bytes(&d->dst[0]) + ((d->flags & F8NPU_FLAG_DST1) ? tensor_bytes(&d->dst[1]) : 0);
	outs = (d->flags & F8NPU_FLAG_DST1) ? 2 : 1;

	/*
	 * The array works on a tile (up to a row of outputs of a channel group) while the
	 * epilogue drains the tile before (one cycle per output and destination): the longer
	 * side sets the pace, and the shorter side of the first tile is not hidden. At the start, the
	 * row reader runs up to F8NPU_COST_AHEAD row steps ahead and is served before the
	 * weights, so the first output row waits for those reads and its group's weights
	 * (the ramp). 2L: the first data, and the response to the last write.
	 */
	epi = pixels * groups * outs;
	if (gi && (d->flags & F8NPU_FLAG_BIAS)) /* a BIAS item per tile and group */
		epi += row_tiles * groups;
	first_in = fast ? dw_fast_row_cycles(d) : tw * passes * cgs;
	busy = (compute > epi ? compute : epi) + (first_in < tw * outs ? first_in : tw * outs);
	if (fast) { /* the line buffer: input rows ahead, the first output row's array cycles */
		steps = n * in_rows;
		if (steps > F8NPU_COST_AHEAD_ROWS)
			steps = F8NPU_COST_AHEAD_ROWS;
		first_row = dw_fast_row_cycles(d) + (uint64_t)p->out_w * outs;
	} else {
		/* a row step: (kernel row, channel group), packed: a pass */
		steps = n * p->out_h * (pk ? passes : kh * cgs);
		if (steps > F8NPU_COST_AHEAD)
			steps = F8NPU_COST_AHEAD;
		first_row = (uint64_t)p->out_w * (passes * cgs + outs);
	}
	ramp = first_wgt + steps * in_cols * first_vec;
	/* Group-inner: the first tile's later groups wait for their weights, which load after
	 * the bias reads of the first 64 (tile, group) pairs (the aux reader's lead, served first). */
	if (gi && first_wgt > first_row)
		ramp += (groups - 1) * (first_wgt - first_row);
	if (gi && (d->flags & F8NPU_FLAG_BIAS)) {
		/* k pairs: q whole tiles' worth of every group, then r groups (full: only the last
		 * group may have fewer lanes) */
		uint64_t k = row_tiles * groups < F8NPU_COST_AUX_AHEAD ? row_tiles * groups : F8NPU_COST_AUX_AHEAD;
		uint64_t q = f8npu_div_u64(k, (uint32_t)groups), r = k - q * groups;

		ramp += q * group_requests(cfg, p->out_c, cols, 4) + r * ceil_div(4ull * cols, b);
	}
	ramp = ramp > first_row ? ramp - first_row : 0;
	c->cycles = F8NPU_COST_SETUP + 2 * (uint64_t)cfg->dram_latency + max_u64(busy + ramp, mem);
	c->macs = macs;
	c->rd = rd_src + other;
	c->wr = wr;
	c->stall = c->cycles - compute;
}

/* Count one executed compute descriptor. */
static void cost_compute(struct f8npu_model *m, const struct f8npu_desc *d, const struct f8npu_plan *p)
{
	struct model_cost c;

	cost_desc(&m->cfg, d, p, &c);
	m->perf.macs += c.macs;
	m->perf.rd += c.rd;
	m->perf.wr += c.wr;
	m->perf.cycles += c.cycles;
	m->perf.stall += c.stall;
}

/* Time and traffic of fetching @bytes of commands (no MAC activity: all stall). */
static uint64_t cost_fetch(struct f8npu_model *m, uint64_t bytes)
{
	uint64_t cycles = dma_cycles(&m->cfg, bytes);

	m->perf.rd += bytes;
	m->perf.cycles += cycles;
	m->perf.stall += cycles;
	return cycles;
}

/* ---- command processor ---- */

static void job_stop(struct f8npu_model *m, uint32_t err, uint32_t index)
{
	m->status &= ~F8NPU_STATUS_BUSY;
	if (err) {
		m->status |= F8NPU_STATUS_ERROR;
		m->err_code = err;
		m->err_index = index;
		m->irq_status |= F8NPU_IRQ_ERROR;
	} else {
		m->status |= F8NPU_STATUS_DONE;
		m->irq_status |= F8NPU_IRQ_DONE;
	}
}

/* Copy device bytes into a local struct (mapped memory need not be aligned). */
static void copy_in(void *dst, const uint8_t *src, uint32_t len)
{
	uint8_t *d = dst;
	uint32_t i;

	for (i = 0; i < len; i++)
		d[i] = src[i];
}

static uint64_t step_header(struct f8npu_model *m)
{
	struct f8npu_cmd_header h;
	const uint8_t *p;
	uint64_t cycles;
	uint32_t err;

	if (m->regions.cmd_size < F8NPU_CMD_HEADER_SIZE) {
		job_stop(m, F8NPU_ERR_CMD_OOB, F8NPU_ERR_INDEX_HEADER);
		return 0;
	}
	p = m->mem.map(m->mem.user, m->regions.cmd_base, F8NPU_CMD_HEADER_SIZE, false);
	if (!p) {
		job_stop(m, F8NPU_ERR_BUS, F8NPU_ERR_INDEX_HEADER);
		return 0;
	}
	copy_in(&h, p, sizeof(h));
	cycles = cost_fetch(m, F8NPU_CMD_HEADER_SIZE);

	err = f8npu_validate_header(&h, m->regions.cmd_size);
	if (err) {
		job_stop(m, err, F8NPU_ERR_INDEX_HEADER);
		return cycles;
	}
	m->desc_count = h.desc_count;
	m->head = 0;
	m->phase = PHASE_DESC;
	return cycles;
}

/* Map every used operand; false if the memory system refused one (BUS). */
static bool map_operands(struct f8npu_model *m, const struct f8npu_desc *d, const struct f8npu_plan *p,
			 struct f8npu_ref_args *a)
{
	uint8_t *ptr[F8NPU_OPND_COUNT] = { 0 };
	int i;

	for (i = 0; i < F8NPU_OPND_COUNT; i++) {
		const struct f8npu_span *s = &p->span[i];

		if (!s->used || !s->extent)
			continue;
		ptr[i] = m->mem.map(m->mem.user, m->regions.base[s->region] + s->offset, s->extent,
				    i >= F8NPU_OPND_DST0);
		if (!ptr[i])
			return false;
	}
	a->d = d;
	f8npu_view_init(&a->src, &d->src, ptr[F8NPU_OPND_SRC]);
	f8npu_view_init(&a->aux, &d->aux, ptr[F8NPU_OPND_AUX]);
	f8npu_view_init(&a->dst[0], &d->dst[0], ptr[F8NPU_OPND_DST0]);
	f8npu_view_init(&a->dst[1], &d->dst[1], ptr[F8NPU_OPND_DST1]);
	a->weights = ptr[F8NPU_OPND_WEIGHTS];
	a->bias = ptr[F8NPU_OPND_BIAS];
	return true;
}

static uint64_t step_desc(struct f8npu_model *m)
{
	struct f8npu_desc d;
	struct f8npu_plan plan;
	struct f8npu_ref_args args;
	const uint8_t *p;
	uint64_t before = m->perf.cycles;
	uint32_t err;

	if (m->head >= m->desc_count) {
		job_stop(m, F8NPU_ERR_NO_END, m->desc_count);
		return 0;
	}
	p = m->mem.map(m->mem.user,
		       m->regions.cmd_base + F8NPU_CMD_HEADER_SIZE + (uint64_t)m->head * F8NPU_CMD_DESC_SIZE,
		       F8NPU_CMD_DESC_SIZE, false);
	if (!p) {
		job_stop(m, F8NPU_ERR_BUS, m->head);
		return 0;
	}
	copy_in(&d, p, sizeof(d));
	cost_fetch(m, F8NPU_CMD_DESC_SIZE);

	err = f8npu_validate_desc(&d, &m->regions, F8NPU_CAP_OPS_ALL, &plan);
	if (!err && d.opcode != F8NPU_OP_END && !map_operands(m, &d, &plan, &args))
		err = F8NPU_ERR_BUS;
	if (err) {
		job_stop(m, err, m->head);
		return m->perf.cycles - before;
	}
	if (d.opcode == F8NPU_OP_END) {
		m->perf.descs++;
		m->head++;
		job_stop(m, F8NPU_ERR_NONE, 0);
		return m->perf.cycles - before;
	}
	f8npu_ref_run(&args);
	cost_compute(m, &d, &plan);
	m->perf.descs++;
	m->head++;
	return m->perf.cycles - before;
}

static bool model_can_step(const struct f8npu_model *m)
{
	if (!(m->status & F8NPU_STATUS_BUSY))
		return false;
	/* Running out of descriptors (NO_END) does not wait for the doorbell. */
	return m->phase == PHASE_HEADER || m->head >= m->desc_count || m->head < m->tail;
}

static enum f8npu_run_result model_run(struct f8npu_dev *dev, uint64_t max_cycles, uint64_t *cycles)
{
	struct f8npu_model *m = to_model(dev);
	uint64_t spent = 0;
	enum f8npu_run_result res = F8NPU_RUN_IDLE;

	while (model_can_step(m)) {
		if (spent >= max_cycles) {
			res = F8NPU_RUN_BUDGET;
			break;
		}
		spent += m->phase == PHASE_HEADER ? step_header(m) : step_desc(m);
	}
	if (cycles)
		*cycles = spent;
	return res;
}

/* ---- registers ---- */

static uint32_t lo32(uint64_t v)
{
	return (uint32_t)v;
}

static uint32_t latch_hi(struct f8npu_model *m, uint64_t v)
{
	m->hi_latch = (uint32_t)(v >> 32);
	return (uint32_t)v;
}

static uint32_t model_reg_read(struct f8npu_dev *dev, uint32_t off)
{
	struct f8npu_model *m = to_model(dev);
	uint32_t status;

	if (off >= F8NPU_REG_REGION_BASE &&
	    off < F8NPU_REG_REGION_BASE + F8NPU_REGIONS * F8NPU_REG_REGION_STRIDE && !(off & 3)) {
		uint32_t r = (off - F8NPU_REG_REGION_BASE) / F8NPU_REG_REGION_STRIDE;

		switch (off & 0xc) {
		case 0x0:
			return lo32(m->regions.base[r]);
		case 0x4:
			return (uint32_t)(m->regions.base[r] >> 32);
		case 0x8:
			return lo32(m->regions.size[r]);
		default:
			return (uint32_t)(m->regions.size[r] >> 32);
		}
	}
	switch (off) {
	case F8NPU_REG_ID:
		return F8NPU_ID_VALUE;
	case F8NPU_REG_HW_VERSION:
		return F8NPU_HW_VERSION_MAJOR << 16 | F8NPU_HW_VERSION_MINOR;
	case F8NPU_REG_CMD_VERSION:
		return F8NPU_CMD_VERSION_MAJOR << 16 | F8NPU_CMD_VERSION_MINOR;
	case F8NPU_REG_IMPL:
		return F8NPU_IMPL_MODEL;
	case F8NPU_REG_CAP_ARRAY:
		return m->cfg.rows | m->cfg.cols << 16;
	case F8NPU_REG_CAP_OPS:
		return F8NPU_CAP_OPS_ALL;
	case F8NPU_REG_CAP_REGIONS:
		return F8NPU_REGIONS;
	case F8NPU_REG_CAP_IBUF:
		return m->cfg.ibuf_bytes;
	case F8NPU_REG_CAP_WBUF:
		return m->cfg.wbuf_bytes;
	case F8NPU_REG_CAP_ABUF:
		return m->cfg.abuf_bytes;
	case F8NPU_REG_CAP_MAX_DIM:
		return 65535;
	case F8NPU_REG_CAP_MAX_K:
		return F8NPU_MAX_K;
	case F8NPU_REG_CAP_SHIFT:
		return (uint32_t)(uint8_t)F8NPU_SHIFT_MIN | (uint32_t)F8NPU_SHIFT_MAX << 8 |
		       F8NPU_ALIGN_MAX << 16;
	case F8NPU_REG_CAP_TYPES:
		return (1u << F8NPU_TYPE_COUNT_) - 1;
	case F8NPU_REG_STATUS:
		status = m->status;
		if ((status & F8NPU_STATUS_BUSY) && !model_can_step(m))
			status |= F8NPU_STATUS_WAIT;
		return status;
	case F8NPU_REG_ERR_CODE:
		return m->err_code;
	case F8NPU_REG_ERR_INDEX:
		return m->err_index;
	case F8NPU_REG_IRQ_STATUS:
		return m->irq_status;
	case F8NPU_REG_IRQ_MASK:
		return m->irq_mask;
	case F8NPU_REG_CMD_BASE_LO:
		return lo32(m->regions.cmd_base);
	case F8NPU_REG_CMD_BASE_HI:
		return (uint32_t)(m->regions.cmd_base >> 32);
	case F8NPU_REG_CMD_SIZE:
		return m->regions.cmd_size;
	case F8NPU_REG_CMD_HEAD:
		return m->head;
	case F8NPU_REG_CMD_TAIL:
		return m->tail;
	case F8NPU_REG_PERF_CYCLES_LO:
		return latch_hi(m, m->perf.cycles);
	case F8NPU_REG_PERF_MACS_LO:
		return latch_hi(m, m->perf.macs);
	case F8NPU_REG_PERF_RD_LO:
		return latch_hi(m, m->perf.rd);
	case F8NPU_REG_PERF_WR_LO:
		return latch_hi(m, m->perf.wr);
	case F8NPU_REG_PERF_STALL_LO:
		return latch_hi(m, m->perf.stall);
	case F8NPU_REG_PERF_CYCLES_HI:
	case F8NPU_REG_PERF_MACS_HI:
	case F8NPU_REG_PERF_RD_HI:
	case F8NPU_REG_PERF_WR_HI:
	case F8NPU_REG_PERF_STALL_HI:
		return m->hi_latch;
	case F8NPU_REG_PERF_DESCS:
		return m->perf.descs;
	default:
		return 0;
	}
}

static void set_lo(uint64_t *reg, uint32_t val)
{
	*reg = (*reg & ~(uint64_t)0xffffffffu) | val;
}

static void set_hi(uint64_t *reg, uint32_t val)
{
	*reg = (*reg & 0xffffffffu) | (uint64_t)val << 32;
}

static void write_ctrl(struct f8npu_model *m, uint32_t val)
{
	if (val & F8NPU_CTRL_SOFT_RESET)
		model_reset(m);
	if (val & F8NPU_CTRL_PERF_CLEAR)
		m->perf = (struct model_perf){ 0 };
	if ((val & F8NPU_CTRL_START) && !(m->status & F8NPU_STATUS_BUSY)) {
		m->status = F8NPU_STATUS_BUSY;
		m->err_code = 0;
		m->err_index = 0;
		m->head = 0;
		m->phase = PHASE_HEADER;
	}
}

static void model_reg_write(struct f8npu_dev *dev, uint32_t off, uint32_t val)
{
	struct f8npu_model *m = to_model(dev);
	bool busy = m->status & F8NPU_STATUS_BUSY;

	if (off >= F8NPU_REG_REGION_BASE &&
	    off < F8NPU_REG_REGION_BASE + F8NPU_REGIONS * F8NPU_REG_REGION_STRIDE && !(off & 3)) {
		uint32_t r = (off - F8NPU_REG_REGION_BASE) / F8NPU_REG_REGION_STRIDE;

		if (busy)
			return;
		switch (off & 0xc) {
		case 0x0:
			set_lo(&m->regions.base[r], val & ~3u);
			break;
		case 0x4:
			set_hi(&m->regions.base[r], val);
			break;
		case 0x8:
			set_lo(&m->regions.size[r], val);
			break;
		default:
			set_hi(&m->regions.size[r], val);
			break;
		}
		return;
	}
	switch (off) {
	case F8NPU_REG_CTRL:
		write_ctrl(m, val);
		break;
	case F8NPU_REG_IRQ_STATUS:
		m->irq_status &= ~val;
		break;
	case F8NPU_REG_IRQ_MASK:
		m->irq_mask = val & F8NPU_IRQ_ALL;
		break;
	case F8NPU_REG_CMD_BASE_LO:
		if (!busy)
			set_lo(&m->regions.cmd_base, val & ~3u);
		break;
	case F8NPU_REG_CMD_BASE_HI:
		if (!busy)
			set_hi(&m->regions.cmd_base, val);
		break;
	case F8NPU_REG_CMD_SIZE:
		if (!busy)
			m->regions.cmd_size = val;
		break;
	case F8NPU_REG_CMD_TAIL:
		m->tail = val;
		break;
	default:
		break;
	}
}

static bool model_irq(struct f8npu_dev *dev)
{
	struct f8npu_model *m = to_model(dev);

	return (m->irq_status & m->irq_mask) != 0;
}

static void model_destroy(struct f8npu_dev *dev)
{
	struct f8npu_model *m = to_model(dev);

	if (m->release)
		m->release(m);
}

static const struct f8npu_dev_ops model_ops = {
	/* .reg_read  = */ model_reg_read,
	/* .reg_write = */ model_reg_write,
	/* .irq       = */ model_irq,
	/* .run       = */ model_run,
	/* .destroy   = */ model_destroy,
};

uint64_t f8npu_model_header_cycles(const struct f8npu_model_config *cfg, uint32_t cmd_size)
{
	struct f8npu_model_config def;

	if (!cfg) {
		f8npu_model_default_config(&def);
		cfg = &def;
	}
	/* A stream shorter than its header stops the job before any fetch (CMD_OOB). */
	return cmd_size < F8NPU_CMD_HEADER_SIZE ? 0 : dma_cycles(cfg, F8NPU_CMD_HEADER_SIZE);
}

uint64_t f8npu_model_desc_cycles(const struct f8npu_model_config *cfg, const struct f8npu_desc *d,
				 const struct f8npu_region_table *rt)
{
	struct f8npu_model_config def;
	struct f8npu_plan plan;
	struct model_cost c;
	uint64_t fetch;

	if (!cfg) {
		f8npu_model_default_config(&def);
		cfg = &def;
	}
	/* The same steps as step_desc: fetch, validate, execute (END and faults: fetch only). */
	fetch = dma_cycles(cfg, F8NPU_CMD_DESC_SIZE);
	if (f8npu_validate_desc(d, rt, F8NPU_CAP_OPS_ALL, &plan) != F8NPU_ERR_NONE ||
	    d->opcode == F8NPU_OP_END)
		return fetch;
	cost_desc(cfg, d, &plan, &c);
	return fetch + c.cycles;
}

void f8npu_model_default_config(struct f8npu_model_config *cfg)
{
	cfg->rows = 16;
	cfg->cols = 16;
	cfg->ibuf_bytes = 64 * 1024;
	cfg->wbuf_bytes = 64 * 1024;
	cfg->abuf_bytes = 16 * 1024;
	cfg->dram_bytes_per_cycle = 16;
	cfg->dram_latency = 64;
}

uint64_t f8npu_model_storage_size(void)
{
	return sizeof(struct f8npu_model);
}

void f8npu_model_set_release(struct f8npu_dev *dev, void (*release)(void *storage))
{
	to_model(dev)->release = release;
}

struct f8npu_dev *f8npu_model_init(void *storage, const struct f8npu_model_config *cfg,
				   const struct f8npu_mem *mem)
{
	struct f8npu_model *m = storage;
	struct f8npu_model_config def;

	if (!cfg) {
		f8npu_model_default_config(&def);
		cfg = &def;
	}
	if (!m || !mem || !mem->map || cfg->rows < 1 || cfg->rows > 4096 || cfg->cols < 1 ||
	    cfg->cols > 4096 || cfg->dram_bytes_per_cycle < 1)
		return NULL;
	m->dev.ops = &model_ops;
	m->cfg = *cfg;
	m->mem = *mem;
	m->release = NULL;
	model_reset(m);
	return &m->dev;
}
