// SPDX-License-Identifier: MIT
// f8npu_core: the accelerator (docs/rtl.md). Register slave (AXI4-Lite), command
// processor, validation, execution engine; memory through the internal port.
// STUB: ports only, being written.
module f8npu_core #(
  parameter int unsigned Rows       = 16,
  parameter int unsigned Cols       = 16,
  parameter int unsigned WbufBlocks = 256,
  parameter int unsigned AbufWords  = 256,
  parameter int unsigned FifoDepth  = 128
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
endmodule
