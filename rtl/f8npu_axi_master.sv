// SPDX-License-Identifier: MIT
// f8npu_axi_master: the internal memory port of f8npu_core (docs/rtl.md) as an AXI4 master.
//
// A request of 1 .. 64 bytes at any byte address becomes the aligned beats that cover it,
// issued as one INCR burst, or two when the beats cross a 4 KiB boundary. One ID, so the
// interconnect returns everything in order.
//
// Reads: the plan of every accepted read (byte offset in the first beat, length, beats) waits
// in a FIFO of MaxReads entries, which bounds the reads in flight; the AR channel carries at
// most one burst per cycle. Each R beat is rotated by the byte offset and its bytes are
// written straight into their place in the 64-byte response register; the response leaves
// the cycle after the last beat (mrs has no ready: RREADY is high whenever a read is
// outstanding). Any RRESP != OKAY in a request's beats sets mrs_err_o and zeroes the data.
//
// Writes: the request's data is held while its beats go out, each beat built from the
// current beat-sized slot rotated by the offset and the rest of the previous slot; WSTRB
// covers exactly the requested bytes. AW goes out at once; W follows through a register. The
// B responses of a split write are merged into one mws_valid_o; MaxWrites writes may wait.
//
// Throughput: one request per cycle on each stream as long as its beats allow (a 16-byte
// read at a 16-byte aligned address is one beat, elsewhere two). Bursts are counted, so the
// length must be 1 .. 64 as docs/rtl.md says. The AXI ports use the standard names (m_axi_*)
// so that FPGA tools recognise the bus.
//
// Parameters:
//   AxiDataBytes  data bus bytes, a power of two, 8 .. 64 (16: 128-bit bus)
//   AxiIdWidth    width of the (constant zero) IDs
//   MaxReads      reads accepted and not yet answered, >= 2
//   MaxWrites     writes accepted and not yet answered (B), >= 2
module f8npu_axi_master #(
  parameter int unsigned AxiDataBytes = 16,
  parameter int unsigned AxiIdWidth   = 1,
  parameter int unsigned MaxReads     = 128,
  parameter int unsigned MaxWrites    = 64
) (
  input  logic                           clk_i,
  input  logic                           rst_ni,
  // internal memory port (docs/rtl.md), this side serves it
  input  logic                           mrd_valid_i,
  output logic                           mrd_ready_o,
  input  logic [63:0]                    mrd_addr_i,
  input  logic [6:0]                     mrd_len_i,
  output logic                           mrs_valid_o,
  output logic [511:0]                   mrs_data_o,
  output logic                           mrs_err_o,
  input  logic                           mwr_valid_i,
  output logic                           mwr_ready_o,
  input  logic [63:0]                    mwr_addr_i,
  input  logic [6:0]                     mwr_len_i,
  input  logic [511:0]                   mwr_data_i,
  output logic                           mws_valid_o,
  output logic                           mws_err_o,
  // AXI4 master
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
  localparam int unsigned Ob       = $clog2(AxiDataBytes);  // byte offset bits in a beat
  localparam int unsigned BeatBits = AxiDataBytes << 3;
  localparam int unsigned Slots    = 64 >> Ob;               // beats in 64 bytes
  localparam int unsigned MaxBeats = Slots + 1;              // beats a request can touch
  localparam int unsigned Bw       = $clog2(MaxBeats + 1);   // a count of beats
  localparam int unsigned Pw       = 12 - Ob;                // beat index inside 4 KiB
  localparam int unsigned RiW      = Ob + 7 + Bw;            // read plan: offset, len, beats
  localparam int unsigned RpW      = $clog2(MaxReads);
  localparam int unsigned WpW      = $clog2(MaxWrites);

  // Constant AXI attributes: INCR bursts of full beats, normal non-cacheable bufferable.
  assign m_axi_awid    = '0;
  assign m_axi_awsize  = 3'(Ob);
  assign m_axi_awburst = 2'b01;
  assign m_axi_awlock  = 1'b0;
  assign m_axi_awcache = 4'b0011;
  assign m_axi_awprot  = 3'b000;
  assign m_axi_awqos   = 4'b0000;
  assign m_axi_arid    = '0;
  assign m_axi_arsize  = 3'(Ob);
  assign m_axi_arburst = 2'b01;
  assign m_axi_arlock  = 1'b0;
  assign m_axi_arcache = 4'b0011;
  assign m_axi_arprot  = 3'b000;
  assign m_axi_arqos   = 4'b0000;

  // ---------------------------------------------------------------------------------------
  // Burst plan of a request: the beats covering [addr, addr + len) and the 4 KiB split.
  // rd_end/wr_end = addr[11:0] + len - 1; bit 12 set means the last byte is on the next page.
  // ---------------------------------------------------------------------------------------
  logic [12:0]   rd_end, wr_end;
  logic          rd_split, wr_split;
  logic [Bw-1:0] rd_beats, wr_beats;     // beats of the whole request
  logic [Bw-1:0] wr_beats1;              // beats of the first burst (all if not split)
  logic [7:0]    rd_len1, rd_len2;       // AxLEN of the first and the second burst
  logic [7:0]    wr_len1, wr_len2;
  logic [Pw-1:0] rd_to_page, wr_to_page; // beats to the end of the page, minus one
  logic [63:0]   wr_inlen;               // request byte i < len

  always_comb begin
    rd_end     = {1'b0, mrd_addr_i[11:0]} + 13'(mrd_len_i) - 13'd1;
    rd_split   = rd_end[12];
    rd_beats   = Bw'(rd_end[12:Ob] - {1'b0, mrd_addr_i[11:Ob]}) + Bw'(1);
    rd_to_page = ~mrd_addr_i[11:Ob];
    rd_len1    = rd_split ? 8'(rd_to_page) : 8'(rd_beats) - 8'd1;
    rd_len2    = 8'(rd_end[11:Ob]);

    wr_end     = {1'b0, mwr_addr_i[11:0]} + 13'(mwr_len_i) - 13'd1;
    wr_split   = wr_end[12];
    wr_beats   = Bw'(wr_end[12:Ob] - {1'b0, mwr_addr_i[11:Ob]}) + Bw'(1);
    wr_to_page = ~mwr_addr_i[11:Ob];
    wr_len1    = wr_split ? 8'(wr_to_page) : 8'(wr_beats) - 8'd1;
    wr_len2    = 8'(wr_end[11:Ob]);
    wr_beats1  = Bw'(wr_len1) + Bw'(1);
    wr_inlen   = ~({64{1'b1}} << mwr_len_i);
  end

  // ---------------------------------------------------------------------------------------
  // Read requests: the AR register (one burst, and the second one of a split) and the FIFO
  // of read plans waiting for their beats.
  // ---------------------------------------------------------------------------------------
  logic          ar_valid_q, ar_split_q;
  logic [63:0]   ar_addr_q;
  logic [7:0]    ar_len_q, ar_len2_q;
  logic          ri_full, ri_empty, rd_take, r_pop;
  logic [RiW-1:0] ri_mem [MaxReads];
  logic [RiW-1:0] ri_new, ri_head_q;     // the plan taken now; the oldest plan (registered)
  logic [RpW-1:0] ri_wr_q, ri_rd_q, ri_rd_next;
  logic [RpW:0]   ri_cnt_q;

  assign ri_full     = ri_cnt_q == (RpW+1)'(MaxReads);
  assign ri_empty    = ri_cnt_q == '0;
  assign mrd_ready_o = !ri_full && (!ar_valid_q || (m_axi_arready && !ar_split_q));
  assign rd_take     = mrd_valid_i && mrd_ready_o;

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      ar_valid_q <= 1'b0;
      ar_split_q <= 1'b0;
      ar_addr_q  <= '0;
      ar_len_q   <= '0;
      ar_len2_q  <= '0;
    end else if (rd_take) begin
      ar_valid_q <= 1'b1;
      ar_split_q <= rd_split;
      ar_addr_q  <= {mrd_addr_i[63:Ob], {Ob{1'b0}}};
      ar_len_q   <= rd_len1;
      ar_len2_q  <= rd_len2;
    end else if (ar_valid_q && m_axi_arready) begin
      if (ar_split_q) begin
        ar_split_q <= 1'b0;
        ar_addr_q  <= {ar_addr_q[63:12] + 52'd1, 12'd0};
        ar_len_q   <= ar_len2_q;
      end else begin
        ar_valid_q <= 1'b0;
      end
    end
  end

  assign m_axi_arvalid = ar_valid_q;
  assign m_axi_araddr  = ar_addr_q;
  assign m_axi_arlen   = ar_len_q;

  // The plan FIFO: storage without reset (distributed RAM) and a registered head, re-read
  // every cycle from the entry that will be the oldest. A plan written at one edge is in the
  // head one edge later, before its first R beat can come (its AR leaves after that edge).
  assign ri_new     = {mrd_addr_i[Ob-1:0], mrd_len_i, rd_beats};
  assign ri_rd_next = !r_pop ? ri_rd_q :
                      (ri_rd_q == RpW'(MaxReads - 1)) ? '0 : ri_rd_q + RpW'(1);

  always_ff @(posedge clk_i) begin
    if (rd_take) ri_mem[ri_wr_q] <= ri_new;
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      ri_wr_q   <= '0;
      ri_rd_q   <= '0;
      ri_cnt_q  <= '0;
      ri_head_q <= '0;
    end else begin
      if (rd_take) ri_wr_q <= (ri_wr_q == RpW'(MaxReads - 1)) ? '0 : ri_wr_q + RpW'(1);
      ri_rd_q   <= ri_rd_next;
      ri_cnt_q  <= ri_cnt_q + (RpW+1)'(rd_take) - (RpW+1)'(r_pop);
      ri_head_q <= ri_mem[ri_rd_next];
    end
  end

  // ---------------------------------------------------------------------------------------
  // Read data: beat k of the head request, rotated right by the offset, holds response bytes
  // k*B - off + j at rotated position j: the low part (j < B - off) belongs to response slot
  // k, the high part to slot k - 1. The first beat also clears every other byte; an error
  // beat clears everything, and the rest of that request writes zeros.
  // ---------------------------------------------------------------------------------------
  logic [Ob-1:0]         r_off;
  logic [6:0]            r_len;
  logic [Bw-1:0]         r_beats, r_beat_q;
  logic                  r_take, r_first, r_last, r_zero, r_err_q;
  logic [MaxBeats-1:0]   r_beat_oh;
  logic [AxiDataBytes-1:0] r_lo;         // rotated byte j belongs to slot k (else k - 1)
  logic [63:0]           r_inlen;        // response byte i < len
  logic [63:0]           r_hit;          // this beat carries response byte i
  logic [2*BeatBits-1:0] r_rot2;
  logic [BeatBits-1:0]   r_rot;
  logic [511:0]          asm_q, asm_d;
  logic                  mrs_valid_q, mrs_err_q;

  assign {r_off, r_len, r_beats} = ri_head_q;
  assign m_axi_rready = !ri_empty;
  assign r_take    = m_axi_rvalid && !ri_empty;
  assign r_first   = r_beat_q == '0;
  assign r_last    = r_beat_q == r_beats - Bw'(1);
  assign r_pop     = r_take && r_last;
  assign r_zero    = (m_axi_rresp != 2'b00) || (!r_first && r_err_q);
  assign r_beat_oh = MaxBeats'(1) << r_beat_q;
  assign r_lo      = {AxiDataBytes{1'b1}} >> r_off;
  assign r_inlen   = ~({64{1'b1}} << r_len);
  assign r_rot2    = {m_axi_rdata, m_axi_rdata} >> {r_off, 3'b000};
  assign r_rot     = r_rot2[BeatBits-1:0];

  always_comb begin
    for (int i = 0; i < 64; i++) begin
      r_hit[i] = r_lo[i & (AxiDataBytes - 1)] ? r_beat_oh[i >> Ob] : r_beat_oh[(i >> Ob) + 1];
    end
  end

  always_comb begin
    asm_d = asm_q;
    for (int i = 0; i < 64; i++) begin
      if (r_take && (r_first || r_zero || r_hit[i])) begin
        asm_d[(i << 3) +: 8] = (r_hit[i] && !r_zero && r_inlen[i]) ?
                               r_rot[((i & (AxiDataBytes - 1)) << 3) +: 8] : 8'h00;
      end
    end
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      r_beat_q    <= '0;
      r_err_q     <= 1'b0;
      asm_q       <= '0;
      mrs_valid_q <= 1'b0;
      mrs_err_q   <= 1'b0;
    end else begin
      asm_q       <= asm_d;
      mrs_valid_q <= r_pop;
      if (r_take) begin
        r_beat_q  <= r_last ? '0 : r_beat_q + Bw'(1);
        r_err_q   <= r_zero;
        mrs_err_q <= r_zero;
      end
    end
  end

  assign mrs_valid_o = mrs_valid_q;
  assign mrs_err_o   = mrs_err_q;
  assign mrs_data_o  = asm_q;

  // ---------------------------------------------------------------------------------------
  // Write requests: AW register, the beat generator and the W register.
  // Beat k byte j is request byte k*B + j - off: for j >= off it is byte j of the current
  // slot rotated left by off; for j < off, byte j of the previous slot rotated the same way.
  // ---------------------------------------------------------------------------------------
  logic                    aw_valid_q, aw_split_q;
  logic [63:0]             aw_addr_q;
  logic [7:0]              aw_len_q, aw_len2_q;
  logic                    wr_take, wb_full;
  logic [511:0]            wg_data_q;        // request data
  logic [Bw-1:0]           wg_idx_q;         // beat of the request going out next
  logic [BeatBits-1:0]     wg_slot;          // its slot of the data (zero past the end)
  logic [BeatBits-1:0]     wg_prev_q;        // previous slot, rotated
  logic [AxiDataBytes+63:0] wg_strb_q;       // strobes of the remaining beats
  logic [Ob-1:0]           wg_off_q;
  logic [Bw-1:0]           wg_left_q;        // beats left in the current burst
  logic [Bw-1:0]           wg_left2_q;       // beats of the second burst still to come
  logic                    wg_push, w_valid_q, w_last_q;
  logic [BeatBits-1:0]     w_data_q, wg_rot, wg_beat;
  logic [2*BeatBits-1:0]   wg_rot2;
  logic [AxiDataBytes-1:0] w_strb_q, wg_hi;

  assign wg_push     = (wg_left_q != '0) && (!w_valid_q || m_axi_wready);
  assign mwr_ready_o = !wb_full && (!aw_valid_q || (m_axi_awready && !aw_split_q)) &&
                       ((wg_left_q == '0) ||
                        (wg_push && wg_left_q == Bw'(1) && wg_left2_q == '0));
  assign wr_take     = mwr_valid_i && mwr_ready_o;

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      aw_valid_q <= 1'b0;
      aw_split_q <= 1'b0;
      aw_addr_q  <= '0;
      aw_len_q   <= '0;
      aw_len2_q  <= '0;
    end else if (wr_take) begin
      aw_valid_q <= 1'b1;
      aw_split_q <= wr_split;
      aw_addr_q  <= {mwr_addr_i[63:Ob], {Ob{1'b0}}};
      aw_len_q   <= wr_len1;
      aw_len2_q  <= wr_len2;
    end else if (aw_valid_q && m_axi_awready) begin
      if (aw_split_q) begin
        aw_split_q <= 1'b0;
        aw_addr_q  <= {aw_addr_q[63:12] + 52'd1, 12'd0};
        aw_len_q   <= aw_len2_q;
      end else begin
        aw_valid_q <= 1'b0;
      end
    end
  end

  assign m_axi_awvalid = aw_valid_q;
  assign m_axi_awaddr  = aw_addr_q;
  assign m_axi_awlen   = aw_len_q;

  always_comb begin
    wg_slot = '0;
    for (int s = 0; s < Slots; s++) begin
      if (wg_idx_q == Bw'(s)) wg_slot = wg_data_q[(s << (Ob + 3)) +: BeatBits];
    end
  end

  assign wg_rot2 = {wg_slot, wg_slot} << {wg_off_q, 3'b000};
  assign wg_rot  = wg_rot2[2*BeatBits-1:BeatBits];
  assign wg_hi   = {AxiDataBytes{1'b1}} << wg_off_q;

  always_comb begin
    for (int j = 0; j < AxiDataBytes; j++) begin
      wg_beat[(j << 3) +: 8] = wg_hi[j] ? wg_rot[(j << 3) +: 8] : wg_prev_q[(j << 3) +: 8];
    end
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      wg_data_q  <= '0;
      wg_idx_q   <= '0;
      wg_prev_q  <= '0;
      wg_strb_q  <= '0;
      wg_off_q   <= '0;
      wg_left_q  <= '0;
      wg_left2_q <= '0;
      w_valid_q  <= 1'b0;
      w_data_q   <= '0;
      w_strb_q   <= '0;
      w_last_q   <= 1'b0;
    end else begin
      if (wg_push) begin
        w_valid_q <= 1'b1;
        w_data_q  <= wg_beat;
        w_strb_q  <= wg_strb_q[AxiDataBytes-1:0];
        w_last_q  <= wg_left_q == Bw'(1);
      end else if (m_axi_wready) begin
        w_valid_q <= 1'b0;
      end
      if (wr_take) begin
        wg_data_q  <= mwr_data_i;
        wg_idx_q   <= '0;
        wg_prev_q  <= '0;
        wg_strb_q  <= {{AxiDataBytes{1'b0}}, wr_inlen} << mwr_addr_i[Ob-1:0];
        wg_off_q   <= mwr_addr_i[Ob-1:0];
        wg_left_q  <= wr_beats1;
        wg_left2_q <= wr_beats - wr_beats1;
      end else if (wg_push) begin
        wg_idx_q   <= wg_idx_q + Bw'(1);
        wg_prev_q  <= wg_rot;
        wg_strb_q  <= wg_strb_q >> AxiDataBytes;
        if (wg_left_q == Bw'(1)) begin
          wg_left_q  <= wg_left2_q;
          wg_left2_q <= '0;
        end else begin
          wg_left_q <= wg_left_q - Bw'(1);
        end
      end
    end
  end

  assign m_axi_wvalid = w_valid_q;
  assign m_axi_wdata  = w_data_q;
  assign m_axi_wstrb  = w_strb_q;
  assign m_axi_wlast  = w_last_q;

  // ---------------------------------------------------------------------------------------
  // Write responses: one bit per write waiting for B (split or not); a split write's two
  // responses make one mws_valid_o whose error is either one's.
  // ---------------------------------------------------------------------------------------
  logic [MaxWrites-1:0] wb_split_q;
  logic [WpW-1:0]       wb_wr_q, wb_rd_q;
  logic [WpW:0]         wb_cnt_q;
  logic                 wb_empty, b_take, b_pop, b_half_q, b_err_q, mws_valid_q, mws_err_q;

  assign wb_full      = wb_cnt_q == (WpW+1)'(MaxWrites);
  assign wb_empty     = wb_cnt_q == '0;
  assign m_axi_bready = !wb_empty;
  assign b_take       = m_axi_bvalid && !wb_empty;
  assign b_pop        = b_take && (b_half_q || !wb_split_q[wb_rd_q]);

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      wb_split_q  <= '0;
      wb_wr_q     <= '0;
      wb_rd_q     <= '0;
      wb_cnt_q    <= '0;
      b_half_q    <= 1'b0;
      b_err_q     <= 1'b0;
      mws_valid_q <= 1'b0;
      mws_err_q   <= 1'b0;
    end else begin
      if (wr_take) begin
        wb_split_q[wb_wr_q] <= wr_split;
        wb_wr_q <= (wb_wr_q == WpW'(MaxWrites - 1)) ? '0 : wb_wr_q + WpW'(1);
      end
      if (b_pop) wb_rd_q <= (wb_rd_q == WpW'(MaxWrites - 1)) ? '0 : wb_rd_q + WpW'(1);
      wb_cnt_q    <= wb_cnt_q + (WpW+1)'(wr_take) - (WpW+1)'(b_pop);
      mws_valid_q <= b_pop;
      if (b_take) begin
        b_half_q <= !b_pop;
        b_err_q  <= m_axi_bresp != 2'b00;
        if (b_pop) mws_err_q <= (b_half_q && b_err_q) || (m_axi_bresp != 2'b00);
      end
    end
  end

  assign mws_valid_o = mws_valid_q;
  assign mws_err_o   = mws_err_q;

  // Bursts are counted, not delimited by RLAST; the IDs are always zero. Each rotation keeps
  // one half of its double-width shift; a first burst has at most 8 beats (AxLEN < 8) while
  // the page index of 8-byte beats has 9 bits.
  logic unused_axi;
  assign unused_axi = ^{m_axi_rid, m_axi_bid, m_axi_rlast, rd_end[Ob-1:0], wr_end[Ob-1:0],
                        r_rot2[2*BeatBits-1:BeatBits], wg_rot2[BeatBits-1:0],
                        rd_to_page, wr_to_page};
endmodule
