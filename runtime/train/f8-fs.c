// SPDX-License-Identifier: MIT
/*
 * Reading and writing files named by untrusted input (f8-fs.h): regular-file opens that
 * never block, atomic replacement through pid-named temporaries with cleanup of the
 * temporaries of dead writers, in-place writes of devices and FIFOs, directory locks.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "f8-fs.h"

#define F8_FS_LOCK_NAME ".f8-lock"

/* What a file type is called in a message. */
static const char *f8_fs_kind_name(mode_t mode)
{
	if (S_ISDIR(mode))
		return "a directory";
	if (S_ISFIFO(mode))
		return "a FIFO";
	if (S_ISCHR(mode))
		return "a character device";
	if (S_ISBLK(mode))
		return "a block device";
	if (S_ISSOCK(mode))
		return "a socket";
	if (S_ISLNK(mode))
		return "a symbolic link";
	return "not a regular file";
}

int f8_fs_open_regular(const char *path, uint64_t *size, struct f8_err *err)
{
	struct stat st;
	int fd, fl;

	if (!path || !*path)
		return f8_fail(err, F8_ERR_IO, "empty file name");
	/* Non-blocking: opening a FIFO without a writer (or some devices) would wait forever. */
	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return f8_fail(err, F8_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
	if (fstat(fd, &st) != 0) {
		int e = errno;

		close(fd);
		return f8_fail(err, F8_ERR_IO, "%s: %s", path, strerror(e));
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return f8_fail(err, F8_ERR_IO, "%s: not a regular file (%s)", path,
			       f8_fs_kind_name(st.st_mode));
	}
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0) {
		int e = errno;

		close(fd);
		return f8_fail(err, F8_ERR_IO, "%s: %s", path, strerror(e));
	}
	if (size)
		*size = (uint64_t)st.st_size;
	return fd;
}

int f8_fs_target(const char *path, struct f8_err *err)
{
	struct stat st;

	if (!path || !*path)
		return f8_fail(err, F8_ERR_IO, "empty file name");
	if (lstat(path, &st) != 0) {
		if (errno == ENOENT)
			return F8_FS_ABSENT;
		return f8_fail(err, F8_ERR_IO, "%s: %s", path, strerror(errno));
	}
	if (S_ISLNK(st.st_mode))
		return f8_fail(err, F8_ERR_IO,
			       "%s: a symbolic link: not replacing it (name the file it points to)",
			       path);
	if (S_ISDIR(st.st_mode))
		return f8_fail(err, F8_ERR_IO, "%s: a directory, not a file", path);
	return S_ISREG(st.st_mode) ? F8_FS_REGULAR : F8_FS_SPECIAL;
}

/* The directory part of @path ("." for a bare name), malloc'd; *base points into @path. */
static char *f8_fs_split(const char *path, const char **base)
{
	const char *slash = strrchr(path, '/');

	if (!slash) {
		*base = path;
		return strdup(".");
	}
	*base = slash + 1;
	return slash == path ? strdup("/") : strndup(path, (size_t)(slash - path));
}

int f8_fs_clean_stale(const char *path)
{
	const char *base;
	char *dir = f8_fs_split(path, &base);
	const size_t blen = strlen(base);
	const pid_t self = getpid();
	struct dirent *e;
	DIR *d;
	int removed = 0;

	if (!dir)
		return 0;
	d = opendir(dir);
	free(dir);
	if (!d)
		return 0;
	while ((e = readdir(d))) {
		const char *p = e->d_name;
		struct stat st;
		long pid = 0;
		int digits = 0;

		if (strncmp(p, base, blen) || strncmp(p + blen, ".tmp.", 5))
			continue;
		for (p += blen + 5; *p >= '0' && *p <= '9' && digits < 10; p++, digits++)
			pid = pid * 10 + (*p - '0');
		if (*p || !digits || pid <= 0 || pid > 0x7fffffffL || pid == (long)self)
			continue;
		/* EPERM: the process exists (another user's); only ESRCH means it is gone. */
		if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue;
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode))
			continue;
		if (unlinkat(dirfd(d), e->d_name, 0) == 0)
			removed++;
	}
	closedir(d);
	return removed;
}

