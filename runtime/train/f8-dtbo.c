// SPDX-License-Identifier: MIT
/*
 * Device-tree overlays for boards carrying an f8npu (f8-dtbo.h): the board's values checked,
 * the overlay written with libfdt's sequential-write API, and read back with libfdt's
 * checked accessors before it replaces anything on disk.
 */
#include <errno.h>
#include <inttypes.h>
#include <libfdt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "f8-dtbo.h"
#include "f8-fs.h"

/* The one phandle of the overlay: the loader renumbers it (__local_fixups__). */
#define F8_DTBO_PHANDLE 1u
/* Room for the whole overlay: its layout is fixed, only the names' digits vary. */
#define F8_DTBO_BUF 4096

/* A node path of the base tree: "/" or "/a/b@1", names of [A-Za-z0-9,._+@-]. */
static bool target_ok(const char *t)
{
	size_t i, n = strnlen(t, F8_DTBO_TARGET_MAX + 1);

	if (n == 0 || n > F8_DTBO_TARGET_MAX || t[0] != '/')
		return false;
	if (n == 1)
		return true;
	if (t[n - 1] == '/')
		return false;
	for (i = 1; i < n; i++) {
		char c = t[i];

		if (c == '/' && t[i - 1] == '/')
			return false;
		if (!(c == '/' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || strchr(",._+@-", c)))
			return false;
	}
	return true;
}

int f8_dtbo_check(const struct f8_dtbo_board *b, struct f8_err *e)
{
	const uint64_t lim = F8_DTBO_ADDR_LIMIT;

	if (b->base % F8_DTBO_REG_SIZE)
		return f8_fail(e, F8_ERR_RANGE,
			       "--base 0x%" PRIx64 ": the register window must be aligned to its size, 0x%x",
			       b->base, F8_DTBO_REG_SIZE);
	if (b->base > lim - F8_DTBO_REG_SIZE)
		return f8_fail(e, F8_ERR_RANGE,
			       "--base 0x%" PRIx64 ": the register window must end below 0x%" PRIx64
			       " (48-bit physical addresses)", b->base, lim);
	if (b->irq > F8_DTBO_SPI_MAX)
		return f8_fail(e, F8_ERR_RANGE,
			       "--irq %" PRIu32 ": a GIC SPI number is 0..%u (interrupt ID minus 32)",
			       b->irq, F8_DTBO_SPI_MAX);
	if (b->trigger != F8_DTBO_LEVEL_HIGH && b->trigger != F8_DTBO_EDGE_RISING)
		return f8_fail(e, F8_ERR_RANGE,
			       "trigger %" PRIu32 ": a GIC SPI is level-high (4) or edge-rising (1)",
			       b->trigger);
	if (b->mem_base % F8_DTBO_MEM_ALIGN || b->mem_size % F8_DTBO_MEM_ALIGN)
		return f8_fail(e, F8_ERR_RANGE,
			       "--mem-base 0x%" PRIx64 " --mem-size 0x%" PRIx64
			       ": both must be multiples of 64 KiB (the largest arm64 page)",
			       b->mem_base, b->mem_size);
	if (b->mem_size < F8_DTBO_MEM_MIN)
		return f8_fail(e, F8_ERR_RANGE,
			       "--mem-size 0x%" PRIx64 ": at least 1 MiB (the driver bounces each job's "
			       "buffers through it)", b->mem_size);
	if (b->mem_base >= lim || b->mem_size > lim - b->mem_base)
		return f8_fail(e, F8_ERR_RANGE,
			       "--mem-base 0x%" PRIx64 " --mem-size 0x%" PRIx64
			       ": the region must end at or below 0x%" PRIx64 " (48-bit physical addresses)",
			       b->mem_base, b->mem_size, lim);
	/* [base, base + 4 KiB) and [mem_base, mem_base + mem_size) are disjoint. */
	if (b->base < b->mem_base + b->mem_size && b->mem_base < b->base + F8_DTBO_REG_SIZE)
		return f8_fail(e, F8_ERR_RANGE,
			       "--base 0x%" PRIx64 ": the register window overlaps the memory region "
			       "0x%" PRIx64 "..0x%" PRIx64, b->base, b->mem_base,
			       b->mem_base + b->mem_size - 1);
	if (!target_ok(b->target))
		return f8_fail(e, F8_ERR_RANGE,
			       "--target-path '%.*s': expected an absolute node path ('/', '/axi'; "
			       "names of letters, digits and ,._+@-; at most %d characters)",
			       F8_DTBO_TARGET_MAX, b->target, F8_DTBO_TARGET_MAX);
	return F8_OK;
}

