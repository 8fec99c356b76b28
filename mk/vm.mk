# The VM tests (tests/vm/, docs/testing.md "VM tests"): Debian's kernel booted in QEMU (TCG)
# with a busybox initramfs, modules loaded, static test programs run inside.
# Included by the top Makefile after its own definitions (BUILD, CC, CFLAGS, WARN, CPPFLAGS_F8).
#
#   make vm-check       the harness's smoke test, then the runtime's kmod backend against the driver
#   make vm-kmod-eval   f8 eval --backend kmod in the VM (static f8, f8npu.ko from make module)
#                       gives the logits of --backend ref on the host, byte for byte
#   make vm-fuzz        tests/vm/f8npu-fuzz.c against f8npu.ko: random ioctls from several
#                       processes, documented errnos only, canaries intact, a known job after
#                       [VM_FUZZ_ITERS=1000 VM_FUZZ_PROCS=3 VM_FUZZ_SEED=1 VM_FUZZ_SMP=2]
#   make vm-smoke       the harness proves itself: drm.ko + drm_shmem_helper.ko from the image,
#                       a static program inside checks they are live; then a failing step and a
#                       kernel stack trace (sysrq l) must each make the harness fail
#   make vm-bridge      f8npu.ko on the Verilated RTL: f8npu-bridge (rtl:16x16) serves the guest
#                       over ivshmem-doorbell, the driver binds it over PCI; f8npu-smoke, unbind,
#                       f8 eval/exec/profile --backend kmod against ref, a stalled job reset
#                       (tests/vm/bridge-vm.sh; ~1-1.5 min) [VM_BRIDGE_RTL_DIR=DIR VM_BRIDGE_IMAGES=8
#                       VM_BRIDGE_SMP=2]
#   make demo-vm        the demo through that path, timed against the in-process RTL (not a test)
#
# The kernel image is fetched once into $(VM_CACHE) (apt-get download, ~70 MB, a few seconds).

VM_CACHE   ?= $(BUILD)/vm
VM_TIMEOUT ?= 300
VM_RUN     := tests/vm/run-vm.sh --cache $(VM_CACHE) --timeout $(VM_TIMEOUT)

.PHONY: vm-check vm-smoke vm-kmod-eval vm-fuzz

# Test programs run in an initramfs without libc: static, the project's flags.
$(BUILD)/vm/bin/%: tests/vm/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS_F8) $(CFLAGS) $(WARN) -static -o $@ $<

vm-smoke: $(BUILD)/vm/bin/vm-smoke
	$(VM_RUN) --log $(VM_CACHE)/smoke.log --file $<=/bin/vm-smoke \
	  --run 'vm-smoke:vm-smoke drm drm_shmem_helper'
	@echo "vm-smoke: a failing step and a kernel stack trace must fail the run"
	@if $(VM_RUN) --log $(VM_CACHE)/selftest-console.log --kmod none --run 'must-fail:false' \
	  --run 'trace:echo l >/proc/sysrq-trigger' \
	  >$(VM_CACHE)/selftest.log 2>&1; then \
	  cat $(VM_CACHE)/selftest.log; echo "vm-smoke: the harness passed a bad run"; exit 1; fi
	@grep -q '^  FAIL must-fail (exit status 1)' $(VM_CACHE)/selftest.log && \
	  grep -q '^  PASS trace' $(VM_CACHE)/selftest.log && \
	  grep -q '^  FAIL kernel reports:' $(VM_CACHE)/selftest.log || \
	  { cat $(VM_CACHE)/selftest.log; echo "vm-smoke: the harness missed the failing step or the trace"; exit 1; }
	@echo "vm-smoke: the harness fails on a failing step and on a kernel trace, as it must"

# The f8 tool, static for the initramfs (the linker warns that rtl's dlopen needs the host's
# libc at run time: the rtl backend is not used in the VM).
$(BUILD)/vm/f8: $(CLI_OBJS) $(BUILD)/libf8.a $(BUILD)/libf8npu-sim.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -static -o $@ $^ $(TRAIN_LIBS) 2>&1 | grep -v "dlopen' in statically linked" || true
	@test -x $@

vm-kmod-eval: $(BUILD)/f8 $(BUILD)/vm/f8 module
	tests/vm/kmod-eval.sh $(BUILD)/f8 $(BUILD)/vm/f8 $(MOD_DIR)/f8npu.ko --cache $(VM_CACHE) \
	  --timeout $(VM_TIMEOUT) --log $(VM_CACHE)/kmod-eval.log