int f8_fs_tmp_create(const char *path, char **tmp, struct f8_err *err)
{
	const size_t len = strlen(path) + 32;
	char *name = malloc(len);
	struct stat st;
	int fd, tries;

	*tmp = NULL;
	if (!name)
		return f8_fail(err, F8_ERR_NOMEM, "%s: out of memory", path);
	snprintf(name, len, "%s.tmp.%ld", path, (long)getpid());
	f8_fs_clean_stale(path);
	for (tries = 0; tries < 2; tries++) {
		fd = open(name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
		if (fd >= 0) {
			*tmp = name;
			return fd;
		}
		/* Our own name, left by an earlier process with this pid: a stale regular file. */
		if (errno != EEXIST || lstat(name, &st) != 0 || !S_ISREG(st.st_mode) || unlink(name) != 0)
			break;
		errno = EEXIST;
	}
	fd = f8_fail(err, F8_ERR_IO, "%s: cannot create: %s", name, strerror(errno));
	free(name);
	return fd;
}

/* fsync the directory holding @path, so that a rename into it is durable; 0 or errno. */
static int f8_fs_sync_dir(const char *path)
{
	const char *base;
	char *dir = f8_fs_split(path, &base);
	int fd, rc = 0;

	if (!dir)
		return ENOMEM;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(dir);
	if (fd < 0)
		return errno;
	/* Some file systems cannot fsync a directory; the rename is as durable as they allow. */
	if (fsync(fd) != 0 && errno != EINVAL && errno != ENOTSUP)
		rc = errno;
	close(fd);
	return rc;
}

int f8_fs_commit(const char *tmp, const char *path, struct f8_err *err)
{
	int e;

	if (rename(tmp, path) != 0) {
		e = errno;
		unlink(tmp);
		return f8_fail(err, F8_ERR_IO, "%s: cannot rename %s over it: %s", path, tmp,
			       strerror(e));
	}
	e = f8_fs_sync_dir(path);
	if (e)
		return f8_fail(err, F8_ERR_IO, "%s: written, but its directory could not be synced: %s",
			       path, strerror(e));
	return F8_OK;
}

static int f8_fs_write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len) {
		ssize_t n = write(fd, p, len > (1u << 30) ? (1u << 30) : len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* A device, FIFO or socket: written in place, never created, replaced or truncated. */
static int f8_fs_write_special(const char *path, const void *data, size_t len, struct f8_err *err)
{
	struct stat st;
	int fd, fl, e;

	fd = open(path, O_WRONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		if (errno == ENXIO)
			return f8_fail(err, F8_ERR_IO, "%s: a FIFO that nobody reads", path);
		return f8_fail(err, F8_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
	}
	fl = fcntl(fd, F_GETFL);
	if (fstat(fd, &st) != 0 || S_ISDIR(st.st_mode) || fl < 0 ||
	    fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0 || f8_fs_write_all(fd, data, len) != 0) {
		e = S_ISDIR(st.st_mode) ? EISDIR : errno;
		close(fd);
		return f8_fail(err, F8_ERR_IO, "%s: write failed: %s", path, strerror(e));
	}
	if (close(fd) != 0)
		return f8_fail(err, F8_ERR_IO, "%s: write failed: %s", path, strerror(errno));
	return F8_OK;
}

int f8_fs_write(const char *path, const void *data, size_t len, struct f8_err *err)
{
	char *tmp = NULL;
	int kind, fd, rc;

	kind = f8_fs_target(path, err);
	if (kind < 0)
		return kind;
	if (kind == F8_FS_SPECIAL)
		return f8_fs_write_special(path, data, len, err);
	fd = f8_fs_tmp_create(path, &tmp, err);
	if (fd < 0)
		return fd;
	if (f8_fs_write_all(fd, data, len) != 0 || fsync(fd) != 0) {
		rc = f8_fail(err, F8_ERR_IO, "%s: write failed: %s", tmp, strerror(errno));
		close(fd);
		unlink(tmp);
		free(tmp);
		return rc;
	}
	if (close(fd) != 0) {
		rc = f8_fail(err, F8_ERR_IO, "%s: close failed: %s", tmp, strerror(errno));
		unlink(tmp);
		free(tmp);
		return rc;
	}
	rc = f8_fs_commit(tmp, path, err);
	free(tmp);
	return rc;
}

int f8_fs_lock_dir(const char *dir, int *fdp, struct f8_err *err)
{
	const size_t len = strlen(dir) + sizeof(F8_FS_LOCK_NAME) + 2;
	char *path = malloc(len);
	struct flock fl;
	struct stat st;
	int fd, rc;

	*fdp = -1;
	if (!path)
		return f8_fail(err, F8_ERR_NOMEM, "%s: out of memory", dir);
	snprintf(path, len, "%s/%s", dir, F8_FS_LOCK_NAME);
	fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY, 0666);
	if (fd < 0) {
		rc = f8_fail(err, F8_ERR_IO, "%s: cannot create the lock file: %s", path,
			     strerror(errno));
		free(path);
		return rc;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		rc = f8_fail(err, F8_ERR_IO, "%s: the lock file is not a regular file", path);
		goto fail;
	}
	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	if (fcntl(fd, F_SETLK, &fl) != 0) {
		if (errno != EACCES && errno != EAGAIN) {
			rc = f8_fail(err, F8_ERR_IO, "%s: cannot lock: %s", path, strerror(errno));
			goto fail;
		}
		memset(&fl, 0, sizeof(fl));
		fl.l_type = F_WRLCK;
		fl.l_whence = SEEK_SET;
		if (fcntl(fd, F_GETLK, &fl) == 0 && fl.l_type != F_UNLCK)
			rc = f8_fail(err, F8_ERR_IO, "%s is in use: process %ld holds %s", dir,
				     (long)fl.l_pid, path);
		else
			rc = f8_fail(err, F8_ERR_IO, "%s is in use: another process holds %s", dir,
				     path);
		goto fail;
	}
	free(path);
	*fdp = fd;
	return F8_OK;
fail:
	close(fd);
	free(path);
	return rc;
}
