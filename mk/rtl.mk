# The Verilated RTL as a library (included by the top Makefile; needs `verilator`, Debian's 5.006).
#
#   make rtl-libs         $(RTL_OUT)/<cfg>/libf8npu-rtl.a and libf8npu-rtl.so for every configuration in
#                         RTL_CONFIGS (the .so is what the runtime's rtl:RxC backend loads at run time)
#   make rtl-smoke        rtl-smoke-stub, then tests/rtl/harness/smoke.c against each configuration
#   make rtl-smoke-stub   the same program against tests/rtl/harness/stub_core.sv: the harness on its
#                         own, its memory model's timing checked exactly
#
# A configuration rRcC is f8npu_core with Rows = R and Cols = C. Its library holds the Verilated
# model, the Verilator runtime and the harness sim/f8npu_rtl.cpp (sim/include/f8npu_rtl.h); a C
# program links exactly one of them: cc ... libf8npu-rtl.a -lstdc++ -lm -pthread.
#
# The sources are the files of rtl/f8npu.f; set RTL_SRCS (and RTL_OUT, to keep both builds) to
# verilate something else. Editing any rtl/*.sv, rtl/f8npu.f or the Verilator flags re-verilates.
# Verilator 5.006's `make -f Vtop.mk` archives an empty libverilated.a, so the generated C++ and the
# runtime objects are compiled here (mk/rtl-lib.mk) and archived explicitly.

# Never the default goal of the including Makefile (restored at the end).
RTL_SAVED_DEFAULT_GOAL := $(.DEFAULT_GOAL)

BUILD        ?= build
CC           ?= cc
VERILATOR    ?= verilator
# A square array, a small one, and a non-square one (Rows != Cols: catches a row index used
# for a column, docs/testing.md).
RTL_CONFIGS  ?= r16c16 r4c4 r8c16
RTL_FILELIST ?= rtl/f8npu.f
RTL_OUT      ?= $(BUILD)/rtl
RTL_STUB_SRCS := tests/rtl/harness/stub_core.sv
RTL_STUB_OUT ?= $(BUILD)/rtl-stub
# Output directory the plain `rtl-smoke` tests: the real core's.
RTL_SMOKE_OUT ?= $(RTL_OUT)

