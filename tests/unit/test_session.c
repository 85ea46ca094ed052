/* test_session.c - unit tests for lib/session.c: the transaction, enumeration, path split, repair
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "unit.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../lib/config.h"
#include "../../lib/session.h"
#include "../../lib/state.h"
#include "../../lib/util.h"

/* --- helpers ------------------------------------------------------------------------ */

struct fx {
	char dir[64];
	char root[128];
	char sess[160]; /* <root>/sessions/s1 */
	struct hive_config cfg;
};

static int setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));

	if (unit_mkdtemp_into(fx->dir, sizeof(fx->dir)))
		return -1;
	snprintf(fx->root, sizeof(fx->root), "%s/root", fx->dir);
	snprintf(fx->sess, sizeof(fx->sess), "%s/sessions/s1", fx->root);
	hive_config_init(&fx->cfg);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;

	unit_rm_tree(fx->dir);
	hive_config_free(&fx->cfg);
	free(fx);
	return 0;
}

static cJSON *started_details(void)
{
	cJSON *d = cJSON_CreateObject();

	cJSON_AddNullToObject(d, "worker_profile");
	cJSON_AddObjectToObject(d, "requirements");
	return d;
}

static cJSON *deploy_details(const char *status)
{
	cJSON *d = cJSON_Parse("{\"resource\":\"web\",\"action\":\"update\",\"platform\":\"K8s\","
			       "\"configuration\":{\"environment\":\"prod\",\"version\":\"1.2\"}}");

	cJSON_AddStringToObject(d, "status", status);
	return d;
}

/* A new session s1 made through a transaction (worker "w1"). */
static void make_s1(struct fx *fx)
{
	struct hive_txn_opts o = {&fx->cfg, NULL, NULL, "w1", 1, 0, NULL, NULL};
	struct hive_txn *t = NULL;
	struct hive_err err = {0};
	cJSON *d = started_details();

	assert_int_equal(hive_txn_begin(fx->root, "s1", &o, &t, &err), HIVE_OK);
	assert_true(hive_txn_is_new(t));
	assert_int_equal(hive_txn_add(t, "session_started", d, &err), HIVE_OK);
	assert_int_equal(hive_txn_commit(t, &err), HIVE_OK);
	assert_int_equal(hive_txn_created(t), 1);
	hive_txn_free(t);
	cJSON_Delete(d);
}

/* Add one event of type to s1 in its own transaction; returns the status. */
static int add_one(struct fx *fx, const char *type, cJSON *details, struct hive_err *err)
{
	struct hive_txn_opts o = {&fx->cfg, NULL, NULL, NULL, 0, 0, NULL, NULL};
	struct hive_txn *t = NULL;
	int rc;

	if ((rc = hive_txn_begin(fx->root, "s1", &o, &t, err)))
		return rc;
	if (!(rc = hive_txn_add(t, type, details, err)))
		rc = hive_txn_commit(t, err);
	hive_txn_free(t);
	return rc;
}

/* --- tests ---------------------------------------------------------------------------- */

static void test_begin_missing(void **state)
{
	struct fx *fx = *state;
	struct hive_txn_opts o = {&fx->cfg, NULL, NULL, NULL, 0, 0, NULL, NULL};
	struct hive_txn *t = NULL;
	struct hive_err err = {0};

	assert_int_equal(hive_txn_begin(fx->root, "s1", &o, &t, &err), HIVE_EUSAGE);
	assert_null(t);
	assert_int_equal(err.sys, ENOENT);
	assert_string_equal(err.msg, "session s1 does not exist: run hive-init first");
	/* an id that would escape the root is refused before anything is touched */
	assert_int_equal(hive_txn_begin(fx->root, "../s1", &o, &t, &err), HIVE_EUSAGE);
	assert_null(t);
}

