// SPDX-License-Identifier: MIT
/*
 * f8 model: describe a network of the zoo or an architecture file (docs/train.md):
 * one line per layer with its output shape, parameters and MACs, then the totals and,
 * with --batch, the memory the training plan needs for that batch size.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "f8-cli.h"
#include "f8-model.h"
#include "f8-par.h"

#define F8_ARCH_FILE_MAX (1u << 20)

void f8_model_list(FILE *f)
{
	const char *const *names = f8_zoo_names();

	for (; names && *names; names++)
		fprintf(f, "  %-18s %s\n", *names, f8_zoo_describe(*names));
}

char *f8_model_arch(const char *who, const char *model)
{
	struct f8_err err = { "" };
	uint64_t size = 0;
	uint8_t *buf;
	char *text;

	/* A path wins over a zoo name: "resnet20" in the current directory is a file. */
	if (access(model, F_OK) == 0) {
		buf = f8_file_read(model, F8_ARCH_FILE_MAX, &size);
		if (!buf)
			return NULL;
		if (memchr(buf, 0, size)) {
			fprintf(stderr, "%s: %s: not an architecture text (NUL byte)\n", who, model);
			free(buf);
			return NULL;
		}
		text = realloc(buf, size + 1);
		if (!text) {
			fprintf(stderr, "%s: out of memory\n", who);
			free(buf);
			return NULL;
		}
		text[size] = 0;
		return text;
	}
	text = f8_zoo_arch(model, &err);
	if (!text) {
		fprintf(stderr, "%s: '%s' is neither a file nor a built-in model%s%s; built-in models:\n",
			who, model, err.msg[0] ? ": " : "", err.msg);
		f8_model_list(stderr);
	}
	return text;
}

struct f8_net *f8_model_load(const char *who, const char *model)
{
	struct f8_err err = { "" };
	struct f8_net *net;
	char *text = f8_model_arch(who, model);

	if (!text)
		return NULL;
	net = f8_net_parse(text, &err);
	free(text);
	if (!net)
		fprintf(stderr, "%s: %s: %s\n", who, model, err.msg[0] ? err.msg : "bad architecture");
	return net;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: f8 model NAME|FILE [--batch B] [--threads T]\n"
		   "       f8 model --list\n"
		   "Print the layers of a built-in model or an architecture file (docs/arch-format.md):\n"
		   "output shapes, parameters, multiply-accumulates per image. --batch also plans the\n"
		   "training buffers for batches of B images and prints their size.\n");
}

int f8_cmd_model(int argc, char **argv)
{
	const char *model = NULL;
	struct f8_net *net;
	long batch = 0, threads = 1;
	int i;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(stdout);
			return F8_EXIT_OK;
		} else if (!strcmp(a, "--list")) {
			f8_model_list(stdout);
			return F8_EXIT_OK;
		} else if (!strcmp(a, "--batch") || !strcmp(a, "--threads")) {
			char *end;
			long v;

			if (i + 1 >= argc) {
				fprintf(stderr, "f8 model: %s needs a value\n", a);
				return F8_EXIT_USAGE;
			}
			v = strtol(argv[++i], &end, 10);
			if (end == argv[i] || *end || v < 1 || v > 65536) {
				fprintf(stderr, "f8 model: %s '%s': expected an integer in [1, 65536]\n", a,
					argv[i]);
				return F8_EXIT_USAGE;
			}
			*(a[2] == 'b' ? &batch : &threads) = v;
		} else if (a[0] == '-' && a[1]) {
			fprintf(stderr, "f8 model: unknown option '%s'\n", a);
			usage(stderr);
			return F8_EXIT_USAGE;
		} else if (model) {
			fprintf(stderr, "f8 model: one model at a time ('%s' and '%s')\n", model, a);
			return F8_EXIT_USAGE;
		} else {
			model = a;
		}
	}
	if (!model) {
		usage(stderr);
		return F8_EXIT_USAGE;
	}
	net = f8_model_load("f8 model", model);
	if (!net)
		return F8_EXIT_USAGE;
	f8_net_summary(net, stdout);
	printf("%s: %d layers, %zu parameters (%.1f KiB float32), %zu BN statistics, "
	       "%.2f MMACs per image, %d classes\n",
	       model, net->nlayers, net->param_count, (double)net->param_count * 4 / 1024,
	       net->state_count, (double)f8_net_macs(net) / 1e6, net->classes);
	if (batch) {
		struct f8_err err = { "" };

		if (f8_par_set_threads((int)threads) || f8_net_plan(net, (int)batch, &err)) {
			fprintf(stderr, "f8 model: cannot plan batch %ld: %s\n", batch, err.msg);
			f8_net_free(net);
			return F8_EXIT_USAGE;
		}
		printf("training plan for batch %ld, %ld threads: %.1f MiB\n", batch, threads,
		       (double)f8_net_plan_bytes(net) / (1024.0 * 1024.0));
	}
	f8_net_free(net);
	return F8_EXIT_OK;
}
