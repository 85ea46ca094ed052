/* version.c - the version every tool's --version shows, made by scripts/version.sh at build time */
#include "cli.h"
#include "version.h" /* $(BUILD)/gen/version.h: HIVE_VERSION_STRING */

const char hive_version[] = HIVE_VERSION_STRING;
