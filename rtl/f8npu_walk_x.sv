// SPDX-License-Identifier: MIT
// f8npu_walk_x: the executor's loop nest over one descriptor, as a sequence of items.
// The engine runs two copies: one ahead that issues the BIAS and aux reads, and the
// executor itself.
//
//   for g in channel groups of Cols lanes:
//     BIAS                                     (CONV2D with BIAS)
//     for n, y, column tiles of up to Tw outputs:
//       for ky, cg (Rows input channels, CONV2D only), kx:   one "pass" each
//         IN x for x in the tile               (input from the row buffer)
//       EPI x for x in the tile                (aux read with AUX; outputs written)
//
// Group-inner order (gi_i, a CONV2D whose weights are all resident, docs/rtl.md): the
// channel groups are the innermost loop around a tile's passes, so that the row steps the
// row reader fetched for a tile serve every group:
//   for n, y, column tiles:  for g:  BIAS; passes of IN items; EPI x for x in the tile
//
// Roles (role_i): the whole sequence (RoleAll), its IN items only (RoleIn: the array's
// side), or its BIAS and EPI items only (RoleEpi: the epilogue's side, and the twin that
// issues their reads). The engine runs the two sides as separate walkers so that a tile's
// epilogue overlaps the next tile's IN items (docs/rtl.md "Epilogue overlap").
//
// A (ky, cg) pair is a row step: the row reader fills one half of the row buffer
// with the input columns of that row, and the kx passes read them at x*stride_w + kx.
//
// Fast depthwise (fast_i, docs/rtl.md): one pass per output row, one IN item per input
// column j = 0 .. span_i - 1 of the tile; the engine shifts column j of the kh input rows
// into its window registers, and the item "fires" (fire_o: the window of output x_o is
// complete, all kh x kw taps on the array rows) at j = x * stride_w + kw - 1.
//
// Tap packing (pack_i, docs/rtl.md "Tap packing"; CONV2D with Cin <= Rows / 2 and dense
// input): a pass is (ky, kx0) with kx0 = 0, P, 2P, .. < kw, covering taps kx0 .. kx0+P-1
// on the array rows; every pass is a row step, its item x reads row buffer entry x (the
// P*Cin bytes of the window segment, fetched by one read), ix_o its segment's first column.
module f8npu_walk_x #(
  parameter int unsigned Rows = 16,
  parameter int unsigned Cols = 16
) (
  input  logic        clk_i,
  input  logic        rst_ni,
  input  logic        clear_i,
  input  logic        start_i,
  input  logic        step_i,
  input  logic [1:0]  mode_i,          // 0 conv groups=1, 1 depthwise, 2 pool/add
  input  logic [1:0]  role_i,          // RoleAll, RoleIn, RoleEpi
  input  logic        gi_i,            // group-inner order
  input  logic        fast_i,          // fast depthwise (mode 1, one tile per output row)
  input  logic        pack_i,          // tap packing (mode 0)
  input  logic [7:0]  pp_i,            // pack: taps per pass P
  input  logic [19:0] span_i,          // fast: input columns of the tile (tw-1)*stw + kw
  input  logic [7:0]  skip_i,          // fast: leading padding columns not visited (< kw)
  input  logic        bias_i,
  input  logic        aux_i,
  input  logic [15:0] cout_i,
  input  logic [15:0] cin_i,
  input  logic [15:0] n_i,
  input  logic [15:0] h_i,
  input  logic [15:0] w_i,
  input  logic [15:0] ho_i,
  input  logic [15:0] wo_i,
  input  logic [7:0]  kh_i,
  input  logic [7:0]  kw_i,
  input  logic [7:0]  sth_i,
  input  logic [7:0]  stw_i,
  input  logic [7:0]  pt_i,
  input  logic [7:0]  pl_i,
  input  logic [15:0] tw_max_i,
  input  logic [19:0] tw_stw_i,
  input  logic [2:0]  esz_aux_i,
  input  logic [2:0]  esz_d0_i,
  input  logic [2:0]  esz_d1_i,
  input  logic [63:0] bias_base_i,
  input  logic [3*64-1:0] o_base_i,    // aux, dst0, dst1
  input  logic [3*64-1:0] o_sn_i,
  input  logic [3*64-1:0] o_sh_i,
  input  logic [3*64-1:0] o_sw_i,
  input  logic [3*64-1:0] o_tw_sw_i,
  output logic [2:0]  kind_o,          // ItNone, ItBias, -, ItIn, ItEpi
  output logic        read_o,
  output logic [63:0] rd_addr_o,
  output logic [6:0]  rd_len_o,
  output logic        present_o,       // IN: input pixel inside the tensor
  output logic        first_o,         // IN: first pass of the tile
  output logic        step_last_o,     // IN: last item of a row step
  output logic        pass_last_o,     // IN: last item of a pass
  output logic        group_last_o,    // IN: last item of the channel group
  output logic        tile_last_o,     // IN: last item of the tile
  output logic        grp_more_o,      // gi: the tile has another channel group after this one
  output logic [16:0] pass_o,          // IN: pass index in the tile
  output logic [19:0] rb_idx_o,        // IN: row buffer column
  output logic [15:0] x_o,
  output logic        epi_last_o,      // EPI: last item of the tile
  output logic [7:0]  lanes_o,
  output logic [63:0] d0_addr_o,
  output logic [63:0] d1_addr_o,
  output logic        fire_o,          // IN: the item completes an output (always, unless fast)
  output logic signed [19:0] iy0_o,    // first input row of the output row's window
  output logic        row_last_o,      // the output row is the image's last
  output logic        col0_o,          // fast IN: the row's first item (window starts zero)
  output logic signed [19:0] ix_o,     // IN: input column of the item's (first) tap
  output logic [7:0]  kx_o,            // IN: the pass's (first) kx
  output logic        busy_o
);
  localparam logic [2:0] ItNone = 3'd0, ItBias = 3'd1, ItIn = 3'd3, ItEpi = 3'd4;
  localparam logic [1:0] RoleIn = 2'd1, RoleEpi = 2'd2;
  localparam int unsigned CL = $clog2(Cols);
  localparam int unsigned RL = $clog2(Rows);

  logic [2:0]  st_q;
  logic [15:0] n_q, y_q, x0_q, x_q, tw_q, remc_q, cg_q;
  logic [7:0]  ky_q, kx_q;
  logic [16:0] p_q;
  logic [15:0] fx_q;                   // fast: output column of the next firing item
  logic [7:0]  wait_q;                 // fast: IN items until the next one fires
  logic [19:0] xs_q;
  logic signed [19:0] iy0_q, ixt_q;
  logic [63:0] bgrp_q;
  logic [3*64-1:0] on_q, oy_q, oxt_q, ox_q, och_q;

  logic conv;
  logic [15:0] cg_last;
  logic [7:0] lanes;
  logic last_pass, last_x, last_tile;

  assign conv = mode_i == 2'd0;
  assign lanes = (remc_q > 16'(Cols)) ? 8'(Cols) : remc_q[7:0];
  assign cg_last = conv ? 16'((cin_i - 16'd1) >> RL) : 16'd0;
  logic kx_last;
  assign kx_last = pack_i ? 9'(kx_q) + 9'(pp_i) >= 9'(kw_i) : kx_q == kw_i - 8'd1;
  assign last_pass = fast_i || (ky_q == kh_i - 8'd1 && cg_q == cg_last && kx_last);
  assign last_x = (fast_i && st_q == ItIn) ? xs_q == span_i - 20'd1 : x_q == tw_q - 16'd1;
  assign last_tile = 17'(x0_q) + 17'(tw_q) >= 17'(wo_i) && y_q == ho_i - 16'd1 &&
                     n_q == n_i - 16'd1;

  // The next state is computed inside the clocked block, in the cycles the walk moves (clear,
  // start or a step) only: the same logic as an always_comb feeding the registers, which the
  // simulator then evaluates in those cycles alone (docs/rtl.md "Simulation speed"); the *_d
  // variables are its blocking intermediates.
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      st_q <= ItNone;
      n_q <= '0; y_q <= '0; x0_q <= '0; x_q <= '0; tw_q <= '0; remc_q <= '0; cg_q <= '0;
      ky_q <= '0; kx_q <= '0; p_q <= '0; xs_q <= '0; iy0_q <= '0; ixt_q <= '0;
      fx_q <= '0; wait_q <= '0;
      bgrp_q <= '0; on_q <= '0; oy_q <= '0; oxt_q <= '0; ox_q <= '0; och_q <= '0;
    end else if (clear_i || start_i || step_i) begin
      logic [2:0]  st_d;
      logic [15:0] n_d, y_d, x0_d, x_d, tw_d, remc_d, cg_d, fx_d;
      logic [7:0]  ky_d, kx_d, wait_d;
      logic [16:0] p_d;
      logic [19:0] xs_d;
      logic signed [19:0] iy0_d, ixt_d;
      logic [63:0] bgrp_d;
      logic [3*64-1:0] on_d, oy_d, oxt_d, ox_d, och_d;
      logic e_tile_done, e_next_tile, e_grp_first, e_grp_next, e_group, e_images, e_pos, e_tile;
      logic e_pass, e_epi;
      st_d = st_q;
      n_d = n_q; y_d = y_q; x0_d = x0_q; x_d = x_q; tw_d = tw_q; remc_d = remc_q; cg_d = cg_q;
      ky_d = ky_q; kx_d = kx_q; p_d = p_q; xs_d = xs_q; iy0_d = iy0_q; ixt_d = ixt_q;
      fx_d = fx_q; wait_d = wait_q;
      bgrp_d = bgrp_q; on_d = on_q; oy_d = oy_q; oxt_d = oxt_q; ox_d = ox_q; och_d = och_q;
      e_tile_done = 1'b0; e_next_tile = 1'b0; e_grp_first = 1'b0; e_grp_next = 1'b0;
      e_group = 1'b0; e_images = 1'b0; e_pos = 1'b0; e_tile = 1'b0; e_pass = 1'b0; e_epi = 1'b0;

      if (clear_i) begin
        st_d = ItNone;
      end else if (start_i) begin
        e_grp_first = 1'b1;
        e_pos = gi_i;
      end else if (step_i) begin
        case (st_q)
          ItBias: if (gi_i) e_tile = 1'b1; else e_images = 1'b1;
          ItIn: if (fast_i) begin
            xs_d = xs_q + 20'd1;
            if (wait_q == '0) begin
              fx_d = fx_q + 16'd1;
              wait_d = stw_i - 8'd1;
            end else wait_d = wait_q - 8'd1;
            if (last_x) begin
              if (role_i == RoleIn) e_tile_done = 1'b1;
              else e_epi = 1'b1;
            end
          end else begin
            x_d = x_q + 16'd1;
            xs_d = xs_q + 20'(stw_i);
            if (last_x) begin
              if (last_pass) begin
                if (role_i == RoleIn) e_tile_done = 1'b1;
                else e_epi = 1'b1;
              end else begin
                p_d = p_q + 17'd1;
                kx_d = kx_q + (pack_i ? pp_i : 8'd1);
                if (kx_last) begin
                  kx_d = '0;
                  cg_d = cg_q + 16'd1;
                  if (cg_q == cg_last) begin
                    cg_d = '0;
                    ky_d = ky_q + 8'd1;
                  end
                end
                e_pass = 1'b1;
              end
            end
          end
          ItEpi: begin
            x_d = x_q + 16'd1;
            for (int t = 0; t < 3; t++) ox_d[t*64 +: 64] = ox_q[t*64 +: 64] + o_sw_i[t*64 +: 64];
            if (last_x) e_tile_done = 1'b1;
          end
          default: ;
        endcase
      end

      // Group-inner: the same tile's next channel group, if any.
      if (e_tile_done) begin
        if (gi_i && remc_q > 16'(Cols)) e_grp_next = 1'b1;
        else e_next_tile = 1'b1;
      end

      if (e_next_tile) begin
        x0_d = x0_q + tw_max_i;
        ixt_d = ixt_q + $signed(tw_stw_i);
        for (int t = 0; t < 3; t++) oxt_d[t*64 +: 64] = oxt_q[t*64 +: 64] + o_tw_sw_i[t*64 +: 64];
        // Group-inner: the next tile starts again at the first channel group.
        if (gi_i) e_grp_first = 1'b1;
        else e_tile = 1'b1;
        if (x0_d >= wo_i) begin
          x0_d = '0;
          ixt_d = (20'sd0 - 20'($signed({1'b0, pl_i})));
          y_d = y_q + 16'd1;
          iy0_d = iy0_q + 20'($signed({1'b0, sth_i}));
          for (int t = 0; t < 3; t++) begin
            oy_d[t*64 +: 64] = oy_q[t*64 +: 64] + o_sh_i[t*64 +: 64];
            oxt_d[t*64 +: 64] = oy_d[t*64 +: 64];
          end
          if (y_d == ho_i) begin
            y_d = '0;
            n_d = n_q + 16'd1;
            iy0_d = (20'sd0 - 20'($signed({1'b0, pt_i})));
            for (int t = 0; t < 3; t++) begin
              on_d[t*64 +: 64] = on_q[t*64 +: 64] + o_sn_i[t*64 +: 64];
              oy_d[t*64 +: 64] = on_d[t*64 +: 64];
              oxt_d[t*64 +: 64] = on_d[t*64 +: 64];
            end
            if (n_d == n_i && gi_i) begin
              e_grp_first = 1'b0;
              st_d = ItNone;
            end else if (n_d == n_i) begin
              e_tile = 1'b0;
              e_grp_next = 1'b1;
            end
          end
        end
      end

      if (e_grp_next) begin
        remc_d = remc_q - 16'(Cols);
        bgrp_d = bgrp_q + 64'(Cols * 4);
        och_d[0 +: 64] = och_q[0 +: 64] + (64'(esz_aux_i) << CL);
        och_d[64 +: 64] = och_q[64 +: 64] + (64'(esz_d0_i) << CL);
        och_d[128 +: 64] = och_q[128 +: 64] + (64'(esz_d1_i) << CL);
        if (remc_q <= 16'(Cols)) st_d = ItNone;
        else e_group = 1'b1;
      end
      if (e_grp_first) begin
        remc_d = cout_i;
        bgrp_d = bias_base_i;
        och_d = '0;
        e_group = 1'b1;
      end
      if (e_group) begin
        if (mode_i != 2'd2 && bias_i && role_i != RoleIn) st_d = ItBias;
        else if (gi_i) e_tile = 1'b1;
        else e_images = 1'b1;
      end
      if (e_images) begin
        e_pos = 1'b1;
        e_tile = 1'b1;
      end
      if (e_pos) begin
        n_d = '0; y_d = '0; x0_d = '0;
        iy0_d = (20'sd0 - 20'($signed({1'b0, pt_i})));
        ixt_d = (20'sd0 - 20'($signed({1'b0, pl_i})));
        on_d = o_base_i;
        oy_d = o_base_i;
        oxt_d = o_base_i;
      end
      if (e_tile) begin
        tw_d = (wo_i - x0_d < tw_max_i) ? wo_i - x0_d : tw_max_i;
        p_d = '0; cg_d = '0; ky_d = '0; kx_d = '0;
        e_pass = 1'b1;
      end
      if (e_pass) begin
        st_d = ItIn;
        if (role_i == RoleEpi) e_epi = 1'b1;
        x_d = '0;
        // Fast: the first skip_i columns (left padding) are zeros the engine puts in the
        // window at the row's first item, so the row starts at column skip_i.
        xs_d = fast_i ? 20'(skip_i) : '0;
        fx_d = '0;
        wait_d = kw_i - 8'd1 - (fast_i ? skip_i : 8'd0);
      end
      if (e_epi) begin
        st_d = ItEpi;
        x_d = '0;
        ox_d = oxt_d;   // the tile's, also when it starts in this cycle (RoleEpi)
      end
      st_q <= st_d;
      n_q <= n_d; y_q <= y_d; x0_q <= x0_d; x_q <= x_d; tw_q <= tw_d; remc_q <= remc_d;
      cg_q <= cg_d; ky_q <= ky_d; kx_q <= kx_d; p_q <= p_d; xs_q <= xs_d; iy0_q <= iy0_d;
      fx_q <= fx_d; wait_q <= wait_d;
      ixt_q <= ixt_d; bgrp_q <= bgrp_d; on_q <= on_d; oy_q <= oy_d; oxt_q <= oxt_d;
      ox_q <= ox_d; och_q <= och_d;
    end
  end

  logic signed [19:0] iy, ix;
  assign iy = iy0_q + 20'($signed({1'b0, ky_q}));
  assign ix = ixt_q + $signed(xs_q) + 20'($signed({1'b0, kx_q}));
  // Fast: the column only (the engine checks each of the window's kh rows).
  // Pack: the row only (the engine clips the segment's columns).
  assign present_o = (fast_i || (iy >= 0 && iy < $signed({4'd0, h_i}))) &&
                     (pack_i || (ix >= 0 && ix < $signed({4'd0, w_i})));
  assign ix_o = ix;
  assign kx_o = kx_q;

  always_comb begin
    read_o = 1'b0;
    rd_addr_o = '0;
    rd_len_o = '0;
    if (st_q == ItBias) begin
      read_o = 1'b1;
      rd_addr_o = bgrp_q;
      rd_len_o = 7'({lanes, 2'b00});
    end else if (st_q == ItEpi) begin
      read_o = aux_i;
      rd_addr_o = ox_q[0 +: 64] + och_q[0 +: 64];
      rd_len_o = esz_aux_i[2] ? 7'({lanes, 2'b00}) : 7'(lanes);
    end
  end

  assign kind_o = st_q;
  assign first_o = p_q == '0;
  assign step_last_o = last_x && (pack_i || kx_q == kw_i - 8'd1);
  assign pass_last_o = last_x;
  assign group_last_o = last_x && last_pass && last_tile;
  assign tile_last_o = last_x && last_pass;
  assign grp_more_o = gi_i && remc_q > 16'(Cols);
  assign pass_o = p_q;
  assign rb_idx_o = pack_i ? 20'(x_q) : xs_q + 20'(kx_q);
  assign x_o = (fast_i && st_q == ItIn) ? fx_q : x_q;
  assign fire_o = !fast_i || wait_q == '0;
  assign iy0_o = iy0_q;
  assign row_last_o = y_q == ho_i - 16'd1;
  assign col0_o = xs_q == 20'(skip_i);
  assign epi_last_o = last_x;
  assign lanes_o = lanes;
  assign d0_addr_o = ox_q[64 +: 64] + och_q[64 +: 64];
  assign d1_addr_o = ox_q[128 +: 64] + och_q[128 +: 64];
  assign busy_o = st_q != ItNone;

  logic unused;
  assign unused = ^{esz_d0_i, esz_d1_i};
endmodule
