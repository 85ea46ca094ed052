/* redact.c - secret redaction: built-in token shapes, secret key names, redact.patterns */
#include "redact.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* A built-in token shape: a PCRE2 pattern (byte mode: every shape is ASCII) and the rule
 * name it redacts as. `group` > 0 redacts only that group. Before PCRE2 sees a string,
 * shape_candidates (one memchr pass per trigger byte) must name the shape, and `maybe`,
 * when there is one, must say yes: a second look that only pays for the shapes whose
 * pattern PCRE2 cannot anchor cheaply (tests/bench, README "Redaction"). */
struct shape {
	const char *rule;
	int (*maybe)(const char *s, size_t len);
	const char *regex;
	int group;
};

/* The first occurrence of lit in s[0..len), or NULL: memchr for its first byte, then a
 * compare (glibc's memmem sets up a two-way search on every call, too dear per line). */
static const char *find_lit(const char *s, size_t len, const char *lit, size_t n)
{
	const char *p = s, *end = s + len;

	while (n && (size_t)(end - p) >= n && (p = memchr(p, lit[0], (size_t)(end - p) - n + 1))) {
		if (!memcmp(p, lit, n))
			return p;
		p++;
	}
	return NULL;
}

/* "eyJ" and then ".eyJ": the two base64url JSON objects a JWT starts with. Without it,
 * PCRE2 tries the jwt pattern at every 'e' of a line holding "eyJ" anywhere. */
static int maybe_jwt(const char *s, size_t len)
{
	const char *p = find_lit(s, len, "eyJ", 3);

	return p && find_lit(p + 3, len - (size_t)(p + 3 - s), ".eyJ", 4);
}

/* scheme://userinfo@ with a password in the userinfo: after "://", a ':' (or "%3A") and
 * then an '@' before the authority ends ('/', '?', '#', space, quote). Without it, on a line
 * with "://" and an '@' (a git remote, an e-mail address), PCRE2 tries the url pattern at
 * every letter. */
static int maybe_url(const char *s, size_t len)
{
	const char *p = s, *end = s + len, *q;
	int colon;

	while ((p = find_lit(p, (size_t)(end - p), "://", 3))) {
		for (q = p + 3, colon = 0; q < end && !strchr("/?# \"\t\n\\", *q) && *q; q++) {
			if (*q == ':' ||
			    (*q == '%' && end - q > 2 && q[1] == '3' && (q[2] | 0x20) == 'a'))
				colon = 1;
			else if (*q == '@' && colon)
				return 1;
		}
		p += 3;
	}
	return 0;
}

static const struct shape shapes[] = {
	{"aws_access_key", NULL, "(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}", 0},
	{"github_token", NULL, "gh[pousr]_[A-Za-z0-9]{30,}", 0},
	{"github_pat", NULL, "github_pat_[A-Za-z0-9_]{22,}", 0},
	{"gitlab_token", NULL, "glpat-[A-Za-z0-9_-]{20,}", 0},
	{"slack_token", NULL, "xox[abposr]-[A-Za-z0-9-]{10,}", 0},
	{"private_key", NULL, "-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----[A-Za-z0-9+/=:,\\s\\\\-]*",
	 0},
	{"jwt", maybe_jwt, "eyJ[A-Za-z0-9_-]{5,}\\.eyJ[A-Za-z0-9_-]{5,}\\.[A-Za-z0-9_-]*", 0},
	/* RFC 3986 userinfo with a password: user:pass, :pass (no user), user%3Apass
	 * (percent-encoded); greedy to the LAST '@' of the authority, so a password holding an
	 * unencoded '@' goes whole. A bare user@ (git@host) has no password and stays; a
	 * userinfo never takes in a "[REDACTED" (whose ':' would read as a password's). */
	{"url_credentials", maybe_url,
	 "[A-Za-z][A-Za-z0-9+.-]*://((?:(?!\\[REDACTED)[^/?#\\s\"\\\\])*?"
	 "(?::|%3[Aa])(?:(?!\\[REDACTED)[^/?#\\s\"\\\\])*)@",
	 1},
};

/* The built-in secret key names (README "Redaction", man/hive.7 REDACTION). A key is cut into
 * lowercase words at '_', '-', '.', spaces and camelCase humps ("dbPassword" is db, password);
 * a name then matches as:
 *   PART  anywhere inside a word: "password" in dbpassword, passwords, password_hash;
 *   END   a whole word or the end of one: "token" in access_token, githubtoken, authToken,
 *         but not tokens or tokenizer; "auth" in auth, basic_auth, oauth, not author;
 *   WORDS these exact words in a row: "pass" in db_pass, not bypass, compass, passenger.
 * PLURAL lets an END name take an 's' (secrets). */