static void test_create_and_chain(void **state)
{
	struct fx *fx = *state;
	struct hive_txn_opts o = {&fx->cfg, NULL, NULL, NULL, 0, 0, NULL, NULL};
	struct hive_txn *t = NULL;
	struct hive_err err = {0};
	char *log1, *log2, *st, hash[HIVE_HASH_SIZE], *expect;
	const char *lines;
	size_t len;
	cJSON *d1 = deploy_details("success"), *d2 = deploy_details("failure"), *ev;

	make_s1(fx);
	assert_non_null(log1 = unit_slurp_in(fx->sess, "EVENTS.jsonl"));
	assert_non_null(strstr(log1, "\"seq\":1,"));
	assert_non_null(strstr(log1, "\"worker\":\"w1\""));
	assert_non_null(strstr(log1, "\"prev\":null"));

	assert_int_equal(hive_txn_begin(fx->root, "s1", &o, &t, &err), HIVE_OK);
	assert_false(hive_txn_is_new(t));
	assert_null(hive_txn_rebuilt(t));
	assert_int_equal(hive_txn_add(t, "deployment_configured", d1, &err), HIVE_OK);
	assert_int_equal(hive_txn_add(t, "deployment_configured", d2, &err), HIVE_OK);
	lines = hive_txn_lines(t, &len);
	/* nothing is on disk before the commit */
	assert_non_null(log2 = unit_slurp_in(fx->sess, "EVENTS.jsonl"));
	assert_string_equal(log2, log1);
	free(log2);
	assert_int_equal(hive_txn_commit(t, &err), HIVE_OK);
	assert_non_null(log2 = unit_slurp_in(fx->sess, "EVENTS.jsonl"));
	assert_int_equal(strlen(log2), strlen(log1) + len);
	assert_memory_equal(log2 + strlen(log1), lines, len);
	/* line 2's prev is the hash of line 1, and the worker is line 1's */
	hive_sha256(log1, strlen(log1) - 1, hash);
	assert_non_null(ev = cJSON_ParseWithLength(lines, strchr(lines, '\n') - lines));
	assert_string_equal(hive_json_str(ev, "prev"), hash);
	assert_string_equal(hive_json_str(ev, "worker"), "w1");
	assert_int_equal(cJSON_GetObjectItem(ev, "seq")->valueint, 2);
	cJSON_Delete(ev);
	/* STATE.json is the fold of the three lines */
	assert_non_null(st = unit_slurp_in(fx->sess, "STATE.json"));
	assert_non_null(strstr(st, "\"count\":3,\"last_seq\":3,"));
	assert_non_null(strstr(st, "\"failures\":1"));
	assert_non_null(
		strstr(st, "\"deployment\":{\"status\":\"failure\",\"environment\":\"prod\""));
	assert_int_equal(asprintf(&expect, "%s", st), (int)strlen(st));
	free(expect);
	hive_txn_free(t);
	free(st);
	free(log1);
	free(log2);
	cJSON_Delete(d1);
	cJSON_Delete(d2);
}

static void test_add_invalid_changes_nothing(void **state)
{
	struct fx *fx = *state;
	struct hive_txn_opts o = {&fx->cfg, NULL, NULL, NULL, 0, 0, NULL, NULL};
	struct hive_txn *t = NULL;
	struct hive_err err = {0};
	cJSON *bad =
		cJSON_Parse("{\"resource\":\"web\",\"action\":\"destroy\",\"platform\":\"K8s\"}");
	cJSON *good = deploy_details("success");
	char *log1, *st1, *log2, *st2;
	size_t len;

	make_s1(fx);
	log1 = unit_slurp_in(fx->sess, "EVENTS.jsonl");
	st1 = unit_slurp_in(fx->sess, "STATE.json");
	assert_int_equal(hive_txn_begin(fx->root, "s1", &o, &t, &err), HIVE_OK);
	assert_int_equal(hive_txn_add(t, "deployment_configured", good, &err), HIVE_OK);
	hive_txn_lines(t, &len);
	assert_int_equal(hive_txn_add(t, "deployment_configured", bad, &err), HIVE_EUSAGE);
	assert_string_equal(err.msg, "event 2 (deployment_configured): details.action: \"destroy\" "
				     "is not one of create, update, delete");
	{
		size_t len2;
		hive_txn_lines(t, &len2);
		assert_int_equal(len2, len); /* the failed add left the transaction as it was */
	}
	hive_txn_free(t); /* never committed: nothing written */
	log2 = unit_slurp_in(fx->sess, "EVENTS.jsonl");
	st2 = unit_slurp_in(fx->sess, "STATE.json");
	assert_string_equal(log2, log1);
	assert_string_equal(st2, st1);
	free(log1);
	free(log2);
	free(st1);
	free(st2);
	cJSON_Delete(bad);
	cJSON_Delete(good);
}

