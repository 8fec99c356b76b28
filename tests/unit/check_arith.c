// SPDX-License-Identifier: MIT
/*
 * docs/arith.md against sim/include/f8npu_arith.h and the model.
 *
 * The test vectors are read from the document itself (every line starting
 * with "vec "), so the spec and the code cannot drift apart silently. The
 * mac vectors go through the device as a 1x1 CONV2D: the arithmetic that
 * matters is the one the model executes, not a helper nobody calls.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "f8-test.h"
#include "f8npu_arith.h"

#define ARITH_MD "docs/arith.md"
#define MIN_VECTORS 60
#define MAX_VECTORS 512
#define MAX_ARGS 64

enum rule { R_SAT32, R_SHIFT, R_SAT, R_REQUANT, R_ADD, R_RELU, R_MAC, R_COUNT };

static const char *const rule_names[R_COUNT] = { "sat32", "shift", "sat", "requant",
						 "add",	  "relu",  "mac" };

/* Number of integer arguments of each rule; -1: variable (mac). */
static const int rule_args[R_COUNT] = { 1, 2, 1, 2, 4, 1, -1 };

struct vec {
	enum rule rule;
	unsigned int type; /* sat, requant, mac */
	int nargs;
	int64_t arg[MAX_ARGS];
	int64_t want;
	int line;
	char text[160];
};

static const char *arith_md(void)
{
	const char *p = getenv("F8_ARITH_MD");

	return p && *p ? p : ARITH_MD;
}

static bool parse_int(const char *tok, int64_t *v)
{
	char *end;
	long long x;

	errno = 0;
	x = strtoll(tok, &end, 10);
	if (errno || end == tok || *end)
		return false;
	*v = x;
	return true;
}

static bool parse_type(const char *tok, unsigned int *type)
{
	if (!strcmp(tok, "u8"))
		*type = F8NPU_TYPE_U8;
	else if (!strcmp(tok, "s8"))
		*type = F8NPU_TYPE_S8;
	else if (!strcmp(tok, "s32"))
		*type = F8NPU_TYPE_S32;
	else
		return false;
	return true;
}

/*
 * Parse one "vec RULE ARGS = EXPECTED" line. Anything malformed is an error,
 * never a skip: a vector the parser drops is a vector nobody checks.
 */
static bool parse_vec(char *line, struct vec *v, char *why, size_t whylen)
{
	char *tok[MAX_ARGS + 8], *save = NULL, *t;
	int n = 0, eq = -1, a = 0, first;

	size_t len = strcspn(line, "\r\n");

	if (len >= sizeof(v->text))
		len = sizeof(v->text) - 1;
	memcpy(v->text, line, len);
	v->text[len] = 0;
	for (t = strtok_r(line, " \t\r\n", &save); t; t = strtok_r(NULL, " \t\r\n", &save)) {
		if (n == MAX_ARGS + 8) {
			snprintf(why, whylen, "too many tokens");
			return false;
		}
		if (!strcmp(t, "="))
			eq = n;
		tok[n++] = t;
	}
	if (n < 4 || strcmp(tok[0], "vec") || eq < 0 || eq != n - 2) {
		snprintf(why, whylen, "not 'vec RULE ARGS = EXPECTED'");
		return false;
	}
	for (v->rule = 0; v->rule < R_COUNT; v->rule++)
		if (!strcmp(tok[1], rule_names[v->rule]))
			break;
	if (v->rule == R_COUNT) {
		snprintf(why, whylen, "unknown rule '%s'", tok[1]);
		return false;
	}
	first = 2;
	v->type = F8NPU_TYPE_S32;
	if (v->rule == R_SAT || v->rule == R_MAC) {
		if (!parse_type(tok[2], &v->type)) {
			snprintf(why, whylen, "bad type '%s'", tok[2]);
			return false;
		}
		first = 3;
	}
	for (int i = first; i < eq; i++) {
		if (v->rule == R_REQUANT && i == eq - 1) {
			if (!parse_type(tok[i], &v->type)) {
				snprintf(why, whylen, "bad type '%s'", tok[i]);
				return false;
			}
			continue;
		}
		if (!parse_int(tok[i], &v->arg[a])) {
			snprintf(why, whylen, "bad number '%s'", tok[i]);
			return false;
		}
		a++;
	}
	v->nargs = a;
	if (!parse_int(tok[eq + 1], &v->want)) {
		snprintf(why, whylen, "bad expected value '%s'", tok[eq + 1]);
		return false;
	}
	if (rule_args[v->rule] >= 0 && a != rule_args[v->rule]) {
		snprintf(why, whylen, "%s takes %d numbers, got %d", rule_names[v->rule],
			 rule_args[v->rule], a);
		return false;
	}
	if (v->rule == R_MAC && (a < 3 || a % 2 == 0)) {
		snprintf(why, whylen, "mac needs a bias and x/w pairs");
		return false;
	}
	return true;
}