enum { PART = 1, END = 2, WORDS = 4, PLURAL = 8 };
static const struct secret_name {
	const char *name;
	int how;
} secret_names[] = {
	{"password", PART},
	{"passwd", PART},
	{"passphrase", PART},
	{"credential", PART},
	{"authorization", PART},
	{"secret", END | PLURAL},
	{"token", END},
	{"auth", END},
	{"pwd", END},
	{"apikey", END | PLURAL},
	{"privatekey", END | PLURAL},
	{"accesskey", END | PLURAL},
	{"pass", WORDS},
	{"api_key", WORDS},
	{"private_key", WORDS},
	{"access_key", WORDS},
};

struct hive_redactor {
	pcre2_code *re[N(shapes)];
	unsigned char state[N(shapes)]; /* 0 not compiled yet, 1 compiled, 2 failed (no memory) */
	const struct hive_config *cfg;
	pcre2_code *assign;	    /* the secret_assignment rule, compiled on first use */
	unsigned char assign_state; /* as state[] */
	pcre2_match_data *md;	    /* room for the whole match and one group */
	pcre2_match_context *mctx;  /* the limits of redact.h */
};

/* Shape i's expression, compiled on first use: most events never contain a shape's trigger,
 * and hive-emit's whole run is ~2 ms. NULL when it cannot be compiled (out of memory). */
static const pcre2_code *shape_re(struct hive_redactor *r, size_t i)
{
	int code;
	PCRE2_SIZE off;

	if (r->state[i] == 0) {
		r->re[i] = pcre2_compile((PCRE2_SPTR)shapes[i].regex, PCRE2_ZERO_TERMINATED, 0,
					 &code, &off, NULL);
		r->state[i] = r->re[i] ? 1 : 2;
	}
	return r->re[i];
}

int hive_redactor_new(const struct hive_config *cfg, struct hive_redactor **out,
		      struct hive_err *err)
{
	struct hive_redactor *r = calloc(1, sizeof(*r));

	*out = NULL;
	if (!r || !(r->md = pcre2_match_data_create(3, NULL)) ||
	    !(r->mctx = pcre2_match_context_create(NULL))) {
		hive_redactor_free(r);
		return hive_err_set(err, HIVE_EENV, "out of memory");
	}
	pcre2_set_match_limit(r->mctx, HIVE_REDACT_MATCH_LIMIT);
	pcre2_set_depth_limit(r->mctx, HIVE_REDACT_DEPTH_LIMIT);
	pcre2_set_heap_limit(r->mctx, HIVE_REDACT_HEAP_LIMIT);
	r->cfg = cfg;
	*out = r;
	return HIVE_OK;
}

void hive_redactor_free(struct hive_redactor *r)
{
	size_t i;

	if (!r)
		return;
	for (i = 0; i < N(shapes); i++)
		pcre2_code_free(r->re[i]);
	pcre2_code_free(r->assign);
	pcre2_match_data_free(r->md);
	pcre2_match_context_free(r->mctx);
	free(r);
}

/* Key name as lowercase words joined by '_': "clientSecret" and "client-secret" both
 * become "client_secret". */
static void key_words(const char *key, char *out, size_t size)
{
	size_t o = 0;
	const char *p;

	for (p = key; *p && o + 2 < size; p++) {
		unsigned char c = (unsigned char)*p;
		if (isupper(c) && p > key && islower((unsigned char)p[-1]))
			out[o++] = '_';
		out[o++] = (c == '-' || c == ' ' || c == '.') ? '_' : (char)tolower(c);
	}
	out[o] = '\0';
}

/* Does `name` (already lowercase words) occur in `words` on word boundaries? */
static int has_words(const char *words, const char *name)
{
	size_t n = strlen(name);
	const char *p = words;

	while ((p = strstr(p, name))) {
		if ((p == words || p[-1] == '_') && (p[n] == '\0' || p[n] == '_'))
			return 1;
		p++;
	}
	return 0;
}

