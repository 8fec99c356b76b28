// SPDX-License-Identifier: MIT
// f8npu_mac_array: Rows x Cols 8x8 multipliers and one adder tree per column.
//   groups = 1:  psum[c] = sum_r a[r] * w[c][r]   (Rows input channels, Cols outputs)
//   depthwise:   psum[c] = a[c] * w[c][0]          (channel c on column c, row 0)
// Weights: block byte c*Rows + r is w[c][r]. Purely combinational; the engine
// registers around it.
module f8npu_mac_array #(
  parameter int unsigned Rows = 16,
  parameter int unsigned Cols = 16
) (
  input  logic [Rows*8-1:0]      a_i,          // activation vector (groups = 1)
  input  logic [Cols*8-1:0]      a_dw_i,       // activation vector (depthwise)
  input  logic                   a_signed_i,   // s8 activations (else u8)
  input  logic                   depthwise_i,
  input  logic [Rows*Cols*8-1:0] w_i,
  output logic [Cols*32-1:0]     psum_o        // signed, |psum| < 2^(17+log2 Rows)
);
  genvar c, r;
  for (c = 0; c < Cols; c++) begin : g_col
    logic signed [31:0] sum;
    logic [Rows*17-1:0] prods;
    for (r = 0; r < Rows; r++) begin : g_row
      logic [7:0] a;
      logic signed [16:0] p;
      if (r == 0) begin : g_first
        assign a = depthwise_i ? a_dw_i[c*8 +: 8] : a_i[7:0];
      end else begin : g_other
        assign a = depthwise_i ? 8'd0 : a_i[r*8 +: 8];
      end
      f8npu_mul8 u_mul (
        .a_i        (a),
        .a_signed_i (a_signed_i),
        .w_i        (w_i[(c*Rows + r)*8 +: 8]),
        .p_o        (p)
      );
      assign prods[r*17 +: 17] = p;
    end
    always_comb begin
      sum = 32'sd0;
      for (int i = 0; i < Rows; i++) begin
        sum = sum + 32'($signed(prods[i*17 +: 17]));
      end
    end
    assign psum_o[c*32 +: 32] = sum;
  end
endmodule
