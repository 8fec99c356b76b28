// SPDX-License-Identifier: MIT
/* Status strings and the error-message helpers of libf8 (f8-err.h). */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>

#include "f8-err.h"

/* Length of the well-formed UTF-8 sequence at @s (2..4) for a code point >= U+00A0, else 0. */
static int f8_utf8_len(const unsigned char *s)
{
	uint32_t cp;
	int n, i;

	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, cp = s[0] & 0x1fu;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, cp = s[0] & 0x0fu;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, cp = s[0] & 0x07u;
	else
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0; /* also stops at the terminating NUL */
		cp = cp << 6 | (s[i] & 0x3fu);
	}
	/* Overlong forms, surrogates, beyond U+10FFFF, and the C1 controls U+0080..U+009F. */
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp < 0xa0)
		return 0;
	return n;
}

size_t f8_str_safe(char *dst, size_t size, const char *src)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *)src;
	size_t o = 0;

	if (!size)
		return 0;
	while (*s) {
		int n = *s >= 0x20 && *s < 0x7f ? 1 : f8_utf8_len(s);

		if (n) {
			if (o + (size_t)n >= size)
				break;
			while (n--)
				dst[o++] = (char)*s++;
		} else {
			if (o + 4 >= size)
				break;
			dst[o++] = '\\';
			dst[o++] = 'x';
			dst[o++] = hex[*s >> 4];
			dst[o++] = hex[*s & 15];
			s++;
		}
	}
	dst[o] = 0;
	return o;
}

int f8_fail(struct f8_err *e, int status, const char *fmt, ...)
{
	char raw[sizeof(e->msg)];
	va_list ap;

	if (e) {
		va_start(ap, fmt);
		vsnprintf(raw, sizeof(raw), fmt, ap);
		va_end(ap);
		f8_str_safe(e->msg, sizeof(e->msg), raw);
	}
	return status;
}

const char *f8_status_str(int status)
{
	switch (status) {
	case F8_OK:
		return "ok";
	case F8_ERR_MISUSE:
		return "API misuse";
	case F8_ERR_NOMEM:
		return "out of memory";
	case F8_ERR_IO:
		return "I/O error";
	case F8_ERR_FORMAT:
		return "format error";
	case F8_ERR_VERSION:
		return "unsupported version";
	case F8_ERR_CORRUPT:
		return "corrupt or truncated";
	case F8_ERR_RANGE:
		return "out of range";
	default:
		return "unknown status";
	}
}
