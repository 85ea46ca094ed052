/* test_redact.c - unit tests for lib/redact.c: token shapes, key names, redact.patterns, limits */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "unit.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/redact.h"
#include "../../lib/util.h"

#define HEX40 "0123456789abcdef0123456789abcdef01234567"
#define HEX64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

/* --- helpers ------------------------------------------------------------------------ */

/* --- redaction ---------------------------------------------------------------------- */

struct redact_fx {
	struct hive_config cfg;
	struct hive_redactor *r;    /* with the config */
	struct hive_redactor *bare; /* without one */
};

static int setup_redactor(void **state)
{
	struct redact_fx *fx = calloc(1, sizeof(*fx));
	struct hive_err err = {0};

	if (!fx)
		return -1;
	unit_config_from(&fx->cfg, "redact:\n  keys: [session_cookie, connection-string]\n"
				   "  patterns: ['corp_[A-Za-z0-9]{32}', 'INTERNAL-[0-9]+']\n");
	if (hive_redactor_new(&fx->cfg, &fx->r, &err) || hive_redactor_new(NULL, &fx->bare, &err))
		return -1;
	*state = fx;
	return 0;
}

static int teardown_redactor(void **state)
{
	struct redact_fx *fx = *state;

	hive_redactor_free(fx->r);
	hive_redactor_free(fx->bare);
	hive_redactor_free(NULL);
	hive_config_free(&fx->cfg);
	free(fx);
	return 0;
}

/* Redact {"note": in} and expect {"note": want}, `count` replacements, and `secret` gone. */
static void redacts(struct hive_redactor *r, const char *in, const char *want, int count,
		    const char *secret)
{
	cJSON *obj = cJSON_CreateObject();
	const char *got;
	int n;

	cJSON_AddStringToObject(obj, "note", in);
	n = hive_redact(r, obj, 1);
	got = cJSON_GetObjectItem(obj, "note")->valuestring;
	if (strcmp(got, want))
		fail_msg("redacting %s\n  got:  %s\n  want: %s", in, got, want);
	if (n != count)
		fail_msg("redacting %s: count %d, want %d", in, n, count);
	if (secret && strstr(got, secret))
		fail_msg("the secret %s survived in %s", secret, got);
	/* a second pass finds nothing more */
	assert_int_equal(hive_redact(r, obj, 1), 0);
	assert_string_equal(cJSON_GetObjectItem(obj, "note")->valuestring, want);
	cJSON_Delete(obj);
}

#define GH36 "aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789"

static void test_redact_token_shapes(void **state)
{
	struct redact_fx *fx = *state;
	static const char *gh[] = {"ghp", "gho", "ghs", "ghu", "ghr"};
	char in[128], secret[64];
	size_t i;

	assert_int_equal(strlen(GH36), 36);
	redacts(fx->bare, "key AKIAIOSFODNN7EXAMPLE here", "key [REDACTED:aws_access_key] here", 1,
		"AKIAIOSFODNN7EXAMPLE");
	redacts(fx->bare, "ASIAY34FZKBOKMUTVV7A", "[REDACTED:aws_access_key]", 1,
		"ASIAY34FZKBOKMUTVV7A");
	for (i = 0; i < 5; i++) {
		snprintf(secret, sizeof(secret), "%s_%s", gh[i], GH36);
		snprintf(in, sizeof(in), "token=%s;", secret);
		redacts(fx->bare, in, "token=[REDACTED:github_token];", 1, secret);
	}
	redacts(fx->bare,
		"pat "
		"github_pat_11ABCDEFG0abcdefghijkl_"
		"mnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ab end",
		"pat [REDACTED:github_pat] end", 1, "github_pat_11");
	redacts(fx->bare, "glpat-abcdefghij0123456789 x", "[REDACTED:gitlab_token] x", 1,
		"glpat-abcdefghij0123456789");
	redacts(fx->bare, "slack xoxb-1234567890-1234567890123-abcdefghijklmnopqrstuvwx",
		"slack [REDACTED:slack_token]", 1, "xoxb-");
	redacts(fx->bare,
		"-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA1234abcd+/=\nZm9vYmFyYmF6\n"
		"-----END RSA PRIVATE KEY-----",
		"[REDACTED:private_key]", 1, "MIIEowIBAAKCAQEA");
	redacts(fx->bare,
		"key: -----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n"
		"-----END OPENSSH PRIVATE KEY-----\n",
		"key: [REDACTED:private_key]", 1, "b3BlbnNzaC1rZXktdjE");
	redacts(fx->bare, "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBg\n-----END PRIVATE KEY-----",
		"[REDACTED:private_key]", 1, "MIIEvQIBADANBg");
	redacts(fx->bare,
		"Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0."
		"SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",
		"Bearer [REDACTED:jwt]", 1, "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c");
	/* URL credentials: only user:pass goes, the rest of the URL stays */
	redacts(fx->bare, "https://user:pass@host/path",
		"https://[REDACTED:url_credentials]@host/path", 1, "user:pass");
	redacts(fx->bare, "db postgres://admin:s3cr3t@db.internal:5432/app ok",
		"db postgres://[REDACTED:url_credentials]@db.internal:5432/app ok", 1, "s3cr3t");
	/* several in one string */
	redacts(fx->bare, "AKIAIOSFODNN7EXAMPLE and https://u:p@h",
		"[REDACTED:aws_access_key] and https://[REDACTED:url_credentials]@h", 2, "u:p@");
	/* configured patterns */
	redacts(fx->r, "id corp_0123456789abcdefABCDEF0123456789 done",
		"id [REDACTED:pattern] done", 1, "corp_0123");
	redacts(fx->r, "see INTERNAL-4242", "see [REDACTED:pattern]", 1, "4242");
	redacts(fx->bare, "id corp_0123456789abcdefABCDEF0123456789 done",
		"id corp_0123456789abcdefABCDEF0123456789 done", 0, NULL);
}

