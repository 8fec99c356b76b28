// SPDX-License-Identifier: MIT
/*
 * Device-tree overlays (f8-dtbo.h): boards round-trip through the overlay; the overlay,
 * applied by libfdt's own fdt_overlay_apply to base trees (one already using phandle 1),
 * puts the device where the board says with its memory-region resolving to the reserved
 * node; bad values are refused with F8_ERR_RANGE; every truncation and single-bit change of
 * an overlay is refused by the reader or, when accepted, applies as the board it read; the
 * file is written atomically, read back, and never through a link or FIFO.
 */
#include <check.h>
#include <dirent.h>
#include <libfdt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "f8-dtbo.h"
#include "train-test.h"

static struct f8_dtbo_board board(uint64_t base, uint32_t irq, uint32_t trig, uint64_t mb,
				  uint64_t ms, const char *target)
{
	struct f8_dtbo_board b;

	memset(&b, 0, sizeof(b));
	b.base = base;
	b.irq = irq;
	b.trigger = trig;
	b.mem_base = mb;
	b.mem_size = ms;
	memcpy(b.target, target, strnlen(target, sizeof(b.target) - 1));
	return b;
}

/* Boards of real shapes: ZynqMP PL windows, a 32-bit low window, high DDR, another bus. */
static const struct {
	uint64_t base, mb, ms;
	uint32_t irq, trig;
	const char *target;
} boards[] = {
	{ 0xa0000000, 0x70000000, 256ull << 20, 89, F8_DTBO_LEVEL_HIGH, "/" },
	{ 0x80000000, 0x60000000, 1ull << 20, 0, F8_DTBO_EDGE_RISING, "/" },
	{ 0x400000000, 0x800000000, 2ull << 30, 987, F8_DTBO_LEVEL_HIGH, "/axi" },
	{ 0xfffffffff000, 0x10000, 64ull << 20, 121, F8_DTBO_LEVEL_HIGH, "/amba_pl@0" },
	/* adjacent but not overlapping: the window just below and just above the region */
	{ 0x6ffff000, 0x70000000, 16ull << 20, 1, F8_DTBO_LEVEL_HIGH, "/" },
	{ 0x71000000, 0x70000000, 16ull << 20, 2, F8_DTBO_LEVEL_HIGH, "/soc/bus@1" },
};
#define NBOARDS (sizeof(boards) / sizeof(boards[0]))

static struct f8_dtbo_board nth(size_t i)
{
	return board(boards[i].base, boards[i].irq, boards[i].trig, boards[i].mb, boards[i].ms,
		     boards[i].target);
}

static void assert_same(const struct f8_dtbo_board *a, const struct f8_dtbo_board *b)
{
	ck_assert_uint_eq(a->base, b->base);
	ck_assert_uint_eq(a->irq, b->irq);
	ck_assert_uint_eq(a->trigger, b->trigger);
	ck_assert_uint_eq(a->mem_base, b->mem_base);
	ck_assert_uint_eq(a->mem_size, b->mem_size);
	ck_assert_str_eq(a->target, b->target);
}

static uint64_t be64(const fdt32_t *c)
{
	return (uint64_t)fdt32_to_cpu(c[0]) << 32 | fdt32_to_cpu(c[1]);
}

START_TEST(test_dtbo_roundtrip)
{
	size_t i;

	for (i = 0; i < NBOARDS; i++) {
		struct f8_dtbo_board b = nth(i), got;
		struct f8_err e = { { 0 } };
		void *blob;
		size_t n;

		ck_assert_msg(f8_dtbo_build(&b, &blob, &n, &e) == F8_OK, "board %zu: %s", i, e.msg);
		ck_assert_int_eq(fdt_check_header(blob), 0);
		ck_assert_uint_eq(fdt_totalsize(blob), n);
		ck_assert_msg(f8_dtbo_parse(blob, n, &got, &e) == F8_OK, "board %zu: %s", i, e.msg);
		assert_same(&b, &got);
		free(blob);
	}
}
END_TEST

