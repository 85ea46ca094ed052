/* test_config.c - unit tests for lib/config.c: .hive.yml parsing with FILE:LINE:COL errors, and
 * worker front matter */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "unit.h"

#include <cjson/cJSON.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../lib/config.h"

/* --- helpers ------------------------------------------------------------------------ */

/* Parse text as ".hive.yml"; the buffer handed over is an exact-size heap copy with no
 * NUL after it, so a parser that reads past len shows up under ASan and valgrind. */
static int parse(struct hive_config *cfg, const char *text, struct hive_err *err)
{
	size_t len = strlen(text);
	char *copy = malloc(len ? len : 1);
	int rc;

	assert_non_null(copy);
	memcpy(copy, text, len);
	hive_config_init(cfg);
	rc = hive_config_parse(cfg, ".hive.yml", copy, len, err);
	free(copy);
	return rc;
}

/* text must be refused with exactly `want` (".hive.yml:LINE:COL: message"). */
static void config_bad(const char *text, const char *want)
{
	struct hive_config cfg;
	struct hive_err err = {0};
	int rc = parse(&cfg, text, &err);

	if (rc != HIVE_EUSAGE)
		fail_msg("accepted (rc %d): %s", rc, text);
	assert_int_equal(err.status, HIVE_EUSAGE);
	if (strcmp(err.msg, want))
		fail_msg("for %s\n  got:  %s\n  want: %s", text, err.msg, want);
	hive_config_free(&cfg);
}

/* Like config_bad for messages with a system-dependent tail: compare the prefix only. */
static void config_bad_prefix(const char *text, const char *want_prefix)
{
	struct hive_config cfg;
	struct hive_err err = {0};
	int rc = parse(&cfg, text, &err);

	if (rc != HIVE_EUSAGE)
		fail_msg("accepted (rc %d): %s", rc, text);
	if (strncmp(err.msg, want_prefix, strlen(want_prefix)) ||
	    strlen(err.msg) <= strlen(want_prefix))
		fail_msg("for %s\n  got:  %s\n  want: %s...", text, err.msg, want_prefix);
	hive_config_free(&cfg);
}

/* Does a compiled redact.patterns entry match s (PCRE2's default limits)? */
static int matches(const pcre2_code *re, const char *s)
{
	pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
	int rc;

	assert_non_null(md);
	rc = pcre2_match(re, (PCRE2_SPTR)s, strlen(s), 0, 0, md, NULL);
	pcre2_match_data_free(md);
	if (rc < 0 && rc != PCRE2_ERROR_NOMATCH)
		fail_msg("pcre2_match on %s: error %d", s, rc);
	return rc >= 0;
}

static void config_ok(const char *text, struct hive_config *cfg)
{
	struct hive_err err = {0};
	int rc = parse(cfg, text, &err);

	if (rc != HIVE_OK)
		fail_msg("refused (%s): %s", err.msg, text);
	assert_int_equal(err.status, HIVE_OK);
}

static void assert_strv(const struct hive_strv *sv, const char *const *want, size_t n)
{
	size_t i;

	assert_int_equal(sv->n, n);
	for (i = 0; i < n; i++)
		assert_string_equal(sv->v[i], want[i]);
	if (n)
		assert_null(sv->v[n]);
}

static void assert_unset(const struct hive_config *cfg)
{
	assert_null(cfg->path);
	assert_null(cfg->root);
	assert_null(cfg->worker);
	assert_null(cfg->workers_dir);
	assert_int_equal(cfg->git_dirty, -1);
	assert_int_equal(cfg->types.n, 0);
	assert_int_equal(cfg->platforms.n, 0);
	assert_int_equal(cfg->redact_keys.n, 0);
	assert_int_equal(cfg->npatterns, 0);
	assert_int_equal(cfg->require_clean_tree.n, 0);
	assert_int_equal(cfg->require_ci.n, 0);
	assert_int_equal(cfg->require_tags.n, 0);
	assert_int_equal(cfg->require_events.n, 0);
	assert_int_equal(cfg->require_rollback, -1);
	assert_int_equal(cfg->max_session_minutes, -1);
	assert_int_equal(cfg->require_signed, -1);
	assert_null(cfg->signing_key);
	assert_null(cfg->allowed_signers);
}

/* --- a full, valid configuration (SPEC 2.4, every key) ------------------------------ */

