# The AXI4 master adapter alone (rtl/f8npu_axi_master.sv) against an AXI4 slave memory model
# with random stalls, latencies and error ranges (tests/rtl/axi/tb_axi.cpp).
#   make rtl-axi-test                 AxiDataBytes 16 (the FPGA top's), AXI_TB_SEED, AXI_TB_N requests
#   make rtl-axi-test-widths          every bus width the adapter supports (8, 16, 32, 64 bytes)
# Needs verilator (Debian: apt-get install verilator).

BUILD       ?= build
VERILATOR   ?= verilator
AXI_TB_SEED ?= 1
AXI_TB_N    ?= 24000
AXI_TB_SRCS := rtl/f8npu_axi_master.sv tests/rtl/axi/tb_axi.cpp

.PHONY: rtl-axi-test rtl-axi-test-widths

# $(BUILD)/rtl-axi/b<AxiDataBytes>/tb_axi
$(BUILD)/rtl-axi/b%/tb_axi: $(AXI_TB_SRCS)
	@mkdir -p $(@D)
	$(VERILATOR) --cc --exe --build -j 2 -Wall --assert -x-assign unique -x-initial unique \
	  --top-module f8npu_axi_master -GAxiDataBytes=$* -CFLAGS "-O1 -DTB_AXI_BYTES=$*" \
	  --Mdir $(@D) -o tb_axi rtl/f8npu_axi_master.sv $(abspath tests/rtl/axi/tb_axi.cpp) \
	  >$(@D)/build.log 2>&1 || { cat $(@D)/build.log; exit 1; }

define axi_tb_run
$(1) seed=$(AXI_TB_SEED) n=$(AXI_TB_N) +verilator+rand+reset+2 +verilator+seed+$(AXI_TB_SEED)
endef

rtl-axi-test: $(BUILD)/rtl-axi/b16/tb_axi
	@$(call axi_tb_run,$<)

rtl-axi-test-widths: $(foreach b,8 16 32 64,$(BUILD)/rtl-axi/b$(b)/tb_axi)
	@for t in $^; do $(call axi_tb_run,$$t) || exit 1; done
