// SPDX-License-Identifier: MIT
// f8npu_walk_r: the row reader's loop nest. For every row step (g, n, y, tile, ky, cg)
// of the executor (f8npu_walk_x) it visits the input columns that some kx pass of
// the tile uses, each once, in increasing order:
//   for x in the tile: columns max(next, x*stride_w) .. x*stride_w + kw - 1
// and asks for a read of each column that lies inside the input. The engine writes
// the responses into row buffer half step[0] at the column's index, so one fetch
// serves all kw taps (a 3x3 stride-1 conv reads its input 3 times, not 9).
//
// Fast depthwise (fast_i; one tile per output row): a row step is one input row, and
// each row is visited once per (g, n): rows -pt .. (ho-1)*sth - pt + kh - 1 in order,
// (ho-1)*sth + kh steps per image (padding rows are steps without reads). The engine
// keeps step s in row buffer slot s mod RbufSlots as long as an output row needs it.
//
// Tap packing (pack_i, docs/rtl.md "Tap packing"): a row step is a pass (ky, kx0) of the
// executor, one read per output x of the tile: the window segment's P*Cin contiguous bytes
// from column ix_o = x*stride_w - pl + kx0 (rd_addr_o is that column's address; the engine
// clips the segment to the input row and sets the length).
module f8npu_walk_r #(
  parameter int unsigned Rows = 16,
  parameter int unsigned Cols = 16
) (
  input  logic        clk_i,
  input  logic        rst_ni,
  input  logic        clear_i,
  input  logic        start_i,
  input  logic        step_i,
  input  logic [1:0]  mode_i,
  input  logic        fast_i,
  input  logic        pack_i,
  input  logic [7:0]  pp_i,            // pack: taps per pass P
  input  logic [7:0]  pcin_i,          // pack: P * Cin
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
  input  logic [2:0]  esz_src_i,
  input  logic [63:0] src_base_i,
  input  logic [63:0] src_sn_i,
  input  logic [63:0] src_sh_i,
  input  logic [63:0] src_sw_i,
  input  logic [63:0] sth_sh_i,
  input  logic [63:0] stw_sw_i,
  input  logic [63:0] pt_sh_i,
  input  logic [63:0] pl_sw_i,
  input  logic [63:0] tw_stw_sw_i,
  output logic        read_o,
  output logic [63:0] rd_addr_o,
  output logic [6:0]  rd_len_o,
  output logic [19:0] rb_idx_o,
  output logic [15:0] step_o,          // row steps completely visited (current step index)
  output logic        step_last_o,     // the current item is the last of its step
  output logic [19:0] step_cols_o,     // with step_last_o: row buffer entries the step spans
  output logic signed [19:0] ix_o,     // pack: the segment's first column
  output logic [7:0]  kx_o,            // pack: the pass's first kx
  output logic        busy_o
);
  localparam int unsigned CL = $clog2(Cols);
  localparam int unsigned RL = $clog2(Rows);

  logic        act_q, act_d;
  logic [15:0] n_q, n_d, y_q, y_d, x0_q, x0_d, x_q, x_d, tw_q, tw_d, remc_q, remc_d, cg_q, cg_d;
  logic [15:0] s_q, s_d;
  logic [7:0]  ky_q, ky_d, kx_q, kx_d;
  logic [63:0] akx_q, akx_d;
  logic [19:0] xs_q, xs_d, j_q, j_d;
  logic signed [19:0] iy0_q, iy0_d, ixt_q, ixt_d;
  logic [63:0] an_q, an_d, ay_q, ay_d, aky_q, aky_d, axt_q, axt_d, axs_q, axs_d, aj_q, aj_d;
  logic [63:0] sch_q, sch_d;

  logic conv;
  logic [15:0] cg_last, remcin;
  logic [7:0] lanes;
  logic e_step_done, e_images, e_tile, e_step, e_image_next;

  assign conv = mode_i == 2'd0;
  assign lanes = (remc_q > 16'(Cols)) ? 8'(Cols) : remc_q[7:0];
  assign cg_last = conv ? 16'((cin_i - 16'd1) >> RL) : 16'd0;
  assign remcin = cin_i - {cg_q[15-RL:0], RL'(0)};

  always_comb begin
    logic [19:0] xs_n;
    act_d = act_q;
    n_d = n_q; y_d = y_q; x0_d = x0_q; x_d = x_q; tw_d = tw_q; remc_d = remc_q; cg_d = cg_q;
    s_d = s_q; ky_d = ky_q; xs_d = xs_q; j_d = j_q; iy0_d = iy0_q; ixt_d = ixt_q;
    an_d = an_q; ay_d = ay_q; aky_d = aky_q; axt_d = axt_q; axs_d = axs_q; aj_d = aj_q;
    sch_d = sch_q; kx_d = kx_q; akx_d = akx_q;
    e_step_done = 1'b0; e_images = 1'b0; e_tile = 1'b0; e_step = 1'b0; e_image_next = 1'b0;
    xs_n = xs_q + 20'(stw_i);

    if (clear_i) begin
      act_d = 1'b0;
    end else if (start_i) begin
      act_d = 1'b1;
      remc_d = cout_i;
      sch_d = '0;
      s_d = '0;
      e_images = 1'b1;
    end else if (step_i && act_q && pack_i) begin
      if (x_q == tw_q - 16'd1) e_step_done = 1'b1;
      else begin
        x_d = x_q + 16'd1;
        xs_d = xs_n;
        aj_d = aj_q + stw_sw_i;
      end
    end else if (step_i && act_q) begin
      if (j_q + 20'd1 < xs_q + 20'(kw_i)) begin
        j_d = j_q + 20'd1;
        aj_d = aj_q + src_sw_i;
      end else if (x_q == tw_q - 16'd1) begin
        e_step_done = 1'b1;
      end else begin
        x_d = x_q + 16'd1;
        xs_d = xs_n;
        axs_d = axs_q + stw_sw_i;
        if (j_q + 20'd1 >= xs_n) begin
          j_d = j_q + 20'd1;
          aj_d = aj_q + src_sw_i;
        end else begin
          j_d = xs_n;
          aj_d = axt_q + axs_d;
        end
      end
    end

    if (e_step_done && fast_i) begin
      // Next input row: within the first window, or the sth new rows of the next one
      // (sth <= kh); aky_q counts the rows from the image's first (ay_q stays put).
      s_d = s_q + 16'd1;
      e_step = 1'b1;
      aky_d = aky_q + src_sh_i;
      if (ky_q != kh_i - 8'd1) ky_d = ky_q + 8'd1;
      else if (y_q != ho_i - 16'd1) begin
        y_d = y_q + 16'd1;
        iy0_d = iy0_q + 20'($signed({1'b0, sth_i}));
        ky_d = kh_i - sth_i;
      end else begin
        y_d = '0;
        ky_d = '0;
        aky_d = '0;
        e_image_next = 1'b1;
      end
    end else if (e_step_done && pack_i && 9'(kx_q) + 9'(pp_i) < 9'(kw_i)) begin
      // Pack: the kernel row's next P taps.
      s_d = s_q + 16'd1;
      e_step = 1'b1;
      kx_d = kx_q + pp_i;
      akx_d = akx_q + 64'(pcin_i);
    end else if (e_step_done) begin
      s_d = s_q + 16'd1;
      kx_d = '0;
      akx_d = '0;
      cg_d = cg_q + 16'd1;
      e_step = 1'b1;
      if (cg_q == cg_last) begin
        cg_d = '0;
        ky_d = ky_q + 8'd1;
        aky_d = aky_q + src_sh_i;
        if (ky_q == kh_i - 8'd1) begin
          // Next tile / row / image / group.
          ky_d = '0;
          aky_d = '0;
          x0_d = x0_q + tw_max_i;
          ixt_d = ixt_q + $signed(tw_stw_i);
          axt_d = axt_q + tw_stw_sw_i;
          e_tile = 1'b1;
          if (x0_d >= wo_i) begin
            x0_d = '0;
            ixt_d = (20'sd0 - 20'($signed({1'b0, pl_i})));
            axt_d = -pl_sw_i;
            y_d = y_q + 16'd1;
            iy0_d = iy0_q + 20'($signed({1'b0, sth_i}));
            ay_d = ay_q + sth_sh_i;
            if (y_d == ho_i) begin
              y_d = '0;
              e_image_next = 1'b1;
            end
          end
        end
      end
    end

    if (e_image_next) begin
      // Next image, after the last: the next channel group (or done).
      n_d = n_q + 16'd1;
      an_d = an_q + src_sn_i;
      iy0_d = (20'sd0 - 20'($signed({1'b0, pt_i})));
      ay_d = an_d - pt_sh_i;
      if (n_d == n_i) begin
        e_tile = 1'b0;
        e_step = 1'b0;
        remc_d = remc_q - 16'(Cols);
        sch_d = sch_q + (64'(esz_src_i) << CL);
        if (remc_q <= 16'(Cols)) act_d = 1'b0;
        else e_images = 1'b1;
      end
    end

    if (e_images) begin
      n_d = '0; y_d = '0; x0_d = '0; ky_d = '0; cg_d = '0; aky_d = '0; kx_d = '0; akx_d = '0;
      an_d = src_base_i;
      ay_d = src_base_i - pt_sh_i;
      iy0_d = (20'sd0 - 20'($signed({1'b0, pt_i})));
      ixt_d = (20'sd0 - 20'($signed({1'b0, pl_i})));
      axt_d = -pl_sw_i;
      e_tile = 1'b1;
    end
    if (e_tile) begin
      tw_d = (wo_i - x0_d < tw_max_i) ? wo_i - x0_d : tw_max_i;
      e_step = 1'b1;
    end
    if (e_step) begin
      x_d = '0;
      xs_d = '0;
      axs_d = '0;
      j_d = '0;
      aj_d = axt_d;
    end
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      act_q <= 1'b0;
      n_q <= '0; y_q <= '0; x0_q <= '0; x_q <= '0; tw_q <= '0; remc_q <= '0; cg_q <= '0;
      s_q <= '0; ky_q <= '0; kx_q <= '0; akx_q <= '0; xs_q <= '0; j_q <= '0; iy0_q <= '0;
      ixt_q <= '0;
      an_q <= '0; ay_q <= '0; aky_q <= '0; axt_q <= '0; axs_q <= '0; aj_q <= '0; sch_q <= '0;
    end else begin
      act_q <= act_d;
      n_q <= n_d; y_q <= y_d; x0_q <= x0_d; x_q <= x_d; tw_q <= tw_d; remc_q <= remc_d;
      cg_q <= cg_d; s_q <= s_d; ky_q <= ky_d; kx_q <= kx_d; akx_q <= akx_d; xs_q <= xs_d;
      j_q <= j_d; iy0_q <= iy0_d;
      ixt_q <= ixt_d; an_q <= an_d; ay_q <= ay_d; aky_q <= aky_d; axt_q <= axt_d;
      axs_q <= axs_d; aj_q <= aj_d; sch_q <= sch_d;
    end
  end

  logic signed [19:0] iy, ix;
  assign iy = iy0_q + 20'($signed({1'b0, ky_q}));
  assign ix = ixt_q + $signed(j_q);
  // Pack: the row only (the engine clips the segment's columns).
  assign read_o = act_q && iy >= 0 && iy < $signed({4'd0, h_i}) &&
                  (pack_i || (ix >= 0 && ix < $signed({4'd0, w_i})));
  assign rd_addr_o = ay_q + aky_q + aj_q + (pack_i ? akx_q :
                     conv ? {48'd0, cg_q[15-RL:0], RL'(0)} : sch_q);
  assign ix_o = ixt_q + $signed(xs_q) + 20'($signed({1'b0, kx_q}));
  assign kx_o = kx_q;
  assign rd_len_o = conv ? ((remcin > 16'(Rows)) ? 7'(Rows) : remcin[6:0])
                         : (esz_src_i[2] ? 7'({lanes, 2'b00}) : 7'(lanes));
  assign rb_idx_o = pack_i ? 20'(x_q) : j_q;
  assign step_o = s_q;
  assign step_last_o = act_q && (pack_i || j_q + 20'd1 >= xs_q + 20'(kw_i)) &&
                       x_q == tw_q - 16'd1;
  assign step_cols_o = pack_i ? 20'(x_q) + 20'd1 : j_q + 20'd1;
  assign busy_o = act_q;
endmodule