static void test_redact_leaves_ordinary_values(void **state)
{
	struct redact_fx *fx = *state;
	static const char *plain[] = {
		"deploy api to prod",
		"https://github.com/acme/app",
		"git@github.com:acme/app.git",
		"user@example.com",
		"AKIA",
		"ghp_short",
		"glpat-short",
		"eyJhbGciOiJIUzI1NiJ9",
		"sha256:" HEX64,
		HEX40,
		"[REDACTED]",
		"-----BEGIN CERTIFICATE-----",
		"ssh://host:22/path",
		"",
	};
	size_t i;

	for (i = 0; i < sizeof(plain) / sizeof(plain[0]); i++) {
		redacts(fx->r, plain[i], plain[i], 0, NULL);
		assert_null(hive_redactor_find(fx->r, plain[i], strlen(plain[i]), NULL));
	}
}

static void test_redact_key_names(void **state)
{
	struct redact_fx *fx = *state;
	cJSON *obj = unit_json(
		"{\"resource\":\"api\",\"configuration\":{\"password\":\"hunter2\",\"passwd\":"
		"\"x1\","
		"\"secret\":\"x2\",\"token\":\"x3\",\"api_key\":\"x4\",\"apikey\":\"x5\","
		"\"private_key\":\"x6\",\"access_key\":\"x7\",\"client_secret\":\"x8\","
		"\"clientSecret\":\"x9\",\"dbPassword\":\"x10\",\"x-api-key\":\"x11\","
		"\"DB_PASSWORD\":\"x12\",\"APIKey\":\"x13\",\"github_token\":42,"
		"\"nested\":{\"auth\":{\"token\":\"x14\",\"user\":\"bob\"}},"
		"\"list\":[{\"password\":\"x15\"},\"plain\",[{\"secret\":{\"deep\":1}}]],"
		"\"tokenizer\":\"bert\",\"author\":\"me\",\"key\":\"k\",\"secretary\":\"s\","
		"\"passwords_policy\":\"p\",\"unset_token\":null,\"done\":\"[REDACTED]\","
		"\"session_cookie\":\"c\"}}");
	const char *want =
		"{\"resource\":\"api\",\"configuration\":{\"password\":\"[REDACTED]\","
		"\"passwd\":\"[REDACTED]\",\"secret\":\"[REDACTED]\",\"token\":\"[REDACTED]\","
		"\"api_key\":\"[REDACTED]\",\"apikey\":\"[REDACTED]\",\"private_key\":\"[REDACTED]"
		"\","
		"\"access_key\":\"[REDACTED]\",\"client_secret\":\"[REDACTED]\","
		"\"clientSecret\":\"[REDACTED]\",\"dbPassword\":\"[REDACTED]\","
		"\"x-api-key\":\"[REDACTED]\",\"DB_PASSWORD\":\"[REDACTED]\",\"APIKey\":\"["
		"REDACTED]\","
		"\"github_token\":\"[REDACTED]\","
		"\"nested\":{\"auth\":\"[REDACTED]\"},"
		"\"list\":[{\"password\":\"[REDACTED]\"},\"plain\",[{\"secret\":\"[REDACTED]\"}]],"
		"\"tokenizer\":\"bert\",\"author\":\"me\",\"key\":\"k\",\"secretary\":\"s\","
		"\"passwords_policy\":\"[REDACTED]\",\"unset_token\":null,\"done\":\"[REDACTED]\","
		"\"session_cookie\":\"c\"}}";
	char *got;
	int n;

	/* without the config: session_cookie is not a secret name */
	n = hive_redact(fx->bare, obj, 1);
	got = unit_print(obj);
	assert_string_equal(got, want);
	/* auth (a docker config's) goes whole; passwords_policy holds "password" */
	assert_int_equal(n, 19);
	cJSON_free(got);
	/* already redacted values are not counted again */
	assert_int_equal(hive_redact(fx->bare, obj, 1), 0);
	got = unit_print(obj);
	assert_string_equal(got, want);
	cJSON_free(got);
	cJSON_Delete(obj);
}

