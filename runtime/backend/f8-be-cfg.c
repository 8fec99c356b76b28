// SPDX-License-Identifier: MIT
/* The configuration part of a backend spec: "RxC[,bw=B][,lat=L][,vcd=PATH]" (f8-be-impl.h). */
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

int f8_be_parse_config(const char *name, const char *config, bool vcd_ok, struct f8_be_cfg *cfg,
		       struct f8_err *e)
{
	char *p, *next, *x;
	size_t len;

	cfg->vcd = NULL;
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
		if (vcd_ok && !strncmp(p, "vcd=", 4) && p[4]) {
			cfg->vcd = p + 4;
			continue;
		}
		return f8_fail(e, F8_ERR_FORMAT,
			       "%s:%s: bad option '%s' (bw=1..1048576, lat=0..1048576%s)", name, config, p,
			       vcd_ok ? ", vcd=PATH" : "");
	}
	return F8_OK;
}