/* Does words (key_words' form) hold the built-in name n as n->how says? */
static int has_name(const char *words, const struct secret_name *n)
{
	size_t len = strlen(n->name), wl;
	const char *w, *e;

	if (n->how & WORDS)
		return has_words(words, n->name);
	if (n->how & PART)
		return strstr(words, n->name) != NULL;
	for (w = words; *w; w = *e ? e + 1 : e) {
		e = strchr(w, '_');
		if (!e)
			e = w + strlen(w);
		wl = (size_t)(e - w);
		if (wl >= len && !memcmp(e - len, n->name, len))
			return 1;
		if ((n->how & PLURAL) && wl > len && e[-1] == 's' &&
		    !memcmp(e - 1 - len, n->name, len))
			return 1;
	}
	return 0;
}

/* Could s[0..len) hold a built-in secret name at all? Each contains "pass", "secret",
 * "token", "key", "auth", "pwd" or "cred" (any case): one pass, a switch on the first
 * letter, most keys and strings are done here. */
static int maybe_secret_name(const char *s, size_t len)
{
	const char *p, *end = s + len;

	for (p = s; p + 3 <= end; p++) {
		size_t left = (size_t)(end - p);

		switch (*p | 0x20) {
		case 'p':
			if (((p[1] | 0x20) == 'a' && (p[2] | 0x20) == 's' && left >= 4 &&
			     (p[3] | 0x20) == 's') ||
			    ((p[1] | 0x20) == 'w' && (p[2] | 0x20) == 'd'))
				return 1;
			break;
		case 's':
			if (left >= 6 && !strncasecmp(p, "secret", 6))
				return 1;
			break;
		case 't':
			if (left >= 5 && !strncasecmp(p, "token", 5))
				return 1;
			break;
		case 'k':
			if ((p[1] | 0x20) == 'e' && (p[2] | 0x20) == 'y')
				return 1;
			break;
		case 'a':
			if (left >= 4 && !strncasecmp(p, "auth", 4))
				return 1;
			break;
		case 'c':
			if (left >= 4 && !strncasecmp(p, "cred", 4))
				return 1;
			break;
		}
	}
	return 0;
}

/* hive_redactor_key_is_secret over key[0..len), which need not end in a NUL. A key of any
 * length is cut into words whole (a name at the end of a long key still counts); when
 * there is no memory for its words it counts as a secret's. */
static int key_is_secret_n(const struct hive_redactor *r, const char *key, size_t len)
{
	char stack[512], *words = stack, *copy, name[512];
	size_t i;
	int yes = 0;

	/* every built-in name contains one of the stems: most keys are done here */
	if (!(r->cfg && r->cfg->redact_keys.n) && !maybe_secret_name(key, len))
		return 0;
	/* key_words writes at most two bytes a byte ('_' before a hump) and the NUL */
	if (2 * len + 3 > sizeof(stack) && !(words = malloc(2 * len + 3)))
		return 1;
	if (!(copy = strndup(key, len))) {
		if (words != stack)
			free(words);
		return 1;
	}
	key_words(copy, words, words == stack ? sizeof(stack) : 2 * len + 3);
	for (i = 0; !yes && i < N(secret_names); i++)
		yes = has_name(words, &secret_names[i]);
	for (i = 0; !yes && r->cfg && i < r->cfg->redact_keys.n; i++) {
		key_words(r->cfg->redact_keys.v[i], name, sizeof(name));
		yes = has_words(words, name);
	}
	free(copy);
	if (words != stack)
		free(words);
	return yes;
}

int hive_redactor_key_is_secret(const struct hive_redactor *r, const char *key)
{
	return key_is_secret_n(r, key, strlen(key));
}

/* Does a shape plausibly start or end at p (left bytes from p to the end of s)?
 * Returns its bit (shapes[i] is bit i), or 0. */
static unsigned shape_at(const char *s, const char *p, size_t left)
{
	switch (*p) {
	case 'A': /* aws_access_key */
		return left >= 20 && (!memcmp(p, "AKIA", 4) || !memcmp(p, "ASIA", 4) ||
				      !memcmp(p, "ABIA", 4) || !memcmp(p, "ACCA", 4) ||
				      !memcmp(p, "A3T", 3))
			       ? 1u << 0
			       : 0;
	case 'g': /* github_token, github_pat, gitlab_token */
		return (left >= 4 && p[1] == 'h' && p[3] == '_' && p[2] && strchr("poshur", p[2])
				? 1u << 1
				: 0) |
		       (left >= 11 && !memcmp(p, "github_pat_", 11) ? 1u << 2 : 0) |
		       (left >= 6 && !memcmp(p, "glpat-", 6) ? 1u << 3 : 0);
	case 'x': /* slack_token */
		return left >= 5 && p[1] == 'o' && p[2] == 'x' && p[4] == '-' && p[3] &&
				       strchr("abposr", p[3])
			       ? 1u << 4
			       : 0;
	case 'P': /* private_key */
		return left >= 16 && !memcmp(p, "PRIVATE KEY-----", 16) ? 1u << 5 : 0;
	case 'J': /* jwt: "eyJ", keyed on the rarer J */
		return p - s >= 2 && p[-2] == 'e' && p[-1] == 'y' ? 1u << 6 : 0;
	case '/': /* url_credentials: "://", keyed on '/' (JSON is full of ':') */
		return left >= 2 && p[1] == '/' && p > s && p[-1] == ':' ? 1u << 7 : 0;
	}
	return 0;
}

