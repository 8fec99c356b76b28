// SPDX-License-Identifier: MIT
// f8npu_cmdproc: the command processor of docs/isa.md §6. Fetches and checks the
// header, then for each descriptor below TAIL: fetch (4 reads of 64 bytes),
// validate (f8npu_validate), execute (the engine), and count (docs/isa.md §7:
// MACs and DMA bytes are the architectural numbers from validation, added when a
// descriptor completes; cycles are this design's own).
module f8npu_cmdproc #(
  parameter int unsigned Cols = 16
) (
  input  logic              clk_i,
  input  logic              rst_ni,
  input  logic              clear_i,          // soft reset
  input  logic              start_i,          // CTRL.START accepted
  input  logic              perf_clear_i,
  input  logic [16*64-1:0]  region_base_i,
  input  logic [16*64-1:0]  region_size_i,
  input  logic [63:0]       cmd_base_i,
  input  logic [31:0]       cmd_size_i,
  input  logic [31:0]       cmd_tail_i,
  // job state for the registers
  output logic              waiting_o,
  output logic              fetching_o,       // read responses are the command processor's
  output logic              job_end_o,
  output logic [3:0]        job_err_o,
  output logic [31:0]       job_err_index_o,
  output logic [31:0]       head_o,
  output logic [63:0]       perf_cycles_o,
  output logic [63:0]       perf_macs_o,
  output logic [63:0]       perf_rd_o,
  output logic [63:0]       perf_wr_o,
  output logic [63:0]       perf_stall_o,
  output logic [31:0]       perf_descs_o,
  // the engine
  output logic              eng_start_o,
  output logic [2047:0]     desc_o,
  output logic [15:0]       out_h_o,
  output logic [15:0]       out_w_o,
  output logic [16:0]       k_o,
  input  logic              eng_done_i,
  input  logic              eng_bus_err_i,
  input  logic              eng_active_i,
  // command fetch reads (the port is the command processor's while the engine is idle)
  output logic              mrd_valid_o,
  input  logic              mrd_ready_i,
  output logic [63:0]       mrd_addr_o,
  output logic [6:0]        mrd_len_o,
  input  logic              mrs_valid_i,
  input  logic [511:0]      mrs_data_i,
  input  logic              mrs_err_i
);
  typedef enum logic [3:0] {
    SIdle, SHdrReq, SHdrRsp, SHdrCheck, SNext, SFetch, SValidate, SExec, SEnd
  } state_e;

  state_e st_q;
  logic [31:0] head_q, count_q;
  logic [2047:0] d_q;
  logic [255:0] hdr_q;
  logic [2:0] req_q, rsp_q;     // fetch reads issued / answered
  logic err_seen_q;
  logic [3:0] end_err_q;
  logic [31:0] end_index_q;
  logic [63:0] cyc_q, macs_q, rd_q, wr_q, stall_q;
  logic [31:0] descs_q;

  // Validation.
  logic v_start, v_done;
  logic [3:0] v_err;
  logic [15:0] v_out_h, v_out_w;
  logic [16:0] v_k;
  logic [63:0] v_macs, v_rd, v_wr;

  f8npu_validate #(.Cols(Cols)) u_validate (
    .clk_i, .rst_ni, .start_i(v_start), .desc_i(d_q),
    .region_base_i, .region_size_i, .cmd_base_i, .cmd_size_i,
    .cap_ops_i(f8npu_pkg::CapOps),
    .done_o(v_done), .err_o(v_err), .out_h_o(v_out_h), .out_w_o(v_out_w), .k_o(v_k),
    .macs_o(v_macs), .rd_bytes_o(v_rd), .wr_bytes_o(v_wr)
  );

  // Header checks (isa.md §1), in the table's order.
  logic [3:0] hdr_err;
  logic [40:0] hdr_need;
  always_comb begin
    hdr_need = {1'b0, hdr_q[96 +: 32], 8'd0} + 41'd32;
    hdr_err = f8npu_regmap_pkg::ErrNone;
    if (hdr_q[0 +: 32] != f8npu_pkg::CmdMagic) hdr_err = f8npu_regmap_pkg::ErrBadMagic;
    else if (hdr_q[32 +: 16] != f8npu_pkg::CmdVersionMajor ||
             hdr_q[48 +: 16] > f8npu_pkg::CmdVersionMinor)
      hdr_err = f8npu_regmap_pkg::ErrBadVersion;
    else if (hdr_q[64 +: 32] != 32'(f8npu_pkg::CmdDescSize))
      hdr_err = f8npu_regmap_pkg::ErrBadHeader;
    else if (hdr_q[128 +: 128] != '0) hdr_err = f8npu_regmap_pkg::ErrBadHeader;
    else if (hdr_need > {9'd0, cmd_size_i}) hdr_err = f8npu_regmap_pkg::ErrBadHeader;
  end

  logic [63:0] desc_addr;
  assign desc_addr = cmd_base_i + 64'd32 + {24'd0, head_q, 8'd0} + {55'd0, req_q, 6'd0};

  // A fetch whose bytes would pass 2^64 is never issued (the memory port's ranges do not
  // wrap): it ends the job with BUS, as a refused fetch does (docs/isa.md §1).
  logic hdr_wraps, desc_wraps;
  logic [65:0] desc_end;
  assign hdr_wraps = &cmd_base_i[63:5] && cmd_base_i[4:0] != 5'd0;
  assign desc_end = {2'd0, cmd_base_i} + {26'd0, head_q, 8'd0} + 66'd288;
  assign desc_wraps = desc_end > 66'h1_0000_0000_0000_0000;

  assign mrd_valid_o = (st_q == SHdrReq) || (st_q == SFetch && req_q != 3'd4);
  assign mrd_addr_o = (st_q == SHdrReq) ? cmd_base_i : desc_addr;
  assign mrd_len_o = (st_q == SHdrReq) ? 7'd32 : 7'd64;
  assign v_start = st_q == SFetch && rsp_q == 3'd4 && !err_seen_q;
  assign eng_start_o = st_q == SValidate && v_done && v_err == f8npu_regmap_pkg::ErrNone &&
                       d_q[7:0] != f8npu_pkg::OpEnd;

  logic busy;
  assign busy = st_q != SIdle && st_q != SEnd;
  assign waiting_o = st_q == SNext && head_q < count_q && head_q >= cmd_tail_i;

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      st_q <= SIdle; head_q <= '0; count_q <= '0; d_q <= '0; hdr_q <= '0; req_q <= '0;
      rsp_q <= '0; err_seen_q <= 1'b0; end_err_q <= '0; end_index_q <= '0;
      cyc_q <= '0; macs_q <= '0; rd_q <= '0; wr_q <= '0; stall_q <= '0; descs_q <= '0;
    end else if (clear_i) begin
      st_q <= SIdle; head_q <= '0; count_q <= '0; req_q <= '0; rsp_q <= '0;
      err_seen_q <= 1'b0;
      cyc_q <= '0; macs_q <= '0; rd_q <= '0; wr_q <= '0; stall_q <= '0; descs_q <= '0;
    end else begin
      if (perf_clear_i) begin
        cyc_q <= '0; macs_q <= '0; rd_q <= '0; wr_q <= '0; stall_q <= '0; descs_q <= '0;
      end else if (busy && !waiting_o) begin
        cyc_q <= cyc_q + 64'd1;
        if (!eng_active_i) stall_q <= stall_q + 64'd1;
      end
      case (st_q)
        SIdle, SEnd: begin
          st_q <= SIdle;
          if (start_i) begin
            head_q <= '0;
            if (cmd_size_i < 32'd32) begin
              end_err_q <= f8npu_regmap_pkg::ErrCmdOob;
              end_index_q <= 32'hffff_ffff;
              st_q <= SEnd;
            end else if (hdr_wraps) begin
              end_err_q <= f8npu_regmap_pkg::ErrBus;
              end_index_q <= 32'hffff_ffff;
              st_q <= SEnd;
            end else st_q <= SHdrReq;
          end
        end
        SHdrReq: if (mrd_ready_i) st_q <= SHdrRsp;
        SHdrRsp: if (mrs_valid_i) begin
          hdr_q <= mrs_data_i[255:0];
          if (mrs_err_i) begin
            end_err_q <= f8npu_regmap_pkg::ErrBus;
            end_index_q <= 32'hffff_ffff;
            st_q <= SEnd;
          end else begin
            if (!perf_clear_i) rd_q <= rd_q + 64'd32;
            st_q <= SHdrCheck;
          end
        end
        SHdrCheck: begin
          if (hdr_err != f8npu_regmap_pkg::ErrNone) begin
            end_err_q <= hdr_err;
            end_index_q <= 32'hffff_ffff;
            st_q <= SEnd;
          end else begin
            count_q <= hdr_q[96 +: 32];
            head_q <= '0;
            st_q <= SNext;
          end
        end
        SNext: begin
          if (head_q >= count_q) begin
            end_err_q <= f8npu_regmap_pkg::ErrNoEnd;
            end_index_q <= count_q;
            st_q <= SEnd;
          end else if (head_q < cmd_tail_i && desc_wraps) begin
            end_err_q <= f8npu_regmap_pkg::ErrBus;
            end_index_q <= head_q;
            st_q <= SEnd;
          end else if (head_q < cmd_tail_i) begin
            req_q <= '0;
            rsp_q <= '0;
            err_seen_q <= 1'b0;
            st_q <= SFetch;
          end
        end
        SFetch: begin
          if (mrd_valid_o && mrd_ready_i) req_q <= req_q + 3'd1;
          if (mrs_valid_i) begin
            // One constant slice per response (a case, not d_q[rsp_q*512 +: 512]: Yosys turns
            // a variable part-select on the left into 2048-bit shifters, about 18 k LUTs).
            case (rsp_q[1:0])
              2'd0: d_q[0 +: 512] <= mrs_data_i;
              2'd1: d_q[512 +: 512] <= mrs_data_i;
              2'd2: d_q[1024 +: 512] <= mrs_data_i;
              default: d_q[1536 +: 512] <= mrs_data_i;
            endcase
            rsp_q <= rsp_q + 3'd1;
            if (mrs_err_i) err_seen_q <= 1'b1;
          end
          if (rsp_q == 3'd4) begin
            if (err_seen_q) begin
              end_err_q <= f8npu_regmap_pkg::ErrBus;
              end_index_q <= head_q;
              st_q <= SEnd;
            end else begin
              if (!perf_clear_i) rd_q <= rd_q + 64'd256;
              st_q <= SValidate;
            end
          end
        end
        SValidate: if (v_done) begin
          if (v_err != f8npu_regmap_pkg::ErrNone) begin
            end_err_q <= v_err;
            end_index_q <= head_q;
            st_q <= SEnd;
          end else if (d_q[7:0] == f8npu_pkg::OpEnd) begin
            if (!perf_clear_i) descs_q <= descs_q + 32'd1;
            head_q <= head_q + 32'd1;
            end_err_q <= f8npu_regmap_pkg::ErrNone;
            end_index_q <= '0;
            st_q <= SEnd;
          end else st_q <= SExec;
        end
        SExec: if (eng_done_i) begin
          if (eng_bus_err_i) begin
            end_err_q <= f8npu_regmap_pkg::ErrBus;
            end_index_q <= head_q;
            st_q <= SEnd;
          end else begin
            if (!perf_clear_i) begin
              macs_q <= macs_q + v_macs;
              rd_q <= rd_q + v_rd;
              wr_q <= wr_q + v_wr;
              descs_q <= descs_q + 32'd1;
            end
            head_q <= head_q + 32'd1;
            st_q <= SNext;
          end
        end
        default: st_q <= SIdle;
      endcase
    end
  end

  // The job ends in the cycle after SEnd is entered.
  assign fetching_o = st_q == SHdrReq || st_q == SHdrRsp || st_q == SFetch;
  assign job_end_o = st_q == SEnd;
  assign job_err_o = end_err_q;
  assign job_err_index_o = end_index_q;
  assign head_o = head_q;
  assign perf_cycles_o = cyc_q;
  assign perf_macs_o = macs_q;
  assign perf_rd_o = rd_q;
  assign perf_wr_o = wr_q;
  assign perf_stall_o = stall_q;
  assign perf_descs_o = descs_q;
  assign desc_o = d_q;
  assign out_h_o = v_out_h;
  assign out_w_o = v_out_w;
  assign k_o = v_k;

`ifndef SYNTHESIS
  // Invariants (simulation only; make cosim builds with assertions on): a legal state, and a
  // fetch request never passes 2^64 (isa.md §1).
  always_ff @(posedge clk_i) begin
    if (rst_ni) begin
      assert (st_q <= SEnd) else $error("f8npu_cmdproc: illegal state %0d", st_q);
      assert (!(st_q == SHdrReq && hdr_wraps) && !(st_q == SFetch && desc_wraps))
        else $error("f8npu_cmdproc: fetch past 2^64 (state %0d)", st_q);
    end
  end
`endif
endmodule
