# f8npu top-level build. `make help` lists the targets.
# Out-of-tree objects go to $(BUILD); the sanitizer build to $(BUILD)/asan.

BUILD   ?= build
# Sub-makes stay quiet about directories: CI reads the last line (Check's summary).
MAKEFLAGS += --no-print-directory
CC      ?= cc
OPT     ?= -O2
CFLAGS  ?= $(OPT) -g
include mk/flags.mk
WARN    := $(F8_WARN)
CPPFLAGS_F8 := $(F8_CSTD) -Isim/include -Iuapi -Iruntime/include
SAN     := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
CHECK_LIBS = $(shell pkg-config --libs check 2>/dev/null || echo -lcheck)
PYTHON  ?= /usr/bin/python3
# The training engine (runtime/train/, libf8) uses OpenBLAS, zlib and threads; f8 dtbo libfdt
# (no pkg-config file in Debian 12).
BLAS_CFLAGS = $(shell pkg-config --cflags openblas 2>/dev/null)
TRAIN_LIBS  = $(shell pkg-config --libs openblas 2>/dev/null || echo -lopenblas) -lz -lpthread -lm -lfdt \
              $(DRM_LIBS)
# The kmod backend (runtime/backend/f8-be-kmod.c, in libf8) reaches the driver through libdrm.
DRM_CFLAGS  = $(shell pkg-config --cflags libdrm 2>/dev/null || echo -I/usr/include/libdrm)
DRM_LIBS    = $(shell pkg-config --libs libdrm 2>/dev/null || echo -ldrm)

# Functional model and its host-side helpers (sim/), shared by everything.
SIM_SRCS := sim/f8npu_model.c sim/f8npu_validate.c sim/f8npu_ref.c sim/f8npu_prog.c \
            sim/f8npu_model_host.c sim/f8npu_hostmem.c