/* Which shapes might occur in s[0..len): a memchr pass per trigger byte (vectorised, far
 * cheaper than looking at every byte), a closer look only where one stands. */
static unsigned shape_candidates(const char *s, size_t len)
{
	static const char triggers[] = "AgxPJ/";
	const char *p, *end = s + len;
	unsigned m = 0;
	size_t t;

	for (t = 0; t < sizeof(triggers) - 1; t++)
		for (p = s; p < end && (p = memchr(p, triggers[t], (size_t)(end - p))); p++)
			m |= shape_at(s, p, (size_t)(end - p));
	return m;
}

/* One expression over s[0..len): 1 with the match (or `group`, when it took part) in
 * [*so, *eo), 0 when there is none, -1 when PCRE2 gave up (a limit, out of memory). */
static int match_one(struct hive_redactor *r, const pcre2_code *re, const char *s, size_t len,
		     uint32_t options, int group, size_t *so, size_t *eo, size_t *ws)
{
	int rc = pcre2_match(re, (PCRE2_SPTR)s, len, 0, options, r->md, r->mctx);
	PCRE2_SIZE *ov;

	if (rc == PCRE2_ERROR_NOMATCH)
		return 0;
	if (rc < 0)
		return -1;
	ov = pcre2_get_ovector_pointer(r->md);
	/* rc 0: more groups than the ovector holds; the whole match is there all the same */
	if (group <= 0 || (rc > 0 && rc <= group) || ov[2 * group] == PCRE2_UNSET)
		group = 0;
	*so = ov[2 * group];
	*eo = ov[2 * group + 1];
	*ws = ov[0];
	return 1;
}

/* secret_assignment: NAME=VALUE, NAME:=VALUE or NAME: VALUE in free text (a command line's
 * --password=x, a connection string's Password=x;, a diagnostic quoting db_password:=x)
 * where NAME is a secret key name (hive_redactor_key_is_secret). Group 1 is the name, group
 * 2 the value: "Bearer x" (and Basic, Token, Digest), the inside of "…" or '…', or a run
 * up to a space, quote, bracket, '&', ',' or ';' (not starting with '=' or ':'). An already
 * redacted value is not one. In JSON text (a report, a raw line) a replacement must leave
 * the JSON whole: a run takes a backslash only when neither a quote nor a backslash follows
 * it (so never half of \" or \\), and a quoted value holds no backslash, ',' or ':' (the gap
 * between two JSON strings always holds one of those). */
static const char assign_regex[] =
	"([A-Za-z_][A-Za-z0-9_.-]*)[ \\t]*(?::=|=|:)[ \\t]*(?![\"']?\\[REDACTED)"
	"(?|((?i:bearer|basic|token|digest)[ \\t]+(?:[^\\s\"'&,;\\[\\]{}\\\\"
	"]|\\\\(?![\\\\\"]))+)|\"([^\"\\\\\\n,:]+)\"|'([^'\\\\\\n,:]+)'|((?:[^=:\\s\"'&,;\\[\\]{}"
	"\\\\]|\\\\(?![\\\\\"]))(?:[^\\s\"'&,;\\[\\]{}\\\\]|\\\\(?![\\\\\"]))*))";

/* The first secret_assignment in s[0..len): 1 with the value in [*so, *eo), 0 when there
 * is none, -1 when PCRE2 gave up. Only a string holding an '=' or ':' and (without
 * redact.keys) a built-in name's stem gets as far as PCRE2. */
