// SPDX-License-Identifier: MIT
/*
 * f8 exec: run a command stream file on a backend (the functional model by default) with
 * regions loaded from files, write chosen regions back (docs/runner.md).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "f8-cli.h"
#include "f8-opt.h"

#define F8_EXEC_MAX_FILE (1ull << 30) /* per region or stream: 1 GiB */

struct f8_exec_opts {
	const char *stream;                   /* command stream file */
	const char *region_file[F8NPU_REGIONS]; /* --region R=FILE */
	uint64_t zero_size[F8NPU_REGIONS];      /* --zero R=SIZE (0: not given) */
	const char *out_file[F8NPU_REGIONS];    /* --out R=FILE */
	struct f8npu_model_config cfg;          /* --array, --bw, --latency */
	int cfg_set;                            /* one of them was given */
	const char *backend;                    /* --backend SPEC, or NULL: ref with cfg */
	uint64_t max_cycles;                    /* --max-cycles */
	int quiet;                              /* -q, --quiet */
};

static void exec_usage(FILE *f)
{
	fprintf(f, "usage: f8 exec STREAM [--region R=FILE] [--zero R=SIZE] [--out R=FILE]\n"
		   "                   [--array RxC] [--bw B] [--latency L] [--max-cycles N] [-q]\n"
		   "                   [--backend ref[:RxC] | rtl:RxC | kmod]\n"
		   "Runs STREAM on the functional model (or the backend given); see docs/runner.md.\n");
}

/* "R=VALUE" with R in 0..15 (decimal digits only); returns VALUE or NULL. */
static const char *parse_region_arg(const char *opt, const char *arg, unsigned int *r)
{
	const char *eq = strchr(arg, '=');
	char idx[8];
	uint64_t v;

	if (!eq || eq == arg || (size_t)(eq - arg) >= sizeof(idx) || !eq[1])
		goto bad;
	memcpy(idx, arg, (size_t)(eq - arg));
	idx[eq - arg] = 0;
	if (!f8_opt_is_uint(idx, &v) || v >= F8NPU_REGIONS)
		goto bad;
	*r = (unsigned int)v;
	return eq + 1;
bad:
	f8_errf("f8 exec: %s '%s': expected R=VALUE with R an integer in [0, %u]\n", opt, arg,
		F8NPU_REGIONS - 1);
	return NULL;
}

static int parse_u32_opt(enum f8_lim lim, const char *arg, uint32_t *out)
{
	uint64_t v;

	if (f8_opt_uint("f8 exec", lim, arg, &v))
		return -1;
	*out = (uint32_t)v;
	return 0;
}

/* Long-only options: vals past the short letters (f8_opt_error). */
enum { O_REGION = 256, O_ZERO, O_OUT, O_BACKEND, O_ARRAY, O_BW, O_LATENCY, O_MAX_CYCLES };

