// SPDX-License-Identifier: MIT
// f8npu_epilogue: docs/arith.md A8 for Cols lanes, one register stage.
//   v0 = sat32(acc + bias)                  (bias is 0 except for CONV2D with BIAS)
//   v1 = sat32(sat32(v0 << align_src) + sat32(aux << align_aux))
//   v2 = relu ? max(v1, 0) : v1
//   out_k = sat_type_k(shift_rne(v2, shift_k))
// Outputs are packed like memory: a u8/s8 lane is byte c, an s32 lane bytes 4c..4c+3.
//
// The result is registered: out0_o holds the lanes of the inputs of the last cycle with en_i
// high, out1_o those of the cycle after it with en1_i high (a pipeline stage of the engine's
// epilogue; the two outputs share one requantizer per lane). Why a register
// with an enable instead of combinational logic:
//   - hardware: the requantizers sit between the accumulator buffer's read port and the write
//     queue, a long path; the register cuts it;
//   - simulation: Verilator re-evaluates every always_comb after every clock edge, but the
//     body of an always_ff under `if (en_i)` only when an EPI item is in the stage (a few % of
//     the cycles of a convolution).
// All arithmetic is 32 bits wide (the reference is written with 64-bit intermediates): a left
// shift by n saturates unless bits 31 .. 31-n are all equal (a mask decoded once for all
// lanes), a rounding right shift is the arithmetic shift plus the round bit (v[n-1]) and the
// sticky bits below it (round half to even). The validator guarantees the field ranges used
// here: align 0 .. 31, shifts -31 .. 31 (isa.md §5 LIMIT).
module f8npu_epilogue #(
  parameter int unsigned Cols = 16
) (
  input  logic               clk_i,
  input  logic               rst_ni,
  input  logic               en_i,         // an EPI item's first cycle: out0 (and v2_q)
  input  logic               en1_i,        // its second cycle (DST1 only): out1 from v2_q
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
  output logic [511:0]       out0_o,       // registered
  output logic [511:0]       out1_o        // registered
);
  localparam logic [31:0] Max32 = 32'h7fff_ffff;
  localparam logic [31:0] Min32 = 32'h8000_0001;   // -(2^31 - 1): saturation is symmetric

  // The shift amounts are the same for every lane: their masks are decoded once.
  //   top(n):   bits 31 .. 31-n, the bits a left shift by n must find equal (no overflow)
  //   below(n): bits n-2 .. 0, the sticky bits of a rounding right shift by n (n >= 1)
  function automatic logic [31:0] top_mask(input logic [4:0] n);
    top_mask = ~(32'h7fff_ffff >> n);
  endfunction
  function automatic logic [31:0] below_mask(input logic [4:0] n);
    below_mask = (32'd1 << (n - 5'd1)) - 32'd1;
  endfunction

  // sat32(v << a) of any 32-bit v, a 0 .. 31; m = top_mask(a).
  function automatic logic [31:0] shl_sat(input logic [31:0] v, input logic [4:0] a,
                                          input logic [31:0] m);
    logic [31:0] lo;
    begin
      lo = v << a;
      if (((v ^ {32{v[31]}}) & m) != '0) shl_sat = v[31] ? Min32 : Max32;
      else if (lo == 32'h8000_0000) shl_sat = Min32;
      else shl_sat = lo;
    end
  endfunction

  // sat32 of the sum of two values in [-(2^31-1), 2^31-1].
  function automatic logic [31:0] add_sat(input logic [31:0] a, input logic [31:0] b);
    logic [32:0] s;
    begin
      s = {a[31], a} + {b[31], b};
      if (s[32] != s[31]) add_sat = s[32] ? Min32 : Max32;
      else if (s[31:0] == 32'h8000_0000) add_sat = Min32;
      else add_sat = s[31:0];
    end
  endfunction

  // Rule A2 + A3: requantize a 32-bit value into a type (shift s: -31 .. 31);
  // m = top_mask(-s) for a left shift, below_mask(s) for a right shift.
  function automatic logic [31:0] requant(input logic [31:0] v, input logic [7:0] s,
                                          input logic [31:0] m, input logic [7:0] t);
    logic [4:0] n;
    logic [31:0] lo, hi, w, q;
    logic ovf, inc;
    begin
      ovf = 1'b0;
      q = '0;
      inc = 1'b0;
      if (s[7] || s == 8'd0) begin
        n = 5'(-s);
        w = v << n;
        ovf = ((v ^ {32{v[31]}}) & m) != '0;
      end else begin
        n = s[4:0];
        q = $signed(v) >>> n;
        inc = v[n - 5'd1] && ((v & m) != '0 || q[0]);
        w = q + 32'(inc);
      end
      if (t == f8npu_pkg::TypeU8) begin
        lo = 32'd0;
        hi = 32'd255;
      end else if (t == f8npu_pkg::TypeS8) begin
        lo = -32'sd127;
        hi = 32'sd127;
      end else begin
        lo = Min32;
        hi = Max32;
      end
      if (ovf) requant = v[31] ? lo : hi;
      else if ($signed(w) < $signed(lo)) requant = lo;
      else if ($signed(w) > $signed(hi)) requant = hi;
      else requant = w;
    end
  endfunction

  // One requantizer per lane, used for out0 in the EPI item's first cycle (en_i) and, with
  // DST1 only, for out1 in the next cycle (en1_i) from the lane's value v2 kept in v2_q: half the
  // requantizers of two parallel ones, at one more cycle per EPI item of a DST1 descriptor.
  logic [31:0] v2_q [Cols];

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      out0_o <= '0;
      out1_o <= '0;
      for (int c = 0; c < Cols; c++) v2_q[c] <= '0;
    end else if (en_i || en1_i) begin
      logic [48:0] s0;
      logic [31:0] v0, aux, v1, v2, o, m_src, m_aux, m;
      logic [7:0] sh, ty;
      logic [511:0] p;
      m_src = top_mask(align_src_i);
      m_aux = top_mask(align_aux_i);
      sh = en1_i ? shift1_i : shift0_i;
      ty = en1_i ? type1_i : type0_i;
      m = (sh[7] || sh == 8'd0) ? top_mask(5'(-sh)) : below_mask(sh[4:0]);
      p = '0;
      for (int c = 0; c < Cols; c++) begin
        s0 = {acc_i[c*48 + 47], acc_i[c*48 +: 48]} +
             {{17{bias_i[c*32 + 31]}}, bias_i[c*32 +: 32]};
        if ($signed(s0) > $signed({17'd0, Max32})) v0 = Max32;
        else if ($signed(s0) < $signed({17'h1ffff, Min32})) v0 = Min32;
        else v0 = s0[31:0];
        if (!aux_en_i) aux = '0;
        else if (aux_type_i == f8npu_pkg::TypeU8) aux = {24'd0, aux_i[c*8 +: 8]};
        else if (aux_type_i == f8npu_pkg::TypeS8) aux = {{24{aux_i[c*8 + 7]}}, aux_i[c*8 +: 8]};
        else aux = aux_i[c*32 +: 32];
        v1 = add_sat(shl_sat(v0, align_src_i, m_src), shl_sat(aux, align_aux_i, m_aux));
        v2 = (relu_i && v1[31]) ? 32'd0 : v1;
        if (en_i) v2_q[c] <= v2;
        o = requant(en1_i ? v2_q[c] : v2, sh, m, ty);
        // Pack like memory: byte lanes for u8/s8, 4-byte lanes for s32; unused bytes zero.
        if (ty == f8npu_pkg::TypeS32) p[c*32 +: 32] = o;
        else p[c*8 +: 8] = o[7:0];
      end
      if (en1_i) out1_o <= p;
      else out0_o <= p;
    end
  end
endmodule