static int find_assignment(struct hive_redactor *r, const char *s, size_t len, size_t *so,
			   size_t *eo, size_t *ws)
{
	PCRE2_SIZE *ov, start = 0;
	int code, rc;
	PCRE2_SIZE off;

	if (!memchr(s, '=', len) && !memchr(s, ':', len))
		return 0;
	/* the built-in names' stems; a redact.keys name may hold none of them */
	if (!(r->cfg && r->cfg->redact_keys.n) && !maybe_secret_name(s, len))
		return 0;
	if (r->assign_state == 0) {
		r->assign = pcre2_compile((PCRE2_SPTR)assign_regex, PCRE2_ZERO_TERMINATED, 0, &code,
					  &off, NULL);
		r->assign_state = r->assign ? 1 : 2;
	}
	if (!r->assign)
		return -1;
	while (start < len) {
		rc = pcre2_match(r->assign, (PCRE2_SPTR)s, len, start, 0, r->md, r->mctx);
		if (rc == PCRE2_ERROR_NOMATCH)
			return 0;
		if (rc < 0)
			return -1;
		ov = pcre2_get_ovector_pointer(r->md);
		if (key_is_secret_n(r, s + ov[2], ov[3] - ov[2])) {
			*so = ov[4];
			*eo = ov[5];
			*ws = ov[0];
			return 1;
		}
		start = ov[3]; /* past this name: a later one may be a secret's */
	}
	return 0;
}

/* The first match of a rule in s[0..len): built-in shapes and secret_assignment, then (when
 * `patterns`) the configured ones (an empty match is none: PCRE2_NOTEMPTY). Returns the rule
 * whose replaced part (a group for url_credentials and secret_assignment) starts first, with
 * that part in [*so, *eo), or NULL. Also the match of any rule that starts first as a whole
 * (scheme and name included): its start in *ws and the end of its replaced part in *we.
 * When a rule reaches a limit or PCRE2 fails, HIVE_REDACT_LIMIT_RULE with the whole of s. */
/* Which rules find_first tries besides the token shapes (always). */
#define RULES_ASSIGN   1 /* secret_assignment */
#define RULES_PATTERNS 2 /* redact.patterns */
#define RULES_ALL      (RULES_ASSIGN | RULES_PATTERNS)

static const char *find_first(struct hive_redactor *r, const char *s, size_t len, int rules,
			      size_t *so, size_t *eo, size_t *ws, size_t *we)
{
	const pcre2_code *re;
	const char *best = NULL;
	size_t i, mso, meo, mws;
	int rc, any = 0;
	unsigned cand = shape_candidates(s, len);

#define CONSIDER(rule)                                                                             \
	do {                                                                                       \
		if (!best || mso < *so) {                                                          \
			*so = mso;                                                                 \
			*eo = meo;                                                                 \
			best = (rule);                                                             \
		}                                                                                  \
		if (!any++ || mws < *ws) {                                                         \
			*ws = mws;                                                                 \
			*we = meo;                                                                 \
		}                                                                                  \
	} while (0)

	*so = *eo = *ws = *we = 0;
	for (i = 0; cand && i < N(shapes); i++) {
		if (!(cand & (1u << i)) || (shapes[i].maybe && !shapes[i].maybe(s, len)))
			continue;
		/* a shape that could not be compiled (out of memory) cannot vouch for s either */
		if (!(re = shape_re(r, i)) ||
		    (rc = match_one(r, re, s, len, 0, shapes[i].group, &mso, &meo, &mws)) < 0)
			goto limit;
		if (rc)
			CONSIDER(shapes[i].rule);
	}
	if ((rules & RULES_ASSIGN) && (rc = find_assignment(r, s, len, &mso, &meo, &mws)) < 0)
		goto limit;
	if ((rules & RULES_ASSIGN) && rc)
		CONSIDER(HIVE_REDACT_ASSIGNMENT_RULE);
	for (i = 0; (rules & RULES_PATTERNS) && r->cfg && i < r->cfg->npatterns; i++) {
		rc = match_one(r, r->cfg->patterns[i].re, s, len, PCRE2_NOTEMPTY, 0, &mso, &meo,
			       &mws);
		if (rc < 0)
			goto limit;
		if (rc)
			CONSIDER("pattern");
	}
#undef CONSIDER
	return best;
limit:
	*so = *ws = 0;
	*eo = *we = len;
	return HIVE_REDACT_LIMIT_RULE;
}

/* find_first, widened over every match that overlaps it, a whole match (scheme, name)
 * included: what is replaced is the union, so one rule's match never cuts another's short
 * and leaves its tail (fuzz_redact: a secret_assignment ending inside "-----BEGIN … PRIVATE
 * KEY-----" left the key's body; a Slack token eating a URL's scheme left its password). */
