/* test_log.c - unit tests for lib/log.c: session ids, the session folder, lock, tail, append, chain
 * hash, STATE.json, line reader */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <regex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../lib/log.h"
#include "../../lib/session.h"
#include "../../lib/state.h"

/* --- helpers ------------------------------------------------------------------------ */

/* Each test that touches files gets a fresh directory; root is <dir>/Docs/hive-mind. */
struct fx {
	char *dir;
	char *root;
};

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int setup_tmpdir(void **state)
{
	char tmpl[] = "/tmp/hive-unit-log-XXXXXX";
	struct fx *fx = calloc(1, sizeof(*fx));

	if (!fx || !mkdtemp(tmpl))
		return -1;
	fx->dir = strdup(tmpl);
	if (asprintf(&fx->root, "%s/Docs/hive-mind", tmpl) < 0)
		return -1;
	*state = fx;
	return 0;
}

static int teardown_tmpdir(void **state)
{
	struct fx *fx = *state;

	nftw(fx->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(fx->dir);
	free(fx->root);
	free(fx);
	return 0;
}

static char *pathf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *pathf(const char *fmt, ...)
{
	va_list ap;
	char *p;

	va_start(ap, fmt);
	assert_true(vasprintf(&p, fmt, ap) > 0);
	va_end(ap);
	return p;
}

/* The whole file as a NUL-terminated string (NULL when missing); *len its size. */
static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (!f)
		return NULL;
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	if (len)
		*len = (size_t)n;
	return buf;
}

