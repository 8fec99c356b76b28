# The RTL performance bench (bench/rtl-bench.c): included by the top Makefile, or on its own:
#
#   make bench-rtl                       build $(BUILD)/f8-rtl-bench and run it on each array of
#                                        BENCH_RTL_ARRAYS (default 16x16): every conv layer of ResNet-18,
#                                        MobileNetV2 (224x224) and two Fashion-MNIST nets on rtl:RxC and
#                                        ref:RxC, then ResNet-20 and MobileNetV2-small compiled whole;
#                                        writes $(BUILD)/bench-rtl.md and $(BUILD)/bench-rtl.csv
#   make bench-rtl BENCH_RTL_FLAGS=--quick   CI-sized run (the big nets' cheap layers only)
#   make bench-rtl-quick                 the same
#   make bench-rtl BENCH_RTL_ARRAYS="4x4 16x16"   several configurations in one run
#
# The program links libf8 and libf8npu-sim.a, as the f8 tool does; each array's RTL is the backend
# rtl:RxC, its $(BUILD)/rtl/rRcC/libf8npu-rtl.so (built here by mk/rtl.mk) loaded at run time. The
# bench reports the performance targets (PASS/MISS) but its exit status only says whether every job
# ran and matched the model.

BUILD            ?= build
CC               ?= cc
BENCH_RTL_ARRAYS ?= 16x16
BENCH_RTL_FLAGS  ?=
BENCH_RTL_BIN    := $(BUILD)/f8-rtl-bench
BENCH_RTL_SOS    := $(foreach a,$(BENCH_RTL_ARRAYS),$(BUILD)/rtl/r$(subst x,c,$(a))/libf8npu-rtl.so)
BENCH_RTL_LIBS   := $(BUILD)/libf8.a $(BUILD)/libf8npu-sim.a
include mk/flags.mk
BENCH_CFLAGS     := $(F8_CSTD) -Isim/include -Iuapi -Iruntime/include -O2 -g $(F8_WARN)

.PHONY: bench-rtl bench-rtl-quick bench-rtl-build

# The RTL libraries come from mk/rtl.mk, the program (and libf8) from the top Makefile, whose
# TRAIN_LIBS it links with: sub-makes decide what is up to date.
bench-rtl-build:
	+@$(MAKE) --no-print-directory -f mk/rtl.mk BUILD=$(BUILD) \
	  RTL_CONFIGS="$(foreach a,$(BENCH_RTL_ARRAYS),r$(subst x,c,$(a)))" $(BENCH_RTL_SOS)
	+@$(MAKE) --no-print-directory -f Makefile BUILD=$(BUILD) $(BENCH_RTL_BIN)

$(BENCH_RTL_BIN): bench/rtl-bench.c $(BENCH_RTL_LIBS) mk/bench.mk $(wildcard sim/include/*.h uapi/*.h runtime/include/*.h)
	$(CC) $(BENCH_CFLAGS) -o $@ bench/rtl-bench.c $(BENCH_RTL_LIBS) $(TRAIN_LIBS)

bench-rtl: bench-rtl-build
	$(BENCH_RTL_BIN) --out $(BUILD)/bench-rtl $(addprefix --array ,$(BENCH_RTL_ARRAYS)) $(BENCH_RTL_FLAGS)

bench-rtl-quick: bench-rtl-build
	$(BENCH_RTL_BIN) --out $(BUILD)/bench-rtl --quick $(addprefix --array ,$(BENCH_RTL_ARRAYS)) $(BENCH_RTL_FLAGS)
