// SPDX-License-Identifier: MIT
/*
 * f8 compile: an integer model into one command stream for a device (docs/compiler.md).
 * Prints the plan's summary (and with --dump every descriptor); with --out, writes the
 * stream and the weight and bias regions as files that f8 exec runs (the command is printed).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "f8-cli.h"
#include "f8-opt.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: f8 compile MODEL.f8m [options]\n"
		   "Compile an integer model into one command stream of fused device operations.\n"
		   "  --device SPEC   the device whose capabilities (array, buffers, opcodes) count:\n"
		   "                  ref[:RxC] (default ref:16x16), rtl:RxC, kmod\n"
		   "  --batch N       images per job (default 1)\n"
		   "  --dump          print the stream, one line per descriptor\n"
		   "  --out DIR       write DIR/stream.bin, DIR/weights.bin, DIR/bias.bin for f8 exec\n");
}

static int write_file(const char *dir, const char *name, const void *data, uint64_t len)
{
	char path[4096];

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path)) {
		fprintf(stderr, "f8 compile: --out: path too long\n");
		return -1;
	}
	return f8_file_write_atomic(path, data, len);
}

int f8_cmd_compile(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "device", required_argument, NULL, 'd' }, { "batch", required_argument, NULL, 'b' },
		{ "dump", no_argument, NULL, 'D' },         { "out", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },         { NULL, 0, NULL, 0 },
	};
	const char *device = "ref:16x16", *out = NULL;
	uint64_t batch = 1;
	bool dump = false;
	struct f8_qm_file qf;
	struct f8_be *be = NULL;
	struct f8_cc_prog *p = NULL;
	struct f8_cc_opts o = { 0 };
	struct f8_err e = { { 0 } };
	int c, rc = F8_EXIT_USAGE;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'd': device = optarg; break;
		case 'b':
			if (f8_opt_uint("f8 compile", F8_LIM_BATCH, optarg, &batch))
				return F8_EXIT_USAGE;
			break;
		case 'D': dump = true; break;
		case 'o': out = optarg; break;
		case 'h': usage(stdout); return F8_EXIT_OK;
		default: return f8_opt_bad("f8 compile", argv[optind - 1], usage);
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "f8 compile: need one model file\n");
		usage(stderr);
		return F8_EXIT_USAGE;
	}
	if (f8_qm_file_load("f8 compile", argv[optind], &qf))
		return F8_EXIT_USAGE;
	if (f8_be_open(device, &be, &e)) {
		fprintf(stderr, "f8 compile: --device %s: %s\n", device, e.msg);
		goto out;
	}
	o.batch = (uint32_t)batch;
	if (f8_cc_compile(&qf.m, &be->caps, &o, &p, &e)) {
		fprintf(stderr, "f8 compile: %s for %s: %s\n", argv[optind], be->spec, e.msg);
		goto out;
	}
	if (dump)
		f8_cc_dump(stdout, p);
	printf("%s: %u descriptors for %s (%ux%u array), batch %u; stream %u bytes, weights %llu, biases %llu\n",
	       qf.m.model_name, p->ndesc, be->spec, p->caps.rows, p->caps.cols, p->batch,
	       p->stream_size, (unsigned long long)p->region_size[F8_CC_R_WEIGHTS],
	       (unsigned long long)p->region_size[F8_CC_R_BIAS]);
	printf("activations: %llu bytes planned (liveness), %llu with one buffer per tensor (%.1fx)\n",
	       (unsigned long long)p->act_peak, (unsigned long long)p->act_unplanned,
	       p->act_peak ? (double)p->act_unplanned / (double)p->act_peak : 0.0);
	printf("predicted per job: %llu cycles (%.1f us at 200 MHz, %.0f images/s), %llu MACs "
	       "(%.1f %% of the array's peak), %llu DRAM bytes\n",
	       (unsigned long long)p->cycles, (double)p->cycles / 200.0,
	       p->cycles ? 200e6 * p->batch / (double)p->cycles : 0.0, (unsigned long long)p->macs,
	       p->cycles ? 100.0 * (double)p->macs / ((double)p->cycles * p->caps.rows * p->caps.cols) : 0.0,
	       (unsigned long long)(p->rd_bytes + p->wr_bytes));
	if (out) {
		if (mkdir(out, 0777) && errno != EEXIST) {
			fprintf(stderr, "f8 compile: --out %s: %s\n", out, strerror(errno));
			goto out;
		}
		if (write_file(out, "stream.bin", p->stream, p->stream_size) ||
		    write_file(out, "weights.bin", p->weights, p->region_size[F8_CC_R_WEIGHTS]) ||
		    write_file(out, "bias.bin", p->bias, p->region_size[F8_CC_R_BIAS]))
			goto out;
		printf("wrote %s/stream.bin, weights.bin, bias.bin; run %u images (u8 [%u][%u][%u][%u] in IMAGES) with:\n"
		       "  f8 exec %s/stream.bin --region 0=IMAGES --region 1=%s/weights.bin --region 2=%s/bias.bin"
		       " --zero 3=%llu --zero 4=%llu --out 4=LOGITS\n",
		       out, p->batch, p->batch, p->in_h, p->in_w, p->in_c, out, out, out,
		       (unsigned long long)p->region_size[F8_CC_R_ACT],
		       (unsigned long long)p->region_size[F8_CC_R_LOGITS]);
	}
	rc = F8_EXIT_OK;
out:
	f8_cc_free(p);
	f8_be_close(be);
	f8_qm_file_free(&qf);
	return rc;
}
