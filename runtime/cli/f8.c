// SPDX-License-Identifier: MIT
/* f8: the f8npu command-line tool. One subcommand per file (f8-<name>.c). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "f8-cli.h"
#include "f8-opt.h"
#include "f8npu_cmd.h"
#include "f8npu_regs.h"

struct f8_subcommand {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *help;
};

static const struct f8_subcommand subcommands[] = {
	{ "exec", f8_cmd_exec, "run a command stream on the functional model (docs/runner.md)" },
	{ "demo", f8_cmd_demo, "run a small residual block on the functional model" },
	{ "bench", f8_cmd_bench, "functional-model speed and cost-model utilisation" },
	{ "train", f8_cmd_train, "train a float CNN on Fashion-MNIST (docs/train.md)" },
	{ "model", f8_cmd_model, "layers, parameters and MACs of a model (docs/train.md)" },
	{ "export", f8_cmd_export, "quantize a float checkpoint to an integer model (docs/f8net.md)" },
	{ "eval", f8_cmd_eval, "top-1 of an integer model on the test set, integer only" },
	{ "compile", f8_cmd_compile, "an integer model into a device command stream (docs/compiler.md)" },
	{ "run", f8_cmd_run, "classify images (PNG, PGM or IDX) with an integer model" },
	{ "profile", f8_cmd_profile, "per-layer cycles, MAC utilisation and DMA bytes on a device" },
	{ "info", f8_cmd_info, "the backends present and their capabilities" },
	{ "cpu-bench", f8_cmd_cpubench, "images/s of the CPU backend on an integer model" },
	{ "finetune", f8_cmd_finetune, "F8Net tiny fine-tuning of a float checkpoint (docs/f8net.md)" },
	{ "baseline", f8_cmd_baseline, "int32-multiplier PTQ of a float checkpoint: top-1 on the CPU" },
	{ "dtbo", f8_cmd_dtbo, "the device-tree overlay of an FPGA board (docs/dtbo.md)" },
};

static void usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: f8 <command> [options]   (f8 <command> --help)\n\ncommands:\n");
	for (i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++)
		fprintf(f, "  %-8s %s\n", subcommands[i].name, subcommands[i].help);
	fprintf(f, "  %-8s %s\n", "version", "print the versions this tool speaks");
}

/*
 * What was printed must have been written: a full disk or a closed pipe on stdout is an
 * error (exit 1 unless the command already failed), never a silent success.
 */
static int f8_exit_status(int rc)
{
	int e = 0;

	errno = 0;
	if (fflush(stdout) != 0)
		e = errno;
	if (ferror(stdout) || e) {
		fprintf(stderr, "f8: cannot write to standard output: %s\n", strerror(e ? e : EIO));
		return rc ? rc : F8_EXIT_USAGE;
	}
	return rc;
}

int main(int argc, char **argv)
{
	size_t i;

	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(argc < 2 ? stderr : stdout);
		return f8_exit_status(argc < 2 ? F8_EXIT_USAGE : F8_EXIT_OK);
	}
	if (!strcmp(argv[1], "version") || !strcmp(argv[1], "--version")) {
		printf("f8 (f8npu) hardware %u.%u, command stream %u.%u\n", F8NPU_HW_VERSION_MAJOR,
		       F8NPU_HW_VERSION_MINOR, F8NPU_CMD_VERSION_MAJOR, F8NPU_CMD_VERSION_MINOR);
		return f8_exit_status(F8_EXIT_OK);
	}
	for (i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++)
		if (!strcmp(argv[1], subcommands[i].name))
			return f8_exit_status(subcommands[i].run(argc - 1, argv + 1));
	f8_errf("f8: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return F8_EXIT_USAGE;
}
