/* err.c - the error record, the one error printer and value quoting for messages */
#include "err.h"

#include "redact.h"

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

/* Every diagnostic leaves through here: the text is scrubbed with the redactor's built-in
 * rules first (token shapes, URL credentials, NAME=VALUE under a secret name), so a value a
 * message quotes from the user ("db_password:=…" in bad JSON, a token as an unknown option
 * or a --root) never reaches a CI log as it was given. */
static void print_scrubbed(const char *kind, const char *msg)
{
	char buf[sizeof(((struct hive_err *)0)->msg) + 512];

	snprintf(buf, sizeof(buf), "%s", msg);
	hive_redact_message(buf, sizeof(buf));
	fprintf(stderr, "%s: %s%s\n", hive_progname, kind, buf);
}

void hive_err_print(const struct hive_err *err)
{
	print_scrubbed("error: ", err->msg[0] ? err->msg : "unknown error");
}

/* hive_note and hive_warn: format, then print_scrubbed with kind, unless quiet. */
static void vprint_scrubbed(int quiet, const char *kind, const char *fmt, va_list ap)
{
	char buf[sizeof(((struct hive_err *)0)->msg) + 512];

	if (quiet)
		return;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	print_scrubbed(kind, buf);
}

void hive_note(int quiet, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprint_scrubbed(quiet, "", fmt, ap);
	va_end(ap);
}

void hive_warn(int quiet, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprint_scrubbed(quiet, "warning: ", fmt, ap);
	va_end(ap);
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
