/* requirements.h - what a repository's tracked paths say it needs (SPEC 5.1): terraform, docker,
 * kubernetes, ... */
#ifndef HIVE_REQUIREMENTS_H
#define HIVE_REQUIREMENTS_H

#include <stddef.h>

#include "err.h"

struct cJSON;
struct hive_git;

#define HIVE_REQUIREMENTS_MAX 1000 /* paths recorded per kind; the rest are only counted */

/* Which requirement kind a tracked path is: an index into the kinds of SPEC 5.1
 * (terraform, docker, compose, kubernetes, helm, github_actions, gitlab_ci, pulumi), or
 * -1. Paths only: no file is read. */
int hive_requirements_classify(const char *path);

/*
 * session_started's details.requirements: every tracked path of the index, classified,
 * as {"terraform":[paths...],...} with every kind present (an empty list when none).
 * At most HIVE_REQUIREMENTS_MAX paths a kind; *dropped counts the rest. *out belongs to
 * the caller. HIVE_EENV when the index cannot be read.
 */
int hive_requirements_detect(struct hive_git *g, struct cJSON **out, size_t *dropped,
			     struct hive_err *err);

#endif