VM_FUZZ_ITERS ?= 1000
VM_FUZZ_PROCS ?= 3
VM_FUZZ_SEED  ?= 1
# two virtual CPUs: the processes' ioctls really run at once in the kernel
VM_FUZZ_SMP   ?= 2
# libdrm (discovery) and sim/'s model (the expected output of the known job), linked static.
$(BUILD)/vm/bin/f8npu-fuzz: tests/vm/f8npu-fuzz.c $(BUILD)/libf8npu-sim.a
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS_F8) $(DRM_CFLAGS) $(CFLAGS) $(WARN) -static -o $@ $< $(BUILD)/libf8npu-sim.a \
	  $(DRM_LIBS)

vm-fuzz: $(BUILD)/vm/bin/f8npu-fuzz module
	$(VM_RUN) --log $(VM_CACHE)/fuzz.log --smp $(VM_FUZZ_SMP) --module $(MOD_DIR)/f8npu.ko \
	  --file $<=/bin/f8npu-fuzz \
	  --run 'f8npu-fuzz:f8npu-fuzz $(VM_FUZZ_ITERS) $(VM_FUZZ_PROCS) $(VM_FUZZ_SEED)'

vm-check: vm-smoke vm-kmod-eval vm-fuzz

# The driver on the Verilated RTL through f8npu-bridge (tests/vm/bridge-vm.sh, docs/cosim.md):
# the bridge serves rtl:16x16 over ivshmem-doorbell, f8npu.ko binds it over PCI; f8npu-smoke,
# the PCI unbind, f8 eval --backend kmod (VM_BRIDGE_IMAGES images, batch 4) byte for byte
# --backend ref, f8 exec (logits, device error), a stalled RTL job timed out and reset, f8 profile.
# The RTL library: $(VM_BRIDGE_RTL_DIR)/r16c16/libf8npu-rtl.so (built if it is this build's own).
VM_BRIDGE_DEVICE  ?= rtl:16x16
VM_BRIDGE_IMAGES  ?= 8
# two virtual CPUs: the interrupt handler and the queue worker use the mailbox at once
VM_BRIDGE_SMP     ?= 2
VM_BRIDGE_RTL_DIR ?= $(BUILD)/rtl
VM_BRIDGE_RTL_SO  := $(VM_BRIDGE_RTL_DIR)/r$(subst x,c,$(patsubst rtl:%,%,$(VM_BRIDGE_DEVICE)))/libf8npu-rtl.so
.PHONY: vm-bridge
vm-bridge: $(BUILD)/f8 $(BUILD)/vm/f8 module $(BUILD)/driver-tests/f8npu-smoke $(BUILD)/f8npu-bridge \
           $(if $(filter $(BUILD)/rtl,$(VM_BRIDGE_RTL_DIR)),$(VM_BRIDGE_RTL_SO))
	F8_RTL_DIR=$(VM_BRIDGE_RTL_DIR) F8_VM_BRIDGE_DEVICE=$(VM_BRIDGE_DEVICE) \
	  F8_VM_EVAL_IMAGES=$(VM_BRIDGE_IMAGES) tests/vm/bridge-vm.sh $(BUILD)/f8 $(BUILD)/vm/f8 \
	  $(MOD_DIR)/f8npu.ko $(BUILD)/driver-tests/f8npu-smoke $(BUILD)/f8npu-bridge --cache $(VM_CACHE) \
	  --timeout $(VM_TIMEOUT) --log $(VM_CACHE)/bridge.log --smp $(VM_BRIDGE_SMP)

# make demo-vm: a model through app -> libf8 -> ioctl -> f8npu.ko -> f8npu-bridge -> Verilated RTL
# in the guest (tests/vm/demo-vm.sh): accuracy, time per image against the same images on the
# in-process RTL (f8 eval --backend rtl:16x16 on the host) and their ratio, the per-layer profile
# read back through the driver. runs/demo/q8/model.f8m (make demo) if present, else random.
DEMO_VM_IMAGES ?= 32
.PHONY: demo-vm
demo-vm: $(BUILD)/f8 $(BUILD)/vm/f8 module $(BUILD)/f8npu-bridge \
         $(if $(filter $(BUILD)/rtl,$(VM_BRIDGE_RTL_DIR)),$(VM_BRIDGE_RTL_SO))
	F8_RTL_DIR=$(VM_BRIDGE_RTL_DIR) DEMO_VM_DEVICE=$(VM_BRIDGE_DEVICE) DEMO_VM_IMAGES=$(DEMO_VM_IMAGES) \
	  tests/vm/demo-vm.sh $(BUILD)/f8 $(BUILD)/vm/f8 $(MOD_DIR)/f8npu.ko $(BUILD)/f8npu-bridge \
	  --cache $(VM_CACHE) --timeout $(VM_TIMEOUT)
