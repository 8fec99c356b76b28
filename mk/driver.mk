# The kernel module f8npu.ko (driver/ + sim/'s freestanding core, docs/driver.md) and its static
# gates. Included by the top Makefile after its own definitions (BUILD, CORE_SRCS).
#
#   make module             build against Debian's 6.1 headers with W=1; fails on any warning
#   make module-sparse      the same sources through sparse (C=2); fails on any sparse warning
#   make module-checkpatch  checkpatch.pl --strict --no-tree on driver/ and uapi/f8npu_drm.h,
#                           with the exceptions of docs/driver.md ("checkpatch"); kernel-doc too
#   make module-cross       the same two gates for 32-bit ARM and arm64 (boards), not in check
#   KVER=... / KDIR=...     another kernel's headers (default: linux-headers-amd64's)
#
# Kbuild writes its objects next to the sources, so the module is built in $(MOD_DIR), a tree of
# symlinks to the sources (the files themselves are compiled, never copied).

KVER ?= $(shell dpkg-query -W -f='$${Depends}' linux-headers-amd64 2>/dev/null | sed -E 's/^linux-headers-([^ ,]+).*/\1/')
KDIR ?= /usr/src/linux-headers-$(KVER)
MOD_DIR   := $(abspath $(BUILD))/module
MOD_FILES := Kbuild $(wildcard driver/*.c driver/*.h) $(CORE_SRCS)
# The kernel's make must not see this make's command-line variables (BUILD=...), except the
# ones of a cross build: make module KDIR=<board headers> ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu-
KMAKE := MAKEFLAGS= MAKEOVERRIDES= $(MAKE) -j2 -C $(KDIR) M=$(MOD_DIR) \
         $(if $(ARCH),ARCH=$(ARCH)) $(if $(CROSS_COMPILE),CROSS_COMPILE=$(CROSS_COMPILE))

CHECKPATCH_DIR   := $(abspath $(BUILD))/checkpatch
CHECKPATCH       := $(CHECKPATCH_DIR)/scripts/checkpatch.pl
# Exceptions, each with its reason in docs/driver.md ("checkpatch").
CHECKPATCH_IGNORE := 

.PHONY: module module-tree module-sparse module-checkpatch module-clean

module-tree:
	@test -d $(KDIR) || { echo "module: no kernel headers in $(KDIR) (make deps)"; exit 1; }
	@mkdir -p $(MOD_DIR)/driver $(MOD_DIR)/sim
	@for f in $(MOD_FILES); do ln -sfn $(CURDIR)/$$f $(MOD_DIR)/$$f; done
	@ln -sfn $(CURDIR)/sim/include $(MOD_DIR)/sim/include
	@ln -sfn $(CURDIR)/uapi $(MOD_DIR)/uapi

# From clean each time: a warning in an unchanged file must still fail the gate.
module: module-tree
	@$(KMAKE) clean >/dev/null
	@rc=0; $(KMAKE) W=1 modules >$(MOD_DIR)/module.log 2>&1 || rc=$$?; \
	cat $(MOD_DIR)/module.log; [ $$rc -eq 0 ] || exit $$rc; \
	if grep -q 'warning:' $(MOD_DIR)/module.log; then echo "module: warnings (W=1)"; exit 1; fi
	@echo "module: $(MOD_DIR)/f8npu.ko for $(KDIR), no warning with W=1"

module-sparse: module-tree
	@command -v sparse >/dev/null || { echo "module-sparse: no sparse (make deps)"; exit 1; }
	@rc=0; $(KMAKE) C=2 modules >$(MOD_DIR)/sparse.log 2>&1 || rc=$$?; \
	cat $(MOD_DIR)/sparse.log; [ $$rc -eq 0 ] || exit $$rc; \
	if grep -q 'warning:' $(MOD_DIR)/sparse.log; then echo "module-sparse: sparse warnings"; exit 1; fi
	@echo "module-sparse: sparse (C=2) finds nothing in the module's sources"

# checkpatch.pl is not in the headers package: take it from linux-source-6.1 (apt-get download,
# never installed), once.
$(CHECKPATCH):
	@mkdir -p $(CHECKPATCH_DIR)/deb
	cd $(CHECKPATCH_DIR)/deb && apt-get download -q linux-source-6.1
	dpkg-deb --fsys-tarfile $(CHECKPATCH_DIR)/deb/linux-source-6.1_*.deb | \
	  tar -xO --wildcards './usr/src/linux-source-6.1.tar.*' | \
	  tar -xJ -C $(CHECKPATCH_DIR) --strip-components=1 linux-source-6.1/scripts/checkpatch.pl \
	    linux-source-6.1/scripts/spelling.txt linux-source-6.1/scripts/const_structs.checkpatch
	rm -rf $(CHECKPATCH_DIR)/deb
	@test -f $@

# Also kernel-doc (from the headers package) on the same files: every documented struct member
# and parameter described.
module-checkpatch: $(CHECKPATCH)
	perl $(CHECKPATCH) --strict --no-tree --terse --show-types \
	  $(if $(strip $(CHECKPATCH_IGNORE)),--ignore $(CHECKPATCH_IGNORE)) \
	  -f $(wildcard driver/*.c driver/*.h) uapi/f8npu_drm.h
	@out=$$(perl $(KDIR)/scripts/kernel-doc -none $(wildcard driver/*.c driver/*.h) \
	  uapi/f8npu_drm.h 2>&1); if [ -n "$$out" ]; then echo "$$out"; exit 1; fi
	@echo "module-checkpatch: driver/ and uapi/f8npu_drm.h are checkpatch --strict and kernel-doc clean"

module-clean:
	@if [ -d $(MOD_DIR) ]; then $(KMAKE) clean >/dev/null; fi

# The driver's end-to-end test in a VM (driver/tests/f8npu-smoke.c, static: the initramfs has no
# libc), with the harness tests/vm/run-vm.sh: the module loads, the test passes, it unloads, and
# the kernel log stays clean. vgem (in the kernel image) exports the buffer of the implicit-sync
# test.
DRIVER_TEST_SIM := sim/f8npu_model.c sim/f8npu_validate.c sim/f8npu_ref.c sim/f8npu_prog.c \
                   sim/f8npu_model_host.c sim/f8npu_hostmem.c
$(BUILD)/driver-tests/f8npu-smoke: driver/tests/f8npu-smoke.c $(DRIVER_TEST_SIM) uapi/f8npu_drm.h
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS_F8) $(shell pkg-config --cflags libdrm) $(CFLAGS) $(WARN) -static \
	  -o $@ driver/tests/f8npu-smoke.c $(DRIVER_TEST_SIM)

.PHONY: module-vm
module-vm: module $(BUILD)/driver-tests/f8npu-smoke
	$(VM_RUN) --kmod drm --kmod drm_shmem_helper --kmod vgem --module $(MOD_DIR)/f8npu.ko \
	  --bin $(BUILD)/driver-tests/f8npu-smoke --run 'f8npu-unbind:f8npu-smoke --unbind'

# The module's sources for DKMS (dkms.conf): `make dkms-src` then
#   dkms add f8npu/1.0 && dkms build f8npu/1.0 && dkms install f8npu/1.0
DKMS_SRC ?= /usr/src/f8npu-1.0
DKMS_FILES := Kbuild dkms.conf $(wildcard driver/*.c driver/*.h) $(CORE_SRCS) \
              $(wildcard sim/include/*.h) uapi/f8npu_cmd.h uapi/f8npu_regs.h uapi/f8npu_drm.h
.PHONY: dkms-src
dkms-src:
	@mkdir -p $(DKMS_SRC)
	@for f in $(DKMS_FILES); do install -D -m 644 $$f $(DKMS_SRC)/$$f; done
	@echo "dkms-src: $(words $(DKMS_FILES)) files in $(DKMS_SRC)"

# The module for the boards' architectures: 32-bit ARM (multi_v7_defconfig: CONFIG_OF, and no
# libgcc 64-bit division in a 32-bit kernel) and arm64 (defconfig), each + CONFIG_DRM=m and
# CONFIG_DRM_VGEM=m (which selects the shmem helper), against linux-source-6.1 prepared with
# Debian's cross compilers; make module and module-sparse on each, and the 32-bit module must
# call no 64-bit division helper. Not in check: it prepares two kernel trees (about 3-5 min and
# 1.5 GB in $(BUILD)-cross: outside $(BUILD), whose *.d files the top Makefile includes, and the
# kernel's sources have some). Packages: scripts/deps.sh cross. modpost warns there that symbols
# are unresolved (a prepared tree has no Module.symvers): not a compiler warning.
CROSS_DIR   := $(abspath $(BUILD))-cross
CROSS_ARCHS := arm:arm-linux-gnueabihf-:multi_v7_defconfig arm64:aarch64-linux-gnu-:defconfig
.PHONY: module-cross
$(CROSS_DIR)/linux-source-6.1/Makefile:
	@mkdir -p $(CROSS_DIR)/deb
	cd $(CROSS_DIR)/deb && apt-get download -q linux-source-6.1
	dpkg-deb --fsys-tarfile $(CROSS_DIR)/deb/linux-source-6.1_*.deb | \
	  tar -xO --wildcards './usr/src/linux-source-6.1.tar.*' | tar -xJ -C $(CROSS_DIR)
	rm -rf $(CROSS_DIR)/deb
	@test -f $@

module-cross: $(CROSS_DIR)/linux-source-6.1/Makefile
	@set -e; for a in $(CROSS_ARCHS); do \
	  arch=$${a%%:*}; rest=$${a#*:}; cc=$${rest%%:*}; def=$${rest#*:}; o=$(CROSS_DIR)/k-$$arch; \
	  if [ ! -f $$o/.prepared ]; then \
	    echo "module-cross: preparing $$arch ($$def)"; mkdir -p $$o; \
	    $(MAKE) -s -C $(CROSS_DIR)/linux-source-6.1 ARCH=$$arch CROSS_COMPILE=$$cc O=$$o $$def; \
	    $(CROSS_DIR)/linux-source-6.1/scripts/config --file $$o/.config -m DRM -m DRM_VGEM \
	      -e OF_RESERVED_MEM -d DEBUG_INFO_BTF; \
	    $(MAKE) -s -C $(CROSS_DIR)/linux-source-6.1 ARCH=$$arch CROSS_COMPILE=$$cc O=$$o olddefconfig; \
	    $(MAKE) -s -j2 -C $(CROSS_DIR)/linux-source-6.1 ARCH=$$arch CROSS_COMPILE=$$cc O=$$o \
	      modules_prepare; \
	    touch $$o/.prepared; \
	  fi; \
	  $(MAKE) --no-print-directory BUILD=$(CROSS_DIR)/out-$$arch KDIR=$$o ARCH=$$arch \
	    CROSS_COMPILE=$$cc module module-sparse >$(CROSS_DIR)/$$arch.log 2>&1 || \
	    { cat $(CROSS_DIR)/$$arch.log; exit 1; }; \
	  grep '^module' $(CROSS_DIR)/$$arch.log; \
	  div=$$($${cc}nm -u $(CROSS_DIR)/out-$$arch/module/f8npu.ko | \
	    grep -E '__(aeabi_[ul]*ldiv|u?divdi3|u?moddi3)' || true); \
	  if [ -n "$$div" ]; then echo "module-cross ($$arch): 64-bit division helpers: $$div"; exit 1; fi; \
	done
	@echo "module-cross: f8npu.ko builds for arm and arm64 with W=1 and sparse clean"
