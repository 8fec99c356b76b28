# f8npu-bridge (sim/f8npu-bridge.c, docs/cosim.md): one f8npu device, the functional model or the
# Verilated RTL, served to a QEMU guest through ivshmem-doorbell; and its host-side tests.
# Included by the top Makefile after its own definitions (BUILD, CC, CFLAGS, WARN, CPPFLAGS_F8).
#
#   make bridge          $(BUILD)/f8npu-bridge
#   make bridge-check    tests/bridge/bridge-test.c against the bridge on the model and on the RTL
#                        of each BRIDGE_RTL_ARRAYS entry (default 4x4): protocol, registers, a
#                        CONV2D job compared with the in-process model, interrupts, hostile
#                        mailbox input, stall + reset, reconnect
#                        then the same with the bridge built with ASan/UBSan (another fuzz seed)
#   make bridge-check BRIDGE_RTL_DIR=DIR   use RTL libraries built elsewhere (DIR/rRcC/libf8npu-rtl.so)
#   make bridge-vm-probe [BRIDGE_PROBE_DEVICE=rtl:4x4]   through real QEMU: the bridge, a TCG guest
#                        with -device ivshmem-doorbell, a static probe in it that finds 1af4:1110
#                        and runs a job through the mailbox from userspace, then a test module
#                        (tests/bridge/kmod/) that runs jobs with the mailbox in the kernel and the
#                        device interrupt as MSI-X, a stalled job reset (tests/bridge/qemu-probe.sh;
#                        the kernel image of the VM tests, $(VM_CACHE)/$KVER/vmlinuz; ~15 s)
#   make bridge-kmod     that module, $(BUILD)/bridge-kmod/f8br_ktest.ko (Debian's 6.1 headers, W=1)

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

.PHONY: bridge bridge-check bridge-vm-probe bridge-kmod
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
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 F8_RTL_DIR=$(BRIDGE_RTL_DIR) \
	  $(BRIDGE_TEST_BIN) --bridge $(BRIDGE_ASAN_BIN) --device model \
	  $(foreach a,$(BRIDGE_RTL_ARRAYS),--device rtl:$(a)) --seed 7

# The kernel image is the VM tests' (tests/vm/run-vm.sh fetches it once into $(VM_CACHE)).
BRIDGE_KVER = $(shell dpkg-query -W -f='$${Depends}' linux-headers-amd64 2>/dev/null | \
                sed -E 's/^linux-headers-([^ ,]+).*/\1/')
BRIDGE_KDIR  = /usr/src/linux-headers-$(BRIDGE_KVER)
# Kbuild writes next to the sources: the module is built in a tree of symlinks to them.
BRIDGE_KMOD_DIR   := $(abspath $(BUILD))/bridge-kmod
BRIDGE_KMOD_FILES := tests/bridge/kmod/f8br_irqtest.c tests/bridge/bridge-job.h sim/f8npu_prog.c
BRIDGE_KMOD       := $(BRIDGE_KMOD_DIR)/f8br_ktest.ko
bridge-kmod: $(BRIDGE_KMOD)
$(BRIDGE_KMOD): $(BRIDGE_KMOD_FILES) tests/bridge/kmod/Kbuild $(wildcard sim/include/*.h uapi/*.h)
	@test -d $(BRIDGE_KDIR) || { echo "bridge-kmod: no kernel headers in $(BRIDGE_KDIR) (make deps)"; exit 1; }
	@mkdir -p $(BRIDGE_KMOD_DIR)/tests/bridge/kmod $(BRIDGE_KMOD_DIR)/sim
	@for f in $(BRIDGE_KMOD_FILES); do ln -sfn $(CURDIR)/$$f $(BRIDGE_KMOD_DIR)/$$f; done
	@ln -sfn $(CURDIR)/tests/bridge/kmod/Kbuild $(BRIDGE_KMOD_DIR)/Kbuild
	@ln -sfn $(CURDIR)/sim/include $(BRIDGE_KMOD_DIR)/sim/include
	@ln -sfn $(CURDIR)/uapi $(BRIDGE_KMOD_DIR)/uapi
	@rc=0; MAKEFLAGS= MAKEOVERRIDES= $(MAKE) -C $(BRIDGE_KDIR) M=$(BRIDGE_KMOD_DIR) W=1 modules \
	  >$(BRIDGE_KMOD_DIR)/build.log 2>&1 || rc=$$?; cat $(BRIDGE_KMOD_DIR)/build.log; \
	  [ $$rc -eq 0 ] || exit $$rc; \
	  if grep -q 'warning:' $(BRIDGE_KMOD_DIR)/build.log; then echo "bridge-kmod: warnings"; rm -f $@; exit 1; fi

bridge-vm-probe: $(BRIDGE_BIN) $(BRIDGE_PROBE_BIN) $(BRIDGE_KMOD) \
                 $(if $(filter rtl:%,$(BRIDGE_PROBE_DEVICE)),$(BRIDGE_RTL_SOS))
	@test -f $(VM_CACHE)/$(BRIDGE_KVER)/vmlinuz || \
	  tests/vm/run-vm.sh --cache $(VM_CACHE) --kmod none --run 'fetch:true' >/dev/null
	F8_RTL_DIR=$(BRIDGE_RTL_DIR) tests/bridge/qemu-probe.sh $(BRIDGE_BIN) $(BRIDGE_PROBE_BIN) \
	  $(VM_CACHE)/$(BRIDGE_KVER)/vmlinuz $(BRIDGE_PROBE_DEVICE) 240 $(BRIDGE_KMOD)