/*
 * A base tree like a board's: root with 2 cells, a GIC holding phandle 1 (so the overlay's
 * own phandle 1 must be renumbered by the fixups), the target bus when it is not "/", and,
 * when @with_rmem, a reserved-memory node already present (the overlay merges into it).
 */
static void *base_tree(const char *target, bool with_rmem)
{
	void *fdt = calloc(1, 1 << 16);
	int root, gic;

	ck_assert_ptr_nonnull(fdt);
	ck_assert_int_eq(fdt_create_empty_tree(fdt, 1 << 16), 0);
	root = fdt_path_offset(fdt, "/");
	ck_assert_int_eq(fdt_setprop_u32(fdt, root, "#address-cells", 2), 0);
	ck_assert_int_eq(fdt_setprop_u32(fdt, root, "#size-cells", 2), 0);
	gic = fdt_add_subnode(fdt, root, "interrupt-controller@f9010000");
	ck_assert_int_ge(gic, 0);
	ck_assert_int_eq(fdt_setprop_u32(fdt, gic, "phandle", 1), 0);
	ck_assert_int_eq(fdt_setprop_u32(fdt, fdt_path_offset(fdt, "/"), "interrupt-parent", 1), 0);
	if (with_rmem) {
		int r = fdt_add_subnode(fdt, fdt_path_offset(fdt, "/"), "reserved-memory");

		ck_assert_int_ge(r, 0);
		ck_assert_int_eq(fdt_setprop_u32(fdt, r, "#address-cells", 2), 0);
		ck_assert_int_eq(fdt_setprop_u32(fdt, r, "#size-cells", 2), 0);
		ck_assert_int_eq(fdt_setprop(fdt, r, "ranges", NULL, 0), 0);
	}
	if (strcmp(target, "/")) {
		char path[300];
		char *p, *slash;
		int parent = 0;

		/* create each component of the target path */
		snprintf(path, sizeof(path), "%s", target + 1);
		for (p = path; p; p = slash) {
			int n;

			slash = strchr(p, '/');
			if (slash)
				*slash++ = '\0';
			n = fdt_subnode_offset(fdt, parent, p);
			if (n < 0)
				n = fdt_add_subnode(fdt, parent, p);
			ck_assert_int_ge(n, 0);
			ck_assert_int_eq(fdt_setprop_u32(fdt, n, "#address-cells", 2), 0);
			ck_assert_int_eq(fdt_setprop_u32(fdt, n, "#size-cells", 2), 0);
			parent = n;
		}
	}
	return fdt;
}

/*
 * Apply the overlay @blob (@n bytes, not modified) to a base tree for @b's target with libfdt's
 * own loader, and check that the device and its memory are where @b says.
 */