static const char FULL[] =
	"root: Docs/hive-mind\n"
	"worker: devops-worker            # default worker name\n"
	"workers_dir: .claude/agents      # agent definitions\n"
	"git:\n"
	"  dirty: true\n"
	"events:\n"
	"  types: [cost_reviewed]         # event types added to the built-in ones\n"
	"  platforms: [OnPrem, Hetzner]   # platforms added to AWS, GCP, Azure, Docker, K8s\n"
	"redact:\n"
	"  keys: [password, secret, token]            # added to the built-in key names\n"
	"  patterns: ['corp_[A-Za-z0-9]{32}']         # PCRE2 patterns\n"
	"policy:                          # checked by hive-check\n"
	"  require_clean_tree: [infrastructure_provisioned, deployment_configured]\n"
	"  require_ci: [deployment_configured]\n"
	"  require_tags: [team, cost-center]          # details.configuration.tags keys\n"
	"  require_events: [security_hardened]        # a completed session must contain each\n"
	"  require_rollback: true                     # deployment_configured needs rollback\n"
	"  max_session_minutes: 10                    # session_started to session_completed\n"
	"  require_signed: 2                          # valid signers of a completed session\n"
	"trust:\n"
	"  signing_key: .keys/hive                    # an SSH private key (a path)\n"
	"  allowed_signers: .hive/allowed_signers     # git's allowed_signers format\n";

static void test_config_full(void **state)
{
	static const char *types[] = {"cost_reviewed"};
	static const char *platforms[] = {"OnPrem", "Hetzner"};
	static const char *keys[] = {"password", "secret", "token"};
	static const char *clean[] = {"infrastructure_provisioned", "deployment_configured"};
	static const char *ci[] = {"deployment_configured"};
	static const char *tags[] = {"team", "cost-center"};
	static const char *events[] = {"security_hardened"};
	struct hive_config cfg;

	(void)state;
	config_ok(FULL, &cfg);
	assert_null(cfg.path); /* parse, not load: no file */
	assert_string_equal(cfg.root, "Docs/hive-mind");
	assert_string_equal(cfg.worker, "devops-worker");
	assert_string_equal(cfg.workers_dir, ".claude/agents");
	assert_int_equal(cfg.git_dirty, 1);
	assert_strv(&cfg.types, types, 1);
	assert_strv(&cfg.platforms, platforms, 2);
	assert_strv(&cfg.redact_keys, keys, 3);
	assert_int_equal(cfg.npatterns, 1);
	assert_string_equal(cfg.patterns[0].source, "corp_[A-Za-z0-9]{32}");
	/* compiled by PCRE2 */
	assert_true(matches(cfg.patterns[0].re, "x corp_0123456789abcdefABCDEF0123456789 y"));
	assert_false(matches(cfg.patterns[0].re, "corp_short"));
	assert_strv(&cfg.require_clean_tree, clean, 2);
	assert_strv(&cfg.require_ci, ci, 1);
	assert_strv(&cfg.require_tags, tags, 2);
	assert_strv(&cfg.require_events, events, 1);
	assert_int_equal(cfg.require_rollback, 1);
	assert_int_equal(cfg.max_session_minutes, 10);
	assert_int_equal(cfg.require_signed, 2);
	assert_string_equal(cfg.signing_key, ".keys/hive");
	assert_string_equal(cfg.allowed_signers, ".hive/allowed_signers");

	/* free resets to "unset"; freeing twice is harmless */
	hive_config_free(&cfg);
	assert_unset(&cfg);
	hive_config_free(&cfg);
	hive_config_free(NULL);
}

static void test_config_other_forms(void **state)
{
	static const char *two[] = {"a_1", "b"};
	struct hive_config cfg;

	(void)state;
	/* block lists, false spelled differently, quoted strings */
	config_ok("git:\n  dirty: no\n"
		  "events:\n  types:\n    - a_1\n    - b\n"
		  "policy:\n  require_rollback: off\n  max_session_minutes: 999999\n"
		  "root: \"quoted: with colon\"\n"
		  "worker: 'w'\n",
		  &cfg);
	assert_int_equal(cfg.git_dirty, 0);
	assert_strv(&cfg.types, two, 2);
	assert_int_equal(cfg.require_rollback, 0);
	assert_int_equal(cfg.max_session_minutes, 999999);
	assert_string_equal(cfg.root, "quoted: with colon");
	assert_string_equal(cfg.worker, "w");
	hive_config_free(&cfg);

	/* YAML booleans are case-insensitive words */
	config_ok("git: {dirty: True}\npolicy: {require_rollback: YES}\n", &cfg);
	assert_int_equal(cfg.git_dirty, 1);
	assert_int_equal(cfg.require_rollback, 1);
	hive_config_free(&cfg);

	/* empty lists and empty sections are fine */
	config_ok("events:\n  types: []\nredact: {}\npolicy: {}\n", &cfg);
	assert_int_equal(cfg.types.n, 0);
	assert_int_equal(cfg.npatterns, 0);
	hive_config_free(&cfg);
}

