/* fuzz_redact.c - libFuzzer: no input makes a known secret survive the redactor
 *
 * The input is [kind][entry][split: 2 bytes][text…]. The text is cut at `split` into a
 * prefix and a suffix (NUL bytes dropped: no hive string holds one), and a known secret of
 * `kind` goes between them: a GitHub token (ghp_ and 36 letters or digits), an AWS access key
 * id (AKIA…), a GitLab token, a Slack token, a JWT, a `password=VALUE`, the password of a
 * URL's userinfo, a PEM private key block's body, or the value under a key that holds
 * "password" anywhere. Then it goes through one of the redactor's entry points: a bare
 * JSON string, details.configuration as hive-emit redacts it (and then the gate's scans,
 * decoded strings and raw bytes, must find nothing more: what hive-emit writes, hive-check
 * passes), a JSON key, free text
 * (hive_redact_text, with redact.patterns), a diagnostic (hive_redact_message), a report
 * (hive_redact_buf). Whatever the prefix and suffix, the secret's mark (the token, or the
 * password or value) must not be in what comes out: the harness aborts when it is. (An input
 * whose prefix or suffix spells the mark again is skipped: plain text is no secret.)
 */
#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/config.h"
#include "../../lib/redact.h"
#include "../../lib/util.h"

static struct hive_config cfg;
static struct hive_redactor *red;

/* A known secret: the text put between prefix and suffix, and the part that must not
 * survive (the mark). */
static const struct {
	const char *text, *mark;
} secrets[] = {
	{"ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789", "ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789"},
	{"AKIAQ2W3E4R5T6Y7U8I9", "AKIAQ2W3E4R5T6Y7U8I9"},
	{"glpat-ZYXWVUTSRQPONMLKJIHG", "glpat-ZYXWVUTSRQPONMLKJIHG"},
	{"xoxb-1234567890-abcdefghijKLMN", "xoxb-1234567890-abcdefghijKLMN"},
	{"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.SflKxwRJSMeKKF2QT4fwpMeJf36POk6y",
	 "eyJzdWIiOiIxMjM0NTY3ODkwIn0"},
	{"password=Zx9Qw7Lk3Mn5", "Zx9Qw7Lk3Mn5"},
	{"https://deploy:Pw7Kq2Lz9Xc4@git.example.com/app", "Pw7Kq2Lz9Xc4"},
	{"-----BEGIN RSA PRIVATE KEY-----\nMIIBOgIBAAJBAKj34GkxFhD9\n-----END RSA PRIVATE KEY-----",
	 "MIIBOgIBAAJBAKj34GkxFhD9"},
};
#define NSECRETS (sizeof(secrets) / sizeof(secrets[0]))
#define KEY_MARK "Kv8nQ2pS7wT4"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const char yaml[] = "redact:\n  keys: [session_cookie]\n"
				   "  patterns: ['corp_[A-Za-z0-9]{8}']\n";
	struct hive_err err = {0};

	(void)argc;
	(void)argv;
	hive_config_init(&cfg);
	if (hive_config_parse(&cfg, ".hive.yml", yaml, sizeof(yaml) - 1, &err) ||
	    hive_redactor_new(&cfg, &red, &err))
		abort();
	return 0;
}

/* Abort when mark is in out (out may be NULL: nothing came out, out of memory). */
static void must_not_hold(const char *what, const char *in, const char *out, const char *mark)
{
	if (out && strstr(out, mark)) {
		fprintf(stderr, "%s: the secret %s survived\n  in:  %s\n  out: %s\n", what, mark,
			in, out);
		abort();
	}
}

/* How many times mark occurs in s (overlaps counted). The fuzzer learns the marks: a mark
 * it writes into the prefix or suffix too is plain text no rule can know for a secret, so
 * such an input proves nothing and is skipped. */
static size_t occurrences(const char *s, const char *mark)
{
	size_t n = 0;

	while ((s = strstr(s, mark))) {
		n++;
		s++;
	}
	return n;
}