static void assert_applies(const void *blob, size_t n, const struct f8_dtbo_board *b, bool rmem,
			   const char *what)
{
	char path[400];
	const fdt32_t *reg, *irq, *mr;
	const char *s;
	void *ov = calloc(1, n + 4096), *fdt = base_tree(b->target, rmem);
	int node, mnode, len;

	ck_assert_ptr_nonnull(ov);
	memcpy(ov, blob, n);
	ck_assert_int_eq(fdt_open_into(ov, ov, (int)n + 4096), 0);
	ck_assert_msg(fdt_overlay_apply(fdt, ov) == 0, "%s: overlay refused by libfdt", what);
	snprintf(path, sizeof(path), "%s/npu@%llx", strcmp(b->target, "/") ? b->target : "",
		 (unsigned long long)b->base);
	node = fdt_path_offset(fdt, path);
	ck_assert_msg(node >= 0, "%s: no %s after apply", what, path);
	ck_assert_int_eq(fdt_node_check_compatible(fdt, node, "f8npu,npu-1.0"), 0);
	s = fdt_getprop(fdt, node, "status", &len);
	ck_assert_ptr_nonnull(s);
	ck_assert_str_eq(s, "okay");
	reg = fdt_getprop(fdt, node, "reg", &len);
	ck_assert_int_eq(len, 16);
	ck_assert_uint_eq(be64(reg), b->base);
	ck_assert_uint_eq(be64(reg + 2), 0x1000);
	irq = fdt_getprop(fdt, node, "interrupts", &len);
	ck_assert_int_eq(len, 12);
	ck_assert_uint_eq(fdt32_to_cpu(irq[0]), 0);
	ck_assert_uint_eq(fdt32_to_cpu(irq[1]), b->irq);
	ck_assert_uint_eq(fdt32_to_cpu(irq[2]), b->trigger);
	/* the memory-region phandle was renumbered past the GIC's and resolves */
	mr = fdt_getprop(fdt, node, "memory-region", &len);
	ck_assert_int_eq(len, 4);
	ck_assert_uint_ne(fdt32_to_cpu(*mr), 1);
	snprintf(path, sizeof(path), "/reserved-memory/npu-memory@%llx",
		 (unsigned long long)b->mem_base);
	mnode = fdt_path_offset(fdt, path);
	ck_assert_msg(mnode >= 0, "%s: no %s after apply", what, path);
	ck_assert_int_eq(fdt_node_offset_by_phandle(fdt, fdt32_to_cpu(*mr)), mnode);
	reg = fdt_getprop(fdt, mnode, "reg", &len);
	ck_assert_int_eq(len, 16);
	ck_assert_uint_eq(be64(reg), b->mem_base);
	ck_assert_uint_eq(be64(reg + 2), b->mem_size);
	ck_assert_ptr_nonnull(fdt_getprop(fdt, mnode, "no-map", &len));
	ck_assert_int_eq(len, 0);
	/* the base tree's own phandle still names the GIC */
	ck_assert_int_eq(fdt_node_offset_by_phandle(fdt, 1),
			 fdt_path_offset(fdt, "/interrupt-controller@f9010000"));
	free(ov);
	free(fdt);
}

START_TEST(test_dtbo_apply)
{
	size_t i;
	int rmem;

	for (i = 0; i < NBOARDS; i++) {
		for (rmem = 0; rmem < 2; rmem++) {
			struct f8_dtbo_board b = nth(i);
			struct f8_err e = { { 0 } };
			char what[64];
			void *blob;
			size_t n;

			ck_assert_int_eq(f8_dtbo_build(&b, &blob, &n, &e), F8_OK);
			snprintf(what, sizeof(what), "board %zu%s", i, rmem ? " (reserved-memory in base)" : "");
			assert_applies(blob, n, &b, rmem, what);
			free(blob);
		}
	}
}
END_TEST

/* @b is refused by check and by build, F8_ERR_RANGE with @frag in the reason. */
static void refused(struct f8_dtbo_board b, const char *frag)
{
	struct f8_err e = { { 0 } };
	void *blob = (void *)1;
	size_t n = 1;

	ck_assert_int_eq(f8_dtbo_check(&b, &e), F8_ERR_RANGE);
	ck_assert_msg(strstr(e.msg, frag), "reason '%s' lacks '%s'", e.msg, frag);
	ck_assert_int_eq(f8_dtbo_build(&b, &blob, &n, &e), F8_ERR_RANGE);
	ck_assert_ptr_null(blob);
	ck_assert_uint_eq(n, 0);
}

