/* fuzz_sshsig.c - libFuzzer: the signature side of SPEC 10 read from untrusted bytes
 *
 * The same input is read as CHECKPOINT.sig (hive_sshsig_parse, then every block verified
 * over a fixed message: keys and signatures of any shape reach libcrypto), as an
 * allowed_signers file (hive_signers_parse, then a lookup of each parsed key) and as a
 * CHECKPOINT (hive_checkpoint_parse). Whatever is refused must be refused with a message.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/checkpoint.h"
#include "../../lib/sshsig.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char msg[] = "hive-checkpoint/v1\nsession s\nlog EVENTS.jsonl 0 -\n";
	const char *buf = (const char *)data;
	struct hive_checkpoint cp;
	struct hive_signers *a = NULL;
	struct hive_sshsig *v = NULL;
	struct hive_err err;
	size_t n = 0, i, line;

	memset(&err, 0, sizeof(err));
	if (hive_sshsig_parse(buf, size, &v, &n, &err) != HIVE_OK && !err.msg[0])
		abort();
	for (i = 0; i < n; i++) {
		memset(&err, 0, sizeof(err));
		if (hive_sshsig_verify(&v[i], HIVE_SSHSIG_NAMESPACE, msg, sizeof(msg) - 1, &err) !=
			    HIVE_OK &&
		    !err.msg[0])
			abort();
	}
	memset(&err, 0, sizeof(err));
	if (hive_signers_parse("fuzz", buf, size, &a, &err) != HIVE_OK && !err.msg[0])
		abort();
	for (i = 0; i < n; i++)
		(void)hive_signers_find(a, v[i].key, v[i].key_len, HIVE_SSHSIG_NAMESPACE);
	hive_signers_free(a);
	hive_sshsig_free_all(v, n);
	memset(&err, 0, sizeof(err));
	if (hive_checkpoint_parse(buf, size, &cp, &line, &err) != HIVE_OK && !err.msg[0])
		abort();
	hive_checkpoint_clear(&cp);
	return 0;
}