/* s[0..len) without its NUL bytes, into a new string. */
static char *without_nul(const uint8_t *s, size_t len)
{
	char *out = malloc(len + 1);
	size_t i, o = 0;

	if (!out)
		return NULL;
	for (i = 0; i < len; i++)
		if (s[i])
			out[o++] = (char)s[i];
	out[o] = '\0';
	return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *prefix = NULL, *suffix = NULL, *in = NULL, *text = NULL, *buf;
	const char *secret, *mark;
	cJSON *obj = NULL, *conf, *s;
	struct hive_buf b = {0};
	size_t split, n, kind, entry, blen;

	if (size < 4)
		return 0;
	kind = data[0] % (NSECRETS + 1);
	entry = data[1] % 6;
	split = ((size_t)data[2] << 8 | data[3]) % (size - 3);
	prefix = without_nul(data + 4, split);
	suffix = without_nul(data + 4 + split, size - 4 - split);
	if (!prefix || !suffix)
		goto out;
	if (kind == NSECRETS) {
		/* a key holding "password" anywhere: its value goes, whatever the key */
		n = strlen(prefix) + strlen(suffix) + 9;
		if (!(in = malloc(n)))
			goto out;
		snprintf(in, n, "%spassword%s", prefix, suffix);
		if (strstr(in, KEY_MARK))
			goto out;
		obj = cJSON_CreateObject();
		conf = cJSON_AddObjectToObject(obj, "configuration");
		if (!conf || !cJSON_AddStringToObject(conf, in, KEY_MARK) ||
		    hive_redact(red, obj, HIVE_REDACT_DETAILS) < 0)
			goto out;
		text = cJSON_PrintUnformatted(obj);
		must_not_hold("a secret key name", in, text, KEY_MARK);
		goto out;
	}
	secret = secrets[kind].text;
	mark = secrets[kind].mark;
	n = strlen(prefix) + strlen(secret) + strlen(suffix) + 1;
	if (!(in = malloc(n)))
		goto out;
	snprintf(in, n, "%s%s%s", prefix, secret, suffix);
	if (occurrences(in, mark) != 1)
		goto out;

	switch (entry) {
	case 0: /* a bare JSON string */
		if (!(obj = cJSON_CreateString(in)) || hive_redact(red, obj, HIVE_REDACT_USER) < 0)
			goto out;
		must_not_hold("a string", in, obj->valuestring, mark);
		break;
	case 1: /* details as hive-emit redacts them, then as hive-check scans them */
		obj = cJSON_CreateObject();
		conf = cJSON_AddObjectToObject(obj, "configuration");
		if (!conf || !cJSON_AddStringToObject(conf, "note", in) ||
		    hive_redact(red, obj, HIVE_REDACT_DETAILS) < 0)
			goto out;
		text = cJSON_PrintUnformatted(obj);
		must_not_hold("details", in, text, mark);
		/* as check.c's secret_line: the token shapes in the bytes, or decoded when
		 * the line holds an escape; then the decoded strings, every rule */
		if (hive_redactor_scan_json(red, obj, HIVE_REDACT_DETAILS, NULL, NULL) ||
		    (text &&
		     (strchr(text, '\\')
			      ? hive_redactor_scan_json(red, obj, HIVE_REDACT_SHAPES, NULL, NULL) >
					0
			      : hive_redactor_find_shape(red, text, strlen(text), NULL) != NULL))) {
			fprintf(stderr, "the gate finds a secret in what hive-emit wrote: %s\n",
				text);
			abort();
		}
		break;
	case 2: /* a key of configuration */
		obj = cJSON_CreateObject();
		conf = cJSON_AddObjectToObject(obj, "configuration");
		if (!conf || !(s = cJSON_CreateString("v")))
			goto out;
		cJSON_AddItemToObject(conf, in, s);
		if (hive_redact(red, obj, HIVE_REDACT_DETAILS) < 0)
			goto out;
		text = cJSON_PrintUnformatted(obj);
		must_not_hold("a key", in, text, mark);
		break;
	case 3: /* free text, redact.patterns too */
	case 4: /* a diagnostic, before any config */
		blen = strlen(in) + 1;
		if (!(buf = malloc(blen)))
			goto out;
		memcpy(buf, in, blen);
		if ((entry == 3 ? hive_redact_text(red, buf, blen, 1)
				: hive_redact_message(buf, blen)) >= 0)
			must_not_hold(entry == 3 ? "text" : "a diagnostic", in, buf, mark);
		free(buf);
		break;
	case 5: /* a report */
		hive_buf_puts(&b, in);
		if (hive_redact_buf(&b) >= 0)
			must_not_hold("a report", in, b.p, mark);
		break;
	}
out:
	hive_buf_free(&b);
	cJSON_free(text);
	cJSON_Delete(obj);
	free(in);
	free(prefix);
	free(suffix);
	return 0;
}
