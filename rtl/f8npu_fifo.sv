// SPDX-License-Identifier: MIT
// f8npu_fifo: first-word-fall-through FIFO on a synchronous-read memory (maps to
// block RAM). The head is the registered read of the next entry; a write to the
// entry being read in the same cycle is bypassed.
//   Width: entry bits; Depth: entries, power of two.
module f8npu_fifo #(
  parameter int unsigned Width = 513,
  parameter int unsigned Depth = 128
) (
  input  logic                     clk_i,
  input  logic                     rst_ni,
  input  logic                     clear_i,   // drop every entry
  input  logic                     push_i,
  input  logic [Width-1:0]         data_i,
  input  logic                     pop_i,     // only while valid_o
  output logic [Width-1:0]         head_o,
  output logic                     valid_o,
  output logic [$clog2(Depth):0]   count_o
);
  localparam int unsigned AW = $clog2(Depth);

  logic [Width-1:0] mem [Depth];
  logic [AW-1:0] wr_q, rd_q, rd_next;
  logic [AW:0] count_q;

  assign rd_next = pop_i ? rd_q + AW'(1) : rd_q;

  always_ff @(posedge clk_i) begin
    if (push_i) mem[wr_q] <= data_i;
    head_o <= (push_i && wr_q == rd_next) ? data_i : mem[rd_next];
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      wr_q <= '0;
      rd_q <= '0;
      count_q <= '0;
    end else if (clear_i) begin
      wr_q <= '0;
      rd_q <= '0;
      count_q <= '0;
    end else begin
      if (push_i) wr_q <= wr_q + AW'(1);
      rd_q <= rd_next;
      count_q <= count_q + (AW+1)'(push_i) - (AW+1)'(pop_i);
    end
  end

  assign valid_o = count_q != '0;
  assign count_o = count_q;

`ifndef SYNTHESIS
  // Invariants (simulation only; make cosim builds with assertions on): the users never pop
  // an empty FIFO nor push a full one.
  always_ff @(posedge clk_i) begin
    if (rst_ni && !clear_i) begin
      assert (!pop_i || count_q != '0) else $error("f8npu_fifo: pop while empty");
      assert (!push_i || pop_i || count_q != (AW+1)'(Depth))
        else $error("f8npu_fifo: push while full (%0d entries)", Depth);
    end
  end
`endif
endmodule