# The runtime library libf8: training engine (runtime/train/), one concern per file.
# The CPU backend (runtime/cpu/, in libf8): the fast integer forward pass, its SIMD kernels
# chosen at run time (function-level targets), so built for the baseline ISA.
CPU_SRCS := $(sort $(wildcard runtime/cpu/*.c))
# The compiler (runtime/compile/, in libf8, f8-compile.h): integer model to command stream.
COMPILE_SRCS := $(sort $(wildcard runtime/compile/*.c))
# The job-level backends (runtime/backend/, in libf8, f8-backend.h): ref, rtl (dlopen), kmod.
BE_SRCS := $(sort $(wildcard runtime/backend/*.c))
TRAIN_SRCS := $(sort $(wildcard runtime/train/*.c)) $(CPU_SRCS) $(COMPILE_SRCS) $(BE_SRCS)
# The f8 command-line tool: one subcommand per file.
CLI_SRCS := $(sort $(wildcard runtime/cli/*.c))
# Unit tests (Check): every tests/unit/*.c file, linked into one runner.
TEST_SRCS := $(sort $(wildcard tests/unit/*.c))

define objs
$(patsubst %.c,$(1)/obj/%.o,$(2))
endef

SIM_OBJS  := $(call objs,$(BUILD),$(SIM_SRCS))
CLI_OBJS  := $(call objs,$(BUILD),$(CLI_SRCS))
TRAIN_OBJS := $(call objs,$(BUILD),$(TRAIN_SRCS))
ASAN_TRAIN_OBJS := $(call objs,$(BUILD)/asan,$(TRAIN_SRCS))
TEST_OBJS := $(call objs,$(BUILD),$(TEST_SRCS))
ASAN_SIM_OBJS  := $(call objs,$(BUILD)/asan,$(SIM_SRCS))
ASAN_TEST_OBJS := $(call objs,$(BUILD)/asan,$(TEST_SRCS))
ASAN_CLI_OBJS  := $(call objs,$(BUILD)/asan,$(CLI_SRCS))

.PHONY: all deps check regs regs-check freestanding unit unit-asan unit-blas-cores quant-cli run-cli dtbo-cli accuracy fuzz fuzz-libfuzzer indep demo bench \
        rtl-check clean help
all: $(BUILD)/f8 $(BUILD)/f8-unit

help:
	@echo "make deps    install the Debian packages the project needs (apt, as root)"
	@echo "make         build the functional model, the f8 tool and the tests"
	@echo "make check   deps + build + every test level of docs/testing.md (ends with Check's summary)"
	@echo "make demo    train a small ResNet, F8Net it, compile, run it on the CPU and the RTL (runs/demo/report.html)"
	@echo "make fuzz    mutated command streams against the model under ASan/UBSan"
	@echo "make bench-rtl-testset  the 10 000 Fashion-MNIST test images through rtl:16x16 on 2 threads, logits == ref"
	@echo "make bench   functional-model throughput, training speed against PyTorch, the CPU"
	@echo "             backend against the reference kernels (bench/cpu-bench.sh), the RTL bench"
	@echo "make train-cli  f8 train's command-line checks (tests/cli/train-cli.sh; part of check)"
	@echo "make quant-cli  f8 export / eval / finetune from the command line (part of check)"
	@echo "make accuracy   the F8Net accuracy table (bench/accuracy.sh, about 5 h; resumable)"
	@echo "make hostile-cli  hostile input against build/f8 and its ASan/UBSan build (part of check)"
	@echo "make unit-blas-cores  the training suites under each OpenBLAS core type (part of check)"
	@echo "make rtl-check  RTL gates: lint, synthesis, unit benches, co-simulation (part of check)"
	@echo "make cosim   RTL against the functional model, COSIM_SEED=n COSIM_CASES=n"
	@echo "make vm-check   the VM tests: Debian's kernel in QEMU, modules loaded, test programs inside"
	@echo "make vm-bridge  the driver's PCI binding in the VM driving the Verilated RTL over f8npu-bridge (part of check)"
	@echo "make demo-vm    a model through app -> libf8 -> ioctl -> f8npu.ko -> bridge -> Verilated RTL"
	@echo "make module     the kernel driver f8npu.ko (W=1, fails on a warning); module-sparse (C=2),"
	@echo "             module-checkpatch (--strict), module-vm (its smoke test in QEMU), dkms-src,"
	@echo "             module-cross (arm and arm64 builds; scripts/deps.sh cross)"

deps:
	@scripts/deps.sh

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS_F8) $(BLAS_CFLAGS) $(CFLAGS) $(WARN) -MMD -MP -c $< -o $@

$(BUILD)/asan/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS_F8) $(BLAS_CFLAGS) -O1 -g $(SAN) $(WARN) -MMD -MP -c $< -o $@

# The training kernels are the hot loops: vectorised for this machine's baseline (x86-64-v3).
$(BUILD)/obj/runtime/train/%.o: CFLAGS += $(TRAIN_OPT)
TRAIN_OPT ?= -O3 -march=x86-64-v3 -ffp-contract=fast
$(BUILD)/obj/runtime/cpu/%.o: CFLAGS += -O3
$(BUILD)/obj/runtime/backend/f8-be-kmod.o $(BUILD)/asan/obj/runtime/backend/f8-be-kmod.o: \
  CPPFLAGS_F8 += $(DRM_CFLAGS)

$(BUILD)/libf8npu-sim.a: $(SIM_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/libf8.a: $(TRAIN_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/f8: $(CLI_OBJS) $(BUILD)/libf8.a $(BUILD)/libf8npu-sim.a
	$(CC) $(CFLAGS) -o $@ $^ $(TRAIN_LIBS)

$(BUILD)/f8-unit: $(TEST_OBJS) $(BUILD)/libf8.a $(BUILD)/libf8npu-sim.a
	$(CC) $(CFLAGS) -o $@ $^ $(CHECK_LIBS) $(TRAIN_LIBS)

# The f8 tool itself under ASan/UBSan, for the hostile-input tests (make hostile-cli).
$(BUILD)/asan/f8: $(ASAN_CLI_OBJS) $(ASAN_TRAIN_OBJS) $(ASAN_SIM_OBJS)
	$(CC) -g $(SAN) -o $@ $^ $(TRAIN_LIBS)

$(BUILD)/asan/f8-unit: $(ASAN_TEST_OBJS) $(ASAN_TRAIN_OBJS) $(ASAN_SIM_OBJS)
	$(CC) -g $(SAN) -o $@ $^ $(CHECK_LIBS) $(TRAIN_LIBS)

# The tests read docs/arith.md (test vectors); run them from the top directory.
unit: $(BUILD)/f8-unit
	$(BUILD)/f8-unit

unit-asan: $(BUILD)/asan/f8-unit
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 CK_FORK=no $(BUILD)/asan/f8-unit

# The training suites once per OpenBLAS core type this CPU executes, and with
# OPENBLAS_CORETYPE unset: no test may pass under one BLAS kernel only (docs/train.md).
unit-blas-cores: $(BUILD)/f8-unit
	scripts/blas-cores.sh $(BUILD)/f8-unit

# The register map has one source (uapi/f8npu_regs.map); the C header is generated from it.
regs:
	$(PYTHON) scripts/gen-regs.py uapi/f8npu_regs.map uapi/f8npu_regs.h rtl/f8npu_regmap_pkg.sv
regs-check:
	@mkdir -p $(BUILD)
	@$(PYTHON) scripts/gen-regs.py uapi/f8npu_regs.map $(BUILD)/f8npu_regs.h $(BUILD)/f8npu_regmap_pkg.sv
	@diff -u uapi/f8npu_regs.h $(BUILD)/f8npu_regs.h || \
	  { echo "regs-check: uapi/f8npu_regs.h differs from uapi/f8npu_regs.map: run make regs"; exit 1; }
	@diff -u rtl/f8npu_regmap_pkg.sv $(BUILD)/f8npu_regmap_pkg.sv || \
	  { echo "regs-check: rtl/f8npu_regmap_pkg.sv differs from uapi/f8npu_regs.map: run make regs"; exit 1; }
	@echo "regs-check: uapi/f8npu_regs.h and rtl/f8npu_regmap_pkg.sv match uapi/f8npu_regs.map"

# The execution core must build without libc (the kernel module will compile it):
# freestanding, no system headers but the compiler's own, and no symbol from outside it.
CORE_SRCS := sim/f8npu_model.c sim/f8npu_validate.c sim/f8npu_ref.c sim/f8npu_prog.c
# Also for 32-bit (-m32: no libgcc helpers such as __udivdi3); the -D__KERNEL__ build is the
# module's (make module, mk/driver.mk), which compiles these files into f8npu.ko.
freestanding:
	@for abi in 64 32; do \
	  mkdir -p $(BUILD)/freestanding/m$$abi; \
	  for f in $(CORE_SRCS); do \
	    $(CC) -m$$abi -fno-pic -std=c11 -ffreestanding -fno-builtin -nostdinc -isystem $$($(CC) -print-file-name=include) \
	      -Isim/include -Iuapi $(WARN) -O2 -c $$f -o $(BUILD)/freestanding/m$$abi/$$(basename $$f .c).o || exit 1; \
	  done; \
	  ext=$$(nm -u $(BUILD)/freestanding/m$$abi/*.o | awk 'NF == 2 { print $$2 }' | grep -v '^f8npu_' | sort -u); \
	  if [ -n "$$ext" ]; then echo "freestanding (-m$$abi): the core calls outside itself: $$ext"; exit 1; fi; \
	done
	@echo "freestanding: $(words $(CORE_SRCS)) core files build without libc for 64 and 32 bits and call nothing outside the core"

# Hostile command streams against the model under ASan/UBSan (tests/fuzz/).
FUZZ_ITERS ?= 20000
# It runs its streams through the ref backend (runtime/backend/), which reports with f8-err.c.
FUZZ_LIB_SRCS := $(BE_SRCS) runtime/train/f8-err.c
$(BUILD)/asan/fuzz-stream: $(BUILD)/asan/obj/tests/fuzz/fuzz-stream.o \
                           $(call objs,$(BUILD)/asan,$(FUZZ_LIB_SRCS)) $(ASAN_SIM_OBJS)
	$(CC) -g $(SAN) -o $@ $^ $(DRM_LIBS)

fuzz: $(BUILD)/asan/fuzz-stream
	$(BUILD)/asan/fuzz-stream $(FUZZ_ITERS)

# libFuzzer build of the same target, for long runs: make fuzz-libfuzzer && build/fuzz-stream-lf
$(BUILD)/fuzz-stream-lf: tests/fuzz/fuzz-stream.c $(FUZZ_LIB_SRCS) $(SIM_SRCS)
	clang $(CPPFLAGS_F8) $(DRM_CFLAGS) -g -O1 -DF8_LIBFUZZER -fsanitize=fuzzer,address,undefined \
	  -o $@ $^ $(DRM_LIBS)
fuzz-libfuzzer: $(BUILD)/fuzz-stream-lf

# An independent Python implementation of docs/arith.md + docs/isa.md against `f8 exec`.
INDEP_CASES ?= 4000
INDEP_SEED  ?= 1
indep: $(BUILD)/f8
	$(PYTHON) tests/indep/selftest.py
	$(PYTHON) tests/indep/compare.py --f8 $(BUILD)/f8 --cases $(INDEP_CASES) --seed $(INDEP_SEED)

# The RTL (docs/rtl.md): lint and synthesis gates, module benches, then the co-simulation of the
# whole core against the functional model on every configuration of RTL_CONFIGS.
rtl-check:
	$(MAKE) rtl-lint
	$(MAKE) rtl-synth
	$(MAKE) rtl-regs-test rtl-validate-test rtl-axi-test
	$(MAKE) -j2 rtl-libs
	$(MAKE) rtl-smoke
	$(MAKE) cosim
	$(MAKE) backend-rtl

# Check's summary line of the plain unit run comes last: CI reads it.
check: deps
	$(MAKE) all $(BUILD)/asan/f8-unit $(BUILD)/asan/fuzz-stream $(BUILD)/asan/f8
	$(MAKE) freestanding regs-check cmd-check
	$(MAKE) module module-sparse module-checkpatch
	$(MAKE) rtl-check
	$(MAKE) bridge-check
	$(MAKE) module-vm
	$(MAKE) vm-check
	$(MAKE) vm-bridge
	$(MAKE) indep
	$(MAKE) fuzz
	$(MAKE) train-cli
	$(MAKE) quant-cli
	$(MAKE) run-cli
	$(MAKE) dtbo-cli
	$(MAKE) hostile-cli
	$(MAKE) unit-asan
	$(MAKE) unit-blas-cores
	$(MAKE) unit

# Recursive: the build flags (pkg-config) must be read after deps has installed the packages.
# The whole stack end to end (scripts/demo.sh): train, F8Net, compile, CPU and RTL, report.
demo: deps
	$(MAKE) $(BUILD)/f8 $(BUILD)/rtl/r16c16/libf8npu-rtl.so RTL_CONFIGS=r16c16
	scripts/demo.sh $(BUILD)/f8 runs/demo

bench: deps
	@scripts/deps.sh bench
	$(MAKE) $(BUILD)/f8
	$(BUILD)/f8 bench
	$(MAKE) bench-train
	bench/quant-bench.sh $(BUILD)/f8
	bench/cpu-bench.sh $(BUILD)/f8
	bench/cpu-perf.sh $(BUILD)/f8
	bench/device-perf.sh $(BUILD)/f8
	$(MAKE) bench-rtl

# F8Net from the command line (tests/cli/quant-cli.sh) and the accuracy table (docs/f8net.md).
quant-cli: $(BUILD)/f8
	tests/cli/quant-cli.sh $(BUILD)/f8

# The runtime from the command line (tests/cli/run-cli.sh): every backend's logits identical,
# compile + exec, run on image files, profile, refusals. After rtl-check (the RTL libraries).
run-cli: $(BUILD)/f8
	tests/cli/run-cli.sh $(BUILD)/f8

# f8 dtbo from the command line (tests/cli/dtbo-cli.sh, docs/dtbo.md).
dtbo-cli: $(BUILD)/f8
	tests/cli/dtbo-cli.sh $(BUILD)/f8

accuracy: deps
	$(MAKE) $(BUILD)/f8
	bench/accuracy.sh $(BUILD)/f8 runs/accuracy

clean:
	rm -rf $(BUILD)

# The RTL's build, tests and bench (each file says what it provides).
include mk/rtl.mk mk/regs.mk mk/validate.mk mk/axi.mk mk/gates.mk mk/cosim.mk mk/bench.mk mk/train.mk mk/vm.mk mk/driver.mk
# f8npu-bridge, the device process of QEMU guests (docs/cosim.md).
include mk/bridge.mk

-include $(shell find $(BUILD) -name '*.d' -not -path '$(BUILD)/rtl*' 2>/dev/null)