static void test_config_empty(void **state)
{
	static const char *empties[] = {"",	 "\n",	       "# only a comment\n",
					"---\n", "---\n...\n", "~\n"};
	struct hive_config cfg;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(empties) / sizeof(empties[0]); i++) {
		config_ok(empties[i], &cfg);
		assert_unset(&cfg);
		hive_config_free(&cfg);
	}
}

/* --- errors: each HIVE_EUSAGE with an exact FILE:LINE:COL ---------------------------- */

static void test_config_unknown_keys(void **state)
{
	(void)state;
	config_bad("root: x\nfoo: 1\n", ".hive.yml:2:1: unknown key \"foo\"");
	config_bad("policy:\n  require_ci: []\n  foo: 1\n",
		   ".hive.yml:3:3: unknown key \"policy.foo\"");
	config_bad("git:\n  dirt: true\n", ".hive.yml:2:3: unknown key \"git.dirt\"");
	config_bad("events: {types: [], kinds: []}\n",
		   ".hive.yml:1:21: unknown key \"events.kinds\"");
	/* keys are case-sensitive */
	config_bad("Root: x\n", ".hive.yml:1:1: unknown key \"Root\"");
}

static void test_config_wrong_types(void **state)
{
	(void)state;
	config_bad("root: [a]\n", ".hive.yml:1:7: root: expected a string");
	config_bad("root: {a: b}\n", ".hive.yml:1:7: root: expected a string");
	config_bad("worker:\n", ".hive.yml:1:8: worker: expected a string");
	config_bad("git:\n  dirty: maybe\n", ".hive.yml:2:10: git.dirty: expected true or false");
	config_bad("git:\n  dirty: \"true\"\n",
		   ".hive.yml:2:10: git.dirty: expected true or false");
	config_bad("git:\n  dirty: 1\n", ".hive.yml:2:10: git.dirty: expected true or false");
	config_bad("policy:\n  require_signed: 0\n",
		   ".hive.yml:2:19: policy.require_signed: expected a positive whole number");
	config_bad("trust:\n  signing_key: [a]\n",
		   ".hive.yml:2:16: trust.signing_key: expected a string");
	config_bad("trust:\n  allowed_signers:\n",
		   ".hive.yml:2:19: trust.allowed_signers: expected a string");
	config_bad("trust:\n  signers: x\n", ".hive.yml:2:3: unknown key \"trust.signers\"");
	config_bad("policy:\n  max_session_minutes: -3\n",
		   ".hive.yml:2:24: policy.max_session_minutes: expected a positive whole number");
	config_bad("policy:\n  max_session_minutes: ten\n",
		   ".hive.yml:2:24: policy.max_session_minutes: expected a positive whole number");
	config_bad("policy:\n  max_session_minutes: \"10\"\n",
		   ".hive.yml:2:24: policy.max_session_minutes: expected a positive whole number");
	config_bad("policy:\n  max_session_minutes: 1.5\n",
		   ".hive.yml:2:24: policy.max_session_minutes: expected a positive whole number");
	config_bad("policy:\n  max_session_minutes: 0\n",
		   ".hive.yml:2:24: policy.max_session_minutes: expected a positive whole number");
	config_bad("policy:\n  max_session_minutes: 10m\n",
		   ".hive.yml:2:24: policy.max_session_minutes: expected a positive whole number");
	config_bad("policy:\n  require_rollback: [true]\n",
		   ".hive.yml:2:21: policy.require_rollback: expected true or false");
	config_bad("events:\n  types: cost_reviewed\n",
		   ".hive.yml:2:10: events.types: expected a list of strings");
	config_bad("events:\n  types: [[a]]\n",
		   ".hive.yml:2:11: events.types: expected a non-empty string");
	config_bad("redact:\n  keys: [ok, '']\n",
		   ".hive.yml:2:14: redact.keys: expected a non-empty string");
	config_bad("policy:\n  require_tags: [team, ~]\n",
		   ".hive.yml:2:24: policy.require_tags: expected a non-empty string");
	config_bad("git: true\n", ".hive.yml:1:6: git: expected a mapping");
	config_bad("policy: [a]\n", ".hive.yml:1:9: policy: expected a mapping");
	config_bad("- root\n- worker\n", ".hive.yml:1:1: expected a mapping");
	config_bad("just a string\n", ".hive.yml:1:1: expected a mapping");
	config_bad("[a]: b\n", ".hive.yml:1:1: expected a string key");
}

