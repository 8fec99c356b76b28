// SPDX-License-Identifier: MIT
/*
 * f8-cosim: the RTL (Verilated, linked in as libf8npu-rtl.a) against the
 * functional model, case by case from one seed. See cosim.h for the parts.
 *
 *   f8-cosim [--seed N] [--cases N] [--streams N] [--case K] [--verbose]
 *            [--vcd FILE] [--dump DIR] [--max-fail N] [--max-desc-cycles N]
 *
 * Cases 0 .. cases-1 are single descriptors, the next `streams` cases are
 * multi-descriptor streams; case K is built from (seed, K) alone, so
 * `--case K` replays it (with --vcd, into a waveform). Every fifth case is a
 * fault; a run of at least 75 cases hits every error code, and a default-size
 * run fails if one was never reached, or if no depthwise CONV2D took one of
 * the RTL's two depthwise paths. Exit status: 0 RTL == model, 1 a mismatch
 * (or an error code never hit, a depthwise path never taken), 2 bad usage or
 * setup.
 */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cosim-rtl.h"
#include "cosim.h"

#define CS_DEFAULT_CASES 1500u
#define CS_DEFAULT_STREAMS 200u
#define CS_DEFAULT_DESC_CYCLES 12000u
/* A run this long must reach every error code (codes take turns every fifth case). */
#define CS_COVERAGE_MIN_CASES (5u * (F8NPU_ERR_COUNT_ - 1) * 2u)

/*
 * The harness aborts on an RTL protocol error (a bad memory request, an AXI
 * access that never completes): say which case was running.
 */
static char crash_note[512];
static size_t crash_len;

static void on_crash(int sig)
{
	ssize_t unused = write(STDERR_FILENO, crash_note, crash_len);

	(void)unused;
	signal(sig, SIG_DFL);
	raise(sig);
}

static void set_crash_note(const struct cs_opts *o, const char *cfg, uint32_t idx)
{
	int n = snprintf(crash_note, sizeof(crash_note),
			 "\nf8-cosim %s: died during case %u; replay: %s --seed %" PRIu64
			 " --cases %u --streams %u --case %u --verbose\n",
			 cfg, idx, o->argv0, o->seed, o->cases, o->streams, idx);

	crash_len = n < 0 ? 0 : (size_t)n < sizeof(crash_note) ? (size_t)n : sizeof(crash_note) - 1;
}

static void usage(const char *argv0)
{
	fprintf(stderr,
		"usage: %s [--seed N] [--cases N] [--streams N] [--case K] [--verbose]\n"
		"          [--vcd FILE] [--dump DIR] [--max-fail N] [--max-desc-cycles N]\n"
		"  --cases N            single-descriptor cases (default %u)\n"
		"  --streams N          multi-descriptor stream cases after them (default %u)\n"
		"  --case K             run only case K (same --seed/--cases/--streams as the failing run)\n"
		"  --vcd FILE           RTL waveform (only with --case)\n"
		"  --dump DIR           write failing cases (streams, regions, both memories) under DIR\n"
		"  --max-fail N         stop after N failing cases (default 10)\n"
		"  --max-desc-cycles N  estimated cycles allowed per generated layer (default %u)\n",
		argv0, CS_DEFAULT_CASES, CS_DEFAULT_STREAMS, CS_DEFAULT_DESC_CYCLES);
}

static int parse_u64(const char *s, uint64_t *v)
{
	char *end;

	if (!s || !*s)
		return -1;
	*v = strtoull(s, &end, 0);
	return *end ? -1 : 0;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int parse_args(int argc, char **argv, struct cs_opts *o)
{
	int i;

	memset(o, 0, sizeof(*o));
	o->argv0 = argv[0];
	o->seed = 1;
	o->cases = CS_DEFAULT_CASES;
	o->streams = CS_DEFAULT_STREAMS;
	o->only = -1;
	o->max_fail = 10;
	o->max_desc_cycles = CS_DEFAULT_DESC_CYCLES;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		uint64_t n = 0;

		if (!strcmp(a, "--verbose") || !strcmp(a, "-v")) {
			o->verbose = true;
			continue;
		}
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(argv[0]);
			exit(0);
		}
		if (!strcmp(a, "--vcd") || !strcmp(a, "--dump")) {
			if (!v)
				return -1;
			*(!strcmp(a, "--vcd") ? &o->vcd : &o->dump_dir) = v;
			i++;
			continue;
		}
		if (parse_u64(v, &n))
			return -1;
		i++;
		if (!strcmp(a, "--seed"))
			o->seed = n;
		else if (!strcmp(a, "--cases") && n <= UINT32_MAX / 2)
			o->cases = (uint32_t)n;
		else if (!strcmp(a, "--streams") && n <= UINT32_MAX / 2)
			o->streams = (uint32_t)n;
		else if (!strcmp(a, "--case") && n <= UINT32_MAX)
			o->only = (int64_t)n;
		else if (!strcmp(a, "--max-fail") && n <= UINT32_MAX)
			o->max_fail = (uint32_t)n;
		else if (!strcmp(a, "--max-desc-cycles") && n >= 100)
			o->max_desc_cycles = n;
		else
			return -1;
	}
	if (o->vcd && o->only < 0) {
		fprintf(stderr, "%s: --vcd needs --case K (a waveform of one case)\n", argv[0]);
		return -1;
	}
	if (o->only >= (int64_t)o->cases + o->streams) {
		fprintf(stderr, "%s: --case %" PRId64 " is not below --cases + --streams\n", argv[0], o->only);
		return -1;
	}
	return 0;
}