START_TEST(test_dtbo_refused)
{
	const uint64_t M = 1 << 20;
	char longpath[300];

	refused(board(0xa0000800, 1, 4, 0x70000000, M, "/"), "aligned");
	refused(board(0xa0000004, 1, 4, 0x70000000, M, "/"), "aligned");
	refused(board(1ull << 48, 1, 4, 0x70000000, M, "/"), "48-bit");
	refused(board(UINT64_MAX & ~0xfffull, 1, 4, 0x70000000, M, "/"), "48-bit");
	refused(board(0xa0000000, 988, 4, 0x70000000, M, "/"), "0..987");
	refused(board(0xa0000000, UINT32_MAX, 4, 0x70000000, M, "/"), "0..987");
	refused(board(0xa0000000, 1, 2, 0x70000000, M, "/"), "level-high");
	refused(board(0xa0000000, 1, 8, 0x70000000, M, "/"), "level-high");
	refused(board(0xa0000000, 1, 0, 0x70000000, M, "/"), "level-high");
	refused(board(0xa0000000, 1, 4, 0x70001000, M, "/"), "64 KiB");
	refused(board(0xa0000000, 1, 4, 0x70000000, M + 0x1000, "/"), "64 KiB");
	refused(board(0xa0000000, 1, 4, 0x70000000, 0, "/"), "1 MiB");
	refused(board(0xa0000000, 1, 4, 0x70000000, M - 0x10000, "/"), "1 MiB");
	refused(board(0xa0000000, 1, 4, (1ull << 48) - M + 0x10000, M, "/"), "48-bit");
	refused(board(0xa0000000, 1, 4, 1ull << 48, M, "/"), "48-bit");
	/* mem_base + mem_size wraps 64 bits */
	refused(board(0xa0000000, 1, 4, 0x10000, UINT64_MAX & ~0xffffull, "/"), "48-bit");
	/* the window inside, at the start, at the last page of the region */
	refused(board(0x70000000, 1, 4, 0x70000000, M, "/"), "overlaps");
	refused(board(0x70080000, 1, 4, 0x70000000, M, "/"), "overlaps");
	refused(board(0x700ff000, 1, 4, 0x70000000, M, "/"), "overlaps");
	refused(board(0xa0000000, 1, 4, 0x70000000, M, ""), "absolute");
	refused(board(0xa0000000, 1, 4, 0x70000000, M, "axi"), "absolute");
	refused(board(0xa0000000, 1, 4, 0x70000000, M, "/axi/"), "absolute");
	refused(board(0xa0000000, 1, 4, 0x70000000, M, "//axi"), "absolute");
	refused(board(0xa0000000, 1, 4, 0x70000000, M, "/a b"), "absolute");
	refused(board(0xa0000000, 1, 4, 0x70000000, M, "/a\"b"), "absolute");
	refused(board(0xa0000000, 1, 4, 0x70000000, M, "/a\nb"), "absolute");
	memset(longpath, 'a', sizeof(longpath));
	longpath[0] = '/';
	longpath[F8_DTBO_TARGET_MAX] = '\0'; /* 255 characters: accepted */
	{
		struct f8_dtbo_board b = board(0xa0000000, 1, 4, 0x70000000, M, longpath), got;
		struct f8_err e = { { 0 } };
		void *blob;
		size_t n;

		ck_assert_msg(f8_dtbo_build(&b, &blob, &n, &e) == F8_OK, "%s", e.msg);
		ck_assert_int_eq(f8_dtbo_parse(blob, n, &got, &e), F8_OK);
		assert_same(&b, &got);
		free(blob);
	}
	/* 256: the struct's array holds no more, so the check sees an unterminated path */
	{
		struct f8_dtbo_board b = board(0xa0000000, 1, 4, 0x70000000, M, "/");

		memset(b.target, 'a', sizeof(b.target));
		b.target[0] = '/';
		refused(b, "absolute");
	}
}
END_TEST

/* Every truncation and every single-byte change of an overlay: parsed or refused, no crash;
 * a blob that parses describes a board that passes the checks. */