static void test_redact_configured_keys(void **state)
{
	struct redact_fx *fx = *state;
	cJSON *obj =
		unit_json("{\"configuration\":{\"session_cookie\":\"c1\",\"sessionCookie\":\"c2\","
			  "\"connection_string\":\"c3\",\"CONNECTION-STRING\":\"c4\","
			  "\"cookie\":\"c5\",\"password\":\"c6\"}}");
	char *got;

	assert_int_equal(hive_redact(fx->r, obj, 1), 5);
	got = unit_print(obj);
	assert_string_equal(got,
			    "{\"configuration\":{\"session_cookie\":\"[REDACTED]\","
			    "\"sessionCookie\":\"[REDACTED]\",\"connection_string\":\"[REDACTED]\","
			    "\"CONNECTION-STRING\":\"[REDACTED]\",\"cookie\":\"c5\","
			    "\"password\":\"[REDACTED]\"}}");
	cJSON_free(got);
	cJSON_Delete(obj);

	assert_true(hive_redactor_key_is_secret(fx->r, "sessionCookie"));
	assert_false(hive_redactor_key_is_secret(fx->bare, "sessionCookie"));
	assert_true(hive_redactor_key_is_secret(fx->bare, "AWS_SECRET_ACCESS_KEY"));
	assert_true(hive_redactor_key_is_secret(fx->bare, "accessToken"));
	assert_true(hive_redactor_key_is_secret(fx->bare, "Private-Key"));
	assert_false(hive_redactor_key_is_secret(fx->bare, "tokens"));
	assert_false(hive_redactor_key_is_secret(fx->bare, "keyboard"));
	assert_false(hive_redactor_key_is_secret(fx->bare, ""));
}

/* HIVE_REDACT_CONTEXT (git, ci, a profile): key names do not matter and keys are never
 * rewritten; token shapes go from the values, but ids and hashes are not looked at. */
static void test_redact_context_mode(void **state)
{
	struct redact_fx *fx = *state;
	cJSON *obj = unit_json("{\"password\":\"hunter2\",\"note\":\"AKIAIOSFODNN7EXAMPLE\","
			       "\"AKIAIOSFODNN7EXAMPLE\":\"v\",\"commit\":\"" HEX40 "\","
			       "\"branch\":\"ghp_" GH36 "\"}");
	char *got;

	assert_int_equal(hive_redact(fx->bare, obj, HIVE_REDACT_CONTEXT), 2);
	got = unit_print(obj);
	assert_string_equal(got, "{\"password\":\"hunter2\",\"note\":\"[REDACTED:aws_access_key]\","
				 "\"AKIAIOSFODNN7EXAMPLE\":\"v\",\"commit\":\"" HEX40 "\","
				 "\"branch\":\"[REDACTED:github_token]\"}");
	cJSON_free(got);
	cJSON_Delete(obj);

	/* a bare string */
	obj = cJSON_CreateString("x https://a:b@c y");
	assert_int_equal(hive_redact(fx->bare, obj, HIVE_REDACT_DETAILS), 1);
	assert_string_equal(obj->valuestring, "x https://[REDACTED:url_credentials]@c y");
	cJSON_Delete(obj);
}

/* Regression (fuzz_event): a key named like a secret had its value replaced and was then
 * skipped, so a token inside the key itself was written as it was, and hive-check called
 * the event hive-emit had just written an unredacted secret. */
static void test_redact_secret_named_key_holding_a_token(void **state)
{
	struct redact_fx *fx = *state;
	cJSON *obj = unit_json("{\"token ghp_" GH36 "\":\"v\",\"instance_class-----BEGIN RSA "
			       "PRIVATE KEY-----\":\"db.t3.medium\",\"password\":\"hunter2\"}");
	char *got;

	assert_int_equal(hive_redact(fx->r, obj, 1), 5);
	got = unit_print(obj);
	assert_string_equal(got, "{\"token [REDACTED:github_token]\":\"[REDACTED]\","
				 "\"instance_class[REDACTED:private_key]\":\"[REDACTED]\","
				 "\"password\":\"[REDACTED]\"}");
	/* what hive-emit writes, hive-check's secrets rule finds nothing in */
	assert_null(hive_redactor_find(fx->r, got, strlen(got), NULL));
	cJSON_free(got);
	cJSON_Delete(obj);
}

