/* findings.c - write check findings as compiler-style text, NDJSON, GitHub workflow commands, JUnit
 * XML or GitLab Code Quality */
#include "findings.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lines.h"
#include "redact.h"
#include "util.h"

enum format { F_TEXT, F_JSON, F_GITHUB, F_JUNIT, F_CODEQUALITY };

/* A finding kept for the formats written at the end. */
struct kept {
	enum hive_level level;
	char *rule, *file, *message;
	size_t line;
};

struct suite {
	char *name, *file;
	char **rules; /* the testcases, in order */
	size_t nrules;
	struct kept *k;
	size_t nk, capk;
};

struct hive_findings {
	enum format format;
	FILE *out;
	int color;
	size_t errors, warnings;
	struct suite *suites;
	size_t nsuites, capsuites;
	size_t cur;   /* the current suite, when nsuites > 0 */
	int first_cq; /* codequality: no item written yet */
	struct {
		char rule[48];
		size_t errors;
	} by_rule[24]; /* error counts per rule (there are fewer rules than slots) */
	size_t nby_rule;
};

int hive_findings_new(const char *format, FILE *out, int color, struct hive_findings **out_f,
		      struct hive_err *err)
{
	static const char *names[] = {"text", "json", "github", "junit", "codequality"};
	struct hive_findings *f;
	char q[64];
	size_t i;

	*out_f = NULL;
	for (i = 0; i < 5 && strcmp(format, names[i]); i++)
		;
	if (i == 5)
		return hive_err_set(
			err, HIVE_EUSAGE,
			"--format: %s is not one of text, json, github, junit, codequality",
			hive_quote(q, sizeof(q), format));
	if (!(f = calloc(1, sizeof(*f))))
		return hive_err_set(err, HIVE_EENV, "out of memory");
	f->format = (enum format)i;
	f->out = out;
	f->color = color;
	f->first_cq = 1;
	*out_f = f;
	return HIVE_OK;
}

static struct suite *current(struct hive_findings *f)
{
	return f->nsuites ? &f->suites[f->cur] : NULL;
}

void hive_findings_session(struct hive_findings *f, const char *name, const char *file,
			   const char *const *rules, size_t nrules)
{
	struct suite *s;
	size_t i, j;

	/* a session checked again (under a second configuration, SPEC 9) goes on where it was */
	for (i = 0; i < f->nsuites; i++) {
		s = &f->suites[i];
		if (strcmp(s->name, name ? name : "-") || strcmp(s->file, file ? file : "-"))
			continue;
		f->cur = i;
		for (j = 0; j < nrules && s->rules; j++) {
			char **n;
			size_t k;
			for (k = 0; k < s->nrules && strcmp(s->rules[k], rules[j]); k++)
				;
			if (k < s->nrules || !(n = realloc(s->rules, (s->nrules + 1) * sizeof(*n))))
				continue;
			s->rules = n;
			s->rules[s->nrules++] = strdup(rules[j]);
		}
		return;
	}
	if (f->nsuites == f->capsuites) {
		size_t cap = f->capsuites ? f->capsuites * 2 : 8;
		struct suite *n = realloc(f->suites, cap * sizeof(*n));
		if (!n)
			return;
		f->suites = n;
		f->capsuites = cap;
	}
	f->cur = f->nsuites;
	s = &f->suites[f->nsuites++];
	memset(s, 0, sizeof(*s));
	s->name = strdup(name ? name : "-");
	s->file = strdup(file ? file : "-");
	if (f->format != F_JUNIT)
		return; /* only junit lists the rules that passed */
	s->rules = calloc(nrules ? nrules : 1, sizeof(*s->rules));
	for (i = 0; s->rules && i < nrules; i++)
		s->rules[s->nrules++] = strdup(rules[i]);
}

/* GitHub workflow command escaping: data escapes % CR LF; properties also : and ,. */
static void gh_escape(FILE *out, const char *s, int property)
{
	for (; *s; s++) {
		switch (*s) {
		case '%':
			fputs("%25", out);
			break;
		case '\r':
			fputs("%0D", out);
			break;
		case '\n':
			fputs("%0A", out);
			break;
		case ':':
			fputs(property ? "%3A" : ":", out);
			break;
		case ',':
			fputs(property ? "%2C" : ",", out);
			break;
		default:
			fputc(*s, out);
		}
	}
}

/* Text is one finding per line for people, editors and problem matchers: a message holding
 * a value from a log (a resource name) must not break the line or reach the terminal as an
 * escape sequence, so control characters are written as \n, \r, \t or \xHH. */