static const char *find_match(struct hive_redactor *r, const char *s, size_t len, int rules,
			      size_t *so, size_t *eo)
{
	size_t from, mso, meo, mws, mwe;
	const char *rule = find_first(r, s, len, rules, so, eo, &mws, &mwe), *next;

	if (!rule || !strcmp(rule, HIVE_REDACT_LIMIT_RULE))
		return rule;
	for (from = *so + 1; from < *eo; from += mws + 1) {
		if (!(next = find_first(r, s + from, len - from, rules, &mso, &meo, &mws, &mwe)) ||
		    from + mws >= *eo)
			break;
		if (!strcmp(next, HIVE_REDACT_LIMIT_RULE)) {
			*so = 0;
			*eo = len;
			return next;
		}
		if (from + mwe > *eo)
			*eo = from + mwe;
	}
	return rule;
}

const char *hive_redactor_find(struct hive_redactor *r, const char *s, size_t len, size_t *at)
{
	size_t so, eo;
	const char *rule = find_match(r, s, len, RULES_ALL, &so, &eo);

	if (rule && at)
		*at = so;
	return rule;
}

const char *hive_redactor_find_builtin(struct hive_redactor *r, const char *s, size_t len,
				       size_t *at)
{
	size_t so, eo;
	const char *rule = find_match(r, s, len, RULES_ASSIGN, &so, &eo);

	if (rule && at)
		*at = so;
	return rule;
}

const char *hive_redactor_find_shape(struct hive_redactor *r, const char *s, size_t len, size_t *at)
{
	size_t so, eo;
	const char *rule = find_match(r, s, len, 0, &so, &eo);

	if (rule && at)
		*at = so;
	return rule;
}

/* Replace every match in *sp (configured patterns too when `patterns`); returns the number
 * of replacements, -1 on OOM. The string (owned by cJSON) is reallocated when something
 * changes. At a match limit the whole string becomes "[REDACTED:match_limit]", one
 * replacement. */
static int redact_string(struct hive_redactor *r, char **sp, int rules)
{
	static const char limited[] = "[REDACTED:" HIVE_REDACT_LIMIT_RULE "]";
	char *s = *sp, *out, repl[64];
	size_t len = strlen(s), pos = 0, rl, nlen, so, eo;
	const char *rule;
	int count = 0;

	while (pos < len && (rule = find_match(r, s + pos, len - pos, rules, &so, &eo)) &&
	       eo > so) {
		if (!strcmp(rule, HIVE_REDACT_LIMIT_RULE)) {
			if (!strcmp(s, limited))
				return 0;
			if (!(out = cJSON_malloc(sizeof(limited))))
				return -1;
			memcpy(out, limited, sizeof(limited));
			cJSON_free(s);
			*sp = out;
			return 1;
		}
		rl = (size_t)snprintf(repl, sizeof(repl), "[REDACTED:%s]", rule);
		nlen = len - (eo - so) + rl;
		if (!(out = cJSON_malloc(nlen + 1)))
			return -1;
		memcpy(out, s, pos + so);
		memcpy(out + pos + so, repl, rl);
		memcpy(out + pos + so + rl, s + pos + eo, len - pos - eo + 1);
		cJSON_free(s);
		*sp = s = out;
		pos += so + rl;
		len = nlen;
		count++;
	}
	return count;
}

/* The keys of details hive defines (SPEC 3): never rewritten. Of their values, action,
 * platform and status are enums the schema checks, and resource is an identifier the
 * schema refuses when it has a secret's shape: none of them is rewritten either. */
static int is_details_key(const char *k)
{
	return !strcmp(k, "resource") || !strcmp(k, "action") || !strcmp(k, "platform") ||
	       !strcmp(k, "configuration") || !strcmp(k, "status");
}

/* Values hive itself writes in the context objects (git, ci), STATE.json and METRICS.json:
 * ids, hashes, flags and times, never rewritten nor looked at. */
static int is_fixed_value(const char *k)
{
	static const char *keys[] = {
		"seq",	       "timestamp",  "event_type", "worker",	   "session_id",
		"prev",	       "commit",     "dirty",	   "run_id",	   "run_attempt",
		"pipeline_id", "job_id",     "provider",   "last_hash",	   "last_seq",
		"status",      "started_at", "updated_at", "completed_at", "count",
	};
	size_t i;

	for (i = 0; i < N(keys); i++)
		if (!strcmp(k, keys[i]))
			return 1;
	return 0;
}

/* What a walk does with each string it is allowed to touch: rewrite it (a redaction), or
 * only look (the gate) and tell fn of each finding. */
