// SPDX-License-Identifier: MIT
// f8npu_epilogue: docs/arith.md A8 for Cols lanes, combinational.
//   v0 = sat32(acc + bias)                  (bias is 0 except for CONV2D with BIAS)
//   v1 = sat32(sat32(v0 << align_src) + sat32(aux << align_aux))
//   v2 = relu ? max(v1, 0) : v1
//   out_k = sat_type_k(shift_rne(v2, shift_k))
// Outputs are packed like memory: a u8/s8 lane is byte c, an s32 lane bytes 4c..4c+3.
module f8npu_epilogue #(
  parameter int unsigned Cols = 16
) (
  input  logic [Cols*48-1:0] acc_i,        // signed accumulators (exact sums)
  input  logic [Cols*32-1:0] bias_i,       // signed
  input  logic [511:0]       aux_i,        // aux vector as read from memory
  input  logic               aux_en_i,
  input  logic [7:0]         aux_type_i,
  input  logic [4:0]         align_src_i,
  input  logic [4:0]         align_aux_i,
  input  logic               relu_i,
  input  logic [7:0]         shift0_i,     // signed, -31 .. 31
  input  logic [7:0]         shift1_i,
  input  logic [7:0]         type0_i,
  input  logic [7:0]         type1_i,
  output logic [511:0]       out0_o,
  output logic [511:0]       out1_o
);
  // Rule A2 + A3: requantize a 32-bit value into a type.
  function automatic logic [31:0] requant(input logic signed [31:0] v, input logic [7:0] s,
                                          input logic [7:0] t);
    logic signed [63:0] w, q, lo, hi;
    logic [63:0] r, half, mask;
    logic [5:0] n;
    begin
      if (s[7] || s == 8'd0) begin
        n = 6'(-s);
        w = 64'(v) <<< n;
      end else begin
        n = s[5:0];
        q = 64'(v) >>> n;
        mask = (64'd1 << n) - 64'd1;
        half = 64'd1 << (n - 6'd1);
        r = 64'(v) & mask;
        w = (r > half || (r == half && q[0])) ? q + 64'sd1 : q;
      end
      if (t == f8npu_pkg::TypeU8) begin
        lo = 64'sd0;
        hi = 64'sd255;
      end else if (t == f8npu_pkg::TypeS8) begin
        lo = -64'sd127;
        hi = 64'sd127;
      end else begin
        lo = -64'sd2147483647;
        hi = 64'sd2147483647;
      end
      requant = (w < lo) ? lo[31:0] : (w > hi) ? hi[31:0] : w[31:0];
    end
  endfunction

  function automatic logic signed [31:0] sat32(input logic signed [63:0] v);
    begin
      sat32 = (v > 64'sd2147483647) ? 32'sd2147483647 :
              (v < -64'sd2147483647) ? -32'sd2147483647 : v[31:0];
    end
  endfunction

  logic [Cols*32-1:0] o0_all, o1_all;

  genvar c;
  for (c = 0; c < Cols; c++) begin : g_lane
    logic signed [31:0] v0, a_al, b_al, v1, v2, aux, o0, o1;
    always_comb begin
      v0 = sat32(64'($signed(acc_i[c*48 +: 48])) + 64'($signed(bias_i[c*32 +: 32])));
      if (!aux_en_i) begin
        aux = 32'sd0;
      end else if (aux_type_i == f8npu_pkg::TypeU8) begin
        aux = {24'd0, aux_i[c*8 +: 8]};
      end else if (aux_type_i == f8npu_pkg::TypeS8) begin
        aux = 32'($signed(aux_i[c*8 +: 8]));
      end else begin
        aux = aux_i[c*32 +: 32];
      end
      a_al = sat32(64'(v0) <<< align_src_i);
      b_al = sat32(64'(aux) <<< align_aux_i);
      v1 = sat32(64'(a_al) + 64'(b_al));
      v2 = (relu_i && v1[31]) ? 32'sd0 : v1;
      o0 = requant(v2, shift0_i, type0_i);
      o1 = requant(v2, shift1_i, type1_i);
    end
    assign o0_all[c*32 +: 32] = o0;
    assign o1_all[c*32 +: 32] = o1;
  end

  // Pack like memory: byte lanes for u8/s8, 4-byte lanes for s32; unused bytes zero.
  always_comb begin
    out0_o = '0;
    out1_o = '0;
    for (int i = 0; i < Cols; i++) begin
      if (type0_i == f8npu_pkg::TypeS32) out0_o[i*32 +: 32] = o0_all[i*32 +: 32];
      else out0_o[i*8 +: 8] = o0_all[i*32 +: 8];
      if (type1_i == f8npu_pkg::TypeS32) out1_o[i*32 +: 32] = o1_all[i*32 +: 32];
      else out1_o[i*8 +: 8] = o1_all[i*32 +: 8];
    end
  end
endmodule
