/* policy.h - the policies of .hive.yml that one event can break on its own, for the gate and for
 * the writer */
#ifndef HIVE_POLICY_H
#define HIVE_POLICY_H

#include <stddef.h>

#include "config.h"

struct cJSON;

/*
 * One broken policy: rule is the finding's name ("policy.require_tags"), message what is wrong
 * ("deployment_configured of api has no configuration.tags.team"; the gate adds "(policy:
 * require_tags)"), and fix what would satisfy it ("add tags.team=VALUE"). All three are
 * borrowed for the call.
 */
typedef void (*hive_policy_fn)(void *arg, const char *rule, const char *message, const char *fix);

/*
 * Every policy of cfg that the event ev (a whole event: details, git and ci as they will be
 * written) breaks on its own: require_clean_tree, require_ci, require_tags and
 * require_rollback. fn is called once for each problem, in that order (require_tags once for
 * each missing tag). The policies of a whole session (require_events, max_session_minutes,
 * require_signed) are not looked at. Returns the number of problems; cfg NULL: none.
 */
size_t hive_policy_event(const struct hive_config *cfg, const struct cJSON *ev, hive_policy_fn fn,
			 void *arg);

#endif