struct walk {
	struct hive_redactor *r;
	int find_only;
	hive_redact_found_fn fn; /* find_only: called for each finding (may be NULL) */
	void *arg;
	int found; /* find_only: the number of findings */
	int rules; /* RULES_*: what is looked for besides the token shapes */
	int names; /* values under secret key names count */
};

/* find_only: one finding. Returns 0 so that the walk goes on (and -1 never). */
static int walk_found(struct walk *w, const char *rule, const char *key, int in_key)
{
	w->found++;
	if (w->fn)
		w->fn(w->arg, rule, key, in_key);
	return 0;
}

/* One string (a value under key, or the key itself when in_key): the count of
 * replacements, -1 on OOM. */
static int walk_string(struct walk *w, char **sp, const char *key, int in_key)
{
	size_t so, eo;
	const char *rule;

	if (!w->find_only)
		return redact_string(w->r, sp, w->rules);
	if ((rule = find_match(w->r, *sp, strlen(*sp), w->rules, &so, &eo)))
		walk_found(w, rule, key, in_key);
	return 0;
}

/* Is child a value under a secret key name that still holds something? */
static int holds_secret(struct hive_redactor *r, const cJSON *child)
{
	return child->string && hive_redactor_key_is_secret(r, child->string) &&
	       !cJSON_IsNull(child) &&
	       !(cJSON_IsString(child) && !strncmp(child->valuestring, "[REDACTED", 9));
}

/* User data (details.configuration and below): keys and values, secret key names. With
 * details_top, node is details itself: the keys hive defines there (is_details_key) are
 * left as they are and only configuration's content is user data; any other key (which the
 * schema refuses) is user data, name and value. */
static int walk_user(struct walk *w, cJSON *node, int details_top)
{
	cJSON *child, *repl;
	int total = 0, n;

	cJSON_ArrayForEach(child, node)
	{
		int secret_name;

		if (details_top && child->string && is_details_key(child->string)) {
			n = 0;
			if (!strcmp(child->string, "configuration") &&
			    (cJSON_IsObject(child) || cJSON_IsArray(child)))
				n = walk_user(w, child, 0);
			if (n < 0)
				return -1;
			total += n;
			continue;
		}
		/* the name as given decides whether the value is a secret; then the key's own
		 * token shapes go too, even when its value is replaced: a token pasted into
		 * a key named like a secret ("token ghp_…") was written as it was. The name as
		 * written counts too: "[REDACTED:url_credentials]" holds "credential", and the
		 * gate reads the key as written (fuzz_event) */
		secret_name = w->names && holds_secret(w->r, child);
		if (child->string && !(child->type & cJSON_StringIsConst)) {
			if ((n = walk_string(w, &child->string, child->string, 1)) < 0)
				return -1;
			total += n;
			if (n && !w->find_only && w->names)
				secret_name = secret_name || holds_secret(w->r, child);
		}
		if (secret_name) {
			if (w->find_only) {
				walk_found(w, HIVE_REDACT_KEY_RULE, child->string, 0);
				continue;
			}
			if (!(repl = cJSON_CreateString("[REDACTED]")))
				return -1;
			repl->string = child->string; /* the key moves to the replacement */
			repl->type |= child->type & cJSON_StringIsConst;
			child->string = NULL;
			cJSON_ReplaceItemViaPointer(node, child, repl);
			child = repl;
			total++;
			continue;
		}
		n = 0;
		if (cJSON_IsString(child))
			n = walk_string(w, &child->valuestring, child->string, 0);
		else if (cJSON_IsArray(child) || cJSON_IsObject(child))
			n = walk_user(w, child, 0);
		if (n < 0)
			return -1;
		total += n;
	}
	return total;
}

/* hive's own objects (git, ci, a worker profile, requirements, STATE.json): keys are never
 * touched, nor the values is_fixed_value names; every other string is. */
static int walk_context(struct walk *w, cJSON *node)
{
	cJSON *child;
	int total = 0, n;

	cJSON_ArrayForEach(child, node)
	{
		n = 0;
		if (child->string && is_fixed_value(child->string))
			continue;
		if (cJSON_IsString(child))
			n = walk_string(w, &child->valuestring, child->string, 0);
		else if (cJSON_IsArray(child) || cJSON_IsObject(child))
			n = walk_context(w, child);
		if (n < 0)
			return -1;
		total += n;
	}
	return total;
}