START_TEST(test_dtbo_hostile)
{
	struct f8_dtbo_board b = nth(2), got;
	struct f8_err e = { { 0 } };
	uint8_t *blob, *mut;
	size_t n, i, parsed = 0;
	int bit;

	ck_assert_int_eq(f8_dtbo_build(&b, (void **)&blob, &n, &e), F8_OK);
	mut = malloc(n);
	ck_assert_ptr_nonnull(mut);
	for (i = 0; i < n; i++)
		ck_assert_int_eq(f8_dtbo_parse(blob, i, &got, &e), F8_ERR_FORMAT);
	for (i = 0; i < n; i++) {
		for (bit = 0; bit < 8; bit += 3) {
			int rc;

			memcpy(mut, blob, n);
			mut[i] ^= (uint8_t)(1u << bit);
			rc = f8_dtbo_parse(mut, n, &got, &e);
			ck_assert_msg(rc == F8_OK || rc == F8_ERR_FORMAT, "byte %zu bit %d: status %d", i,
				      bit, rc);
			if (rc == F8_OK) {
				char what[64];

				/* what the reader accepted, a loader applies as the board it read */
				parsed++;
				ck_assert_int_eq(f8_dtbo_check(&got, &e), F8_OK);
				snprintf(what, sizeof(what), "byte %zu bit %d", i, bit);
				assert_applies(mut, n, &got, false, what);
			}
		}
	}
	printf("dtbo: %zu of %zu single-bit changes still parse (to a valid board)\n", parsed, 3 * n);
	/* not an FDT at all */
	memset(mut, 0, n);
	ck_assert_int_eq(f8_dtbo_parse(mut, n, &got, &e), F8_ERR_FORMAT);
	ck_assert_ptr_nonnull(strstr(e.msg, "not a valid flattened device tree"));
	free(mut);
	free(blob);
}
END_TEST

static void tmp_setup(void)
{
	f8tt_tmpdir_make("f8-dtbo");
}

static void tmp_teardown(void)
{
	f8tt_tmpdir_remove();
}

/* Files in the test's directory other than @keep. */
static int other_files(const char *keep)
{
	DIR *d = opendir(f8tt_tmpdir);
	struct dirent *de;
	int n = 0;

	ck_assert_ptr_nonnull(d);
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..") && strcmp(de->d_name, keep))
			n++;
	closedir(d);
	return n;
}

START_TEST(test_dtbo_write)
{
	struct f8_dtbo_board b = nth(0), got;
	struct f8_err e = { { 0 } };
	char *path = f8tt_path("npu.dtbo");
	uint8_t *file;
	void *blob;
	size_t n, fn;

	ck_assert_msg(f8_dtbo_write(path, &b, &e) == F8_OK, "%s", e.msg);
	file = f8tt_read_file(path, &fn);
	ck_assert_int_eq(f8_dtbo_build(&b, &blob, &n, &e), F8_OK);
	ck_assert_uint_eq(fn, n);
	ck_assert_mem_eq(file, blob, n);
	ck_assert_int_eq(f8_dtbo_parse(file, fn, &got, &e), F8_OK);
	assert_same(&b, &got);
	free(file);
	free(blob);
	/* replaced in place by another board, no temporary left */
	b = nth(3);
	ck_assert_msg(f8_dtbo_write(path, &b, &e) == F8_OK, "%s", e.msg);
	file = f8tt_read_file(path, &fn);
	ck_assert_int_eq(f8_dtbo_parse(file, fn, &got, &e), F8_OK);
	assert_same(&b, &got);
	free(file);
	ck_assert_int_eq(other_files("npu.dtbo"), 0);
	/* a bad board writes nothing and leaves the file as it was */
	b.irq = 5000;
	ck_assert_int_eq(f8_dtbo_write(path, &b, &e), F8_ERR_RANGE);
	file = f8tt_read_file(path, &fn);
	ck_assert_int_eq(f8_dtbo_parse(file, fn, &got, &e), F8_OK);
	ck_assert_uint_eq(got.irq, nth(3).irq);
	free(file);
	ck_assert_int_eq(other_files("npu.dtbo"), 0);
}
END_TEST