/* 998 levels given as details.configuration: the line would be deeper than any reader
 * of the gate takes, so it is refused before anything is written. */
static void test_add_too_deep(void **state)
{
	struct fx *fx = *state;
	struct hive_err err = {0};
	cJSON *d = deploy_details("success"), *conf = cJSON_GetObjectItem(d, "configuration");
	char *log1, *log2;
	int i;

	make_s1(fx);
	log1 = unit_slurp_in(fx->sess, "EVENTS.jsonl");
	for (i = 0; i < 998; i++)
		conf = cJSON_AddObjectToObject(conf, "x");
	assert_int_equal(add_one(fx, "deployment_configured", d, &err), HIVE_EUSAGE);
	assert_non_null(strstr(err.msg, "event 1 (deployment_configured): "));
	log2 = unit_slurp_in(fx->sess, "EVENTS.jsonl");
	assert_string_equal(log2, log1);
	free(log1);
	free(log2);
	cJSON_Delete(d);
}

static void test_closed_by_the_log_not_state(void **state)
{
	struct fx *fx = *state;
	struct hive_txn_opts o = {&fx->cfg, NULL, NULL, NULL, 0, 0, NULL, NULL};
	struct hive_txn *t = NULL;
	struct hive_err err = {0};
	cJSON *done = cJSON_Parse("{\"status\":\"success\"}"), *d = deploy_details("success");
	char *st, *p, *log1, *log2;

	make_s1(fx);
	assert_int_equal(add_one(fx, "session_completed", done, &err), HIVE_OK);
	/* STATE.json set back to active: the log's last line still says completed */
	st = unit_slurp_in(fx->sess, "STATE.json");
	assert_non_null(p = strstr(st, "\"status\":\"completed\""));
	memcpy(p, "\"status\":\"active\"   ", 20);
	unit_write_in(fx->sess, "STATE.json", st);
	log1 = unit_slurp_in(fx->sess, "EVENTS.jsonl");
	assert_int_equal(add_one(fx, "deployment_configured", d, &err), HIVE_EUSAGE);
	assert_string_equal(err.msg, "session s1 is completed: no more events can be added (start "
				     "a new one with hive-init and another --session)");
	log2 = unit_slurp_in(fx->sess, "EVENTS.jsonl");
	assert_string_equal(log2, log1);
	/* closed_ok (reports): the view is rebuilt and says why */
	o.closed_ok = 1;
	assert_int_equal(hive_txn_begin(fx->root, "s1", &o, &t, &err), HIVE_OK);
	assert_string_equal(hive_txn_rebuilt(t), "its status is not what the log's last line says");
	assert_string_equal(hive_json_str(hive_txn_state(t), "status"), "completed");
	hive_txn_free(t);
	free(st);
	free(log1);
	free(log2);
	cJSON_Delete(done);
	cJSON_Delete(d);
}

static void test_state_completed_in_active_session_is_rebuilt(void **state)
{
	struct fx *fx = *state;
	struct hive_err err = {0};
	cJSON *d = deploy_details("success");
	char *st, *p;

	make_s1(fx);
	st = unit_slurp_in(fx->sess, "STATE.json");
	assert_non_null(p = strstr(st, "\"status\":\"active\""));
	memcpy(p, "\"status\":\"failed\"", 17);
	unit_write_in(fx->sess, "STATE.json", st);
	free(st);
	/* the log says active: the emit goes through and STATE.json is derived again */
	assert_int_equal(add_one(fx, "deployment_configured", d, &err), HIVE_OK);
	st = unit_slurp_in(fx->sess, "STATE.json");
	assert_non_null(strstr(st, "\"status\":\"active\""));
	assert_non_null(strstr(st, "\"count\":2,"));
	free(st);
	cJSON_Delete(d);
}