/* All vectors of the document; fails the test on any malformed line. */
static struct vec *load_vectors(int *count)
{
	struct vec *v = f8t_calloc(sizeof(*v) * MAX_VECTORS);
	FILE *f = fopen(arith_md(), "r");
	char line[1024], why[128];
	int n = 0, lineno = 0;

	ck_assert_msg(f, "cannot open %s (run f8-unit from the top directory): %s", arith_md(),
		      strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		if (strncmp(line, "vec ", 4))
			continue;
		if (n == MAX_VECTORS) {
			fclose(f);
			ck_abort_msg("more than %d vectors in %s", MAX_VECTORS, arith_md());
		}
		if (!parse_vec(line, &v[n], why, sizeof(why))) {
			fclose(f);
			ck_abort_msg("%s:%d: %s: %s", arith_md(), lineno, why, v[n].text);
		}
		v[n].line = lineno;
		n++;
	}
	fclose(f);
	ck_assert_msg(n >= MIN_VECTORS, "only %d vectors found in %s (want >= %d)", n, arith_md(),
		      MIN_VECTORS);
	*count = n;
	return v;
}

/* Collects failures so that one run reports every wrong vector. */
struct report {
	int bad;
	size_t len;
	char msg[4096];
};

static void report_bad(struct report *r, const struct vec *v, const char *who, int64_t got)
{
	r->bad++;
	if (r->len < sizeof(r->msg) - 200) {
		r->len += (size_t)snprintf(r->msg + r->len, sizeof(r->msg) - r->len,
					   "\n  line %d: %s: %s gives %" PRId64, v->line, v->text,
					   who, got);
	}
}

/* The rule through f8npu_arith.h. */
static int64_t eval_sim(const struct vec *v)
{
	const int64_t *a = v->arg;

	switch (v->rule) {
	case R_SAT32:
		return f8npu_sat32(a[0]);
	case R_SHIFT:
		return f8npu_shift_rne(a[0], (int)a[1]);
	case R_SAT:
		return f8npu_saturate(a[0], v->type);
	case R_REQUANT:
		return f8npu_requant(a[0], (int)a[1], v->type);
	case R_ADD:
		return f8npu_align_add(a[0], (unsigned int)a[1], a[2], (unsigned int)a[3]);
	case R_RELU:
		return f8npu_relu(a[0]);
	default: {
		int64_t sum = a[0];

		for (int i = 1; i + 1 < v->nargs; i += 2) {
			/* 4 bytes: f8npu_load may read an s32 as far as gcc knows. */
			uint8_t x[4] = { (uint8_t)a[i] }, w[4] = { (uint8_t)a[i + 1] };

			sum += f8npu_load(x, v->type) * f8npu_load(w, F8NPU_TYPE_S8);
		}
		return f8npu_sat32(sum);
	}
	}
}

/* The same rule through the tests' own reference (which the other suites trust). */
static int64_t eval_test(const struct vec *v)
{
	const int64_t *a = v->arg;

	switch (v->rule) {
	case R_SAT32:
		return f8t_sat32(a[0]);
	case R_SHIFT:
		return f8t_shift(a[0], (int)a[1]);
	case R_SAT:
		return f8t_sat(a[0], v->type);
	case R_REQUANT:
		return f8t_sat(f8t_shift(a[0], (int)a[1]), v->type);
	case R_ADD:
		return f8t_sat32(f8t_sat32(f8t_shift(a[0], -(int)a[1])) +
				 f8t_sat32(f8t_shift(a[2], -(int)a[3])));
	case R_RELU:
		return a[0] < 0 ? 0 : a[0];
	default: {
		int64_t sum = a[0];

		for (int i = 1; i + 1 < v->nargs; i += 2) {
			uint8_t x[4] = { (uint8_t)a[i] }, w[4] = { (uint8_t)a[i + 1] };

			sum += f8t_load(x, v->type) * f8t_load(w, F8NPU_TYPE_S8);
		}
		return f8t_sat32(sum);
	}
	}
}

START_TEST(test_arith_doc_vectors_match_arith_h)
{
	struct report r = { 0 };
	int n, seen[R_COUNT] = { 0 };
	struct vec *v = load_vectors(&n);

	for (int i = 0; i < n; i++) {
		int64_t got;

		seen[v[i].rule]++;
		got = eval_sim(&v[i]);
		if (got != v[i].want)
			report_bad(&r, &v[i], "f8npu_arith.h", got);
		got = eval_test(&v[i]);
		if (got != v[i].want)
			report_bad(&r, &v[i], "the tests' reference", got);
	}
	for (int k = 0; k < R_COUNT; k++)
		ck_assert_msg(seen[k] > 0, "no '%s' vector in %s", rule_names[k], arith_md());
	ck_assert_msg(r.bad == 0, "%d of %d vectors of %s fail:%s", r.bad, n, arith_md(), r.msg);
}
END_TEST