static void text_escape(FILE *out, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '\n')
			fputs("\\n", out);
		else if (c == '\r')
			fputs("\\r", out);
		else if (c == '\t')
			fputs("\\t", out);
		else if (c < 0x20 || c == 0x7f)
			fprintf(out, "\\x%02x", c);
		else
			fputc(c, out);
	}
}

/* Is this finding in s already? */
static int kept_already(const struct suite *s, enum hive_level level, const char *rule,
			const char *file, size_t line, const char *msg)
{
	size_t i;

	for (i = 0; i < s->nk; i++)
		if (s->k[i].level == level && s->k[i].line == line && !strcmp(s->k[i].rule, rule) &&
		    !strcmp(s->k[i].file, file) && !strcmp(s->k[i].message, msg))
			return 1;
	return 0;
}

/* Keep a finding for the formats written at the end, and to know it again. */
static void keep(struct hive_findings *f, enum hive_level level, const char *rule, const char *file,
		 size_t line, const char *msg)
{
	struct suite *s = current(f);
	struct kept *k;

	if (!s) {
		hive_findings_session(f, "-", file, NULL, 0);
		if (!(s = current(f)))
			return;
	}
	if (s->nk == s->capk) {
		size_t cap = s->capk ? s->capk * 2 : 16;
		struct kept *n = realloc(s->k, cap * sizeof(*n));
		if (!n)
			return;
		s->k = n;
		s->capk = cap;
	}
	k = &s->k[s->nk++];
	k->level = level;
	k->rule = strdup(rule);
	k->file = strdup(file);
	k->message = strdup(msg);
	k->line = line;
}

void hive_findings_add(struct hive_findings *f, enum hive_level level, const char *rule,
		       const char *file, size_t line, const char *fmt, ...)
{
	const char *lvl = level == HIVE_LEVEL_ERROR ? "error" : "warning";
	struct suite *s = current(f);
	char msg[2048], shown[4400];
	va_list ap;
	cJSON *o;
	char *text;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!file)
		file = s ? s->file : "-";
	/* a finding quotes what it found (a value, a path): it leaves scrubbed, like every
	 * diagnostic (hive_redact_message) */
	hive_redact_message(msg, sizeof(msg));
	snprintf(shown, sizeof(shown), "%s", file);
	if (hive_redact_message(shown, sizeof(shown)))
		file = shown;
	if (s && kept_already(s, level, rule, file, line, msg))
		return; /* the same finding under a second configuration */
	keep(f, level, rule, file, line, msg);
	if (level == HIVE_LEVEL_ERROR) {
		size_t i;
		f->errors++;
		for (i = 0; i < f->nby_rule && strcmp(f->by_rule[i].rule, rule); i++)
			;
		if (i == f->nby_rule && i < sizeof(f->by_rule) / sizeof(f->by_rule[0])) {
			snprintf(f->by_rule[i].rule, sizeof(f->by_rule[i].rule), "%s", rule);
			f->nby_rule++;
		}
		if (i < f->nby_rule)
			f->by_rule[i].errors++;
	} else {
		f->warnings++;
	}
	switch (f->format) {
	case F_TEXT:
		if (line)
			fprintf(f->out, "%s:%zu: ", file, line);
		else
			fprintf(f->out, "%s: ", file);
		if (f->color)
			fprintf(f->out, "\033[1;%dm%s:\033[0m [%s] ",
				level == HIVE_LEVEL_ERROR ? 31 : 35, lvl, rule);
		else
			fprintf(f->out, "%s: [%s] ", lvl, rule);
		text_escape(f->out, msg);
		fputc('\n', f->out);
		break;
	case F_JSON:
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "level", lvl);
		cJSON_AddStringToObject(o, "rule", rule);
		if (s && strcmp(s->name, "-"))
			cJSON_AddStringToObject(o, "session", s->name);
		else
			cJSON_AddNullToObject(o, "session");
		cJSON_AddStringToObject(o, "file", file);
		if (line)
			cJSON_AddNumberToObject(o, "line", (double)line);
		else
			cJSON_AddNullToObject(o, "line");
		cJSON_AddStringToObject(o, "message", msg);
		if ((text = cJSON_PrintUnformatted(o))) {
			fprintf(f->out, "%s\n", text);
			cJSON_free(text);
		}
		cJSON_Delete(o);
		break;
	case F_GITHUB:
		fprintf(f->out, "::%s file=", lvl);
		gh_escape(f->out, file, 1);
		if (line)
			fprintf(f->out, ",line=%zu", line);
		fputs(",title=", f->out);
		gh_escape(f->out, "hive ", 1);
		gh_escape(f->out, rule, 1);
		fputs("::", f->out);
		gh_escape(f->out, msg, 0);
		fputc('\n', f->out);
		break;
	case F_JUNIT:
	case F_CODEQUALITY:
		break; /* kept above, written by hive_findings_finish */
	}
}