/* Two cells each, big-endian: <hi lo hi lo>. */
static void reg_cells(fdt32_t out[4], uint64_t addr, uint64_t size)
{
	out[0] = cpu_to_fdt32((uint32_t)(addr >> 32));
	out[1] = cpu_to_fdt32((uint32_t)addr);
	out[2] = cpu_to_fdt32((uint32_t)(size >> 32));
	out[3] = cpu_to_fdt32((uint32_t)size);
}

/* The node names, as the overlay and its symbols spell them. */
static void names(const struct f8_dtbo_board *b, char npu[32], char mem[40])
{
	snprintf(npu, 32, "npu@%" PRIx64, b->base);
	snprintf(mem, 40, "npu-memory@%" PRIx64, b->mem_base);
}

/* The sequential writes, in order; the first libfdt error stops them. */
static int emit(void *fdt, const struct f8_dtbo_board *b)
{
	fdt32_t reg[4], irq[3];
	char npu[32], mem[40], path[F8_DTBO_TARGET_MAX + 96];
	int rc = 0;

	names(b, npu, mem);
#define W(call)                          \
	do {                             \
		if (rc == 0)             \
			rc = (call);     \
	} while (0)
	W(fdt_create(fdt, F8_DTBO_BUF));
	W(fdt_finish_reservemap(fdt));
	W(fdt_begin_node(fdt, ""));

	/* fragment@0: the reserved memory, always under the root */
	W(fdt_begin_node(fdt, "fragment@0"));
	W(fdt_property_string(fdt, "target-path", "/"));
	W(fdt_begin_node(fdt, "__overlay__"));
	W(fdt_begin_node(fdt, "reserved-memory"));
	W(fdt_property_u32(fdt, "#address-cells", 2));
	W(fdt_property_u32(fdt, "#size-cells", 2));
	W(fdt_property(fdt, "ranges", NULL, 0));
	W(fdt_begin_node(fdt, mem));
	reg_cells(reg, b->mem_base, b->mem_size);
	W(fdt_property(fdt, "reg", reg, sizeof(reg)));
	W(fdt_property(fdt, "no-map", NULL, 0));
	W(fdt_property_u32(fdt, "phandle", F8_DTBO_PHANDLE));
	W(fdt_end_node(fdt)); /* mem */
	W(fdt_end_node(fdt)); /* reserved-memory */
	W(fdt_end_node(fdt)); /* __overlay__ */
	W(fdt_end_node(fdt)); /* fragment@0 */

	/* fragment@1: the device, under the target */
	W(fdt_begin_node(fdt, "fragment@1"));
	W(fdt_property_string(fdt, "target-path", b->target));
	W(fdt_begin_node(fdt, "__overlay__"));
	W(fdt_begin_node(fdt, npu));
	W(fdt_property_string(fdt, "compatible", F8_DTBO_COMPATIBLE));
	reg_cells(reg, b->base, F8_DTBO_REG_SIZE);
	W(fdt_property(fdt, "reg", reg, sizeof(reg)));
	irq[0] = cpu_to_fdt32(0); /* GIC_SPI */
	irq[1] = cpu_to_fdt32(b->irq);
	irq[2] = cpu_to_fdt32(b->trigger);
	W(fdt_property(fdt, "interrupts", irq, sizeof(irq)));
	W(fdt_property_u32(fdt, "memory-region", F8_DTBO_PHANDLE));
	W(fdt_property_string(fdt, "status", "okay"));
	W(fdt_end_node(fdt)); /* npu */
	W(fdt_end_node(fdt)); /* __overlay__ */
	W(fdt_end_node(fdt)); /* fragment@1 */

	/* labels for later overlays, as dtc -@ writes them */
	W(fdt_begin_node(fdt, "__symbols__"));
	snprintf(path, sizeof(path), "/fragment@1/__overlay__/%s", npu);
	W(fdt_property_string(fdt, "f8npu", path));
	snprintf(path, sizeof(path), "/fragment@0/__overlay__/reserved-memory/%s", mem);
	W(fdt_property_string(fdt, "f8npu_memory", path));
	W(fdt_end_node(fdt));

	/* where the local phandle is used: memory-region, at byte 0 */
	W(fdt_begin_node(fdt, "__local_fixups__"));
	W(fdt_begin_node(fdt, "fragment@1"));
	W(fdt_begin_node(fdt, "__overlay__"));
	W(fdt_begin_node(fdt, npu));
	W(fdt_property_u32(fdt, "memory-region", 0));
	W(fdt_end_node(fdt));
	W(fdt_end_node(fdt));
	W(fdt_end_node(fdt));
	W(fdt_end_node(fdt));

	W(fdt_end_node(fdt)); /* root */
	W(fdt_finish(fdt));
#undef W
	return rc;
}

