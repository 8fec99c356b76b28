# The RTL register slave against the functional model's registers (tests/rtl/regs/tb_regs.cpp):
# `make rtl-regs-test`. Built with non-default parameters; the test bench gets the same values.
RTL_REGS_DIR  := $(BUILD)/rtl-regs
RTL_REGS_VLT  := rtl/lint/verilator_waiver.vlt
RTL_REGS_SV   := rtl/f8npu_pkg.sv rtl/f8npu_regmap_pkg.sv rtl/f8npu_regs.sv
RTL_REGS_TB   := tests/rtl/regs/tb_regs.cpp
RTL_REGS_G    := -GRows=8 -GCols=4 -GIbufBytes=32768 -GWbufBytes=8192 -GAbufBytes=2048 -GImpl=1
RTL_REGS_D    := -DTB_ROWS=8 -DTB_COLS=4 -DTB_IBUF=32768 -DTB_WBUF=8192 -DTB_ABUF=2048
RTL_REGS_SEED ?= 1
VERILATOR     ?= verilator

.PHONY: rtl-regs-test

$(RTL_REGS_DIR)/tb_regs: $(RTL_REGS_VLT) $(RTL_REGS_SV) $(RTL_REGS_TB) $(BUILD)/libf8npu-sim.a mk/regs.mk
	@mkdir -p $(RTL_REGS_DIR)
	$(VERILATOR) --cc --exe --build -j 2 -Wall --top-module f8npu_regs $(RTL_REGS_G) \
	  --Mdir $(RTL_REGS_DIR) -o tb_regs \
	  -CFLAGS "-Wall -I$(abspath sim/include) -I$(abspath uapi) $(RTL_REGS_D)" \
	  $(RTL_REGS_VLT) $(RTL_REGS_SV) $(abspath $(RTL_REGS_TB)) $(abspath $(BUILD)/libf8npu-sim.a) \
	  >$(RTL_REGS_DIR)/build.log \
	  || { cat $(RTL_REGS_DIR)/build.log; exit 1; }

rtl-regs-test: $(RTL_REGS_DIR)/tb_regs
	$(RTL_REGS_DIR)/tb_regs $(RTL_REGS_SEED)

# The command stream ABI has one source (uapi/f8npu_cmd.map; the error codes come from
# uapi/f8npu_regs.map): `make cmd` regenerates the C header, the RTL package, the error-name
# table and the Python model's constants; `make cmd-check` fails if a committed one differs.
CMD_GEN_SRCS := uapi/f8npu_cmd.map uapi/f8npu_regs.map
CMD_GEN_OUTS := uapi/f8npu_cmd.h rtl/f8npu_pkg.sv sim/include/f8npu_err_names.h tests/indep/f8npu_abi.py
PYTHON ?= python3

.PHONY: cmd cmd-check
cmd:
	$(PYTHON) scripts/gen-cmd.py $(CMD_GEN_SRCS) $(CMD_GEN_OUTS)
cmd-check:
	@mkdir -p $(BUILD)/cmd-check
	@$(PYTHON) scripts/gen-cmd.py $(CMD_GEN_SRCS) $(addprefix $(BUILD)/cmd-check/,$(notdir $(CMD_GEN_OUTS)))
	@for f in $(CMD_GEN_OUTS); do diff -u $$f $(BUILD)/cmd-check/$$(basename $$f) || \
	  { echo "cmd-check: $$f differs from uapi/f8npu_cmd.map: run make cmd"; exit 1; }; done
	@echo "cmd-check: $(CMD_GEN_OUTS) match uapi/f8npu_cmd.map"