START_TEST(test_dtbo_write_refused)
{
	struct f8_dtbo_board b = nth(0);
	struct f8_err e = { { 0 } };
	char *link = f8tt_path("link.dtbo"), *fifo = f8tt_path("fifo.dtbo");
	char *dir = f8tt_path("dir.dtbo"), *missing = f8tt_path("no/such/dir.dtbo");

	ck_assert_int_eq(symlink("/tmp/whatever.dtbo", link), 0);
	ck_assert_int_eq(mkfifo(fifo, 0600), 0);
	ck_assert_int_eq(mkdir(dir, 0700), 0);
	ck_assert_int_lt(f8_dtbo_write(link, &b, &e), 0);
	ck_assert_int_lt(f8_dtbo_write(fifo, &b, &e), 0);
	ck_assert_ptr_nonnull(strstr(e.msg, "not a regular file"));
	ck_assert_int_lt(f8_dtbo_write(dir, &b, &e), 0);
	ck_assert_int_lt(f8_dtbo_write(missing, &b, &e), 0);
	/* the link still points where it did, and nothing else appeared */
	ck_assert_int_eq(access("/tmp/whatever.dtbo", F_OK), -1);
	ck_assert_int_eq(other_files(""), 3);
}
END_TEST

START_TEST(test_dtbo_numbers)
{
	static const struct {
		const char *s;
		bool size;
		int rc;
		uint64_t v;
	} t[] = {
		{ "0", false, 0, 0 },
		{ "4096", false, 0, 4096 },
		{ "0x1000", false, 0, 0x1000 },
		{ "0XaBcD", false, 0, 0xabcd },
		{ "0xffffffffffffffff", false, 0, UINT64_MAX },
		{ "18446744073709551615", false, 0, UINT64_MAX },
		{ "18446744073709551616", false, -1, 0 },
		{ "0x10000000000000000", false, -1, 0 },
		{ "1k", true, 0, 1024 },
		{ "1K", true, 0, 1024 },
		{ "256M", true, 0, 256ull << 20 },
		{ "2G", true, 0, 2ull << 30 },
		{ "0x10M", true, 0, 16ull << 20 },
		{ "17179869183G", true, 0, 17179869183ull << 30 },
		{ "17179869184G", true, -1, 0 },
		{ "1M", false, -1, 0 },
		{ "M", true, -1, 0 },
		{ "", false, -1, 0 },
		{ "0x", false, -1, 0 },
		{ "-1", false, -1, 0 },
		{ "+1", false, -1, 0 },
		{ " 1", false, -1, 0 },
		{ "1 ", false, -1, 0 },
		{ "1.5", false, -1, 0 },
		{ "0x1g", false, -1, 0 },
		{ "1m", true, -1, 0 },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		uint64_t v = 12345;
		int rc = f8_dtbo_parse_u64(t[i].s, t[i].size, &v);

		ck_assert_msg(rc == t[i].rc, "'%s': status %d, want %d", t[i].s, rc, t[i].rc);
		ck_assert_msg(v == (rc ? 12345 : t[i].v), "'%s': %llu", t[i].s, (unsigned long long)v);
	}
}
END_TEST

Suite *f8_dtbo_suite(void)
{
	Suite *s = suite_create("dtbo");
	TCase *tc = tcase_create("overlay");
	TCase *tf = tcase_create("file");

	tcase_add_test(tc, test_dtbo_roundtrip);
	tcase_add_test(tc, test_dtbo_apply);
	tcase_add_test(tc, test_dtbo_refused);
	tcase_add_test(tc, test_dtbo_hostile);
	tcase_add_test(tc, test_dtbo_numbers);
	suite_add_tcase(s, tc);
	tcase_add_checked_fixture(tf, tmp_setup, tmp_teardown);
	tcase_add_test(tf, test_dtbo_write);
	tcase_add_test(tf, test_dtbo_write_refused);
	suite_add_tcase(s, tf);
	return s;
}
