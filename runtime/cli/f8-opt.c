// SPDX-License-Identifier: MIT
/* The f8 tool's table of option limits, its one numeric parser, safe messages (f8-opt.h). */
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "f8-err.h"
#include "f8-opt.h"
#include "f8-train.h"

#define INT_LIM(name, lo, hi) { name, F8_NUM_INT, 0, 0, false, false, (lo), (hi) }
#define REAL_LIM(name, lo, hi, lo_open, hi_open) { name, F8_NUM_REAL, (lo), (hi), lo_open, hi_open, 0, 0 }

/* Every numeric option of every subcommand (docs/train.md, docs/runner.md). */
const struct f8_limit f8_limits[F8_LIM_COUNT] = {
	[F8_LIM_EPOCHS] = INT_LIM("--epochs", 1, F8_TRAIN_EPOCHS_MAX),
	[F8_LIM_BATCH] = INT_LIM("--batch", 1, F8_TRAIN_BATCH_MAX),
	[F8_LIM_THREADS] = INT_LIM("--threads", 1, F8_TRAIN_THREADS_MAX),
	[F8_LIM_LR] = REAL_LIM("--lr", 0, F8_TRAIN_LR_MAX, true, false),
	[F8_LIM_FINAL_LR] = REAL_LIM("--final-lr", 0, F8_TRAIN_LR_MAX, false, false),
	[F8_LIM_WARMUP] = REAL_LIM("--warmup", 0, F8_TRAIN_EPOCHS_MAX, false, false),
	[F8_LIM_MOMENTUM] = REAL_LIM("--momentum", 0, 1, false, true),
	[F8_LIM_WD] = REAL_LIM("--wd", 0, 1, false, true),
	[F8_LIM_SEED] = INT_LIM("--seed", 0, UINT64_MAX),
	[F8_LIM_TRAIN_LIMIT] = INT_LIM("--train-limit", 1, F8_TRAIN_LIMIT_MAX),
	[F8_LIM_TEST_LIMIT] = INT_LIM("--test-limit", 1, F8_TRAIN_LIMIT_MAX),
	[F8_LIM_CROP_PAD] = INT_LIM("--crop-pad", 0, F8_TRAIN_CROP_PAD_MAX),
	/* Warm-up and timed batches together are at most one epoch each, the epoch limit. */
	[F8_LIM_BENCH_BATCHES] = INT_LIM("--bench-batches", 1, F8_TRAIN_EPOCHS_MAX),
	[F8_LIM_BENCH_WARMUP] = INT_LIM("--bench-warmup", 0, F8_TRAIN_EPOCHS_MAX - 1),
	[F8_LIM_REGION] = INT_LIM("region", 0, 15),
	[F8_LIM_ARRAY] = INT_LIM("--array", 1, 4096),
	[F8_LIM_BW] = INT_LIM("--bw", 1, 1u << 20),
	[F8_LIM_LATENCY] = INT_LIM("--latency", 0, 1u << 20),
	[F8_LIM_MAX_CYCLES] = INT_LIM("--max-cycles", 1, UINT64_MAX),
	[F8_LIM_ZERO] = { "--zero", F8_NUM_SIZE, 0, 0, false, false, 1, 1ull << 30 },
	[F8_LIM_CALIB] = INT_LIM("--calib", 1, 60000),
	[F8_LIM_CALIB_BATCH] = INT_LIM("--batch", 1, 1024),
	[F8_LIM_EVAL_LIMIT] = INT_LIM("--limit", 1, 10000),
	[F8_LIM_FT_STEPS] = INT_LIM("--steps", 1, 1000000),
	[F8_LIM_FT_BATCH] = INT_LIM("--batch", 1, 4096),
};

static void f8_vprintf_safe(FILE *f, const char *fmt, va_list ap)
{
	char raw[8192], safe[4 * sizeof(raw)];
	size_t n;
	bool nl;

	vsnprintf(raw, sizeof(raw), fmt, ap);
	n = strlen(raw);
	nl = n && raw[n - 1] == '\n';
	if (nl)
		raw[n - 1] = 0;
	f8_str_safe(safe, sizeof(safe), raw);
	fputs(safe, f);
	if (nl)
		fputc('\n', f);
}

void f8_errf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	f8_vprintf_safe(stderr, fmt, ap);
	va_end(ap);
}

void f8_outf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	f8_vprintf_safe(stdout, fmt, ap);
	va_end(ap);
}

bool f8_opt_is_uint(const char *s, uint64_t *out)
{
	uint64_t v = 0;

	if (!*s)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || v > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
			return false;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*out = v;
	return true;
}

static void f8_opt_refuse(const char *who, const struct f8_limit *l, const char *s)
{
	if (l->kind == F8_NUM_REAL)
		f8_errf("%s: %s '%s': expected a number in %c%g, %g%c\n", who, l->opt, s,
			l->lo_open ? '(' : '[', l->lo, l->hi, l->hi_open ? ')' : ']');
	else
		f8_errf("%s: %s '%s': expected %s in [%llu, %llu]%s\n", who, l->opt, s,
			l->kind == F8_NUM_SIZE ? "a size" : "an integer", (unsigned long long)l->ilo,
			(unsigned long long)l->ihi,
			l->kind == F8_NUM_SIZE ? " (suffixes k, M, G: powers of 1024)" : "");
}

