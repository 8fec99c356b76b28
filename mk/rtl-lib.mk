# Sub-make of mk/rtl.mk, run from the top directory for one Verilated configuration: compile the
# C++ that Verilator generated in $(RTL_DIR) and the harness (sim/f8npu_rtl.cpp), and archive them
# with the Verilator runtime objects into $(RTL_DIR)/libf8npu-rtl.a, and link the same objects into
# $(RTL_DIR)/libf8npu-rtl.so, the configuration the runtime's rtl backend opens with dlopen
# (runtime/backend/f8-be-rtl.c). Everything is position-independent for the shared object.
#
# From the caller: RTL_DIR, RTL_ROWS, RTL_COLS, RTL_RUNTIME_OBJS (verilated*.o, built once by
# mk/rtl.mk), RTL_VROOT (VERILATOR_ROOT), RTL_VDEFS, CXX, RTL_CXXOPT, RTL_CXXFLAGS.

include $(RTL_DIR)/Vf8npu_core_classes.mk

RTL_OBJDIR := $(RTL_DIR)/obj
RTL_FAST_OBJS := $(patsubst %,$(RTL_OBJDIR)/%.o,$(VM_CLASSES_FAST) $(VM_SUPPORT_FAST))
RTL_SLOW_OBJS := $(patsubst %,$(RTL_OBJDIR)/%.o,$(VM_CLASSES_SLOW) $(VM_SUPPORT_SLOW))
RTL_HARNESS_OBJ := $(RTL_OBJDIR)/f8npu_rtl.o
RTL_VINC := -I$(RTL_DIR) -isystem $(RTL_VROOT)/include -isystem $(RTL_VROOT)/include/vltstd

# The runtime objects mk/rtl.mk provides must be the ones this model needs.
RTL_MISSING := $(filter-out $(notdir $(basename $(RTL_RUNTIME_OBJS))),$(VM_GLOBAL_FAST) $(VM_GLOBAL_SLOW))
ifneq ($(RTL_MISSING),)
$(error mk/rtl-lib.mk: the Verilated model needs runtime objects mk/rtl.mk does not build: $(RTL_MISSING))
endif

$(RTL_DIR)/libf8npu-rtl.a: $(RTL_FAST_OBJS) $(RTL_SLOW_OBJS) $(RTL_HARNESS_OBJ) $(RTL_RUNTIME_OBJS)
	@rm -f $@
	ar rcs $@ $^

# -Bsymbolic: the library's own calls bind inside it, so configurations loaded side by side
# (RTLD_LOCAL) never call into each other's Verilated model or Verilator runtime.
$(RTL_DIR)/libf8npu-rtl.so: $(RTL_FAST_OBJS) $(RTL_SLOW_OBJS) $(RTL_HARNESS_OBJ) $(RTL_RUNTIME_OBJS)
	$(CXX) -shared -Wl,-Bsymbolic -Wl,-z,defs -o $@ $^ -lm -pthread -latomic

# Generated code: no warnings asked for (Verilator's output is not ours to fix).
$(RTL_FAST_OBJS): $(RTL_OBJDIR)/%.o: $(RTL_DIR)/%.cpp mk/rtl-lib.mk | $(RTL_OBJDIR)
	$(CXX) $(RTL_VDEFS) $(RTL_VINC) $(RTL_CXXOPT) -fPIC -MMD -MP -c $< -o $@

# Construction and initial settling only: cheaper to compile, run once.
$(RTL_SLOW_OBJS): $(RTL_OBJDIR)/%.o: $(RTL_DIR)/%.cpp mk/rtl-lib.mk | $(RTL_OBJDIR)
	$(CXX) $(RTL_VDEFS) $(RTL_VINC) -O1 -fPIC -MMD -MP -c $< -o $@

$(RTL_HARNESS_OBJ): sim/f8npu_rtl.cpp mk/rtl-lib.mk | $(RTL_OBJDIR)
	$(CXX) $(RTL_VDEFS) $(RTL_VINC) -Isim/include -DF8NPU_RTL_ROWS=$(RTL_ROWS) \
	  -DF8NPU_RTL_COLS=$(RTL_COLS) $(RTL_CXXOPT) -fPIC -g $(RTL_CXXFLAGS) -MMD -MP -c $< -o $@

$(RTL_OBJDIR):
	@mkdir -p $@

-include $(wildcard $(RTL_OBJDIR)/*.d)
