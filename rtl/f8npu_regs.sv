// SPDX-License-Identifier: MIT
// f8npu_regs: the AXI4-Lite register slave, the register file and the interrupt
// (docs/regs.md; bit for bit what sim/f8npu_model.c's model_reg_read/model_reg_write do).
//
// Timing (what the command processor and the test bench rely on):
// - A write takes effect at the clock edge where s_bvalid_o rises, once both its AW and W
//   beats have been taken (in either order or together). AW and W are buffered one deep, so
//   the next write's beats may be accepted while a response waits for s_bready_i.
// - A read samples the registers at the edge of its AR handshake (s_rvalid_o rises there);
//   s_arready_o is low while read data waits for s_rready_i.
// - Within one edge: a read sees the state before the edge; a write acts before a job end
//   (a job end in the cycle of an IRQ_STATUS write sets its bit after the clear, and a
//   START, region or CMD_* write there still sees BUSY); SOFT_RESET acts last, so a job end
//   in its cycle is lost, as the job was aborted; CTRL's bits act in the order SOFT_RESET,
//   PERF_CLEAR, START.
// - start_o, soft_reset_o and perf_clear_o are high for the one cycle after the edge where
//   the CTRL write took effect; busy_o rises with start_o. A command processor that acts on
//   them at the next edge does so no later than the write's B handshake, so a read issued
//   after the response sees HEAD, WAIT and the counters updated.
// - job_end_i is ignored while not busy (a command processor that has not yet seen
//   soft_reset_o cannot end a job the reset aborted).
// - Writes with s_wstrb_i != 4'hf are ignored (OKAY response); every response is OKAY.
module f8npu_regs #(
  parameter int unsigned Rows      = 16,
  parameter int unsigned Cols      = 16,
  parameter int unsigned IbufBytes = 65536,
  parameter int unsigned WbufBytes = 65536,
  parameter int unsigned AbufBytes = 16384,
  parameter int unsigned Impl      = 1
) (
  input  logic              clk_i,
  input  logic              rst_ni,
  input  logic              s_awvalid_i,
  output logic              s_awready_o,
  input  logic [11:0]       s_awaddr_i,
  input  logic              s_wvalid_i,
  output logic              s_wready_o,
  input  logic [31:0]       s_wdata_i,
  input  logic [3:0]        s_wstrb_i,
  output logic              s_bvalid_o,
  input  logic              s_bready_i,
  output logic [1:0]        s_bresp_o,
  input  logic              s_arvalid_i,
  output logic              s_arready_o,
  input  logic [11:0]       s_araddr_i,
  output logic              s_rvalid_o,
  input  logic              s_rready_i,
  output logic [31:0]       s_rdata_o,
  output logic [1:0]        s_rresp_o,
  output logic              irq_o,
  output logic [1023:0]     region_base_o,  // 16 entries of 64 bits
  output logic [1023:0]     region_size_o,
  output logic [63:0]       cmd_base_o,
  output logic [31:0]       cmd_size_o,
  output logic [31:0]       cmd_tail_o,
  output logic              start_o,
  output logic              soft_reset_o,
  output logic              perf_clear_o,
  output logic              busy_o,
  input  logic              waiting_i,
  input  logic              job_end_i,
  input  logic [3:0]        job_err_i,
  input  logic [31:0]       job_err_index_i,
  input  logic [31:0]       head_i,
  input  logic [63:0]       perf_cycles_i,
  input  logic [63:0]       perf_macs_i,
  input  logic [63:0]       perf_rd_i,
  input  logic [63:0]       perf_wr_i,
  input  logic [63:0]       perf_stall_i,
  input  logic [31:0]       perf_descs_i
);

  localparam int unsigned NumRegions = f8npu_regmap_pkg::Regions;
  localparam int unsigned RegionIdxW = $clog2(NumRegions);
  localparam int unsigned StrideLog2 = f8npu_regmap_pkg::RegRegionStrideLog2;

  // Read-only values (docs/regs.md; the model's constants).
  localparam logic [31:0] RowsW      = Rows;
  localparam logic [31:0] ColsW      = Cols;
  localparam logic [31:0] ImplW      = Impl;
  localparam logic [31:0] CapIbuf    = IbufBytes;
  localparam logic [31:0] CapWbuf    = WbufBytes;
  localparam logic [31:0] CapAbuf    = AbufBytes;
  localparam logic [31:0] CapArray   = {ColsW[15:0], RowsW[15:0]};
  localparam logic [31:0] CapRegions = NumRegions;
  localparam logic [31:0] HwVersion  = {f8npu_regmap_pkg::HwVersionMajor[15:0],
                                        f8npu_regmap_pkg::HwVersionMinor[15:0]};
  localparam logic [31:0] CmdVersion = {f8npu_pkg::CmdVersionMajor, f8npu_pkg::CmdVersionMinor};
  localparam logic [31:0] CapMaxDim  = 32'd65535;
  localparam logic [31:0] CapMaxK    = 32'd65536;
  localparam logic [31:0] CapShift   = 32'h001f_1fe1;  // min -31 (s8), max 31, align max 31
  localparam logic [31:0] CapTypes   = 32'h0000_0007;  // u8, s8, s32

  localparam int unsigned IrqDone  = f8npu_regmap_pkg::IrqDone;
  localparam int unsigned IrqError = f8npu_regmap_pkg::IrqError;

  // ---- registers ----
  logic [1023:0]    region_base_q;
  logic [1023:0]    region_size_q;
  logic [63:0]      cmd_base_q, cmd_base_d;
  logic [31:0]      cmd_size_q, cmd_size_d;
  logic [31:0]      cmd_tail_q, cmd_tail_d;
  logic             busy_q, busy_d;
  logic             done_q, done_d;
  logic             error_q, error_d;
  logic [3:0]       err_code_q, err_code_d;
  logic [31:0]      err_index_q, err_index_d;
  logic [1:0]       irq_status_q, irq_status_d;
  logic [1:0]       irq_mask_q, irq_mask_d;
  logic [31:0]      hi_latch_q, hi_latch_d;  // _HI half latched by the last PERF_*_LO read
  logic             start_q, soft_reset_q, perf_clear_q;

  // ---- AXI4-Lite write channel: AW and W buffered one deep, one response ----
  logic        aw_q, w_q, bvalid_q;
  logic [11:0] awaddr_q;
  logic [31:0] wdata_q;
  logic [3:0]  wstrb_q;
  logic        aw_have, w_have, wr_fire;
  logic [11:0] waddr;
  logic [31:0] wdata;
  logic        wr_en;

  assign s_awready_o = ~aw_q;
  assign s_wready_o  = ~w_q;
  assign s_bvalid_o  = bvalid_q;
  assign s_bresp_o   = 2'b00;

  assign aw_have = aw_q | s_awvalid_i;
  assign w_have  = w_q | s_wvalid_i;
  assign wr_fire = aw_have & w_have & ~bvalid_q;
  assign waddr   = aw_q ? awaddr_q : s_awaddr_i;
  assign wdata   = w_q ? wdata_q : s_wdata_i;
  assign wr_en   = wr_fire & ((w_q ? wstrb_q : s_wstrb_i) == 4'hf);

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      aw_q     <= 1'b0;
      w_q      <= 1'b0;
      bvalid_q <= 1'b0;
      awaddr_q <= '0;
      wdata_q  <= '0;
      wstrb_q  <= '0;
    end else begin
      if (wr_fire) begin
        aw_q <= 1'b0;
      end else if (s_awvalid_i && !aw_q) begin
        aw_q     <= 1'b1;
        awaddr_q <= s_awaddr_i;
      end
      if (wr_fire) begin
        w_q <= 1'b0;
      end else if (s_wvalid_i && !w_q) begin
        w_q     <= 1'b1;
        wdata_q <= s_wdata_i;
        wstrb_q <= s_wstrb_i;
      end
      if (wr_fire) begin
        bvalid_q <= 1'b1;
      end else if (s_bready_i) begin
        bvalid_q <= 1'b0;
      end
    end
  end

  // ---- AXI4-Lite read channel ----
  logic        rvalid_q, rd_fire;
  logic [31:0] rdata_q, rdata_d;

  assign s_arready_o = ~rvalid_q;
  assign s_rvalid_o  = rvalid_q;
  assign s_rdata_o   = rdata_q;
  assign s_rresp_o   = 2'b00;
  assign rd_fire     = s_arvalid_i & ~rvalid_q;

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      rvalid_q <= 1'b0;
      rdata_q  <= '0;
    end else if (rd_fire) begin
      rvalid_q <= 1'b1;
      rdata_q  <= rdata_d;
    end else if (s_rready_i) begin
      rvalid_q <= 1'b0;
    end
  end

  // ---- address decode (region table: entry, field; offsets must be 4-byte aligned) ----
  logic                  rd_region, wr_region;
  logic [11:0]           rd_roff, wr_roff;
  logic [RegionIdxW-1:0] rd_ridx, wr_ridx;
  logic [11:0]           rd_field, wr_field;

  assign rd_region = s_araddr_i >= f8npu_regmap_pkg::RegRegionBase &&
                     s_araddr_i < f8npu_regmap_pkg::RegRegionEnd && s_araddr_i[1:0] == 2'b00;
  assign wr_region = waddr >= f8npu_regmap_pkg::RegRegionBase &&
                     waddr < f8npu_regmap_pkg::RegRegionEnd && waddr[1:0] == 2'b00;
  assign rd_roff   = s_araddr_i - f8npu_regmap_pkg::RegRegionBase;
  assign wr_roff   = waddr - f8npu_regmap_pkg::RegRegionBase;
  assign rd_ridx   = rd_roff[StrideLog2 +: RegionIdxW];
  assign wr_ridx   = wr_roff[StrideLog2 +: RegionIdxW];
  assign rd_field  = {{(12 - StrideLog2){1'b0}}, rd_roff[StrideLog2-1:0]};
  assign wr_field  = {{(12 - StrideLog2){1'b0}}, wr_roff[StrideLog2-1:0]};

  // Above the entry index the offsets are zero inside the table.
  logic unused_roff;
  assign unused_roff = ^{rd_roff[11:StrideLog2+RegionIdxW], wr_roff[11:StrideLog2+RegionIdxW]};

  // ---- read data and the _HI latch ----
  logic [63:0] rd_base, rd_size;

  always_comb begin
    rd_base = '0;
    rd_size = '0;
    for (int unsigned r = 0; r < NumRegions; r++) begin
      if (rd_ridx == r[RegionIdxW-1:0]) begin
        rd_base = region_base_q[(r << 6) +: 64];
        rd_size = region_size_q[(r << 6) +: 64];
      end
    end
  end

  always_comb begin
    rdata_d    = '0;
    hi_latch_d = hi_latch_q;
    if (rd_region) begin
      case (rd_field)
        f8npu_regmap_pkg::RegRegionBaseLoOff: rdata_d = rd_base[31:0];
        f8npu_regmap_pkg::RegRegionBaseHiOff: rdata_d = rd_base[63:32];
        f8npu_regmap_pkg::RegRegionSizeLoOff: rdata_d = rd_size[31:0];
        f8npu_regmap_pkg::RegRegionSizeHiOff: rdata_d = rd_size[63:32];
        default:                              rdata_d = '0;
      endcase
    end else begin
      case (s_araddr_i)
        f8npu_regmap_pkg::RegId:          rdata_d = f8npu_regmap_pkg::IdValue;
        f8npu_regmap_pkg::RegHwVersion:   rdata_d = HwVersion;
        f8npu_regmap_pkg::RegCmdVersion:  rdata_d = CmdVersion;
        f8npu_regmap_pkg::RegImpl:        rdata_d = ImplW;
        f8npu_regmap_pkg::RegCapArray:    rdata_d = CapArray;
        f8npu_regmap_pkg::RegCapOps:      rdata_d = f8npu_pkg::CapOps;
        f8npu_regmap_pkg::RegCapRegions:  rdata_d = CapRegions;
        f8npu_regmap_pkg::RegCapIbuf:     rdata_d = CapIbuf;
        f8npu_regmap_pkg::RegCapWbuf:     rdata_d = CapWbuf;
        f8npu_regmap_pkg::RegCapAbuf:     rdata_d = CapAbuf;
        f8npu_regmap_pkg::RegCapMaxDim:   rdata_d = CapMaxDim;
        f8npu_regmap_pkg::RegCapMaxK:     rdata_d = CapMaxK;
        f8npu_regmap_pkg::RegCapShift:    rdata_d = CapShift;
        f8npu_regmap_pkg::RegCapTypes:    rdata_d = CapTypes;
        f8npu_regmap_pkg::RegStatus:      rdata_d = {28'd0, error_q, done_q, busy_q & waiting_i,
                                                     busy_q};
        f8npu_regmap_pkg::RegErrCode:     rdata_d = {28'd0, err_code_q};
        f8npu_regmap_pkg::RegErrIndex:    rdata_d = err_index_q;
        f8npu_regmap_pkg::RegIrqStatus:   rdata_d = {30'd0, irq_status_q};
        f8npu_regmap_pkg::RegIrqMask:     rdata_d = {30'd0, irq_mask_q};
        f8npu_regmap_pkg::RegCmdBaseLo:   rdata_d = cmd_base_q[31:0];
        f8npu_regmap_pkg::RegCmdBaseHi:   rdata_d = cmd_base_q[63:32];
        f8npu_regmap_pkg::RegCmdSize:     rdata_d = cmd_size_q;
        f8npu_regmap_pkg::RegCmdHead:     rdata_d = head_i;
        f8npu_regmap_pkg::RegCmdTail:     rdata_d = cmd_tail_q;
        f8npu_regmap_pkg::RegPerfCyclesLo: begin
          rdata_d    = perf_cycles_i[31:0];
          hi_latch_d = perf_cycles_i[63:32];
        end
        f8npu_regmap_pkg::RegPerfMacsLo: begin
          rdata_d    = perf_macs_i[31:0];
          hi_latch_d = perf_macs_i[63:32];
        end
        f8npu_regmap_pkg::RegPerfRdLo: begin
          rdata_d    = perf_rd_i[31:0];
          hi_latch_d = perf_rd_i[63:32];
        end
        f8npu_regmap_pkg::RegPerfWrLo: begin
          rdata_d    = perf_wr_i[31:0];
          hi_latch_d = perf_wr_i[63:32];
        end
        f8npu_regmap_pkg::RegPerfStallLo: begin
          rdata_d    = perf_stall_i[31:0];
          hi_latch_d = perf_stall_i[63:32];
        end
        f8npu_regmap_pkg::RegPerfCyclesHi,
        f8npu_regmap_pkg::RegPerfMacsHi,
        f8npu_regmap_pkg::RegPerfRdHi,
        f8npu_regmap_pkg::RegPerfWrHi,
        f8npu_regmap_pkg::RegPerfStallHi: rdata_d = hi_latch_q;
        f8npu_regmap_pkg::RegPerfDescs:   rdata_d = perf_descs_i;
        default:                          rdata_d = '0;
      endcase
    end
    if (!rd_fire) begin
      hi_latch_d = hi_latch_q;
    end
  end

  // ---- register writes, job end, CTRL ----
  logic wr_ctrl, soft_reset, perf_clear, start, job_end;

  assign wr_ctrl    = wr_en && waddr == f8npu_regmap_pkg::RegCtrl;
  assign soft_reset = wr_ctrl & wdata[f8npu_regmap_pkg::CtrlSoftReset];
  assign perf_clear = wr_ctrl & wdata[f8npu_regmap_pkg::CtrlPerfClear];
  assign start      = wr_ctrl & wdata[f8npu_regmap_pkg::CtrlStart] & (~busy_q | soft_reset);
  assign job_end    = job_end_i & busy_q;

  always_comb begin
    cmd_base_d    = cmd_base_q;
    cmd_size_d    = cmd_size_q;
    cmd_tail_d    = cmd_tail_q;
    busy_d        = busy_q;
    done_d        = done_q;
    error_d       = error_q;
    err_code_d    = err_code_q;
    err_index_d   = err_index_q;
    irq_status_d  = irq_status_q;
    irq_mask_d    = irq_mask_q;

    // 1. The write (busy-gated registers see BUSY before this edge). The region table is
    // written in its own clocked block (below).
    if (wr_en && !wr_region) begin
      case (waddr)
        f8npu_regmap_pkg::RegIrqStatus: irq_status_d = irq_status_q & ~wdata[1:0];
        f8npu_regmap_pkg::RegIrqMask:   irq_mask_d = wdata[1:0];
        f8npu_regmap_pkg::RegCmdBaseLo: if (!busy_q) cmd_base_d[31:0] = {wdata[31:2], 2'b00};
        f8npu_regmap_pkg::RegCmdBaseHi: if (!busy_q) cmd_base_d[63:32] = wdata;
        f8npu_regmap_pkg::RegCmdSize:   if (!busy_q) cmd_size_d = wdata;
        f8npu_regmap_pkg::RegCmdTail:   cmd_tail_d = wdata;
        default: ;
      endcase
    end

    // 2. The command processor's job end (a new event wins over a same-edge clear).
    if (job_end) begin
      busy_d = 1'b0;
      if (job_err_i == f8npu_regmap_pkg::ErrNone) begin
        done_d                 = 1'b1;
        irq_status_d[IrqDone]  = 1'b1;
      end else begin
        error_d                = 1'b1;
        err_code_d             = job_err_i;
        err_index_d            = job_err_index_i;
        irq_status_d[IrqError] = 1'b1;
      end
    end

    // 3. CTRL: SOFT_RESET (everything to reset values; hi latch below), then START.
    if (soft_reset) begin
      cmd_base_d    = '0;
      cmd_size_d    = '0;
      cmd_tail_d    = '0;
      busy_d        = 1'b0;
      done_d        = 1'b0;
      error_d       = 1'b0;
      err_code_d    = '0;
      err_index_d   = '0;
      irq_status_d  = '0;
      irq_mask_d    = '0;
    end
    if (start) begin
      busy_d      = 1'b1;
      done_d      = 1'b0;
      error_d     = 1'b0;
      err_code_d  = '0;
      err_index_d = '0;
    end
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      cmd_base_q    <= '0;
      cmd_size_q    <= '0;
      cmd_tail_q    <= '0;
      busy_q        <= 1'b0;
      done_q        <= 1'b0;
      error_q       <= 1'b0;
      err_code_q    <= '0;
      err_index_q   <= '0;
      irq_status_q  <= '0;
      irq_mask_q    <= '0;
      hi_latch_q    <= '0;
      start_q       <= 1'b0;
      soft_reset_q  <= 1'b0;
      perf_clear_q  <= 1'b0;
    end else begin
      cmd_base_q    <= cmd_base_d;
      cmd_size_q    <= cmd_size_d;
      cmd_tail_q    <= cmd_tail_d;
      busy_q        <= busy_d;
      done_q        <= done_d;
      error_q       <= error_d;
      err_code_q    <= err_code_d;
      err_index_q   <= err_index_d;
      irq_status_q  <= irq_status_d;
      irq_mask_q    <= irq_mask_d;
      hi_latch_q    <= soft_reset ? 32'd0 : hi_latch_d;
      start_q       <= start;
      soft_reset_q  <= soft_reset;
      perf_clear_q  <= perf_clear;
    end
  end

  // The region table: 2 x 1024 bits written one 32-bit word at a time (a busy-gated write),
  // cleared by SOFT_RESET. In a clocked block of its own, not as a next-state copy in the
  // always_comb above: the same flip-flops with per-word enables, but Verilator no longer
  // copies 2048 bits through region_*_d after every edge and every input change.
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      region_base_q <= '0;
      region_size_q <= '0;
    end else if (soft_reset) begin
      region_base_q <= '0;
      region_size_q <= '0;
    end else if (wr_en && wr_region && !busy_q) begin
      for (int unsigned r = 0; r < NumRegions; r++) begin
        if (wr_ridx == r[RegionIdxW-1:0]) begin
          case (wr_field)
            f8npu_regmap_pkg::RegRegionBaseLoOff:
              region_base_q[(r << 6) +: 32] <= {wdata[31:2], 2'b00};
            f8npu_regmap_pkg::RegRegionBaseHiOff: region_base_q[(r << 6) + 32 +: 32] <= wdata;
            f8npu_regmap_pkg::RegRegionSizeLoOff: region_size_q[(r << 6) +: 32] <= wdata;
            f8npu_regmap_pkg::RegRegionSizeHiOff: region_size_q[(r << 6) + 32 +: 32] <= wdata;
            default: ;
          endcase
        end
      end
    end
  end

  assign irq_o         = |(irq_status_q & irq_mask_q);
  assign region_base_o = region_base_q;
  assign region_size_o = region_size_q;
  assign cmd_base_o    = cmd_base_q;
  assign cmd_size_o    = cmd_size_q;
  assign cmd_tail_o    = cmd_tail_q;
  assign start_o       = start_q;
  assign soft_reset_o  = soft_reset_q;
  assign perf_clear_o  = perf_clear_q;
  assign busy_o        = busy_q;

endmodule
