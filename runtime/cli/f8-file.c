// SPDX-License-Identifier: MIT
/* File and number helpers of the f8 tool: bounded reads, atomic writes. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "f8-cli.h"

uint8_t *f8_file_read(const char *path, uint64_t max, uint64_t *size)
{
	struct stat st;
	uint8_t *buf;
	size_t got = 0;
	int fd = open(path, O_RDONLY);

	if (fd < 0) {
		fprintf(stderr, "f8: %s: %s\n", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		fprintf(stderr, "f8: %s: not a regular file\n", path);
		close(fd);
		return NULL;
	}
	if ((uint64_t)st.st_size > max) {
		fprintf(stderr, "f8: %s: %lld bytes, more than the %llu allowed\n", path,
			(long long)st.st_size, (unsigned long long)max);
		close(fd);
		return NULL;
	}
	buf = malloc(st.st_size ? (size_t)st.st_size : 1);
	if (!buf) {
		fprintf(stderr, "f8: %s: out of memory\n", path);
		close(fd);
		return NULL;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			fprintf(stderr, "f8: %s: %s\n", path, n < 0 ? strerror(errno) : "file shrank while reading");
			free(buf);
			close(fd);
			return NULL;
		}
		got += (size_t)n;
	}
	close(fd);
	*size = (uint64_t)st.st_size;
	return buf;
}

int f8_file_write_atomic(const char *path, const void *data, uint64_t len)
{
	size_t plen = strlen(path);
	char *tmp = malloc(plen + 16);
	const uint8_t *p = data;
	uint64_t done = 0;
	int fd;

	if (!tmp) {
		fprintf(stderr, "f8: %s: out of memory\n", path);
		return -1;
	}
	memcpy(tmp, path, plen);
	memcpy(tmp + plen, ".tmp.XXXXXX", 12);
	fd = mkstemp(tmp);
	if (fd < 0) {
		fprintf(stderr, "f8: %s: cannot create a temporary file: %s\n", path, strerror(errno));
		free(tmp);
		return -1;
	}
	while (done < len) {
		ssize_t n = write(fd, p + done, (size_t)(len - done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto fail;
		done += (uint64_t)n;
	}
	if (fchmod(fd, 0644) < 0 || fsync(fd) < 0)
		goto fail;
	if (close(fd) < 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) < 0)
		goto fail;
	free(tmp);
	return 0;
fail:
	fprintf(stderr, "f8: %s: %s\n", path, strerror(errno));
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	free(tmp);
	return -1;
}

int f8_parse_size(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t v = 0, mul = 1;
	const char *p = s;

	if (*p < '0' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (v > (UINT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	if (*p == 'k' || *p == 'K')
		mul = 1ull << 10;
	else if (*p == 'M')
		mul = 1ull << 20;
	else if (*p == 'G')
		mul = 1ull << 30;
	if (mul != 1)
		p++;
	if (*p || v > max / mul)
		return -1;
	*out = v * mul;
	return 0;
}