int f8_dtbo_build(const struct f8_dtbo_board *b, void **blob, size_t *size, struct f8_err *e)
{
	void *fdt;
	int rc;

	*blob = NULL;
	*size = 0;
	rc = f8_dtbo_check(b, e);
	if (rc)
		return rc;
	fdt = calloc(1, F8_DTBO_BUF);
	if (!fdt)
		return f8_fail(e, F8_ERR_NOMEM, "dtbo: out of memory");
	rc = emit(fdt, b);
	if (rc) {
		free(fdt);
		/* the layout is fixed and fits: a libfdt failure here is a bug, said as such */
		return f8_fail(e, F8_ERR_MISUSE, "dtbo: libfdt: %s", fdt_strerror(rc));
	}
	*blob = fdt;
	*size = fdt_totalsize(fdt);
	return F8_OK;
}

/* @node is /fragment@@frag/__overlay__ (a loader finds it there, and the symbols name it). */
static bool is_overlay_of(const void *fdt, int node, const char *frag)
{
	int f = node >= 0 ? fdt_parent_offset(fdt, node) : -1;
	const char *n = node >= 0 ? fdt_get_name(fdt, node, NULL) : NULL;
	const char *fn = f >= 0 ? fdt_get_name(fdt, f, NULL) : NULL;

	return n && fn && !strcmp(n, "__overlay__") && !strcmp(fn, frag) && fdt_parent_offset(fdt, f) == 0;
}

/* Property @name of @node as exactly @len bytes, or NULL. */
static const void *prop(const void *fdt, int node, const char *name, int len)
{
	int got = -1;
	const void *p = fdt_getprop(fdt, node, name, &got);

	return p && got == len ? p : NULL;
}

static uint64_t cells64(const fdt32_t *c)
{
	return (uint64_t)fdt32_to_cpu(c[0]) << 32 | fdt32_to_cpu(c[1]);
}

/* A string property equal to @want (NUL included, nothing after). */
static bool prop_str_is(const void *fdt, int node, const char *name, const char *want)
{
	return prop(fdt, node, name, (int)strlen(want) + 1) &&
	       !strcmp(fdt_getprop(fdt, node, name, NULL), want);
}

/* A u32 property equal to @want. */
static bool prop_u32_is(const void *fdt, int node, const char *name, uint32_t want)
{
	const fdt32_t *p = prop(fdt, node, name, 4);

	return p && fdt32_to_cpu(*p) == want;
}

