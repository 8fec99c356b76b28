// SPDX-License-Identifier: MIT
/*
 * --dump DIR: a failing case as files, DIR/case-K/:
 *   job.txt               the job as printed in the report, and how to replay it
 *   stream-S.bin          command stream S (CMD_SIZE bytes where backed), as loaded
 *   region-R.bin          region R's initial contents (regions wholly backed by one buffer)
 *   initial-B.bin         buffer B before the case; model-B.bin / rtl-B.bin after it
 * `f8 exec stream-0.bin --region R=region-R.bin ...` replays a stream on the model
 * (f8 exec gives each region its own buffer: exact unless regions alias or leave memory).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cosim.h"

static int write_file(const char *dir, const char *name, const uint8_t *data, uint64_t len)
{
	char path[1024];
	FILE *f;
	int ok;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f)
		return -1;
	ok = fwrite(data, 1, (size_t)len, f) == len;
	return fclose(f) == 0 && ok ? 0 : -1;
}

static int make_dir(const char *path)
{
	return mkdir(path, 0777) == 0 || errno == EEXIST ? 0 : -1;
}

void cs_dump_case(struct cs_pair *p, const char *dir)
{
	const struct cs_job *job = p->job;
	char sub[900], name[64], path[1024];
	unsigned int b, r, s;
	FILE *f;
	int err = 0;

	snprintf(sub, sizeof(sub), "%s/case-%u", dir, p->case_idx);
	if (make_dir(dir) || make_dir(sub)) {
		printf("cosim: --dump: cannot create %s: %s\n", sub, strerror(errno));
		return;
	}
	for (b = 0; b < job->nbufs; b++) {
		snprintf(name, sizeof(name), "initial-%u.bin", b);
		err |= write_file(sub, name, job->image[b], job->buf_size[b]);
		snprintf(name, sizeof(name), "model-%u.bin", b);
		err |= write_file(sub, name, p->side[CS_MODEL].hm.bufs[b].data, job->buf_size[b]);
		snprintf(name, sizeof(name), "rtl-%u.bin", b);
		err |= write_file(sub, name, p->side[CS_RTL].hm.bufs[b].data, job->buf_size[b]);
	}
	for (s = 0; s < job->nstreams; s++) {
		const struct cs_stream *st = &job->s[s];
		uint64_t size = job->buf_size[st->buf], len;

		len = st->off < size ? size - st->off : 0;
		if (len > st->cmd_size)
			len = st->cmd_size;
		snprintf(name, sizeof(name), "stream-%u.bin", s);
		err |= write_file(sub, name, job->image[st->buf] + (st->off < size ? st->off : 0), len);
	}
	for (r = 0; r < F8NPU_REGIONS; r++) {
		const struct cs_region *reg = &job->reg[r];

		if (!reg->on || reg->buf < 0 || !reg->size || reg->off + reg->size > job->buf_size[reg->buf])
			continue;
		snprintf(name, sizeof(name), "region-%u.bin", r);
		err |= write_file(sub, name, job->image[reg->buf] + reg->off, reg->size);
	}
	snprintf(path, sizeof(path), "%s/job.txt", sub);
	f = fopen(path, "w");
	if (!f) {
		err = -1;
	} else {
		fprintf(f, "f8-cosim %s, seed %" PRIu64 ", case %u (%s)\n", p->cfg_name, p->opt->seed, p->case_idx,
			p->case_kind);
		fprintf(f, "replay: %s --seed %" PRIu64 " --cases %u --streams %u --case %u --verbose\n", p->opt->argv0,
			p->opt->seed, p->opt->cases, p->opt->streams, p->case_idx);
		if (job->fault)
			fprintf(f, "fault: %s intended: %s\n", f8npu_err_name((uint32_t)job->fault), job->fault_what);
		fprintf(f, "flow: %s\n", p->flow);
		for (s = 0; s < job->nstreams; s++) {
			fprintf(f, "model replay of stream %u: f8 exec stream-%u.bin --array %ux%u", s, s, p->rows, p->cols);
			for (r = 0; r < F8NPU_REGIONS; r++) {
				if (job->reg[r].on && job->reg[r].buf >= 0 && job->reg[r].size &&
				    job->reg[r].off + job->reg[r].size <= job->buf_size[job->reg[r].buf])
					fprintf(f, " --region %u=region-%u.bin --out %u=out-%u.bin", r, r, r, r);
			}
			fprintf(f, "\n");
		}
		cs_print_job(f, p, job);
		if (fclose(f))
			err = -1;
	}
	printf("cosim: case %u dumped to %s%s\n", p->case_idx, sub, err ? " (some files could not be written)" : "");
}
