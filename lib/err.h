/* err.h - exit statuses shared by every tool and the one error record lib fills in */
#ifndef HIVE_ERR_H
#define HIVE_ERR_H

#include <stddef.h>

/*
 * Ownership, for every lib header: a result returned through `T **out` belongs to the
 * caller and is released with the matching _free (which accepts NULL); a pointer returned
 * directly is borrowed from its owner and lives as long as it. lib never exits and never
 * writes to stdout: a failing function fills a struct hive_err and returns its status.
 */

/* The exit statuses of SPEC 2, the same for every tool. */
enum hive_status {
	HIVE_OK = 0,	 /* success */
	HIVE_FAIL = 1,	 /* a check failed: findings at error level, or a policy refused */
	HIVE_EUSAGE = 2, /* usage or invalid input: bad flag, JSON, id, config, event */
	HIVE_EENV = 3,	 /* environment or I/O: not writable, disk full, lock timeout, corrupt */
};

struct hive_err {
	int status;	/* an enum hive_status; HIVE_OK when nothing failed */
	int sys;	/* the errno of the system call that failed (hive_err_sys), else 0:
			   callers branch on this, never on the message text */
	char msg[1024]; /* lowercase, no full stop, names the field or FILE:LINE:COL */
};

/* The program name for diagnostics ("hive-emit"); the only global. */
extern const char *hive_progname;

/* Fill err with status and a printf-style message; returns status so callers can
 * write `return hive_err_set(err, HIVE_EUSAGE, "...")`. err may be NULL. */
int hive_err_set(struct hive_err *err, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Like hive_err_set, with ": strerror(errnum)" appended; err->sys = errnum. */
int hive_err_sys(struct hive_err *err, int status, int errnum, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Clear err: status HIVE_OK, no errno, no message. */
void hive_err_clear(struct hive_err *err);

/* Put "prefix: " in front of the message already in err (keeps its status). */
void hive_err_prefix(struct hive_err *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The one error printer: "PROG: error: MSG" on stderr, MSG scrubbed of secrets first
 * (hive_redact_message: the redactor's built-in rules, whether or not a config is loaded). */
void hive_err_print(const struct hive_err *err);

/* "PROG: warning: MSG" on stderr, unless quiet; scrubbed as hive_err_print does. */
void hive_warn(int quiet, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* "PROG: MSG" on stderr, unless quiet; scrubbed as hive_err_print does. Every other line a
 * tool writes to stderr goes through here. */
void hive_note(int quiet, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Quote s for a message the way the diagnostics do ("destroy" with JSON escapes),
 * truncated to fit buf. Returns buf. */
const char *hive_quote(char *buf, size_t size, const char *s);

#endif
