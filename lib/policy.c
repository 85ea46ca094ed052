/* policy.c - the policies of .hive.yml that one event can break on its own, for the gate and for
 * the writer */
#include "policy.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#include "event.h"
#include "json.h"

/* Does a configuration value say something: not missing, null, false, "", [] or {}? */
static int present(const cJSON *v)
{
	return v && !cJSON_IsNull(v) && !cJSON_IsFalse(v) &&
	       !(cJSON_IsString(v) && !*v->valuestring) &&
	       !((cJSON_IsArray(v) || cJSON_IsObject(v)) && !v->child);
}

size_t hive_policy_event(const struct hive_config *cfg, const cJSON *ev, hive_policy_fn fn,
			 void *arg)
{
	const cJSON *details = cJSON_GetObjectItemCaseSensitive(ev, "details");
	const cJSON *conf = cJSON_GetObjectItemCaseSensitive(details, "configuration");
	const cJSON *git = cJSON_GetObjectItemCaseSensitive(ev, "git");
	const cJSON *dirty = cJSON_GetObjectItemCaseSensitive(git, "dirty");
	const char *type = hive_json_str(ev, "event_type");
	const char *action = hive_json_str(details, "action");
	const char *resource = hive_json_str(details, "resource");
	char msg[1024], fix[512];
	size_t i, n = 0;

	if (!cfg || !type)
		return 0;
	if (hive_strv_has(&cfg->require_clean_tree, type) && !cJSON_IsFalse(dirty)) {
		snprintf(msg, sizeof(msg), "%s was recorded from a %s work tree", type,
			 cJSON_IsTrue(dirty) ? "dirty" : "possibly dirty (git.dirty is null)");
		fn(arg, "policy.require_clean_tree", msg,
		   "commit or stash the changes first (git status shows them), then record it");
		n++;
	}
	if (hive_strv_has(&cfg->require_ci, type) &&
	    !cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(ev, "ci"))) {
		snprintf(msg, sizeof(msg), "%s was recorded outside CI", type);
		fn(arg, "policy.require_ci", msg,
		   "record it from the CI job that makes the change (GitHub Actions or GitLab CI)");
		n++;
	}
	if (cfg->require_tags.n && hive_event_type_is_change(type) && action &&
	    strcmp(action, "delete")) {
		const cJSON *tags = cJSON_GetObjectItemCaseSensitive(conf, "tags");
		for (i = 0; i < cfg->require_tags.n; i++) {
			if (present(cJSON_GetObjectItemCaseSensitive(tags, cfg->require_tags.v[i])))
				continue;
			snprintf(msg, sizeof(msg), "%s of %s has no configuration.tags.%s", type,
				 resource ? resource : "?", cfg->require_tags.v[i]);
			snprintf(fix, sizeof(fix), "add tags.%.200s=VALUE", cfg->require_tags.v[i]);
			fn(arg, "policy.require_tags", msg, fix);
			n++;
		}
	}
	/* rollback_plan is the same thing under the seed's heading's name (Rollback Plan) */
	if (cfg->require_rollback == 1 && !strcmp(type, "deployment_configured") &&
	    !present(cJSON_GetObjectItemCaseSensitive(conf, "rollback")) &&
	    !present(cJSON_GetObjectItemCaseSensitive(conf, "rollback_plan"))) {
		fn(arg, "policy.require_rollback",
		   "deployment_configured has no configuration.rollback",
		   "add rollback='how to undo it' (for example rollback='helm rollback api')");
		n++;
	}
	return n;
}
