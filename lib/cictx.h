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

#endif
