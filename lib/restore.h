/* restore.h - a session folder put back together from copies of it (CI artifacts, one per job):
 * the longest log and the longest copy of each lane win, every other copy must be a prefix */
#ifndef HIVE_RESTORE_H
#define HIVE_RESTORE_H

#include <stddef.h>

#include "err.h"

/* What hive_restore_copies did. */
struct hive_restore_result {
	size_t copies;	 /* copies of the session read (the local folder not counted) */
	size_t skipped;	 /* folders skipped: no EVENTS.jsonl, or a copy of another session */
	size_t lanes;	 /* lanes in the result */
	int restored;	 /* 1: the session folder was written (made or replaced); 0: untouched */
	int replaced;	 /* 1: it replaced a local folder that was there */
	char from[4100]; /* the copy the main log (and every file but the lanes) came from */
};

/*
 * Put <root>/sessions/<id> together from the copies of it in dir (SPEC 11, issue 12): dir
 * is a copy itself when it holds EVENTS.jsonl, else each folder in it (not starting with '.')
 * is one, as actions/download-artifact lays out one folder per artifact. A folder without
 * EVENTS.jsonl, or whose line 1 names another session, is skipped (r->skipped). The local
 * session folder, when there is one, is a copy too, read under its exclusive lock.
 *
 * The main log (every segment, byte-concatenated, read through log.c) and each lane
 * (lanes/<lane>.jsonl): the longest copy wins and every other copy must be a byte prefix of
 * it, else HIVE_EENV naming the two copies ("two jobs wrote to the session at the same
 * time"). Every other file (STATE.json, CHECKPOINT, reports) comes from the copy with the
 * longest main log (the local folder on a tie, else the first copy in name order). Names
 * starting with '.' (.lock, temporary files) are never taken; a new .lock is made.
 *
 * Nothing is followed: dir, a copy, its lanes/ or any file in them that is a symbolic link is
 * refused (HIVE_EENV "is a symbolic link (refused)") before anything is written. The result is
 * assembled in <root>/sessions/.tmp-<id>-<pid>-merge, checked (hive_session_check_sound:
 * hive_restore_install: sound, and the integrity rules), then
 * renamed into place (RENAME_NOREPLACE), or exchanged with the local folder
 * (RENAME_EXCHANGE), whose old files are then removed: whole or not at all. When the local
 * folder already holds the longest main log and every lane at its longest, nothing is
 * written (r->restored 0). A dir that does not exist, or holds no copy, is HIVE_OK with
 * nothing done (a new session). HIVE_EUSAGE for a bad id, a root outside which nothing can be
 * made, or a dir that is not a folder; HIVE_EENV for I/O, a corrupt copy, or copies that
 * differ. On failure nothing was changed and the temporary folder (and any folder made for
 * it) is removed.
 */
int hive_restore_copies(const char *root, const char *id, const char *dir,
			struct hive_restore_result *r, struct hive_err *err);

/* A folder a session is assembled in before it goes into place:
 * <root>/sessions/.tmp-<id>-<pid>-<what> (hive_restore_tmp_make, hive_restore_tmp_drop). */
struct hive_restore_tmp {
	int sessfd;    /* <root>/sessions, or -1 */
	int fd;	       /* the temporary folder, or -1 */
	int made;      /* the temporary name is ours to remove */
	int made_root; /* folders made for sessions/ (hive_mkdir_parents), removed unless kept */
	char sessions[4200]; /* <root>/sessions */
	char name[300];	     /* .tmp-<id>-<pid>-<what> */
	char shown[4600];    /* <root>/sessions/<name>, for messages */
};

/* Make the temporary folder (and sessions/ and its parents when missing; one a killed run with
 * this pid left is removed first). HIVE_EENV when it cannot; t is then for
 * hive_restore_tmp_drop all the same. */
int hive_restore_tmp_make(const char *root, const char *id, const char *what,
			  struct hive_restore_tmp *t, struct hive_err *err);

/* Remove what is still ours (the temporary folder, or after an exchange the folder it
 * replaced; the folders made for it when nothing went into place) and close t's folders.
 * Accepts a zeroed t with both fds -1, and is safe to call twice. */
void hive_restore_tmp_drop(struct hive_restore_tmp *t);

/*
 * The one way a session folder assembled elsewhere goes into place (hive_restore_copies,
 * hive_publish_restore): tmp holds every file of session id (written and fsync'd). Makes its
 * .lock, fsyncs it, holds it to what a rejoin would (hive_session_check_sound;
 * hive_integrity_check, the json and chain rules, findings on stderr), then renames it to
 * sessions/<id> (RENAME_NOREPLACE), or with exchange swaps it with the folder there (the
 * temporary name then holds the old one, which hive_restore_tmp_drop removes). from names
 * where the files came from, in messages. HIVE_OK when in place, or with *raced set when
 * another process made sessions/<id> first (nothing moved; the caller decides); HIVE_EENV for
 * I/O, an unsound session or a broken chain ("FROM: the log breaks hive-check's chain rule").
 */
int hive_restore_install(struct hive_restore_tmp *tmp, const char *id, const char *from,
			 int exchange, int *raced, struct hive_err *err);

#endif
