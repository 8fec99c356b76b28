// SPDX-License-Identifier: MIT
/* Helpers shared by the training-engine suites (train-test.h): a per-test temporary
 * directory, whole-file reads and writes, random fills. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/resource.h>
#include <string.h>

#include "train-test.h"

char f8tt_tmpdir[64];

void f8tt_tmpdir_make(const char *tag)
{
	snprintf(f8tt_tmpdir, sizeof(f8tt_tmpdir), "/tmp/%s-XXXXXX", tag);
	ck_assert_ptr_nonnull(mkdtemp(f8tt_tmpdir));
}

void f8tt_tmpdir_remove(void)
{
	char cmd[256];

	/* chmod first: a test may leave a read-only directory behind. */
	snprintf(cmd, sizeof(cmd), "chmod -R u+w '%s'; rm -rf '%s'", f8tt_tmpdir, f8tt_tmpdir);
	if (f8tt_tmpdir[0] && system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", f8tt_tmpdir);
}

char *f8tt_path(const char *name)
{
	static char buf[4][256];
	static int next;
	char *p = buf[next++ & 3];

	snprintf(p, sizeof(buf[0]), "%s/%s", f8tt_tmpdir, name);
	return p;
}

uint8_t *f8tt_read_file(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	uint8_t *p;
	long len;

	ck_assert_ptr_nonnull(f);
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	rewind(f);
	p = malloc((size_t)len + 1);
	ck_assert_uint_eq(fread(p, 1, (size_t)len, f), (size_t)len);
	fclose(f);
	*n = (size_t)len;
	return p;
}

/* Called in loops over thousands of files: ck_abort_msg costs nothing on success,
 * where every passing ck_assert is recorded. */
void f8tt_write_file(const char *path, const void *data, size_t n)
{
	FILE *f = fopen(path, "wb");

	if (!f)
		ck_abort_msg("cannot create %s", path);
	if (fwrite(data, 1, n, f) != n)
		ck_abort_msg("cannot write %s", path);
	if (fclose(f) != 0)
		ck_abort_msg("cannot close %s", path);
}

void f8tt_fill_uniform(struct f8_rng *r, float *p, size_t n, double lo, double hi)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (float)(lo + (hi - lo) * f8_rng_uniform(r));
}

void f8tt_limit_data(size_t headroom)
{
#ifndef __SANITIZE_ADDRESS__
	struct rlimit lim;
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	unsigned long kb = 0;

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "VmData: %lu kB", &kb) == 1)
			break;
	if (f)
		fclose(f);
	lim.rlim_cur = lim.rlim_max = (rlim_t)kb * 1024 + headroom;
	if (!kb || setrlimit(RLIMIT_DATA, &lim) != 0)
		_exit(100);
#else
	(void)headroom;
#endif
}
