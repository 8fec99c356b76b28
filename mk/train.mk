# The training engine's command-line test and bench (docs/train.md): included by the top
# Makefile, or on its own (make -f mk/train.mk ...):
#
#   make train-cli      build $(BUILD)/f8, run tests/cli/train-cli.sh: bad options, missing
#                       data, corrupt checkpoints, a tiny run and its resume (~10 s)
#   make hostile-cli    build $(BUILD)/f8 and $(BUILD)/asan/f8 (ASan/UBSan), run
#                       tests/cli/hostile-cli.sh on both: hostile and careless input, one
#                       block per class of defect (docs/untrusted-input.md; ~1 min)
#   make bench-train    build $(BUILD)/f8, run bench/train-bench.sh: ResNet-20 training steps
#                       on Fashion-MNIST, f8 against PyTorch in the same run; writes
#                       $(BUILD)/bench-train.md. BENCH_TRAIN_BATCHES (100), BENCH_TRAIN_WARMUP
#                       (10), BENCH_TRAIN_BATCH (128), BENCH_TRAIN_THREADS (2) change the run.

BUILD               ?= build
PYTHON              ?= /usr/bin/python3
BENCH_TRAIN_BATCHES ?= 100
BENCH_TRAIN_WARMUP  ?= 10
BENCH_TRAIN_BATCH   ?= 128
BENCH_TRAIN_THREADS ?= 2

.PHONY: train-cli hostile-cli bench-train train-f8

# The tool comes from the top Makefile (a sub-make decides whether it is up to date).
train-f8:
	+@$(MAKE) --no-print-directory -f Makefile BUILD=$(BUILD) $(BUILD)/f8

train-cli: train-f8
	tests/cli/train-cli.sh $(BUILD)/f8

hostile-cli: train-f8
	+@$(MAKE) --no-print-directory -f Makefile BUILD=$(BUILD) $(BUILD)/asan/f8
	PYTHON=$(PYTHON) tests/cli/hostile-cli.sh $(BUILD)/f8
	PYTHON=$(PYTHON) F8_ASAN=1 tests/cli/hostile-cli.sh $(BUILD)/asan/f8

bench-train: train-f8
	BUILD=$(BUILD) PYTHON=$(PYTHON) BATCH=$(BENCH_TRAIN_BATCH) BATCHES=$(BENCH_TRAIN_BATCHES) \
	  WARMUP=$(BENCH_TRAIN_WARMUP) THREADS=$(BENCH_TRAIN_THREADS) bench/train-bench.sh $(BUILD)/f8