/* Regions of the mac job. */
enum { MR_SRC, MR_W, MR_BIAS, MR_DST };

START_TEST(test_arith_mac_vectors_through_conv2d)
{
	struct report r = { 0 };
	int n, macs = 0;
	struct vec *v = load_vectors(&n);

	for (int i = 0; i < n; i++) {
		uint32_t k = (uint32_t)(v[i].nargs - 1) / 2;
		struct f8npu_desc d[2];
		struct f8npu_job_result res;
		struct f8t_cost want = { 0 };
		uint8_t *src, *wt, *bias, *dst;
		int64_t got;

		if (v[i].rule != R_MAC)
			continue;
		macs++;
		f8t_reset(NULL);
		src = f8t_region(MR_SRC, k);
		wt = f8t_region(MR_W, k);
		bias = f8t_region(MR_BIAS, 4);
		dst = f8t_region(MR_DST, 4);
		f8t_store(bias, F8NPU_TYPE_S32, v[i].arg[0]);
		for (uint32_t j = 0; j < k; j++) {
			src[j] = (uint8_t)v[i].arg[1 + 2 * j];
			wt[j] = (uint8_t)v[i].arg[2 + 2 * j];
		}
		memset(dst, 0xa5, 4);

		/* [1][1][1][K] input, 1x1 kernel, one output channel, s32 at shift 0. */
		memset(d, 0, sizeof(d));
		d[0].opcode = F8NPU_OP_CONV2D;
		d[0].flags = F8NPU_FLAG_BIAS;
		d[0].kernel_h = d[0].kernel_w = 1;
		d[0].stride_h = d[0].stride_w = 1;
		d[0].src = f8t_dense(MR_SRC, (uint8_t)v[i].type, 0, 1, 1, 1, (uint16_t)k);
		d[0].dst[0] = f8t_dense(MR_DST, F8NPU_TYPE_S32, 0, 1, 1, 1, 1);
		d[0].weights.region = MR_W;
		d[0].bias.region = MR_BIAS;
		d[1].opcode = F8NPU_OP_END;
		f8t_run(d, 2, &res);
		if (!res.done) {
			report_bad(&r, &v[i], "the model faults with error", res.err);
			continue;
		}
		got = f8t_load(dst, F8NPU_TYPE_S32);
		if (got != v[i].want)
			report_bad(&r, &v[i], "the model's CONV2D", got);
		f8t_cost_header(&f8t->cfg, &want);
		f8t_cost_desc(&d[0], true, &f8t->cfg, &want);
		f8t_cost_desc(&d[1], true, &f8t->cfg, &want);
		f8t_check_perf(&want, v[i].text);
	}
	ck_assert_msg(macs > 0, "no mac vectors in %s", arith_md());
	ck_assert_msg(r.bad == 0, "%d mac vectors fail on the device:%s", r.bad, r.msg);
}
END_TEST

/*
 * An exact formulation of A2 unlike the implementation's floor/remainder
 * one: v / 2^s is exact in a double (|v| < 2^53), and the result is the
 * nearer of the two neighbouring integers, the even one on a tie.
 */
static int64_t shift_exact(int64_t v, int s)
{
	double x = (double)v, lo;
	int64_t n;

	for (int i = 0; i < s; i++)
		x /= 2.0; /* exact: a power-of-two division */
	n = (int64_t)x; /* toward zero */
	if ((double)n > x)
		n--;
	lo = x - (double)n; /* 0 <= lo < 1, exact */
	if (lo > 0.5 || (lo == 0.5 && (n & 1)))
		n++;
	return n;
}

/* Plain ifs: a passing ck_assert costs a write to Check's pipe, millions here. */
#define CHECK_SHIFT(v, s)                                                                       \
	do {                                                                                    \
		int64_t w_ = shift_exact((v), (s)), g_ = f8npu_shift_rne((v), (s));             \
		if (g_ != w_)                                                                   \
			ck_abort_msg("f8npu_shift_rne(%" PRId64 ", %d) = %" PRId64               \
				     ", want %" PRId64, (int64_t)(v), (s), g_, w_);             \
		g_ = f8t_shift((v), (s));                                                      \
		if (g_ != w_)                                                                   \
			ck_abort_msg("f8t_shift(%" PRId64 ", %d) = %" PRId64 ", want %" PRId64,   \
				     (int64_t)(v), (s), g_, w_);                                \
	} while (0)