static void test_redactor_find(void **state)
{
	struct redact_fx *fx = *state;
	const char *line =
		"{\"seq\":2,\"details\":{\"configuration\":{\"note\":\"ghp_" GH36 "\"}}}";
	const char *pem = "{\"k\":\"-----BEGIN EC PRIVATE KEY-----\\nMHcCAQEEIB\\n-----END EC "
			  "PRIVATE KEY-----\\n\"}";
	const char *two = "{\"a\":\"https://u:p@h\",\"b\":\"AKIAIOSFODNN7EXAMPLE\"}";
	size_t at = 999;

	assert_string_equal(hive_redactor_find(fx->r, line, strlen(line), &at), "github_token");
	assert_int_equal(at, strstr(line, "ghp_") - line);
	/* escaped newlines of a PEM block in a raw JSON line */
	assert_string_equal(hive_redactor_find(fx->r, pem, strlen(pem), &at), "private_key");
	assert_int_equal(at, strstr(pem, "-----BEGIN") - pem);
	/* the first match wins; for URL credentials, where the credentials start */
	assert_string_equal(hive_redactor_find(fx->r, two, strlen(two), &at), "url_credentials");
	assert_int_equal(at, strstr(two, "u:p") - two);
	/* only len bytes are looked at */
	assert_null(hive_redactor_find(fx->r, two, 10, &at));
	assert_string_equal(hive_redactor_find(fx->r, two + 20, strlen(two + 20), &at),
			    "aws_access_key");
	/* configured patterns, and none at all */
	assert_string_equal(hive_redactor_find(fx->r, "x INTERNAL-7", 12, &at), "pattern");
	assert_int_equal(at, 2);
	assert_null(hive_redactor_find(fx->bare, "x INTERNAL-7", 12, &at));
	assert_null(hive_redactor_find(fx->r, "{\"seq\":1}", 9, &at));
	assert_string_equal(hive_redactor_find(fx->r, "AKIAIOSFODNN7EXAMPLE", 20, NULL),
			    "aws_access_key");
}

/* Regression (fuzz_event): a raw line in a read buffer has no NUL after it. regexec's
 * ASan interceptor ran strlen past the end of such a line (a heap-buffer-overflow report
 * under make sanitize); PCRE2 takes a length and reads nothing past it. Each line here
 * sits in a heap block of exactly its size, so ASan sees any read past it. */
static void test_redactor_find_unterminated(void **state)
{
	struct redact_fx *fx = *state;
	const char *lines[] = {
		"{\"k\":\"-----BEGIN RSA PRIVATE KEY-----\\nMIIB\\n-----END RSA PRIVATE "
		"KEY-----\"}",
		"{\"note\":\"ghp_" GH36 "\"}",
		"{\"u\":\"https://u:p@h\"}",
		"x INTERNAL-7",
	};
	const char *want[] = {"private_key", "github_token", "url_credentials", "pattern"};
	size_t i, at;

	for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		size_t len = strlen(lines[i]);
		char *raw = malloc(len);

		assert_non_null(raw);
		memcpy(raw, lines[i], len);
		assert_string_equal(hive_redactor_find(fx->r, raw, len, &at), want[i]);
		/* a prefix that cuts the shape off finds nothing, and reads nothing after it */
		assert_null(hive_redactor_find(fx->r, raw, 4, &at));
		free(raw);
	}
}

/* Every built-in shape, through both entry points: hive_redactor_find on the text as it
 * is (the offset where the secret starts) and hive_redact on it as a JSON string. */
static void test_redactor_find_every_shape(void **state)
{
	struct redact_fx *fx = *state;
	static const struct {
		const char *text, *rule, *secret;
	} cases[] = {
		{"id AKIAIOSFODNN7EXAMPLE", "aws_access_key", "AKIAIOSFODNN7EXAMPLE"},
		{"id A3T0IOSFODNN7EXAMPLE", "aws_access_key", "A3T0IOSFODNN7EXAMPLE"},
		{"id ghr_" GH36, "github_token", "ghr_" GH36},
		{"id github_pat_11ABCDEFG0abcdefghijkl_mnop", "github_pat", "github_pat_11ABCDEF"},
		{"id glpat-abcdefghij0123456789", "gitlab_token", "glpat-abcdefghij0123456789"},
		{"id xoxp-1234567890-abc", "slack_token", "xoxp-1234567890-abc"},
		{"id -----BEGIN DSA PRIVATE KEY-----\nMIIBu\n-----END DSA PRIVATE KEY-----",
		 "private_key", "MIIBu"},
		{"id eyJhbGciOi.eyJzdWIiOi.sig", "jwt", "eyJzdWIiOi"},
		{"id ftp://anon:guest@files", "url_credentials", "anon:guest"},
	};
	size_t i, at;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *rule =
			hive_redactor_find(fx->bare, cases[i].text, strlen(cases[i].text), &at);
		char want[128];

		if (!rule || strcmp(rule, cases[i].rule))
			fail_msg("%s: found %s, want %s", cases[i].text, rule ? rule : "nothing",
				 cases[i].rule);
		/* after "id ", or after the scheme: URL credentials start at the user */
		assert_int_equal(at, strcmp(cases[i].rule, "url_credentials") ? 3 : 9);
		snprintf(want, sizeof(want), "%.*s[REDACTED:%s]%s", (int)at, cases[i].text,
			 cases[i].rule, strcmp(cases[i].rule, "url_credentials") ? "" : "@files");
		redacts(fx->bare, cases[i].text, want, 1, cases[i].secret);
	}
}

