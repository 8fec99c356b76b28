/* SPDX-License-Identifier: MIT */
/*
 * Status codes and error messages of the f8 runtime library (libf8).
 *
 * Three channels, never mixed (docs/train.md):
 *   - F8_ASSERT aborts on a broken internal invariant (a bug in libf8);
 *   - functions return enum f8_status (0 or a negative code) for runtime failures;
 *   - untrusted input (architecture text, datasets, checkpoints, CLI values) gets a
 *     negative status plus a one-line reason in a caller-owned struct f8_err.
 * The library never prints to stdout; it never exits.
 */
#ifndef F8_ERR_H
#define F8_ERR_H

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#ifdef __cplusplus
extern "C" {
#endif

enum f8_status {
	F8_OK = 0,
	F8_ERR_MISUSE = -1,  /* the caller broke an API contract */
	F8_ERR_NOMEM = -2,   /* allocation failed */
	F8_ERR_IO = -3,      /* open/read/write/fsync/rename failed (errno in the message) */
	F8_ERR_FORMAT = -4,  /* malformed input: architecture text, IDX header, checkpoint layout */
	F8_ERR_VERSION = -5, /* a versioned file of another major version */
	F8_ERR_CORRUPT = -6, /* checksum mismatch or truncated file */
	F8_ERR_RANGE = -7,   /* a value outside what libf8 supports (shape, size, count) */
};

/* A one-line human-readable reason for the last failure (empty when none). */
struct f8_err {
	char msg[512];
};

/* Fill @e (may be NULL) with a printf-style message made safe to print (f8_str_safe);
 * returns @status for `return f8_fail(...)`. */
int f8_fail(struct f8_err *e, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/*
 * Copy @src into @dst (@size bytes, always NUL-terminated, cut if too long) so that it is
 * safe to print on a terminal: printable ASCII and well-formed UTF-8 (no C1 controls) are
 * kept, every other byte (control characters such as ESC, DEL, broken UTF-8) becomes
 * "\xNN". f8_fail() passes every message through it, so a reason that quotes untrusted
 * text (a file name, an architecture token, a checkpoint's model name) never carries a
 * terminal escape. Returns the length written.
 */
size_t f8_str_safe(char *dst, size_t size, const char *src);

/* A short name for a status code ("format error", ...). */
const char *f8_status_str(int status);

/* Internal invariants only; never for input checks. */
#define F8_ASSERT(cond)                                                                   \
	do {                                                                              \
		if (!(cond)) {                                                            \
			fprintf(stderr, "libf8: %s:%d: assertion '%s' failed\n", __FILE__, \
				__LINE__, #cond);                                         \
			abort();                                                          \
		}                                                                         \
	} while (0)

#ifdef __cplusplus
}
#endif
#endif