static void test_worker_from_line1(void **state)
{
	struct fx *fx = *state;
	struct hive_txn_opts o = {&fx->cfg, NULL, NULL, NULL, 0, 0, NULL, NULL};
	struct hive_txn *t = NULL;
	struct hive_err err = {0};
	cJSON *d = deploy_details("success"), *ev;
	char *st, *p;
	const char *lines;
	size_t len;

	make_s1(fx);
	st = unit_slurp_in(fx->sess, "STATE.json");
	assert_non_null(p = strstr(st, "\"worker\":\"w1\""));
	p[11] = '2'; /* "w2" */
	unit_write_in(fx->sess, "STATE.json", st);
	free(st);
	assert_int_equal(hive_txn_begin(fx->root, "s1", &o, &t, &err), HIVE_OK);
	assert_string_equal(hive_txn_rebuilt(t), "its worker is not the one line 1 names");
	assert_int_equal(hive_txn_add(t, "deployment_configured", d, &err), HIVE_OK);
	lines = hive_txn_lines(t, &len);
	assert_non_null(ev = cJSON_ParseWithLength(lines, len - 1));
	assert_string_equal(hive_json_str(ev, "worker"), "w1");
	cJSON_Delete(ev);
	hive_txn_free(t);
	cJSON_Delete(d);
}

static void test_rollback_existing(void **state)
{
	struct fx *fx = *state;
	struct hive_txn_opts o = {&fx->cfg, NULL, NULL, NULL, 0, 0, NULL, NULL};
	struct hive_txn *t = NULL;
	struct hive_err err = {0};
	cJSON *d = deploy_details("success");
	char *log1, *st1, *log2, *st2;

	make_s1(fx);
	log1 = unit_slurp_in(fx->sess, "EVENTS.jsonl");
	st1 = unit_slurp_in(fx->sess, "STATE.json");
	assert_int_equal(hive_txn_begin(fx->root, "s1", &o, &t, &err), HIVE_OK);
	assert_int_equal(hive_txn_add(t, "deployment_configured", d, &err), HIVE_OK);
	assert_int_equal(hive_txn_commit(t, &err), HIVE_OK);
	log2 = unit_slurp_in(fx->sess, "EVENTS.jsonl");
	assert_true(strlen(log2) > strlen(log1));
	free(log2);
	hive_txn_rollback(t);
	hive_txn_free(t);
	log2 = unit_slurp_in(fx->sess, "EVENTS.jsonl");
	st2 = unit_slurp_in(fx->sess, "STATE.json");
	assert_string_equal(log2, log1);
	assert_string_equal(st2, st1);
	free(log1);
	free(log2);
	free(st1);
	free(st2);
	cJSON_Delete(d);
}

static void test_rollback_created(void **state)
{
	struct fx *fx = *state;
	struct hive_txn_opts o = {&fx->cfg, NULL, NULL, "w1", 1, 0, NULL, NULL};
	struct hive_txn *t = NULL;
	struct hive_err err = {0};
	struct stat st;
	cJSON *d = started_details();

	assert_int_equal(hive_txn_begin(fx->root, "s1", &o, &t, &err), HIVE_OK);
	assert_int_equal(hive_txn_add(t, "session_started", d, &err), HIVE_OK);
	assert_int_equal(hive_txn_commit(t, &err), HIVE_OK);
	assert_int_equal(stat(fx->sess, &st), 0);
	hive_txn_rollback(t);
	assert_int_equal(hive_txn_created(t), 0);
	hive_txn_free(t);
	assert_int_equal(stat(fx->sess, &st), -1);
	assert_int_equal(errno, ENOENT);
	cJSON_Delete(d);
}

/* Another process makes the session between our begin and our commit: ours is dropped
 * whole and theirs is left as it is. */
static void test_create_lost_race(void **state)
{
	struct fx *fx = *state;
	struct hive_txn_opts o = {&fx->cfg, NULL, NULL, "w1", 1, 0, NULL, NULL};
	struct hive_txn *t = NULL;
	struct hive_session *theirs = NULL;
	struct hive_err err = {0};
	const char line[] = "{\"seq\":1,\"theirs\":true}\n";
	cJSON *d = started_details(), *view = cJSON_CreateObject();
	int created = -1;
	char *log;
	size_t len;

	assert_int_equal(hive_txn_begin(fx->root, "s1", &o, &t, &err), HIVE_OK);
	assert_int_equal(hive_txn_add(t, "session_started", d, &err), HIVE_OK);
	assert_int_equal(hive_session_create(fx->root, "s1", line, strlen(line), view, &created,
					     &theirs, &err),
			 HIVE_OK);
	assert_int_equal(created, 1);
	hive_session_close(theirs);
	assert_int_equal(hive_txn_commit(t, &err), HIVE_OK);
	assert_int_equal(hive_txn_created(t), 0);
	assert_non_null(hive_txn_session(t));
	hive_txn_lines(t, &len);
	assert_int_equal(len, 0);
	hive_txn_free(t);
	log = unit_slurp_in(fx->sess, "EVENTS.jsonl");
	assert_string_equal(log, line);
	free(log);
	cJSON_Delete(d);
	cJSON_Delete(view);
}

