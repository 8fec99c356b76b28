// SPDX-License-Identifier: MIT
// f8npu_core: the accelerator (docs/rtl.md). Register slave (AXI4-Lite), command
// processor, validation, execution engine; memory through the internal port.
module f8npu_core #(
  parameter int unsigned Rows       = 16,
  parameter int unsigned Cols       = 16,
  parameter int unsigned WbufBlocks = 1024,
  parameter int unsigned AbufWords  = 256,
  parameter int unsigned RbufCols   = 256,
  parameter int unsigned RbufSlots  = 8,
  parameter int unsigned TagDepth   = 256
) (
  input  logic          clk_i,
  input  logic          rst_ni,
  // AXI4-Lite register slave (12-bit byte addresses)
  input  logic          s_awvalid_i,
  output logic          s_awready_o,
  input  logic [11:0]   s_awaddr_i,
  input  logic          s_wvalid_i,
  output logic          s_wready_o,
  input  logic [31:0]   s_wdata_i,
  input  logic [3:0]    s_wstrb_i,
  output logic          s_bvalid_o,
  input  logic          s_bready_i,
  output logic [1:0]    s_bresp_o,
  input  logic          s_arvalid_i,
  output logic          s_arready_o,
  input  logic [11:0]   s_araddr_i,
  output logic          s_rvalid_o,
  input  logic          s_rready_i,
  output logic [31:0]   s_rdata_o,
  output logic [1:0]    s_rresp_o,
  output logic          irq_o,
  // internal memory port (docs/rtl.md)
  output logic          mrd_valid_o,
  input  logic          mrd_ready_i,
  output logic [63:0]   mrd_addr_o,
  output logic [6:0]    mrd_len_o,
  input  logic          mrs_valid_i,
  input  logic [511:0]  mrs_data_i,
  input  logic          mrs_err_i,
  output logic          mwr_valid_o,
  input  logic          mwr_ready_i,
  output logic [63:0]   mwr_addr_o,
  output logic [6:0]    mwr_len_o,
  output logic [511:0]  mwr_data_o,
  input  logic          mws_valid_i,
  input  logic          mws_err_i,
  // sideband for simulation harnesses: STATUS.BUSY and STATUS.WAIT without a bus read
  output logic          busy_o,
  output logic          waiting_o
);
  localparam int unsigned IbufBytes = RbufSlots * RbufCols * 64;
  localparam int unsigned WbufBytes = WbufBlocks * Rows * Cols;
  localparam int unsigned AbufBytes = AbufWords * Cols * 4;

  // Registers.
  logic [16*64-1:0] region_base, region_size;
  logic [63:0] cmd_base;
  logic [31:0] cmd_size, cmd_tail, head;
  logic start, soft_reset, perf_clear, busy, waiting, job_end;
  logic [3:0] job_err;
  logic [31:0] job_err_index, perf_descs;
  logic [63:0] perf_cycles, perf_macs, perf_rd, perf_wr, perf_stall;

  f8npu_regs #(
    .Rows(Rows), .Cols(Cols), .IbufBytes(IbufBytes), .WbufBytes(WbufBytes),
    .AbufBytes(AbufBytes), .Impl(1)
  ) u_regs (
    .clk_i, .rst_ni,
    .s_awvalid_i, .s_awready_o, .s_awaddr_i, .s_wvalid_i, .s_wready_o, .s_wdata_i, .s_wstrb_i,
    .s_bvalid_o, .s_bready_i, .s_bresp_o, .s_arvalid_i, .s_arready_o, .s_araddr_i,
    .s_rvalid_o, .s_rready_i, .s_rdata_o, .s_rresp_o, .irq_o,
    .region_base_o(region_base), .region_size_o(region_size), .cmd_base_o(cmd_base),
    .cmd_size_o(cmd_size), .cmd_tail_o(cmd_tail), .start_o(start), .soft_reset_o(soft_reset),
    .perf_clear_o(perf_clear), .busy_o(busy), .waiting_i(waiting), .job_end_i(job_end),
    .job_err_i(job_err), .job_err_index_i(job_err_index), .head_i(head),
    .perf_cycles_i(perf_cycles), .perf_macs_i(perf_macs), .perf_rd_i(perf_rd),
    .perf_wr_i(perf_wr), .perf_stall_i(perf_stall), .perf_descs_i(perf_descs)
  );

  // Responses of reads/writes issued before a soft reset are dropped here, so that
  // the next job only sees its own.
  logic [31:0] rd_out_q, wr_out_q, rd_drop_q, wr_drop_q;
  logic rsp_live, wrsp_live;
  logic rd_acc, wr_acc;
  logic [31:0] rd_out_d, wr_out_d;
  assign rd_acc = mrd_valid_o && mrd_ready_i;
  assign wr_acc = mwr_valid_o && mwr_ready_i;
  assign rd_out_d = rd_out_q + 32'(rd_acc) - 32'(mrs_valid_i);
  assign wr_out_d = wr_out_q + 32'(wr_acc) - 32'(mws_valid_i);
  assign rsp_live = mrs_valid_i && rd_drop_q == '0 && !soft_reset;
  assign wrsp_live = mws_valid_i && wr_drop_q == '0 && !soft_reset;

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      rd_out_q <= '0; wr_out_q <= '0; rd_drop_q <= '0; wr_drop_q <= '0;
    end else begin
      rd_out_q <= rd_out_d;
      wr_out_q <= wr_out_d;
      if (soft_reset) begin
        rd_drop_q <= rd_out_d;
        wr_drop_q <= wr_out_d;
      end else begin
        if (mrs_valid_i && rd_drop_q != '0) rd_drop_q <= rd_drop_q - 32'd1;
        if (mws_valid_i && wr_drop_q != '0) wr_drop_q <= wr_drop_q - 32'd1;
      end
    end
  end

  // Command processor and engine share the read port: the command processor only
  // fetches while the engine is idle.
  logic c_valid, c_ready, e_valid, e_ready;
  logic [63:0] c_addr, e_addr;
  logic [6:0] c_len, e_len;
  logic eng_start, eng_done, eng_bus_err, eng_active, fetching;
  logic [2047:0] desc;
  logic [15:0] out_h, out_w;
  logic [16:0] k;

  f8npu_cmdproc #(.Cols(Cols)) u_cmdproc (
    .clk_i, .rst_ni, .clear_i(soft_reset), .start_i(start), .perf_clear_i(perf_clear),
    .region_base_i(region_base), .region_size_i(region_size), .cmd_base_i(cmd_base),
    .cmd_size_i(cmd_size), .cmd_tail_i(cmd_tail),
    .waiting_o(waiting), .fetching_o(fetching), .job_end_o(job_end), .job_err_o(job_err),
    .job_err_index_o(job_err_index), .head_o(head), .perf_cycles_o(perf_cycles),
    .perf_macs_o(perf_macs), .perf_rd_o(perf_rd), .perf_wr_o(perf_wr),
    .perf_stall_o(perf_stall), .perf_descs_o(perf_descs),
    .eng_start_o(eng_start), .desc_o(desc), .out_h_o(out_h), .out_w_o(out_w), .k_o(k),
    .eng_done_i(eng_done), .eng_bus_err_i(eng_bus_err), .eng_active_i(eng_active),
    .mrd_valid_o(c_valid), .mrd_ready_i(c_ready), .mrd_addr_o(c_addr), .mrd_len_o(c_len),
    .mrs_valid_i(rsp_live && fetching), .mrs_data_i, .mrs_err_i
  );

  f8npu_engine #(
    .Rows(Rows), .Cols(Cols), .WbufBlocks(WbufBlocks), .AbufWords(AbufWords),
    .RbufCols(RbufCols), .RbufSlots(RbufSlots), .TagDepth(TagDepth)
  ) u_engine (
    .clk_i, .rst_ni, .clear_i(soft_reset), .start_i(eng_start), .desc_i(desc),
    .region_base_i(region_base), .out_h_i(out_h), .out_w_i(out_w), .k_i(k),
    .done_o(eng_done), .bus_err_o(eng_bus_err), .active_o(eng_active),
    .mrd_valid_o(e_valid), .mrd_ready_i(e_ready), .mrd_addr_o(e_addr), .mrd_len_o(e_len),
    .mrs_valid_i(rsp_live && !fetching), .mrs_data_i, .mrs_err_i,
    .mwr_valid_o, .mwr_ready_i, .mwr_addr_o, .mwr_len_o, .mwr_data_o,
    .mws_valid_i(wrsp_live), .mws_err_i
  );

  assign mrd_valid_o = c_valid || e_valid;
  assign mrd_addr_o = c_valid ? c_addr : e_addr;
  assign mrd_len_o = c_valid ? c_len : e_len;
  assign c_ready = mrd_ready_i;
  assign e_ready = mrd_ready_i && !c_valid;

  assign busy_o = busy;
  assign waiting_o = waiting;
