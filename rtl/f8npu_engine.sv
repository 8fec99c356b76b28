// SPDX-License-Identifier: MIT
// f8npu_engine: executes one validated CONV2D, POOL_MAX, POOL_SUM or ADD descriptor.
//
// Decoupled access/execute. Three readers walk their own loop nests and issue reads
// as far ahead as their buffers allow; the responses come back in order and a tag
// FIFO routes each one to where it belongs:
//   - weights (f8npu_walk_w) straight into the weight buffer, one lane row per read,
//     a whole channel group at a time, double-buffered when two groups fit, so the
//     next group loads while the array works;
//   - input columns (f8npu_walk_r) straight into the row buffer, one half per row
//     step (ky, cg), so every input vector is fetched once per row step and reused
//     by all kw taps;
//   - bias and aux vectors (a copy of f8npu_walk_x) into a small FIFO.
// The executor (f8npu_walk_x) then, per item:
//   - BIAS: keeps the group's bias lanes;
//   - IN:   sends one input vector (row buffer) through the MAC array (or the pooling
//           lanes) and accumulates into the accumulator word of its output pixel;
//   - EPI:  reads the pixel's accumulators, applies the epilogue (arith.md A8) and
//           queues the output writes.
// ADD runs as a 1x1 sum pool (its value is the source element). Accumulators are
// 48 bits: a sum pool of up to 255*255 int32 values is exact before saturation.
//
// Fast depthwise (docs/rtl.md "Depthwise"): a depthwise CONV2D with kw <= KwMax,
// kh <= KhMax, kh*kw <= Rows, stride_h <= kh and one column tile per output row runs
// with the row buffer as a line buffer (input row s of a channel group in slot
// s mod RbufSlots, fetched once and kept while the kh output rows that need it run) and
// all kh*kw taps of one output pixel on the array rows in one cycle: per cycle the
// executor reads one input column from every slot, shifts it into a kw-deep window per
// kernel row, and array row ky*kw + kx multiplies the window's column (ky, kx) by
// w[c][ky][kx]. Other depthwise convolutions take one tap per cycle on row 0.
//
// Tap packing (docs/rtl.md "Tap packing"): a CONV2D with Cin <= Rows / 2 on dense u8/s8
// input (stride_w == Cin) puts P = floor(Rows / Cin) horizontal taps of a kernel row on
// the array rows (row kxl * Cin + ci): a pass is (ky, kx0), its input vector for output x
// the window segment's P*Cin contiguous bytes, fetched by one read (clipped to the input
// row; the executor shifts it into place and zeroes the padding), its weight lane row
// w[co][ky][kx0 .. kx0+P-1][0 .. Cin-1], contiguous in the [Cout][kh][kw][Cin] layout.
//
// Parameters: Rows, Cols (array), WbufBlocks (weight buffer blocks of Rows*Cols
// bytes), AbufWords (accumulator words = widest output tile), RbufCols (input
// columns per row buffer half), TagDepth (reads in flight).
module f8npu_engine #(
  parameter int unsigned Rows       = 16,
  parameter int unsigned Cols       = 16,
  parameter int unsigned WbufBlocks = 1024,
  parameter int unsigned AbufWords  = 256,
  parameter int unsigned RbufCols   = 256,
  parameter int unsigned RbufSlots  = 8,
  parameter int unsigned TagDepth   = 256,
  parameter bit          PackEn     = 1'b1,  // tap packing for Cin <= Rows / 2
  parameter bit          GiEn       = 1'b1   // group-inner order (input fetched once per tile)
) (
  input  logic              clk_i,
  input  logic              rst_ni,
  input  logic              clear_i,        // soft reset: abandon everything
  input  logic              start_i,
  input  logic [2047:0]     desc_i,
  input  logic [16*64-1:0]  region_base_i,
  input  logic [15:0]       out_h_i,
  input  logic [15:0]       out_w_i,
  input  logic [16:0]       k_i,
  output logic              done_o,         // pulse
  output logic              bus_err_o,      // with done_o
  output logic              active_o,       // the array (or pooling lanes) worked this cycle
  // memory port
  output logic              mrd_valid_o,
  input  logic              mrd_ready_i,
  output logic [63:0]       mrd_addr_o,
  output logic [6:0]        mrd_len_o,
  input  logic              mrs_valid_i,
  input  logic [511:0]      mrs_data_i,
  input  logic              mrs_err_i,
  output logic              mwr_valid_o,
  input  logic              mwr_ready_i,
  output logic [63:0]       mwr_addr_o,
  output logic [6:0]        mwr_len_o,
  output logic [511:0]      mwr_data_o,
  input  logic              mws_valid_i,
  input  logic              mws_err_i
);
  localparam logic [2:0] ItBias = 3'd1, ItIn = 3'd3, ItEpi = 3'd4;
  localparam int unsigned RL = $clog2(Rows);
  localparam int unsigned TL = $clog2(TagDepth);
  // The row buffer is a ring of RbufSlots * RbufCols input vectors; a row step takes as many
  // entries as it spans (at most RbufCols), and up to Steps steps are in flight.
  localparam int unsigned RE = RbufSlots * RbufCols;
  localparam int unsigned REL = $clog2(RE);
  localparam int unsigned Steps = 16;
  localparam int unsigned RSL = 4;
  localparam int unsigned SL = $clog2(RbufSlots);
  localparam int unsigned CBL = $clog2(RbufCols);
  // Fast depthwise: window columns per kernel row, kernel rows (half the slots, so that
  // the row reader can run ahead by RbufSlots - kh rows).
  localparam int unsigned KwMax = 3;
  localparam int unsigned KhMax = (Rows < RbufSlots / 2) ? Rows : RbufSlots / 2;
  localparam int unsigned CB = Cols * 8;
  localparam int unsigned AuxDepth = 64;
  localparam logic [1:0] DestAux = 2'd0, DestRow = 2'd1, DestWgt = 2'd2;
  localparam int unsigned AL = $clog2(AbufWords);
  localparam int unsigned WL = $clog2(WbufBlocks);
  localparam int unsigned BW = Rows * Cols * 8;   // weight block bits
  localparam int unsigned AW = Cols * 48 + 1;     // accumulator word: lanes + "has a value"

  // ---------------------------------------------------------------- descriptor fields
  function automatic logic [7:0] db(input logic [2047:0] d, input int unsigned i);
    db = d[i*8 +: 8];
  endfunction
  function automatic logic [15:0] dh(input logic [2047:0] d, input int unsigned i);
    dh = d[i*8 +: 16];
  endfunction
  function automatic logic [31:0] dw32(input logic [2047:0] d, input int unsigned i);
    dw32 = d[i*8 +: 32];
  endfunction
  function automatic logic [2:0] esz(input logic [7:0] t);
    esz = (t == f8npu_pkg::TypeS32) ? 3'd4 : 3'd1;
  endfunction

  logic [2047:0] d_q;
  logic [7:0] op, flags;
  logic [1:0] mode;
  logic depthwise;
  assign op = db(d_q, f8npu_pkg::DOpcode);
  assign flags = db(d_q, f8npu_pkg::DFlags);
  assign depthwise = flags[f8npu_pkg::FlagDepthwise];
  assign mode = (op == f8npu_pkg::OpConv2d) ? (depthwise ? 2'd1 : 2'd0) : 2'd2;

  // Operand base addresses (region base + offset): src, aux, dst0, dst1, weights, bias. One
  // 16:1 region multiplexer and one 64-bit adder compute them in turn during the setup's
  // division (SDiv, 11 cycles; the region registers do not change while the device is busy),
  // instead of six multiplexers and adders on the raw descriptor that stay live all the time.
  logic [63:0] base_q [6];
  logic [3:0] dv_i_q;

  // Per-tensor views: src (0), aux (1), dst0 (2), dst1 (3).
  logic [4*64-1:0] t_base, t_sn, t_sh, t_sw;
  logic [4*8-1:0]  t_type;
  genvar gt;
  for (gt = 0; gt < 4; gt++) begin : g_tensor
    localparam int unsigned TOff = (gt == 0) ? f8npu_pkg::DSrc : (gt == 1) ? f8npu_pkg::DAux :
                                   (gt == 2) ? f8npu_pkg::DDst0 : f8npu_pkg::DDst1;
    assign t_type[gt*8 +: 8] = db(d_q, TOff + f8npu_pkg::TType);
    assign t_base[gt*64 +: 64] = base_q[gt];
    assign t_sn[gt*64 +: 64] = 64'(dw32(d_q, TOff + f8npu_pkg::TStrideN));
    assign t_sh[gt*64 +: 64] = 64'(dw32(d_q, TOff + f8npu_pkg::TStrideH));
    assign t_sw[gt*64 +: 64] = 64'(dw32(d_q, TOff + f8npu_pkg::TStrideW));
  end
  logic [63:0] w_base, b_base;
  assign w_base = base_q[4];
  assign b_base = base_q[5];

  logic is_add;
  logic [7:0] kh, kw, sth, stw, pt, pl;
  assign is_add = op == f8npu_pkg::OpAdd;
  assign kh  = is_add ? 8'd1 : db(d_q, f8npu_pkg::DKernelH);
  assign kw  = is_add ? 8'd1 : db(d_q, f8npu_pkg::DKernelW);
  assign sth = is_add ? 8'd1 : db(d_q, f8npu_pkg::DStrideH);
  assign stw = is_add ? 8'd1 : db(d_q, f8npu_pkg::DStrideW);
  assign pt  = db(d_q, f8npu_pkg::DPadTop);
  assign pl  = db(d_q, f8npu_pkg::DPadLeft);

  logic [15:0] src_n, src_h, src_w, src_c, dst_c;
  assign src_n = dh(d_q, f8npu_pkg::DSrc + f8npu_pkg::TN);
  assign src_h = dh(d_q, f8npu_pkg::DSrc + f8npu_pkg::TH);
  assign src_w = dh(d_q, f8npu_pkg::DSrc + f8npu_pkg::TW);
  assign src_c = dh(d_q, f8npu_pkg::DSrc + f8npu_pkg::TC);
  assign dst_c = dh(d_q, f8npu_pkg::DDst0 + f8npu_pkg::TC);

  // ---------------------------------------------------------------- setup
  // The tile width Tw fits the accumulator buffer and a row buffer half:
  // (Tw - 1) * stride_w + kw <= RbufCols. Then a radix-4 shift-add multiplier
  // computes the few products the walkers need (no multiplier in the datapath).
  localparam int unsigned NProd = 15;
  localparam int unsigned CL = $clog2(Cols);
  logic pack;                        // tap packing (below)
  logic [7:0] pk_np_q;               // pack: passes per kernel row ceil(kw / P), Steps + 1 if more
  logic [19:0] fspan;                // input columns a tile's windows span
  typedef enum logic [2:0] {SIdle, SDiv, SLoad, SMul, SGo, SRun} setup_e;
  setup_e su_q;
  logic [3:0]  pi_q;
  logic [63:0] ma_q, mp_q;
  logic [19:0] mb_q;
  logic [63:0] prod_q [NProd];
  logic [15:0] ho_q, wo_q, tw_q;
  logic [16:0] k_q;
  logic [10:0] dv_num_q, dv_rem_q, dv_q;
  logic [15:0] cg_cnt;
  logic nest_start;

  assign cg_cnt = 16'((src_c + 16'(Rows - 1)) >> RL);
  assign nest_start = su_q == SGo;

  logic [63:0] op_a;
  logic [19:0] op_b;
  always_comb begin
    op_a = '0;
    op_b = '0;
    case (pi_q)
      4'd0: begin op_a = t_sh[0*64 +: 64]; op_b = 20'(sth); end                 // sth_sh
      4'd1: begin op_a = t_sw[0*64 +: 64]; op_b = 20'(stw); end                 // stw_sw
      4'd2: begin op_a = t_sh[0*64 +: 64]; op_b = 20'(pt); end                  // pt_sh
      4'd3: begin op_a = t_sw[0*64 +: 64]; op_b = 20'(pl); end                  // pl_sw
      4'd4: begin op_a = 64'(stw); op_b = 20'(tw_q); end               // tw_stw
      4'd5: begin op_a = t_sw[0*64 +: 64]; op_b = prod_q[4][19:0]; end          // tw_stw_sw
      4'd6: begin op_a = t_sw[1*64 +: 64]; op_b = 20'(tw_q); end                // tw_sw aux
      4'd7: begin op_a = t_sw[2*64 +: 64]; op_b = 20'(tw_q); end                // tw_sw dst0
      4'd8: begin op_a = t_sw[3*64 +: 64]; op_b = 20'(tw_q); end                // tw_sw dst1
      4'd9: begin op_a = 64'(kh); op_b = 20'(kw); end                  // taps
      4'd10: begin op_a = prod_q[9]; op_b = 20'(cg_cnt); end           // blocks (conv)
      4'd11: begin op_a = (mode == 2'd0) ? 64'(src_c) : 64'd1; op_b = 20'(kw); end // ky step
      // Group-inner order (below): a tile's row steps, the ring entries of all but the last
      // one, and the blocks of all channel groups.
      4'd12: begin op_a = 64'(kh); op_b = pack ? 20'(pk_np_q) : 20'(cg_cnt); end
      4'd13: begin op_a = prod_q[12] - 64'd1; op_b = pack ? 20'(tw_q) : fspan; end
      4'd14: begin op_a = prod_q[10]; op_b = (20'(dst_c) + 20'(Cols - 1)) >> CL; end
      default: ;
    endcase
  end

  logic [63:0] nblocks;
  logic resident, two_sets;
  logic [16:0] set_blocks;
  assign nblocks = (mode == 2'd0) ? prod_q[10] : fast ? 64'd1 : prod_q[9];
  assign resident = nblocks <= 64'(WbufBlocks);
  assign set_blocks = resident ? nblocks[16:0] : 17'd1;
  assign two_sets = {set_blocks, 1'b0} <= 18'(WbufBlocks);

  // Group-inner order (docs/rtl.md): a CONV2D with several channel groups whose weights all fit
  // the weight buffer at once, and whose tile's row steps all fit the row buffer (at most Steps
  // steps in flight, the ring entries of all but the last within RE - RbufCols: so the reader
  // can fetch them all while the executor still holds the tile), runs every channel group on a
  // tile before the next tile, and the tile's input is fetched once instead of once per group.
  // Only where every IN item has its own read (kw <= stride_w, or tap packing): elsewhere the
  // row buffer's column reuse already makes the array the bottleneck, and the order would only
  // make the first tile wait for every group's weights.
  logic gi;
  assign gi = GiEn && mode == 2'd0 && dst_c > 16'(Cols) && (pack || kw <= stw) &&
              prod_q[14] <= 64'(WbufBlocks) &&
              prod_q[12] <= 64'(Steps) && prod_q[13] <= 64'(RE) - 64'(RbufCols);

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      d_q <= '0; pi_q <= '0; su_q <= SIdle;
      ma_q <= '0; mb_q <= '0; mp_q <= '0; ho_q <= '0; wo_q <= '0; tw_q <= '0; k_q <= '0;
      dv_num_q <= '0; dv_rem_q <= '0; dv_q <= '0; dv_i_q <= '0;
      for (int i = 0; i < NProd; i++) prod_q[i] <= '0;
    end else if (clear_i) begin
      su_q <= SIdle;
    end else begin
      case (su_q)
        SIdle: if (start_i) begin
          d_q <= desc_i;
          ho_q <= out_h_i;
          wo_q <= out_w_i;
          k_q <= k_i;
          pi_q <= '0;
          // ADD has no window: its kernel fields are zero, it runs as 1x1.
          dv_num_q <= 11'(RbufCols) - ((desc_i[f8npu_pkg::DOpcode*8 +: 8] == f8npu_pkg::OpAdd) ?
                                       11'd1 : 11'(desc_i[f8npu_pkg::DKernelW*8 +: 8]));
          dv_rem_q <= '0;
          dv_q <= '0;
          dv_i_q <= 4'd10;
          su_q <= SDiv;
        end
        SDiv: begin
          // Restoring division (RbufCols - kw) / stride_w, one quotient bit per cycle.
          logic [11:0] r;
          logic [15:0] tl;
          r = {dv_rem_q, dv_num_q[dv_i_q]};
          if (r >= 12'(stw)) begin
            dv_rem_q <= 11'(r - 12'(stw));
            dv_q[dv_i_q] <= 1'b1;
          end else dv_rem_q <= r[10:0];
          if (dv_i_q == 4'd0) begin
            // Tw = min(AbufWords, Wo, quotient + 1)
            tl = {5'd0, dv_q | {10'd0, r >= 12'(stw)}} + 16'd1;
            if (16'(AbufWords) < tl) tl = 16'(AbufWords);
            tw_q <= (wo_q < tl) ? wo_q : tl;
            su_q <= SLoad;
          end else dv_i_q <= dv_i_q - 4'd1;
        end
        SLoad: begin
          ma_q <= op_a;
          mb_q <= op_b;
          mp_q <= '0;
          su_q <= SMul;
        end
        SMul: begin
          if (mb_q != '0) begin
            mp_q <= mp_q + (mb_q[0] ? ma_q : 64'd0) + (mb_q[1] ? {ma_q[62:0], 1'b0} : 64'd0);
            ma_q <= {ma_q[61:0], 2'b00};
            mb_q <= mb_q >> 2;
          end else begin
            prod_q[pi_q] <= mp_q;
            if (pi_q == 4'(NProd - 1)) su_q <= SGo;
            else begin
              pi_q <= pi_q + 4'd1;
              su_q <= SLoad;
            end
          end
        end
        SGo: su_q <= SRun;
        SRun: if (exec_done) su_q <= SIdle;
        default: su_q <= SIdle;
      endcase
    end
  end

  // Fast depthwise (see the header): decided from the registered set-up, stable in SRun.
  logic fast;
  assign fast = mode == 2'd1 && kw <= 8'(KwMax) && kh <= 8'(KhMax) && prod_q[9] <= 64'(Rows) &&
                sth <= kh && tw_q == wo_q;
  assign fspan = prod_q[4][19:0] - 20'(stw) + 20'(kw);
  // Leading columns of every output row that are left padding and not a whole window: the
  // executor starts after them, with zeros in their place in the window.
  logic [7:0] fskip;
  assign fskip = (pl < kw) ? pl : kw - 8'd1;
  // Narrow rows (span <= RbufCols / 2) pack two rows per bank, row s in half s[SL] of bank
  // s mod RbufSlots, so that the reader may run 2 * RbufSlots - kh rows ahead (the memory
  // latency of narrow layers); the in-flight step counters (Steps) bound it to 2 slots.
  localparam bit PackOk = 2 * RbufSlots <= Steps;
  logic fpack;
  assign fpack = PackOk && fast && fspan <= 20'(RbufCols / 2);
  logic [7:0] base_region;
  logic [31:0] base_off;
  always_comb begin
    case (dv_i_q)
      4'd0: begin base_region = db(d_q, f8npu_pkg::DSrc + f8npu_pkg::TRegion);
                  base_off = dw32(d_q, f8npu_pkg::DSrc + f8npu_pkg::TOffset); end
      4'd1: begin base_region = db(d_q, f8npu_pkg::DAux + f8npu_pkg::TRegion);
                  base_off = dw32(d_q, f8npu_pkg::DAux + f8npu_pkg::TOffset); end
      4'd2: begin base_region = db(d_q, f8npu_pkg::DDst0 + f8npu_pkg::TRegion);
                  base_off = dw32(d_q, f8npu_pkg::DDst0 + f8npu_pkg::TOffset); end
      4'd3: begin base_region = db(d_q, f8npu_pkg::DDst1 + f8npu_pkg::TRegion);
                  base_off = dw32(d_q, f8npu_pkg::DDst1 + f8npu_pkg::TOffset); end
      4'd4: begin base_region = db(d_q, f8npu_pkg::DWeights + f8npu_pkg::BRegion);
                  base_off = dw32(d_q, f8npu_pkg::DWeights + f8npu_pkg::BOffset); end
      default: begin base_region = db(d_q, f8npu_pkg::DBias + f8npu_pkg::BRegion);
                  base_off = dw32(d_q, f8npu_pkg::DBias + f8npu_pkg::BOffset); end
    endcase
  end
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      for (int i = 0; i < 6; i++) base_q[i] <= '0;
    end else if (su_q == SDiv && dv_i_q < 4'd6) begin
      base_q[dv_i_q[2:0]] <= region_base_i[base_region[3:0]*64 +: 64] + 64'(base_off);
    end
  end

  // Tap packing: colb_q[m] = m * Cin (m <= Rows), P = the largest m with m * Cin <= Rows,
  // registered from the descriptor (stable long before SRun).
  logic [8:0] colb_q [Rows+1];
  logic [7:0] pk_p_q, pk_pcin_q;
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      pk_p_q <= '0; pk_pcin_q <= '0;
      for (int m = 0; m <= Rows; m++) colb_q[m] <= '0;
    end else begin
      logic [23:0] acc;
      logic [7:0] p, pc;
      acc = '0; p = '0; pc = '0;
      for (int m = 0; m <= Rows; m++) begin
        colb_q[m] <= acc[8:0];
        if (m > 0 && acc <= 24'(Rows)) begin
          p = 8'(m);
          pc = acc[7:0];
        end
        acc = acc + 24'(src_c);
      end
      pk_p_q <= p;
      pk_pcin_q <= pc;
    end
  end
  // ceil(kw / P) from the registered P, the first j <= Steps with j * P >= kw (else Steps + 1).
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) pk_np_q <= '0;
    else begin
      logic [15:0] acc;
      logic [7:0] np;
      acc = '0;
      np = 8'(Steps + 1);
      for (int j = 1; j <= Steps; j++) begin
        acc = acc + 16'(pk_p_q);   // j * P, an adder chain (no multiplier)
        if (acc >= 16'(kw) && np == 8'(Steps + 1)) np = 8'(j);
      end
      pk_np_q <= np;
    end
  end
  assign pack = PackEn && mode == 2'd0 && pk_p_q >= 8'd2 && kw >= 8'd2 &&
                t_sw[0*64 +: 64] == 64'(src_c) && esz(t_type[0*8 +: 8]) == 3'd1;
  // A pass's segment from column ix, taps kx0 ..: nk = min(P, kw - kx0) columns, of which
  // lo .. hi - 1 lie inside the input row (byte offsets colb_q[lo], colb_q[hi]).
  function automatic logic [2*(RL+1)-1:0] pk_clip(input logic signed [19:0] ix,
                                                 input logic [7:0] kx0, input logic [7:0] p,
                                                 input logic [7:0] kwi, input logic [15:0] wi);
    logic [7:0] nk;
    logic signed [19:0] rem, neg;
    logic [RL:0] lo, hi;
    nk = (kwi - kx0 < p) ? kwi - kx0 : p;
    neg = 20'sd0 - ix;
    rem = $signed({4'd0, wi}) - ix;
    lo = (ix >= 0) ? '0 : (neg < $signed(20'(nk))) ? neg[RL:0] : nk[RL:0];
    hi = (rem <= 0) ? '0 : (rem < $signed(20'(nk))) ? rem[RL:0] : nk[RL:0];
    pk_clip = {hi, lo};
  endfunction

  // ---------------------------------------------------------------- walkers
  logic [3*64-1:0] o_base, o_sn, o_sh, o_sw, o_tw_sw;
  assign o_base = {t_base[3*64 +: 64], t_base[2*64 +: 64], t_base[1*64 +: 64]};
  assign o_sn = {t_sn[3*64 +: 64], t_sn[2*64 +: 64], t_sn[1*64 +: 64]};
  assign o_sh = {t_sh[3*64 +: 64], t_sh[2*64 +: 64], t_sh[1*64 +: 64]};
  assign o_sw = {t_sw[3*64 +: 64], t_sw[2*64 +: 64], t_sw[1*64 +: 64]};
  assign o_tw_sw = {prod_q[8], prod_q[7], prod_q[6]};

  logic has_bias, has_aux, has_dst1, relu, src_signed, has_wgt;
  assign has_bias = flags[f8npu_pkg::FlagBias];
  assign has_aux = flags[f8npu_pkg::FlagAux];
  assign has_dst1 = flags[f8npu_pkg::FlagDst1];
  assign relu = flags[f8npu_pkg::FlagRelu];
  assign src_signed = t_type[0*8 +: 8] == f8npu_pkg::TypeS8;
  assign has_wgt = mode != 2'd2;

  logic [15:0] cout;
  assign cout = (mode == 2'd0) ? dst_c : src_c;

  // Three copies of the descriptor's walk (f8npu_walk_x): the aux reader (WAux: BIAS and EPI
  // items, issuing their reads ahead), the executor (WExec: IN items) and the epilogue's walker
  // (WEpi: BIAS and EPI items a tile behind the executor, docs/rtl.md "Epilogue overlap").
  localparam int unsigned WAux = 0, WExec = 1, WEpi = 2;
  localparam logic [1:0] RoleIn = 2'd1, RoleEpi = 2'd2;
  logic [2:0] wx_step, wx_busy, wx_read, wx_present, wx_first, wx_step_last, wx_pass_last;
  logic [2:0] wx_group_last, wx_tile_last, wx_grp_more, wx_epi_last, wx_fire, wx_row_last;
  logic [2:0] wx_col0;
  logic [2:0] wx_kind [3];
  logic [63:0] wx_addr [3], wx_d0 [3], wx_d1 [3];
  logic [6:0] wx_len [3];
  logic [16:0] wx_pass [3];
  logic [19:0] wx_rb [3];
  logic [15:0] wx_x [3];
  logic [7:0] wx_lanes [3], wx_kx [3];
  logic signed [19:0] wx_iy0 [3], wx_ix [3];
  genvar gw;
  for (gw = 0; gw < 3; gw++) begin : g_walk
    f8npu_walk_x #(.Rows(Rows), .Cols(Cols)) u_walk (
      .clk_i, .rst_ni, .clear_i, .start_i(nest_start), .step_i(wx_step[gw]),
      .mode_i(mode), .role_i(gw == WExec ? RoleIn : RoleEpi), .gi_i(gi), .fast_i(fast),
      .pack_i(pack), .pp_i(pk_p_q), .span_i(fspan), .skip_i(fskip), .bias_i(has_bias),
      .aux_i(has_aux), .cout_i(cout), .cin_i(src_c),
      .n_i(src_n), .h_i(src_h), .w_i(src_w), .ho_i(ho_q), .wo_i(wo_q), .kh_i(kh), .kw_i(kw),
      .sth_i(sth), .stw_i(stw), .pt_i(pt), .pl_i(pl), .tw_max_i(tw_q),
      .tw_stw_i(prod_q[4][19:0]), .esz_aux_i(esz(t_type[1*8 +: 8])),
      .esz_d0_i(esz(t_type[2*8 +: 8])), .esz_d1_i(esz(t_type[3*8 +: 8])), .bias_base_i(b_base),
      .o_base_i(o_base), .o_sn_i(o_sn), .o_sh_i(o_sh), .o_sw_i(o_sw), .o_tw_sw_i(o_tw_sw),
      .kind_o(wx_kind[gw]), .read_o(wx_read[gw]), .rd_addr_o(wx_addr[gw]), .rd_len_o(wx_len[gw]),
      .present_o(wx_present[gw]), .first_o(wx_first[gw]), .step_last_o(wx_step_last[gw]),
      .pass_last_o(wx_pass_last[gw]), .group_last_o(wx_group_last[gw]),
      .tile_last_o(wx_tile_last[gw]), .grp_more_o(wx_grp_more[gw]), .pass_o(wx_pass[gw]),
      .rb_idx_o(wx_rb[gw]), .x_o(wx_x[gw]), .epi_last_o(wx_epi_last[gw]),
      .lanes_o(wx_lanes[gw]), .d0_addr_o(wx_d0[gw]), .d1_addr_o(wx_d1[gw]),
      .fire_o(wx_fire[gw]), .iy0_o(wx_iy0[gw]), .row_last_o(wx_row_last[gw]),
      .col0_o(wx_col0[gw]), .ix_o(wx_ix[gw]), .kx_o(wx_kx[gw]), .busy_o(wx_busy[gw])
    );
  end

  // The aux reader.
  logic a_step, a_read, a_busy;
  logic [63:0] a_addr;
  logic [6:0] a_len;
  assign a_read = wx_read[WAux];
  assign a_addr = wx_addr[WAux];
  assign a_len = wx_len[WAux];
  assign a_busy = wx_busy[WAux];
  // The executor.
  logic x_step, x_busy, x_present, x_first, x_step_last, x_pass_last, x_group_last, x_tile_last;
  logic x_grp_more, x_fire, x_row_last, x_col0;
  logic [2:0] x_kind;
  logic [16:0] x_pass;
  logic [19:0] x_rb_idx;
  logic [15:0] x_x;
  logic signed [19:0] x_iy0, x_ix;
  logic [7:0] x_kx;
  assign x_kind = wx_kind[WExec];
  assign x_busy = wx_busy[WExec];
  assign x_present = wx_present[WExec];
  assign x_first = wx_first[WExec];
  assign x_step_last = wx_step_last[WExec];
  assign x_pass_last = wx_pass_last[WExec];
  assign x_group_last = wx_group_last[WExec];
  assign x_tile_last = wx_tile_last[WExec];
  assign x_grp_more = wx_grp_more[WExec];
  assign x_fire = wx_fire[WExec];
  assign x_row_last = wx_row_last[WExec];
  assign x_col0 = wx_col0[WExec];
  assign x_pass = wx_pass[WExec];
  assign x_rb_idx = wx_rb[WExec];
  assign x_x = wx_x[WExec];
  assign x_iy0 = wx_iy0[WExec];
  assign x_ix = wx_ix[WExec];
  assign x_kx = wx_kx[WExec];
  // The epilogue's walker.
  logic e_step, e_busy, e_epi_last;
  logic [2:0] e_kind;
  logic [15:0] e_x;
  logic [7:0] e_lanes;
  logic [63:0] e_d0, e_d1;
  assign e_kind = wx_kind[WEpi];
  assign e_busy = wx_busy[WEpi];
  assign e_epi_last = wx_epi_last[WEpi];
  assign e_x = wx_x[WEpi];
  assign e_lanes = wx_lanes[WEpi];
  assign e_d0 = wx_d0[WEpi];
  assign e_d1 = wx_d1[WEpi];
  assign wx_step = {e_step, x_step, a_step};

  // Row reader (r_w_*: as the walker has them; pack: clipped here).
  logic r_step, r_read, r_busy, r_w_read;
  logic [63:0] r_addr, r_w_addr;
  logic [6:0] r_len, r_w_len;
  logic signed [19:0] r_ix;
  logic [7:0] r_kx;
  logic [RL:0] r_lo, r_hi;
  logic [19:0] r_idx;
  logic [15:0] r_steps;
  logic r_step_last;
  logic [19:0] r_step_cols;
  f8npu_walk_r #(.Rows(Rows), .Cols(Cols)) u_walk_row (
    .clk_i, .rst_ni, .clear_i, .start_i(nest_start), .step_i(r_step),
    .mode_i(mode), .fast_i(fast), .pack_i(pack), .pp_i(pk_p_q), .pcin_i(pk_pcin_q),
    .cout_i(gi ? 16'(Cols) : cout), .cin_i(src_c), .n_i(src_n), .h_i(src_h),
    .w_i(src_w),
    .ho_i(ho_q), .wo_i(wo_q), .kh_i(kh), .kw_i(kw), .sth_i(sth), .stw_i(stw), .pt_i(pt),
    .pl_i(pl), .tw_max_i(tw_q), .tw_stw_i(prod_q[4][19:0]), .esz_src_i(esz(t_type[0*8 +: 8])),
    .src_base_i(t_base[0*64 +: 64]), .src_sn_i(t_sn[0*64 +: 64]), .src_sh_i(t_sh[0*64 +: 64]),
    .src_sw_i(t_sw[0*64 +: 64]),
    .sth_sh_i(prod_q[0]), .stw_sw_i(prod_q[1]), .pt_sh_i(prod_q[2]), .pl_sw_i(prod_q[3]),
    .tw_stw_sw_i(prod_q[5]),
    .read_o(r_w_read), .rd_addr_o(r_w_addr), .rd_len_o(r_w_len), .rb_idx_o(r_idx),
    .step_o(r_steps), .step_last_o(r_step_last), .step_cols_o(r_step_cols),
    .ix_o(r_ix), .kx_o(r_kx), .busy_o(r_busy)
  );
  // Pack: read only the segment's columns inside the row (none: no read), so that no
  // request leaves the src footprint; the executor puts the bytes back in place.
  assign {r_hi, r_lo} = pk_clip(r_ix, r_kx, pk_p_q, kw, src_w);
  assign r_read = r_w_read && (!pack || r_hi > r_lo);
  assign r_addr = r_w_addr + (pack ? 64'(colb_q[r_lo]) : 64'd0);
  assign r_len = pack ? 7'(colb_q[r_hi] - colb_q[r_lo]) : r_w_len;

  // Weight reader.
  logic w_step, w_busy, w_half, w_last_lane;
  logic [63:0] w_addr;
  logic [6:0] w_len;
  logic [16:0] w_slot;
  logic [7:0] w_lane;
  logic [15:0] w_sets;
  f8npu_walk_w #(.Rows(Rows), .Cols(Cols)) u_walk_wgt (
    .clk_i, .rst_ni, .clear_i, .start_i(nest_start && has_wgt), .step_i(w_step),
    .mode_i(mode), .fast_i(fast), .pack_i(pack), .pp_i(pk_p_q), .pcin_i(pk_pcin_q),
    .taps_i(prod_q[9][6:0]), .resident_i(resident),
    .two_sets_i(two_sets && !gi), .gi_i(gi), .set_blocks_i(set_blocks),
    .cout_i(cout), .cin_i(src_c), .n_i(src_n), .ho_i(ho_q), .wo_i(wo_q), .kh_i(kh),
    .kw_i(kw), .k_i(k_q), .ky_step_i(prod_q[11][23:0]), .tw_max_i(tw_q), .w_base_i(w_base),
    .rd_addr_o(w_addr), .rd_len_o(w_len), .slot_o(w_slot), .lane_o(w_lane),
    .last_lane_o(w_last_lane),
    .set_o(w_sets), .half_o(w_half), .busy_o(w_busy)
  );

  // ---------------------------------------------------------------- read port
  logic [15:0] x_steps_q, x_sets_q;     // row steps / weight sets the executor finished
  logic x_set_done;                     // the executor finishes a weight set this cycle
  logic x_half_w;                       // weight buffer half of the executor's set
  logic [31:0] r_out_q [Steps];
  logic [31:0] r_base_q, x_base_q;      // ring position of the reader's / executor's step
  // Group-inner: the ring position and step count of the executor's tile (its steps stay
  // until the tile's last channel group is done with them), and the group's weight slots.
  logic [31:0] x_tbase_q;
  logic [15:0] x_tsteps_q, r_ahead_t;
  logic [16:0] x_goff_q;                // first slot of the group's set: the blocks of the
                                        // tile's earlier groups' sets
  logic [31:0] x_base_next;             // the ring position after the executor's step
  logic [REL-1:0] r_ring;
  logic [16:0] w_blocks_q [2];          // weight blocks landed in each half (current set)
  logic [TL:0] tags_q;                  // reads in flight
  logic [7:0] aux_cred_q;               // aux reads issued and not yet popped
  logic tag_ok, a_want, r_want, w_want, r_sync, w_sync;
  logic a_grant, r_grant, w_grant, rd_fire;
  logic [15:0] r_ahead, w_ahead;

  assign r_ahead = r_steps - x_steps_q;
  assign r_ahead_t = r_steps - (gi ? x_tsteps_q : x_steps_q);
  assign w_ahead = w_sets - x_sets_q;
  // Fast: the reader's row s may overwrite slot s mod RbufSlots once the executor's
  // current output row starts at xf_q > s - RbufSlots (its kh rows stay put).
  logic [15:0] f_ahead;
  logic f_pend;
  logic [15:0] xf_q;                    // fast: first row step of the executor's output row
  assign f_ahead = r_steps - xf_q;
  assign r_sync = fast ? $signed(f_ahead) < $signed(fpack ? 16'(2 * RbufSlots) : 16'(RbufSlots)) :
                  r_ahead_t < 16'(Steps) &&
                  r_base_q - (gi ? x_tbase_q : x_base_q) <= 32'(RE - RbufCols);
  assign w_sync = gi || w_ahead < (two_sets ? 16'd2 : 16'd1);
  assign tag_ok = tags_q < (TL+1)'(TagDepth);
  assign a_want = su_q == SRun && a_busy && a_read && aux_cred_q < 8'(AuxDepth);
  assign r_want = su_q == SRun && r_busy && r_read && r_sync;
  assign w_want = su_q == SRun && w_busy && w_sync;
  assign a_grant = a_want && tag_ok;
  assign r_grant = r_want && tag_ok && !a_want;
  assign w_grant = w_want && tag_ok && !a_want && !r_want;
  assign mrd_valid_o = a_grant || r_grant || w_grant;
  assign mrd_addr_o = a_grant ? a_addr : r_grant ? r_addr : w_addr;
  assign mrd_len_o = a_grant ? a_len : r_grant ? r_len : w_len;
  assign rd_fire = mrd_valid_o && mrd_ready_i;
  assign a_step = su_q == SRun && a_busy && (a_read ? (a_grant && mrd_ready_i) : 1'b1);
  assign r_step = su_q == SRun && r_busy && r_sync && (r_read ? (r_grant && mrd_ready_i) : 1'b1);
  assign w_step = w_grant && mrd_ready_i;

  // Tags: destination, buffer slot (row buffer slot or weight half), index (row buffer
  // column or weight slot), lane.
  localparam int unsigned TagW = 2 + RSL + 17 + 8 + 1;
  logic [TagW-1:0] tag_in, tag_head;
  logic tag_valid;
  always_comb begin
    if (a_grant) tag_in = {DestAux, RSL'(0), 17'd0, 8'd0, 1'b0};
    else if (r_grant) tag_in = {DestRow, r_steps[RSL-1:0], 17'(r_ring_tag), 8'd0, 1'b0};
    else tag_in = {DestWgt, RSL'(w_half), w_slot, w_lane, w_last_lane};
  end

  logic [REL-1:0] r_ring_tag;
  assign r_ring_tag = !fast ? r_ring : fpack ? {r_steps[SL-1:0], r_steps[SL], r_idx[CBL-2:0]} :
                      {r_steps[SL-1:0], r_idx[CBL-1:0]};
  logic rsp_pop;
  logic [TL:0] tag_count;
  logic [$clog2(AuxDepth):0] aux_count;
  assign rsp_pop = mrs_valid_i;
  f8npu_fifo #(.Width(TagW), .Depth(TagDepth)) u_tags (
    .clk_i, .rst_ni, .clear_i, .push_i(rd_fire), .data_i(tag_in), .pop_i(rsp_pop),
    .head_o(tag_head), .valid_o(tag_valid), .count_o(tag_count)
  );

  logic [1:0] rsp_dest;
  logic [RSL-1:0] rsp_half;
  logic [16:0] rsp_idx;
  logic [7:0] rsp_lane;
  logic rsp_wlast;
  assign {rsp_dest, rsp_half, rsp_idx, rsp_lane, rsp_wlast} = tag_head;

  // Aux / bias FIFO.
  logic aux_pop, aux_valid;
  logic [512:0] aux_head;
  f8npu_fifo #(.Width(513), .Depth(AuxDepth)) u_aux (
    .clk_i, .rst_ni, .clear_i, .push_i(mrs_valid_i && rsp_dest == DestAux),
    .data_i({mrs_err_i, mrs_data_i}), .pop_i(aux_pop), .head_o(aux_head),
    .valid_o(aux_valid), .count_o(aux_count)
  );

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      tags_q <= '0; aux_cred_q <= '0; w_blocks_q[0] <= '0; w_blocks_q[1] <= '0;
      for (int h = 0; h < Steps; h++) r_out_q[h] <= '0;
    end else if (clear_i || nest_start) begin
      tags_q <= '0; aux_cred_q <= '0; w_blocks_q[0] <= '0; w_blocks_q[1] <= '0;
      for (int h = 0; h < Steps; h++) r_out_q[h] <= '0;
    end else begin
      tags_q <= tags_q + (TL+1)'(rd_fire) - (TL+1)'(rsp_pop);
      aux_cred_q <= aux_cred_q + 8'(rd_fire && a_grant) - 8'(aux_pop);
      for (int h = 0; h < Steps; h++) begin
        r_out_q[h] <= r_out_q[h] + 32'(rd_fire && r_grant && r_steps[RSL-1:0] == RSL'(h))
                                 - 32'(mrs_valid_i && rsp_dest == DestRow && rsp_half == RSL'(h));
      end
      // A half's block count restarts when the executor is done with its set; its next set
      // is only issued after that (w_sync), so no response of it can be lost.
      for (int h = 0; h < 2; h++) begin
        if (x_set_done && x_half_w == h[0]) w_blocks_q[h] <= '0;
        else if (mrs_valid_i && rsp_dest == DestWgt && rsp_wlast && rsp_half == RSL'(h))
          w_blocks_q[h] <= w_blocks_q[h] + 17'd1;
      end
    end
  end

  // Ring positions: the reader's step starts where its previous one ended; the executor
  // frees a step's entries when it has used them (its last item's column + 1: the same span).
  assign r_ring = REL'(r_base_q + 32'(r_idx));
  assign x_base_next = x_base_q + 32'(x_rb_idx) + 32'd1;
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      r_base_q <= '0;
      x_base_q <= '0;
      x_tbase_q <= '0;
    end else if (clear_i || nest_start) begin
      r_base_q <= '0;
      x_base_q <= '0;
      x_tbase_q <= '0;
    end else begin
      if (r_step && r_step_last) r_base_q <= r_base_q + 32'(r_step_cols);
      if (can_step && x_step_last) x_base_q <= x_base_next;
      // Group-inner: the tile's next group uses its steps again; after its last, the next tile.
      if (can_step && x_tile_last && x_grp_more) x_base_q <= x_tbase_q;
      if (can_step && x_tile_last && !x_grp_more) x_tbase_q <= x_base_next;
    end
  end

  // ---------------------------------------------------------------- buffers
  // Row buffer: a ring of RbufSlots * RbufCols input vectors (up to Steps row steps in
  // flight, so the row reader runs ahead of the executor by the memory latency), stored
  // as RbufSlots banks of RbufCols vectors (ring entry a: bank a / RbufCols, word
  // a mod RbufCols). Every bank is read at the same word each cycle: the executor uses
  // one bank (selected a cycle later), or, fast depthwise, the kh banks of its window's
  // input rows at the same column.
  logic [RbufSlots*512-1:0] rbank_q;
  logic [511:0] rbuf_q;
  logic [REL-1:0] rbuf_raddr;
  logic [RbufSlots*CBL-1:0] rbuf_word;
  logic [SL-1:0] rbuf_sel_q;
  // Fast: bank b holds the window's row xf_q + ((b - xf_q) mod RbufSlots), packed: in half
  // bit SL of that step.
  always_comb begin
    for (int b = 0; b < RbufSlots; b++) begin
      logic [15:0] sb;
      logic [SL-1:0] rel;
      rel = SL'(b) - xf_q[SL-1:0];
      sb = xf_q + {{(16-SL){1'b0}}, rel};
      rbuf_word[b*CBL +: CBL] = !fast ? rbuf_raddr[CBL-1:0] :
                                fpack ? {sb[SL], x_rb_idx[CBL-2:0]} : x_rb_idx[CBL-1:0];
    end
  end
  genvar gb;
  for (gb = 0; gb < RbufSlots; gb++) begin : g_rbuf
    logic [511:0] mem [RbufCols];
    always_ff @(posedge clk_i) begin
      if (mrs_valid_i && rsp_dest == DestRow && rsp_idx[REL-1:CBL] == SL'(gb))
        mem[rsp_idx[CBL-1:0]] <= mrs_data_i;
      rbank_q[gb*512 +: 512] <= mem[rbuf_word[gb*CBL +: CBL]];
    end
  end
  always_ff @(posedge clk_i) rbuf_sel_q <= rbuf_raddr[REL-1:CBL];
  assign rbuf_q = rbank_q[rbuf_sel_q*512 +: 512];

  // Weight buffer: one memory per output lane, one lane row (Rows bytes) of a block
  // per word, written by the router, read a whole block at a time by the executor.
  logic [BW-1:0] wbuf_q;
  logic [WL-1:0] wbuf_raddr;
  genvar gl;
  for (gl = 0; gl < Cols; gl++) begin : g_wbuf
    logic [Rows*8-1:0] mem [WbufBlocks];
    always_ff @(posedge clk_i) begin
      if (mrs_valid_i && rsp_dest == DestWgt && rsp_lane == 8'(gl))
        mem[rsp_idx[WL-1:0]] <= mrs_data_i[Rows*8-1:0];
      wbuf_q[gl*Rows*8 +: Rows*8] <= mem[wbuf_raddr];
    end
  end

  // Accumulator buffer: two banks of one word per output pixel of a tile, tile t in bank
  // t mod 2, so that the epilogue walker reads tile t while the executor accumulates tile
  // t + 1 (docs/rtl.md "Epilogue overlap"). A bank is written by MAC stage B (below), in the
  // same clocked block as the accumulation, and read by one side at a time.
  logic [AW-1:0] abuf0 [AbufWords], abuf1 [AbufWords];
  logic [AW-1:0] abuf0_q, abuf1_q, abuf_b, abuf_e;
  logic [AL-1:0] abuf0_raddr, abuf1_raddr;
  logic [15:0] xt_q, et_q;               // tiles the executor issued / the epilogue finished
  logic b_bank_q, e_bank_q, fwd_bank_q;

  // ---------------------------------------------------------------- executor
  logic b_valid_q, b_first_q, b_present_q, b_col_q, b_c0_q;
  logic [KhMax-1:0] b_rowp_q;            // fast: the window's kernel row ky is inside the input
  logic [SL-1:0] b_fb_q;                 // fast: slot of the window's kernel row 0
  logic [AL-1:0] b_x_q;
  logic fwd_valid_q;
  logic [AL-1:0] fwd_x_q;
  logic [AW-1:0] fwd_q;
  logic e_valid_q;
  logic [511:0] e_aux_q;
  logic [63:0] e_d0_q, e_d1_q;
  logic [6:0] e_len0_q, e_len1_q;
  // Epilogue stage F (DST1 only): the item's second cycle, out1 through the lane's shared
  // requantizer. Stage P: the epilogue's registered result, pushed into the write queue.
  logic f_valid_q;
  logic [63:0] f_d0_q, f_d1_q;
  logic [6:0] f_len0_q, f_len1_q;
  logic p_valid_q;
  logic [63:0] p_d0_q, p_d1_q;
  logic [6:0] p_len0_q, p_len1_q;
  logic [Cols*32-1:0] bias_q;

  localparam int unsigned QD = 4;
  logic [63:0] q_a0 [QD], q_a1 [QD];
  logic [6:0] q_l0 [QD], q_l1 [QD];
  logic [511:0] q_d0 [QD], q_d1 [QD];
  logic q_two [QD];
  logic [1:0] q_wr, q_rd;
  logic [2:0] q_cnt;
  logic q_half_q;
  logic q_push, q_pop;

  logic [16:0] x_slot;
  logic rows_ready, wgts_ready, in_ok, epi_ok, bias_ok, can_step, e_can;
  assign x_half_w = two_sets && x_sets_q[0];
  assign x_slot = gi ? x_goff_q + x_pass :
                  (x_half_w ? set_blocks : 17'd0) + (resident ? x_pass : 17'd0);
  // Fast: the kh row steps xf_q .. xf_q + kh - 1 visited and landed.
  always_comb begin
    f_pend = 1'b0;
    for (int h = 0; h < Steps; h++) begin
      logic [RSL-1:0] rel;
      rel = RSL'(h) - xf_q[RSL-1:0];
      if (r_out_q[h] != '0 && 8'(rel) < kh) f_pend = 1'b1;
    end
  end
  assign rows_ready = fast ? !f_ahead[15] && f_ahead >= 16'(kh) && !f_pend :
                      r_ahead != 16'd0 && r_out_q[x_steps_q[RSL-1:0]] == '0;
  // Pass p of a resident set may start once blocks 0 .. p have landed (the first group's
  // weights need not all be there); a streamed set is its one block.
  // Group-inner: every set stays, and half 0 counts the blocks of all of them (in set order).
  assign wgts_ready = !has_wgt || w_blocks_q[x_half_w] > (gi ? x_goff_q + x_pass :
                                                         resident ? x_pass : 17'd0);
  // The executor starts a tile once the epilogue is done with the tile two before (its bank).
  assign in_ok = rows_ready && wgts_ready && xt_q - et_q < 16'd2;
  // An EPI item needs its tile's IN items issued and its pixel's last accumulator write
  // landed (an IN item in stage B writing the word it reads would be missed), room in the
  // write queue for itself and the ones in the epilogue's stages, and its aux vector. With
  // DST1 an EPI item takes the epilogue for two cycles (E, then F), so EPI items are at
  // least two cycles apart.
  assign epi_ok = xt_q != et_q && !(b_valid_q && b_bank_q == et_q[0] && b_x_q == AL'(e_x)) &&
                  !(has_dst1 && e_valid_q) &&
                  (32'(q_cnt) + (e_valid_q ? 32'd1 : 32'd0) + (f_valid_q ? 32'd1 : 32'd0) +
                   (p_valid_q ? 32'd1 : 32'd0)) < QD &&
                  (!has_aux || aux_valid);
  assign bias_ok = aux_valid;
  assign can_step = x_kind == ItIn && in_ok && su_q == SRun && x_busy;
  always_comb begin
    case (e_kind)
      ItBias: e_can = bias_ok;
      ItEpi: e_can = epi_ok;
      default: e_can = 1'b0;
    endcase
    e_can = e_can && su_q == SRun && e_busy;
  end
  assign x_step = can_step;
  assign e_step = e_can;
  assign aux_pop = e_can && (e_kind == ItBias || (e_kind == ItEpi && has_aux));

  assign rbuf_raddr = REL'(x_base_q + 32'(x_rb_idx));
  assign wbuf_raddr = WL'(x_slot);
  // The epilogue reads its tile's bank while the executor has issued that tile (xt_q > et_q);
  // the executor's items read the other bank (it waits while xt_q == et_q + 2).
  logic e_reads;
  assign e_reads = xt_q != et_q;
  assign abuf0_raddr = (e_reads && !et_q[0]) ? AL'(e_x) : AL'(x_x);
  assign abuf1_raddr = (e_reads && et_q[0]) ? AL'(e_x) : AL'(x_x);
  assign abuf_b = b_bank_q ? abuf1_q : abuf0_q;
  assign abuf_e = e_bank_q ? abuf1_q : abuf0_q;
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      xt_q <= '0; et_q <= '0;
    end else if (clear_i || nest_start) begin
      xt_q <= '0; et_q <= '0;
    end else begin
      if (can_step && x_tile_last) xt_q <= xt_q + 16'd1;
      if (e_can && e_kind == ItEpi && e_epi_last) et_q <= et_q + 16'd1;
    end
  end

  assign x_set_done = can_step && has_wgt && !gi &&
                      (resident ? x_group_last : x_pass_last);

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      x_steps_q <= '0; x_sets_q <= '0; xf_q <= '0; x_tsteps_q <= '0; x_goff_q <= '0;
    end else if (clear_i || nest_start) begin
      x_steps_q <= '0; x_sets_q <= '0; xf_q <= '0; x_tsteps_q <= '0; x_goff_q <= '0;
    end else if (can_step) begin
      if (x_step_last) x_steps_q <= x_steps_q + 16'd1;
      if (x_tile_last && x_grp_more) begin
        x_steps_q <= x_tsteps_q;
        x_goff_q <= x_goff_q + x_pass + 17'd1;
      end
      if (x_tile_last && !x_grp_more) begin
        x_tsteps_q <= x_steps_q + 16'd1;
        x_goff_q <= '0;
      end
      if (x_set_done) x_sets_q <= x_sets_q + 16'd1;
      // Fast: the next output row's window starts sth rows down, the next image's (or
      // group's) kh rows down, where the reader's next image starts.
      if (x_pass_last) xf_q <= xf_q + {8'd0, x_row_last ? kh : sth};
    end
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      b_valid_q <= 1'b0; b_first_q <= 1'b0; b_present_q <= 1'b0; b_x_q <= '0;
      b_bank_q <= 1'b0; e_bank_q <= 1'b0;
      b_col_q <= 1'b0; b_c0_q <= 1'b0; b_rowp_q <= '0; b_fb_q <= '0;
      e_valid_q <= 1'b0; e_aux_q <= '0; e_d0_q <= '0; e_d1_q <= '0;
      e_len0_q <= '0; e_len1_q <= '0; bias_q <= '0;
      p_valid_q <= 1'b0; p_d0_q <= '0; p_d1_q <= '0; p_len0_q <= '0; p_len1_q <= '0;
      f_valid_q <= 1'b0; f_d0_q <= '0; f_d1_q <= '0; f_len0_q <= '0; f_len1_q <= '0;
    end else if (clear_i) begin
      b_valid_q <= 1'b0;
      b_col_q <= 1'b0;
      e_valid_q <= 1'b0;
      f_valid_q <= 1'b0;
      p_valid_q <= 1'b0;
    end else begin
      f_valid_q <= e_valid_q && has_dst1;
      f_d0_q <= e_d0_q;
      f_d1_q <= e_d1_q;
      f_len0_q <= e_len0_q;
      f_len1_q <= e_len1_q;
      p_valid_q <= has_dst1 ? f_valid_q : e_valid_q;
      p_d0_q <= has_dst1 ? f_d0_q : e_d0_q;
      p_d1_q <= has_dst1 ? f_d1_q : e_d1_q;
      p_len0_q <= has_dst1 ? f_len0_q : e_len0_q;
      p_len1_q <= has_dst1 ? f_len1_q : e_len1_q;
      b_valid_q <= can_step && x_fire;
      b_bank_q <= xt_q[0];
      e_bank_q <= et_q[0];
      b_col_q <= can_step && fast;
      b_fb_q <= xf_q[SL-1:0];
      b_c0_q <= x_col0;
      for (int i = 0; i < KhMax; i++) begin
        logic signed [19:0] iy;
        iy = x_iy0 + 20'(i);
        b_rowp_q[i] <= 8'(i) < kh && iy >= 0 && iy < $signed({4'd0, src_h});
      end
      b_first_q <= x_first;
      b_present_q <= x_present && (!pack || x_hi > x_lo);
      b_x_q <= AL'(x_x);
      e_valid_q <= e_can && e_kind == ItEpi;
      if (e_can && e_kind == ItEpi) e_aux_q <= aux_head[511:0];
      e_d0_q <= e_d0;
      e_d1_q <= e_d1;
      e_len0_q <= (t_type[2*8 +: 8] == f8npu_pkg::TypeS32) ? 7'({e_lanes, 2'b00}) : 7'(e_lanes);
      e_len1_q <= (t_type[3*8 +: 8] == f8npu_pkg::TypeS32) ? 7'({e_lanes, 2'b00}) : 7'(e_lanes);
      if (e_can && e_kind == ItBias) begin
        for (int i = 0; i < Cols; i++) bias_q[i*32 +: 32] <= (i < 32'(e_lanes)) ?
                                                              aux_head[i*32 +: 32] : 32'd0;
      end
      if (nest_start && !has_bias) bias_q <= '0;
    end
  end

  // ---- MAC stage B: multiply or pool, accumulate.
  logic [511:0] b_vec;
  assign b_vec = b_present_q ? rbuf_q : 512'd0;
  // Pack: the segment's bytes colb[lo] .. colb[hi] - 1 came from its read (at byte 0).
  logic [RL:0] x_lo, x_hi;
  logic [8:0] b_lo_q, b_hi_q;
  logic [Rows*8-1:0] pk_sh, pk_vec, a_vec;
  assign {x_hi, x_lo} = pk_clip(x_ix, x_kx, pk_p_q, kw, src_w);
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      b_lo_q <= '0; b_hi_q <= '0;
    end else begin
      b_lo_q <= colb_q[x_lo];
      b_hi_q <= colb_q[x_hi];
    end
  end
  assign pk_sh = b_vec[Rows*8-1:0] << {b_lo_q, 3'b000};
  always_comb begin
    for (int i = 0; i < Rows; i++)
      pk_vec[i*8 +: 8] = (9'(i) >= b_lo_q && 9'(i) < b_hi_q) ? pk_sh[i*8 +: 8] : 8'd0;
  end
  assign a_vec = pack ? pk_vec : b_vec[Rows*8-1:0];
  // Fast depthwise window: ncol = the column entering from each kernel row's slot (zero
  // outside the input), sr0 / sr1 = the one / two columns before it.
  logic [KhMax*CB-1:0] ncol, sr0_q, sr1_q, sr0, sr1;
  // The row's first item: the columns before it are (skipped) padding.
  assign sr0 = b_c0_q ? '0 : sr0_q;
  assign sr1 = b_c0_q ? '0 : sr1_q;
  always_comb begin
    for (int i = 0; i < KhMax; i++) begin
      logic [SL-1:0] b;
      b = b_fb_q + SL'(i);
      ncol[i*CB +: CB] = (b_present_q && b_rowp_q[i]) ? rbank_q[b*512 +: CB] : '0;
    end
  end
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      sr0_q <= '0; sr1_q <= '0;
    end else if (b_col_q) begin
      sr0_q <= ncol;
      sr1_q <= sr0;
    end
  end
  // Array row r = ky*kw + kx takes window column (ky, kx): kx = kw-1 is ncol, kx = kw-2
  // sr0, kx = kw-3 sr1. One layout per kw, chosen per row (a 3:1 multiplexer).
  logic [Rows*CB-1:0] tap1, tap2, tap3, taps, a_dw;
  genvar gy, gx, gr;
  for (gr = 0; gr < Rows; gr++) begin : g_tap_zero
    if (gr >= KhMax) begin : g_z1
      assign tap1[gr*CB +: CB] = '0;
    end
    if (gr >= KhMax * 2) begin : g_z2
      assign tap2[gr*CB +: CB] = '0;
    end
    if (gr >= KhMax * 3) begin : g_z3
      assign tap3[gr*CB +: CB] = '0;
    end
  end
  for (gy = 0; gy < KhMax; gy++) begin : g_tap_y
    assign tap1[gy*CB +: CB] = ncol[gy*CB +: CB];
    for (gx = 0; gx < 2; gx++) begin : g_tap2
      if (gy * 2 + gx < Rows) begin : g_in
        assign tap2[(gy*2 + gx)*CB +: CB] = (gx == 1) ? ncol[gy*CB +: CB] : sr0[gy*CB +: CB];
      end
    end
    for (gx = 0; gx < 3; gx++) begin : g_tap3
      if (gy * 3 + gx < Rows) begin : g_in
        assign tap3[(gy*3 + gx)*CB +: CB] = (gx == 2) ? ncol[gy*CB +: CB] :
                                            (gx == 1) ? sr0[gy*CB +: CB] : sr1[gy*CB +: CB];
      end
    end
  end
  assign taps = (kw == 8'd1) ? tap1 : (kw == 8'd2) ? tap2 : tap3;
  // Slow depthwise: one tap of Cols channels on row 0.
  assign a_dw = fast ? taps : (Rows*CB)'(b_vec[CB-1:0]);

  logic [Cols*32-1:0] psum;
  f8npu_mac_array #(.Rows(Rows), .Cols(Cols)) u_array (
    .a_i(a_vec), .a_dw_i(a_dw), .a_signed_i(src_signed),
    .depthwise_i(mode == 2'd1), .en_i(b_valid_q), .w_i(wbuf_q), .psum_o(psum)
  );

  logic is_max;
  assign is_max = op == f8npu_pkg::OpPoolMax;

  // The accumulation is computed inside the clocked block, under b_valid_q: the same hardware
  // as an always_comb feeding the write port (the accumulator buffer's write data and the
  // forwarding register), but Verilator evaluates it only in the cycles an IN item is in the
  // stage instead of after every clock edge. fwd_q needs no reset: it is only used while
  // fwd_valid_q.
  always_ff @(posedge clk_i) begin
    if (b_valid_q) begin
      logic signed [47:0] v, o;
      logic had;
      logic [AW-1:0] acc_old, acc_new;
      acc_old = (fwd_valid_q && fwd_x_q == b_x_q && fwd_bank_q == b_bank_q) ? fwd_q : abuf_b;
      had = !b_first_q && acc_old[AW-1];
      acc_new = '0;
      acc_new[AW-1] = b_present_q || had;
      for (int i = 0; i < Cols; i++) begin
        if (mode != 2'd2) v = 48'($signed(psum[i*32 +: 32]));
        else if (t_type[0*8 +: 8] == f8npu_pkg::TypeU8) v = {40'd0, b_vec[i*8 +: 8]};
        else if (t_type[0*8 +: 8] == f8npu_pkg::TypeS8) v = 48'($signed(b_vec[i*8 +: 8]));
        else v = 48'($signed(b_vec[i*32 +: 32]));
        o = $signed(acc_old[i*48 +: 48]);
        if (is_max) begin
          if (!b_present_q) acc_new[i*48 +: 48] = had ? o : 48'sd0;
          else acc_new[i*48 +: 48] = (had && o > v) ? o : v;
        end else begin
          acc_new[i*48 +: 48] = b_first_q ? v : o + v;
        end
      end
      if (b_bank_q) abuf1[b_x_q] <= acc_new;
      else abuf0[b_x_q] <= acc_new;
      fwd_q <= acc_new;
    end
    abuf0_q <= abuf0[abuf0_raddr];
    abuf1_q <= abuf1[abuf1_raddr];
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      fwd_valid_q <= 1'b0; fwd_x_q <= '0; fwd_bank_q <= 1'b0;
    end else begin
      fwd_valid_q <= b_valid_q && !clear_i;
      fwd_x_q <= b_x_q;
      fwd_bank_q <= b_bank_q;
    end
  end

  // ---- Epilogue stage E: the pixel's accumulators are in abuf_e; the epilogue's result is
  // registered (stage P) and pushed into the write queue from there.
  logic [Cols*48-1:0] e_acc;
  logic [511:0] e_out0, e_out1;
  logic [7:0] align_src, align_aux;
  assign align_src = db(d_q, f8npu_pkg::DAlignSrc);
  assign align_aux = db(d_q, f8npu_pkg::DAlignAux);
  assign e_acc = abuf_e[Cols*48-1:0];
  f8npu_epilogue #(.Cols(Cols)) u_epilogue (
    .clk_i, .rst_ni, .en_i(e_valid_q), .en1_i(f_valid_q), .acc_i(e_acc), .bias_i(bias_q),
    .aux_i(e_aux_q),
    .aux_en_i(has_aux),
    .aux_type_i(t_type[1*8 +: 8]), .align_src_i(align_src[4:0]), .align_aux_i(align_aux[4:0]),
    .relu_i(relu), .shift0_i(db(d_q, f8npu_pkg::DOutShift0)),
    .shift1_i(db(d_q, f8npu_pkg::DOutShift1)),
    .type0_i(t_type[2*8 +: 8]), .type1_i(t_type[3*8 +: 8]),
    .out0_o(e_out0), .out1_o(e_out1)
  );

  // ---- Write queue and write port.
  assign q_push = p_valid_q;
  assign mwr_valid_o = q_cnt != '0;
  assign mwr_addr_o = q_half_q ? q_a1[q_rd] : q_a0[q_rd];
  assign mwr_len_o = q_half_q ? q_l1[q_rd] : q_l0[q_rd];
  assign mwr_data_o = q_half_q ? q_d1[q_rd] : q_d0[q_rd];
  assign q_pop = mwr_valid_o && mwr_ready_i && (q_half_q || !q_two[q_rd]);

  always_ff @(posedge clk_i) begin
    if (q_push) begin
      q_a0[q_wr] <= p_d0_q;
      q_a1[q_wr] <= p_d1_q;
      q_l0[q_wr] <= p_len0_q;
      q_l1[q_wr] <= p_len1_q;
      q_d0[q_wr] <= e_out0;
      q_d1[q_wr] <= e_out1;
      q_two[q_wr] <= has_dst1;
    end
  end

  logic [31:0] wr_out_q;
  logic bus_err_q;
  logic wr_fire;
  assign wr_fire = mwr_valid_o && mwr_ready_i;

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      q_wr <= '0; q_rd <= '0; q_cnt <= '0; q_half_q <= 1'b0; wr_out_q <= '0; bus_err_q <= 1'b0;
    end else if (clear_i) begin
      q_wr <= '0; q_rd <= '0; q_cnt <= '0; q_half_q <= 1'b0; wr_out_q <= '0; bus_err_q <= 1'b0;
    end else begin
      if (q_push) q_wr <= q_wr + 2'd1;
      if (q_pop) q_rd <= q_rd + 2'd1;
      q_cnt <= q_cnt + 3'(q_push) - 3'(q_pop);
      if (wr_fire) q_half_q <= !q_pop;
      wr_out_q <= wr_out_q + 32'(wr_fire) - 32'(mws_valid_i);
      if (nest_start) bus_err_q <= 1'b0;
      else if ((mrs_valid_i && mrs_err_i) || (mws_valid_i && mws_err_i)) bus_err_q <= 1'b1;
    end
  end

  // Done: every item consumed, the pipelines and the write queue empty, every read
  // and write answered.
  logic exec_done;
  assign exec_done = su_q == SRun && !x_busy && !e_busy && !a_busy && !r_busy && !w_busy &&
                     !b_valid_q &&
                     !e_valid_q && !f_valid_q && !p_valid_q && q_cnt == '0 && wr_out_q == '0 &&
                     tags_q == '0 &&
                     !aux_valid;
  assign done_o = exec_done;
`ifndef SYNTHESIS
  // Invariant (simulation only): the epilogue's requantizers serve one cycle of one item.
  always_ff @(posedge clk_i) begin
    if (rst_ni) assert (!(e_valid_q && f_valid_q)) else $error("f8npu_engine: epilogue E and F");
  end
`endif
  assign bus_err_o = bus_err_q;
  assign active_o = b_valid_q;

  logic unused;
  // The walk copies' outputs their role does not use.
  assign unused = ^{wx_read[WEpi:WExec], wx_present[WEpi], wx_present[WAux], wx_first[WEpi],
                    wx_first[WAux], wx_step_last[WEpi], wx_step_last[WAux],
                    wx_pass_last[WEpi], wx_pass_last[WAux], wx_group_last[WEpi],
                    wx_group_last[WAux], wx_tile_last[WEpi], wx_tile_last[WAux],
                    wx_grp_more[WEpi], wx_grp_more[WAux], wx_epi_last[WExec:WAux],
                    wx_fire[WEpi], wx_fire[WAux], wx_row_last[WEpi], wx_row_last[WAux],
                    wx_col0[WEpi], wx_col0[WAux], wx_addr[WExec], wx_addr[WEpi], wx_len[WExec],
                    wx_len[WEpi], wx_pass[WAux], wx_pass[WEpi], wx_rb[WAux], wx_rb[WEpi],
                    wx_x[WAux], wx_lanes[WAux], wx_lanes[WExec], wx_d0[WAux], wx_d0[WExec],
                    wx_d1[WAux], wx_d1[WExec], wx_iy0[WAux], wx_iy0[WEpi], wx_ix[WAux],
                    wx_ix[WEpi], wx_kx[WAux], wx_kx[WEpi], wx_kind[WAux],
                    x_rb_idx[19:CBL], colb_q[Rows][8], e_x[15:AL],
                    align_src[7:5], align_aux[7:5],
                    base_region[7:4], tag_valid, aux_head[512], abuf_e[AW-1],
                    k_i[16], x_slot[16:WL], x_x[15:AL], rsp_idx[16:REL],
                    r_idx[19:17], tag_count, aux_count,
                    d_q, dv_rem_q, nblocks[63:17], prod_q[10][63:17], prod_q[9][63:17],
                    prod_q[11][63:24], prod_q[4][63:20], ma_q, dst_c};
endmodule
