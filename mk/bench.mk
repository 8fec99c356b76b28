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
#   make bench-rtl-testset               the whole Fashion-MNIST test set (10 000 images) through
#                                        rtl:16x16 on 2 threads (bench/rtl-testset.sh): the default
#                                        demo model (runs/demo/q8/model.f8m, made by scripts/demo.sh
#                                        if missing), every image's int32 logits against ref;
#                                        images/s, RTL cycles/s per thread, wall time, mismatches
#                                        (must be 0), accuracy; $(BUILD)/rtl-testset/rtl-testset.md.
#                                        Target (issue 14): under 10 minutes on 2 cores. Not part of
#                                        make check (too long). A slice: RTL_TESTSET_IMAGES=500
#                                        (the time for 10 000 extrapolated); RTL_TESTSET_THREADS,
#                                        RTL_TESTSET_BATCH, RTL_TESTSET_MODEL likewise.
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

.PHONY: bench-rtl bench-rtl-quick bench-rtl-build bench-rtl-testset

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

# The whole test set through the RTL: the tool and the 16x16 library, then the script.
bench-rtl-testset:
	+@$(MAKE) --no-print-directory -f mk/rtl.mk BUILD=$(BUILD) RTL_CONFIGS=r16c16 \
	  $(BUILD)/rtl/r16c16/libf8npu-rtl.so
	+@$(MAKE) --no-print-directory -f Makefile BUILD=$(BUILD) $(BUILD)/f8
	bench/rtl-testset.sh $(BUILD)/f8 $(BUILD)/rtl-testset
