// SPDX-License-Identifier: MIT
/* File helpers of the f8 tool: bounded reads of regular files, safe writes (f8-fs.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "f8-cli.h"
#include "f8-fs.h"
#include "f8-opt.h"

uint8_t *f8_file_read(const char *path, uint64_t max, uint64_t *size)
{
	struct f8_err err = { "" };
	uint64_t len = 0;
	uint8_t *buf;
	size_t got = 0;
	/* Non-blocking open, regular files only: a FIFO or a device is refused at once. */
	int fd = f8_fs_open_regular(path, &len, &err);

	if (fd < 0) {
		f8_errf("f8: %s\n", err.msg);
		return NULL;
	}
	if (len > max) {
		f8_errf("f8: %s: %llu bytes, more than the %llu allowed\n", path,
			(unsigned long long)len, (unsigned long long)max);
		close(fd);
		return NULL;
	}
	buf = malloc(len ? (size_t)len : 1);
	if (!buf) {
		f8_errf("f8: %s: out of memory\n", path);
		close(fd);
		return NULL;
	}
	while (got < (size_t)len) {
		ssize_t n = read(fd, buf + got, (size_t)len - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			f8_errf("f8: %s: %s\n", path, n < 0 ? strerror(errno) : "file shrank while reading");
			free(buf);
			close(fd);
			return NULL;
		}
		got += (size_t)n;
	}
	close(fd);
	*size = len;
	return buf;
}

int f8_file_write_atomic(const char *path, const void *data, uint64_t len)
{
	struct f8_err err = { "" };

	if (len > SIZE_MAX || f8_fs_write(path, data, (size_t)len, &err)) {
		f8_errf("f8: %s\n", err.msg[0] ? err.msg : "output too large");
		return -1;
	}
	return 0;
}
