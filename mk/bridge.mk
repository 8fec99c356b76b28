# f8npu-bridge (sim/f8npu-bridge.c, docs/cosim.md): one f8npu device, the functional model or the
# Verilated RTL, served to a QEMU guest through ivshmem-doorbell; and its host-side tests.
# Included by the top Makefile after its own definitions (BUILD, CC, CFLAGS, WARN, CPPFLAGS_F8).
#
#   make bridge          $(BUILD)/f8npu-bridge
#   make bridge-check    tests/bridge/bridge-test.c against the bridge on the model and on the RTL
#                        of each BRIDGE_RTL_ARRAYS entry (default 4x4): protocol, registers, a
#                        CONV2D job compared with the in-process model, interrupts, hostile
#                        mailbox input, stall + reset, reconnect
#   make bridge-check BRIDGE_RTL_DIR=DIR   use RTL libraries built elsewhere (DIR/rRcC/libf8npu-rtl.so)

BRIDGE_BIN        := $(BUILD)/f8npu-bridge
BRIDGE_TEST_BIN   := $(BUILD)/tests/bridge-test
BRIDGE_RTL_ARRAYS ?= 4x4
BRIDGE_RTL_DIR    ?= $(BUILD)/rtl
# The RTL libraries are built here only when they are this build's own.
BRIDGE_RTL_SOS    := $(if $(filter $(BUILD)/rtl,$(BRIDGE_RTL_DIR)),\
                     $(foreach a,$(BRIDGE_RTL_ARRAYS),$(BUILD)/rtl/r$(subst x,c,$(a))/libf8npu-rtl.so))

.PHONY: bridge bridge-check
bridge: $(BRIDGE_BIN)

$(BRIDGE_BIN): $(BUILD)/obj/sim/f8npu-bridge.o $(BUILD)/libf8npu-sim.a
	$(CC) $(CFLAGS) -o $@ $^ -ldl

$(BRIDGE_TEST_BIN): $(BUILD)/obj/tests/bridge/bridge-test.o $(BUILD)/libf8npu-sim.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^

bridge-check: $(BRIDGE_BIN) $(BRIDGE_TEST_BIN) $(BRIDGE_RTL_SOS)
	F8_RTL_DIR=$(BRIDGE_RTL_DIR) $(BRIDGE_TEST_BIN) --bridge $(BRIDGE_BIN) --device model \
	  $(foreach a,$(BRIDGE_RTL_ARRAYS),--device rtl:$(a))
