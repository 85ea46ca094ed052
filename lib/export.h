/* export.h - every event of every session as NDJSON, with the repository's identity */
#ifndef HIVE_EXPORT_H
#define HIVE_EXPORT_H

#include "err.h"
#include "util.h"

struct hive_git;

/*
 * `hive-runbook --all --format events` (SPEC 13): one line per event of every session under
 * root (sessions in name order, each read under its shared lock, events in log order):
 *
 *   {"repository":{"url":U,"name":N},"session_id":S,"lane":L,"seq":Q,"commit_time":T,
 *    "event":{…the event as logged…}}
 *
 * url is the upstream's (else origin's) remote URL with any credentials removed, or null;
 * name is the last part of that URL without ".git", else the work tree's folder name.
 * lane is "main" for EVENTS.jsonl. commit_time (RFC 3339) is the time of the event's
 * git.commit as the repository holds it, for deployment_configured events (what lead time
 * counts from), else null. (repository, session_id, lane, seq) names a line for good:
 * share/hive/sql/postgres.sql keys on it, so loading an export twice adds nothing.
 *
 * git may be NULL (outside a repository). Lines are appended to out (out->oom when out of
 * memory); the caller redacts them. The first session that cannot be read stops it with
 * its error (HIVE_EENV, as hive-runbook --all).
 */
int hive_export_events(const char *root, const char *top, struct hive_git *git,
		       struct hive_buf *out, struct hive_err *err);

#endif