int f8_opt_uint(const char *who, enum f8_lim lim, const char *s, uint64_t *out)
{
	const struct f8_limit *l = &f8_limits[lim];
	char digits[32];
	size_t n = strlen(s);
	uint64_t v, mul = 1;

	if (l->kind == F8_NUM_SIZE && n > 1) {
		const char suf = s[n - 1];

		mul = suf == 'k' || suf == 'K' ? 1ull << 10 : suf == 'M' ? 1ull << 20 :
		      suf == 'G' ? 1ull << 30 : 1;
		if (mul != 1)
			n--;
	}
	if (l->kind == F8_NUM_REAL || n >= sizeof(digits))
		goto bad;
	memcpy(digits, s, n);
	digits[n] = 0;
	if (!f8_opt_is_uint(digits, &v) || v > UINT64_MAX / mul)
		goto bad;
	v *= mul;
	if (v < l->ilo || v > l->ihi)
		goto bad;
	*out = v;
	return 0;
bad:
	f8_opt_refuse(who, l, s);
	return -1;
}

/* Decimal real: ( digits [ "." digits* ] | "." digits ) [ ("e"|"E") ["+"|"-"] digits ]. */
static bool f8_opt_real_syntax(const char *s)
{
	size_t before = 0, after = 0;

	while (*s >= '0' && *s <= '9')
		s++, before++;
	if (*s == '.')
		for (s++; *s >= '0' && *s <= '9'; s++)
			after++;
	if (!before && !after)
		return false;
	if (*s == 'e' || *s == 'E') {
		s++;
		if (*s == '+' || *s == '-')
			s++;
		if (*s < '0' || *s > '9')
			return false;
		while (*s >= '0' && *s <= '9')
			s++;
	}
	return *s == 0;
}

int f8_opt_real(const char *who, enum f8_lim lim, const char *s, double *out)
{
	const struct f8_limit *l = &f8_limits[lim];
	double v;

	if (l->kind != F8_NUM_REAL || !f8_opt_real_syntax(s))
		goto bad;
	v = strtod(s, NULL);
	if (!isfinite(v) || v < l->lo || v > l->hi || (l->lo_open && v == l->lo) ||
	    (l->hi_open && v == l->hi))
		goto bad;
	*out = v;
	return 0;
bad:
	f8_opt_refuse(who, l, s);
	return -1;
}

int f8_opt_bad(const char *who, const char *arg, void (*usage)(FILE *f))
{
	f8_errf("%s: unknown or incomplete option '%s'\n", who, arg);
	usage(stderr);
	return 1;
}

int f8_opt_error(const char *who, int c, char *const *argv, const struct option *opts)
{
	/* The element of a long option: optind is past it (for a short option, optopt). */
	const char *arg = optind > 0 ? argv[optind - 1] : "";
	const struct option *o = NULL, *p;
	char names[512] = "";
	size_t len, used = 0;
	int n = 0;

	for (p = opts; optopt && p->name && !o; p++)
		if (!p->flag && p->val == optopt)
			o = p;
	if (c == ':' && o) {
		f8_errf("%s: --%s needs a value (%s --help)\n", who, o->name, who);
	} else if (c == ':') {
		f8_errf("%s: -%c needs a value (%s --help)\n", who, optopt, who);
	} else if (o && !strncmp(arg, "--", 2) && strchr(arg, '=')) {
		f8_errf("%s: --%s takes no value ('%s') (%s --help)\n", who, o->name, arg, who);
	} else if (optopt) {
		f8_errf("%s: unknown option '-%c' (%s --help)\n", who, optopt, who);
	} else {
		/* A long option: unknown, or the prefix of several (getopt_long takes a unique
		 * prefix or an exact name). */
		len = strncmp(arg, "--", 2) ? 0 : strcspn(arg + 2, "=");
		for (p = opts; len && p->name; p++) {
			if (strncmp(p->name, arg + 2, len))
				continue;
			if (used < sizeof(names))
				used += (size_t)snprintf(names + used, sizeof(names) - used, "%s--%s",
							 n ? ", " : "", p->name);
			n++;
		}
		if (n > 1)
			f8_errf("%s: ambiguous option '%s': %s (%s --help)\n", who, arg, names, who);
		else
			f8_errf("%s: unknown option '%s' (%s --help)\n", who, arg, who);
	}
	return 1;
}

int f8_opt_none(const char *who, int argc, char **argv, void (*usage)(FILE *f))
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	/* "-": an argument that is no option comes back as 1, in the order given. optind 0:
	 * a full restart, which the GNU extension needs (getopt(3)). */
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "-:h", opts, NULL)) != -1 && c != 1) {
		if (c == 'h') {
			usage(stdout);
			return 1;
		}
		f8_opt_error(who, c, argv, opts);
		return -1;
	}
	if (c == 1 || optind < argc) { /* optind < argc: after "--" */
		f8_errf("%s: unexpected argument '%s' (%s --help)\n", who,
			c == 1 ? optarg : argv[optind], who);
		return -1;
	}
	return 0;
}
