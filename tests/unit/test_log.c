/* test_log.c - unit tests for lib/log.c: the session folder, lock, tail, append, chain hash,
 * STATE.json */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "unit.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
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

static int setup_tmpdir(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));

	if (!fx || !(fx->dir = unit_mkdtemp()))
		return -1;
	if (asprintf(&fx->root, "%s/Docs/hive-mind", fx->dir) < 0)
		return -1;
	*state = fx;
	return 0;
}

static int teardown_tmpdir(void **state)
{
	struct fx *fx = *state;

	unit_rm_tree(fx->dir);
	free(fx->dir);
	free(fx->root);
	free(fx);
	return 0;
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

/* --- hive_session_create / hive_session_open ---------------------------------------- */

static void test_session_create(void **state)
{
	struct fx *fx = *state;
	struct hive_session *s = NULL;
	struct hive_err err = {0};
	cJSON *st = sample_state("active"), *back;
	char *sess = unit_pathf("%s/sessions/s1", fx->root),
	     *sessions = unit_pathf("%s/sessions", fx->root);
	char *events_p = unit_pathf("%s/EVENTS.jsonl", sess),
	     *state_p = unit_pathf("%s/STATE.json", sess);
	char *lock_p = unit_pathf("%s/.lock", sess), *text, *names, *want_dir, cwd[4096];
	size_t len;
	int created = -1;

	/* the root does not exist yet: it is made */
	assert_false(unit_exists(fx->root));
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
	names = unit_list_dir(sess);
	assert_string_equal(names, ".lock EVENTS.jsonl STATE.json");
	free(names);
	names = unit_list_dir(sessions);
	assert_string_equal(names, "s1");
	free(names);

	text = unit_slurp(events_p, &len);
	assert_int_equal(len, strlen(LINE1));
	assert_string_equal(text, LINE1);
	free(text);
	text = unit_slurp(lock_p, &len);
	assert_int_equal(len, 0);
	free(text);
	text = unit_slurp(state_p, &len);
	back = cJSON_Parse(text);
	assert_non_null(back);
	assert_true(cJSON_Compare(back, st, 1));
	cJSON_Delete(back);
	free(text);
	hive_session_close(s);
	s = NULL;

	/* a relative root works the same (s->dir is as given) */
	want_dir = unit_pathf("%s", "rel/sessions/s2");
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
	char *events_p = unit_pathf("%s/sessions/s1/EVENTS.jsonl", fx->root);
	char *state_p = unit_pathf("%s/sessions/s1/STATE.json", fx->root);
	char *sessions = unit_pathf("%s/sessions", fx->root);
	char *ev_before = unit_slurp(events_p, NULL), *st_before = unit_slurp(state_p, NULL), *ev,
	     *stt;
	char *names;
	const char other_line[] = "{\"seq\":1,\"other\":true}\n";
	int created = -1;

	assert_int_equal(hive_session_create(fx->root, "s1", other_line, strlen(other_line), other,
					     &created, &s2, &err),
			 HIVE_OK);
	assert_int_equal(created, 0);
	assert_non_null(s2); /* the existing session, opened */
	assert_string_equal(s2->id, "s1");
	ev = unit_slurp(events_p, NULL);
	stt = unit_slurp(state_p, NULL);
	assert_string_equal(ev, ev_before);
	assert_string_equal(stt, st_before);
	names = unit_list_dir(sessions);
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
	assert_false(unit_exists(fx->root));
	cJSON_Delete(st);
}

static void test_session_open(void **state)
{
	struct fx *fx = *state;
	struct hive_session *s = make_session(fx, "s1", LINE1, strlen(LINE1)), *o = NULL;
	struct hive_err err = {0};
	char *missing_root = unit_pathf("%s/nowhere", fx->dir);

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
	char *real = unit_pathf("%s/sessions/real", fx->root);
	char *link = unit_pathf("%s/sessions/linked", fx->root);
	char *events_p = unit_pathf("%s/sessions/real/EVENTS.jsonl", fx->root);
	char *elsewhere = unit_pathf("%s/elsewhere.jsonl", fx->dir);
	char *root2 = unit_pathf("%s/root2", fx->dir),
	     *sessions2 = unit_pathf("%s/root2/sessions", fx->dir);
	char *want;
	cJSON *st = sample_state("active");
	int created = -1;

	hive_session_close(s);

	/* a session folder that is a link to a real session */
	assert_int_equal(symlink(real, link), 0);
	assert_int_equal(hive_session_open(fx->root, "linked", &o, &err), HIVE_EENV);
	assert_null(o);
	want = unit_pathf("%s/sessions/linked: is a symbolic link (refused)", fx->root);
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
	unit_spit(elsewhere, LINE1, strlen(LINE1), "w");
	assert_int_equal(unlink(events_p), 0);
	assert_int_equal(symlink(elsewhere, events_p), 0);
	assert_int_equal(hive_session_open(fx->root, "real", &o, &err), HIVE_EENV);
	assert_null(o);
	want = unit_pathf("%s/sessions/real/EVENTS.jsonl: is a symbolic link (refused)", fx->root);
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

static void test_log_head(void **state)
{
	struct fx *fx = *state;
	struct hive_err err = {0};
	char *line = NULL, *big;
	size_t len, n = 20000;
	struct hive_session *s = make_session(fx, "s1", LINE1, strlen(LINE1)), *t;

	assert_int_equal(hive_log_head(s, &line, &len, &err), HIVE_OK);
	assert_int_equal(len, strlen(LINE1) - 1);
	assert_memory_equal(line, LINE1, len);
	assert_int_equal(line[len], '\0');
	free(line);
	hive_session_close(s);
	/* a first line longer than the first window; then one without a newline */
	assert_non_null(big = malloc(n + 2));
	memset(big, 'x', n);
	big[n] = '\n';
	big[n + 1] = '\0';
	t = make_session(fx, "s2", big, n + 1);
	assert_int_equal(hive_log_head(t, &line, &len, &err), HIVE_OK);
	assert_int_equal(len, n);
	free(line);
	hive_session_close(t);
	t = make_session(fx, "s3", big, n);
	assert_int_equal(hive_log_head(t, &line, &len, &err), HIVE_EENV);
	assert_null(line);
	assert_non_null(strstr(err.msg, "/EVENTS.jsonl:1: not a whole line"));
	hive_session_close(t);
	free(big);
}

static void test_log_tail_torn(void **state)
{
	struct fx *fx = *state;
	struct hive_session *s = make_session(fx, "s1", LINE1, strlen(LINE1));
	struct hive_err err = {0};
	struct hive_tail t;
	char *events_p = unit_pathf("%s/sessions/s1/EVENTS.jsonl", fx->root), *want;
	const char torn[] = "{\"seq\":2,\"timestamp\":\"2025-01";

	unit_spit(events_p, torn, strlen(torn), "a");
	assert_int_equal(hive_log_tail(s, &t, &err), HIVE_EENV);
	assert_int_equal(err.status, HIVE_EENV);
	assert_non_null(strstr(err.msg, "--repair"));
	want = unit_pathf("%s/sessions/s1/EVENTS.jsonl: the last line is cut off (no newline): run "
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
		*events_p = unit_pathf("%s/sessions/s1/EVENTS.jsonl", fx->root);
	char h1[HIVE_HASH_SIZE], h2[HIVE_HASH_SIZE], h3[HIVE_HASH_SIZE], *text;

	assert_int_equal(hive_log_tail(s, &t, &err), HIVE_OK);
	hive_sha256(LINE1, strlen(LINE1) - 1, h1);
	assert_string_equal(t.last_hash, h1);

	line2 = unit_pathf("{\"seq\":%lld,\"event_type\":\"pipeline_updated\",\"prev\":\"%s\"}\n",
			   (long long)t.last_seq + 1, t.last_hash);
	assert_int_equal(hive_log_append(s, &t, line2, strlen(line2), &err), HIVE_OK);
	assert_int_equal(hive_log_tail(s, &t2, &err), HIVE_OK);
	assert_int_equal(t2.last_seq, 2);
	assert_int_equal(t2.size, (off_t)(strlen(LINE1) + strlen(line2)));
	hive_sha256(line2, strlen(line2) - 1, h2);
	assert_string_equal(t2.last_hash, h2);

	/* two lines in one append: the tail is the last of them */
	line3 = unit_pathf("{\"seq\":4,\"prev\":\"%s\"}\n", h2); /* seq 3 then 4 */
	two = unit_pathf("{\"seq\":3,\"prev\":\"%s\"}\n%s", h2, line3);
	assert_int_equal(hive_log_append(s, &t2, two, strlen(two), &err), HIVE_OK);
	assert_int_equal(hive_log_tail(s, &t, &err), HIVE_OK);
	assert_int_equal(t.last_seq, 4);
	hive_sha256(line3, strlen(line3) - 1, h3);
	assert_string_equal(t.last_hash, h3);

	text = unit_slurp(events_p, NULL);
	both = unit_pathf("%s%s%s", LINE1, line2, two);
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
	char *events_p = unit_pathf("%s/sessions/s1/EVENTS.jsonl", fx->root), *text;
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
	text = unit_slurp(events_p, NULL);
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
	char *sess = unit_pathf("%s/sessions/s1", fx->root),
	     *state_p = unit_pathf("%s/STATE.json", sess);
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
	names = unit_list_dir(sess);
	assert_string_equal(names, ".lock EVENTS.jsonl STATE.json");
	free(names);
	/* the content parses and is the state, one line */
	text = unit_slurp(state_p, &len);
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
	names = unit_list_dir(sess);
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
	char *sess = unit_pathf("%s/sessions/s1", fx->root),
	     *state_p = unit_pathf("%s/STATE.json", sess);
	char *before = unit_slurp(state_p, NULL), *after, *names;
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
	after = unit_slurp(state_p, NULL);
	assert_string_equal(after, before); /* the old view is intact */
	names = unit_list_dir(sess);	    /* and no temporary file is left */
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
	char *state_p = unit_pathf("%s/sessions/s1/STATE.json", fx->root);
	char *target = unit_pathf("%s/target.json", fx->dir), *text;
	cJSON *st = sample_state("active"), *back = (cJSON *)1;
	struct stat lst;

	unit_spit(target, "{\"keep\":1}", 10, "w");
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
	text = unit_slurp(target, NULL);
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
	char *state_p = unit_pathf("%s/sessions/s1/STATE.json", fx->root);
	cJSON *back = (cJSON *)1;

	/* unparsable: NULL and OK, the caller rebuilds */
	unit_spit(state_p, "{\"torn\":", 8, "w");
	assert_int_equal(hive_state_read(s, &back, &err), HIVE_OK);
	assert_null(back);
	/* not an object */
	back = (cJSON *)1;
	unit_spit(state_p, "[1,2]\n", 6, "w");
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
	char *lock_p = unit_pathf("%s/sessions/s1/.lock", fx->root), *want;
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
	want = unit_pathf("%s/sessions/s1/.lock: still held by another process after 0.2s "
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
	char *lock_p = unit_pathf("%s/sessions/s1/.lock", fx->root);
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

/* segments: an append past HIVE_SEGMENT_BYTES starts EVENTS-000002.jsonl, the tail follows it,
 * a reopen finds it, the reader reads both in turn, and undoing the append removes it */
static void test_log_segments(void **state)
{
	struct fx *fx = *state;
	struct hive_session *s = make_session(fx, "s1", LINE1, strlen(LINE1));
	struct hive_err err = {0};
	struct hive_tail t, t2;
	struct hive_lines *r = NULL;
	enum hive_line_kind kind;
	const char *line;
	char pad[5000], *big, name[32],
		*seg2 = unit_pathf("%s/sessions/s1/EVENTS-000002.jsonl", fx->root);
	size_t len, local;
	struct stat st;

	assert_string_equal(hive_log_segment_name(0, name), "EVENTS.jsonl");
	assert_string_equal(hive_log_segment_name(1, name), "EVENTS-000002.jsonl");
	assert_int_equal(hive_log_segment_index("EVENTS.jsonl"), 0);
	assert_int_equal(hive_log_segment_index("EVENTS-000002.jsonl"), 1);
	assert_int_equal(hive_log_segment_index("EVENTS-000001.jsonl"), -1);
	assert_int_equal(hive_log_segment_index("EVENTS-00002.jsonl"), -1);
	assert_int_equal(hive_log_segment_index("EVENTS-00000x.jsonl"), -1);
	assert_int_equal(hive_log_segment_index("STATE.json"), -1);
	setenv("HIVE_SEGMENT_BYTES", "4096", 1);
	assert_int_equal(hive_log_segment_max(), 4096);

	memset(pad, 'x', sizeof(pad) - 1);
	pad[sizeof(pad) - 1] = '\0';
	assert_int_equal(hive_log_tail(s, &t, &err), HIVE_OK);
	big = unit_pathf("{\"seq\":2,\"prev\":\"%s\",\"pad\":\"%s\"}\n", t.last_hash, pad);
	assert_int_equal(hive_log_append(s, &t, big, strlen(big), &err), HIVE_OK);
	assert_int_equal(s->nsegs, 2);
	assert_int_equal(stat(seg2, &st), 0);
	assert_int_equal(st.st_size, (off_t)strlen(big)); /* over the limit: one append, whole */
	assert_int_equal(hive_log_tail(s, &t2, &err), HIVE_OK);
	assert_int_equal(t2.last_seq, 2);

	/* a reopened session finds both; the reader gives each line with its file and number */
	hive_session_close(s);
	assert_int_equal(hive_session_open(fx->root, "s1", &s, &err), HIVE_OK);
	assert_int_equal(s->nsegs, 2);
	assert_int_equal(hive_log_lines(s, &r, &err), HIVE_OK);
	assert_int_equal(hive_lines_next(r, &line, &len, &kind, &err), 1);
	assert_int_equal(hive_lines_source(r, &local), 0);
	assert_int_equal(local, 1);
	assert_int_equal(hive_lines_next(r, &line, &len, &kind, &err), 1);
	assert_int_equal(hive_lines_source(r, &local), 1);
	assert_int_equal(local, 1);
	assert_int_equal(hive_lines_number(r), 2);
	assert_int_equal(kind, HIVE_LINE_OK);
	assert_int_equal(hive_lines_next(r, &line, &len, &kind, &err), 0);
	hive_lines_free(r);

	/* the next append goes on in the active segment (under the limit), then one is undone */
	setenv("HIVE_SEGMENT_BYTES", "16384", 1);
	assert_int_equal(hive_log_tail(s, &t, &err), HIVE_OK);
	assert_int_equal(hive_log_append(s, &t, "{\"seq\":3}\n", 11, &err), HIVE_OK);
	assert_int_equal(s->nsegs, 2);
	assert_int_equal(hive_log_truncate(s, t.size), 0);
	assert_int_equal(stat(seg2, &st), 0);
	assert_int_equal(st.st_size, (off_t)strlen(big));

	/* an append that started a segment, undone: the segment is gone */
	setenv("HIVE_SEGMENT_BYTES", "4096", 1);
	assert_int_equal(hive_log_tail(s, &t, &err), HIVE_OK);
	assert_int_equal(hive_log_append(s, &t, big, strlen(big), &err), HIVE_OK);
	assert_int_equal(s->nsegs, 3);
	assert_int_equal(hive_log_truncate(s, t.size), 0);
	assert_int_equal(s->nsegs, 2);
	free(seg2);
	seg2 = unit_pathf("%s/sessions/s1/EVENTS-000003.jsonl", fx->root);
	assert_int_equal(stat(seg2, &st), -1);
	assert_int_equal(hive_log_tail(s, &t, &err), HIVE_OK);
	assert_int_equal(t.last_seq, 2);

	/* out of range is the default */
	setenv("HIVE_SEGMENT_BYTES", "100", 1);
	assert_int_equal(hive_log_segment_max(), (size_t)2 << 20);
	setenv("HIVE_SEGMENT_BYTES", "2G", 1);
	assert_int_equal(hive_log_segment_max(), (size_t)2 << 20);
	unsetenv("HIVE_SEGMENT_BYTES");
	free(seg2);
	free(big);
	hive_session_close(s);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup_tmpdir, teardown_tmpdir)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_session_create),
		T(test_session_create_existing_changes_nothing),
		T(test_session_create_bad_id),
		T(test_session_open),
		T(test_session_open_refuses_symlinks),
		cmocka_unit_test(test_sha256_known),
		T(test_log_tail_empty),
		T(test_log_tail_one_line),
		T(test_log_head),
		T(test_log_tail_torn),
		T(test_log_tail_not_an_event),
		T(test_log_tail_long_lines),
		T(test_log_append_then_tail),
		T(test_log_append_failure_leaves_log),
		T(test_log_segments),
		T(test_state_write_atomic),
		T(test_state_write_failure_leaves_old),
		T(test_state_write_replaces_symlink_not_target),
		T(test_state_read_missing_or_broken),
		T(test_session_lock_timeout),
		T(test_session_lock_waits_for_release),
		cmocka_unit_test(test_lock_timeout_env),
	};

	return cmocka_run_group_tests_name("log", tests, NULL, NULL);
}