/* redact.patterns are PCRE2: \b, \w, (?i), lazy quantifiers and UTF-8 characters. */
static void test_redact_patterns_pcre2_syntax(void **state)
{
	struct hive_config cfg;
	struct hive_redactor *r = NULL;
	struct hive_err err = {0};

	(void)state;
	unit_config_from(&cfg, "redact:\n  patterns: ['(?i)\\bvault-\\w{6}\\b', 'pin=.{4}', "
			       "'<k>.+?</k>', 'cl\u00e9-[0-9]+']\n");
	assert_int_equal(hive_redactor_new(&cfg, &r, &err), HIVE_OK);
	redacts(r, "a VAULT-abc123 b", "a [REDACTED:pattern] b", 1, "abc123");
	redacts(r, "xvault-abc123 b", "xvault-abc123 b", 0, NULL);
	/* lazy: each element on its own, the text between them stays */
	redacts(r, "<k>one</k> and <k>two</k>", "[REDACTED:pattern] and [REDACTED:pattern]", 2,
		"one");
	/* UTF mode: `.` is a character, not a byte */
	redacts(r, "pin=\u00e9\u20ac\u00fcx!", "[REDACTED:pattern]!", 1, "\u20ac");
	redacts(r, "code cl\u00e9-42 ok", "code [REDACTED:pattern] ok", 1, "42");
	/* an empty match is none (PCRE2_NOTEMPTY): nothing to redact, no endless loop */
	hive_redactor_free(r);
	hive_config_free(&cfg);
	unit_config_from(&cfg, "redact:\n  patterns: ['x*']\n");
	assert_int_equal(hive_redactor_new(&cfg, &r, &err), HIVE_OK);
	redacts(r, "abc xxx d", "abc [REDACTED:pattern] d", 1, "xxx");
	redacts(r, "abc", "abc", 0, NULL);
	hive_redactor_free(r);
	hive_config_free(&cfg);
}

/* A pattern that backtracks without end, (a+)+$, and one whose repeated group nests deeper
 * than the depth limit: PCRE2 stops at a limit (within milliseconds: this test would not
 * end otherwise), and the whole value, which may hold a secret, is redacted. */
static void test_redact_match_limit(void **state)
{
	struct hive_config cfg;
	struct hive_redactor *r = NULL;
	struct hive_err err = {0};
	char runaway[64], deep[20003];
	cJSON *obj;
	size_t at = 99;

	(void)state;
	memset(runaway, 'a', 40);
	strcpy(runaway + 40, "! AKIAIOSFODNN7EXAMPLE");
	memset(deep, 'a', 20000);
	strcpy(deep + 20000, "!!");
	unit_config_from(&cfg, "redact:\n  patterns: ['^(a+)+$', '(?:a|b)+!!']\n");
	assert_int_equal(hive_redactor_new(&cfg, &r, &err), HIVE_OK);

	redacts(r, runaway, "[REDACTED:match_limit]", 1, "AKIA");
	assert_string_equal(hive_redactor_find(r, runaway, strlen(runaway), &at), "match_limit");
	assert_int_equal(at, 0);
	redacts(r, deep, "[REDACTED:match_limit]", 1, "aaaa");
	/* short values are matched as usual, ordinary ones left alone */
	redacts(r, "aaa", "[REDACTED:pattern]", 1, "aaa");
	redacts(r, "x ab!! y", "x [REDACTED:pattern] y", 1, "ab!!");
	redacts(r, "deploy api", "deploy api", 0, NULL);
	/* in a key, and among other values */
	obj = unit_json("{\"note\":\"fine\",\"list\":[\"ok\"]}");
	cJSON_AddStringToObject(obj, runaway, "v");
	assert_int_equal(hive_redact(r, obj, 1), 1);
	assert_non_null(cJSON_GetObjectItem(obj, "[REDACTED:match_limit]"));
	assert_string_equal(cJSON_GetObjectItem(obj, "note")->valuestring, "fine");
	cJSON_Delete(obj);
	hive_redactor_free(r);
	hive_config_free(&cfg);
}

/* UTF-8 text around a token keeps its bytes; invalid UTF-8 in a raw line (hive-check reads
 * any bytes) is searched too, a configured pattern never matching inside it. */
static void test_redact_utf8(void **state)
{
	struct redact_fx *fx = *state;
	const char bad[] = "\xff\xfe\xc3 INTERNAL-7 \xe2\x82";
	size_t at;

	redacts(fx->r, "cl\u00e9 \u2192 AKIAIOSFODNN7EXAMPLE \u2713",
		"cl\u00e9 \u2192 [REDACTED:aws_access_key] \u2713", 1, "AKIA");
	redacts(fx->r, "\u65e5\u672c INTERNAL-42\u00e9", "\u65e5\u672c [REDACTED:pattern]\u00e9", 1,
		"42");
	assert_string_equal(hive_redactor_find(fx->r, bad, sizeof(bad) - 1, &at), "pattern");
	assert_int_equal(at, 4);
	assert_null(hive_redactor_find(fx->r, "\xff\xff\xff", 3, &at));
}

/* A raw line is bytes with a length: a NUL inside it ends nothing (PCRE2 takes the length;
 * regexec used to stop at it), and nothing after the length is looked at. */