static void test_config_duplicate_key(void **state)
{
	(void)state;
	config_bad("root: a\nworker: w\nroot: b\n", ".hive.yml:3:1: duplicate key \"root\"");
	config_bad("policy:\n  require_ci: [a]\n  require_ci: [b]\n",
		   ".hive.yml:3:3: duplicate key \"require_ci\"");
	config_bad("{root: a, root: b}\n", ".hive.yml:1:11: duplicate key \"root\"");
}

static void test_config_bad_regex(void **state)
{
	(void)state;
	config_bad("redact:\n  patterns: ['a(']\n",
		   ".hive.yml:2:14: redact.patterns: \"a(\" is not a valid PCRE2 pattern: missing "
		   "closing parenthesis at offset 2");
	config_bad("redact:\n  patterns: ['ok', 'x[']\n",
		   ".hive.yml:2:20: redact.patterns: \"x[\" is not a valid PCRE2 pattern: missing "
		   "terminating ] for character class at offset 2");
	config_bad("redact:\n  patterns:\n    - good\n    - '*{'\n",
		   ".hive.yml:4:7: redact.patterns: \"*{\" is not a valid PCRE2 pattern: "
		   "quantifier does not follow a repeatable item at offset 0");
	/* \C would match one byte of a character */
	config_bad("redact:\n  patterns: ['a\\Cb']\n",
		   ".hive.yml:2:14: redact.patterns: \"a\\\\Cb\" is not a valid PCRE2 pattern: "
		   "using \\C is disabled by the application at offset 3");
}

/* Was "pathological redact.patterns refused" (fuzz_config): glibc's regcomp took gigabytes
 * on stacked `+` and nested counts and seconds to minutes on a repeated empty match, so a
 * hand-written analyser refused those shapes, and backreferences, before regcomp saw them.
 * PCRE2 replaced both on purpose: it refuses what it cannot compile small (a 64 KiB
 * compiled-size bound: nested counts) or what is not its syntax (stacked quantifiers) in
 * microseconds, and compiles the rest, whose matching the redactor bounds with its match,
 * depth and heap limits (test_redact.c: a match limit reached redacts the whole value). */