static void spit(const char *path, const char *buf, size_t len, const char *mode)
{
	FILE *f = fopen(path, mode);

	assert_non_null(f);
	assert_int_equal(fwrite(buf, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static int exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

/* Names in dir other than . and .., sorted, joined by spaces. */
static char *list_dir(const char *path)
{
	struct dirent **names;
	char *out = calloc(1, 4096);
	int n, i;

	assert_non_null(out);
	n = scandir(path, &names, NULL, alphasort);
	assert_true(n >= 0);
	for (i = 0; i < n; i++) {
		if (strcmp(names[i]->d_name, ".") && strcmp(names[i]->d_name, "..")) {
			if (*out)
				strcat(out, " ");
			strcat(out, names[i]->d_name);
		}
		free(names[i]);
	}
	free(names);
	return out;
}

static const char LINE1[] =
	"{\"seq\":1,\"timestamp\":\"2025-01-15T10:30:00.123Z\",\"event_type\":\"session_started\","
	"\"worker\":\"devops-worker\",\"session_id\":\"s1\",\"details\":{\"requirements\":{}},"
	"\"git\":null,\"ci\":null,\"prev\":null}\n";

static cJSON *sample_state(const char *status)
{
	cJSON *st = cJSON_CreateObject();

	cJSON_AddStringToObject(st, "session_id", "s1");
	cJSON_AddStringToObject(st, "status", status);
	return st;
}

/* Create session s1 under fx->root holding LINE1 (or first/len), return it open. */
static struct hive_session *make_session(struct fx *fx, const char *id, const char *first,
					 size_t len)
{
	struct hive_session *s = NULL;
	struct hive_err err = {0};
	cJSON *st = sample_state("active");
	int created = -1, rc;

	rc = hive_session_create(fx->root, id, first, len, st, &created, &s, &err);
	if (rc)
		fail_msg("hive_session_create: %d %s", rc, err.msg);
	assert_int_equal(created, 1);
	assert_non_null(s);
	cJSON_Delete(st);
	return s;
}

/* --- hive_id_check ------------------------------------------------------------------ */

static void id_ok(const char *id)
{
	struct hive_err err = {0};
	int rc = hive_id_check("session id", id, strlen(id), &err);

	if (rc != HIVE_OK)
		fail_msg("id %s rejected: %s", id, err.msg);
}

static void id_bad(const char *id, size_t len, const char *want)
{
	struct hive_err err = {0};

	assert_int_equal(hive_id_check("session id", id, len, &err), HIVE_EUSAGE);
	assert_int_equal(err.status, HIVE_EUSAGE);
	assert_string_equal(err.msg, want);
}

static void test_id_check_valid(void **state)
{
	char id128[HIVE_ID_MAX + 1];

	(void)state;
	id_ok("a");
	id_ok("Z");
	id_ok("7");
	id_ok("_x");
	id_ok("gh-8812-1");
	id_ok("gl-12345");
	id_ok("20250115T103000Z-deadbeef");
	id_ok("A.b_c-d.9");
	id_ok("x..y");
	id_ok("a.");
	memset(id128, 'a', HIVE_ID_MAX);
	id128[HIVE_ID_MAX] = '\0';
	id_ok(id128);
}

static void test_id_check_invalid(void **state)
{
	char id129[HIVE_ID_MAX + 2];
	const char nul[] = "a\0b";
	struct hive_err err = {0};

	(void)state;
	id_bad("../x", 4,
	       "session id \"../x\": only letters, digits, '.', '_' and '-' are allowed");
	id_bad("a/b", 3, "session id \"a/b\": only letters, digits, '.', '_' and '-' are allowed");
	id_bad("", 0, "session id is empty");
	id_bad(nul, 3, "session id contains a NUL byte");
	id_bad("a\nb", 3,
	       "session id \"a\\nb\": only letters, digits, '.', '_' and '-' are allowed");
	memset(id129, 'a', HIVE_ID_MAX + 1);
	id129[HIVE_ID_MAX + 1] = '\0';
	id_bad(id129, HIVE_ID_MAX + 1, "session id is 129 characters long (at most 128)");
	id_bad(".hidden", 7, "session id \".hidden\" must not start with '.'");
	id_bad(".", 1, "session id \".\" must not start with '.'");
	id_bad("..", 2, "session id \"..\" must not start with '.'");
	id_bad("-rf", 3, "session id \"-rf\" must not start with '-'");
	id_bad("a b", 3, "session id \"a b\": only letters, digits, '.', '_' and '-' are allowed");
	id_bad("caf\xc3\xa9", 5,
	       "session id \"caf\xc3\xa9\": only letters, digits, '.', '_' and '-' are allowed");
	/* `what` names the value */
	assert_int_equal(hive_id_check("worker", "a/b", 3, &err), HIVE_EUSAGE);
	assert_string_equal(err.msg,
			    "worker \"a/b\": only letters, digits, '.', '_' and '-' are allowed");
	/* the length argument is what counts: a NUL inside it is refused... */
	assert_int_equal(hive_id_check("session id", "ok\0", 3, &err), HIVE_EUSAGE);
	assert_string_equal(err.msg, "session id contains a NUL byte");
	/* ...and a valid prefix of a longer string is checked on its own */
	assert_int_equal(hive_id_check("session id", "ok/../x", 2, &err), HIVE_OK);
}

/* --- hive_id_generate --------------------------------------------------------------- */

static void test_id_generate(void **state)
{
	char a[32], b[32];
	struct hive_err err = {0};
	regex_t re;
	struct tm tm = {0};
	struct timespec t0, t1;
	time_t t;

	(void)state;
	clock_gettime(CLOCK_REALTIME, &t0); /* the clock hive_id_generate reads */
	assert_int_equal(regcomp(&re, "^[0-9]{8}T[0-9]{6}Z-[0-9a-f]{8}$", REG_EXTENDED | REG_NOSUB),
			 0);
	assert_int_equal(hive_id_generate(a, &err), HIVE_OK);
	assert_int_equal(hive_id_generate(b, &err), HIVE_OK);
	clock_gettime(CLOCK_REALTIME, &t1);
	assert_int_equal(regexec(&re, a, 0, NULL, 0), 0);
	assert_int_equal(regexec(&re, b, 0, NULL, 0), 0);
	regfree(&re);
	assert_int_equal(hive_id_check("session id", a, strlen(a), &err), HIVE_OK);
	assert_string_not_equal(a, b); /* 32 random bits each */
	/* the time part is now, in UTC */
	assert_non_null(strptime(a, "%Y%m%dT%H%M%SZ", &tm));
	t = timegm(&tm);
	assert_true(t >= t0.tv_sec && t <= t1.tv_sec);
}

/* --- hive_session_create / hive_session_open ---------------------------------------- */

static void test_session_create(void **state)
{
	struct fx *fx = *state;
	struct hive_session *s = NULL;
	struct hive_err err = {0};
	cJSON *st = sample_state("active"), *back;
	char *sess = pathf("%s/sessions/s1", fx->root), *sessions = pathf("%s/sessions", fx->root);
	char *events_p = pathf("%s/EVENTS.jsonl", sess), *state_p = pathf("%s/STATE.json", sess);
	char *lock_p = pathf("%s/.lock", sess), *text, *names, *want_dir, cwd[4096];
	size_t len;
	int created = -1;

	/* the root does not exist yet: it is made */
	assert_false(exists(fx->root));
	assert_int_equal(
		hive_session_create(fx->root, "s1", LINE1, strlen(LINE1), st, &created, &s, &err),
		HIVE_OK);
	assert_int_equal(created, 1);
	assert_non_null(s);
	assert_string_equal(s->id, "s1");
	assert_string_equal(s->dir, sess);
	assert_true(s->dirfd >= 0);
	assert_true(s->eventsfd >= 0);
	assert_int_equal(s->lockfd, -1);

	/* exactly the three files, no temporary folder left beside it */
	names = list_dir(sess);
	assert_string_equal(names, ".lock EVENTS.jsonl STATE.json");
	free(names);
	names = list_dir(sessions);
	assert_string_equal(names, "s1");
	free(names);

	text = slurp(events_p, &len);
	assert_int_equal(len, strlen(LINE1));
	assert_string_equal(text, LINE1);
	free(text);
	text = slurp(lock_p, &len);
	assert_int_equal(len, 0);
	free(text);
	text = slurp(state_p, &len);
	back = cJSON_Parse(text);
	assert_non_null(back);
	assert_true(cJSON_Compare(back, st, 1));
	cJSON_Delete(back);
	free(text);
	hive_session_close(s);
	s = NULL;

	/* a relative root works the same (s->dir is as given) */
	want_dir = pathf("%s", "rel/sessions/s2");
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(fx->dir), 0);
	assert_int_equal(
		hive_session_create("rel", "s2", LINE1, strlen(LINE1), st, &created, &s, &err),
		HIVE_OK);
	assert_int_equal(created, 1);
	assert_string_equal(s->dir, want_dir);
	hive_session_close(s);
	assert_int_equal(chdir(cwd), 0);
	free(want_dir);

	cJSON_Delete(st);
	free(sess);
	free(sessions);
	free(events_p);
	free(state_p);
	free(lock_p);
}

static void test_session_create_existing_changes_nothing(void **state)
{
	struct fx *fx = *state;
	struct hive_session *s = make_session(fx, "s1", LINE1, strlen(LINE1)), *s2 = NULL;
	struct hive_err err = {0};
	cJSON *other = sample_state("completed");
	char *events_p = pathf("%s/sessions/s1/EVENTS.jsonl", fx->root);
	char *state_p = pathf("%s/sessions/s1/STATE.json", fx->root);
	char *sessions = pathf("%s/sessions", fx->root);
	char *ev_before = slurp(events_p, NULL), *st_before = slurp(state_p, NULL), *ev, *stt;
	char *names;
	const char other_line[] = "{\"seq\":1,\"other\":true}\n";
	int created = -1;

	assert_int_equal(hive_session_create(fx->root, "s1", other_line, strlen(other_line), other,
					     &created, &s2, &err),
			 HIVE_OK);
	assert_int_equal(created, 0);
	assert_non_null(s2); /* the existing session, opened */
	assert_string_equal(s2->id, "s1");
	ev = slurp(events_p, NULL);
	stt = slurp(state_p, NULL);
	assert_string_equal(ev, ev_before);
	assert_string_equal(stt, st_before);
	names = list_dir(sessions);
	assert_string_equal(names, "s1");
	free(names);

	free(ev);
	free(stt);
	free(ev_before);
	free(st_before);
	free(events_p);
	free(state_p);
	free(sessions);
	cJSON_Delete(other);
	hive_session_close(s2);
	hive_session_close(s);
}

static void test_session_create_bad_id(void **state)
{
	struct fx *fx = *state;
	struct hive_session *s = NULL;
	struct hive_err err = {0};
	cJSON *st = sample_state("active");
	int created = -1;

	/* an invalid id: HIVE_EUSAGE and nothing is created */
	assert_int_equal(
		hive_session_create(fx->root, "../x", LINE1, strlen(LINE1), st, &created, &s, &err),
		HIVE_EUSAGE);
	assert_null(s);
	assert_non_null(strstr(err.msg, "\"../x\""));
	assert_false(exists(fx->root));
	cJSON_Delete(st);
}

static void test_session_open(void **state)
{
	struct fx *fx = *state;
	struct hive_session *s = make_session(fx, "s1", LINE1, strlen(LINE1)), *o = NULL;
	struct hive_err err = {0};
	char *missing_root = pathf("%s/nowhere", fx->dir);

	hive_session_close(s);
	assert_int_equal(hive_session_open(fx->root, "s1", &o, &err), HIVE_OK);
	assert_non_null(o);
	assert_string_equal(o->id, "s1");
	assert_true(o->eventsfd >= 0);
	hive_session_close(o);
	o = NULL;

	assert_int_equal(hive_session_open(fx->root, "s9", &o, &err), HIVE_EUSAGE);
	assert_null(o);
	assert_string_equal(err.msg, "session s9 does not exist: run hive-init first");

	assert_int_equal(hive_session_open(missing_root, "s1", &o, &err), HIVE_EUSAGE);
	assert_null(o);
	assert_non_null(strstr(err.msg, "run hive-init"));

	assert_int_equal(hive_session_open(fx->root, "a/b", &o, &err), HIVE_EUSAGE);
	assert_null(o);
	assert_non_null(strstr(err.msg, "session id \"a/b\""));

	hive_session_close(NULL); /* every _free accepts NULL */
	free(missing_root);
}

static void test_session_open_refuses_symlinks(void **state)
{
	struct fx *fx = *state;
	struct hive_session *s = make_session(fx, "real", LINE1, strlen(LINE1)), *o = NULL;
	struct hive_err err = {0};
	char *real = pathf("%s/sessions/real", fx->root);
	char *link = pathf("%s/sessions/linked", fx->root);
	char *events_p = pathf("%s/sessions/real/EVENTS.jsonl", fx->root);
	char *elsewhere = pathf("%s/elsewhere.jsonl", fx->dir);
	char *root2 = pathf("%s/root2", fx->dir), *sessions2 = pathf("%s/root2/sessions", fx->dir);
	char *want;
	cJSON *st = sample_state("active");
	int created = -1;

	hive_session_close(s);

	/* a session folder that is a link to a real session */
	assert_int_equal(symlink(real, link), 0);
	assert_int_equal(hive_session_open(fx->root, "linked", &o, &err), HIVE_EENV);
	assert_null(o);
	want = pathf("%s/sessions/linked: is a symbolic link (refused)", fx->root);
	assert_string_equal(err.msg, want);
	free(want);
	/* hive_session_create does not follow it either */
	assert_int_equal(hive_session_create(fx->root, "linked", LINE1, strlen(LINE1), st, &created,
					     &o, &err),
			 HIVE_EENV);
	assert_int_equal(created, 0);
	assert_null(o);

	/* the sessions folder itself a link */
	assert_int_equal(mkdir(root2, 0755), 0);
	assert_int_equal(symlink(fx->root, sessions2), 0);
	assert_int_equal(hive_session_open(root2, "real", &o, &err), HIVE_EENV);
	assert_null(o);
	assert_non_null(strstr(err.msg, "symbolic link"));

	/* EVENTS.jsonl a link */
	spit(elsewhere, LINE1, strlen(LINE1), "w");
	assert_int_equal(unlink(events_p), 0);
	assert_int_equal(symlink(elsewhere, events_p), 0);
	assert_int_equal(hive_session_open(fx->root, "real", &o, &err), HIVE_EENV);
	assert_null(o);
	want = pathf("%s/sessions/real/EVENTS.jsonl: is a symbolic link (refused)", fx->root);
	assert_string_equal(err.msg, want);
	free(want);

	cJSON_Delete(st);
	free(real);
	free(link);
	free(events_p);
	free(elsewhere);
	free(root2);
	free(sessions2);
}

/* --- the chain hash ----------------------------------------------------------------- */

static void test_sha256_known(void **state)
{
	char h[HIVE_HASH_SIZE];

	(void)state;
	hive_sha256("abc", 3, h);
	assert_string_equal(
		h, "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	hive_sha256("", 0, h);
	assert_string_equal(
		h, "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	hive_sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56, h);
	assert_string_equal(
		h, "sha256:248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	/* only len bytes count */
	hive_sha256("abcdef", 3, h);
	assert_string_equal(
		h, "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	assert_int_equal(strlen(h), HIVE_HASH_SIZE - 1);
}

/* --- hive_log_tail ------------------------------------------------------------------ */

static void test_log_tail_empty(void **state)
{
	struct fx *fx = *state;
	struct hive_session *s = make_session(fx, "s1", "", 0);
	struct hive_err err = {0};
	struct hive_tail t;

	memset(&t, 0x55, sizeof(t));
	assert_int_equal(hive_log_tail(s, &t, &err), HIVE_OK);
	assert_int_equal(t.size, 0);
	assert_int_equal(t.last_seq, 0);
	assert_string_equal(t.last_hash, "");
	hive_session_close(s);
}

static void test_log_tail_one_line(void **state)
{
	struct fx *fx = *state;
	struct hive_session *s = make_session(fx, "s1", LINE1, strlen(LINE1));
	struct hive_err err = {0};
	struct hive_tail t;
	char want[HIVE_HASH_SIZE];

	assert_int_equal(hive_log_tail(s, &t, &err), HIVE_OK);
	assert_int_equal(t.size, (off_t)strlen(LINE1));
	assert_int_equal(t.last_seq, 1);
	hive_sha256(LINE1, strlen(LINE1) - 1, want); /* without the newline */
	assert_string_equal(t.last_hash, want);
	hive_session_close(s);
}

static void test_log_tail_torn(void **state)
{
	struct fx *fx = *state;
	struct hive_session *s = make_session(fx, "s1", LINE1, strlen(LINE1));
	struct hive_err err = {0};
	struct hive_tail t;
	char *events_p = pathf("%s/sessions/s1/EVENTS.jsonl", fx->root), *want;
	const char torn[] = "{\"seq\":2,\"timestamp\":\"2025-01";

	spit(events_p, torn, strlen(torn), "a");
	assert_int_equal(hive_log_tail(s, &t, &err), HIVE_EENV);
	assert_int_equal(err.status, HIVE_EENV);
	assert_non_null(strstr(err.msg, "--repair"));
	want = pathf("%s/sessions/s1/EVENTS.jsonl: the last line is cut off (no newline): run "
		     "hive-check --repair",
		     fx->root);
	assert_string_equal(err.msg, want);
	free(want);
	hive_session_close(s);

	/* a first line without its newline is torn too */
	s = make_session(fx, "s2", LINE1, strlen(LINE1) - 1);
	assert_int_equal(hive_log_tail(s, &t, &err), HIVE_EENV);
	assert_non_null(strstr(err.msg, "--repair"));
	hive_session_close(s);
	free(events_p);
}

static void test_log_tail_not_an_event(void **state)
{
	struct fx *fx = *state;
	struct hive_session *s;
	struct hive_err err = {0};
	struct hive_tail t;
	static const char *bad[] = {
		"not json\n", "{\"seq\":0}\n",	 "{\"seq\":\"1\"}\n", "{\"no\":\"seq\"}\n", "\n",
		"[1]\n",      "{\"seq\":1.5}\n", "{\"seq\":1e300}\n", "{\"seq\":-4}\n"};
	char id[16];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(id, sizeof(id), "s%zu", i);
		s = make_session(fx, id, bad[i], strlen(bad[i]));
		assert_int_equal(hive_log_tail(s, &t, &err), HIVE_EENV);
		assert_non_null(strstr(err.msg, "the last line is not an event"));
		hive_session_close(s);
	}
}

/* A log of a short first line and a last line of n bytes: the tail must find the
 * boundary wherever it falls relative to the backwards read window. */
static void tail_with_last_line_of(struct fx *fx, const char *id, size_t n)
{
	struct hive_session *s;
	struct hive_err err = {0};
	struct hive_tail t;
	char want[HIVE_HASH_SIZE], *buf, *last;
	size_t head = strlen(LINE1), pad;
	int rc;

	assert_true(n > 40);
	buf = malloc(head + n + 2);
	assert_non_null(buf);
	memcpy(buf, LINE1, head);
	last = buf + head;
	pad = n - strlen("{\"seq\":2,\"x\":\"\"}");
	memcpy(last, "{\"seq\":2,\"x\":\"", 14);
	memset(last + 14, 'y', pad);
	memcpy(last + 14 + pad, "\"}\n", 4);
	assert_int_equal(strlen(last), n + 1);
	s = make_session(fx, id, buf, head + n + 1);
	rc = hive_log_tail(s, &t, &err);
	if (rc)
		fail_msg("last line of %zu bytes: %s", n, err.msg);
	assert_int_equal(t.last_seq, 2);
	assert_int_equal(t.size, (off_t)(head + n + 1));
	hive_sha256(last, n, want);
	assert_string_equal(t.last_hash, want);
	hive_session_close(s);
	free(buf);
}

static void test_log_tail_long_lines(void **state)
{
	struct fx *fx = *state;
	static const size_t sizes[] = {100,   4094,  4095,   4096,    4097,
				       16383, 16384, 100000, 1000000, HIVE_LINE_MAX};
	char id[32];
	size_t i;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		snprintf(id, sizeof(id), "long-%zu", sizes[i]);
		tail_with_last_line_of(fx, id, sizes[i]);
	}
}

/* --- hive_log_append ---------------------------------------------------------------- */

static void test_log_append_then_tail(void **state)
{
	struct fx *fx = *state;
	struct hive_session *s = make_session(fx, "s1", LINE1, strlen(LINE1));
	struct hive_err err = {0};
	struct hive_tail t, t2;
	char *line2, *line3, *two, *both,
		*events_p = pathf("%s/sessions/s1/EVENTS.jsonl", fx->root);
	char h1[HIVE_HASH_SIZE], h2[HIVE_HASH_SIZE], h3[HIVE_HASH_SIZE], *text;

	assert_int_equal(hive_log_tail(s, &t, &err), HIVE_OK);
	hive_sha256(LINE1, strlen(LINE1) - 1, h1);
	assert_string_equal(t.last_hash, h1);

	line2 = pathf("{\"seq\":%lld,\"event_type\":\"pipeline_updated\",\"prev\":\"%s\"}\n",
		      (long long)t.last_seq + 1, t.last_hash);
	assert_int_equal(hive_log_append(s, &t, line2, strlen(line2), &err), HIVE_OK);
	assert_int_equal(hive_log_tail(s, &t2, &err), HIVE_OK);
	assert_int_equal(t2.last_seq, 2);
	assert_int_equal(t2.size, (off_t)(strlen(LINE1) + strlen(line2)));
	hive_sha256(line2, strlen(line2) - 1, h2);
	assert_string_equal(t2.last_hash, h2);

	/* two lines in one append: the tail is the last of them */
	line3 = pathf("{\"seq\":4,\"prev\":\"%s\"}\n", h2); /* seq 3 then 4 */
	two = pathf("{\"seq\":3,\"prev\":\"%s\"}\n%s", h2, line3);
	assert_int_equal(hive_log_append(s, &t2, two, strlen(two), &err), HIVE_OK);
	assert_int_equal(hive_log_tail(s, &t, &err), HIVE_OK);
	assert_int_equal(t.last_seq, 4);
	hive_sha256(line3, strlen(line3) - 1, h3);
	assert_string_equal(t.last_hash, h3);

	text = slurp(events_p, NULL);
	both = pathf("%s%s%s", LINE1, line2, two);
	assert_string_equal(text, both);

	free(text);
	free(both);
	free(line2);
	free(line3);
	free(two);
	free(events_p);
	hive_session_close(s);
}

static void test_log_append_failure_leaves_log(void **state)
{
	struct fx *fx = *state;
	struct hive_session *s = make_session(fx, "s1", LINE1, strlen(LINE1));
	struct hive_err err = {0};
	struct hive_tail t;
	char *events_p = pathf("%s/sessions/s1/EVENTS.jsonl", fx->root), *text;
	const char line2[] = "{\"seq\":2,\"event_type\":\"pipeline_updated\",\"prev\":null}\n";
	struct rlimit old, lim;
	void (*old_handler)(int);
	int rc;

	assert_int_equal(hive_log_tail(s, &t, &err), HIVE_OK);
	/* the disk "fills up" 10 bytes into the new line: a short write */
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	old_handler = signal(SIGXFSZ, SIG_IGN);
	lim = old;
	lim.rlim_cur = (rlim_t)t.size + 10;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	rc = hive_log_append(s, &t, line2, strlen(line2), &err);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, old_handler);

	assert_int_equal(rc, HIVE_EENV);
	assert_non_null(strstr(err.msg, "append failed, log left as it was"));
	text = slurp(events_p, NULL);
	assert_string_equal(text, LINE1);
	free(text);
	/* and the log is still usable */
	assert_int_equal(hive_log_tail(s, &t, &err), HIVE_OK);
	assert_int_equal(t.last_seq, 1);
	free(events_p);
	hive_session_close(s);
}

/* --- STATE.json --------------------------------------------------------------------- */

static void test_state_write_atomic(void **state)
{
	struct fx *fx = *state;
	struct hive_session *s = make_session(fx, "s1", LINE1, strlen(LINE1));
	struct hive_err err = {0};
	char *sess = pathf("%s/sessions/s1", fx->root), *state_p = pathf("%s/STATE.json", sess);
	char *text, *names;
	cJSON *st = sample_state("active"), *back = NULL, *ev;
	struct stat before, after;
	size_t len;

	assert_int_equal(stat(state_p, &before), 0);
	ev = cJSON_AddObjectToObject(st, "events");
	cJSON_AddNumberToObject(ev, "count", 2);
	cJSON_AddStringToObject(ev, "note", "unicode \xc3\xa9 and \"quotes\"\n");
	assert_int_equal(hive_state_write(s, st, &err), HIVE_OK);

	/* a new file replaced the old one (rename, not rewrite in place) */
	assert_int_equal(stat(state_p, &after), 0);
	assert_true(before.st_ino != after.st_ino);
	/* no temporary file left behind */
	names = list_dir(sess);
	assert_string_equal(names, ".lock EVENTS.jsonl STATE.json");
	free(names);
	/* the content parses and is the state, one line */
	text = slurp(state_p, &len);
	assert_true(len > 0);
	assert_int_equal(text[len - 1], '\n');
	assert_null(memchr(text, '\n', len - 1));
	back = cJSON_Parse(text);
	assert_non_null(back);
	assert_true(cJSON_Compare(back, st, 1));
	cJSON_Delete(back);
	free(text);

	/* hive_state_read gives it back */
	assert_int_equal(hive_state_read(s, &back, &err), HIVE_OK);
	assert_non_null(back);
	assert_true(cJSON_Compare(back, st, 1));
	cJSON_Delete(back);

	/* a second write replaces it whole */
	cJSON_ReplaceItemInObject(st, "status", cJSON_CreateString("completed"));
	assert_int_equal(hive_state_write(s, st, &err), HIVE_OK);
	assert_int_equal(hive_state_read(s, &back, &err), HIVE_OK);
	assert_string_equal(cJSON_GetObjectItem(back, "status")->valuestring, "completed");
	cJSON_Delete(back);
	names = list_dir(sess);
	assert_string_equal(names, ".lock EVENTS.jsonl STATE.json");
	free(names);

	cJSON_Delete(st);
	free(sess);
	free(state_p);
	hive_session_close(s);
}

static void test_state_write_failure_leaves_old(void **state)
{
	struct fx *fx = *state;
	struct hive_session *s = make_session(fx, "s1", LINE1, strlen(LINE1));
	struct hive_err err = {0};
	char *sess = pathf("%s/sessions/s1", fx->root), *state_p = pathf("%s/STATE.json", sess);
	char *before = slurp(state_p, NULL), *after, *names;
	cJSON *st = sample_state("active");
	struct rlimit old, lim;
	void (*old_handler)(int);
	int rc;

	cJSON_AddStringToObject(st, "padding", "a value long enough to pass the size limit");
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	old_handler = signal(SIGXFSZ, SIG_IGN);
	lim = old;
	lim.rlim_cur = 20; /* the new STATE.json cannot be written whole */
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	rc = hive_state_write(s, st, &err);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, old_handler);

	assert_int_equal(rc, HIVE_EENV);
	assert_int_equal(err.status, HIVE_EENV);
	after = slurp(state_p, NULL);
	assert_string_equal(after, before); /* the old view is intact */
	names = list_dir(sess);		    /* and no temporary file is left */
	assert_string_equal(names, ".lock EVENTS.jsonl STATE.json");
	free(names);
	free(after);
	free(before);
	cJSON_Delete(st);
	free(sess);
	free(state_p);
	hive_session_close(s);
}

static void test_state_write_replaces_symlink_not_target(void **state)
{
	struct fx *fx = *state;
	struct hive_session *s = make_session(fx, "s1", LINE1, strlen(LINE1));
	struct hive_err err = {0};
	char *state_p = pathf("%s/sessions/s1/STATE.json", fx->root);
	char *target = pathf("%s/target.json", fx->dir), *text;
	cJSON *st = sample_state("active"), *back = (cJSON *)1;
	struct stat lst;

	spit(target, "{\"keep\":1}", 10, "w");
	assert_int_equal(unlink(state_p), 0);
	assert_int_equal(symlink(target, state_p), 0);
	/* reading through the link is refused */
	assert_int_equal(hive_state_read(s, &back, &err), HIVE_EENV);
	assert_null(back);
	assert_non_null(strstr(err.msg, "symbolic link"));
	/* writing replaces the link itself; the file it pointed to is untouched */
	assert_int_equal(hive_state_write(s, st, &err), HIVE_OK);
	assert_int_equal(lstat(state_p, &lst), 0);
	assert_true(S_ISREG(lst.st_mode));
	text = slurp(target, NULL);
	assert_string_equal(text, "{\"keep\":1}");
	free(text);

	cJSON_Delete(st);
	free(state_p);
	free(target);
	hive_session_close(s);
}

static void test_state_read_missing_or_broken(void **state)
{
	struct fx *fx = *state;
	struct hive_session *s = make_session(fx, "s1", LINE1, strlen(LINE1));
	struct hive_err err = {0};
	char *state_p = pathf("%s/sessions/s1/STATE.json", fx->root);
	cJSON *back = (cJSON *)1;

	/* unparsable: NULL and OK, the caller rebuilds */
	spit(state_p, "{\"torn\":", 8, "w");
	assert_int_equal(hive_state_read(s, &back, &err), HIVE_OK);
	assert_null(back);
	/* not an object */
	back = (cJSON *)1;
	spit(state_p, "[1,2]\n", 6, "w");
	assert_int_equal(hive_state_read(s, &back, &err), HIVE_OK);
	assert_null(back);
	/* missing */
	back = (cJSON *)1;
	assert_int_equal(unlink(state_p), 0);
	assert_int_equal(hive_state_read(s, &back, &err), HIVE_OK);
	assert_null(back);
	assert_int_equal(err.status, HIVE_OK);
	free(state_p);
	hive_session_close(s);
}

/* --- the lock ----------------------------------------------------------------------- */

static double mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_session_lock_timeout(void **state)
{
	struct fx *fx = *state;
	struct hive_session *s = make_session(fx, "s1", LINE1, strlen(LINE1));
	struct hive_err err = {0};
	char *lock_p = pathf("%s/sessions/s1/.lock", fx->root), *want;
	struct sigaction before, after;
	double t0, waited;
	int other;

	/* another open file description holds the lock (flock conflicts across them) */
	other = open(lock_p, O_RDWR);
	assert_true(other >= 0);
	assert_int_equal(flock(other, LOCK_EX | LOCK_NB), 0);

	assert_int_equal(sigaction(SIGALRM, NULL, &before), 0);
	t0 = mono();
	assert_int_equal(hive_session_lock(s, 0.2, &err), HIVE_EENV);
	waited = mono() - t0;
	assert_int_equal(err.status, HIVE_EENV);
	assert_non_null(strstr(err.msg, "HIVE_LOCK_TIMEOUT"));
	want = pathf("%s/sessions/s1/.lock: still held by another process after 0.2s "
		     "(HIVE_LOCK_TIMEOUT)",
		     fx->root);
	assert_string_equal(err.msg, want);
	free(want);
	assert_int_equal(s->lockfd, -1);
	assert_true(waited >= 0.19); /* it did wait */
	assert_true(waited < 5.0);   /* and gave up */
	/* the SIGALRM disposition is given back */
	assert_int_equal(sigaction(SIGALRM, NULL, &after), 0);
	assert_true(after.sa_handler == before.sa_handler);

	/* released: the lock is taken at once, and taking it twice is fine */
	assert_int_equal(flock(other, LOCK_UN), 0);
	assert_int_equal(hive_session_lock(s, 0.2, &err), HIVE_OK);
	assert_true(s->lockfd >= 0);
	assert_int_equal(hive_session_lock(s, 0.2, &err), HIVE_OK);
	/* now the other description cannot have it */
	assert_int_equal(flock(other, LOCK_EX | LOCK_NB), -1);
	assert_int_equal(errno, EWOULDBLOCK);
	hive_session_unlock(s);
	assert_int_equal(s->lockfd, -1);
	assert_int_equal(flock(other, LOCK_EX | LOCK_NB), 0);
	hive_session_unlock(s); /* unlocking twice is harmless */

	/* timeout 0 with the lock held: fails without waiting for a tick */
	assert_int_equal(hive_session_lock(s, 0, &err), HIVE_EENV);
	assert_non_null(strstr(err.msg, "HIVE_LOCK_TIMEOUT"));

	close(other);
	free(lock_p);
	hive_session_close(s);
}

static void test_session_lock_waits_for_release(void **state)
{
	struct fx *fx = *state;
	struct hive_session *s = make_session(fx, "s1", LINE1, strlen(LINE1));
	struct hive_err err = {0};
	char *lock_p = pathf("%s/sessions/s1/.lock", fx->root);
	int ready[2], fd, rc;
	pid_t pid;
	char c;

	assert_int_equal(pipe(ready), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* the child holds the lock for 0.3 s (and frees its copy of the parent's
		 * memory, so leak checkers see a clean exit) */
		fd = open(lock_p, O_RDWR);
		free(lock_p);
		hive_session_close(s);
		if (fd < 0 || flock(fd, LOCK_EX) < 0)
			_exit(1);
		if (write(ready[1], "x", 1) != 1)
			_exit(1);
		usleep(300000);
		_exit(0);
	}
	close(ready[1]);
	assert_int_equal(read(ready[0], &c, 1), 1);
	close(ready[0]);
	rc = hive_session_lock(s, 10, &err);
	if (rc)
		fail_msg("hive_session_lock: %s", err.msg);
	assert_true(s->lockfd >= 0);
	assert_int_equal(waitpid(pid, &rc, 0), pid);
	assert_true(WIFEXITED(rc) && WEXITSTATUS(rc) == 0);
	free(lock_p);
	hive_session_close(s); /* closing releases the lock */
}

static void test_lock_timeout_env(void **state)
{
	(void)state;
	unsetenv("HIVE_LOCK_TIMEOUT");
	assert_true(hive_lock_timeout() == 10.0);
	setenv("HIVE_LOCK_TIMEOUT", "2.5", 1);
	assert_true(hive_lock_timeout() == 2.5);
	setenv("HIVE_LOCK_TIMEOUT", "0", 1);
	assert_true(hive_lock_timeout() == 0.0);
	setenv("HIVE_LOCK_TIMEOUT", "abc", 1);
	assert_true(hive_lock_timeout() == 10.0);
	setenv("HIVE_LOCK_TIMEOUT", "-1", 1);
	assert_true(hive_lock_timeout() == 10.0);
	setenv("HIVE_LOCK_TIMEOUT", "5s", 1);
	assert_true(hive_lock_timeout() == 10.0);
	setenv("HIVE_LOCK_TIMEOUT", "", 1);
	assert_true(hive_lock_timeout() == 10.0);
	unsetenv("HIVE_LOCK_TIMEOUT");
}

/* --- the line reader ---------------------------------------------------------------- */

struct want_line {
	const char *text; /* NULL: a too-long line, checked by length and first byte */
	size_t len;
	enum hive_line_kind kind;
	char fill; /* for too-long lines: the byte the line is made of */
};

/* Read every line from r and compare with want[0..n), then expect the end. */
static void expect_lines(struct hive_lines *r, const struct want_line *want, size_t n)
{
	struct hive_err err = {0};
	enum hive_line_kind kind;
	const char *line;
	size_t len, i, j;

	for (i = 0; i < n; i++) {
		int rc = hive_lines_next(r, &line, &len, &kind, &err);
		if (rc != 1)
			fail_msg("line %zu: hive_lines_next returned %d (%s)", i + 1, rc, err.msg);
		if (kind != want[i].kind)
			fail_msg("line %zu: kind %d, want %d", i + 1, (int)kind, (int)want[i].kind);
		if (len != want[i].len)
			fail_msg("line %zu: len %zu, want %zu", i + 1, len, want[i].len);
		assert_int_equal(hive_lines_number(r), i + 1);
		if (want[i].text) {
			assert_memory_equal(line, want[i].text, len);
		} else {
			/* a too-long line: its first bytes are there */
			for (j = 0; j < len; j++)
				if (line[j] != want[i].fill)
					fail_msg("line %zu: byte %zu is %d, want %d", i + 1, j,
						 line[j], want[i].fill);
		}
	}
	assert_int_equal(hive_lines_next(r, &line, &len, &kind, &err), 0);
	assert_int_equal(hive_lines_next(r, &line, &len, &kind, &err), 0); /* stays at the end */
}

/* Build: "a\n" "bb\n" "\n" <n bytes of 'x'> "\n" "next\n" "last" (no newline). */
static char *input_with_long_line(size_t n, size_t *total)
{
	const char head[] = "a\nbb\n\n", tail[] = "\nnext\nlast";
	char *buf = malloc(sizeof(head) + n + sizeof(tail));

	assert_non_null(buf);
	memcpy(buf, head, sizeof(head) - 1);
	memset(buf + sizeof(head) - 1, 'x', n);
	memcpy(buf + sizeof(head) - 1 + n, tail, sizeof(tail));
	*total = sizeof(head) - 1 + n + sizeof(tail) - 1;
	return buf;
}

static void want_for_long(struct want_line *w, size_t n)
{
	w[0] = (struct want_line){"a", 1, HIVE_LINE_OK, 0};
	w[1] = (struct want_line){"bb", 2, HIVE_LINE_OK, 0};
	w[2] = (struct want_line){"", 0, HIVE_LINE_OK, 0};
	if (n > HIVE_LINE_MAX)
		w[3] = (struct want_line){NULL, HIVE_LINE_MAX, HIVE_LINE_TOO_LONG, 'x'};
	else
		w[3] = (struct want_line){NULL, n, HIVE_LINE_OK, 'x'};
	w[4] = (struct want_line){"next", 4, HIVE_LINE_OK, 0};
	w[5] = (struct want_line){"last", 4, HIVE_LINE_NO_NEWLINE, 0};
}

static const size_t long_sizes[] = {HIVE_LINE_MAX, HIVE_LINE_MAX + 1, 3 * HIVE_LINE_MAX + 7};

static void test_lines_mem(void **state)
{
	static const char in[] = "first\nsecond line\n\n  spaced  \nno newline";
	static const struct want_line want[] = {
		{"first", 5, HIVE_LINE_OK, 0},
		{"second line", 11, HIVE_LINE_OK, 0},
		{"", 0, HIVE_LINE_OK, 0},
		{"  spaced  ", 10, HIVE_LINE_OK, 0},
		{"no newline", 10, HIVE_LINE_NO_NEWLINE, 0},
	};
	static const struct want_line one_empty[] = {{"", 0, HIVE_LINE_OK, 0}};
	struct hive_lines *r = NULL;
	struct hive_err err = {0};
	struct want_line w[6];
	size_t i, total;
	char *buf;

	(void)state;
	assert_int_equal(hive_lines_from_mem(in, strlen(in), &r, &err), HIVE_OK);
	expect_lines(r, want, 5);
	hive_lines_free(r);

	/* a trailing newline ends the last line: no extra empty line */
	assert_int_equal(hive_lines_from_mem(in, 6, &r, &err), HIVE_OK);
	expect_lines(r, want, 1);
	hive_lines_free(r);

	/* empty input; a lone newline */
	assert_int_equal(hive_lines_from_mem("", 0, &r, &err), HIVE_OK);
	expect_lines(r, NULL, 0);
	assert_int_equal(hive_lines_number(r), 0);
	hive_lines_free(r);
	assert_int_equal(hive_lines_from_mem("\n", 1, &r, &err), HIVE_OK);
	expect_lines(r, one_empty, 1);
	hive_lines_free(r);

	/* a NUL byte is part of a line, not its end */
	assert_int_equal(hive_lines_from_mem("a\0b\n", 4, &r, &err), HIVE_OK);
	{
		static const struct want_line nul[] = {{"a\0b", 3, HIVE_LINE_OK, 0}};
		expect_lines(r, nul, 1);
	}
	hive_lines_free(r);

	for (i = 0; i < sizeof(long_sizes) / sizeof(long_sizes[0]); i++) {
		buf = input_with_long_line(long_sizes[i], &total);
		want_for_long(w, long_sizes[i]);
		assert_int_equal(hive_lines_from_mem(buf, total, &r, &err), HIVE_OK);
		expect_lines(r, w, 6);
		hive_lines_free(r);
		free(buf);
	}

	/* a too-long last line without a newline */
	buf = malloc(HIVE_LINE_MAX + 10);
	assert_non_null(buf);
	memset(buf, 'z', HIVE_LINE_MAX + 10);
	assert_int_equal(hive_lines_from_mem(buf, HIVE_LINE_MAX + 10, &r, &err), HIVE_OK);
	{
		const struct want_line z[] = {{NULL, HIVE_LINE_MAX, HIVE_LINE_TOO_LONG, 'z'}};
		expect_lines(r, z, 1);
	}
	hive_lines_free(r);
	free(buf);
	hive_lines_free(NULL);
}

static void test_lines_fd_file(void **state)
{
	struct fx *fx = *state;
	char *p = pathf("%s/input", fx->dir), *buf;
	struct hive_lines *r = NULL;
	struct hive_err err = {0};
	struct want_line w[6];
	size_t i, total;
	int fd;

	for (i = 0; i < sizeof(long_sizes) / sizeof(long_sizes[0]); i++) {
		buf = input_with_long_line(long_sizes[i], &total);
		spit(p, buf, total, "w");
		free(buf);
		want_for_long(w, long_sizes[i]);
		fd = open(p, O_RDONLY);
		assert_true(fd >= 0);
		assert_int_equal(hive_lines_from_fd(fd, &r, &err), HIVE_OK);
		expect_lines(r, w, 6);
		hive_lines_free(r);
		close(fd);
	}

	/* a too-long last line without a newline, larger than any buffer */
	buf = malloc(3 * HIVE_LINE_MAX);
	assert_non_null(buf);
	memset(buf, 'z', 3 * HIVE_LINE_MAX);
	memcpy(buf, "ok\n", 3);
	spit(p, buf, 3 * HIVE_LINE_MAX, "w");
	free(buf);
	fd = open(p, O_RDONLY);
	assert_int_equal(hive_lines_from_fd(fd, &r, &err), HIVE_OK);
	{
		const struct want_line z[] = {{"ok", 2, HIVE_LINE_OK, 0},
					      {NULL, HIVE_LINE_MAX, HIVE_LINE_TOO_LONG, 'z'}};
		expect_lines(r, z, 2);
	}
	hive_lines_free(r);
	close(fd);

	/* an empty file */
	spit(p, "", 0, "w");
	fd = open(p, O_RDONLY);
	assert_int_equal(hive_lines_from_fd(fd, &r, &err), HIVE_OK);
	expect_lines(r, NULL, 0);
	hive_lines_free(r);
	/* the reader does not close the descriptor */
	assert_true(fcntl(fd, F_GETFD) != -1);
	close(fd);
	free(p);
}

/* Many lines of varying length, so line ends fall on every buffer boundary. */
static void test_lines_fd_many(void **state)
{
	struct fx *fx = *state;
	char *p = pathf("%s/many", fx->dir), *buf, *q;
	struct hive_lines *r = NULL;
	struct hive_err err = {0};
	enum hive_line_kind kind;
	const char *line;
	size_t len, i, n = 20000, total = 0, seen = 0;
	int fd;

	for (i = 0; i < n; i++)
		total += i % 997 + 1;
	buf = malloc(total);
	assert_non_null(buf);
	for (q = buf, i = 0; i < n; i++) {
		memset(q, 'a' + (char)(i % 26), i % 997);
		q += i % 997;
		*q++ = '\n';
	}
	spit(p, buf, total, "w");
	free(buf);
	fd = open(p, O_RDONLY);
	assert_int_equal(hive_lines_from_fd(fd, &r, &err), HIVE_OK);
	while (hive_lines_next(r, &line, &len, &kind, &err) == 1) {
		if (len != seen % 997 || kind != HIVE_LINE_OK ||
		    (len && (line[0] != 'a' + (char)(seen % 26) ||
			     line[len - 1] != 'a' + (char)(seen % 26))))
			fail_msg("line %zu wrong (len %zu)", seen + 1, len);
		seen++;
		assert_int_equal(hive_lines_number(r), seen);
	}
	assert_int_equal(seen, n);
	hive_lines_free(r);
	close(fd);
	free(p);
}

/* Over a pipe, fed by a child in small writes: reads return partial data. */
static void test_lines_fd_pipe(void **state)
{
	struct hive_lines *r = NULL;
	struct hive_err err = {0};
	struct want_line w[6];
	size_t total, off, chunk, i;
	int fds[2], status;
	pid_t pid;
	char *buf;

	(void)state;
	for (i = 0; i < sizeof(long_sizes) / sizeof(long_sizes[0]); i++) {
		buf = input_with_long_line(long_sizes[i], &total);
		want_for_long(w, long_sizes[i]);
		assert_int_equal(pipe(fds), 0);
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			close(fds[0]);
			for (off = 0; off < total; off += chunk) {
				chunk = total - off < 4000 ? total - off : 4000;
				if (write(fds[1], buf + off, chunk) != (ssize_t)chunk)
					_exit(1);
			}
			free(buf);
			_exit(0);
		}
		close(fds[1]);
		assert_int_equal(hive_lines_from_fd(fds[0], &r, &err), HIVE_OK);
		expect_lines(r, w, 6);
		hive_lines_free(r);
		close(fds[0]);
		free(buf);
		assert_int_equal(waitpid(pid, &status, 0), pid);
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}

	/* a pipe whose writer closes without a final newline */
	assert_int_equal(pipe(fds), 0);
	assert_int_equal(write(fds[1], "one\ntwo", 7), 7);
	close(fds[1]);
	assert_int_equal(hive_lines_from_fd(fds[0], &r, &err), HIVE_OK);
	{
		static const struct want_line two[] = {{"one", 3, HIVE_LINE_OK, 0},
						       {"two", 3, HIVE_LINE_NO_NEWLINE, 0}};
		expect_lines(r, two, 2);
	}
	hive_lines_free(r);
	close(fds[0]);
}

static void test_lines_fd_read_error(void **state)
{
	struct hive_lines *r = NULL;
	struct hive_err err = {0};
	enum hive_line_kind kind;
	const char *line;
	size_t len;
	int fd = open("/tmp", O_RDONLY | O_DIRECTORY);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(hive_lines_from_fd(fd, &r, &err), HIVE_OK);
	assert_int_equal(hive_lines_next(r, &line, &len, &kind, &err), -1);
	assert_int_equal(err.status, HIVE_EENV);
	assert_non_null(strstr(err.msg, "Is a directory"));
	hive_lines_free(r);
	close(fd);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup_tmpdir, teardown_tmpdir)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_id_check_valid),
		cmocka_unit_test(test_id_check_invalid),
		cmocka_unit_test(test_id_generate),
		T(test_session_create),
		T(test_session_create_existing_changes_nothing),
		T(test_session_create_bad_id),
		T(test_session_open),
		T(test_session_open_refuses_symlinks),
		cmocka_unit_test(test_sha256_known),
		T(test_log_tail_empty),
		T(test_log_tail_one_line),
		T(test_log_tail_torn),
		T(test_log_tail_not_an_event),
		T(test_log_tail_long_lines),
		T(test_log_append_then_tail),
		T(test_log_append_failure_leaves_log),
		T(test_state_write_atomic),
		T(test_state_write_failure_leaves_old),
		T(test_state_write_replaces_symlink_not_target),
		T(test_state_read_missing_or_broken),
		T(test_session_lock_timeout),
		T(test_session_lock_waits_for_release),
		cmocka_unit_test(test_lock_timeout_env),
		cmocka_unit_test(test_lines_mem),
		T(test_lines_fd_file),
		T(test_lines_fd_many),
		cmocka_unit_test(test_lines_fd_pipe),
		cmocka_unit_test(test_lines_fd_read_error),
	};

	return cmocka_run_group_tests_name("log", tests, NULL, NULL);
}