static void test_redactor_find_nul_bytes(void **state)
{
	struct redact_fx *fx = *state;
	const char line[] = "{\"a\":\"x\0y\",\"k\":\"AKIAIOSFODNN7EXAMPLE\",\"u\":\"INTERNAL-7\"}";
	size_t at;

	assert_string_equal(hive_redactor_find(fx->r, line, sizeof(line) - 1, &at),
			    "aws_access_key");
	assert_int_equal(at, 16);
	assert_string_equal(hive_redactor_find(fx->r, line + 40, sizeof(line) - 41, &at),
			    "pattern");
	assert_null(hive_redactor_find(fx->r, line, 17, &at));
	assert_null(hive_redactor_find(fx->r, "", 0, &at));
}

#define R(f) cmocka_unit_test_setup_teardown(f, setup_redactor, teardown_redactor)

/* The key-name corpus README "Redaction" documents: every name in must[] is a secret's,
 * none in must_not[] is. */
static void test_redact_key_name_corpus(void **state)
{
	struct redact_fx *fx = *state;
	static const char *must[] = {
		"password",
		"Password",
		"PASSWORD",
		"passwd",
		"db_password",
		"DB_PASSWORD",
		"dbPassword",
		"dbpassword",
		"passwords",
		"password_hash",
		"mysql-root-password",
		"passphrase",
		"gpg_passphrase",
		"pwd",
		"db_pwd",
		"dbpwd",
		"pass",
		"db_pass",
		"smtp.pass",
		"credentials",
		"aws_credentials",
		"credential",
		"authorization",
		"Authorization",
		"proxyAuthorization",
		"auth",
		"basic_auth",
		"oauth",
		"http.auth",
		"token",
		"access_token",
		"accessToken",
		"githubtoken",
		"X-Auth-Token",
		"secret",
		"secrets",
		"client_secret",
		"clientSecret",
		"secret_key",
		"dbsecret",
		"api_key",
		"apiKey",
		"APIKey",
		"apikey",
		"x-api-key",
		"private_key",
		"privateKey",
		"privatekey",
		"access_key",
		"accesskey",
		"AWS_SECRET_ACCESS_KEY",
	};
	static const char *must_not[] = {
		"author",      "authors",    "authority", "authored_by", "compass",    "bypass",
		"passenger",   "passport",   "passage",	  "tokens",	 "max_tokens", "tokenizer",
		"key",	       "keyboard",   "monkey",	  "secretary",	 "status",     "resource",
		"description", "public_key", "key_name",  "pathway",	 "",	       "cwd",
	};
	size_t i;

	for (i = 0; i < sizeof(must) / sizeof(must[0]); i++)
		if (!hive_redactor_key_is_secret(fx->bare, must[i]))
			fail_msg("%s must be a secret's key name", must[i]);
	for (i = 0; i < sizeof(must_not) / sizeof(must_not[0]); i++)
		if (hive_redactor_key_is_secret(fx->bare, must_not[i]))
			fail_msg("%s must not be a secret's key name", must_not[i]);
}

/* URL credentials in every form RFC 3986's userinfo allows, with a password: the userinfo
 * ends at the LAST '@' of the authority. A user without a password is left alone. */
static void test_redact_url_credentials_rfc3986(void **state)
{
	struct redact_fx *fx = *state;

	redacts(fx->bare, "redis://:s3cret-pw@cache:6379/0",
		"redis://[REDACTED:url_credentials]@cache:6379/0", 1, "s3cret-pw");
	redacts(fx->bare, "https://deploy:p@ss@w0rd@git.example.com/acme/app.git",
		"https://[REDACTED:url_credentials]@git.example.com/acme/app.git", 1, "w0rd");
	redacts(fx->bare, "amqp://user%3Asecretpw@mq/vhost",
		"amqp://[REDACTED:url_credentials]@mq/vhost", 1, "secretpw");
	redacts(fx->bare, "postgres://app:pa%40ss%2Fw@db/x?sslmode=require",
		"postgres://[REDACTED:url_credentials]@db/x?sslmode=require", 1, "pa%40ss");
	redacts(fx->bare, "http://u:pw@[::1]:8080/",
		"http://[REDACTED:url_credentials]@[::1]:8080/", 1, "u:pw");
	redacts(fx->bare, "two: https://a:b@h1 and ftp://:c@h2",
		"two: https://[REDACTED:url_credentials]@h1 and "
		"ftp://[REDACTED:url_credentials]@h2",
		2, ":c@");
	/* no password: a user name, not a secret */
	redacts(fx->bare, "ssh://git@github.com/acme/app", "ssh://git@github.com/acme/app", 0,
		NULL);
	redacts(fx->bare, "https://host:8443/a@b", "https://host:8443/a@b", 0, NULL);
	redacts(fx->bare, "https://user@host:8443/x", "https://user@host:8443/x", 0, NULL);
}

