#!/bin/sh
# version.sh - hive's version, from git describe: what --version shows and releases are named by
#
# Usage: scripts/version.sh [--header] [SRC]     (SRC defaults to the current folder)
#   --header  print it as C, `#define HIVE_VERSION_STRING "…"` (lib/version.c's build/gen/version.h)
#
#   on a tag vX.Y.Z                     X.Y.Z
#   N commits after it                  X.Y.Z-N-g<abbrev>        (git describe's own shape)
#   no v* tag reachable                 0.0.0-N-g<abbrev>        (N: commits in HEAD; as if
#                                                                 v0.0.0 tagged the root)
#   uncommitted changes to tracked files  the same, then -dirty
#   not a git checkout                  the first line of SRC/VERSION (a release's source),
#                                       else "unknown"
# Only git's own commands are run; the output is one line of [0-9A-Za-z.+-].
set -eu

header=
if [ "${1:-}" = --header ]; then header=1; shift; fi
src=${1:-.}
cd "$src"
if git rev-parse --is-inside-work-tree >/dev/null 2>&1 && git rev-parse --verify -q HEAD >/dev/null; then
	if v=$(git describe --tags --match 'v[0-9]*' --dirty --abbrev=12 2>/dev/null); then
		v=${v#v}
	else
		n=$(git rev-list --count HEAD)
		v=0.0.0-$n-g$(git rev-parse --short=12 HEAD)
		if [ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ]; then v=$v-dirty; fi
	fi
elif [ -f VERSION ]; then
	v=$(sed -n 1p VERSION)
else
	v=unknown
fi
case $v in
'' | *[!0-9A-Za-z.+-]*) echo "version.sh: not a version: $v" >&2; exit 1 ;;
esac
if [ -n "$header" ]; then
	printf '#define HIVE_VERSION_STRING "%s"\n' "$v"
else
	printf '%s\n' "$v"
fi