static void print_summary(const struct cs_pair *p, const struct cs_stats *st, double secs)
{
	unsigned int c;

	printf("cosim %s: %" PRIu64 " single-descriptor cases, %" PRIu64 " streams (%" PRIu64
	       " back-to-back jobs), %" PRIu64 " descriptors (%" PRIu64 " executed), %" PRIu64
	       " mismatches (errors hit:",
	       p->cfg_name, st->singles, st->streams, st->b2b, st->descs_gen, st->descs_exec, st->mismatches);
	for (c = 1; c < F8NPU_ERR_COUNT_; c++)
		printf(" %s=%" PRIu64, f8npu_err_name(c), st->err_hits[c]);
	printf("; DONE=%" PRIu64 ")\n", st->done);
	printf("cosim %s: depthwise CONV2Ds generated: %" PRIu64 " on the RTL's fast path, %" PRIu64
	       " on the one-tap path\n", p->cfg_name, st->dw_fast, st->dw_slow);
	printf("cosim %s: CONV2Ds generated on the RTL's tap packing: %" PRIu64 ", group-inner order: %" PRIu64
	       "\n", p->cfg_name, st->conv_pack, st->conv_gi);
	printf("cosim %s: %" PRIu64 " jobs: %" PRIu64 " through f8npu_prog, %" PRIu64 " doorbells, %" PRIu64
	       " soft resets mid-job, %" PRIu64 " IRQ protocol checks, %" PRIu64 " PERF_CLEARs; %" PRIu64
	       " fault cases (%" PRIu64 " ended in another code); cycles run: model %" PRIu64 ", rtl %" PRIu64
	       " (rtl clocked %" PRIu64 " with register accesses); %.1f s\n",
	       p->cfg_name, st->jobs, st->prog_jobs, st->doorbells, st->soft_resets, st->irq_checks, st->perf_clears,
	       st->fault_cases, st->fault_missed, p->side[CS_MODEL].cycles, p->side[CS_RTL].cycles,
	       f8npu_rtl_cycles(p->side[CS_RTL].dev), secs);
}

int main(int argc, char **argv)
{
	static struct cs_pair pair; /* static: the devices keep pointers into it */
	struct cs_stats st;
	struct cs_opts opt;
	uint32_t idx, first, last, failed_cases = 0;
	double t0;
	int rc = 0;
	unsigned int c;

	if (parse_args(argc, argv, &opt)) {
		usage(argv[0]);
		return 2;
	}
	memset(&st, 0, sizeof(st));
	setvbuf(stdout, NULL, _IOLBF, 0); /* reports survive an abort in the harness */
	signal(SIGABRT, on_crash);
	signal(SIGSEGV, on_crash);
	signal(SIGBUS, on_crash);
	if (cs_pair_init(&pair, &opt, &st))
		return 2;
	first = opt.only >= 0 ? (uint32_t)opt.only : 0;
	last = opt.only >= 0 ? (uint32_t)opt.only + 1 : opt.cases + opt.streams;
	printf("cosim %s: seed %" PRIu64 ", %u single-descriptor cases + %u streams%s (replay one with --case K)\n",
	       pair.cfg_name, opt.seed, opt.cases, opt.streams, opt.only >= 0 ? ", one case" : "");
	fflush(stdout);

	t0 = now_s();
	for (idx = first; idx < last; idx++) {
		set_crash_note(&opt, pair.cfg_name, idx);
		if (!cs_run_case(&pair, idx) && ++failed_cases >= opt.max_fail) {
			printf("cosim %s: stopping after %u failing cases\n", pair.cfg_name, failed_cases);
			break;
		}
		if (opt.verbose && (idx + 1) % 250 == 0) {
			printf("cosim %s: %u cases, %.1f s\n", pair.cfg_name, idx + 1, now_s() - t0);
			fflush(stdout);
		}
	}
	print_summary(&pair, &st, now_s() - t0);
	if (st.mismatches)
		rc = 1;
	if (st.gen_invalid)
		printf("cosim %s: warning: %" PRIu64 " jobs meant to be valid faulted (generator bug)\n", pair.cfg_name,
		       st.gen_invalid);
	/* Coverage: a full-size run must reach every error code. */
	if (opt.only < 0 && st.cases >= CS_COVERAGE_MIN_CASES) {
		bool missing = false;

		for (c = 1; c < F8NPU_ERR_COUNT_; c++)
			if (!st.err_hits[c]) {
				if (!missing)
					printf("cosim %s: FAILED: error codes never hit:", pair.cfg_name);
				printf(" %s", f8npu_err_name(c));
				missing = true;
			}
		if (missing) {
			printf("\n");
			rc = 1;
		}
		/* Both depthwise paths of the RTL (docs/rtl.md "Depthwise"). */
		if (!st.dw_fast || !st.dw_slow) {
			printf("cosim %s: FAILED: no depthwise CONV2D on the RTL's %s path\n", pair.cfg_name,
			       st.dw_fast ? "one-tap" : "fast");
			rc = 1;
		}
		/* Tap packing (docs/rtl.md "Tap packing"). */
		if (!st.conv_pack) {
			printf("cosim %s: FAILED: no CONV2D on the RTL's tap packing\n", pair.cfg_name);
			rc = 1;
		}
		/* Group-inner order (docs/rtl.md "Group-inner order"). */
		if (!st.conv_gi) {
			printf("cosim %s: FAILED: no CONV2D in the RTL's group-inner order\n", pair.cfg_name);
			rc = 1;
		}
	}
	printf("cosim %s: %s\n", pair.cfg_name, rc ? "FAILED" : "RTL == model");
	cs_pair_fini(&pair);
	return rc;
}
