// SPDX-License-Identifier: MIT
// f8npu_seqdiv: sequential restoring divider, q = floor(num / den) (docs/rtl.md: no `/`).
// Step quotient bits per cycle, most significant first: ceil(NWidth / Step) cycles. The start
// cycle already does the first step: start_i at cycle t, done_o (one-cycle pulse, q_o valid and
// held until the next start) at cycle t + ceil(NWidth / Step). A start while busy restarts.
// den = 0 gives an all-ones quotient (callers exclude it).
module f8npu_seqdiv #(
  parameter int unsigned NWidth = 17,  // dividend and quotient
  parameter int unsigned DWidth = 8,   // divisor
  parameter int unsigned Step   = 4    // power of two, 1 .. 16
) (
  input  logic              clk_i,
  input  logic              rst_ni,
  input  logic              start_i,
  input  logic [NWidth-1:0] num_i,
  input  logic [DWidth-1:0] den_i,
  output logic              done_o,
  output logic [NWidth-1:0] q_o
);
  localparam int unsigned Cycles = (NWidth + Step - 1) >> $clog2(Step);
  localparam int unsigned PadW   = Cycles << $clog2(Step);  // dividend padded to whole steps
  localparam int unsigned CntW   = $clog2(Cycles + 1);

  logic [PadW-1:0]   n_q, n_cur, q_q, q_cur;
  logic [DWidth-1:0] r_q, r_cur;
  logic [DWidth:0]   r_sh;
  logic [CntW-1:0]   cnt_q, cnt_cur;
  logic              busy_q, done_q;

  always_comb begin
    n_cur   = start_i ? PadW'(num_i) : n_q;
    r_cur   = start_i ? '0 : r_q;
    q_cur   = start_i ? '0 : q_q;
    cnt_cur = start_i ? '0 : cnt_q;
    r_sh    = '0;
    for (int j = 0; j < Step; j++) begin
      r_sh  = {r_cur, n_cur[PadW-1]};
      n_cur = n_cur << 1;
      if (r_sh >= {1'b0, den_i}) begin
        r_sh  = r_sh - {1'b0, den_i};
        q_cur = {q_cur[PadW-2:0], 1'b1};
      end else begin
        q_cur = {q_cur[PadW-2:0], 1'b0};
      end
      r_cur = r_sh[DWidth-1:0];
    end
    cnt_cur = cnt_cur + 1'b1;
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      n_q    <= '0;
      r_q    <= '0;
      q_q    <= '0;
      cnt_q  <= '0;
      busy_q <= 1'b0;
      done_q <= 1'b0;
    end else if (start_i || busy_q) begin
      n_q    <= n_cur;
      r_q    <= r_cur;
      q_q    <= q_cur;
      cnt_q  <= cnt_cur;
      busy_q <= cnt_cur != CntW'(Cycles);
      done_q <= cnt_cur == CntW'(Cycles);
    end else begin
      done_q <= 1'b0;
    end
  end

  assign done_o = done_q;
  assign q_o    = q_q[NWidth-1:0];

  if (PadW > NWidth) begin : g_unused
    logic unused_q;
    assign unused_q = |q_q[PadW-1:NWidth];
  end
endmodule
