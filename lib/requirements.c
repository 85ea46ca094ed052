/* requirements.c - what a repository's tracked paths say it needs (SPEC 5.1): terraform, docker,
 * kubernetes, ... */
#include "requirements.h"

#include <cjson/cJSON.h>
#include <fnmatch.h>
#include <string.h>

#include "gitctx.h"

/* The requirement kinds of SPEC 5.1, in STATE.json's order. */
static const char *kinds[] = {"terraform", "docker",	     "compose",	  "kubernetes",
			      "helm",	   "github_actions", "gitlab_ci", "pulumi"};
#define NKINDS (sizeof(kinds) / sizeof(kinds[0]))

struct detect {
	cJSON *lists[NKINDS];
	size_t dropped;
};

int hive_requirements_classify(const char *path)
{
	const char *base = strrchr(path, '/');

	base = base ? base + 1 : path;
	if (!fnmatch("*.tf", base, 0))
		return 0;
	if (!strncmp(base, "Dockerfile", 10) || !fnmatch("*.dockerfile", base, 0))
		return 1;
	if (!fnmatch("docker-compose*.y*ml", base, 0) || !fnmatch("compose.y*ml", base, 0))
		return 2;
	if (!strcmp(base, "Chart.yaml"))
		return 4;
	if (!fnmatch(".github/workflows/*.y*ml", path, FNM_PATHNAME))
		return 5;
	if (!strcmp(path, ".gitlab-ci.yml"))
		return 6;
	if (!fnmatch("Pulumi.y*ml", base, 0))
		return 7;
	if (!strncmp(path, "k8s/", 4) || !strncmp(path, "kubernetes/", 11) ||
	    !strncmp(path, "manifests/", 10) || strstr(path, "/k8s/") ||
	    strstr(path, "/kubernetes/") || strstr(path, "/manifests/"))
		return 3;
	return -1;
}

static int detect_one(const char *path, void *arg)
{
	struct detect *d = arg;
	int k = hive_requirements_classify(path);

	if (k < 0)
		return 0;
	if (cJSON_GetArraySize(d->lists[k]) >= HIVE_REQUIREMENTS_MAX) {
		d->dropped++;
		return 0;
	}
	cJSON_AddItemToArray(d->lists[k], cJSON_CreateString(path));
	return 0;
}

int hive_requirements_detect(struct hive_git *g, cJSON **out, size_t *dropped, struct hive_err *err)
{
	struct detect d = {{0}, 0};
	cJSON *obj = cJSON_CreateObject();
	size_t i;
	int rc;

	for (i = 0; i < NKINDS; i++)
		d.lists[i] = cJSON_AddArrayToObject(obj, kinds[i]);
	*out = NULL;
	*dropped = 0;
	if ((rc = hive_git_index_foreach(g, detect_one, &d, err))) {
		cJSON_Delete(obj);
		return rc;
	}
	*dropped = d.dropped;
	*out = obj;
	return HIVE_OK;
}
