// SPDX-License-Identifier: MIT
/*
 * f8 exec: run a command stream file on the functional model with regions
 * loaded from files, write chosen regions back (docs/runner.md).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "f8-cli.h"

#define F8_EXEC_MAX_FILE (1ull << 30) /* per region or stream: 1 GiB */

struct f8_exec_opts {
	const char *stream;                   /* command stream file */
	const char *region_file[F8NPU_REGIONS]; /* --region R=FILE */
	uint64_t zero_size[F8NPU_REGIONS];      /* --zero R=SIZE (0: not given) */
	const char *out_file[F8NPU_REGIONS];    /* --out R=FILE */
	struct f8npu_model_config cfg;          /* --array, --bw, --latency */
	uint64_t max_cycles;                    /* --max-cycles */
	int quiet;                              /* -q */
};

static void exec_usage(FILE *f)
{
	fprintf(f, "usage: f8 exec STREAM [--region R=FILE] [--zero R=SIZE] [--out R=FILE]\n"
		   "                   [--array RxC] [--bw B] [--latency L] [--max-cycles N] [-q]\n"
		   "Runs STREAM on the functional model; see docs/runner.md.\n");
}

/* "R=VALUE" with R in 0..15; returns VALUE or NULL. */
static const char *parse_region_arg(const char *opt, const char *arg, unsigned int *r)
{
	char *end;
	unsigned long v = strtoul(arg, &end, 10);

	if (end == arg || *end != '=' || v >= F8NPU_REGIONS || !end[1]) {
		fprintf(stderr, "f8 exec: %s wants R=VALUE with R in 0..%u, got '%s'\n", opt,
			F8NPU_REGIONS - 1, arg);
		return NULL;
	}
	*r = (unsigned int)v;
	return end + 1;
}

static int parse_u32_opt(const char *opt, const char *arg, uint64_t min, uint64_t max, uint32_t *out)
{
	uint64_t v;

	if (f8_parse_size(arg, max, &v) || v < min) {
		fprintf(stderr, "f8 exec: %s wants a number in %llu..%llu, got '%s'\n", opt,
			(unsigned long long)min, (unsigned long long)max, arg);
		return -1;
	}
	*out = (uint32_t)v;
	return 0;
}

static int parse_opts(int argc, char **argv, struct f8_exec_opts *o)
{
	int i;

	memset(o, 0, sizeof(*o));
	f8npu_model_default_config(&o->cfg);
	o->max_cycles = 1ull << 40;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
		unsigned int r;

		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			exec_usage(stdout);
			exit(F8_EXIT_OK);
		} else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
			o->quiet = 1;
			continue;
		} else if (a[0] != '-') {
			if (o->stream) {
				fprintf(stderr, "f8 exec: more than one stream given ('%s')\n", a);
				return -1;
			}
			o->stream = a;
			continue;
		}
		if (!val) {
			fprintf(stderr, "f8 exec: %s needs a value\n", a);
			return -1;
		}
		i++;
		if (!strcmp(a, "--region") || !strcmp(a, "--zero") || !strcmp(a, "--out")) {
			const char *v = parse_region_arg(a, val, &r);

			if (!v)
				return -1;
			if (!strcmp(a, "--out")) {
				if (o->out_file[r]) {
					fprintf(stderr, "f8 exec: --out %u given twice\n", r);
					return -1;
				}
				o->out_file[r] = v;
			} else if (o->region_file[r] || o->zero_size[r]) {
				fprintf(stderr, "f8 exec: region %u given twice\n", r);
				return -1;
			} else if (!strcmp(a, "--region")) {
				o->region_file[r] = v;
			} else if (f8_parse_size(v, F8_EXEC_MAX_FILE, &o->zero_size[r]) || !o->zero_size[r]) {
				fprintf(stderr, "f8 exec: --zero %u: size must be 1..1G, got '%s'\n", r, v);
				return -1;
			}
		} else if (!strcmp(a, "--array")) {
			unsigned int rows, cols;
			char tail;

			if (sscanf(val, "%ux%u%c", &rows, &cols, &tail) != 2 || rows < 1 || rows > 4096 ||
			    cols < 1 || cols > 4096) {
				fprintf(stderr, "f8 exec: --array wants RxC with 1..4096 each, got '%s'\n", val);
				return -1;
			}
			o->cfg.rows = rows;
			o->cfg.cols = cols;
		} else if (!strcmp(a, "--bw")) {
			if (parse_u32_opt(a, val, 1, 1u << 20, &o->cfg.dram_bytes_per_cycle))
				return -1;
		} else if (!strcmp(a, "--latency")) {
			if (parse_u32_opt(a, val, 0, 1u << 20, &o->cfg.dram_latency))
				return -1;
		} else if (!strcmp(a, "--max-cycles")) {
			if (f8_parse_size(val, UINT64_MAX, &o->max_cycles) || !o->max_cycles) {
				fprintf(stderr, "f8 exec: --max-cycles wants a positive number, got '%s'\n", val);
				return -1;
			}
		} else {
			fprintf(stderr, "f8 exec: unknown option '%s'\n", a);
			return -1;
		}
	}
	if (!o->stream) {
		fprintf(stderr, "f8 exec: no command stream given\n");
		return -1;
	}
	for (i = 0; i < (int)F8NPU_REGIONS; i++)
		if (o->out_file[i] && !o->region_file[i] && !o->zero_size[i]) {
			fprintf(stderr, "f8 exec: --out %d names a region that is not given\n", i);
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
			fprintf(stderr, "f8 exec: %s: empty region file (a region has at least 1 byte)\n",
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
	struct f8npu_job_result res;
	unsigned int r;
	int rc;

	if (parse_opts(argc, argv, &o)) {
		exec_usage(stderr);
		return F8_EXIT_USAGE;
	}
	if (f8_job_init(&job, &o.cfg))
		return F8_EXIT_USAGE;
	if (load_inputs(&o, &job)) {
		f8_job_free(&job);
		return F8_EXIT_USAGE;
	}
	f8_job_run(&job, o.max_cycles, &res);
	f8_job_report(stderr, "f8 exec", &res);

	rc = res.timed_out ? F8_EXIT_TIMEOUT : res.done ? F8_EXIT_OK : F8_EXIT_DEVICE;
	for (r = 0; r < F8NPU_REGIONS; r++) {
		if (!o.out_file[r])
			continue;
		if (f8_file_write_atomic(o.out_file[r], job.region[r], job.region_size[r]))
			rc = F8_EXIT_USAGE;
		else if (!o.quiet)
			fprintf(stderr, "f8 exec: region %u -> %s (%llu bytes)\n", r, o.out_file[r],
				(unsigned long long)job.region_size[r]);
	}
	f8_job_free(&job);
	return rc;
}