static void test_config_patterns_pcre2(void **state)
{
	static const char *const accepted[] = {
		"(a*){1,255}", "((((((a*)*)*)*)*)*){1,255}",
		"(a|b*)+",     "(x|)*",
		"(a?){2}",     "(^)*",
		"(a)\\1",      "^(a+)+$",
	};
	struct hive_config cfg;
	char text[256];
	size_t i;

	(void)state;
	config_bad("redact:\n  keys: [pin]\n  patterns: [ \"(a|b)++++++++++++++++++++++++++++++"
		   "++++++++++++++++++++++++b+c\"]\n",
		   ".hive.yml:3:15: redact.patterns: \"(a|b)+++++++++++++++++++++++++++++++++++++"
		   "+++++++++++++++++b+c\" is not a valid PCRE2 pattern: quantifier does not "
		   "follow a repeatable item at offset 7");
	config_bad("redact:\n  patterns: ['((a{99}){99}){99}']\n",
		   ".hive.yml:2:14: redact.patterns: \"((a{99}){99}){99}\" is not a valid PCRE2 "
		   "pattern: regular expression is too large at offset 17");
	config_bad_prefix(
		"redact:\n  patterns: ['x{2}{2}{2}{2}{2}{2}{2}{2}{2}{2}{2}{2}{2}{2}{2}']\n",
		".hive.yml:2:14: redact.patterns: \"x{2}{2}");
	config_bad("redact:\n  patterns: ['a**']\n",
		   ".hive.yml:2:14: redact.patterns: \"a**\" is not a valid PCRE2 pattern: "
		   "quantifier does not follow a repeatable item at offset 2");
	for (i = 0; i < sizeof(accepted) / sizeof(accepted[0]); i++) {
		snprintf(text, sizeof(text), "redact:\n  patterns: ['%s']\n", accepted[i]);
		hive_config_init(&cfg);
		config_ok(text, &cfg);
		assert_int_equal(cfg.npatterns, 1);
		hive_config_free(&cfg);
	}
	/* what real token patterns look like passes; POSIX classes are PCRE2 syntax too */
	hive_config_init(&cfg);
	config_ok("redact:\n  patterns: ['corp_[A-Za-z0-9]{32}', '(AKIA|ASIA)[A-Z0-9]{16}',"
		  " '[[:alnum:]]{40}', 'tok-[a-f0-9]{8}(-[a-f0-9]{4}){3}', '(x|y){1,1000}',"
		  " '^(ab+)+$', 'a+?', '(foo)?bar', '[]*+]+', 'a\\*+', '\\bkey-\\w{8}\\b',"
		  " 'caf\u00e9-[0-9]+']\n",
		  &cfg);
	assert_int_equal(cfg.npatterns, 12);
	assert_true(matches(cfg.patterns[10].re, "a key-abcd1234 b"));
	assert_true(matches(cfg.patterns[11].re, "caf\xc3\xa9-42"));
	hive_config_free(&cfg);
	config_bad(
		"redact:\n  patterns: ['((((']\n",
		".hive.yml:2:14: redact.patterns: \"((((\" is not a valid PCRE2 pattern: missing "
		"closing parenthesis at offset 4");
}

static void test_config_bad_names(void **state)
{
	(void)state;
	config_bad(
		"events:\n  types: [ok_type, Bad-Type]\n",
		".hive.yml:2:20: events.types: \"Bad-Type\" is not a valid event type (lowercase "
		"letters, digits and _, starting with a letter)");
	config_bad("events:\n  types: [9lives]\n",
		   ".hive.yml:2:11: events.types: \"9lives\" is not a valid event type (lowercase "
		   "letters, digits and _, starting with a letter)");
	config_bad("events:\n  types: [_x]\n",
		   ".hive.yml:2:11: events.types: \"_x\" is not a valid event type (lowercase "
		   "letters, digits and _, starting with a letter)");
	config_bad("events:\n  platforms: [OnPrem, 'On Prem']\n",
		   ".hive.yml:2:23: events.platforms: \"On Prem\" is not a valid platform "
		   "(letters, digits, _ and -)");
}

static void test_config_syntax_errors(void **state)
{
	(void)state;
	config_bad("root: a\n  b: c\n",
		   ".hive.yml:2:4: mapping values are not allowed in this context");
	config_bad("root: [a\n",
		   ".hive.yml:2:1: did not find expected ',' or ']' while parsing a flow sequence");
	config_bad("root: a\nworker: \"x\n",
		   ".hive.yml:3:1: found unexpected end of stream while scanning a quoted scalar");
	config_bad("git:\n\tdirty: true\n",
		   ".hive.yml:2:1: found character that cannot start any token while scanning for "
		   "the next token");
}

/* Only the first YAML document would be read: a second one must not be silently ignored. */
static void test_config_second_document(void **state)
{
	(void)state;
	config_bad("root: a\n---\nroot: b\n",
		   ".hive.yml:2:1: a second YAML document (only one is allowed)");
	config_bad("root: a\n...\n---\n[\n",
		   ".hive.yml:5:1: did not find expected node content while parsing a flow node");
}

/* A failed parse after some fields were set leaks nothing (checked under ASan/valgrind). */
static void test_config_error_after_fields(void **state)
{
	(void)state;
	config_bad("root: a\nworker: b\nevents:\n  types: [x]\nredact:\n  patterns: [a, b]\n"
		   "policy:\n  require_ci: [c]\n  nope: 1\n",
		   ".hive.yml:9:3: unknown key \"policy.nope\"");
	config_bad("redact:\n  patterns: [a, b, 'c(', d]\n",
		   ".hive.yml:2:20: redact.patterns: \"c(\" is not a valid PCRE2 pattern: missing "
		   "closing parenthesis at offset 2");
}

/* --- hive_config_load --------------------------------------------------------------- */

