// SPDX-License-Identifier: MIT
// f8npu_engine: executes one validated CONV2D, POOL_MAX, POOL_SUM or ADD descriptor.
//
// Decoupled access/execute: two copies of the loop nest (f8npu_nest) walk the same
// item sequence. The reader issues every read in item order, as far ahead as the
// response FIFO has room for (credits), so memory latency is hidden; the executor
// pops the responses in the same order and
//   - BIAS: keeps the group's bias lanes;
//   - WGT:  writes a weight row into the weight buffer (block = slot);
//   - IN:   sends one input vector through the MAC array (or the pooling lanes) and
//           accumulates into the accumulator buffer word of its output pixel;
//   - EPI:  reads the pixel's accumulators, applies the epilogue (arith.md A8) and
//           queues the output writes.
// ADD runs as a 1x1 sum pool (its value is the source element). Accumulators are
// 48 bits: a sum pool of up to 255*255 int32 values is exact before saturation.
//
// Parameters: Rows, Cols (array), WbufBlocks (weight buffer blocks of Rows*Cols
// bytes), AbufWords (accumulator words = widest output tile), FifoDepth (reads in
// flight).
module f8npu_engine #(
  parameter int unsigned Rows       = 16,
  parameter int unsigned Cols       = 16,
  parameter int unsigned WbufBlocks = 256,
  parameter int unsigned AbufWords  = 256,
  parameter int unsigned FifoDepth  = 128
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
  localparam logic [2:0] ItBias = 3'd1, ItWgt = 3'd2, ItIn = 3'd3, ItEpi = 3'd4;
  localparam int unsigned RL = $clog2(Rows);
  localparam int unsigned FL = $clog2(FifoDepth);
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

  // Per-tensor views: src (0), aux (1), dst0 (2), dst1 (3).
  localparam int unsigned TOff [4] = '{f8npu_pkg::DSrc, f8npu_pkg::DAux, f8npu_pkg::DDst0,
                                       f8npu_pkg::DDst1};
  logic [63:0] t_base [4];
  logic [7:0]  t_type [4];
  logic [63:0] t_sn [4], t_sh [4], t_sw [4];
  genvar gt;
  for (gt = 0; gt < 4; gt++) begin : g_tensor
    logic [7:0] region;
    assign region = db(d_q, TOff[gt] + f8npu_pkg::TRegion);
    assign t_type[gt] = db(d_q, TOff[gt] + f8npu_pkg::TType);
    assign t_base[gt] = region_base_i[region[3:0]*64 +: 64] +
                        64'(dw32(d_q, TOff[gt] + f8npu_pkg::TOffset));
    assign t_sn[gt] = 64'(dw32(d_q, TOff[gt] + f8npu_pkg::TStrideN));
    assign t_sh[gt] = 64'(dw32(d_q, TOff[gt] + f8npu_pkg::TStrideH));
    assign t_sw[gt] = 64'(dw32(d_q, TOff[gt] + f8npu_pkg::TStrideW));
    logic unused_region;
    assign unused_region = ^region[7:4];
  end
  logic [7:0] w_region, b_region;
  logic [63:0] w_base, b_base;
  assign w_region = db(d_q, f8npu_pkg::DWeights);
  assign b_region = db(d_q, f8npu_pkg::DBias);
  assign w_base = region_base_i[w_region[3:0]*64 +: 64] + 64'(dw32(d_q, f8npu_pkg::DWeights + 4));
  assign b_base = region_base_i[b_region[3:0]*64 +: 64] + 64'(dw32(d_q, f8npu_pkg::DBias + 4));

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

  // ---------------------------------------------------------------- setup: products
  // A radix-4 shift-add multiplier computes the few products the nest needs.
  localparam int unsigned NProd = 11;
  logic [3:0]  pi_q;            // product index being computed
  logic [63:0] ma_q, mp_q;
  logic [19:0] mb_q;
  logic [63:0] prod_q [NProd];
  logic [15:0] ho_q, wo_q, tw_q;
  logic [16:0] k_q;
  logic [15:0] cg_cnt;

  assign cg_cnt = 16'((src_c + 16'(Rows - 1)) >> RL);

  // Operands of product i (later products may use earlier ones).
  logic [63:0] op_a;
  logic [19:0] op_b;
  always_comb begin
    op_a = '0;
    op_b = '0;
    case (pi_q)
      4'd0: begin op_a = t_sh[0]; op_b = 20'(sth); end                 // sth_sh
      4'd1: begin op_a = t_sw[0]; op_b = 20'(stw); end                 // stw_sw
      4'd2: begin op_a = t_sh[0]; op_b = 20'(pt); end                  // pt_sh
      4'd3: begin op_a = t_sw[0]; op_b = 20'(pl); end                  // pl_sw
      4'd4: begin op_a = 64'(stw); op_b = 20'(tw_q); end               // tw_stw
      4'd5: begin op_a = t_sw[0]; op_b = prod_q[4][19:0]; end          // tw_stw_sw
      4'd6: begin op_a = t_sw[1]; op_b = 20'(tw_q); end                // tw_sw aux
      4'd7: begin op_a = t_sw[2]; op_b = 20'(tw_q); end                // tw_sw dst0
      4'd8: begin op_a = t_sw[3]; op_b = 20'(tw_q); end                // tw_sw dst1
      4'd9: begin op_a = 64'(kh); op_b = 20'(kw); end                  // kh*kw
      4'd10: begin op_a = prod_q[9]; op_b = 20'(cg_cnt); end           // blocks of a group
      default: ;
    endcase
  end

  logic [63:0] nblocks;
  logic resident;
  assign nblocks = (mode == 2'd0) ? prod_q[10] : prod_q[9];
  assign resident = nblocks <= 64'(WbufBlocks);

  // Setup sequencer: for each product, load the operands, then radix-4 steps.
  typedef enum logic [2:0] {SIdle, SLoad, SMul, SGo, SRun} setup_e;
  setup_e su_q;
  logic nest_start;
  assign nest_start = su_q == SGo;

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      d_q <= '0; pi_q <= '0; su_q <= SIdle;
      ma_q <= '0; mb_q <= '0; mp_q <= '0; ho_q <= '0; wo_q <= '0; tw_q <= '0; k_q <= '0;
      for (int i = 0; i < NProd; i++) prod_q[i] <= '0;
    end else if (clear_i) begin
      su_q <= SIdle;
    end else begin
      case (su_q)
        SIdle: if (start_i) begin
          d_q <= desc_i;
          ho_q <= out_h_i;
          wo_q <= out_w_i;
          tw_q <= (out_w_i > 16'(AbufWords)) ? 16'(AbufWords) : out_w_i;
          k_q <= k_i;
          pi_q <= '0;
          su_q <= SLoad;
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

  // ---------------------------------------------------------------- the two nests
  logic [3*64-1:0] o_base, o_sn, o_sh, o_sw, o_tw_sw;
  assign o_base = {t_base[3], t_base[2], t_base[1]};
  assign o_sn = {t_sn[3], t_sn[2], t_sn[1]};
  assign o_sh = {t_sh[3], t_sh[2], t_sh[1]};
  assign o_sw = {t_sw[3], t_sw[2], t_sw[1]};
  assign o_tw_sw = {prod_q[8], prod_q[7], prod_q[6]};

  logic has_bias, has_aux, has_dst1, relu, src_signed;
  assign has_bias = flags[f8npu_pkg::FlagBias];
  assign has_aux = flags[f8npu_pkg::FlagAux];
  assign has_dst1 = flags[f8npu_pkg::FlagDst1];
  assign relu = flags[f8npu_pkg::FlagRelu];
  assign src_signed = t_type[0] == f8npu_pkg::TypeS8;

  logic [15:0] cout;
  assign cout = (mode == 2'd0) ? dst_c : src_c;

  // Reader outputs it does not need.
  logic r_nc_present, r_nc_first, r_nc_last;
  logic [15:0] r_nc_x;
  logic [7:0] r_nc_lane, r_nc_lanes;
  logic [16:0] r_nc_slot;
  logic [63:0] r_nc_d0, r_nc_d1;
  logic r_step, c_step;
  logic [2:0] r_kind, c_kind;
  logic r_read, c_read, r_busy, c_busy;
  logic [63:0] r_addr, c_addr_unused;
  logic [6:0] r_len, c_len_unused;
  logic c_present, c_first, c_last;
  logic [15:0] c_x;
  logic [7:0] c_lane, c_lanes;
  logic [16:0] c_slot;
  logic [63:0] c_d0, c_d1;

  f8npu_nest #(.Rows(Rows), .Cols(Cols)) u_reader (
    .clk_i, .rst_ni, .clear_i, .start_i(nest_start), .step_i(r_step),
    .mode_i(mode), .bias_i(has_bias), .resident_i(resident), .aux_i(has_aux),
    .cout_i(cout), .cin_i(src_c), .n_i(src_n), .h_i(src_h), .w_i(src_w), .ho_i(ho_q),
    .wo_i(wo_q), .kh_i(kh), .kw_i(kw), .sth_i(sth), .stw_i(stw), .pt_i(pt), .pl_i(pl),
    .tw_max_i(tw_q), .tw_stw_i(prod_q[4][19:0]), .k_i(k_q),
    .esz_src_i(esz(t_type[0])), .esz_aux_i(esz(t_type[1])), .esz_d0_i(esz(t_type[2])),
    .esz_d1_i(esz(t_type[3])),
    .src_base_i(t_base[0]), .src_sn_i(t_sn[0]), .src_sh_i(t_sh[0]), .src_sw_i(t_sw[0]),
    .sth_sh_i(prod_q[0]), .stw_sw_i(prod_q[1]), .pt_sh_i(prod_q[2]), .pl_sw_i(prod_q[3]),
    .tw_stw_sw_i(prod_q[5]), .w_base_i(w_base), .bias_base_i(b_base),
    .o_base_i(o_base), .o_sn_i(o_sn), .o_sh_i(o_sh), .o_sw_i(o_sw), .o_tw_sw_i(o_tw_sw),
    .kind_o(r_kind), .read_o(r_read), .rd_addr_o(r_addr), .rd_len_o(r_len),
    .present_o(r_nc_present), .first_o(r_nc_first), .last_o(r_nc_last), .x_o(r_nc_x),
    .lane_o(r_nc_lane), .slot_o(r_nc_slot), .lanes_o(r_nc_lanes), .d0_addr_o(r_nc_d0),
    .d1_addr_o(r_nc_d1), .busy_o(r_busy)
  );

  f8npu_nest #(.Rows(Rows), .Cols(Cols)) u_executor (
    .clk_i, .rst_ni, .clear_i, .start_i(nest_start), .step_i(c_step),
    .mode_i(mode), .bias_i(has_bias), .resident_i(resident), .aux_i(has_aux),
    .cout_i(cout), .cin_i(src_c), .n_i(src_n), .h_i(src_h), .w_i(src_w), .ho_i(ho_q),
    .wo_i(wo_q), .kh_i(kh), .kw_i(kw), .sth_i(sth), .stw_i(stw), .pt_i(pt), .pl_i(pl),
    .tw_max_i(tw_q), .tw_stw_i(prod_q[4][19:0]), .k_i(k_q),
    .esz_src_i(esz(t_type[0])), .esz_aux_i(esz(t_type[1])), .esz_d0_i(esz(t_type[2])),
    .esz_d1_i(esz(t_type[3])),
    .src_base_i(t_base[0]), .src_sn_i(t_sn[0]), .src_sh_i(t_sh[0]), .src_sw_i(t_sw[0]),
    .sth_sh_i(prod_q[0]), .stw_sw_i(prod_q[1]), .pt_sh_i(prod_q[2]), .pl_sw_i(prod_q[3]),
    .tw_stw_sw_i(prod_q[5]), .w_base_i(w_base), .bias_base_i(b_base),
    .o_base_i(o_base), .o_sn_i(o_sn), .o_sh_i(o_sh), .o_sw_i(o_sw), .o_tw_sw_i(o_tw_sw),
    .kind_o(c_kind), .read_o(c_read), .rd_addr_o(c_addr_unused), .rd_len_o(c_len_unused),
    .present_o(c_present), .first_o(c_first), .last_o(c_last), .x_o(c_x), .lane_o(c_lane),
    .slot_o(c_slot), .lanes_o(c_lanes), .d0_addr_o(c_d0), .d1_addr_o(c_d1), .busy_o(c_busy)
  );

  // ---------------------------------------------------------------- reader: reads, credits
  // Reads in flight or waiting in the FIFO never exceed its depth, so a response
  // always has room (the memory port has no response backpressure).
  logic [FL:0] credit_q;        // reads issued and not yet popped
  logic fifo_pop;
  logic fifo_valid;
  logic [512:0] fifo_head;
  logic rd_fire;
  logic [FL:0] fifo_count;

  assign mrd_valid_o = su_q == SRun && r_busy && r_read && credit_q < (FL+1)'(FifoDepth);
  assign mrd_addr_o = r_addr;
  assign mrd_len_o = r_len;
  assign rd_fire = mrd_valid_o && mrd_ready_i;
  assign r_step = su_q == SRun && r_busy && (!r_read || rd_fire);

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) credit_q <= '0;
    else if (clear_i) credit_q <= '0;
    else credit_q <= credit_q + (FL+1)'(rd_fire) - (FL+1)'(fifo_pop);
  end

  f8npu_fifo #(.Width(513), .Depth(FifoDepth)) u_fifo (
    .clk_i, .rst_ni, .clear_i,
    .push_i(mrs_valid_i), .data_i({mrs_err_i, mrs_data_i}),
    .pop_i(fifo_pop), .head_o(fifo_head), .valid_o(fifo_valid), .count_o(fifo_count)
  );

  // ---------------------------------------------------------------- executor
  // Weight buffer: one memory per output lane, one lane row (Rows bytes) of a block
  // per word; a WGT item writes one lane's row, a pass reads all lanes at once.
  logic [BW-1:0] wbuf_q;
  logic wbuf_we;
  logic [WL-1:0] wbuf_addr;
  genvar gl;
  for (gl = 0; gl < Cols; gl++) begin : g_wbuf
    logic [Rows*8-1:0] mem [WbufBlocks];
    always_ff @(posedge clk_i) begin
      if (wbuf_we && c_lane == 8'(gl)) mem[wbuf_addr] <= fifo_head[Rows*8-1:0];
      wbuf_q[gl*Rows*8 +: Rows*8] <= mem[wbuf_addr];
    end
  end

  // Accumulator buffer: one word per output pixel of the tile.
  logic [AW-1:0] abuf [AbufWords];
  logic [AW-1:0] abuf_q;
  logic abuf_we;
  logic [AL-1:0] abuf_waddr, abuf_raddr;
  logic [AW-1:0] abuf_wdata;

  always_ff @(posedge clk_i) begin
    if (abuf_we) abuf[abuf_waddr] <= abuf_wdata;
    abuf_q <= abuf[abuf_raddr];
  end

  // MAC stage B (the instruction whose weights and accumulators are being read).
  logic b_valid_q, b_first_q, b_present_q;
  logic [AL-1:0] b_x_q;
  logic [511:0] b_vec_q;
  // Forwarding: the accumulator written in the previous cycle.
  logic fwd_valid_q;
  logic [AL-1:0] fwd_x_q;
  logic [AW-1:0] fwd_q;

  // Epilogue stage B: accumulators arrive from the buffer this cycle.
  logic e_valid_q, e_last_q;
  logic [511:0] e_aux_q;
  logic [63:0] e_d0_q, e_d1_q;
  logic [6:0] e_len0_q, e_len1_q;

  // Bias lanes of the current group.
  logic [Cols*32-1:0] bias_q;

  // Write queue: epilogue results waiting for the write port.
  localparam int unsigned QD = 4;
  logic [63:0] q_a0 [QD], q_a1 [QD];
  logic [6:0] q_l0 [QD], q_l1 [QD];
  logic [511:0] q_d0 [QD], q_d1 [QD];
  logic q_two [QD];
  logic [1:0] q_wr, q_rd;
  logic [2:0] q_cnt;
  logic q_half_q;               // the head's first write is done
  logic q_push, q_pop;

  // The executor consumes item c_kind when its data (if any) is at the FIFO head.
  logic data_ok, epi_ok, can_step;
  assign data_ok = !c_read || fifo_valid;
  // An EPI item needs the MAC pipeline empty (its last write has landed) and room in the
  // write queue for itself and the one in epilogue stage B.
  assign epi_ok = !b_valid_q && (32'(q_cnt) + (e_valid_q ? 32'd1 : 32'd0)) < QD;
  assign can_step = su_q == SRun && c_busy && data_ok && (c_kind != ItEpi || epi_ok);
  assign c_step = can_step;
  assign fifo_pop = can_step && c_read;

  assign wbuf_we = can_step && c_kind == ItWgt;
  assign wbuf_addr = WL'(c_slot);
  assign abuf_raddr = AL'(c_x);

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      b_valid_q <= 1'b0; b_first_q <= 1'b0; b_present_q <= 1'b0; b_x_q <= '0; b_vec_q <= '0;
      e_valid_q <= 1'b0; e_last_q <= 1'b0; e_aux_q <= '0; e_d0_q <= '0; e_d1_q <= '0;
      e_len0_q <= '0; e_len1_q <= '0; bias_q <= '0;
    end else if (clear_i) begin
      b_valid_q <= 1'b0;
      e_valid_q <= 1'b0;
    end else begin
      b_valid_q <= can_step && c_kind == ItIn;
      b_first_q <= c_first;
      b_present_q <= c_present;
      b_x_q <= AL'(c_x);
      b_vec_q <= c_present ? fifo_head[511:0] : 512'd0;
      e_valid_q <= can_step && c_kind == ItEpi;
      e_last_q <= c_last;
      e_aux_q <= fifo_head[511:0];
      e_d0_q <= c_d0;
      e_d1_q <= c_d1;
      e_len0_q <= 7'(16'(c_lanes) * 16'(esz(t_type[2])));
      e_len1_q <= 7'(16'(c_lanes) * 16'(esz(t_type[3])));
      if (can_step && c_kind == ItBias) begin
        for (int i = 0; i < Cols; i++) bias_q[i*32 +: 32] <= (i < 32'(c_lanes)) ?
                                                              fifo_head[i*32 +: 32] : 32'd0;
      end
      if (nest_start && !has_bias) bias_q <= '0;
    end
  end

  // ---- MAC stage B: multiply or pool, accumulate.
  logic [Cols*32-1:0] psum;
  f8npu_mac_array #(.Rows(Rows), .Cols(Cols)) u_array (
    .a_i(b_vec_q[Rows*8-1:0]), .a_dw_i(b_vec_q[Cols*8-1:0]), .a_signed_i(src_signed),
    .depthwise_i(mode == 2'd1), .w_i(wbuf_q), .psum_o(psum)
  );

  logic [AW-1:0] acc_old, acc_new;
  logic is_max;
  assign is_max = op == f8npu_pkg::OpPoolMax;
  assign acc_old = (fwd_valid_q && fwd_x_q == b_x_q) ? fwd_q : abuf_q;

  always_comb begin
    logic signed [47:0] v, o;
    logic had;
    had = !b_first_q && acc_old[AW-1];
    acc_new = '0;
    acc_new[AW-1] = b_present_q || had;
    for (int i = 0; i < Cols; i++) begin
      if (mode != 2'd2) v = 48'($signed(psum[i*32 +: 32]));
      else if (t_type[0] == f8npu_pkg::TypeU8) v = {40'd0, b_vec_q[i*8 +: 8]};
      else if (t_type[0] == f8npu_pkg::TypeS8) v = 48'($signed(b_vec_q[i*8 +: 8]));
      else v = 48'($signed(b_vec_q[i*32 +: 32]));
      o = $signed(acc_old[i*48 +: 48]);
      if (is_max) begin
        if (!b_present_q) acc_new[i*48 +: 48] = had ? o : 48'sd0;
        else acc_new[i*48 +: 48] = (had && o > v) ? o : v;
      end else begin
        if (!b_present_q) v = 48'sd0;
        acc_new[i*48 +: 48] = b_first_q ? v : o + v;
      end
    end
  end

  assign abuf_we = b_valid_q;
  assign abuf_waddr = b_x_q;
  assign abuf_wdata = acc_new;

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      fwd_valid_q <= 1'b0; fwd_x_q <= '0; fwd_q <= '0;
    end else begin
      fwd_valid_q <= b_valid_q && !clear_i;
      fwd_x_q <= b_x_q;
      fwd_q <= acc_new;
    end
  end

  // ---- Epilogue stage B: the pixel's accumulators are in abuf_q.
  logic [Cols*48-1:0] e_acc;
  logic [511:0] e_out0, e_out1;
  logic [7:0] align_src, align_aux;
  assign align_src = db(d_q, f8npu_pkg::DAlignSrc);
  assign align_aux = db(d_q, f8npu_pkg::DAlignAux);
  assign e_acc = abuf_q[Cols*48-1:0];
  f8npu_epilogue #(.Cols(Cols)) u_epilogue (
    .acc_i(e_acc), .bias_i(bias_q), .aux_i(e_aux_q), .aux_en_i(has_aux),
    .aux_type_i(t_type[1]), .align_src_i(align_src[4:0]),
    .align_aux_i(align_aux[4:0]), .relu_i(relu),
    .shift0_i(db(d_q, f8npu_pkg::DShift0)), .shift1_i(db(d_q, f8npu_pkg::DShift1)),
    .type0_i(t_type[2]), .type1_i(t_type[3]), .out0_o(e_out0), .out1_o(e_out1)
  );

  // ---- Write queue and write port.
  assign q_push = e_valid_q;
  assign mwr_valid_o = q_cnt != '0;
  assign mwr_addr_o = q_half_q ? q_a1[q_rd] : q_a0[q_rd];
  assign mwr_len_o = q_half_q ? q_l1[q_rd] : q_l0[q_rd];
  assign mwr_data_o = q_half_q ? q_d1[q_rd] : q_d0[q_rd];
  assign q_pop = mwr_valid_o && mwr_ready_i && (q_half_q || !q_two[q_rd]);

  always_ff @(posedge clk_i) begin
    if (q_push) begin
      q_a0[q_wr] <= e_d0_q;
      q_a1[q_wr] <= e_d1_q;
      q_l0[q_wr] <= e_len0_q;
      q_l1[q_wr] <= e_len1_q;
      q_d0[q_wr] <= e_out0;
      q_d1[q_wr] <= e_out1;
      q_two[q_wr] <= has_dst1;
    end
  end

  logic [31:0] wr_out_q;         // writes issued, response pending
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
      else if ((fifo_pop && fifo_head[512]) || (mws_valid_i && mws_err_i)) bus_err_q <= 1'b1;
    end
  end

  // Done: every item consumed, the pipelines and the write queue empty, every write answered.
  logic exec_done;
  assign exec_done = su_q == SRun && !c_busy && !r_busy && !b_valid_q && !e_valid_q &&
                     q_cnt == '0 && wr_out_q == '0 && credit_q == '0;
  assign done_o = exec_done;
  assign bus_err_o = bus_err_q;
  assign active_o = b_valid_q;

  logic unused;
  assign unused = ^{r_nc_present, r_nc_first, r_nc_last, r_nc_x, r_nc_lane, r_nc_lanes,
                    r_nc_slot, r_nc_d0, r_nc_d1, fifo_count, w_region[7:4], b_region[7:4],
                    align_src[7:5], align_aux[7:5], c_addr_unused, c_len_unused, e_last_q, r_kind, abuf_q[AW-1], k_i[16],
                    c_slot[16:WL], c_x[15:AL], d_q, src_n, src_h, src_w, dst_c, pi_q,
                    prod_q[9], prod_q[10]};
endmodule
