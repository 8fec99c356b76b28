// SPDX-License-Identifier: MIT
/* An integer model file read and validated for a subcommand (eval, compile, run, profile). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "f8-cli.h"
#include "f8-qmodel.h"

int f8_qm_file_load(const char *tool, const char *path, struct f8_qm_file *qf)
{
	struct f8_qm_error qe;
	uint32_t cnt;
	uint64_t size = 0;

	memset(qf, 0, sizeof(*qf));
	qf->file = f8_file_read(path, F8_QM_FILE_MAX, &size);
	if (!qf->file)
		return -1;
	cnt = f8_qm_peek_nodes(qf->file, size);
	qf->nodes = calloc(cnt ? cnt : 1, sizeof(*qf->nodes));
	qf->names = calloc(F8_QM_MAX_CLASSES, sizeof(*qf->names));
	if (!qf->nodes || !qf->names) {
		fprintf(stderr, "%s: out of memory\n", tool);
		goto fail;
	}
	if (f8_qm_parse(qf->file, size, qf->nodes, cnt, qf->names, F8_QM_MAX_CLASSES, &qf->m, &qe)) {
		if (qe.node >= 0)
			fprintf(stderr, "%s: %s: node %d: %s (%s)\n", tool, path, qe.node, qe.what,
				f8_status_str(qe.status));
		else
			fprintf(stderr, "%s: %s: %s (%s)\n", tool, path, qe.what, f8_status_str(qe.status));
		goto fail;
	}
	return 0;
fail:
	f8_qm_file_free(qf);
	return -1;
}

void f8_qm_file_free(struct f8_qm_file *qf)
{
	free(qf->names);
	free(qf->nodes);
	free(qf->file);
	memset(qf, 0, sizeof(*qf));
}
