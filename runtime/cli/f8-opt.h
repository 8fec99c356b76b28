/* SPDX-License-Identifier: MIT */
/*
 * Option values and messages of the f8 tool (docs/untrusted-input.md).
 *
 * One table of limits (f8_limits, indexed by enum f8_lim) holds the range of every
 * numeric option of every subcommand, one parser reads every numeric value, and every
 * refusal is one line naming the option, the value and the accepted range:
 *
 *   f8 train: --threads '65': expected an integer in [1, 64]
 *
 * Grammar, the same everywhere: an integer is decimal digits only (no sign, no blank, no
 * "0x"); a size is an integer with an optional suffix k, M or G (powers of 1024); a real
 * is decimal digits with an optional fraction and exponent ("0.1", ".5", "5e-4"; no sign,
 * no hex float, no inf or nan). The limits of a run's configuration come from f8-train.h,
 * so the options accept exactly what the engine and the checkpoint loader accept.
 *
 * Messages that quote untrusted text (file names, values, a checkpoint's model name) go
 * through f8_errf/f8_outf, which escape control characters and broken UTF-8 (f8_str_safe):
 * nothing from a file or an argument can send a terminal escape.
 */
#ifndef F8_OPT_H
#define F8_OPT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

enum f8_lim {
	/* f8 train (and f8 model: --batch, --threads) */
	F8_LIM_EPOCHS,
	F8_LIM_BATCH,
	F8_LIM_THREADS,
	F8_LIM_LR,
	F8_LIM_FINAL_LR,
	F8_LIM_WARMUP,
	F8_LIM_MOMENTUM,
	F8_LIM_WD,
	F8_LIM_SEED,
	F8_LIM_TRAIN_LIMIT,
	F8_LIM_TEST_LIMIT,
	F8_LIM_CROP_PAD,
	F8_LIM_BENCH_BATCHES,
	F8_LIM_BENCH_WARMUP,
	/* f8 exec */
	F8_LIM_REGION,
	F8_LIM_ARRAY,
	F8_LIM_BW,
	F8_LIM_LATENCY,
	F8_LIM_MAX_CYCLES,
	F8_LIM_ZERO,
	/* f8 export, f8 eval, f8 finetune, f8 baseline */
	F8_LIM_CALIB,
	F8_LIM_CALIB_BATCH,
	F8_LIM_EVAL_LIMIT,
	F8_LIM_FT_STEPS,
	F8_LIM_FT_BATCH,
	F8_LIM_COUNT
};

enum f8_num_kind {
	F8_NUM_INT,  /* decimal digits */
	F8_NUM_SIZE, /* decimal digits, optional k/M/G */
	F8_NUM_REAL, /* decimal real */
};

struct f8_limit {
	const char *opt;       /* the option, as messages name it */
	enum f8_num_kind kind;
	double lo, hi;         /* F8_NUM_REAL */
	bool lo_open, hi_open; /* F8_NUM_REAL: (lo or hi) excluded */
	uint64_t ilo, ihi;     /* F8_NUM_INT, F8_NUM_SIZE */
};

extern const struct f8_limit f8_limits[F8_LIM_COUNT];

/*
 * Parse @s as the option @lim (an integer or size kind): 0, or -1 after a message
 * "@who: <opt> '@s': expected ..." on stderr.
 */
int f8_opt_uint(const char *who, enum f8_lim lim, const char *s, uint64_t *out);
/* The same for a real option. */
int f8_opt_real(const char *who, enum f8_lim lim, const char *s, double *out);
/* An option getopt_long refused (@arg, as given): the message and the usage on stderr;
 * returns the usage exit status (1), for `return f8_opt_bad(...)`. */
int f8_opt_bad(const char *who, const char *arg, void (*usage)(FILE *f));
/*
 * The refusal of an option getopt_long did not take, as one line with a pointer to --help,
 * for the subcommands that call it with opterr = 0 and ':' in front of their short options
 * ("-:h"), @c being what it returned (':' a missing value, '?' anything else):
 *
 *   f8 exec: unknown option '--bogus' (f8 exec --help)
 *   f8 exec: ambiguous option '--b': --backend, --bw (f8 exec --help)
 *   f8 exec: --bw needs a value (f8 exec --help)
 *   f8 exec: --quiet takes no value ('--quiet=1') (f8 exec --help)
 *
 * @opts is the table given to getopt_long; an option is named by its val, so every val is
 * unique, either the option's short letter or at least 256. Returns the usage exit status (1).
 */
struct option;
int f8_opt_error(const char *who, int c, char *const *argv, const struct option *opts);
/* A subcommand without options but --help (usage on stdout): 0 to run, 1 after --help,
 * -1 after one line naming the option or the argument refused. */
int f8_opt_none(const char *who, int argc, char **argv, void (*usage)(FILE *f));
/* Whether @s is an integer by the grammar above (for values inside composite arguments). */
bool f8_opt_is_uint(const char *s, uint64_t *out);

/* printf to stderr / stdout with every untrusted byte made printable (a final newline kept). */
void f8_errf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void f8_outf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif /* F8_OPT_H */
