# The RTL performance bench (bench/rtl-bench.c): included by the top Makefile, or on its own:
#
#   make bench-rtl                       build $(BUILD)/rtl/r16c16/f8-rtl-bench and run it: every conv
#                                        layer of ResNet-18, MobileNetV2 (224x224) and two Fashion-MNIST
#                                        nets on the RTL and the model, then the whole ResNet-20;
#                                        writes $(BUILD)/bench-rtl.md and $(BUILD)/bench-rtl.csv
#   make bench-rtl BENCH_RTL_FLAGS=--quick   CI-sized run (the big nets' cheap layers only)
#   make bench-rtl-quick                 the same
#
# One program links one RTL configuration (BENCH_RTL_CFG, default r16c16, built by mk/rtl.mk) and
# $(BUILD)/libf8npu-sim.a (built by the top Makefile). The bench reports the performance targets
# (PASS/MISS) but its exit status only says whether every job ran and matched the model.

BUILD          ?= build
CC             ?= cc
BENCH_RTL_CFG  ?= r16c16
BENCH_RTL_FLAGS ?=
BENCH_RTL_DIR  := $(BUILD)/rtl/$(BENCH_RTL_CFG)
BENCH_RTL_BIN  := $(BENCH_RTL_DIR)/f8-rtl-bench
BENCH_RTL_LIB  := $(BENCH_RTL_DIR)/libf8npu-rtl.a
BENCH_SIM_LIB  := $(BUILD)/libf8npu-sim.a
include mk/flags.mk
BENCH_CFLAGS   := $(F8_CSTD) -Isim/include -Iuapi -O2 -g $(F8_WARN)
BENCH_LDLIBS   := -lstdc++ -lm -pthread -latomic

.PHONY: bench-rtl bench-rtl-quick bench-rtl-build

# The libraries come from their own makefiles (sub-makes decide whether they are up to date).
bench-rtl-build:
	+@$(MAKE) --no-print-directory -f Makefile BUILD=$(BUILD) $(BENCH_SIM_LIB)
	+@$(MAKE) --no-print-directory -f mk/rtl.mk BUILD=$(BUILD) RTL_CONFIGS=$(BENCH_RTL_CFG) $(BENCH_RTL_LIB)
	+@$(MAKE) --no-print-directory -f mk/bench.mk BUILD=$(BUILD) BENCH_RTL_CFG=$(BENCH_RTL_CFG) $(BENCH_RTL_BIN)

$(BENCH_RTL_BIN): bench/rtl-bench.c $(BENCH_RTL_LIB) $(BENCH_SIM_LIB) mk/bench.mk $(wildcard sim/include/*.h uapi/*.h)
	$(CC) $(BENCH_CFLAGS) -o $@ bench/rtl-bench.c $(BENCH_RTL_LIB) $(BENCH_SIM_LIB) $(BENCH_LDLIBS)

bench-rtl: bench-rtl-build
	$(BENCH_RTL_BIN) --out $(BUILD)/bench-rtl $(BENCH_RTL_FLAGS)

bench-rtl-quick: bench-rtl-build
	$(BENCH_RTL_BIN) --out $(BUILD)/bench-rtl --quick $(BENCH_RTL_FLAGS)