/* obj as mode says. */
static int walk(struct walk *w, cJSON *obj, enum hive_redact_mode mode)
{
	w->rules = mode == HIVE_REDACT_SHAPES ? 0 : RULES_ALL;
	w->names = mode != HIVE_REDACT_SHAPES;
	if (cJSON_IsString(obj))
		return walk_string(w, &obj->valuestring, NULL, 0);
	if (mode == HIVE_REDACT_CONTEXT)
		return walk_context(w, obj);
	return walk_user(w, obj, mode == HIVE_REDACT_DETAILS);
}

int hive_redact(struct hive_redactor *r, cJSON *obj, enum hive_redact_mode mode)
{
	struct walk w = {r, 0, NULL, NULL, 0, RULES_ALL, 1};

	return walk(&w, obj, mode);
}

/* The walk only looks when find_only, so obj is not changed: the cast is safe. */
int hive_redactor_scan_json(struct hive_redactor *r, const cJSON *obj, enum hive_redact_mode mode,
			    hive_redact_found_fn fn, void *arg)
{
	struct walk w = {r, 1, fn, arg, 0, RULES_ALL, 1};

	walk(&w, (cJSON *)obj, mode);
	return w.found;
}

int hive_redactor_scan_event(struct hive_redactor *r, const cJSON *ev, hive_redact_found_fn fn,
			     void *arg)
{
	static const char *parts[] = {"details", "git", "ci"};
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(ev, "event_type"), *part;
	size_t i;
	int internal, n = 0;

	/* session_started and session_completed hold what hive wrote: a profile, requirements */
	internal = cJSON_IsString(t) && (!strcmp(t->valuestring, "session_started") ||
					 !strcmp(t->valuestring, "session_completed"));
	for (i = 0; i < N(parts); i++)
		if ((part = cJSON_GetObjectItemCaseSensitive(ev, parts[i])))
			n += hive_redactor_scan_json(r, part,
						     i == 0 && !internal ? HIVE_REDACT_DETAILS
									 : HIVE_REDACT_CONTEXT,
						     fn, arg);
	return n;
}

int hive_redact_text(struct hive_redactor *r, char *buf, size_t size, int patterns)
{
	char *s;
	size_t n;
	int count;

	if (!size || !*buf)
		return 0;
	if (!(s = cJSON_malloc(strlen(buf) + 1)))
		return -1;
	memcpy(s, buf, strlen(buf) + 1);
	if ((count = redact_string(r, &s, patterns ? RULES_ALL : RULES_ASSIGN)) > 0) {
		n = strlen(s);
		if (n >= size)
			n = size - 1;
		memcpy(buf, s, n);
		buf[n] = '\0';
	}
	cJSON_free(s);
	return count;
}

const char *hive_secret_shape(const char *s, size_t len)
{
	struct hive_redactor *r = NULL;
	const char *rule;

	/* most ids hold no shape's trigger and no '=' or ':': nothing to allocate */
	if (!shape_candidates(s, len) && !memchr(s, '=', len) && !memchr(s, ':', len))
		return NULL;
	if (hive_redactor_new(NULL, &r, NULL))
		return HIVE_REDACT_LIMIT_RULE; /* cannot vouch for it */
	rule = hive_redactor_find_builtin(r, s, len, NULL);
	hive_redactor_free(r);
	return rule;
}

int hive_redact_message(char *buf, size_t size)
{
	struct hive_redactor *r = NULL;
	int n;

	if (!size || (!shape_candidates(buf, strlen(buf)) && !memchr(buf, '=', strlen(buf)) &&
		      !memchr(buf, ':', strlen(buf))))
		return 0;
	if (hive_redactor_new(NULL, &r, NULL) || (n = hive_redact_text(r, buf, size, 0)) < 0) {
		/* nothing can say where a secret is: say nothing of the value */
		snprintf(buf, size, "[REDACTED:%s]", HIVE_REDACT_LIMIT_RULE);
		hive_redactor_free(r);
		return 1;
	}
	hive_redactor_free(r);
	return n;
}

int hive_redact_buf(struct hive_buf *b)
{
	struct hive_redactor *r = NULL;
	char *s;
	int n;

	if (b->oom)
		return -1;
	if (!b->len)
		return 0;
	if (hive_redactor_new(NULL, &r, NULL) || !(s = cJSON_malloc(b->len + 1))) {
		hive_redactor_free(r);
		return -1;
	}
	memcpy(s, b->p, b->len);
	s[b->len] = '\0';
	if ((n = redact_string(r, &s, RULES_ASSIGN)) > 0) {
		b->len = 0;
		hive_buf_puts(b, s);
		if (b->oom)
			n = -1;
	}
	cJSON_free(s);
	hive_redactor_free(r);
	return n;
}
