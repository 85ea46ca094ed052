/* id.h - session, lane and worker ids: the rule of SPEC 2.1 and generated ids */
#ifndef HIVE_ID_H
#define HIVE_ID_H

#include <stddef.h>

#include "err.h"

#define HIVE_ID_MAX 128

/* Is id a valid id (SPEC 2.1: 1 to 128 of [A-Za-z0-9._-], not starting with '.' or '-',
 * and not the shape of a secret: hive_secret_shape, a GitHub or GitLab token, an AWS key id,
 * a JWT…)? HIVE_OK, or HIVE_EUSAGE naming what is wrong; a secret-shaped id is not quoted
 * in the message. `what` names the value in the message ("session id", "worker"). err may
 * be NULL (a plain yes or no). */
int hive_id_check(const char *what, const char *id, size_t len, struct hive_err *err);

/* hive_id_check without the secret's shape: for reading what is already on disk (a session
 * folder an older hive created), so that the gate can open it and report its name. */
int hive_id_check_syntax(const char *what, const char *id, size_t len, struct hive_err *err);

/* A new session id: <UTC yyyymmddThhmmssZ>-<8 random hex>. HIVE_EENV when getrandom fails. */
int hive_id_generate(char out[32], struct hive_err *err);

#endif
