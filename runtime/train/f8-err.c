// SPDX-License-Identifier: MIT
/* Status strings and the error-message helper of libf8 (f8-err.h). */
#include <stdarg.h>
#include <stdio.h>

#include "f8-err.h"

int f8_fail(struct f8_err *e, int status, const char *fmt, ...)
{
	va_list ap;

	if (e) {
		va_start(ap, fmt);
		vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
		va_end(ap);
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