/* NAME=VALUE, NAME:=VALUE and NAME: VALUE in free text, when NAME is a secret key name. */
static void test_redact_secret_assignment(void **state)
{
	struct redact_fx *fx = *state;

	redacts(fx->bare, "mysql -u root --password=hunter2 -h db",
		"mysql -u root --password=[REDACTED:secret_assignment] -h db", 1, "hunter2");
	redacts(fx->bare, "Server=db;User Id=sa;Password=Tr0ub4dor;",
		"Server=db;User Id=sa;Password=[REDACTED:secret_assignment];", 1, "Tr0ub4dor");
	redacts(fx->bare, "\"db_password:=s3cretPassw0rd\": not valid JSON",
		"\"db_password:=[REDACTED:secret_assignment]\": not valid JSON", 1,
		"s3cretPassw0rd");
	redacts(fx->bare, "Authorization: Bearer abc.def-ghi",
		"Authorization: [REDACTED:secret_assignment]", 1, "abc.def");
	redacts(fx->bare, "login with pwd='two words' now",
		"login with pwd='[REDACTED:secret_assignment]' now", 1, "two words");
	redacts(fx->bare, "auth: [REDACTED] stays", "auth: [REDACTED] stays", 0, NULL);
	/* Regression (fuzz_redact): a value that ends inside another rule's match; the two
	 * are replaced as one, so the private key's body does not survive */
	redacts(fx->bare,
		"yauthorization: \\nk-----BEGIN RSA PRIVATE KEY-----\nMIIBOgIBAAJBAKj34GkxFhD9\n"
		"-----END RSA PRIVATE KEY-----enn",
		"yauthorization: [REDACTED:secret_assignment]", 1, "MIIBOgIBAAJBAKj34GkxFhD9");
	/* Regression (fuzz_redact): a Slack token that runs into a URL's scheme; the URL's
	 * password goes with it */
	redacts(fx->bare,
		"xoxb-1234567890-abcdefghijKLMNhttps://deploy:Pw7Kq2Lz9Xc4@git.example.com/app",
		"[REDACTED:slack_token]@git.example.com/app", 1, "Pw7Kq2Lz9Xc4");
	/* Regression (fuzz_redact): a replacement's ':' is no password separator, so what was
	 * redacted once is left as it is (and the gate finds nothing in it) */
	redacts(fx->bare,
		"httpz://ab=-----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE "
		"KEY-----~obca@x",
		"httpz://ab=[REDACTED:private_key]~obca@x", 1, "MIIB");
	/* Regression (fuzz_redact): a redact.keys name holds none of the built-in names' stems,
	 * and its assignment is found all the same */
	redacts(fx->r, "login session_cookie:abc123 ok",
		"login session_cookie:[REDACTED:secret_assignment] ok", 1, "abc123");
	/* a backslash inside a value (decoded text) is part of it: no tail leaks */
	redacts(fx->bare, "password=ab\\cd x", "password=[REDACTED:secret_assignment] x", 1, "cd");
	/* not secret names */
	redacts(fx->bare, "author=jane passenger=3 bypass=yes key=value",
		"author=jane passenger=3 bypass=yes key=value", 0, NULL);
	/* in JSON text a replacement never takes a quote or a backslash away */
	redacts(fx->bare, "{\"a\":\"password=\",\"b\":\"c\"}", "{\"a\":\"password=\",\"b\":\"c\"}",
		0, NULL);
	redacts(fx->bare, "{\"cmd\":\"x --password=\\\"pw\\\"\"}",
		"{\"cmd\":\"x --password=\\\"pw\\\"\"}", 0, NULL);
}

/* Patterns and key names never touch the keys hive defines, nor its ids, enums and hashes:
 * a pattern matching "status" or any 32 hex digits rewrites user values only. */
static void test_redact_details_fixed_keys(void **state)
{
	struct hive_config cfg;
	struct hive_redactor *r = NULL;
	struct hive_err err = {0};
	cJSON *details, *git;
	char *got;

	(void)state;
	unit_config_from(&cfg, "redact:\n  patterns: ['status', '[0-9a-f]{32}', 'K8s', 'api']\n");
	assert_int_equal(hive_redactor_new(&cfg, &r, &err), HIVE_OK);
	details = unit_json("{\"resource\":\"api\",\"action\":\"update\",\"platform\":\"K8s\","
			    "\"configuration\":{\"status\":\"status ok\",\"build\":\"" HEX40 "\"},"
			    "\"status\":\"success\"}");
	assert_int_equal(hive_redact(r, details, HIVE_REDACT_DETAILS), 3);
	got = unit_print(details);
	assert_string_equal(got,
			    "{\"resource\":\"api\",\"action\":\"update\",\"platform\":\"K8s\","
			    "\"configuration\":{\"[REDACTED:pattern]\":\"[REDACTED:pattern] ok\","
			    "\"build\":\"[REDACTED:pattern]\"},\"status\":\"success\"}");
	cJSON_free(got);
	git = unit_json("{\"commit\":\"" HEX40 "\",\"branch\":\"main\",\"dirty\":false,"
			"\"tag\":null,\"remote\":\"https://x/" HEX40 "\"}");
	assert_int_equal(hive_redact(r, git, HIVE_REDACT_CONTEXT), 1);
	got = unit_print(git);
	assert_string_equal(got, "{\"commit\":\"" HEX40 "\",\"branch\":\"main\",\"dirty\":false,"
				 "\"tag\":null,\"remote\":\"https://x/[REDACTED:pattern]\"}");
	/* and the gate's scan sees what the writer would change, nothing else */
	assert_int_equal(hive_redactor_scan_json(r, git, HIVE_REDACT_CONTEXT, NULL, NULL), 0);
	cJSON_free(got);
	cJSON_Delete(details);
	cJSON_Delete(git);
	hive_redactor_free(r);
	hive_config_free(&cfg);
}