static void test_config_load(void **state)
{
	const char *dir = *state;
	char *p = unit_pathf("%s/hive.yml", dir), *missing = unit_pathf("%s/nope.yml", dir), *want;
	struct hive_config cfg;
	struct hive_err err = {0};

	unit_write_file(p, FULL);
	hive_config_init(&cfg);
	assert_int_equal(hive_config_load(&cfg, p, 0, &err), HIVE_OK);
	assert_string_equal(cfg.path, p);
	assert_string_equal(cfg.root, "Docs/hive-mind");
	assert_int_equal(cfg.max_session_minutes, 10);
	hive_config_free(&cfg);

	/* errors name the file as given */
	unit_write_file(p, "root: x\nfoo: 1\n");
	hive_config_init(&cfg);
	assert_int_equal(hive_config_load(&cfg, p, 1, &err), HIVE_EUSAGE);
	want = unit_pathf("%s:2:1: unknown key \"foo\"", p);
	assert_string_equal(err.msg, want);
	free(want);
	hive_config_free(&cfg);

	/* a missing optional file: OK, nothing set */
	hive_config_init(&cfg);
	err.status = 99;
	assert_int_equal(hive_config_load(&cfg, missing, 1, &err), HIVE_OK);
	assert_int_equal(err.status, HIVE_OK);
	assert_unset(&cfg);
	hive_config_free(&cfg);

	/* a missing required file (--config FILE): HIVE_EUSAGE naming it */
	hive_config_init(&cfg);
	assert_int_equal(hive_config_load(&cfg, missing, 0, &err), HIVE_EUSAGE);
	assert_int_equal(err.status, HIVE_EUSAGE);
	want = unit_pathf("%s: No such file or directory", missing);
	assert_string_equal(err.msg, want);
	free(want);
	assert_unset(&cfg);
	hive_config_free(&cfg);

	/* a directory where the file should be is an error even when optional */
	hive_config_init(&cfg);
	assert_int_equal(hive_config_load(&cfg, dir, 1, &err), HIVE_EUSAGE);
	assert_int_equal(err.status, HIVE_EUSAGE);
	assert_non_null(strstr(err.msg, "not a regular file"));
	hive_config_free(&cfg);

	/* an empty file is fine */
	unit_write_file(p, "");
	hive_config_init(&cfg);
	assert_int_equal(hive_config_load(&cfg, p, 0, &err), HIVE_OK);
	assert_string_equal(cfg.path, p);
	assert_null(cfg.root);
	hive_config_free(&cfg);

	free(p);
	free(missing);
}

/* --- hive_worker_profile_parse ------------------------------------------------------ */

/* The front matter of seed/devops-worker.md, byte for byte, and the start of its body. */
static const char SEED_WORKER[] =
	"---\n"
	"name: devops-worker\n"
	"type: specialization\n"
	"description: Infrastructure, deployment, monitoring, and CI/CD pipeline specialist\n"
	"tools: [Bash, Read, Write, Edit, Grep, mcp__serena__search_for_pattern]\n"
	"priority: high\n"
	"protocols: [startup_protocol, logging_protocol, monitoring_protocol, "
	"completion_protocol]\n"
	"---\n"
	"\n"
	"# DevOps Worker - Infrastructure & Deployment Specialist\n"
	"\n"
	"---\n"
	"a horizontal rule in the body is not front matter: key: value\n";

static const char SEED_PROFILE[] =
	"{\"source\":\".claude/agents/devops-worker.md\",\"name\":\"devops-worker\","
	"\"type\":\"specialization\",\"description\":\"Infrastructure, deployment, monitoring, "
	"and CI/CD pipeline specialist\",\"priority\":\"high\",\"tools\":[\"Bash\",\"Read\","
	"\"Write\",\"Edit\",\"Grep\",\"mcp__serena__search_for_pattern\"],\"protocols\":["
	"\"startup_protocol\",\"logging_protocol\",\"monitoring_protocol\","
	"\"completion_protocol\"]}";

/* Parse text (as an exact-size heap copy, no NUL after it) from source "W.md". */
static int profile(const char *text, cJSON **out, struct hive_err *err)
{
	size_t len = strlen(text);
	char *copy = malloc(len ? len : 1);
	int rc;

	assert_non_null(copy);
	memcpy(copy, text, len);
	rc = hive_worker_profile_parse("W.md", copy, len, out, err);
	free(copy);
	return rc;
}

