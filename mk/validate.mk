# rtl/f8npu_validate.sv against sim/f8npu_validate.c (tests/rtl/validate/tb_validate.cpp).
#   make -f mk/validate.mk rtl-validate-test [VALIDATE_SEED=n] [VALIDATE_CASES=n] [VALIDATE_COLS=n]
# (or include mk/validate.mk from the top Makefile). rtl-validate-synth: Yosys proves the
# module free of $mul/$div/$mod cells and synthesizes it.

BUILD          ?= build
CC             ?= cc
VERILATOR      ?= verilator
YOSYS          ?= yosys
VALIDATE_SEED  ?= 1
VALIDATE_CASES ?= 20000
VALIDATE_COLS  ?= 16

VALIDATE_DIR := $(BUILD)/rtl-validate
VALIDATE_RTL := rtl/f8npu_pkg.sv rtl/f8npu_regmap_pkg.sv rtl/f8npu_seqmul.sv rtl/f8npu_seqdiv.sv rtl/f8npu_validate.sv
VALIDATE_TB  := tests/rtl/validate/tb_validate.cpp
# The project's only lint waivers (package constants no single top uses).
VALIDATE_VLT := $(wildcard rtl/lint/verilator_waiver.vlt)
VALIDATE_BIN := $(VALIDATE_DIR)/cols$(VALIDATE_COLS)/Vf8npu_validate_tb

.PHONY: rtl-validate-test rtl-validate-lint rtl-validate-synth

rtl-validate-test: $(VALIDATE_BIN)
	$(VALIDATE_BIN) $(VALIDATE_SEED) $(VALIDATE_CASES)

rtl-validate-lint:
	$(VERILATOR) --lint-only -Wall $(VALIDATE_VLT) $(VALIDATE_RTL) --top-module f8npu_validate

VALIDATE_YS = read_verilog -sv $(VALIDATE_RTL); hierarchy -top f8npu_validate; proc; \
  select -assert-none t:$$mul t:$$div t:$$mod t:$$divfloor t:$$modfloor t:$$pow; \
  synth -top f8npu_validate; select -assert-none t:$$mul t:$$div t:$$mod; \
  tee -q -o $(VALIDATE_DIR)/synth-stat.txt stat

rtl-validate-synth:
	@mkdir -p $(VALIDATE_DIR)
	$(YOSYS) -q -p '$(VALIDATE_YS)'
	@grep -B1 -A40 '=== design hierarchy ===' $(VALIDATE_DIR)/synth-stat.txt | grep -E 'cells|DFF|design'
	@echo "rtl-validate-synth: f8npu_validate synthesizes without \$$mul/\$$div/\$$mod"

include mk/flags.mk
# The oracle, compiled as C.
$(VALIDATE_DIR)/f8npu_validate_c.o: sim/f8npu_validate.c sim/include/f8npu_validate.h \
		sim/include/f8npu_arith.h uapi/f8npu_cmd.h uapi/f8npu_regs.h
	@mkdir -p $(dir $@)
	$(CC) $(F8_CSTD) -O2 $(F8_WARN) -Isim/include -Iuapi -c $< -o $@

# Verilator 5.006: --exe --build (the Verilator runtime is compiled into the object directory).
$(VALIDATE_BIN): $(VALIDATE_RTL) $(VALIDATE_TB) $(VALIDATE_DIR)/f8npu_validate_c.o mk/validate.mk
	@mkdir -p $(dir $@)
	$(VERILATOR) --cc --exe --build -j 2 -Wall -O3 --x-assign fast --x-initial fast \
	  --top-module f8npu_validate -GCols=$(VALIDATE_COLS) \
	  -Mdir $(dir $@)obj -o ../$(notdir $@) \
	  -CFLAGS "-O2 -I$(abspath sim/include) -I$(abspath uapi) -DTB_COLS=$(VALIDATE_COLS)" \
	  $(VALIDATE_VLT) $(VALIDATE_RTL) $(abspath $(VALIDATE_TB)) $(abspath $(VALIDATE_DIR)/f8npu_validate_c.o)
