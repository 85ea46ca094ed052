/* integrity.c - hive-check's integrity rules (json, chain) on one session before a tool writes to
 * it */
#include "integrity.h"

#include <errno.h>
#include <stdio.h>

#include "check.h"
#include "findings.h"
#include "log.h"
#include "redact.h"

int hive_integrity_check(const struct hive_config *cfg, struct hive_session *s, FILE *findings,
			 const char **rule, struct hive_err *err)
{
	struct hive_checker checker = {cfg, NULL, NULL, NULL,
				       NULL}; /* no verifier: no CHECKPOINT.sig here */
	struct hive_check_input in;
	struct hive_findings *f = NULL;
	struct hive_check_owned owned = {0};
	FILE *sink = findings;
	char events[4300];
	int rc;

	*rule = NULL;
	if (!sink && !(sink = fopen("/dev/null", "we")))
		return hive_err_sys(err, HIVE_EENV, errno, "/dev/null");
	snprintf(events, sizeof(events), "%s/EVENTS.jsonl", s->dir);
	if ((rc = hive_redactor_new(cfg, &checker.red, err)) ||
	    (rc = hive_findings_new("text", sink, 0, &f, err)) ||
	    (rc = hive_check_input_from_session(s, s->dir, events, &in, &owned, err)))
		goto out;
	in.checkpoint_buf = in.signature_buf = NULL; /* about to be rewritten: not looked at */
	hive_findings_session(f, s->id, events, NULL, 0);
	if ((rc = hive_check_session(&checker, &in, f, err)))
		goto out;
	if (hive_findings_rule_errors(f, "chain"))
		*rule = "chain";
	else if (hive_findings_rule_errors(f, "json"))
		*rule = "json";
	rc = *rule ? HIVE_FAIL : HIVE_OK;
out:
	hive_check_owned_free(&owned);
	hive_findings_free(f);
	hive_redactor_free(checker.red);
	if (sink != findings)
		fclose(sink);
	return rc;
}