static void profile_is(const char *text, const char *want_json)
{
	struct hive_err err = {0};
	cJSON *out = NULL;
	char *got;
	int rc = profile(text, &out, &err);

	if (rc)
		fail_msg("refused: %s\n%s", err.msg, text);
	assert_non_null(out);
	got = cJSON_PrintUnformatted(out);
	if (strcmp(got, want_json))
		fail_msg("for %s\n  got:  %s\n  want: %s", text, got, want_json);
	cJSON_free(got);
	cJSON_Delete(out);
}

static void profile_bad(const char *text, const char *want)
{
	struct hive_err err = {0};
	cJSON *out = (cJSON *)1;
	int rc = profile(text, &out, &err);

	if (rc != HIVE_EUSAGE)
		fail_msg("accepted (rc %d): %s", rc, text);
	assert_null(out);
	if (strcmp(err.msg, want))
		fail_msg("for %s\n  got:  %s\n  want: %s", text, err.msg, want);
}

static void test_profile_seed(void **state)
{
	struct hive_err err = {0};
	cJSON *out = NULL;
	char *got;

	(void)state;
	assert_int_equal(hive_worker_profile_parse(".claude/agents/devops-worker.md", SEED_WORKER,
						   strlen(SEED_WORKER), &out, &err),
			 HIVE_OK);
	got = cJSON_PrintUnformatted(out);
	assert_string_equal(got, SEED_PROFILE);
	cJSON_free(got);
	cJSON_Delete(out);
}

/* The real file, as shipped in tests/fixtures (run from the top of the repository). */
static void test_profile_seed_fixture(void **state)
{
	static const char *candidates[] = {"tests/fixtures/devops-worker.md",
					   "../fixtures/devops-worker.md",
					   "../../tests/fixtures/devops-worker.md"};
	struct hive_err err = {0};
	char *buf = NULL, *got, *here, *path = NULL;
	size_t len = 0, i;
	cJSON *out = NULL;

	(void)state;
	for (i = 0; i < sizeof(candidates) / sizeof(candidates[0]) && !buf; i++)
		if (hive_read_file(AT_FDCWD, candidates[i], 0, 1 << 20, &buf, &len, &err) == 0)
			path = strdup(candidates[i]);
	if (!buf) {
		/* next to this source file */
		here = strdup(__FILE__);
		path = unit_pathf("%s/../fixtures/devops-worker.md", dirname(here));
		free(here);
		if (hive_read_file(AT_FDCWD, path, 0, 1 << 20, &buf, &len, &err))
			fail_msg("tests/fixtures/devops-worker.md not found (run from the top of "
				 "the repository): %s",
				 err.msg);
	}
	assert_int_equal(
		hive_worker_profile_parse(".claude/agents/devops-worker.md", buf, len, &out, &err),
		HIVE_OK);
	got = cJSON_PrintUnformatted(out);
	assert_string_equal(got, SEED_PROFILE);
	cJSON_free(got);
	cJSON_Delete(out);
	free(buf);
	free(path);
}

static void test_profile_forms(void **state)
{
	(void)state;
	/* `tools: Bash, Read` (Claude Code's comma string) becomes an array */
	profile_is("---\nname: w\ntools: Bash, Read\n---\n",
		   "{\"source\":\"W.md\",\"name\":\"w\",\"type\":null,\"description\":null,"
		   "\"priority\":null,\"tools\":[\"Bash\",\"Read\"],\"protocols\":null}");
	profile_is("---\ntools: Bash\n---\n",
		   "{\"source\":\"W.md\",\"name\":null,\"type\":null,\"description\":null,"
		   "\"priority\":null,\"tools\":[\"Bash\"],\"protocols\":null}");
	profile_is("---\ntools: ' Bash ,Read,  Grep ,'\n---\n",
		   "{\"source\":\"W.md\",\"name\":null,\"type\":null,\"description\":null,"
		   "\"priority\":null,\"tools\":[\"Bash\",\"Read\",\"Grep\"],\"protocols\":null}");
	/* block lists; unknown keys (model, color) are ignored; absent ones are null */
	profile_is(
		"---\nname: w\nmodel: sonnet\ncolor: blue\nprotocols:\n  - a\n  - b\n---\nbody\n",
		"{\"source\":\"W.md\",\"name\":\"w\",\"type\":null,\"description\":null,"
		"\"priority\":null,\"tools\":null,\"protocols\":[\"a\",\"b\"]}");
	/* CRLF line ends; a closing line of ... ; a closing line at the very end */
	profile_is("---\r\nname: w\r\ntools: Bash, Read\r\n---\r\nbody\r\n",
		   "{\"source\":\"W.md\",\"name\":\"w\",\"type\":null,\"description\":null,"
		   "\"priority\":null,\"tools\":[\"Bash\",\"Read\"],\"protocols\":null}");
	profile_is("---\nname: w\n...\n",
		   "{\"source\":\"W.md\",\"name\":\"w\",\"type\":null,\"description\":null,"
		   "\"priority\":null,\"tools\":null,\"protocols\":null}");
	profile_is("---\nname: w\n---",
		   "{\"source\":\"W.md\",\"name\":\"w\",\"type\":null,\"description\":null,"
		   "\"priority\":null,\"tools\":null,\"protocols\":null}");
	/* `name:` with no value is null */
	profile_is("---\nname:\ntype: t\n---\n",
		   "{\"source\":\"W.md\",\"name\":null,\"type\":\"t\",\"description\":null,"
		   "\"priority\":null,\"tools\":null,\"protocols\":null}");
}

