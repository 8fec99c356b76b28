# f8npu-bridge (sim/f8npu-bridge.c, docs/cosim.md): one f8npu device, the functional model or the
# Verilated RTL, served to a QEMU guest through ivshmem-doorbell; and its host-side tests.
# Included by the top Makefile after its own definitions (BUILD, CC, CFLAGS, WARN, CPPFLAGS_F8).
#
#   make bridge          $(BUILD)/f8npu-bridge
#   make bridge-check    tests/bridge/bridge-test.c against the bridge on the model and on the RTL
#                        of each BRIDGE_RTL_ARRAYS entry (default 4x4): protocol, registers, a
#                        CONV2D job compared with the in-process model, interrupts, hostile
#                        mailbox input, stall + reset, reconnect
#                        then the same on the model with the bridge built with ASan/UBSan
#   make bridge-check BRIDGE_RTL_DIR=DIR   use RTL libraries built elsewhere (DIR/rRcC/libf8npu-rtl.so)
#   make bridge-vm-probe [BRIDGE_PROBE_DEVICE=rtl:4x4]   through real QEMU: the bridge, a TCG guest
#                        with -device ivshmem-doorbell, a static probe in it that finds 1af4:1110
#                        and runs a job through the mailbox from userspace (tests/bridge/qemu-probe.sh;
#                        the kernel image of the VM tests, $(VM_CACHE)/$KVER/vmlinuz; ~15 s)

BRIDGE_BIN        := $(BUILD)/f8npu-bridge
BRIDGE_ASAN_BIN   := $(BUILD)/asan/f8npu-bridge
BRIDGE_TEST_BIN   := $(BUILD)/tests/bridge-test
BRIDGE_PROBE_BIN  := $(BUILD)/tests/guest-probe
BRIDGE_PROBE_DEVICE ?= model
BRIDGE_RTL_ARRAYS ?= 4x4
BRIDGE_RTL_DIR    ?= $(BUILD)/rtl
# The RTL libraries are built here only when they are this build's own.
BRIDGE_RTL_SOS    := $(if $(filter $(BUILD)/rtl,$(BRIDGE_RTL_DIR)),\
                     $(foreach a,$(BRIDGE_RTL_ARRAYS),$(BUILD)/rtl/r$(subst x,c,$(a))/libf8npu-rtl.so))

.PHONY: bridge bridge-check bridge-vm-probe
bridge: $(BRIDGE_BIN)

$(BRIDGE_BIN): $(BUILD)/obj/sim/f8npu-bridge.o $(BUILD)/libf8npu-sim.a
	$(CC) $(CFLAGS) -o $@ $^ -ldl

$(BRIDGE_ASAN_BIN): $(BUILD)/asan/obj/sim/f8npu-bridge.o $(ASAN_SIM_OBJS)
	$(CC) -g $(SAN) -o $@ $^ -ldl

$(BRIDGE_TEST_BIN): $(BUILD)/obj/tests/bridge/bridge-test.o $(BUILD)/libf8npu-sim.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^

# Runs in a busybox initramfs: static.
$(BRIDGE_PROBE_BIN): $(BUILD)/obj/tests/bridge/guest-probe.o $(BUILD)/libf8npu-sim.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -static -o $@ $^

bridge-check: $(BRIDGE_BIN) $(BRIDGE_ASAN_BIN) $(BRIDGE_TEST_BIN) $(BRIDGE_RTL_SOS)
	F8_RTL_DIR=$(BRIDGE_RTL_DIR) $(BRIDGE_TEST_BIN) --bridge $(BRIDGE_BIN) --device model \
	  $(foreach a,$(BRIDGE_RTL_ARRAYS),--device rtl:$(a))
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  $(BRIDGE_TEST_BIN) --bridge $(BRIDGE_ASAN_BIN) --device model

# The kernel image is the VM tests' (tests/vm/run-vm.sh fetches it once into $(VM_CACHE)).
BRIDGE_KVER = $(shell dpkg-query -W -f='$${Depends}' linux-headers-amd64 2>/dev/null | \
                sed -E 's/^linux-headers-([^ ,]+).*/\1/')
bridge-vm-probe: $(BRIDGE_BIN) $(BRIDGE_PROBE_BIN) $(if $(filter rtl:%,$(BRIDGE_PROBE_DEVICE)),$(BRIDGE_RTL_SOS))
	@test -f $(VM_CACHE)/$(BRIDGE_KVER)/vmlinuz || \
	  tests/vm/run-vm.sh --cache $(VM_CACHE) --kmod none --run 'fetch:true' >/dev/null
	F8_RTL_DIR=$(BRIDGE_RTL_DIR) tests/bridge/qemu-probe.sh $(BRIDGE_BIN) $(BRIDGE_PROBE_BIN) \
	  $(VM_CACHE)/$(BRIDGE_KVER)/vmlinuz $(BRIDGE_PROBE_DEVICE)