# Files (and +incdir+/+define+ options) listed in the file list, comments removed.
ifeq ($(origin RTL_SRCS),undefined)
RTL_F_WORDS := $(shell sed -e 's://.*::' -e 's:\#.*::' $(RTL_FILELIST) 2>/dev/null)
RTL_SRCS    := $(filter %.sv %.v,$(RTL_F_WORDS))
RTL_VOPTS   := $(filter +incdir+% +define+%,$(RTL_F_WORDS))
RTL_DEPS    := $(RTL_SRCS) $(RTL_FILELIST) $(wildcard rtl/*.sv rtl/*.svh rtl/*.vh)
else
RTL_VOPTS   ?=
RTL_DEPS    ?= $(RTL_SRCS)
endif

# --assert: the RTL's invariants (`ifndef SYNTHESIS blocks, docs/rtl.md) are checked in every
# Verilated build, make cosim included; a failing one stops the simulation.
# --output-split-cfuncs 2000 and -march=native: each about 10 % less CPU time per simulated cycle,
# together 20 % (A/B in docs/rtl.md, "Simulation speed"). -march=native builds for the CPU of the
# machine that builds (CI builds and runs on the same machine); for a library run on another
# machine, build with RTL_CXXOPT=-O3. Results do not depend on either option.
RTL_VFLAGS  ?= -O3 --x-assign fast --x-initial fast --assert --output-split-cfuncs 2000
RTL_CXXOPT  ?= -O3 -march=native
RTL_CXXFLAGS ?= -Wall -Wextra -Werror -Wshadow
RTL_LDLIBS  ?= -lstdc++ -lm -pthread
RTL_VDEFS   := -DVM_COVERAGE=0 -DVM_SC=0 -DVM_TRACE=1 -DVM_TRACE_FST=0 -DVM_TRACE_VCD=1
# Asked of verilator the first time a recipe needs it, then remembered.
RTL_VROOT    = $(eval RTL_VROOT := $(or $(VERILATOR_ROOT),$(shell $(VERILATOR) --getenv VERILATOR_ROOT)))$(RTL_VROOT)

RTL_RUNTIME     := verilated verilated_threads verilated_vcd_c
RTL_RUNTIME_DIR := $(BUILD)/rtl/runtime
RTL_RUNTIME_OBJS := $(patsubst %,$(RTL_RUNTIME_DIR)/%.o,$(RTL_RUNTIME))

include mk/flags.mk
RTL_SMOKE_CFLAGS := $(F8_CSTD) -Isim/include -Iuapi -O2 -g $(F8_WARN)
RTL_SMOKE_OBJS := $(patsubst %.c,$(BUILD)/rtl/obj/%.o,tests/rtl/harness/smoke.c sim/f8npu_hostmem.c \
                    sim/f8npu_prog.c)

.PHONY: rtl-libs rtl-smoke rtl-smoke-stub rtl-force

rtl-libs: $(patsubst %,$(RTL_OUT)/%/libf8npu-rtl.a,$(RTL_CONFIGS)) $(patsubst %,$(RTL_OUT)/%/libf8npu-rtl.so,$(RTL_CONFIGS))

rtl_smoke_run = @for c in $(RTL_CONFIGS); do \
	  echo "rtl-smoke: $(1)/$$c"; \
	  $(1)/$$c/smoke --vcd $(1)/$$c/smoke.vcd || exit 1; \
	done

# The harness's own checks (stub) first, then the core.
rtl-smoke: rtl-smoke-stub $(patsubst %,$(RTL_SMOKE_OUT)/%/smoke,$(RTL_CONFIGS))
	$(call rtl_smoke_run,$(RTL_SMOKE_OUT))

rtl-smoke-stub: $(patsubst %,$(RTL_STUB_OUT)/%/smoke,$(RTL_CONFIGS))
	$(call rtl_smoke_run,$(RTL_STUB_OUT))

rtl-force:

$(RTL_RUNTIME_DIR)/%.o: | $(RTL_RUNTIME_DIR)
	$(CXX) $(RTL_VDEFS) -isystem $(RTL_VROOT)/include -isystem $(RTL_VROOT)/include/vltstd \
	  $(RTL_CXXOPT) -fPIC -c $(RTL_VROOT)/include/$*.cpp -o $@

$(RTL_RUNTIME_DIR) $(BUILD)/rtl/obj/tests/rtl/harness $(BUILD)/rtl/obj/sim:
	@mkdir -p $@

$(BUILD)/rtl/obj/%.o: %.c | $(BUILD)/rtl/obj/tests/rtl/harness $(BUILD)/rtl/obj/sim
	$(CC) $(RTL_SMOKE_CFLAGS) -MMD -MP -c $< -o $@

# rtl_config_rules(out dir, config, rows, cols, verilator options, sources, dependencies)
define rtl_config_rules
$(1)/$(2)/vflags: rtl-force
	@mkdir -p $(1)/$(2)
	@echo '$(VERILATOR) $(RTL_VFLAGS) $(5) -GRows=$(3) -GCols=$(4) $(6)' > $$@.tmp
	@cmp -s $$@.tmp $$@ || mv $$@.tmp $$@; rm -f $$@.tmp

$(1)/$(2)/verilated.stamp: $(1)/$(2)/vflags $(7)
	@command -v $(VERILATOR) >/dev/null || { echo "rtl: $(VERILATOR) not found (apt-get install verilator)"; exit 1; }
	@rm -f $(1)/$(2)/Vf8npu_core* $$@
	$(VERILATOR) --cc --trace --no-MMD --top-module f8npu_core --prefix Vf8npu_core \
	  --Mdir $(1)/$(2) $(RTL_VFLAGS) $(5) -GRows=$(3) -GCols=$(4) $(6)
	@touch $$@

$(1)/$(2)/libf8npu-rtl.a: $(1)/$(2)/verilated.stamp $(RTL_RUNTIME_OBJS) sim/f8npu_rtl.cpp \
    sim/include/f8npu_rtl.h sim/include/f8npu_dev.h mk/rtl-lib.mk
	+@$$(MAKE) --no-print-directory -f mk/rtl-lib.mk RTL_DIR=$(1)/$(2) RTL_ROWS=$(3) RTL_COLS=$(4) \
	  RTL_RUNTIME_OBJS='$(RTL_RUNTIME_OBJS)' RTL_VROOT='$$(RTL_VROOT)' RTL_VDEFS='$(RTL_VDEFS)' \
	  CXX='$(CXX)' RTL_CXXOPT='$(RTL_CXXOPT)' RTL_CXXFLAGS='$(RTL_CXXFLAGS)' \
	  $(1)/$(2)/libf8npu-rtl.a $(1)/$(2)/libf8npu-rtl.so
	@touch $$@

$(1)/$(2)/libf8npu-rtl.so: $(1)/$(2)/libf8npu-rtl.a

$(1)/$(2)/smoke: $(RTL_SMOKE_OBJS) $(1)/$(2)/libf8npu-rtl.a
	$(CC) -o $$@ $$^ $(RTL_LDLIBS)
endef

rtl_rows = $(word 1,$(subst c, ,$(patsubst r%,%,$(1))))
rtl_cols = $(word 2,$(subst c, ,$(patsubst r%,%,$(1))))
$(foreach c,$(RTL_CONFIGS),$(if $(filter r$(call rtl_rows,$(c))c$(call rtl_cols,$(c)),$(c)),,\
  $(error RTL_CONFIGS: "$(c)" is not of the form rRcC, e.g. r16c16)))
rtl_variant = $(foreach c,$(RTL_CONFIGS),$(eval $(call rtl_config_rules,$(1),$(c),$(call rtl_rows,$(c)),$(call rtl_cols,$(c)),$(2),$(3),$(4))))

$(call rtl_variant,$(RTL_OUT),$(RTL_VOPTS),$(RTL_SRCS),$(RTL_DEPS))
ifneq ($(RTL_STUB_OUT),$(RTL_OUT))
$(call rtl_variant,$(RTL_STUB_OUT),,$(RTL_STUB_SRCS),$(RTL_STUB_SRCS))
endif

.DEFAULT_GOAL := $(RTL_SAVED_DEFAULT_GOAL)
