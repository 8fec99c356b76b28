// SPDX-License-Identifier: MIT
// f8npu_mul8: the only multiplier of the design, 8 bits x 8 bits (arith.md A5), as a
// function so that the MAC array can be written as loops (docs/rtl.md "Simulation speed").
// The activation byte is u8 or s8 (a_signed); the weight is always s8. A u8 value a equals
// its s8 reading plus 256 when bit 7 is set, so u8 x s8 is the s8 x s8 product plus (w << 8):
// the multiplier itself stays 8 x 8.
package f8npu_mul8;
  function automatic logic signed [16:0] mul8(input logic [7:0] a, input logic a_signed,
                                              input logic [7:0] w);
    logic signed [15:0] prod_ss;
    prod_ss = $signed(a) * $signed(w);
    mul8 = (!a_signed && a[7]) ? 17'(prod_ss) + {w[7], w, 8'b0} : 17'(prod_ss);
  endfunction
endpackage
