// SPDX-License-Identifier: MIT
// f8npu_walk_w: the weight reader's loop nest. Weights go to the weight buffer in
// "sets", each one lane row (Rows bytes; 1 byte for depthwise) per read:
//   resident: one set per channel group = all its blocks, in pass order (ky, cg, kx);
//   streamed: one set per pass (when a group's blocks do not fit), repeated for
//             every (n, y, tile) of the group, as the executor uses them.
// Set t goes to half t[0] of the buffer when two sets fit (double buffering, so the
// next group's weights load while the array works), else to the one half.
// Group-inner order (gi_i, resident): every group's set stays, each right after the one before
// (a packed set has fewer blocks than set_blocks_i), loaded as fast as the port allows.
// Fast depthwise (fast_i): a group's set is one block, lane c's row being its whole
// kernel w[c][0 .. kh*kw-1] (contiguous in the [C][kh][kw] layout), one read per lane.
// Tap packing (pack_i, docs/rtl.md "Tap packing"): a pass covers P = pp_i horizontal taps
// kx0 .. kx0+P-1 of one kernel row, its lane row w[co][ky][kx0 .. kx0+P-1][0 .. Cin-1]
// (contiguous in the [Cout][kh][kw][Cin] layout: one read of up to pcin_i = P*Cin bytes).
module f8npu_walk_w #(
  parameter int unsigned Rows = 16,
  parameter int unsigned Cols = 16
) (
  input  logic        clk_i,
  input  logic        rst_ni,
  input  logic        clear_i,
  input  logic        start_i,
  input  logic        step_i,
  input  logic [1:0]  mode_i,          // 0 conv, 1 depthwise (2 pool: never started)
  input  logic        fast_i,          // fast depthwise: one block of kh*kw taps per lane
  input  logic        pack_i,          // tap packing (conv, Cin <= Rows / 2)
  input  logic [7:0]  pp_i,            // pack: taps per pass P
  input  logic [7:0]  pcin_i,          // pack: P * Cin
  input  logic [6:0]  taps_i,          // kh * kw (fast)
  input  logic        resident_i,
  input  logic        two_sets_i,      // two sets fit: alternate halves
  input  logic        gi_i,            // group-inner: all sets resident, one after the other
  input  logic [16:0] set_blocks_i,    // blocks per set (half size)
  input  logic [15:0] cout_i,
  input  logic [15:0] cin_i,
  input  logic [15:0] n_i,
  input  logic [15:0] ho_i,
  input  logic [15:0] wo_i,
  input  logic [7:0]  kh_i,
  input  logic [7:0]  kw_i,
  input  logic [16:0] k_i,             // weights per output channel
  input  logic [23:0] ky_step_i,       // kw * cin (conv) or kw (depthwise)
  input  logic [15:0] tw_max_i,
  input  logic [63:0] w_base_i,
  output logic [63:0] rd_addr_o,
  output logic [6:0]  rd_len_o,
  output logic [16:0] slot_o,
  output logic [7:0]  lane_o,
  output logic        last_lane_o,     // the read completes its block
  output logic [15:0] set_o,           // sets completely visited (current set index)
  output logic        half_o,
  output logic        busy_o
);
  localparam int unsigned CL = $clog2(Cols);
  localparam int unsigned RL = $clog2(Rows);

  logic        act_q, act_d;
  logic [15:0] n_q, n_d, y_q, y_d, x0_q, x0_d, remc_q, remc_d, cg_q, cg_d, t_q, t_d;
  logic [7:0]  ky_q, ky_d, kx_q, kx_d, lane_q, lane_d;
  logic [16:0] p_q, p_d;
  logic [63:0] wgrp_q, wgrp_d, wlane_q, wlane_d, wky_q, wky_d, wkx_q, wkx_d;
  logic [16:0] sbase_q, sbase_d;       // gi: first slot of the current set

  logic conv, last_lane, last_pass;
  logic [15:0] cg_last, remcin;
  logic [7:0] lanes;
  logic e_set_done, e_group_done, e_pass_adv, e_passes;

  assign conv = mode_i == 2'd0;
  assign lanes = (remc_q > 16'(Cols)) ? 8'(Cols) : remc_q[7:0];
  assign cg_last = conv ? 16'((cin_i - 16'd1) >> RL) : 16'd0;
  assign remcin = cin_i - {cg_q[15-RL:0], RL'(0)};
  assign last_lane = lane_q == lanes - 8'd1;
  logic kx_last;
  assign kx_last = pack_i ? 9'(kx_q) + 9'(pp_i) >= 9'(kw_i) : kx_q == kw_i - 8'd1;
  assign last_pass = fast_i || (ky_q == kh_i - 8'd1 && cg_q == cg_last && kx_last);

  always_comb begin
    act_d = act_q;
    n_d = n_q; y_d = y_q; x0_d = x0_q; remc_d = remc_q; cg_d = cg_q; t_d = t_q;
    ky_d = ky_q; kx_d = kx_q; lane_d = lane_q; p_d = p_q;
    wgrp_d = wgrp_q; wlane_d = wlane_q; wky_d = wky_q; wkx_d = wkx_q; sbase_d = sbase_q;
    e_set_done = 1'b0; e_group_done = 1'b0; e_pass_adv = 1'b0; e_passes = 1'b0;

    if (clear_i) begin
      act_d = 1'b0;
    end else if (start_i) begin
      act_d = 1'b1;
      remc_d = cout_i;
      wgrp_d = w_base_i;
      t_d = '0;
      sbase_d = '0;
      n_d = '0; y_d = '0; x0_d = '0;
      e_passes = 1'b1;
    end else if (step_i && act_q) begin
      lane_d = lane_q + 8'd1;
      wlane_d = wlane_q + 64'(k_i);
      if (last_lane) begin
        lane_d = '0;
        wlane_d = '0;
        if (!resident_i) e_set_done = 1'b1;
        if (last_pass) begin
          if (resident_i) e_set_done = 1'b1;
          // Streamed: the passes repeat for every (n, y, tile) of the group.
          if (resident_i) e_group_done = 1'b1;
          else begin
            x0_d = x0_q + tw_max_i;
            e_passes = 1'b1;
            if (x0_d >= wo_i) begin
              x0_d = '0;
              y_d = y_q + 16'd1;
              if (y_d == ho_i) begin
                y_d = '0;
                n_d = n_q + 16'd1;
                if (n_d == n_i) begin
                  n_d = '0;
                  e_passes = 1'b0;
                  e_group_done = 1'b1;
                end
              end
            end
          end
        end else e_pass_adv = 1'b1;
      end
    end

    if (e_set_done) begin
      t_d = t_q + 16'd1;
      sbase_d = sbase_q + p_q + 17'd1;   // gi: the set's blocks (its passes)
    end
    if (e_pass_adv) begin
      p_d = resident_i ? p_q + 17'd1 : p_q;
      kx_d = kx_q + (pack_i ? pp_i : 8'd1);
      wkx_d = wkx_q + (pack_i ? 64'(pcin_i) : conv ? 64'(cin_i) : 64'd1);
      if (kx_last) begin
        kx_d = '0;
        wkx_d = '0;
        cg_d = cg_q + 16'd1;
        if (cg_q == cg_last) begin
          cg_d = '0;
          ky_d = ky_q + 8'd1;
          wky_d = wky_q + 64'(ky_step_i);
        end
      end
    end
    if (e_group_done) begin
      remc_d = remc_q - 16'(Cols);
      wgrp_d = wgrp_q + (64'(k_i) << CL);
      if (remc_q <= 16'(Cols)) act_d = 1'b0;
      else e_passes = 1'b1;
    end
    if (e_passes) begin
      p_d = '0; ky_d = '0; cg_d = '0; kx_d = '0; wky_d = '0; wkx_d = '0;
      lane_d = '0; wlane_d = '0;
    end
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      act_q <= 1'b0;
      n_q <= '0; y_q <= '0; x0_q <= '0; remc_q <= '0; cg_q <= '0; t_q <= '0;
      ky_q <= '0; kx_q <= '0; lane_q <= '0; p_q <= '0;
      wgrp_q <= '0; wlane_q <= '0; wky_q <= '0; wkx_q <= '0; sbase_q <= '0;
    end else begin
      sbase_q <= sbase_d;
      act_q <= act_d;
      n_q <= n_d; y_q <= y_d; x0_q <= x0_d; remc_q <= remc_d; cg_q <= cg_d; t_q <= t_d;
      ky_q <= ky_d; kx_q <= kx_d; lane_q <= lane_d; p_q <= p_d;
      wgrp_q <= wgrp_d; wlane_q <= wlane_d; wky_q <= wky_d; wkx_q <= wkx_d;
    end
  end

  logic half;
  assign half = two_sets_i && t_q[0];
  assign half_o = half;
  assign rd_addr_o = wgrp_q + wlane_q + wky_q + wkx_q +
                     (conv ? {48'd0, cg_q[15-RL:0], RL'(0)} : 64'd0);
  // Pack: min(P*Cin, (kw - kx0) * Cin), the row's remaining taps (ky_step_i = kw * Cin).
  logic [23:0] wrem;
  assign wrem = ky_step_i - wkx_q[23:0];
  assign rd_len_o = !conv ? (fast_i ? taps_i : 7'd1) :
                    pack_i ? ((wrem < 24'(pcin_i)) ? wrem[6:0] : pcin_i[6:0]) :
                    (remcin > 16'(Rows)) ? 7'(Rows) : remcin[6:0];
  assign slot_o = (gi_i ? sbase_q : half ? set_blocks_i : 17'd0) + p_q;
  assign lane_o = lane_q;
  assign last_lane_o = last_lane;
  assign set_o = t_q;
  assign busy_o = act_q;
endmodule
