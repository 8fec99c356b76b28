// SPDX-License-Identifier: MIT
// f8npu_validate: docs/isa.md §5 steps 1-8 for one descriptor, bit-exact with
// f8npu_validate_desc() (sim/f8npu_validate.c), plus the architectural counters of §7
// (MACs, data bytes read and written). Sequential: one shift-add multiplier, two restoring
// dividers, one region-table lookup per cycle; no `*`, `/` or `%`.
//
// Flow (each step reports as soon as it fails):
//   start     steps 1 and 2, the multiplier-free part of step 3 (dims, kernel, stride, padding)
//   run       dividers: Ho, Wo. Multiplier jobs in order: kh*kw, K, the footprint extents
//             (w-1)*sw, (h-1)*sh, (n-1)*sn of src, aux, dst0, dst1 (with the self-overlap tests
//             of the outputs on the partial sums), weights Cout*K, then the counters:
//             n*h*w*c of src and of dst0, elements*K (MACs), src bytes * ceil(Cout/Cols).
//             Steps 3 and 4 are decided when Ho, Wo and K are known.
//   pass      when the extents are known (concurrently with the counter jobs): one operand per
//             cycle in the order dst0, dst1, src, aux, weights, bias: region lookup (step 5),
//             footprint against the region size (step 7), physical span against the command
//             buffer, the outputs and the inputs (step 8). Then steps 5..8 are decided; step 6
//             (alignment) is combinational.
// Within a step every failure has the same code, except step 7 (inputs before outputs),
// so the order of the tests inside a step does not matter. CAP_REGIONS is the 16 of the ports
// (a region index >= 16 is BAD_REGION).
// Latency (start_i to done_o): 1 cycle for END and for failures of steps 1-2 and of the
// dims/window part of step 3; 25-45 cycles for typical layers; bound 93 (every multiplier
// operand at full width, aux and dst1 used: 91 multiplier cycles + 2). The multiplier stops
// early on small operands.
module f8npu_validate #(
  parameter int unsigned Cols = 16   // power of two, 2..16: for ceil(Cout/Cols)
) (
  input  logic            clk_i,
  input  logic            rst_ni,
  input  logic            start_i,        // one-cycle pulse; inputs below stay stable until done_o
  input  logic [2047:0]   desc_i,         // descriptor byte i = desc_i[8*i +: 8] (little-endian)
  input  logic [16*64-1:0] region_base_i, // region r base = region_base_i[64*r +: 64]
  input  logic [16*64-1:0] region_size_i,
  input  logic [63:0]     cmd_base_i,
  input  logic [31:0]     cmd_size_i,
  input  logic [31:0]     cap_ops_i,      // CAP_OPS mask
  output logic            done_o,         // one-cycle pulse
  output logic [3:0]      err_o,          // valid with done_o (held until next start): 0 = valid
  output logic [15:0]     out_h_o,        // output height/width (valid when err_o == 0; 0 for END)
  output logic [15:0]     out_w_o,
  output logic [16:0]     k_o,            // K of a CONV2D (kh*kw*(dw?1:cin)), else 0
  output logic [63:0]     macs_o,         // isa.md §7 counts of a valid descriptor (mod 2^64):
  output logic [63:0]     rd_bytes_o,     //   MACs, data bytes read (not the 256-byte fetch),
  output logic [63:0]     wr_bytes_o      //   data bytes written. All 0 for END and on errors.
);
  localparam int unsigned ColsLog2 = $clog2(Cols);
  localparam int unsigned ExtW     = 50;  // footprint extents are < 2^50 (isa.md §2)
  localparam int unsigned MulStep  = 4;   // multiplier bits per cycle
  localparam int unsigned DivStep  = 4;   // divider bits per cycle

  // Multiplier jobs. A tensor job is {1'b1, tensor, part}: tensor 0 src, 1 aux, 2 dst0, 3 dst1
  // (their order in the descriptor); part 0: (w-1)*sw, 1: (h-1)*sh, 2: (n-1)*sn.
  localparam logic [4:0] JWin  = 5'd0;   // kh * kw
  localparam logic [4:0] JK    = 5'd1;   // (kh*kw) * (depthwise ? 1 : cin)
  localparam logic [4:0] JWext = 5'd2;   // dst0.c * K: the weights' extent
  localparam logic [4:0] JS1   = 5'd3;   // src n*h
  localparam logic [4:0] JS2   = 5'd4;   //   *w
  localparam logic [4:0] JS3   = 5'd5;   //   *c
  localparam logic [4:0] JO1   = 5'd6;   // dst0 n*h
  localparam logic [4:0] JO2   = 5'd7;   //   *w
  localparam logic [4:0] JO3   = 5'd8;   //   *c
  localparam logic [4:0] JMacs = 5'd9;   // dst0 elements * K
  localparam logic [4:0] JRd   = 5'd10;  // src bytes * ceil(Cout/Cols)
  localparam logic [4:0] JFin  = 5'd11;  // sum the counters (no multiplication)
  localparam logic [4:0] JNone = 5'd12;  // done
  localparam logic [4:0] JSrcW = 5'b10000;
  localparam logic [4:0] JAuxW = 5'b10100;
  localparam logic [4:0] JD0W  = 5'b11000;
  localparam logic [4:0] JD1W  = 5'b11100;

  // Operands of the pass (step 5, 7, 8 order is irrelevant but outputs come first, so that
  // every input meets both outputs' spans).
  localparam logic [2:0] PDst0 = 3'd0;
  localparam logic [2:0] PDst1 = 3'd1;
  localparam logic [2:0] PSrc  = 3'd2;
  localparam logic [2:0] PAux  = 3'd3;
  localparam logic [2:0] PWgt  = 3'd4;
  localparam logic [2:0] PBias = 3'd5;

  // Pass states.
  localparam logic [1:0] RWait  = 2'd0;  // extents not known yet
  localparam logic [1:0] RRun   = 2'd1;
  localparam logic [1:0] RCheck = 2'd2;
  localparam logic [1:0] ROk    = 2'd3;  // steps 5-8 passed

  // ---------------------------------------------------------------------------------------
  // Descriptor fields (combinational; desc_i is stable from start_i to done_o).

  logic [7:0]  op, flags, kh, kw, sh, sw, pt, pb, pl, pr, align_src, align_aux, shift0, shift1;
  logic [7:0]  wgt_region, bias_region;
  logic [31:0] wgt_off, bias_off;
  assign op          = desc_i[(f8npu_pkg::DOpcode << 3) +: 8];
  assign flags       = desc_i[(f8npu_pkg::DFlags << 3) +: 8];
  assign kh          = desc_i[(f8npu_pkg::DKernelH << 3) +: 8];
  assign kw          = desc_i[(f8npu_pkg::DKernelW << 3) +: 8];
  assign sh          = desc_i[(f8npu_pkg::DStrideH << 3) +: 8];
  assign sw          = desc_i[(f8npu_pkg::DStrideW << 3) +: 8];
  assign pt          = desc_i[(f8npu_pkg::DPadTop << 3) +: 8];
  assign pb          = desc_i[(f8npu_pkg::DPadBottom << 3) +: 8];
  assign pl          = desc_i[(f8npu_pkg::DPadLeft << 3) +: 8];
  assign pr          = desc_i[(f8npu_pkg::DPadRight << 3) +: 8];
  assign align_src   = desc_i[(f8npu_pkg::DAlignSrc << 3) +: 8];
  assign align_aux   = desc_i[(f8npu_pkg::DAlignAux << 3) +: 8];
  assign shift0      = desc_i[(f8npu_pkg::DOutShift0 << 3) +: 8];
  assign shift1      = desc_i[(f8npu_pkg::DOutShift1 << 3) +: 8];
  assign wgt_region  = desc_i[((f8npu_pkg::DWeights + f8npu_pkg::BRegion) << 3) +: 8];
  assign wgt_off     = desc_i[((f8npu_pkg::DWeights + f8npu_pkg::BOffset) << 3) +: 32];
  assign bias_region = desc_i[((f8npu_pkg::DBias + f8npu_pkg::BRegion) << 3) +: 8];
  assign bias_off    = desc_i[((f8npu_pkg::DBias + f8npu_pkg::BOffset) << 3) +: 32];

  logic f_bias, f_aux, f_dst1, f_dw;
  assign f_bias = flags[f8npu_pkg::FlagBias];
  assign f_aux  = flags[f8npu_pkg::FlagAux];
  assign f_dst1 = flags[f8npu_pkg::FlagDst1];
  assign f_dw   = flags[f8npu_pkg::FlagDepthwise];

  logic is_end, is_conv, has_window;
  assign is_end     = op == f8npu_pkg::OpEnd;
  assign is_conv    = op == f8npu_pkg::OpConv2d;
  assign has_window = is_conv || op == f8npu_pkg::OpPoolMax || op == f8npu_pkg::OpPoolSum;

  // The four tensor references, flat: index 0 src, 1 aux, 2 dst0, 3 dst1.
  logic [4*8-1:0]  t_region, t_type;
  logic [4*32-1:0] t_off, t_sn, t_sh, t_sw;
  logic [4*16-1:0] t_n, t_h, t_w, t_c;
  logic [3:0]      t_ok, t_zero, t_s32, t_misaligned;

  for (genvar t = 0; t < 4; t++) begin : g_ref
    localparam int unsigned B = (f8npu_pkg::DSrc + (t << 5)) << 3;  // bit offset of the ref
    assign t_region[(t << 3) +: 8] = desc_i[B + (f8npu_pkg::TRegion << 3) +: 8];
    assign t_type[(t << 3) +: 8]   = desc_i[B + (f8npu_pkg::TType << 3) +: 8];
    assign t_off[(t << 5) +: 32]   = desc_i[B + (f8npu_pkg::TOffset << 3) +: 32];
    assign t_n[(t << 4) +: 16]     = desc_i[B + (f8npu_pkg::TN << 3) +: 16];
    assign t_h[(t << 4) +: 16]     = desc_i[B + (f8npu_pkg::TH << 3) +: 16];
    assign t_w[(t << 4) +: 16]     = desc_i[B + (f8npu_pkg::TW << 3) +: 16];
    assign t_c[(t << 4) +: 16]     = desc_i[B + (f8npu_pkg::TC << 3) +: 16];
    assign t_sn[(t << 5) +: 32]    = desc_i[B + (f8npu_pkg::TStrideN << 3) +: 32];
    assign t_sh[(t << 5) +: 32]    = desc_i[B + (f8npu_pkg::TStrideH << 3) +: 32];
    assign t_sw[(t << 5) +: 32]    = desc_i[B + (f8npu_pkg::TStrideW << 3) +: 32];
    // reserved0, reserved1 zero and a known type
    assign t_ok[t] = desc_i[B + (f8npu_pkg::TReserved0 << 3) +: 16] == '0 &&
                     desc_i[B + (f8npu_pkg::TReserved1 << 3) +: 32] == '0 &&
                     desc_i[B + (f8npu_pkg::TType << 3) +: 8] < f8npu_pkg::TypeCount;
    assign t_zero[t] = desc_i[B +: 256] == '0;
    assign t_s32[t]  = desc_i[B + (f8npu_pkg::TType << 3) +: 8] == f8npu_pkg::TypeS32;
    assign t_misaligned[t] = t_s32[t] &&
        (desc_i[B + (f8npu_pkg::TOffset << 3) +: 2] != '0 ||
         desc_i[B + (f8npu_pkg::TStrideN << 3) +: 2] != '0 ||
         desc_i[B + (f8npu_pkg::TStrideH << 3) +: 2] != '0 ||
         desc_i[B + (f8npu_pkg::TStrideW << 3) +: 2] != '0);
  end

  logic [15:0] src_n, src_h, src_w, src_c, d0_n, d0_h, d0_w, d0_c;
  assign src_n = t_n[15:0];
  assign src_h = t_h[15:0];
  assign src_w = t_w[15:0];
  assign src_c = t_c[15:0];
  assign d0_n  = t_n[47:32];
  assign d0_h  = t_h[47:32];
  assign d0_w  = t_w[47:32];
  assign d0_c  = t_c[47:32];

  // Which operands are used (valid after step 2).
  logic aux_used, dst1_used, bias_used;
  assign aux_used  = f_aux;
  assign dst1_used = f_dst1;
  assign bias_used = is_conv && f_bias;

  // ---------------------------------------------------------------------------------------
  // Step 1: opcode.
  logic bad_opcode;
  assign bad_opcode = op == 8'd0 || op >= f8npu_pkg::OpCount || !cap_ops_i[op[4:0]];

  // Step 2: fields.
  logic [7:0] allowed;
  logic       bad_field, bad_field_op;
  assign allowed = is_conv ? f8npu_pkg::FlagsConv : f8npu_pkg::FlagsElem;
  always_comb begin
    bad_field_op = (flags & ~allowed) != '0;
    bad_field_op |= desc_i[(f8npu_pkg::DReserved0 << 3) +: 16] != '0;
    bad_field_op |= desc_i[(f8npu_pkg::DReserved1 << 3) +: 16] != '0;
    bad_field_op |= desc_i[(f8npu_pkg::DReserved2 << 3) +: 112] != '0;
    bad_field_op |= desc_i[(f8npu_pkg::DReserved3 << 3) +: 640] != '0;
    bad_field_op |= !t_ok[0] || !t_ok[2];
    bad_field_op |= f_aux ? !t_ok[1] : !t_zero[1];
    bad_field_op |= f_dst1 ? !t_ok[3] : !t_zero[3];
    if (is_conv) begin
      bad_field_op |= t_s32[0];
      bad_field_op |= desc_i[((f8npu_pkg::DWeights + f8npu_pkg::BReserved) << 3) +: 24] != '0;
      if (f_bias) begin
        bad_field_op |= desc_i[((f8npu_pkg::DBias + f8npu_pkg::BReserved) << 3) +: 24] != '0;
      end else begin
        bad_field_op |= desc_i[(f8npu_pkg::DBias << 3) +: 64] != '0;
      end
    end else begin
      bad_field_op |= desc_i[(f8npu_pkg::DWeights << 3) +: 128] != '0;
    end
    // No window (ADD): kernel, stride and padding MBZ.
    bad_field_op |= !has_window && desc_i[(f8npu_pkg::DKernelH << 3) +: 64] != '0;
    bad_field_op |= !f_aux && align_aux != '0;
    bad_field_op |= !f_dst1 && shift1 != '0;
    // END: every byte after the opcode MBZ.
    bad_field = is_end ? desc_i[2047:8] != '0 : bad_field_op;
  end

  // Step 3 without the division: zero dims, kernel, stride, padding, window vs padded input.
  logic [16:0] padded_h, padded_w, num_h, num_w;
  logic        bad_win_h, bad_win_w, zero_dim, bad_shape_pre;
  assign padded_h  = {1'b0, src_h} + {9'd0, pt} + {9'd0, pb};
  assign padded_w  = {1'b0, src_w} + {9'd0, pl} + {9'd0, pr};
  assign num_h     = padded_h - {9'd0, kh};
  assign num_w     = padded_w - {9'd0, kw};
  assign bad_win_h = kh == '0 || sh == '0 || pt >= kh || pb >= kh || padded_h < {9'd0, kh};
  assign bad_win_w = kw == '0 || sw == '0 || pl >= kw || pr >= kw || padded_w < {9'd0, kw};
  assign zero_dim  = src_n == '0 || src_h == '0 || src_w == '0 || src_c == '0 ||
                     d0_n == '0 || d0_h == '0 || d0_w == '0 || d0_c == '0;
  assign bad_shape_pre = zero_dim || (has_window && (bad_win_h || bad_win_w));

  // Step 6: alignment (combinational).
  logic bad_align;
  assign bad_align = t_misaligned[0] || t_misaligned[2] || (aux_used && t_misaligned[1]) ||
                     (dst1_used && t_misaligned[3]) || (bias_used && bias_off[1:0] != '0);

  // ---------------------------------------------------------------------------------------
  // Control.

  logic        busy_q, done_q, res_ok_q;
  logic [3:0]  err_q;
  logic [4:0]  job_q, job_nxt, job_go;
  logic        mul_start, mul_done;
  logic [63:0] mul_a, mul_p;
  logic [16:0] mul_b;
  logic        div_start, div_h_done, div_w_done;
  logic [16:0] q_h, q_w;
  logic        div_h_q, div_w_q;       // quotient known
  logic        k_known_q, ext_known_q; // K known; every extent known
  logic        chk34_q;                // steps 3 and 4 passed
  logic [16:0] ho_q, wo_q;
  logic [31:0] k_q;
  logic [63:0] acc_q;                  // extent partial sums
  logic [ExtW-1:0] ext_src_q, ext_aux_q, ext_d0_q, ext_d1_q;
  logic [32:0] wext_q;
  logic        selfov_q;               // an output overlaps itself
  logic [63:0] srcb_q, oute_q, macs_q, rd_q, wr_q;

  logic [1:0]  r_st_q;
  logic [5:0]  rem_q;
  logic        bad_region_q, oob_rd_q, oob_wr_q, overlap_q;
  logic [63:0] s0_q, e0_q, s1_q, e1_q;

  // ---- steps 3 and 4, once Ho, Wo and K are known ----
  logic [16:0] ho, wo;
  logic [15:0] out_c;
  logic        bad_shape_post, bad_limit, chk34_ready;
  logic        shift0_ok, shift1_ok;
  assign ho    = has_window ? q_h + 17'd1 : {1'b0, src_h};
  assign wo    = has_window ? q_w + 17'd1 : {1'b0, src_w};
  assign out_c = is_conv && !f_dw ? d0_c : src_c;
  assign bad_shape_post =
      d0_n != src_n || {1'b0, d0_h} != ho || {1'b0, d0_w} != wo || d0_c != out_c ||
      (aux_used && (t_n[31:16] != d0_n || t_h[31:16] != d0_h ||
                    t_w[31:16] != d0_w || t_c[31:16] != d0_c)) ||
      (dst1_used && (t_n[63:48] != d0_n || t_h[63:48] != d0_h ||
                     t_w[63:48] != d0_w || t_c[63:48] != d0_c));
  // -31 .. 31 as a signed byte: 0x00..0x1f or 0xe1..0xff
  assign shift0_ok = shift0[7:5] == 3'b000 || (shift0[7:5] == 3'b111 && shift0[4:0] != '0);
  assign shift1_ok = shift1[7:5] == 3'b000 || (shift1[7:5] == 3'b111 && shift1[4:0] != '0);
  assign bad_limit = (is_conv && k_q > f8npu_pkg::MaxK) || !shift0_ok || !shift1_ok ||
                     align_src > f8npu_pkg::AlignMax || align_aux > f8npu_pkg::AlignMax;
  assign chk34_ready = (!has_window || (div_h_q && div_w_q)) && (!is_conv || k_known_q);

  // ---- dividers: (padded - k) / stride ----
  assign div_start = start_i && !busy_q;

  f8npu_seqdiv #(.NWidth(17), .DWidth(8), .Step(DivStep)) u_div_h (
    .clk_i, .rst_ni, .start_i(div_start), .num_i(num_h), .den_i(sh),
    .done_o(div_h_done), .q_o(q_h)
  );
  f8npu_seqdiv #(.NWidth(17), .DWidth(8), .Step(DivStep)) u_div_w (
    .clk_i, .rst_ni, .start_i(div_start), .num_i(num_w), .den_i(sw),
    .done_o(div_w_done), .q_o(q_w)
  );

  // ---- multiplier jobs ----
  logic [1:0]  jt;                 // tensor of the job being started
  logic [15:0] tj_n, tj_h, tj_w;
  logic [31:0] tj_sn, tj_sh, tj_sw;
  logic [16:0] ceil_cout;
  assign ceil_cout = ({1'b0, d0_c} + 17'(Cols - 1)) >> ColsLog2;

  always_comb begin
    jt    = job_go[3:2];
    tj_n  = t_n[{jt, 4'd0} +: 16];
    tj_h  = t_h[{jt, 4'd0} +: 16];
    tj_w  = t_w[{jt, 4'd0} +: 16];
    tj_sn = t_sn[{jt, 5'd0} +: 32];
    tj_sh = t_sh[{jt, 5'd0} +: 32];
    tj_sw = t_sw[{jt, 5'd0} +: 32];
    mul_a = '0;
    mul_b = '0;
    if (job_go[4]) begin
      case (job_go[1:0])
        2'd0:    begin mul_a = {32'd0, tj_sw}; mul_b = {1'b0, tj_w - 16'd1}; end
        2'd1:    begin mul_a = {32'd0, tj_sh}; mul_b = {1'b0, tj_h - 16'd1}; end
        default: begin mul_a = {32'd0, tj_sn}; mul_b = {1'b0, tj_n - 16'd1}; end
      endcase
    end else begin
      case (job_go)
        JWin:    begin mul_a = {56'd0, kw}; mul_b = {9'd0, kh}; end
        JK:      begin mul_a = f_dw ? 64'd1 : {48'd0, src_c}; mul_b = {1'b0, mul_p[15:0]}; end
        JWext:   begin mul_a = {47'd0, k_q[16:0]}; mul_b = {1'b0, d0_c}; end
        JS1:     begin mul_a = {48'd0, src_n}; mul_b = {1'b0, src_h}; end
        JS2:     begin mul_a = mul_p; mul_b = {1'b0, src_w}; end
        JS3:     begin mul_a = mul_p; mul_b = {1'b0, src_c}; end
        JO1:     begin mul_a = {48'd0, d0_n}; mul_b = {1'b0, d0_h}; end
        JO2:     begin mul_a = mul_p; mul_b = {1'b0, d0_w}; end
        JO3:     begin mul_a = mul_p; mul_b = {1'b0, d0_c}; end
        JMacs:   begin mul_a = mul_p; mul_b = k_q[16:0]; end
        JRd:     begin mul_a = srcb_q; mul_b = ceil_cout; end
        default: begin mul_a = '0; mul_b = '0; end
      endcase
    end
  end

  // The job after job_q.
  always_comb begin
    job_nxt = JNone;
    case (job_q)
      JWin:    job_nxt = JK;
      JK:      job_nxt = JSrcW;
      JWext:   job_nxt = JS1;
      JS1:     job_nxt = JS2;
      JS2:     job_nxt = JS3;
      JS3:     job_nxt = JO1;
      JO1:     job_nxt = JO2;
      JO2:     job_nxt = JO3;
      JO3:     job_nxt = is_conv ? JMacs : JFin;
      JMacs:   job_nxt = f_dw ? JFin : JRd;
      JRd:     job_nxt = JFin;
      default: begin
        if (job_q[4]) begin
          if (job_q[1:0] != 2'd2) begin
            job_nxt = job_q + 5'd1;
          end else begin
            case (job_q[3:2])
              2'd0:    job_nxt = aux_used ? JAuxW : JD0W;
              2'd1:    job_nxt = JD0W;
              2'd2:    job_nxt = dst1_used ? JD1W : (is_conv ? JWext : JS1);
              default: job_nxt = is_conv ? JWext : JS1;
            endcase
          end
        end
      end
    endcase
  end

  // The job started this cycle (if it multiplies).
  logic first_ok;   // the start cycle found no error in steps 1, 2 and the early part of 3
  assign first_ok = !bad_opcode && !bad_field && !is_end && !bad_shape_pre;
  always_comb begin
    job_go    = JNone;
    mul_start = 1'b0;
    if (start_i && !busy_q) begin
      job_go    = is_conv ? JWin : JSrcW;
      mul_start = first_ok;
    end else if (busy_q && mul_done) begin
      job_go    = job_nxt;
      mul_start = job_nxt != JFin && job_nxt != JNone;
    end
  end

  f8npu_seqmul #(.Width(64), .BWidth(17), .Step(MulStep)) u_mul (
    .clk_i, .rst_ni, .start_i(mul_start), .a_i(mul_a), .b_i(mul_b),
    .done_o(mul_done), .p_o(mul_p)
  );

  // Tensor job results: pixel = c * size(type); the self-overlap tests of isa.md §2.
  logic [1:0]  jq;                 // tensor of the job that finished
  logic [15:0] tq_n, tq_h, tq_w, tq_c;
  logic [31:0] tq_sn, tq_sh, tq_sw;
  logic [63:0] pixel, acc_sum;
  logic        selfov_step;
  always_comb begin
    jq    = job_q[3:2];
    tq_n  = t_n[{jq, 4'd0} +: 16];
    tq_h  = t_h[{jq, 4'd0} +: 16];
    tq_w  = t_w[{jq, 4'd0} +: 16];
    tq_c  = t_c[{jq, 4'd0} +: 16];
    tq_sn = t_sn[{jq, 5'd0} +: 32];
    tq_sh = t_sh[{jq, 5'd0} +: 32];
    tq_sw = t_sw[{jq, 5'd0} +: 32];
    pixel = t_type[{jq, 3'd0} +: 8] == f8npu_pkg::TypeS32 ? {46'd0, tq_c, 2'b00} : {48'd0, tq_c};
    case (job_q[1:0])
      2'd0: begin  // row = (w-1)*sw + pixel; stride_w >= pixel if w > 1
        acc_sum     = pixel + mul_p;
        selfov_step = tq_w > 16'd1 && {32'd0, tq_sw} < pixel;
      end
      2'd1: begin  // image = (h-1)*sh + row; stride_h >= row if h > 1
        acc_sum     = acc_q + mul_p;
        selfov_step = tq_h > 16'd1 && {32'd0, tq_sh} < acc_q;
      end
      default: begin  // extent = (n-1)*sn + image; stride_n >= image if n > 1
        acc_sum     = acc_q + mul_p;
        selfov_step = tq_n > 16'd1 && {32'd0, tq_sn} < acc_q;
      end
    endcase
    selfov_step = selfov_step && jq[1];  // outputs only (dst0, dst1)
  end

  // Counters of a valid descriptor.
  logic [63:0] src_bytes, aux_bytes, d0_bytes, d1_bytes, rd_sum, wr_sum;
  assign src_bytes = t_s32[0] ? {mul_p[61:0], 2'b00} : mul_p;
  assign aux_bytes = !aux_used ? '0 : t_s32[1] ? {oute_q[61:0], 2'b00} : oute_q;
  assign d0_bytes  = t_s32[2] ? {oute_q[61:0], 2'b00} : oute_q;
  assign d1_bytes  = !dst1_used ? '0 : t_s32[3] ? {oute_q[61:0], 2'b00} : oute_q;
  // srcb_q holds src bytes * ceil(Cout/Cols) after JRd
  assign rd_sum = srcb_q + (is_conv ? {31'd0, wext_q} : 64'd0) +
                  (bias_used ? {46'd0, d0_c, 2'b00} : 64'd0) + aux_bytes;
  assign wr_sum = d0_bytes + d1_bytes;

  // ---------------------------------------------------------------------------------------
  // The pass: one operand per cycle.

  logic [2:0]      psel;
  logic [5:0]      used_mask;
  logic [7:0]      p_region;
  logic [31:0]     p_off;
  logic [ExtW-1:0] p_ext;
  logic [63:0]     p_base, p_size, p_start, p_end, cmd_end, xs, xe, ys, ye;
  logic [64:0]     p_top;
  logic [ExtW:0]   p_offext;
  logic [64:0]     cmd_sum;
  logic            p_is_out, p_bad_region, p_oob, p_hit_x, p_hit_y, p_use_y;

  assign used_mask = {bias_used, is_conv, aux_used, 1'b1, dst1_used, 1'b1};

  always_comb begin
    psel = PBias;
    for (int i = 5; i >= 0; i--) begin
      if (rem_q[i]) begin
        psel = 3'(i);
      end
    end
    p_region = t_region[23:16];
    p_off    = t_off[95:64];
    p_ext    = ext_d0_q;
    case (psel)
      PDst0:   begin p_region = t_region[23:16]; p_off = t_off[95:64];  p_ext = ext_d0_q;  end
      PDst1:   begin p_region = t_region[31:24]; p_off = t_off[127:96]; p_ext = ext_d1_q;  end
      PSrc:    begin p_region = t_region[7:0];   p_off = t_off[31:0];   p_ext = ext_src_q; end
      PAux:    begin p_region = t_region[15:8];  p_off = t_off[63:32];  p_ext = ext_aux_q; end
      PWgt:    begin p_region = wgt_region;      p_off = wgt_off;  p_ext = ExtW'(wext_q); end
      default: begin p_region = bias_region;     p_off = bias_off;
                     p_ext = ExtW'({d0_c, 2'b00}); end
    endcase
    p_is_out = psel == PDst0 || psel == PDst1;
  end

  // Region lookup, steps 5 and 7 for this operand.
  assign p_base       = region_base_i[{p_region[3:0], 6'd0} +: 64];
  assign p_size       = region_size_i[{p_region[3:0], 6'd0} +: 64];
  assign p_top        = {1'b0, p_base} + {1'b0, p_size};
  assign p_bad_region = p_region[7:4] != '0 || p_size == '0 || p_top[64];
  assign p_offext     = {{(ExtW - 31){1'b0}}, p_off} + {1'b0, p_ext};
  assign p_oob        = {{(63 - ExtW){1'b0}}, p_offext} > p_size;
  // The physical span [base + offset, base + offset + extent) (mod 2^64 like the C code).
  assign p_start      = p_base + {32'd0, p_off};
  assign p_end        = p_base + {{(63 - ExtW){1'b0}}, p_offext};

  // Step 8: [p_start, p_end) against X and Y. An output meets the command buffer (X) and, for
  // dst1, dst0 (Y); an input meets dst0 (X) and dst1 (Y, if used).
  assign cmd_sum = {1'b0, cmd_base_i} + {33'd0, cmd_size_i};
  assign cmd_end = cmd_sum[64] ? '1 : cmd_sum[63:0];
  assign xs      = p_is_out ? cmd_base_i : s0_q;
  assign xe      = p_is_out ? cmd_end : e0_q;
  assign ys      = psel == PDst1 ? s0_q : s1_q;
  assign ye      = psel == PDst1 ? e0_q : e1_q;
  assign p_use_y = psel == PDst1 || (!p_is_out && dst1_used);
  assign p_hit_x = p_start < xe && xs < p_end;
  assign p_hit_y = p_use_y && p_start < ye && ys < p_end;

  // ---------------------------------------------------------------------------------------
  // Sequencing.

  logic       finish;
  logic [3:0] finish_err;
  logic       finish_ok;

  always_comb begin
    finish     = 1'b0;
    finish_err = f8npu_regmap_pkg::ErrNone;
    finish_ok  = 1'b0;
    if (start_i && !busy_q) begin
      if (bad_opcode) begin
        finish = 1'b1; finish_err = f8npu_regmap_pkg::ErrBadOpcode;
      end else if (bad_field) begin
        finish = 1'b1; finish_err = f8npu_regmap_pkg::ErrBadField;
      end else if (is_end) begin
        finish = 1'b1;
      end else if (bad_shape_pre) begin
        finish = 1'b1; finish_err = f8npu_regmap_pkg::ErrBadShape;
      end
    end else if (busy_q) begin
      if (!chk34_q && chk34_ready && bad_shape_post) begin
        finish = 1'b1; finish_err = f8npu_regmap_pkg::ErrBadShape;
      end else if (!chk34_q && chk34_ready && bad_limit) begin
        finish = 1'b1; finish_err = f8npu_regmap_pkg::ErrLimit;
      end else if (r_st_q == RCheck) begin
        if (bad_region_q) begin
          finish = 1'b1; finish_err = f8npu_regmap_pkg::ErrBadRegion;
        end else if (bad_align) begin
          finish = 1'b1; finish_err = f8npu_regmap_pkg::ErrAlign;
        end else if (oob_rd_q) begin
          finish = 1'b1; finish_err = f8npu_regmap_pkg::ErrOobRead;
        end else if (oob_wr_q) begin
          finish = 1'b1; finish_err = f8npu_regmap_pkg::ErrOobWrite;
        end else if (overlap_q || selfov_q) begin
          finish = 1'b1; finish_err = f8npu_regmap_pkg::ErrOverlap;
        end
      end else if (r_st_q == ROk && job_q == JNone) begin
        finish    = 1'b1;
        finish_ok = 1'b1;
      end
    end
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      busy_q       <= 1'b0;
      done_q       <= 1'b0;
      res_ok_q     <= 1'b0;
      err_q        <= '0;
      job_q        <= JNone;
      div_h_q      <= 1'b0;
      div_w_q      <= 1'b0;
      k_known_q    <= 1'b0;
      ext_known_q  <= 1'b0;
      chk34_q      <= 1'b0;
      ho_q         <= '0;
      wo_q         <= '0;
      k_q          <= '0;
      acc_q        <= '0;
      ext_src_q    <= '0;
      ext_aux_q    <= '0;
      ext_d0_q     <= '0;
      ext_d1_q     <= '0;
      wext_q       <= '0;
      selfov_q     <= 1'b0;
      srcb_q       <= '0;
      oute_q       <= '0;
      macs_q       <= '0;
      rd_q         <= '0;
      wr_q         <= '0;
      r_st_q       <= RWait;
      rem_q        <= '0;
      bad_region_q <= 1'b0;
      oob_rd_q     <= 1'b0;
      oob_wr_q     <= 1'b0;
      overlap_q    <= 1'b0;
      s0_q         <= '0;
      e0_q         <= '0;
      s1_q         <= '0;
      e1_q         <= '0;
    end else begin
      done_q <= finish;
      if (finish) begin
        busy_q   <= 1'b0;
        err_q    <= finish_err;
        res_ok_q <= finish_ok;
      end
      if (start_i && !busy_q) begin
        // A new descriptor: clear the state of the previous one.
        busy_q       <= !finish;
        res_ok_q     <= 1'b0;
        job_q        <= job_go;
        div_h_q      <= 1'b0;
        div_w_q      <= 1'b0;
        k_known_q    <= 1'b0;
        ext_known_q  <= 1'b0;
        chk34_q      <= 1'b0;
        k_q          <= '0;
        selfov_q     <= 1'b0;
        macs_q       <= '0;
        r_st_q       <= RWait;
        bad_region_q <= 1'b0;
        oob_rd_q     <= 1'b0;
        oob_wr_q     <= 1'b0;
        overlap_q    <= 1'b0;
      end else if (busy_q && !finish) begin
        // Dividers.
        if (div_h_done) begin
          div_h_q <= 1'b1;
        end
        if (div_w_done) begin
          div_w_q <= 1'b1;
        end
        // Steps 3 and 4 passed.
        if (!chk34_q && chk34_ready) begin
          chk34_q <= 1'b1;
          ho_q    <= ho;
          wo_q    <= wo;
        end
        // Multiplier results.
        if (mul_done) begin
          job_q <= job_go;
          if (job_q[4]) begin
            acc_q    <= acc_sum;
            selfov_q <= selfov_q || selfov_step;
            if (job_q[1:0] == 2'd2) begin
              case (job_q[3:2])
                2'd0:    ext_src_q <= acc_sum[ExtW-1:0];
                2'd1:    ext_aux_q <= acc_sum[ExtW-1:0];
                2'd2:    ext_d0_q  <= acc_sum[ExtW-1:0];
                default: ext_d1_q  <= acc_sum[ExtW-1:0];
              endcase
            end
          end else begin
            case (job_q)
              JK:      k_q    <= mul_p[31:0];
              JWext:   wext_q <= mul_p[32:0];
              JS3:     srcb_q <= src_bytes;
              JO3:     oute_q <= mul_p;
              JMacs:   macs_q <= mul_p;
              JRd:     srcb_q <= mul_p;
              default: ;  // JWin, JS1, JS2, JO1, JO2: the next job takes mul_p
            endcase
          end
          if (job_q == JK) begin
            k_known_q <= 1'b1;
          end
          if (job_go == JS1) begin
            ext_known_q <= 1'b1;
          end
        end else if (job_q == JFin) begin
          rd_q  <= rd_sum;
          wr_q  <= wr_sum;
          job_q <= JNone;
        end
        // The pass.
        case (r_st_q)
          RWait: begin
            if (ext_known_q && chk34_q) begin
              r_st_q <= RRun;
              rem_q  <= used_mask;
            end
          end
          RRun: begin
            bad_region_q <= bad_region_q || p_bad_region;
            oob_rd_q     <= oob_rd_q || (!p_is_out && p_oob);
            oob_wr_q     <= oob_wr_q || (p_is_out && p_oob);
            overlap_q    <= overlap_q || p_hit_x || p_hit_y;
            if (psel == PDst0) begin
              s0_q <= p_start;
              e0_q <= p_end;
            end
            if (psel == PDst1) begin
              s1_q <= p_start;
              e1_q <= p_end;
            end
            rem_q <= rem_q & (rem_q - 6'd1);
            if ((rem_q & (rem_q - 6'd1)) == '0) begin
              r_st_q <= RCheck;
            end
          end
          RCheck:  r_st_q <= ROk;
          default: ;
        endcase
      end
    end
  end

  // Bits unused on purpose: reserved-ref zero tests of src/dst0 (they use t_ok), bit 16 of Ho/Wo
  // (a valid descriptor's Ho, Wo equal 16-bit dims), the low bits of base + size (carry only).
  logic unused_bits;
  assign unused_bits = t_zero[0] ^ t_zero[2] ^ ho_q[16] ^ wo_q[16] ^ (^p_top[63:0]);

  assign done_o     = done_q;
  assign err_o      = err_q;
  assign out_h_o    = res_ok_q ? ho_q[15:0] : '0;
  assign out_w_o    = res_ok_q ? wo_q[15:0] : '0;
  assign k_o        = res_ok_q ? k_q[16:0] : '0;  // k_q stays 0 unless CONV2D
  assign macs_o     = res_ok_q ? macs_q : '0;
  assign rd_bytes_o = res_ok_q ? rd_q : '0;
  assign wr_bytes_o = res_ok_q ? wr_q : '0;
endmodule
