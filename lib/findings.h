/* findings.h - check findings and their writers: text, json, github, junit, codequality */
#ifndef HIVE_FINDINGS_H
#define HIVE_FINDINGS_H

#include <stddef.h>
#include <stdio.h>

#include "err.h"

struct cJSON;

enum hive_level { HIVE_LEVEL_WARNING, HIVE_LEVEL_ERROR };

/* Where findings go, in which format; counts what it was given. */
struct hive_findings;

/*
 * A sink writing `format` (text, json, github, junit, codequality) to out, a stream the
 * caller owns. text, json and github are written as findings arrive; junit and
 * codequality when hive_findings_finish is called. color: ANSI colour in text. Unknown
 * format: HIVE_EUSAGE.
 */
int hive_findings_new(const char *format, FILE *out, int color, struct hive_findings **out_f,
		      struct hive_err *err);

/* Start a session (a junit testsuite): every rule named in rules[] becomes a testcase,
 * passing unless a finding names it. `name` and `file` are copied. A session started before
 * under the same name and file (checked again under a second configuration, SPEC 9) is taken
 * up again, its rules joined by these. */
void hive_findings_session(struct hive_findings *f, const char *name, const char *file,
			   const char *const *rules, size_t nrules);

/* Report one finding. file may be NULL (then the session's file); line 0 means "the file
 * as a whole". The message is printf-style. A finding the session already has, word for
 * word, is not reported twice. */
void hive_findings_add(struct hive_findings *f, enum hive_level level, const char *rule,
		       const char *file, size_t line, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));

/* Write what waits for the end (junit, codequality). strict: warnings count as failures
 * in junit. Returns 0, or -1 when out was not writable. */
int hive_findings_finish(struct hive_findings *f, int strict);

size_t hive_findings_errors(const struct hive_findings *f);
/* Errors reported so far under one rule. */
size_t hive_findings_rule_errors(const struct hive_findings *f, const char *rule);
size_t hive_findings_warnings(const struct hive_findings *f);
size_t hive_findings_sessions(const struct hive_findings *f);

void hive_findings_free(struct hive_findings *f);

/*
 * Read hive-check's findings back (--format json: NDJSON, one finding a line, or a JSON
 * array on one line) from the file arg ("-": standard input) into *out, a JSON array the
 * caller owns. Blank lines are skipped. HIVE_EUSAGE naming "--findings FILE:LINE" for a
 * line that is not a finding, or a file that cannot be opened; HIVE_EENV on a read error.
 */
int hive_findings_read(const char *arg, struct cJSON **out, struct hive_err *err);

#endif