static void test_profile_errors(void **state)
{
	(void)state;
	profile_bad("# DevOps Worker\n",
		    "W.md:1:1: no YAML front matter (the file must start with ---)");
	profile_bad("", "W.md:1:1: no YAML front matter (the file must start with ---)");
	profile_bad("---", "W.md:1:1: no YAML front matter (the file must start with ---)");
	profile_bad("\n---\nname: w\n---\n",
		    "W.md:1:1: no YAML front matter (the file must start with ---)");
	profile_bad("----\nname: w\n---\n",
		    "W.md:1:1: no YAML front matter (the file must start with ---)");
	/* unclosed */
	profile_bad("---\nname: w\n", "W.md:1:1: front matter is not closed by a --- line");
	profile_bad("---\nname: w\n--", "W.md:1:1: front matter is not closed by a --- line");
	profile_bad("---\nname: w\n----\n", "W.md:1:1: front matter is not closed by a --- line");
	profile_bad("---\nname: w", "W.md:1:1: front matter is not closed by a --- line");
	/* broken YAML inside: FILE:LINE with the opening --- as line 1 */
	profile_bad("---\nname: w\n  bad: y\n---\n",
		    "W.md:3:6: mapping values are not allowed in this context");
	profile_bad("---\nname: w\ntype: t\ntools: [a\n---\n",
		    "W.md:5:1: did not find expected ',' or ']' while parsing a flow sequence");
	profile_bad("---\r\nname: w\r\n  bad: y\r\n---\r\n",
		    "W.md:3:6: mapping values are not allowed in this context");
	/* wrong shapes */
	profile_bad("---\n---\n", "W.md:2:1: front matter is empty");
	profile_bad("---\n- a\n---\n", "W.md:2:1: front matter: expected a mapping");
	profile_bad("---\nname: [a]\n---\n", "W.md:2:7: name: expected a string");
	profile_bad("---\nname: w\ntools: {a: 1}\n---\n",
		    "W.md:3:8: tools: expected a list of strings");
	profile_bad("---\nname: w\nprotocols: [a, [b]]\n---\n",
		    "W.md:3:16: protocols: expected a list of strings");
}

#define T(f) cmocka_unit_test_setup_teardown(f, unit_setup_tmpdir, unit_teardown_tmpdir)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config_full),
		cmocka_unit_test(test_config_other_forms),
		cmocka_unit_test(test_config_empty),
		cmocka_unit_test(test_config_unknown_keys),
		cmocka_unit_test(test_config_wrong_types),
		cmocka_unit_test(test_config_duplicate_key),
		cmocka_unit_test(test_config_bad_regex),
		cmocka_unit_test(test_config_patterns_pcre2),
		cmocka_unit_test(test_config_bad_names),
		cmocka_unit_test(test_config_syntax_errors),
		cmocka_unit_test(test_config_second_document),
		cmocka_unit_test(test_config_error_after_fields),
		T(test_config_load),
		cmocka_unit_test(test_profile_seed),
		cmocka_unit_test(test_profile_seed_fixture),
		cmocka_unit_test(test_profile_forms),
		cmocka_unit_test(test_profile_errors),
	};

	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