`ifndef SYNTHESIS
  // Invariants (simulation only; make cosim builds with assertions on, docs/rtl.md):
  // memory requests are 1 ... 64 bytes and never pass 2^64, and no write touches the command
  // buffer [CMD_BASE, CMD_BASE + CMD_SIZE) (isa.md §5 OVERLAP: prefetching it is safe).
  logic [64:0] a_rd_end, a_wr_end, a_cmd_end;
  assign a_rd_end = {1'b0, mrd_addr_o} + {58'd0, mrd_len_o};
  assign a_wr_end = {1'b0, mwr_addr_o} + {58'd0, mwr_len_o};
  assign a_cmd_end = {1'b0, cmd_base} + {33'd0, cmd_size};
  always_ff @(posedge clk_i) begin
    if (rst_ni && mrd_valid_o)
      assert (mrd_len_o != '0 && mrd_len_o <= 7'd64 && a_rd_end <= {1'b1, 64'd0})
        else $error("f8npu_core: read of %0d bytes at 0x%016x", mrd_len_o, mrd_addr_o);
    if (rst_ni && mwr_valid_o) begin
      assert (mwr_len_o != '0 && mwr_len_o <= 7'd64 && a_wr_end <= {1'b1, 64'd0})
        else $error("f8npu_core: write of %0d bytes at 0x%016x", mwr_len_o, mwr_addr_o);
      assert (!({1'b0, mwr_addr_o} < a_cmd_end && {1'b0, cmd_base} < a_wr_end))
        else $error("f8npu_core: write of %0d bytes at 0x%016x into the command buffer",
                    mwr_len_o, mwr_addr_o);
    end
  end
`endif
endmodule
