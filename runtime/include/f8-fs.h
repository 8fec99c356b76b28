/* SPDX-License-Identifier: MIT */
/*
 * Files named by untrusted input (docs/untrusted-input.md): the rules every reader and
 * writer of libf8 and of the f8 tool follows.
 *
 *   - A file that is read must be a regular file, and opening it never blocks: the path
 *     is opened non-blocking and checked on the open descriptor (a FIFO, a terminal or a
 *     device is refused at once, and no race between a check and the open remains).
 *   - A file that is written is replaced atomically when it is absent or regular: a
 *     temporary "<path>.tmp.<pid>" in the same directory, fsync, rename, fsync of the
 *     directory. Temporaries of writers that died (their pid is not a live process) are
 *     removed on the next write of the same path. A device, FIFO or socket is written in
 *     place (a FIFO without a reader is an error, not a hang); a symbolic link is never
 *     replaced and a directory never written.
 *   - A directory that a run writes into is locked (an fcntl lock on "<dir>/.f8-lock")
 *     so that two writers cannot interleave.
 *
 * Every failure is a negative status (F8_ERR_IO unless said otherwise) and a one-line
 * reason naming the path.
 */
#ifndef F8_FS_H
#define F8_FS_H

#include <stddef.h>
#include <stdint.h>

#include "f8-err.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Open @path for reading. It must be a regular file; the descriptor is returned
 * (O_CLOEXEC, blocking) with the file's size in *@size (may be NULL), or a negative status.
 */
int f8_fs_open_regular(const char *path, uint64_t *size, struct f8_err *err);

/* What a writer finds at a path (f8_fs_target). */
enum f8_fs_kind {
	F8_FS_ABSENT = 0,  /* nothing: created */
	F8_FS_REGULAR = 1, /* a regular file: replaced atomically */
	F8_FS_SPECIAL = 2, /* a character or block device, FIFO or socket: written in place */
};

/* enum f8_fs_kind of @path (lstat), or a negative status: a symbolic link, a directory. */
int f8_fs_target(const char *path, struct f8_err *err);

/*
 * Remove the temporaries "<path>.tmp.<pid>" (regular files, next to @path) whose pid is
 * not a live process: what a killed writer left. Returns the number removed.
 */
int f8_fs_clean_stale(const char *path);

/*
 * Create the temporary that will replace @path: "<path>.tmp.<pid>", exclusively, after
 * f8_fs_clean_stale(@path). Returns its descriptor (write-only, O_CLOEXEC) and its name
 * in *@tmp (malloc'd), or a negative status.
 */
int f8_fs_tmp_create(const char *path, char **tmp, struct f8_err *err);

/*
 * Rename @tmp over @path, then fsync the directory. If the rename fails, @tmp is removed.
 * A failed directory fsync is reported too, with the new file in place.
 */
int f8_fs_commit(const char *tmp, const char *path, struct f8_err *err);

/*
 * Write @len bytes to @path by the rules above: atomically when absent or regular, in
 * place when special, refused for a symbolic link or a directory.
 */
int f8_fs_write(const char *path, const void *data, size_t len, struct f8_err *err);

/*
 * Lock directory @dir for one writer: an fcntl write lock on "@dir/.f8-lock" (created),
 * held until *@fd is closed or the process ends. Another holder gives F8_ERR_IO with its
 * pid in the reason.
 */
int f8_fs_lock_dir(const char *dir, int *fd, struct f8_err *err);

#ifdef __cplusplus
}
#endif
#endif
