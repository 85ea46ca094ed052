/* unit.h - what several cmocka suites share: a mismatch shown as TAP comments */
#ifndef HIVE_UNIT_H
#define HIVE_UNIT_H

#include <stdio.h>
#include <string.h>

/* Include after <cmocka.h>. On a mismatch: got and want as TAP comments ("# " before every
 * line, so no line of theirs can pass for a result), then a short failure (cmocka cuts long
 * messages, and the cut can swallow the newline before "not ok"). */
static inline void show_mismatch(const char *what, const char *got, const char *want)
{
	const char *texts[2] = {got ? got : "(null)", want}, *names[2] = {"got", "want"}, *p, *nl;
	int i;

	fflush(stdout);
	for (i = 0; i < 2; i++) {
		printf("# --- %s\n", names[i]);
		for (p = texts[i]; *p; p = nl ? nl + 1 : p + strlen(p)) {
			nl = strchr(p, '\n');
			printf("#   %.*s%s\n", (int)(nl ? nl - p : (long)strlen(p)), p,
			       nl ? "" : "(no newline)");
		}
	}
	fflush(stdout);
	fail_msg("%s differs from what was expected (shown above)", what);
}

#endif
