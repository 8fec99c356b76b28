// SPDX-License-Identifier: MIT
/*
 * The configuration part of a backend spec: "RxC[,bw=B][,lat=L][,without=OPS][,vcd=PATH]"
 * (f8-be-impl.h). without=pool_max+add hides those opcodes from the capabilities, so the
 * runtime treats the device as one that lacks them: how the placement's host fallback is
 * exercised on a device that has every operation.
 */
#include <string.h>

#include "f8-be-impl.h"

/* Decimal digits only, 1 .. @max (no sign, blank, '+' or 0x: the CLI's number rule). */
static bool f8_be_uint(const char *s, size_t n, uint32_t max, uint32_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (n == 0 || n > 10)
		return false;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v < 1 || v > max)
		return false;
	*out = (uint32_t)v;
	return true;
}

/* "op[+op...]" of conv2d, pool_max, pool_sum, add into opcode bits. */
static bool f8_be_ops_mask(const char *s, uint32_t *mask)
{
	static const char *const names[F8NPU_OP_COUNT_] = { NULL, NULL, "conv2d", "pool_max",
							    "pool_sum", "add" };
	const char *end;
	uint32_t op;

	*mask = 0;
	for (; *s; s = *end ? end + 1 : end) {
		end = strchr(s, '+');
		if (!end)
			end = s + strlen(s);
		for (op = 0; op < F8NPU_OP_COUNT_; op++)
			if (names[op] && strlen(names[op]) == (size_t)(end - s) &&
			    !strncmp(names[op], s, (size_t)(end - s)))
				break;
		if (op == F8NPU_OP_COUNT_)
			return false;
		*mask |= 1u << op;
		if (*end && !end[1])
			return false; /* a trailing '+' */
	}
	return *mask != 0;
}

int f8_be_parse_config(const char *name, const char *config, bool vcd_ok, struct f8_be_cfg *cfg,
		       struct f8_err *e)
{
	char *p, *next, *x;
	size_t len;

	cfg->vcd = NULL;
	cfg->ops_off = 0;
	if (!config || !*config)
		return F8_OK;
	len = strlen(config);
	if (len >= sizeof(cfg->buf))
		return f8_fail(e, F8_ERR_FORMAT, "%s: configuration longer than %zu characters", name,
			       sizeof(cfg->buf) - 1);
	memcpy(cfg->buf, config, len + 1);
	next = strchr(cfg->buf, ',');
	if (next)
		*next++ = 0;
	x = strchr(cfg->buf, 'x');
	if (!x || !f8_be_uint(cfg->buf, (size_t)(x - cfg->buf), 4096, &cfg->rows) ||
	    !f8_be_uint(x + 1, strlen(x + 1), 4096, &cfg->cols))
		return f8_fail(e, F8_ERR_FORMAT,
			       "%s:%s: expected RxC (array rows x cols, each an integer in [1, 4096])", name,
			       config);
	for (p = next; p; p = next) {
		next = strchr(p, ',');
		if (next)
			*next++ = 0;
		if (!strncmp(p, "bw=", 3) && f8_be_uint(p + 3, strlen(p + 3), 1u << 20, &cfg->bw))
			continue;
		if (!strncmp(p, "lat=", 4) &&
		    (!strcmp(p + 4, "0") || f8_be_uint(p + 4, strlen(p + 4), 1u << 20, &cfg->lat))) {
			if (!strcmp(p + 4, "0"))
				cfg->lat = 0;
			continue;
		}
		if (!strncmp(p, "without=", 8) && f8_be_ops_mask(p + 8, &cfg->ops_off))
			continue;
		if (vcd_ok && !strncmp(p, "vcd=", 4) && p[4]) {
			cfg->vcd = p + 4;
			continue;
		}
		return f8_fail(e, F8_ERR_FORMAT,
			       "%s:%s: bad option '%s' (bw=1..1048576, lat=0..1048576, "
			       "without=OP[+OP...] of conv2d pool_max pool_sum add%s)", name, config, p,
			       vcd_ok ? ", vcd=PATH" : "");
	}
	return F8_OK;
}
