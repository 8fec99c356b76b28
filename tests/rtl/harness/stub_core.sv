// SPDX-License-Identifier: MIT
// Stand-in f8npu_core for testing the Verilator harness (sim/f8npu_rtl.cpp) on its own: the real
// core's ports and parameters, a few identification registers, and a traffic generator that drives
// the internal memory port so that the harness's memory model can be timed and checked.
//
// Registers (AXI4-Lite, offsets as docs/regs.md where they exist):
//   0x000 ID, 0x004 HW_VERSION, 0x00c IMPL (1), 0x010 CAP_ARRAY, 0x044 STATUS (BUSY, WAIT),
//   0x050 IRQ_STATUS (bit 0 DONE, RW1C), 0x054 IRQ_MASK.
//   Stub only:
//   0x800/0x804 read address lo/hi   0x808 request length (bytes, 7 bits; 0 is passed through)
//   0x80c read request count         0x810/0x814 write address lo/hi   0x818 write request count
//   0x81c GO (write: start both streams)   0x820 cycles from GO to the last response
//   0x824 read responses with err    0x828 write responses with err    0x82c xor of all read words
//   0x830 read responses             0x834 write responses             0x838 WAIT (waiting_o)
//   0x83c cycles where mrd_valid_o was high but mrd_ready_i low (back-pressure seen)
//   0x8fc 0x42555453 ("STUB")
// Request k of a stream goes to address + k * length; write data byte i is
// (low byte of the byte's address) ^ 0x5a.
// The stand-in carries the real core's name and parameters, unused here.
/* verilator lint_off DECLFILENAME */
/* verilator lint_off UNUSEDPARAM */
module f8npu_core #(
  parameter int unsigned Rows       = 16,
  parameter int unsigned Cols       = 16,
  parameter int unsigned WbufBlocks = 256,
  parameter int unsigned AbufWords  = 256,
  parameter int unsigned FifoDepth  = 128
) (
  input  logic          clk_i,
  input  logic          rst_ni,
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
  output logic          busy_o,
  output logic          waiting_o
);
  /* verilator lint_on UNUSEDPARAM */
  logic        bvalid_q, rvalid_q;
  logic [31:0] rdata_q, rdata_d;
  logic        wr_hs, rd_hs;

  logic [63:0] raddr_q, waddr_q;
  logic [6:0]  len_q;
  logic [31:0] rcount_q, wcount_q, rleft_q, wleft_q, rresp_q, wresp_q;
  logic [31:0] rerr_q, werr_q, xor_q, cycles_q, stall_q, fold;
  logic        running_q, wait_q, done_q, mask_q;

  // AXI4-Lite: a write takes address and data together; one transaction of each kind at a time.
  assign s_awready_o = s_awvalid_i && s_wvalid_i && !bvalid_q;
  assign s_wready_o  = s_awready_o;
  assign wr_hs       = s_awready_o;
  assign s_bvalid_o  = bvalid_q;
  assign s_bresp_o   = 2'b00;
  assign s_arready_o = !rvalid_q;
  assign rd_hs       = s_arvalid_i && !rvalid_q;
  assign s_rvalid_o  = rvalid_q;
  assign s_rdata_o   = rdata_q;
  assign s_rresp_o   = 2'b00;

  always_comb begin
    rdata_d = 32'd0;
    case (s_araddr_i)
      12'h000: rdata_d = 32'h504e_3846;
      12'h004: rdata_d = 32'h0001_0000;
      12'h00c: rdata_d = 32'd1;
      12'h010: rdata_d = {Cols[15:0], Rows[15:0]};
      12'h044: rdata_d = {30'd0, wait_q, running_q};
      12'h050: rdata_d = {31'd0, done_q};
      12'h054: rdata_d = {31'd0, mask_q};
      12'h800: rdata_d = raddr_q[31:0];
      12'h804: rdata_d = raddr_q[63:32];
      12'h808: rdata_d = {25'd0, len_q};
      12'h80c: rdata_d = rcount_q;
      12'h810: rdata_d = waddr_q[31:0];
      12'h814: rdata_d = waddr_q[63:32];
      12'h818: rdata_d = wcount_q;
      12'h820: rdata_d = cycles_q;
      12'h824: rdata_d = rerr_q;
      12'h828: rdata_d = werr_q;
      12'h82c: rdata_d = xor_q;
      12'h830: rdata_d = rresp_q;
      12'h834: rdata_d = wresp_q;
      12'h838: rdata_d = {31'd0, wait_q};
      12'h83c: rdata_d = stall_q;
      12'h8fc: rdata_d = 32'h4255_5453;
      default: rdata_d = 32'd0;
    endcase
  end

  always_comb begin
    fold = 32'd0;
    for (int i = 0; i < 16; i++) fold = fold ^ mrs_data_i[i*32 +: 32];
  end

  assign mrd_valid_o = running_q && rleft_q != 32'd0;
  assign mrd_addr_o  = raddr_q;
  assign mrd_len_o   = len_q;
  assign mwr_valid_o = running_q && wleft_q != 32'd0;
  assign mwr_addr_o  = waddr_q;
  assign mwr_len_o   = len_q;
  always_comb begin
    for (int i = 0; i < 64; i++) mwr_data_o[i*8 +: 8] = (waddr_q[7:0] + 8'(i)) ^ 8'h5a;
  end
  assign busy_o    = running_q;
  assign waiting_o = wait_q;
  assign irq_o     = done_q && mask_q;

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      bvalid_q  <= 1'b0;
      rvalid_q  <= 1'b0;
      rdata_q   <= 32'd0;
      raddr_q   <= 64'd0;
      waddr_q   <= 64'd0;
      len_q     <= 7'd0;
      rcount_q  <= 32'd0;
      wcount_q  <= 32'd0;
      rleft_q   <= 32'd0;
      wleft_q   <= 32'd0;
      rresp_q   <= 32'd0;
      wresp_q   <= 32'd0;
      rerr_q    <= 32'd0;
      werr_q    <= 32'd0;
      xor_q     <= 32'd0;
      cycles_q  <= 32'd0;
      stall_q   <= 32'd0;
      running_q <= 1'b0;
      wait_q    <= 1'b0;
      done_q    <= 1'b0;
      mask_q    <= 1'b0;
    end else begin
      if (rd_hs) begin
        rvalid_q <= 1'b1;
        rdata_q  <= rdata_d;
      end else if (rvalid_q && s_rready_i) begin
        rvalid_q <= 1'b0;
      end
      if (wr_hs) bvalid_q <= 1'b1;
      else if (bvalid_q && s_bready_i) bvalid_q <= 1'b0;

      if (wr_hs && s_wstrb_i == 4'hf) begin
        case (s_awaddr_i)
          12'h050: if (s_wdata_i[0]) done_q <= 1'b0;
          12'h054: mask_q <= s_wdata_i[0];
          12'h800: raddr_q[31:0] <= s_wdata_i;
          12'h804: raddr_q[63:32] <= s_wdata_i;
          12'h808: len_q <= s_wdata_i[6:0];
          12'h80c: rcount_q <= s_wdata_i;
          12'h810: waddr_q[31:0] <= s_wdata_i;
          12'h814: waddr_q[63:32] <= s_wdata_i;
          12'h818: wcount_q <= s_wdata_i;
          12'h81c: if (!running_q) begin
            running_q <= 1'b1;
            rleft_q   <= rcount_q;
            wleft_q   <= wcount_q;
            rresp_q   <= 32'd0;
            wresp_q   <= 32'd0;
            rerr_q    <= 32'd0;
            werr_q    <= 32'd0;
            xor_q     <= 32'd0;
            cycles_q  <= 32'd0;
            stall_q   <= 32'd0;
          end
          12'h838: wait_q <= s_wdata_i[0];
          default: ;
        endcase
      end

      if (running_q) begin
        cycles_q <= cycles_q + 32'd1;
        if (mrd_valid_o && !mrd_ready_i) stall_q <= stall_q + 32'd1;
        if (mrd_valid_o && mrd_ready_i) begin
          raddr_q <= raddr_q + 64'(len_q);
          rleft_q <= rleft_q - 32'd1;
        end
        if (mwr_valid_o && mwr_ready_i) begin
          waddr_q <= waddr_q + 64'(len_q);
          wleft_q <= wleft_q - 32'd1;
        end
        if (mrs_valid_i) begin
          rresp_q <= rresp_q + 32'd1;
          xor_q   <= xor_q ^ fold;
          if (mrs_err_i) rerr_q <= rerr_q + 32'd1;
        end
        if (mws_valid_i) begin
          wresp_q <= wresp_q + 32'd1;
          if (mws_err_i) werr_q <= werr_q + 32'd1;
        end
        if (rleft_q == 32'd0 && wleft_q == 32'd0 && rresp_q == rcount_q && wresp_q == wcount_q) begin
          running_q <= 1'b0;
          done_q    <= 1'b1;
        end
      end
    end
  end
endmodule