static int collect(const char *id, void *arg)
{
	struct hive_strv *sv = arg;

	return hive_strv_push(sv, id) < 0 ? HIVE_EENV : HIVE_OK;
}

static void test_foreach(void **state)
{
	struct fx *fx = *state;
	struct hive_strv ids = {0};
	struct hive_err err = {0};
	char path[512];

	/* no sessions folder: no sessions */
	assert_int_equal(hive_session_foreach(fx->root, collect, &ids, &err), HIVE_OK);
	assert_int_equal(ids.n, 0);
	make_s1(fx);
	snprintf(path, sizeof(path), "%s/sessions/a0", fx->root);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/sessions/.tmp-x", fx->root);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/sessions/bad name", fx->root);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/sessions/zz", fx->root);
	unit_write_in(fx->root, "sessions/zz", "a file, not a session");
	assert_int_equal(hive_session_foreach(fx->root, collect, &ids, &err), HIVE_OK);
	assert_int_equal(ids.n, 2);
	assert_string_equal(ids.v[0], "a0");
	assert_string_equal(ids.v[1], "s1");
	hive_strv_clear(&ids);
}

static void test_path_split(void **state)
{
	struct hive_err err = {0};
	char *root = NULL, *id = NULL;

	(void)state;
	assert_int_equal(hive_session_path_split("/r/x/sessions/s1", 1, &root, &id, &err), HIVE_OK);
	assert_string_equal(root, "/r/x");
	assert_string_equal(id, "s1");
	free(root);
	free(id);
	assert_int_equal(
		hive_session_path_split("/r/sessions/s2/EVENTS.jsonl", 0, &root, &id, &err),
		HIVE_OK);
	assert_string_equal(root, "/r");
	assert_string_equal(id, "s2");
	free(root);
	free(id);
	assert_int_equal(hive_session_path_split("/r/other/s1", 1, &root, &id, &err), HIVE_EUSAGE);
	assert_null(root);
	assert_null(id);
	assert_string_equal(err.msg, "/r/other/s1: not a session folder (<root>/sessions/<id>)");
}

static void test_repair(void **state)
{
	struct fx *fx = *state;
	struct hive_session *s = NULL;
	struct hive_err err = {0};
	char *log1, *log2, *torn, path[512];
	size_t moved;
	int rebuilt;
	FILE *f;

	make_s1(fx);
	log1 = unit_slurp_in(fx->sess, "EVENTS.jsonl");
	snprintf(path, sizeof(path), "%s/EVENTS.jsonl", fx->sess);
	assert_non_null(f = fopen(path, "a"));
	fputs("{\"seq\":2,\"cut", f);
	fclose(f);
	unit_write_in(fx->sess, "STATE.json", "{}\n");
	assert_int_equal(hive_session_open(fx->root, "s1", &s, &err), HIVE_OK);
	assert_int_equal(hive_session_repair(s, &moved, &rebuilt, &err), HIVE_OK);
	assert_int_equal(moved, 13);
	assert_int_equal(rebuilt, 1);
	hive_session_close(s);
	log2 = unit_slurp_in(fx->sess, "EVENTS.jsonl");
	assert_string_equal(log2, log1);
	torn = unit_slurp_in(fx->sess, "EVENTS.jsonl.torn");
	assert_string_equal(torn, "{\"seq\":2,\"cut\n");
	free(log1);
	free(log2);
	free(torn);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_begin_missing),
		T(test_create_and_chain),
		T(test_add_invalid_changes_nothing),
		T(test_add_too_deep),
		T(test_closed_by_the_log_not_state),
		T(test_state_completed_in_active_session_is_rebuilt),
		T(test_worker_from_line1),
		T(test_rollback_existing),
		T(test_rollback_created),
		T(test_create_lost_race),
		T(test_foreach),
		T(test_path_split),
		T(test_repair),
	};
	return cmocka_run_group_tests_name("session", tests, NULL, NULL);
}
