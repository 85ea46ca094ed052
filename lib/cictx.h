/* cictx.h - the CI context of SPEC 2.3 and the session-id hand-off to later CI steps */
#ifndef HIVE_CICTX_H
#define HIVE_CICTX_H

#include "err.h"

struct cJSON;

enum hive_ci_provider { HIVE_CI_NONE, HIVE_CI_GITHUB, HIVE_CI_GITLAB, HIVE_CI_OTHER };

/* Which CI this process runs in, from GITHUB_ACTIONS, GITLAB_CI and CI. */
enum hive_ci_provider hive_ci_provider(void);

/* The `ci` object for events and STATE.json (JSON null outside CI). Caller owns it. */
struct cJSON *hive_ci_context(void);

/*
 * The session id the CI implies: gh-<GITHUB_RUN_ID>-<GITHUB_RUN_ATTEMPT> in GitHub
 * Actions, gl-<CI_PIPELINE_ID> in GitLab CI; NULL elsewhere or when the variables are
 * missing. Written into buf (size at least 160); returns buf or NULL.
 */
const char *hive_ci_session_id(char *buf, size_t size);

/*
 * Hand the session id to later steps: in GitHub Actions append HIVE_SESSION_ID=<id> to
 * $GITHUB_ENV and session_id=<id> to $GITHUB_OUTPUT; in GitLab CI write `hive.env` (dotenv)
 * into dotenv_dir. Each file gets one write; a failed write is undone. HIVE_EENV on
 * failure, naming the file. *wrote is set to a short description of what was written
 * (borrowed, static) or NULL when nothing applied.
 */
int hive_ci_handoff(const char *id, const char *dotenv_dir, const char **wrote,
		    struct hive_err *err);

/* GitHub shows at most 1 MiB of step summary per step. */
#define HIVE_STEP_SUMMARY_MAX (1024 * 1024)

/* Can --step-summary append to $GITHUB_STEP_SUMMARY (it, or its folder, writable)? Checked
 * before --finish changes anything. HIVE_OK when the variable is unset; HIVE_EENV naming
 * the file otherwise. */
int hive_ci_step_summary_check(struct hive_err *err);

/*
 * Append md[0..len) to $GITHUB_STEP_SUMMARY (nothing when unset) in one write, cut at the
 * end of the last whole line that fits below HIVE_STEP_SUMMARY_MAX less what the step
 * already wrote, followed, when cut and when it fits, by a note saying the whole report is
 * at full_at. HIVE_EENV naming the file (nothing appended) on failure.
 */
int hive_ci_step_summary(const char *md, size_t len, const char *full_at, struct hive_err *err);

#endif
