// SPDX-License-Identifier: MIT
/*
 * f8 info: what this machine can run a model on. Every backend of the table is opened with
 * its default configuration (and rtl with each configuration named on the command line or
 * built next to the tool); for each, present or why not, and the device's capabilities:
 * kmod once per f8npu render node found, or once to say why there is none. Then the CPU
 * path's instruction sets.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "f8-cli.h"
#include "f8-cpu.h"
#include "f8-opt.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: f8 info [SPEC...]\n"
		   "The backends present and their capabilities (default specs: ref, rtl:4x4,\n"
		   "rtl:16x16, kmod), and the CPU path's instruction sets.\n");
}

static void show(const char *spec)
{
	struct f8_be *be = NULL;
	struct f8_err e = { { 0 } };
	const struct f8_be_caps *c;

	if (f8_be_open(spec, &be, &e)) {
		printf("%-10s absent: %s\n", spec, e.msg);
		return;
	}
	c = &be->caps;
	printf("%-10s present: %s\n", be->spec, be->ops->what);
	printf("           id %08x hw %u.%u stream %u.%u; array %ux%u; opcodes 0x%x; %u regions;\n"
	       "           buffers in/w/acc %u/%u/%u bytes; max dim %u, max K %u; shifts %d..%d, align <= %u\n",
	       c->hw_id, c->hw_version >> 16, c->hw_version & 0xffffu, c->cmd_version >> 16,
	       c->cmd_version & 0xffffu, c->rows, c->cols, c->ops, c->regions, c->ibuf_bytes,
	       c->wbuf_bytes, c->abuf_bytes, c->max_dim, c->max_k, c->shift_min, c->shift_max,
	       c->align_max);
	f8_be_close(be);
}

/* Every f8npu device of the machine by its node, or kmod's reason for none. */
static void show_kmod(void)
{
	char paths[8][64], spec[80];
	int n = f8_be_kmod_devices(paths, 8), i;

	if (n == 0)
		show("kmod");
	for (i = 0; i < n; i++) {
		snprintf(spec, sizeof(spec), "kmod:%.63s", paths[i]);
		show(spec);
	}
}

int f8_cmd_info(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const defaults[] = { "ref", "rtl:4x4", "rtl:16x16", "kmod" };
	int c, i, isa;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'h') {
			usage(stdout);
			return F8_EXIT_OK;
		}
		return f8_opt_bad("f8 info", argv[optind - 1], usage);
	}
	if (optind < argc)
		for (i = optind; i < argc; i++)
			show(argv[i]);
	else
		for (i = 0; i < (int)(sizeof(defaults) / sizeof(defaults[0])); i++)
			if (!strcmp(defaults[i], "kmod"))
				show_kmod();
			else
				show(defaults[i]);
	printf("%-10s present: fast integer kernels, bit-exact with the reference; instruction sets:",
	       "cpu");
	for (isa = F8_CPU_ISA_PORTABLE; isa < F8_CPU_ISA_END_; isa++)
		if (f8_cpu_isa_supported((enum f8_cpu_isa)isa))
			printf(" %s", f8_cpu_isa_name((enum f8_cpu_isa)isa));
	printf(" (auto: %s)\n", f8_cpu_isa_name(f8_cpu_isa_best()));
	return F8_EXIT_OK;
}
