# CI gates of the RTL (docs/rtl.md, coding rules):
#   make rtl-lint    tabs, 100 columns, no lint pragma in the sources; verilator --lint-only -Wall
#                    of rtl/f8npu.f clean for f8npu_axi_top and f8npu_core (waivers only in
#                    rtl/lint/verilator_waiver.vlt, each with a comment)
#   make rtl-synth   yosys 0.23: every $mul at most 8 x 8 bits and no $div/$mod/$pow on the
#                    coarse netlist at full size (40 s), then synth_xilinx resource numbers at
#                    Rows=Cols=4 (~6 min; RTL_RES_FULL=1: at full size, ~12 min) into
#                    $(BUILD)/rtl-synth.txt (RTL_ROWS=, RTL_COLS=, ..., RTL_FAMILY=,
#                    RTL_CHECK_ONLY=1: see scripts/rtl-synth.sh)
# Need verilator and yosys (Debian: apt-get install verilator yosys).

BUILD ?= build

# Options of the scripts, passed on when set (in the environment or on make's command line).
RTL_GATE_VARS := RTL_TOP RTL_FAMILY RTL_FLIST RTL_ROWS RTL_COLS RTL_WBUF_BLOCKS RTL_ABUF_WORDS \
  RTL_TAG_DEPTH RTL_AXI_BYTES RTL_AXI_MAX_READS RTL_AXI_MAX_WRITES RTL_PARAMS RTL_RES_PARAMS \
  RTL_RES_FULL RTL_CHECK_ONLY RTL_SHARE RTL_FFMEM_MAX_BITS RTL_LINT_TOPS
rtl_gate_env = $(strip $(foreach v,$(RTL_GATE_VARS),$(if $(value $(v)),$(v)='$(value $(v))')))

.PHONY: rtl-lint rtl-synth

rtl-lint:
	@$(rtl_gate_env) scripts/rtl-lint.sh

rtl-synth:
	@$(rtl_gate_env) BUILD='$(BUILD)' scripts/rtl-synth.sh
