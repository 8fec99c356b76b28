// SPDX-License-Identifier: MIT
// f8npu_seqmul: sequential shift-add multiplier, p = a * b mod 2^Width (docs/rtl.md: no `*`).
// Step bits of the narrow operand b per cycle, least significant first; it stops as soon as the
// remaining bits of b are zero, so a product takes max(1, ceil(bits(b) / Step)) cycles.
// The start cycle already does the first step: start_i at cycle t, done_o (one-cycle pulse, p_o
// valid and held until the next start) at cycle t + steps. A start while busy restarts.
module f8npu_seqmul #(
  parameter int unsigned Width  = 64,  // wide operand and product
  parameter int unsigned BWidth = 17,  // narrow operand
  parameter int unsigned Step   = 4    // bits of b per cycle, 1 .. BWidth
) (
  input  logic              clk_i,
  input  logic              rst_ni,
  input  logic              start_i,
  input  logic [Width-1:0]  a_i,
  input  logic [BWidth-1:0] b_i,
  output logic              done_o,
  output logic [Width-1:0]  p_o
);
  logic [Width-1:0]  a_q, acc_q, a_cur, acc_cur, sum;
  logic [BWidth-1:0] b_q, b_cur, b_nxt;
  logic              busy_q, done_q;

  always_comb begin
    a_cur   = start_i ? a_i : a_q;
    b_cur   = start_i ? b_i : b_q;
    acc_cur = start_i ? '0 : acc_q;
    sum     = acc_cur;
    for (int j = 0; j < Step; j++) begin
      if (b_cur[j]) begin
        sum = sum + (a_cur << j);
      end
    end
    b_nxt = b_cur >> Step;
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      a_q    <= '0;
      b_q    <= '0;
      acc_q  <= '0;
      busy_q <= 1'b0;
      done_q <= 1'b0;
    end else if (start_i || busy_q) begin
      a_q    <= a_cur << Step;
      b_q    <= b_nxt;
      acc_q  <= sum;
      busy_q <= b_nxt != '0;
      done_q <= b_nxt == '0;
    end else begin
      done_q <= 1'b0;
    end
  end

  assign done_o = done_q;
  assign p_o    = acc_q;
endmodule
