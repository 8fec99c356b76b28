// SPDX-License-Identifier: MIT
// f8npu_nest: the loop nest of one descriptor as a sequence of items. The engine
// instantiates it twice, once to issue the reads (ahead) and once to consume the
// responses and compute (behind), so both walk exactly the same order:
//
//   for g in channel groups of Cols lanes:
//     BIAS                               (CONV2D with BIAS)
//     WGT (block, lane) for every block  (weights resident in the weight buffer)
//     for n, y, column tiles of up to Tw outputs:
//       for pass (ky, kx, cg):           (cg: groups of Rows input channels, CONV2D only)
//         WGT (lane)                     (weights streamed: this pass's block)
//         IN x for x in the tile         (a read only when the input pixel is present)
//       EPI x for x in the tile          (an aux read with AUX; the outputs are written)
//
// Every address is kept by additions only; the products it needs come precomputed
// in the configuration (engine setup).
module f8npu_nest #(
  parameter int unsigned Rows = 16,
  parameter int unsigned Cols = 16
) (
  input  logic        clk_i,
  input  logic        rst_ni,
  input  logic        clear_i,         // abandon the walk
  input  logic        start_i,
  input  logic        step_i,          // the current item is done: advance
  // configuration (stable from start_i to done)
  input  logic [1:0]  mode_i,          // 0 conv groups=1, 1 depthwise, 2 pool/add
  input  logic        bias_i,
  input  logic        resident_i,      // weights resident (else streamed per pass)
  input  logic        aux_i,
  input  logic [15:0] cout_i,          // output channels (= lanes overall)
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
  input  logic [15:0] tw_max_i,        // tile width Tw
  input  logic [19:0] tw_stw_i,        // Tw * stride_w
  input  logic [16:0] k_i,             // weights per output channel
  input  logic [2:0]  esz_src_i,       // element sizes (1 or 4)
  input  logic [2:0]  esz_aux_i,
  input  logic [2:0]  esz_d0_i,
  input  logic [2:0]  esz_d1_i,
  input  logic [63:0] src_base_i,
  input  logic [63:0] src_sn_i,
  input  logic [63:0] src_sh_i,
  input  logic [63:0] src_sw_i,
  input  logic [63:0] sth_sh_i,        // stride_h * src stride_h
  input  logic [63:0] stw_sw_i,        // stride_w * src stride_w
  input  logic [63:0] pt_sh_i,         // pad_top * src stride_h
  input  logic [63:0] pl_sw_i,         // pad_left * src stride_w
  input  logic [63:0] tw_stw_sw_i,     // Tw * stride_w * src stride_w
  input  logic [63:0] w_base_i,
  input  logic [63:0] bias_base_i,
  input  logic [3*64-1:0] o_base_i,    // aux, dst0, dst1: base, strides, Tw * stride_w
  input  logic [3*64-1:0] o_sn_i,
  input  logic [3*64-1:0] o_sh_i,
  input  logic [3*64-1:0] o_sw_i,
  input  logic [3*64-1:0] o_tw_sw_i,
  // the current item
  output logic [2:0]  kind_o,          // ItNone, ItBias, ItWgt, ItIn, ItEpi
  output logic        read_o,          // the item reads memory (rd_addr_o, rd_len_o)
  output logic [63:0] rd_addr_o,
  output logic [6:0]  rd_len_o,
  output logic        present_o,       // IN: the pixel is inside the input
  output logic        first_o,         // IN: first pass of the tile
  output logic        last_o,          // IN: last pass; EPI: last item of the tile
  output logic [15:0] x_o,             // IN/EPI: index in the tile
  output logic [7:0]  lane_o,          // WGT: output lane
  output logic [16:0] slot_o,          // WGT/IN: weight buffer block
  output logic [7:0]  lanes_o,         // lanes of this channel group
  output logic [63:0] d0_addr_o,       // EPI: output addresses
  output logic [63:0] d1_addr_o,
  output logic        busy_o           // items remain
);
  localparam logic [2:0] ItNone = 3'd0, ItBias = 3'd1, ItWgt = 3'd2, ItIn = 3'd3, ItEpi = 3'd4;
  localparam int unsigned CL = $clog2(Cols);
  localparam int unsigned RL = $clog2(Rows);

  logic [2:0]  st_q, st_d;
  logic        wload_q, wload_d;       // WGT items belong to the resident preload
  logic [15:0] g_q, g_d, n_q, n_d, y_q, y_d, x0_q, x0_d, x_q, x_d, tw_q, tw_d;
  logic [15:0] remc_q, remc_d, cg_q, cg_d;
  logic [7:0]  ky_q, ky_d, kx_q, kx_d, lane_q, lane_d;
  logic [16:0] p_q, p_d;
  logic signed [19:0] iy0_q, iy0_d, ixt_q, ixt_d, iy_q, iy_d, ix_q, ix_d;
  logic [63:0] an_q, an_d, ay_q, ay_d, axt_q, axt_d, aky_q, aky_d, akx_q, akx_d, ax_q, ax_d;
  logic [63:0] sch_q, sch_d;           // src channel offset (depthwise/pool: the group's)
  logic [63:0] wgrp_q, wgrp_d, wlane_q, wlane_d, wtap_q, wtap_d, bgrp_q, bgrp_d;
  logic [3*64-1:0] on_q, on_d, oy_q, oy_d, oxt_q, oxt_d, ox_q, ox_d, och_q, och_d;

  logic conv;
  logic [15:0] cg_last, remcin;
  logic [7:0] lanes;
  logic last_lane, last_pass, last_x, pass_adv;
  logic e_next_tile, e_group, e_wl, e_images, e_tile, e_pass, e_in, e_epi;

  assign conv = mode_i == 2'd0;
  assign lanes = (remc_q > 16'(Cols)) ? 8'(Cols) : remc_q[7:0];
  assign remcin = cin_i - {cg_q[15-RL:0], RL'(0)};
  assign cg_last = conv ? 16'((cin_i - 16'd1) >> RL) : 16'd0;
  assign last_lane = lane_q == lanes - 8'd1;
  assign last_pass = ky_q == kh_i - 8'd1 && kx_q == kw_i - 8'd1 && cg_q == cg_last;
  assign last_x = x_q == tw_q - 16'd1;

  always_comb begin
    st_d = st_q; wload_d = wload_q;
    g_d = g_q; n_d = n_q; y_d = y_q; x0_d = x0_q; x_d = x_q; tw_d = tw_q;
    remc_d = remc_q; cg_d = cg_q; ky_d = ky_q; kx_d = kx_q; lane_d = lane_q; p_d = p_q;
    iy0_d = iy0_q; ixt_d = ixt_q; iy_d = iy_q; ix_d = ix_q;
    an_d = an_q; ay_d = ay_q; axt_d = axt_q; aky_d = aky_q; akx_d = akx_q; ax_d = ax_q;
    sch_d = sch_q; wgrp_d = wgrp_q; wlane_d = wlane_q; wtap_d = wtap_q; bgrp_d = bgrp_q;
    on_d = on_q; oy_d = oy_q; oxt_d = oxt_q; ox_d = ox_q; och_d = och_q;
    e_next_tile = 1'b0; e_group = 1'b0; e_wl = 1'b0; e_images = 1'b0; e_tile = 1'b0;
    e_pass = 1'b0; e_in = 1'b0; e_epi = 1'b0; pass_adv = 1'b0;

    if (clear_i) begin
      st_d = ItNone;
    end else if (start_i) begin
      g_d = '0;
      remc_d = cout_i;
      sch_d = '0;
      wgrp_d = w_base_i;
      bgrp_d = bias_base_i;
      och_d = '0;
      e_group = 1'b1;
    end else if (step_i) begin
      case (st_q)
        ItBias: e_wl = 1'b1;
        ItWgt: begin
          lane_d = lane_q + 8'd1;
          wlane_d = wlane_q + 64'(k_i);
          if (last_lane) begin
            lane_d = '0;
            wlane_d = '0;
            if (!wload_q) e_in = 1'b1;
            else if (last_pass) e_images = 1'b1;
            else pass_adv = 1'b1;
          end
        end
        ItIn: begin
          x_d = x_q + 16'd1;
          ix_d = ix_q + 20'($signed({1'b0, stw_i}));
          ax_d = ax_q + stw_sw_i;
          if (last_x) begin
            if (last_pass) e_epi = 1'b1;
            else begin
              pass_adv = 1'b1;
              e_pass = 1'b1;
            end
          end
        end
        ItEpi: begin
          x_d = x_q + 16'd1;
          for (int t = 0; t < 3; t++) ox_d[t*64 +: 64] = ox_q[t*64 +: 64] + o_sw_i[t*64 +: 64];
          if (last_x) e_next_tile = 1'b1;
        end
        default: ;
      endcase
    end

    // Next pass (the same order serves the resident preload of the blocks).
    if (pass_adv) begin
      p_d = p_q + 17'd1;
      cg_d = cg_q + 16'd1;
      if (cg_q == cg_last) begin
        cg_d = '0;
        kx_d = kx_q + 8'd1;
        akx_d = akx_q + src_sw_i;
        wtap_d = wtap_q + (conv ? 64'(cin_i) : 64'd1);
        if (kx_q == kw_i - 8'd1) begin
          kx_d = '0;
          akx_d = '0;
          ky_d = ky_q + 8'd1;
          aky_d = aky_q + src_sh_i;
        end
      end
    end

    if (e_next_tile) begin
      x0_d = x0_q + tw_max_i;
      ixt_d = ixt_q + $signed(tw_stw_i);
      axt_d = axt_q + tw_stw_sw_i;
      for (int t = 0; t < 3; t++) oxt_d[t*64 +: 64] = oxt_q[t*64 +: 64] + o_tw_sw_i[t*64 +: 64];
      e_tile = 1'b1;
      if (x0_d >= wo_i) begin
        x0_d = '0;
        ixt_d = -20'($signed({1'b0, pl_i}));
        axt_d = -pl_sw_i;
        y_d = y_q + 16'd1;
        iy0_d = iy0_q + 20'($signed({1'b0, sth_i}));
        ay_d = ay_q + sth_sh_i;
        for (int t = 0; t < 3; t++) begin
          oy_d[t*64 +: 64] = oy_q[t*64 +: 64] + o_sh_i[t*64 +: 64];
          oxt_d[t*64 +: 64] = oy_d[t*64 +: 64];
        end
        if (y_d == ho_i) begin
          y_d = '0;
          n_d = n_q + 16'd1;
          an_d = an_q + src_sn_i;
          iy0_d = -20'($signed({1'b0, pt_i}));
          ay_d = an_d - pt_sh_i;
          for (int t = 0; t < 3; t++) begin
            on_d[t*64 +: 64] = on_q[t*64 +: 64] + o_sn_i[t*64 +: 64];
            oy_d[t*64 +: 64] = on_d[t*64 +: 64];
            oxt_d[t*64 +: 64] = on_d[t*64 +: 64];
          end
          if (n_d == n_i) begin
            e_tile = 1'b0;
            g_d = g_q + 16'd1;
            remc_d = remc_q - 16'(Cols);
            wgrp_d = wgrp_q + (64'(k_i) << CL);
            bgrp_d = bgrp_q + 64'(Cols * 4);
            sch_d = sch_q + (64'(esz_src_i) << CL);
            och_d[0 +: 64] = och_q[0 +: 64] + (64'(esz_aux_i) << CL);
            och_d[64 +: 64] = och_q[64 +: 64] + (64'(esz_d0_i) << CL);
            och_d[128 +: 64] = och_q[128 +: 64] + (64'(esz_d1_i) << CL);
            if (remc_q <= 16'(Cols)) st_d = ItNone;
            else e_group = 1'b1;
          end
        end
      end
    end

    if (e_group) begin
      if (conv && bias_i) st_d = ItBias;
      else e_wl = 1'b1;
    end
    if (e_wl || e_images) begin
      // Pass counters restart (after a preload, and before the images).
      p_d = '0; cg_d = '0; ky_d = '0; kx_d = '0; aky_d = '0; akx_d = '0; wtap_d = '0;
      lane_d = '0; wlane_d = '0;
    end
    if (e_wl) begin
      if (mode_i != 2'd2 && resident_i) begin
        st_d = ItWgt;
        wload_d = 1'b1;
      end else e_images = 1'b1;
    end
    if (e_images) begin
      wload_d = 1'b0;
      n_d = '0; y_d = '0; x0_d = '0;
      an_d = src_base_i;
      ay_d = src_base_i - pt_sh_i;
      iy0_d = -20'($signed({1'b0, pt_i}));
      ixt_d = -20'($signed({1'b0, pl_i}));
      axt_d = -pl_sw_i;
      on_d = o_base_i;
      oy_d = o_base_i;
      oxt_d = o_base_i;
      e_tile = 1'b1;
    end
    if (e_tile) begin
      tw_d = (wo_i - x0_d < tw_max_i) ? wo_i - x0_d : tw_max_i;
      p_d = '0; cg_d = '0; ky_d = '0; kx_d = '0; aky_d = '0; akx_d = '0; wtap_d = '0;
      e_pass = 1'b1;
    end
    if (e_pass) begin
      if (mode_i != 2'd2 && !resident_i) begin
        st_d = ItWgt;
        lane_d = '0;
        wlane_d = '0;
      end else e_in = 1'b1;
    end
    if (e_in) begin
      st_d = ItIn;
      x_d = '0;
      iy_d = iy0_d + 20'($signed({1'b0, ky_d}));
      ix_d = ixt_d + 20'($signed({1'b0, kx_d}));
      ax_d = axt_d + akx_d;
    end
    if (e_epi) begin
      st_d = ItEpi;
      x_d = '0;
      ox_d = oxt_q;
    end
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      st_q <= ItNone; wload_q <= 1'b0;
      g_q <= '0; n_q <= '0; y_q <= '0; x0_q <= '0; x_q <= '0; tw_q <= '0;
      remc_q <= '0; cg_q <= '0; ky_q <= '0; kx_q <= '0; lane_q <= '0; p_q <= '0;
      iy0_q <= '0; ixt_q <= '0; iy_q <= '0; ix_q <= '0;
      an_q <= '0; ay_q <= '0; axt_q <= '0; aky_q <= '0; akx_q <= '0; ax_q <= '0;
      sch_q <= '0; wgrp_q <= '0; wlane_q <= '0; wtap_q <= '0; bgrp_q <= '0;
      on_q <= '0; oy_q <= '0; oxt_q <= '0; ox_q <= '0; och_q <= '0;
    end else begin
      st_q <= st_d; wload_q <= wload_d;
      g_q <= g_d; n_q <= n_d; y_q <= y_d; x0_q <= x0_d; x_q <= x_d; tw_q <= tw_d;
      remc_q <= remc_d; cg_q <= cg_d; ky_q <= ky_d; kx_q <= kx_d; lane_q <= lane_d; p_q <= p_d;
      iy0_q <= iy0_d; ixt_q <= ixt_d; iy_q <= iy_d; ix_q <= ix_d;
      an_q <= an_d; ay_q <= ay_d; axt_q <= axt_d; aky_q <= aky_d; akx_q <= akx_d; ax_q <= ax_d;
      sch_q <= sch_d; wgrp_q <= wgrp_d; wlane_q <= wlane_d; wtap_q <= wtap_d; bgrp_q <= bgrp_d;
      on_q <= on_d; oy_q <= oy_d; oxt_q <= oxt_d; ox_q <= ox_d; och_q <= och_d;
    end
  end

  // Outputs of the current item.
  logic present;
  logic [63:0] in_ch;
  logic [15:0] in_len;
  assign present = iy_q >= 0 && iy_q < $signed({4'd0, h_i}) &&
                   ix_q >= 0 && ix_q < $signed({4'd0, w_i});
  assign in_ch = conv ? {48'd0, cg_q[15-RL:0], RL'(0)} : sch_q;
  assign in_len = conv ? ((remcin > 16'(Rows)) ? 16'(Rows) : remcin)
                       : 16'(lanes) * 16'(esz_src_i);

  always_comb begin
    read_o = 1'b0;
    rd_addr_o = '0;
    rd_len_o = '0;
    case (st_q)
      ItBias: begin
        read_o = 1'b1;
        rd_addr_o = bgrp_q;
        rd_len_o = 7'({lanes, 2'b00});
      end
      ItWgt: begin
        read_o = 1'b1;
        rd_addr_o = wgrp_q + wlane_q + wtap_q + (conv ? in_ch : 64'd0);
        rd_len_o = conv ? in_len[6:0] : 7'd1;
      end
      ItIn: begin
        read_o = present;
        rd_addr_o = ay_q + aky_q + ax_q + in_ch;
        rd_len_o = in_len[6:0];
      end
      ItEpi: begin
        read_o = aux_i;
        rd_addr_o = ox_q[0 +: 64] + och_q[0 +: 64];
        rd_len_o = 7'(16'(lanes) * 16'(esz_aux_i));
      end
      default: ;
    endcase
  end

  assign kind_o = st_q;
  assign present_o = present;
  assign first_o = p_q == '0;
  assign last_o = (st_q == ItEpi) ? last_x : last_pass;
  assign x_o = x_q;
  assign lane_o = lane_q;
  assign slot_o = resident_i ? p_q : 17'd0;
  assign lanes_o = lanes;
  assign d0_addr_o = ox_q[64 +: 64] + och_q[64 +: 64];
  assign d1_addr_o = ox_q[128 +: 64] + och_q[128 +: 64];
  assign busy_o = st_q != ItNone;

  logic unused;
  assign unused = ^{g_q, y_q, n_q, esz_d0_i, esz_d1_i, in_len[15:7], remcin};
endmodule
