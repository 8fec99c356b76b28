# f8-cosim: the RTL against the functional model (tests/cosim/, docs/testing.md).
# Included by the top Makefile after its own definitions (BUILD, CC, CFLAGS, WARN, CPPFLAGS_F8);
# meanwhile: make -f Makefile -f mk/cosim.mk cosim
#
#   make cosim [RTL_CONFIGS="r16c16 r4c4 r8c16"] [COSIM_SEED=1] [COSIM_CASES=1500] [COSIM_STREAMS=200]
#              [COSIM_ARGS="--dump build/cosim-fail"] [COSIM_FAKE=0|1]
#
# One program per array configuration, $(BUILD)/rtl/<cfg>/f8-cosim, linked with that
# configuration's Verilated RTL, $(BUILD)/rtl/<cfg>/libf8npu-rtl.a (mk/rtl.mk builds it).
# COSIM_FAKE=1 links the stand-in tests/cosim/fake_rtl.c instead (the functional model behind
# the RTL API, rows/cols from the configuration name): the default until sim/f8npu_rtl.cpp exists.

# Never the default goal of the including Makefile (restored at the end).
COSIM_SAVED_DEFAULT_GOAL := $(.DEFAULT_GOAL)

RTL_CONFIGS   ?= r16c16 r4c4 r8c16
COSIM_SEED    ?= 1
COSIM_CASES   ?= 1500
COSIM_STREAMS ?= 200
COSIM_ARGS    ?=
COSIM_FAKE    ?= $(if $(wildcard sim/f8npu_rtl.cpp),0,1)
# Where the RTL libraries are (mk/rtl.mk's RTL_OUT) and how a C program links one.
COSIM_RTL_OUT ?= $(or $(RTL_OUT),$(BUILD)/rtl)
COSIM_LDLIBS  ?= -lstdc++ -lm -pthread -latomic

COSIM_SRCS := tests/cosim/cosim.c tests/cosim/cosim-gen.c tests/cosim/cosim-fault.c \
              tests/cosim/cosim-dev.c tests/cosim/cosim-scen.c tests/cosim/cosim-dump.c
COSIM_OBJS = $(patsubst %.c,$(BUILD)/obj/%.o,$(COSIM_SRCS))

# r16c16 -> 16 16
cosim_rows = $(word 1,$(subst c, ,$(patsubst r%,%,$(1))))
cosim_cols = $(word 2,$(subst c, ,$(patsubst r%,%,$(1))))

ifeq ($(COSIM_FAKE),1)
cosim_rtl_lib = $(BUILD)/cosim-fake/$(1)/libf8npu-rtl.a
$(BUILD)/cosim-fake/%/libf8npu-rtl.a: tests/cosim/fake_rtl.c tests/cosim/cosim-rtl.h
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS_F8) $(CFLAGS) $(WARN) -DFAKE_ROWS=$(call cosim_rows,$*) \
	  -DFAKE_COLS=$(call cosim_cols,$*) -MMD -MP -c $< -o $(dir $@)fake_rtl.o
	@rm -f $@
	ar rcs $@ $(dir $@)fake_rtl.o
else
cosim_rtl_lib = $(COSIM_RTL_OUT)/$(1)/libf8npu-rtl.a
endif

# Which RTL library the program was linked with: switching relinks.
.PHONY: cosim-force
$(COSIM_RTL_OUT)/%/cosim-rtl-lib: cosim-force
	@mkdir -p $(dir $@)
	@echo '$(call cosim_rtl_lib,$*)' | cmp -s - $@ || echo '$(call cosim_rtl_lib,$*)' > $@

define cosim_cfg_rules
$(COSIM_RTL_OUT)/$(1)/f8-cosim: $$(COSIM_OBJS) $(call cosim_rtl_lib,$(1)) $(BUILD)/libf8npu-sim.a \
                                $(COSIM_RTL_OUT)/$(1)/cosim-rtl-lib
	$$(CC) $$(CFLAGS) -o $$@ $$(COSIM_OBJS) $(call cosim_rtl_lib,$(1)) $(BUILD)/libf8npu-sim.a $$(COSIM_LDLIBS)
endef
$(foreach c,$(RTL_CONFIGS),$(eval $(call cosim_cfg_rules,$(c))))

.PHONY: cosim cosim-build
cosim-build: $(foreach c,$(RTL_CONFIGS),$(COSIM_RTL_OUT)/$(c)/f8-cosim)

# Every configuration runs even if one fails; the target fails if any did.
cosim: cosim-build
	@rc=0; for c in $(RTL_CONFIGS); do \
	  $(COSIM_RTL_OUT)/$$c/f8-cosim --seed $(COSIM_SEED) --cases $(COSIM_CASES) \
	    --streams $(COSIM_STREAMS) $(COSIM_ARGS) || rc=1; \
	done; exit $$rc

.DEFAULT_GOAL := $(COSIM_SAVED_DEFAULT_GOAL)

# The job-level backends on the RTL (tests/unit/check_backend.c, case "rtl"): rtl:4x4 and
# rtl:16x16 loaded side by side in one process (their .so from rtl-libs) equal ref.
.PHONY: backend-rtl
backend-rtl: $(BUILD)/f8-unit rtl-libs
	F8_RTL_DIR=$(COSIM_RTL_OUT) CK_RUN_SUITE=backend $(BUILD)/f8-unit