int f8_dtbo_parse(const void *blob, size_t size, struct f8_dtbo_board *b, struct f8_err *e)
{
	const fdt32_t *reg, *irq, *mr;
	struct f8_err why;
	const char *target;
	char npu[32], mem[40], path[F8_DTBO_TARGET_MAX + 96];
	int rc, node, frag, rmem, mnode, len = 0;
	uint32_t ph;

	memset(b, 0, sizeof(*b));
	if (size < sizeof(struct fdt_header) || size > F8_DTBO_BUF * 16)
		return f8_fail(e, F8_ERR_FORMAT, "dtbo: %zu bytes is not an overlay of this layout", size);
	rc = fdt_check_header(blob);
	if (rc == 0 && fdt_totalsize(blob) != size)
		rc = -FDT_ERR_TRUNCATED;
	if (rc == 0)
		rc = fdt_check_full(blob, size);
	if (rc)
		return f8_fail(e, F8_ERR_FORMAT, "dtbo: not a valid flattened device tree: %s",
			       fdt_strerror(rc));
	/* the device node, by its compatible, under fragment@N/__overlay__ */
	node = fdt_node_offset_by_compatible(blob, -1, F8_DTBO_COMPATIBLE);
	if (node < 0)
		return f8_fail(e, F8_ERR_FORMAT, "dtbo: no node compatible with \"%s\"", F8_DTBO_COMPATIBLE);
	if (!is_overlay_of(blob, fdt_parent_offset(blob, node), "fragment@1"))
		return f8_fail(e, F8_ERR_FORMAT, "dtbo: the device node is not in /fragment@1/__overlay__");
	frag = fdt_parent_offset(blob, fdt_parent_offset(blob, node));
	target = fdt_getprop(blob, frag, "target-path", &len);
	if (!target || len < 2 || len > F8_DTBO_TARGET_MAX + 1 || target[len - 1] != '\0' ||
	    (int)strlen(target) != len - 1)
		return f8_fail(e, F8_ERR_FORMAT, "dtbo: the device's fragment has no target-path string");
	memcpy(b->target, target, (size_t)len);
	reg = prop(blob, node, "reg", 16);
	irq = prop(blob, node, "interrupts", 12);
	mr = prop(blob, node, "memory-region", 4);
	if (!reg || !irq || !mr)
		return f8_fail(e, F8_ERR_FORMAT, "dtbo: the device node lacks reg <4 cells>, "
						 "interrupts <3 cells> or memory-region <1 cell>");
	b->base = cells64(reg);
	if (cells64(reg + 2) != F8_DTBO_REG_SIZE)
		return f8_fail(e, F8_ERR_FORMAT, "dtbo: the register window is 0x%" PRIx64 " bytes, not 0x%x",
			       cells64(reg + 2), F8_DTBO_REG_SIZE);
	if (fdt32_to_cpu(irq[0]) != 0)
		return f8_fail(e, F8_ERR_FORMAT, "dtbo: the interrupt is not a GIC SPI (first cell %u)",
			       fdt32_to_cpu(irq[0]));
	b->irq = fdt32_to_cpu(irq[1]);
	b->trigger = fdt32_to_cpu(irq[2]);
	if (!prop_str_is(blob, node, "status", "okay"))
		return f8_fail(e, F8_ERR_FORMAT, "dtbo: the device node's status is not \"okay\"");
	/* the memory region: the node memory-region names, a no-map child of reserved-memory */
	ph = fdt32_to_cpu(*mr);
	mnode = ph == 0 || ph == 0xffffffffu ? -1 : fdt_node_offset_by_phandle(blob, ph);
	if (mnode < 0)
		return f8_fail(e, F8_ERR_FORMAT, "dtbo: memory-region names no node (phandle %u)", ph);
	rmem = fdt_parent_offset(blob, mnode);
	reg = prop(blob, mnode, "reg", 16);
	if (rmem < 0 || strcmp(fdt_get_name(blob, rmem, NULL), "reserved-memory") || !reg ||
	    !prop(blob, mnode, "no-map", 0) || !prop_u32_is(blob, rmem, "#address-cells", 2) ||
	    !prop_u32_is(blob, rmem, "#size-cells", 2) || !prop(blob, rmem, "ranges", 0))
		return f8_fail(e, F8_ERR_FORMAT,
			       "dtbo: the memory region is not a no-map child of a reserved-memory node "
			       "with 2 address and size cells");
	if (!is_overlay_of(blob, fdt_parent_offset(blob, rmem), "fragment@0"))
		return f8_fail(e, F8_ERR_FORMAT, "dtbo: reserved-memory is not in /fragment@0/__overlay__");
	frag = fdt_parent_offset(blob, fdt_parent_offset(blob, rmem));
	if (!prop_str_is(blob, frag, "target-path", "/"))
		return f8_fail(e, F8_ERR_FORMAT, "dtbo: reserved-memory's fragment does not target /");
	b->mem_base = cells64(reg);
	b->mem_size = cells64(reg + 2);
	rc = f8_dtbo_check(b, &why);
	if (rc)
		return f8_fail(e, F8_ERR_FORMAT, "dtbo: %s", why.msg);
	/* the names, the labels and the fixup a loader needs */
	names(b, npu, mem);
	if (strcmp(fdt_get_name(blob, node, NULL), npu) || strcmp(fdt_get_name(blob, mnode, NULL), mem))
		return f8_fail(e, F8_ERR_FORMAT, "dtbo: node names differ from %s and %s", npu, mem);
	snprintf(path, sizeof(path), "/__local_fixups__/fragment@1/__overlay__/%s", npu);
	node = fdt_path_offset(blob, path);
	if (node < 0 || !prop_u32_is(blob, node, "memory-region", 0))
		return f8_fail(e, F8_ERR_FORMAT, "dtbo: no __local_fixups__ entry for memory-region");
	node = fdt_path_offset(blob, "/__symbols__");
	snprintf(path, sizeof(path), "/fragment@1/__overlay__/%s", npu);
	if (node < 0 || !prop_str_is(blob, node, "f8npu", path))
		return f8_fail(e, F8_ERR_FORMAT, "dtbo: no __symbols__ entry f8npu = \"%s\"", path);
	snprintf(path, sizeof(path), "/fragment@0/__overlay__/reserved-memory/%s", mem);
	if (!prop_str_is(blob, node, "f8npu_memory", path))
		return f8_fail(e, F8_ERR_FORMAT, "dtbo: no __symbols__ entry f8npu_memory = \"%s\"", path);
	return F8_OK;
}

