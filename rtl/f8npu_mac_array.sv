// SPDX-License-Identifier: MIT
// f8npu_mac_array: Rows x Cols 8x8 multipliers and one adder tree per column.
//   groups = 1:  psum[c] = sum_r a[r] * w[c][r]      (Rows input channels, Cols outputs)
//   depthwise:   psum[c] = sum_r t[r][c] * w[c][r]   (each row r has its own input vector t[r]:
//                 the engine puts one kernel tap per row, or only row 0 on the slow path)
// Weights: block byte c*Rows + r is w[c][r]. Purely combinational; the engine
// registers around it. Each multiplier input is a 2:1 multiplexer (broadcast / per row).
module f8npu_mac_array #(
  parameter int unsigned Rows = 16,
  parameter int unsigned Cols = 16
) (
  input  logic [Rows*8-1:0]      a_i,          // activation vector (groups = 1)
  input  logic [Rows*Cols*8-1:0] a_dw_i,       // per-row activation vectors (depthwise)
  input  logic                   a_signed_i,   // s8 activations (else u8)
  input  logic                   depthwise_i,
  input  logic                   en_i,         // an item uses the sums this cycle (else 0)
  input  logic [Rows*Cols*8-1:0] w_i,
  output logic [Cols*32-1:0]     psum_o        // signed, |psum| < 2^(17+log2 Rows)
);
  // Operand isolation: without en_i the sums are 0 and nothing toggles (nor does the
  // simulator evaluate the 256 products: this block is half of the model's time when it does).
  always_comb begin
    for (int c = 0; c < Cols; c++) begin
      logic signed [31:0] sum;
      logic [7:0] a;
      sum = 32'sd0;
      a = '0;
      if (en_i) begin
        for (int r = 0; r < Rows; r++) begin
          a = depthwise_i ? a_dw_i[(r*Cols + c)*8 +: 8] : a_i[r*8 +: 8];
          sum = sum + 32'(f8npu_mul8::mul8(a, a_signed_i, w_i[(c*Rows + r)*8 +: 8]));
        end
      end
      psum_o[c*32 +: 32] = sum;
    end
  end
endmodule
