/* err.c - the error record, the one error printer and value quoting for messages */
#include "err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *hive_progname = "hive";

int hive_err_set(struct hive_err *err, int status, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return status;
	err->status = status;
	err->sys = 0;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return status;
}

int hive_err_sys(struct hive_err *err, int status, int errnum, const char *fmt, ...)
{
	va_list ap;
	size_t n;

	if (!err)
		return status;
	err->status = status;
	err->sys = errnum;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	n = strlen(err->msg);
	snprintf(err->msg + n, sizeof(err->msg) - n, ": %s", strerror(errnum));
	return status;
}

void hive_err_clear(struct hive_err *err)
{
	if (!err)
		return;
	err->status = HIVE_OK;
	err->sys = 0;
	err->msg[0] = '\0';
}

void hive_err_prefix(struct hive_err *err, const char *fmt, ...)
{
	char head[512], old[sizeof(err->msg)];
	va_list ap;

	if (!err)
		return;
	va_start(ap, fmt);
	vsnprintf(head, sizeof(head), fmt, ap);
	va_end(ap);
	memcpy(old, err->msg, sizeof(old));
	snprintf(err->msg, sizeof(err->msg), "%.500s: %.*s", head, (int)(sizeof(err->msg) - 504),
		 old);
}

void hive_err_print(const struct hive_err *err)
{
	fprintf(stderr, "%s: error: %s\n", hive_progname, err->msg[0] ? err->msg : "unknown error");
}

void hive_warn(int quiet, const char *fmt, ...)
{
	va_list ap;

	if (quiet)
		return;
	fprintf(stderr, "%s: warning: ", hive_progname);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

const char *hive_quote(char *buf, size_t size, const char *s)
{
	size_t o = 0;
	const unsigned char *p;

	if (size < 8) {
		if (size)
			buf[0] = '\0';
		return buf;
	}
	buf[o++] = '"';
	/* room for the longest escape (6 bytes), "...", the closing quote and the NUL */
	for (p = (const unsigned char *)s; *p && o + 11 <= size; p++) {
		if (*p == '"' || *p == '\\') {
			buf[o++] = '\\';
			buf[o++] = (char)*p;
		} else if (*p == '\n') {
			buf[o++] = '\\';
			buf[o++] = 'n';
		} else if (*p < 0x20 || *p == 0x7f) {
			o += (size_t)snprintf(buf + o, size - o, "\\u%04x", *p);
		} else {
			buf[o++] = (char)*p;
		}
	}
	if (*p) {
		buf[o++] = '.';
		buf[o++] = '.';
		buf[o++] = '.';
	}
	buf[o++] = '"';
	buf[o] = '\0';
	return buf;
}
