// SPDX-License-Identifier: MIT
// f8npu_mul8: the only multiplier of the design, 8 bits x 8 bits (arith.md A5).
// The activation byte is u8 or s8 (a_signed_i); the weight is always s8. A u8
// value a equals its s8 reading plus 256 when bit 7 is set, so u8 x s8 is the
// s8 x s8 product plus (w << 8): the multiplier itself stays 8 x 8.
module f8npu_mul8 (
  input  logic [7:0]         a_i,
  input  logic               a_signed_i,
  input  logic [7:0]         w_i,
  output logic signed [16:0] p_o
);
  logic signed [15:0] prod_ss;
  logic signed [16:0] w_hi;

  assign prod_ss = $signed(a_i) * $signed(w_i);
  assign w_hi    = {w_i[7], w_i, 8'b0};
  assign p_o     = (!a_signed_i && a_i[7]) ? 17'(prod_ss) + w_hi : 17'(prod_ss);
endmodule