static const struct option exec_opts[] = {
	{ "region", required_argument, NULL, O_REGION },
	{ "zero", required_argument, NULL, O_ZERO },
	{ "out", required_argument, NULL, O_OUT },
	{ "backend", required_argument, NULL, O_BACKEND },
	{ "array", required_argument, NULL, O_ARRAY },
	{ "bw", required_argument, NULL, O_BW },
	{ "latency", required_argument, NULL, O_LATENCY },
	{ "max-cycles", required_argument, NULL, O_MAX_CYCLES },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int set_stream(struct f8_exec_opts *o, const char *a)
{
	if (o->stream) {
		f8_errf("f8 exec: more than one stream given ('%s')\n", a);
		return -1;
	}
	o->stream = a;
	return 0;
}

/* --region, --zero, --out R=VALUE. */
static int region_opt(struct f8_exec_opts *o, int c, const char *val)
{
	const char *opt = c == O_REGION ? "--region" : c == O_ZERO ? "--zero" : "--out";
	unsigned int r;
	const char *v = parse_region_arg(opt, val, &r);

	if (!v)
		return -1;
	if (c == O_OUT) {
		if (o->out_file[r]) {
			f8_errf("f8 exec: --out %u given twice\n", r);
			return -1;
		}
		o->out_file[r] = v;
	} else if (o->region_file[r] || o->zero_size[r]) {
		f8_errf("f8 exec: region %u given twice\n", r);
		return -1;
	} else if (c == O_REGION) {
		o->region_file[r] = v;
	} else if (f8_opt_uint("f8 exec", F8_LIM_ZERO, v, &o->zero_size[r])) {
		return -1;
	}
	return 0;
}

/* --array RxC. */
static int array_opt(struct f8_exec_opts *o, const char *val)
{
	const char *x = strchr(val, 'x');
	char rows[16];
	uint64_t nr, nc;

	if (!x || x == val || (size_t)(x - val) >= sizeof(rows))
		goto bad;
	memcpy(rows, val, (size_t)(x - val));
	rows[x - val] = 0;
	if (!f8_opt_is_uint(rows, &nr) || !f8_opt_is_uint(x + 1, &nc) || nr < 1 ||
	    nr > f8_limits[F8_LIM_ARRAY].ihi || nc < 1 || nc > f8_limits[F8_LIM_ARRAY].ihi)
		goto bad;
	o->cfg.rows = (uint32_t)nr;
	o->cfg.cols = (uint32_t)nc;
	o->cfg_set = 1;
	return 0;
bad:
	f8_errf("f8 exec: --array '%s': expected RxC, each an integer in [1, 4096]\n", val);
	return -1;
}

/*
 * 0; 1 after --help (printed); -1 after a message (the usage follows); -2 after an option
 * getopt_long refused (one line, with a pointer to --help). Options and the stream are
 * taken in the order given ("-" in front of the short options), whatever POSIXLY_CORRECT.
 */
static int parse_opts(int argc, char **argv, struct f8_exec_opts *o)
{
	int c, i;

	memset(o, 0, sizeof(*o));
	f8npu_model_default_config(&o->cfg);
	o->max_cycles = 1ull << 40;
	optind = 0; /* a full restart: "-" is a GNU extension (getopt(3)) */
	opterr = 0;
	while ((c = getopt_long(argc, argv, "-:hq", exec_opts, NULL)) != -1) {
		switch (c) {
		case 1:
			if (set_stream(o, optarg))
				return -1;
			break;
		case 'h':
			exec_usage(stdout);
			return 1;
		case 'q':
			o->quiet = 1;
			break;
		case O_REGION:
		case O_ZERO:
		case O_OUT:
			if (region_opt(o, c, optarg))
				return -1;
			break;
		case O_BACKEND:
			o->backend = optarg;
			break;
		case O_ARRAY:
			if (array_opt(o, optarg))
				return -1;
			break;
		case O_BW:
		case O_LATENCY:
			if (parse_u32_opt(c == O_BW ? F8_LIM_BW : F8_LIM_LATENCY, optarg,
					  c == O_BW ? &o->cfg.dram_bytes_per_cycle : &o->cfg.dram_latency))
				return -1;
			o->cfg_set = 1;
			break;
		case O_MAX_CYCLES:
			if (f8_opt_uint("f8 exec", F8_LIM_MAX_CYCLES, optarg, &o->max_cycles))
				return -1;
			break;
		default:
			f8_opt_error("f8 exec", c, argv, exec_opts);
			return -2;
		}
	}
	for (; optind < argc; optind++) /* after "--" */
		if (set_stream(o, argv[optind]))
			return -1;
	if (!o->stream) {
		f8_errf("f8 exec: no command stream given\n");
		return -1;
	}
	if (o->backend && o->cfg_set) {
		f8_errf("f8 exec: --array, --bw and --latency configure the default backend; with "
			"--backend give them in its spec (ref:RxC,bw=B,lat=L)\n");
		return -1;
	}
	for (i = 0; i < (int)F8NPU_REGIONS; i++)
		if (o->out_file[i] && !o->region_file[i] && !o->zero_size[i]) {
			f8_errf("f8 exec: --out %d names a region that is not given\n", i);
			return -1;
		}
	return 0;
}

/* Load the stream and the regions into the job's memory. */
static int load_inputs(const struct f8_exec_opts *o, struct f8_job *job)
{
	uint64_t size;
	uint8_t *data, *dst;
	unsigned int r;

	data = f8_file_read(o->stream, 0xffffffffu, &size);
	if (!data)
		return -1;
	dst = f8_job_stream(job, (uint32_t)size);
	if (dst)
		memcpy(dst, data, size);
	free(data);
	if (!dst)
		return -1;

	for (r = 0; r < F8NPU_REGIONS; r++) {
		if (o->zero_size[r]) {
			if (!f8_job_region(job, r, o->zero_size[r]))
				return -1;
			continue;
		}
		if (!o->region_file[r])
			continue;
		data = f8_file_read(o->region_file[r], F8_EXEC_MAX_FILE, &size);
		if (!data)
			return -1;
		if (!size) {
			f8_errf("f8 exec: %s: empty region file (a region has at least 1 byte)\n",
				o->region_file[r]);
			free(data);
			return -1;
		}
		dst = f8_job_region(job, r, size);
		if (dst)
			memcpy(dst, data, size);
		free(data);
		if (!dst)
			return -1;
	}
	return 0;
}

int f8_cmd_exec(int argc, char **argv)
{
	struct f8_exec_opts o;
	struct f8_job job;
	char spec[64];
	struct f8npu_job_result res;
	unsigned int r;
	int rc;

	rc = parse_opts(argc, argv, &o);
	if (rc) {
		if (rc > 0)
			return F8_EXIT_OK; /* --help */
		if (rc == -1)
			exec_usage(stderr);
		return F8_EXIT_USAGE;
	}
	snprintf(spec, sizeof(spec), "ref:%ux%u,bw=%u,lat=%u", o.cfg.rows, o.cfg.cols,
		 o.cfg.dram_bytes_per_cycle, o.cfg.dram_latency);
	if (f8_job_init(&job, o.backend ? o.backend : spec))
		return F8_EXIT_USAGE;
	if (load_inputs(&o, &job) || f8_job_run(&job, o.max_cycles, &res)) {
		f8_job_free(&job);
		return F8_EXIT_USAGE;
	}
	f8_job_report(stderr, "f8 exec", &res);

	rc = res.timed_out ? F8_EXIT_TIMEOUT : res.done ? F8_EXIT_OK : F8_EXIT_DEVICE;
	for (r = 0; r < F8NPU_REGIONS; r++) {
		if (!o.out_file[r])
			continue;
		if (f8_file_write_atomic(o.out_file[r], job.region[r].ptr, job.region[r].size))
			rc = F8_EXIT_USAGE;
		else if (!o.quiet)
			f8_errf("f8 exec: region %u -> %s (%llu bytes)\n", r, o.out_file[r],
				(unsigned long long)job.region[r].size);
	}
	f8_job_free(&job);
	return rc;
}
