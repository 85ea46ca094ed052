#!/bin/sh
# scripts/embed.sh - a file as the lines of a C string literal, byte for byte (git's Makefile
# generates what it embeds the same way: hook-list.h from githooks.txt)
#
#   sh scripts/embed.sh FILE > OUT.h
#
# OUT.h holds a comment and the literal's lines, to be included where a string goes:
#
#   const char hive_hook_pre_push[] =
#   #include "hook-pre-push.h"
#   	;
#
# Every byte comes through: printable ASCII as itself (\ " and ? escaped, the last so that
# no trigraph forms), tab as \t, newline as \n ending a line of the literal, anything else
# as a three-digit octal escape. A file without a final newline gets none. POSIX od and awk.
set -e
[ $# -eq 1 ] || { echo "usage: sh scripts/embed.sh FILE > OUT.h" >&2; exit 2; }
[ -r "$1" ] || { echo "embed.sh: cannot read $1" >&2; exit 2; }
printf '/* generated from %s by scripts/embed.sh: edit that file, not this one */\n' "$1"
od -An -v -t u1 "$1" | awk '
	{
		for (i = 1; i <= NF; i++) {
			b = $i + 0
			if (b == 10) { printf "\t\"%s\\n\"\n", line; line = ""; n++; continue }
			if (b == 92) line = line "\\\\"
			else if (b == 34) line = line "\\\""
			else if (b == 63) line = line "\\?"
			else if (b == 9) line = line "\\t"
			else if (b >= 32 && b < 127) line = line sprintf("%c", b)
			else line = line sprintf("\\%03o", b)
		}
	}
	END { if (line != "" || n == 0) printf "\t\"%s\"\n", line }'