START_TEST(test_arith_shift_exhaustive_small)
{
	for (int s = 1; s <= 20; s++)
		for (int64_t v = -70000; v <= 70000; v++)
			CHECK_SHIFT(v, s);
}
END_TEST

START_TEST(test_arith_shift_near_int32_extremes)
{
	const int64_t max = 2147483647;
	/* Windows around both ends, 0 and the s = 31 ties at +-2^30. */
	const int64_t base[] = { max - 70000, -max, -70000, (1ll << 30) - 1000,
				 -(1ll << 30) - 1000 };
	const int64_t len[] = { 70001, 70001, 140001, 2001, 2001 };

	for (unsigned int b = 0; b < sizeof(base) / sizeof(base[0]); b++)
		for (int64_t v = base[b]; v < base[b] + len[b]; v++) {
			CHECK_SHIFT(v, 31);
			if (b < 2)
				for (int s = 21; s <= 30; s++)
					CHECK_SHIFT(v, s);
		}
	/* -2^31 can be read from memory (0x80000000) and still be shifted. */
	for (int s = 1; s <= 31; s++)
		CHECK_SHIFT(-max - 1, s);
}
END_TEST

START_TEST(test_arith_left_shift_is_exact_then_saturates)
{
	const int64_t vals[] = { 0, 1, -1, 2, -2, 127, -127, 255, 65535, -65536, 2147483647,
				 -2147483647 };

	for (unsigned int i = 0; i < sizeof(vals) / sizeof(vals[0]); i++)
		for (int s = -31; s <= 0; s++) {
			int64_t want = vals[i];

			for (int j = 0; j < -s; j++)
				want *= 2;
			ck_assert_msg(f8npu_shift_rne(vals[i], s) == want,
				      "shift(%" PRId64 ", %d) not exact", vals[i], s);
			ck_assert_int_eq(f8npu_requant(vals[i], s, F8NPU_TYPE_S32),
					 want > 2147483647 ? 2147483647
					 : want < -2147483647 ? -2147483647 : want);
			ck_assert_int_eq(f8npu_requant(vals[i], s, F8NPU_TYPE_U8),
					 want > 255 ? 255 : want < 0 ? 0 : want);
		}
}
END_TEST

START_TEST(test_arith_align_add_saturates_each_operand)
{
	/* A6 by its definition, with 128-bit sums so that nothing can wrap. */
	const int64_t vals[] = { 0, 1, -1, 3, -3, 1 << 20, -(1 << 20), 1073741824, -1073741824,
				 2147483647, -2147483647, -2147483648ll };

	for (unsigned int i = 0; i < sizeof(vals) / sizeof(vals[0]); i++)
		for (unsigned int j = 0; j < sizeof(vals) / sizeof(vals[0]); j++)
			for (unsigned int la = 0; la <= 31; la += 1 + la / 4)
				for (unsigned int lb = 0; lb <= 31; lb += 1 + lb / 4) {
					__int128 a = (__int128)vals[i] * ((__int128)1 << la);
					__int128 b = (__int128)vals[j] * ((__int128)1 << lb);
					__int128 m = 2147483647;

					a = a > m ? m : a < -m ? -m : a;
					b = b > m ? m : b < -m ? -m : b;
					a += b;
					a = a > m ? m : a < -m ? -m : a;
					if (f8npu_align_add(vals[i], la, vals[j], lb) != (int64_t)a)
						ck_abort_msg("align_add(%" PRId64 ", %u, %" PRId64
							     ", %u)", vals[i], la, vals[j], lb);
				}
}
END_TEST

Suite *f8npu_arith_suite(void)
{
	Suite *s = suite_create("f8npu_arith");
	TCase *core = tcase_create("core");
	TCase *limits = tcase_create("limits");

	tcase_add_checked_fixture(core, f8t_setup, f8t_teardown);
	tcase_set_timeout(core, 20);
	tcase_add_test(core, test_arith_doc_vectors_match_arith_h);
	tcase_add_test(core, test_arith_mac_vectors_through_conv2d);
	suite_add_tcase(s, core);

	tcase_add_checked_fixture(limits, f8t_setup, f8t_teardown);
	tcase_set_timeout(limits, 30);
	tcase_add_test(limits, test_arith_shift_exhaustive_small);
	tcase_add_test(limits, test_arith_shift_near_int32_extremes);
	tcase_add_test(limits, test_arith_left_shift_is_exact_then_saturates);
	tcase_add_test(limits, test_arith_align_add_saturates_each_operand);
	suite_add_tcase(s, limits);
	return s;
}