struct found {
	int n;
	char rule[64], key[64];
	int in_key;
};

static void note_found(void *arg, const char *rule, const char *key, int in_key)
{
	struct found *f = arg;

	if (!f->n++) {
		snprintf(f->rule, sizeof(f->rule), "%s", rule);
		snprintf(f->key, sizeof(f->key), "%s", key ? key : "");
		f->in_key = in_key;
	}
}

/* The gate's scan looks at strings decoded: a token written with JSON escapes is found. */
static void test_redactor_scan_json_decoded(void **state)
{
	struct redact_fx *fx = *state;
	cJSON *ev = unit_json("{\"seq\":2,\"event_type\":\"pipeline_updated\","
			      "\"details\":{\"resource\":\"api\",\"configuration\":{\"note\":"
			      "\"gh\\u0070_" GH36 "\",\"url\":\"https:\\/\\/u:p@h\","
			      "\"db\":{\"password\":\"x\"}}},\"git\":{\"commit\":\"" HEX40 "\"}}");
	struct found f = {0};

	assert_null(
		hive_redactor_find(fx->bare, "gh\\u0070_" GH36, strlen("gh\\u0070_" GH36), NULL));
	assert_int_equal(hive_redactor_scan_event(fx->bare, ev, note_found, &f), 3);
	assert_string_equal(f.rule, "github_token");
	assert_string_equal(f.key, "note");
	assert_int_equal(f.in_key, 0);
	cJSON_Delete(ev);
}

/* Ids are refused, not rewritten: hive_secret_shape says which built-in rule they match. */
static void test_secret_shape_for_ids(void **state)
{
	(void)state;
	assert_string_equal(hive_secret_shape("w"
					      "ghp_" GH36,
					      41),
			    "github_token");
	assert_string_equal(hive_secret_shape("AKIAIOSFODNN7EXAMPLE", 20), "aws_access_key");
	assert_string_equal(hive_secret_shape("eyJhbGciOi.eyJzdWIiOi.x", 23), "jwt");
	assert_null(hive_secret_shape("devops-worker", 13));
	assert_null(hive_secret_shape("gh-8812-1", 9));
	assert_null(hive_secret_shape("20250115T103000Z-0a1b2c3d", 25));
}

/* Diagnostics and whole texts are scrubbed with the built-in rules. */
static void test_redact_message_and_buf(void **state)
{
	char msg[256];
	struct hive_buf b = {0};

	(void)state;
	snprintf(msg, sizeof(msg), "unknown option --ghp_%s (see --help)", GH36);
	assert_int_equal(hive_redact_message(msg, sizeof(msg)), 1);
	assert_string_equal(msg, "unknown option --[REDACTED:github_token] (see --help)");
	snprintf(msg, sizeof(msg), "\"db_password:=s3cretPassw0rd\": the value after := is bad");
	assert_int_equal(hive_redact_message(msg, sizeof(msg)), 1);
	assert_null(strstr(msg, "s3cretPassw0rd"));
	snprintf(msg, sizeof(msg), "details.action: \"destroy\" is not one of create");
	assert_int_equal(hive_redact_message(msg, sizeof(msg)), 0);
	assert_string_equal(msg, "details.action: \"destroy\" is not one of create");

	hive_buf_puts(&b,
		      "- Commit: " HEX40 "\n- Remote: https://u:pw@h/x\n- Note: ghp_" GH36 "\n");
	assert_int_equal(hive_redact_buf(&b), 2);
	assert_string_equal(b.p, "- Commit: " HEX40
				 "\n- Remote: https://[REDACTED:url_credentials]@h/x\n"
				 "- Note: [REDACTED:github_token]\n");
	hive_buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		R(test_redact_token_shapes),
		R(test_redact_leaves_ordinary_values),
		R(test_redact_key_names),
		R(test_redact_configured_keys),
		R(test_redact_context_mode),
		R(test_redact_key_name_corpus),
		R(test_redact_url_credentials_rfc3986),
		R(test_redact_secret_assignment),
		cmocka_unit_test(test_redact_details_fixed_keys),
		R(test_redactor_scan_json_decoded),
		cmocka_unit_test(test_secret_shape_for_ids),
		cmocka_unit_test(test_redact_message_and_buf),
		R(test_redact_secret_named_key_holding_a_token),
		R(test_redactor_find),
		R(test_redactor_find_unterminated),
		R(test_redactor_find_every_shape),
		cmocka_unit_test(test_redact_patterns_pcre2_syntax),
		cmocka_unit_test(test_redact_match_limit),
		R(test_redact_utf8),
		R(test_redactor_find_nul_bytes),
	};

	return cmocka_run_group_tests_name("redact", tests, NULL, NULL);
}