/* The temporary as the disk holds it, parsed: the board it says must be @b. */
static int read_back(const char *tmp, const struct f8_dtbo_board *b, struct f8_err *e)
{
	struct f8_dtbo_board got;
	uint64_t size = 0;
	uint8_t *buf;
	ssize_t n;
	int fd, rc;

	fd = f8_fs_open_regular(tmp, &size, e);
	if (fd < 0)
		return fd;
	if (size > F8_DTBO_BUF) {
		close(fd);
		return f8_fail(e, F8_ERR_CORRUPT, "%s: %" PRIu64 " bytes on disk, more than written", tmp, size);
	}
	buf = malloc(F8_DTBO_BUF);
	if (!buf) {
		close(fd);
		return f8_fail(e, F8_ERR_NOMEM, "dtbo: out of memory");
	}
	n = pread(fd, buf, F8_DTBO_BUF, 0);
	close(fd);
	if (n < 0) {
		rc = f8_fail(e, F8_ERR_IO, "%s: read back failed: %s", tmp, strerror(errno));
	} else {
		rc = f8_dtbo_parse(buf, (size_t)n, &got, e);
		if (rc == 0 && (got.base != b->base || got.irq != b->irq || got.trigger != b->trigger ||
				got.mem_base != b->mem_base || got.mem_size != b->mem_size ||
				strcmp(got.target, b->target)))
			rc = f8_fail(e, F8_ERR_CORRUPT, "%s: read back, the overlay says another board", tmp);
	}
	free(buf);
	return rc;
}

int f8_dtbo_write(const char *path, const struct f8_dtbo_board *b, struct f8_err *e)
{
	void *blob = NULL;
	size_t size = 0;
	char *tmp = NULL;
	int fd, kind, rc;

	rc = f8_dtbo_build(b, &blob, &size, e);
	if (rc)
		return rc;
	kind = f8_fs_target(path, e);
	if (kind == F8_FS_SPECIAL)
		kind = f8_fail(e, F8_ERR_IO, "%s: not a regular file (the overlay is read back before it "
					     "is put in place)", path);
	if (kind < 0) {
		free(blob);
		return kind;
	}
	fd = f8_fs_tmp_create(path, &tmp, e);
	if (fd < 0) {
		free(blob);
		return fd;
	}
	rc = (size_t)write(fd, blob, size) == size && fsync(fd) == 0 ? 0 : -1;
	if (rc)
		rc = f8_fail(e, F8_ERR_IO, "%s: write failed: %s", tmp, strerror(errno));
	if (close(fd) != 0 && rc == 0)
		rc = f8_fail(e, F8_ERR_IO, "%s: close failed: %s", tmp, strerror(errno));
	free(blob);
	if (rc == 0)
		rc = read_back(tmp, b, e);
	if (rc == 0)
		rc = f8_fs_commit(tmp, path, e);
	else
		unlink(tmp);
	free(tmp);
	return rc;
}

int f8_dtbo_parse_u64(const char *s, bool size_suffix, uint64_t *out)
{
	unsigned int base = 10, shift = 0;
	uint64_t v = 0;
	size_t n;
	bool any = false;

	if (!s || !*s)
		return -1;
	n = strlen(s);
	if (size_suffix && n > 1) {
		char c = s[n - 1];

		shift = c == 'k' || c == 'K' ? 10 : c == 'M' ? 20 : c == 'G' ? 30 : 0;
		if (shift)
			n--;
	}
	if (n > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
		n -= 2;
	}
	for (; n; s++, n--) {
		unsigned int d;

		if (*s >= '0' && *s <= '9')
			d = (unsigned int)(*s - '0');
		else if (base == 16 && *s >= 'a' && *s <= 'f')
			d = (unsigned int)(*s - 'a' + 10);
		else if (base == 16 && *s >= 'A' && *s <= 'F')
			d = (unsigned int)(*s - 'A' + 10);
		else
			return -1;
		if (v > (UINT64_MAX - d) / base)
			return -1;
		v = v * base + d;
		any = true;
	}
	if (!any || (shift && v > UINT64_MAX >> shift))
		return -1;
	*out = v << shift;
	return 0;
}
