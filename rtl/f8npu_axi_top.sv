// SPDX-License-Identifier: MIT
// f8npu_axi_top: the FPGA top. f8npu_core with its AXI4-Lite register slave brought out under
// the standard names (s_axi_*) and its internal memory port behind f8npu_axi_master (m_axi_*).
// One clock, asynchronous active-low reset.
//
// Parameters:
//   Rows, Cols, WbufBlocks, AbufWords, RbufCols, RbufSlots, TagDepth   f8npu_core's (docs/rtl.md)
//   AxiDataBytes   AXI4 master data bus bytes, 8 .. 64 (16: 128 bits)
//   AxiIdWidth     AXI4 master ID width (the IDs are constant zero)
//   AxiMaxReads    reads in flight on the AXI4 master
//   AxiMaxWrites   writes waiting for their B response on the AXI4 master
module f8npu_axi_top #(
  parameter int unsigned Rows         = 16,
  parameter int unsigned Cols         = 16,
  parameter int unsigned WbufBlocks   = 1024,
  parameter int unsigned AbufWords    = 256,
  parameter int unsigned RbufCols     = 256,
  parameter int unsigned RbufSlots    = 8,
  parameter int unsigned TagDepth     = 256,
  parameter int unsigned AxiDataBytes = 16,
  parameter int unsigned AxiIdWidth   = 1,
  parameter int unsigned AxiMaxReads  = 128,
  parameter int unsigned AxiMaxWrites = 64
) (
  input  logic                           clk_i,
  input  logic                           rst_ni,
  // AXI4-Lite register slave (12-bit byte addresses, docs/regs.md)
  input  logic [11:0]                    s_axi_awaddr,
  input  logic [2:0]                     s_axi_awprot,
  input  logic                           s_axi_awvalid,
  output logic                           s_axi_awready,
  input  logic [31:0]                    s_axi_wdata,
  input  logic [3:0]                     s_axi_wstrb,
  input  logic                           s_axi_wvalid,
  output logic                           s_axi_wready,
  output logic [1:0]                     s_axi_bresp,
  output logic                           s_axi_bvalid,
  input  logic                           s_axi_bready,
  input  logic [11:0]                    s_axi_araddr,
  input  logic [2:0]                     s_axi_arprot,
  input  logic                           s_axi_arvalid,
  output logic                           s_axi_arready,
  output logic [31:0]                    s_axi_rdata,
  output logic [1:0]                     s_axi_rresp,
  output logic                           s_axi_rvalid,
  input  logic                           s_axi_rready,
  output logic                           irq_o,
  // AXI4 master (the device's DMA)
  output logic [AxiIdWidth-1:0]          m_axi_awid,
  output logic [63:0]                    m_axi_awaddr,
  output logic [7:0]                     m_axi_awlen,
  output logic [2:0]                     m_axi_awsize,
  output logic [1:0]                     m_axi_awburst,
  output logic                           m_axi_awlock,
  output logic [3:0]                     m_axi_awcache,
  output logic [2:0]                     m_axi_awprot,
  output logic [3:0]                     m_axi_awqos,
  output logic                           m_axi_awvalid,
  input  logic                           m_axi_awready,
  output logic [(AxiDataBytes << 3)-1:0] m_axi_wdata,
  output logic [AxiDataBytes-1:0]        m_axi_wstrb,
  output logic                           m_axi_wlast,
  output logic                           m_axi_wvalid,
  input  logic                           m_axi_wready,
  input  logic [AxiIdWidth-1:0]          m_axi_bid,
  input  logic [1:0]                     m_axi_bresp,
  input  logic                           m_axi_bvalid,
  output logic                           m_axi_bready,
  output logic [AxiIdWidth-1:0]          m_axi_arid,
  output logic [63:0]                    m_axi_araddr,
  output logic [7:0]                     m_axi_arlen,
  output logic [2:0]                     m_axi_arsize,
  output logic [1:0]                     m_axi_arburst,
  output logic                           m_axi_arlock,
  output logic [3:0]                     m_axi_arcache,
  output logic [2:0]                     m_axi_arprot,
  output logic [3:0]                     m_axi_arqos,
  output logic                           m_axi_arvalid,
  input  logic                           m_axi_arready,
  input  logic [AxiIdWidth-1:0]          m_axi_rid,
  input  logic [(AxiDataBytes << 3)-1:0] m_axi_rdata,
  input  logic [1:0]                     m_axi_rresp,
  input  logic                           m_axi_rlast,
  input  logic                           m_axi_rvalid,
  output logic                           m_axi_rready
);
  // The internal memory port between the core and the adapter.
  logic         mrd_valid, mrd_ready, mrs_valid, mrs_err;
  logic [63:0]  mrd_addr;
  logic [6:0]   mrd_len;
  logic [511:0] mrs_data;
  logic         mwr_valid, mwr_ready, mws_valid, mws_err;
  logic [63:0]  mwr_addr;
  logic [6:0]   mwr_len;
  logic [511:0] mwr_data;
  logic         core_busy, core_waiting;

  f8npu_core #(
    .Rows       (Rows),
    .Cols       (Cols),
    .WbufBlocks (WbufBlocks),
    .AbufWords  (AbufWords),
    .RbufCols   (RbufCols),
    .RbufSlots  (RbufSlots),
    .TagDepth   (TagDepth)
  ) u_core (
    .clk_i       (clk_i),
    .rst_ni      (rst_ni),
    .s_awvalid_i (s_axi_awvalid),
    .s_awready_o (s_axi_awready),
    .s_awaddr_i  (s_axi_awaddr),
    .s_wvalid_i  (s_axi_wvalid),
    .s_wready_o  (s_axi_wready),
    .s_wdata_i   (s_axi_wdata),
    .s_wstrb_i   (s_axi_wstrb),
    .s_bvalid_o  (s_axi_bvalid),
    .s_bready_i  (s_axi_bready),
    .s_bresp_o   (s_axi_bresp),
    .s_arvalid_i (s_axi_arvalid),
    .s_arready_o (s_axi_arready),
    .s_araddr_i  (s_axi_araddr),
    .s_rvalid_o  (s_axi_rvalid),
    .s_rready_i  (s_axi_rready),
    .s_rdata_o   (s_axi_rdata),
    .s_rresp_o   (s_axi_rresp),
    .irq_o       (irq_o),
    .mrd_valid_o (mrd_valid),
    .mrd_ready_i (mrd_ready),
    .mrd_addr_o  (mrd_addr),
    .mrd_len_o   (mrd_len),
    .mrs_valid_i (mrs_valid),
    .mrs_data_i  (mrs_data),
    .mrs_err_i   (mrs_err),
    .mwr_valid_o (mwr_valid),
    .mwr_ready_i (mwr_ready),
    .mwr_addr_o  (mwr_addr),
    .mwr_len_o   (mwr_len),
    .mwr_data_o  (mwr_data),
    .mws_valid_i (mws_valid),
    .mws_err_i   (mws_err),
    .busy_o      (core_busy),
    .waiting_o   (core_waiting)
  );

  f8npu_axi_master #(
    .AxiDataBytes (AxiDataBytes),
    .AxiIdWidth   (AxiIdWidth),
    .MaxReads     (AxiMaxReads),
    .MaxWrites    (AxiMaxWrites)
  ) u_axi (
    .clk_i         (clk_i),
    .rst_ni        (rst_ni),
    .mrd_valid_i   (mrd_valid),
    .mrd_ready_o   (mrd_ready),
    .mrd_addr_i    (mrd_addr),
    .mrd_len_i     (mrd_len),
    .mrs_valid_o   (mrs_valid),
    .mrs_data_o    (mrs_data),
    .mrs_err_o     (mrs_err),
    .mwr_valid_i   (mwr_valid),
    .mwr_ready_o   (mwr_ready),
    .mwr_addr_i    (mwr_addr),
    .mwr_len_i     (mwr_len),
    .mwr_data_i    (mwr_data),
    .mws_valid_o   (mws_valid),
    .mws_err_o     (mws_err),
    .m_axi_awid    (m_axi_awid),
    .m_axi_awaddr  (m_axi_awaddr),
    .m_axi_awlen   (m_axi_awlen),
    .m_axi_awsize  (m_axi_awsize),
    .m_axi_awburst (m_axi_awburst),
    .m_axi_awlock  (m_axi_awlock),
    .m_axi_awcache (m_axi_awcache),
    .m_axi_awprot  (m_axi_awprot),
    .m_axi_awqos   (m_axi_awqos),
    .m_axi_awvalid (m_axi_awvalid),
    .m_axi_awready (m_axi_awready),
    .m_axi_wdata   (m_axi_wdata),
    .m_axi_wstrb   (m_axi_wstrb),
    .m_axi_wlast   (m_axi_wlast),
    .m_axi_wvalid  (m_axi_wvalid),
    .m_axi_wready  (m_axi_wready),
    .m_axi_bid     (m_axi_bid),
    .m_axi_bresp   (m_axi_bresp),
    .m_axi_bvalid  (m_axi_bvalid),
    .m_axi_bready  (m_axi_bready),
    .m_axi_arid    (m_axi_arid),
    .m_axi_araddr  (m_axi_araddr),
    .m_axi_arlen   (m_axi_arlen),
    .m_axi_arsize  (m_axi_arsize),
    .m_axi_arburst (m_axi_arburst),
    .m_axi_arlock  (m_axi_arlock),
    .m_axi_arcache (m_axi_arcache),
    .m_axi_arprot  (m_axi_arprot),
    .m_axi_arqos   (m_axi_arqos),
    .m_axi_arvalid (m_axi_arvalid),
    .m_axi_arready (m_axi_arready),
    .m_axi_rid     (m_axi_rid),
    .m_axi_rdata   (m_axi_rdata),
    .m_axi_rresp   (m_axi_rresp),
    .m_axi_rlast   (m_axi_rlast),
    .m_axi_rvalid  (m_axi_rvalid),
    .m_axi_rready  (m_axi_rready)
  );

  // The protection attributes of register accesses are not checked; busy/waiting are the
  // simulation harness' sideband.
  logic unused_top;
  assign unused_top = ^{s_axi_awprot, s_axi_arprot, core_busy, core_waiting};
endmodule
