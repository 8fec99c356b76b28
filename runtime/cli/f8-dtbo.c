// SPDX-License-Identifier: MIT
/*
 * f8 dtbo: the device-tree overlay of an ARM FPGA board carrying an f8npu (docs/dtbo.md):
 * the register window, the GIC SPI and the reserved memory region, checked, written with
 * libfdt, read back and parsed before it is renamed into place (f8-dtbo.h).
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "f8-cli.h"
#include "f8-dtbo.h"
#include "f8-opt.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: f8 dtbo --base ADDR --irq SPI --mem-base ADDR --mem-size SIZE --out FILE.dtbo\n"
		"               [--trigger level|edge] [--target-path PATH]\n"
		"The device-tree overlay of a board: npu@ADDR (compatible \"%s\", a 4 KiB\n"
		"register window at ADDR, GIC SPI number SPI = interrupt ID - 32, level-high by default)\n"
		"and its reserved memory (no-map) at --mem-base, --mem-size bytes (multiples of 64 KiB,\n"
		"at least 1 MiB). Numbers: decimal or 0x-hex; sizes may end in k, M or G.\n"
		"--target-path: the node the device goes under (default /; it must have 2 address\n"
		"and 2 size cells, as arm64 roots do). Apply it at boot (U-Boot: fdt apply), since\n"
		"reserved memory is only honoured then.\n",
		F8_DTBO_COMPATIBLE);
}

/* @s into *@out, or a message naming @opt. */
static int num(const char *opt, const char *s, bool size, uint64_t *out)
{
	if (f8_dtbo_parse_u64(s, size, out) == 0)
		return 0;
	f8_errf("f8 dtbo: %s '%s': expected %s\n", opt, s,
		size ? "a size (decimal or 0x-hex, optional k, M or G)" : "an address (decimal or 0x-hex)");
	return -1;
}

int f8_cmd_dtbo(int argc, char **argv)
{
	enum { O_BASE = 256, O_IRQ, O_TRIGGER, O_MEM_BASE, O_MEM_SIZE, O_OUT, O_TARGET };
	static const struct option opts[] = {
		{ "base", required_argument, NULL, O_BASE },
		{ "irq", required_argument, NULL, O_IRQ },
		{ "trigger", required_argument, NULL, O_TRIGGER },
		{ "mem-base", required_argument, NULL, O_MEM_BASE },
		{ "mem-size", required_argument, NULL, O_MEM_SIZE },
		{ "out", required_argument, NULL, O_OUT },
		{ "target-path", required_argument, NULL, O_TARGET },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct f8_dtbo_board b = { .trigger = F8_DTBO_LEVEL_HIGH, .target = "/" };
	bool have_base = false, have_irq = false, have_mb = false, have_ms = false;
	struct f8_err e = { { 0 } };
	const char *out = NULL;
	uint64_t v;
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case O_BASE:
			if (num("--base", optarg, false, &b.base))
				return F8_EXIT_USAGE;
			have_base = true;
			break;
		case O_IRQ:
			if (num("--irq", optarg, false, &v))
				return F8_EXIT_USAGE;
			if (v > F8_DTBO_SPI_MAX) {
				f8_errf("f8 dtbo: --irq '%s': a GIC SPI number is 0..%u (interrupt ID minus 32)\n",
					optarg, F8_DTBO_SPI_MAX);
				return F8_EXIT_USAGE;
			}
			b.irq = (uint32_t)v;
			have_irq = true;
			break;
		case O_TRIGGER:
			if (!strcmp(optarg, "level"))
				b.trigger = F8_DTBO_LEVEL_HIGH;
			else if (!strcmp(optarg, "edge"))
				b.trigger = F8_DTBO_EDGE_RISING;
			else {
				f8_errf("f8 dtbo: --trigger '%s': expected level (high) or edge (rising)\n",
					optarg);
				return F8_EXIT_USAGE;
			}
			break;
		case O_MEM_BASE:
			if (num("--mem-base", optarg, false, &b.mem_base))
				return F8_EXIT_USAGE;
			have_mb = true;
			break;
		case O_MEM_SIZE:
			if (num("--mem-size", optarg, true, &b.mem_size))
				return F8_EXIT_USAGE;
			have_ms = true;
			break;
		case O_OUT: out = optarg; break;
		case O_TARGET:
			if (strlen(optarg) > F8_DTBO_TARGET_MAX) {
				f8_errf("f8 dtbo: --target-path: longer than %d characters\n", F8_DTBO_TARGET_MAX);
				return F8_EXIT_USAGE;
			}
			strcpy(b.target, optarg);
			break;
		case 'h': usage(stdout); return F8_EXIT_OK;
		default: return f8_opt_error("f8 dtbo", c, argv, opts);
		}
	}
	if (optind < argc) {
		f8_errf("f8 dtbo: unexpected argument '%s' (f8 dtbo --help)\n", argv[optind]);
		return F8_EXIT_USAGE;
	}
	if (!have_base || !have_irq || !have_mb || !have_ms || !out) {
		fprintf(stderr, "f8 dtbo: --base, --irq, --mem-base, --mem-size and --out are required\n");
		usage(stderr);
		return F8_EXIT_USAGE;
	}
	if (f8_dtbo_write(out, &b, &e)) {
		f8_errf("f8 dtbo: %s\n", e.msg);
		return F8_EXIT_USAGE;
	}
	f8_outf("%s: npu@%" PRIx64 " (GIC SPI %u, %s) under %s, reserved memory 0x%" PRIx64
		"..0x%" PRIx64 " (no-map); read back and checked\n",
		out, b.base, b.irq, b.trigger == F8_DTBO_LEVEL_HIGH ? "level-high" : "edge-rising",
		b.target, b.mem_base, b.mem_base + b.mem_size - 1);
	return F8_EXIT_OK;
}
