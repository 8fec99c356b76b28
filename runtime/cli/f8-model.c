// SPDX-License-Identifier: MIT
/*
 * f8 model: describe a network of the zoo or an architecture file (docs/train.md):
 * one line per layer with its output shape, parameters and MACs, then the totals and,
 * with --batch, the memory the training plan needs for that batch size.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "f8-cli.h"
#include "f8-model.h"
#include "f8-opt.h"
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
			f8_errf("%s: %s: not an architecture text (NUL byte)\n", who, model);
			free(buf);
			return NULL;
		}
		text = realloc(buf, size + 1);
		if (!text) {
			f8_errf("%s: out of memory\n", who);
			free(buf);
			return NULL;
		}
		text[size] = 0;
		return text;
	}
	text = f8_zoo_arch(model, &err);
	if (!text) {
		f8_errf("%s: '%s' is neither a file nor a built-in model%s%s; built-in models:\n", who,
			model, err.msg[0] ? ": " : "", err.msg);
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
		f8_errf("%s: %s: %s\n", who, model, err.msg[0] ? err.msg : "bad architecture");
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

static int take_model(const char **model, const char *a)
{
	if (*model) {
		f8_errf("f8 model: one model at a time ('%s' and '%s')\n", *model, a);
		return -1;
	}
	*model = a;
	return 0;
}

int f8_cmd_model(int argc, char **argv)
{
	enum { O_BATCH = 256, O_THREADS, O_LIST }; /* long only: past the short letters */
	static const struct option opts[] = {
		{ "batch", required_argument, NULL, O_BATCH },
		{ "threads", required_argument, NULL, O_THREADS },
		{ "list", no_argument, NULL, O_LIST },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *model = NULL;
	struct f8_net *net;
	uint64_t batch = 0, threads = 1;
	int c;

	/* In the order given ("-": the model is returned as 1), whatever POSIXLY_CORRECT. */
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "-:h", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			usage(stdout);
			return F8_EXIT_OK;
		case O_LIST:
			f8_model_list(stdout);
			return F8_EXIT_OK;
		case O_BATCH:
		case O_THREADS:
			/* The same table of limits as f8 train's options. */
			if (f8_opt_uint("f8 model", c == O_BATCH ? F8_LIM_BATCH : F8_LIM_THREADS, optarg,
					c == O_BATCH ? &batch : &threads))
				return F8_EXIT_USAGE;
			break;
		case 1:
			if (take_model(&model, optarg))
				return F8_EXIT_USAGE;
			break;
		default:
			return f8_opt_error("f8 model", c, argv, opts);
		}
	}
	for (; optind < argc; optind++) /* after "--" */
		if (take_model(&model, argv[optind]))
			return F8_EXIT_USAGE;
	if (!model) {
		usage(stderr);
		return F8_EXIT_USAGE;
	}
	net = f8_model_load("f8 model", model);
	if (!net)
		return F8_EXIT_USAGE;
	f8_net_summary(net, stdout);
	f8_outf("%s: %d layers, %zu parameters (%.1f KiB float32), %zu BN statistics, "
		"%.2f MMACs per image, %d classes\n",
		model, net->nlayers, net->param_count, (double)net->param_count * 4 / 1024,
		net->state_count, (double)f8_net_macs(net) / 1e6, net->classes);
	if (batch) {
		struct f8_err err = { "" };

		if (f8_par_set_threads((int)threads)) {
			f8_errf("f8 model: cannot start %llu threads\n", (unsigned long long)threads);
			f8_net_free(net);
			return F8_EXIT_USAGE;
		}
		if (f8_net_plan(net, (int)batch, &err)) {
			f8_errf("f8 model: cannot plan batch %llu: %s\n", (unsigned long long)batch,
				err.msg);
			f8_net_free(net);
			return F8_EXIT_USAGE;
		}
		printf("training plan for batch %llu, %llu threads: %.1f MiB\n",
		       (unsigned long long)batch, (unsigned long long)threads,
		       (double)f8_net_plan_bytes(net) / (1024.0 * 1024.0));
	}
	f8_net_free(net);
	return F8_EXIT_OK;
}