static void xml_escape(FILE *out, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '<')
			fputs("&lt;", out);
		else if (c == '>')
			fputs("&gt;", out);
		else if (c == '&')
			fputs("&amp;", out);
		else if (c == '"')
			fputs("&quot;", out);
		else if (c == '\'')
			fputs("&apos;", out);
		else if (c < 0x20 && c != '\n' && c != '\t')
			fprintf(out, "&#x%X;", c == '\r' ? c : 0xFFFD);
		else
			fputc(c, out);
	}
}

static void write_junit(struct hive_findings *f, int strict)
{
	size_t i, j, k, tests = 0, failures = 0;

	for (i = 0; i < f->nsuites; i++) {
		struct suite *s = &f->suites[i];
		tests += s->nrules;
		for (j = 0; j < s->nrules; j++)
			for (k = 0; k < s->nk; k++)
				if (!strcmp(s->k[k].rule, s->rules[j]) &&
				    (strict || s->k[k].level == HIVE_LEVEL_ERROR)) {
					failures++;
					break;
				}
	}
	fprintf(f->out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
	fprintf(f->out, "<testsuites name=\"hive-check\" tests=\"%zu\" failures=\"%zu\">\n", tests,
		failures);
	for (i = 0; i < f->nsuites; i++) {
		struct suite *s = &f->suites[i];
		size_t sf = 0;
		for (j = 0; j < s->nrules; j++)
			for (k = 0; k < s->nk; k++)
				if (!strcmp(s->k[k].rule, s->rules[j]) &&
				    (strict || s->k[k].level == HIVE_LEVEL_ERROR)) {
					sf++;
					break;
				}
		fputs("  <testsuite name=\"", f->out);
		xml_escape(f->out, s->name);
		fprintf(f->out, "\" tests=\"%zu\" failures=\"%zu\" errors=\"0\">\n", s->nrules, sf);
		for (j = 0; j < s->nrules; j++) {
			int failed = 0, any = 0;
			fputs("    <testcase name=\"", f->out);
			xml_escape(f->out, s->rules[j]);
			fputs("\" classname=\"hive.", f->out);
			xml_escape(f->out, s->name);
			fputs("\" file=\"", f->out);
			xml_escape(f->out, s->file);
			fputs("\">\n", f->out);
			for (k = 0; k < s->nk; k++)
				if (!strcmp(s->k[k].rule, s->rules[j]) &&
				    (strict || s->k[k].level == HIVE_LEVEL_ERROR))
					failed++;
			for (k = 0; k < s->nk; k++)
				if (!strcmp(s->k[k].rule, s->rules[j]))
					any++;
			if (failed) {
				fprintf(f->out,
					"      <failure type=\"%s\" message=\"%zu finding%s\">",
					s->rules[j], (size_t)failed, failed == 1 ? "" : "s");
				for (k = 0; k < s->nk; k++) {
					struct kept *x = &s->k[k];
					if (strcmp(x->rule, s->rules[j]))
						continue;
					xml_escape(f->out, x->file);
					if (x->line)
						fprintf(f->out, ":%zu", x->line);
					fprintf(f->out, ": %s: ",
						x->level == HIVE_LEVEL_ERROR ? "error" : "warning");
					xml_escape(f->out, x->message);
					fputc('\n', f->out);
				}
				fputs("</failure>\n", f->out);
			} else if (any) {
				fputs("      <system-out>", f->out);
				for (k = 0; k < s->nk; k++) {
					struct kept *x = &s->k[k];
					if (strcmp(x->rule, s->rules[j]))
						continue;
					xml_escape(f->out, x->file);
					if (x->line)
						fprintf(f->out, ":%zu", x->line);
					fputs(": warning: ", f->out);
					xml_escape(f->out, x->message);
					fputc('\n', f->out);
				}
				fputs("</system-out>\n", f->out);
			}
			fputs("    </testcase>\n", f->out);
		}
		fputs("  </testsuite>\n", f->out);
	}
	fputs("</testsuites>\n", f->out);
}

static void write_codequality(struct hive_findings *f)
{
	cJSON *arr = cJSON_CreateArray(), *o, *loc, *lines;
	char key[4096], fp[HIVE_HASH_SIZE], *text;
	size_t i, k;

	for (i = 0; i < f->nsuites; i++) {
		for (k = 0; k < f->suites[i].nk; k++) {
			struct kept *x = &f->suites[i].k[k];
			o = cJSON_CreateObject();
			cJSON_AddStringToObject(o, "description", x->message);
			cJSON_AddStringToObject(o, "check_name", x->rule);
			/* stable across runs: rule, file, line and message */
			snprintf(key, sizeof(key), "%s\n%s\n%zu\n%s", x->rule, x->file, x->line,
				 x->message);
			hive_sha256(key, strlen(key), fp);
			cJSON_AddStringToObject(o, "fingerprint", fp + 7);
			cJSON_AddStringToObject(o, "severity",
						x->level == HIVE_LEVEL_ERROR ? "major" : "minor");
			loc = cJSON_AddObjectToObject(o, "location");
			cJSON_AddStringToObject(loc, "path", x->file);
			lines = cJSON_AddObjectToObject(loc, "lines");
			cJSON_AddNumberToObject(lines, "begin", x->line ? (double)x->line : 1);
			cJSON_AddItemToArray(arr, o);
		}
	}
	if ((text = cJSON_Print(arr))) {
		fprintf(f->out, "%s\n", text);
		cJSON_free(text);
	}
	cJSON_Delete(arr);
}

int hive_findings_finish(struct hive_findings *f, int strict)
{
	if (f->format == F_JUNIT)
		write_junit(f, strict);
	else if (f->format == F_CODEQUALITY)
		write_codequality(f);
	return fflush(f->out) == 0 && !ferror(f->out) ? 0 : -1;
}

size_t hive_findings_errors(const struct hive_findings *f)
{
	return f->errors;
}

size_t hive_findings_rule_errors(const struct hive_findings *f, const char *rule)
{
	size_t i;

	for (i = 0; i < f->nby_rule; i++)
		if (!strcmp(f->by_rule[i].rule, rule))
			return f->by_rule[i].errors;
	return 0;
}

size_t hive_findings_warnings(const struct hive_findings *f)
{
	return f->warnings;
}

size_t hive_findings_sessions(const struct hive_findings *f)
{
	return f->nsuites;
}

void hive_findings_free(struct hive_findings *f)
{
	size_t i, j;

	if (!f)
		return;
	for (i = 0; i < f->nsuites; i++) {
		struct suite *s = &f->suites[i];
		for (j = 0; j < s->nrules; j++)
			free(s->rules[j]);
		for (j = 0; j < s->nk; j++) {
			free(s->k[j].rule);
			free(s->k[j].file);
			free(s->k[j].message);
		}
		free(s->rules);
		free(s->k);
		free(s->name);
		free(s->file);
	}
	free(f->suites);
	free(f);
}

int hive_findings_read(const char *arg, cJSON **out, struct hive_err *err)
{
	struct hive_lines *r = NULL;
	enum hive_line_kind kind;
	const char *line;
	size_t len;
	int fd = 0, got, rc = HIVE_OK;
	cJSON *arr = cJSON_CreateArray(), *x;

	*out = NULL;
	if (strcmp(arg, "-") && (fd = open(arg, O_RDONLY | O_CLOEXEC)) < 0) {
		cJSON_Delete(arr);
		return hive_err_sys(err, HIVE_EUSAGE, errno, "--findings %s", arg);
	}
	if ((rc = hive_lines_from_fd(fd, &r, err)))
		goto out;
	while ((got = hive_lines_next(r, &line, &len, &kind, err)) > 0) {
		size_t i;
		for (i = 0; i < len && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r'); i++)
			;
		if (i == len)
			continue;
		x = kind == HIVE_LINE_TOO_LONG ? NULL : hive_json_parse(line, len);
		if (cJSON_IsArray(x)) { /* a whole array on one line */
			cJSON *it;
			while ((it = cJSON_DetachItemFromArray(x, 0)))
				cJSON_AddItemToArray(arr, it);
			cJSON_Delete(x);
			continue;
		}
		if (!cJSON_IsObject(x) ||
		    !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(x, "rule"))) {
			cJSON_Delete(x);
			rc = hive_err_set(
				err, HIVE_EUSAGE,
				"--findings %s:%zu: not a hive-check finding (use hive-check "
				"--format json)",
				arg, hive_lines_number(r));
			goto out;
		}
		cJSON_AddItemToArray(arr, x);
	}
	if (got < 0)
		rc = HIVE_EENV;
out:
	hive_lines_free(r);
	if (fd > 0)
		close(fd);
	if (rc)
		cJSON_Delete(arr);
	else
		*out = arr;
	return rc;
}
