#!/bin/sh
# lib.sh - shared helpers for tests/bench/*.sh: pinned environment, throwaway repositories,
# hyperfine runs and their statistics, an aligned table and "bench:" lines (POSIX sh, sourced)
#
# A benchmark script sets BENCH_DIR (the directory it lives in), sources this file and calls
# bench_init NAME "$@". Every measurement is printed twice: as a row of a table for people, and
# as one "bench:" line at the end for machines (the format is in tests/bench/README.md). Nothing
# here ever compares a timing with a threshold: goals are printed next to ratios, never enforced,
# and a script exits non-zero only when something failed to run.

# bench_die MESSAGE - print "NAME: error: MESSAGE" on stderr and exit 1.
bench_die() {
	printf '%s: error: %s\n' "${BENCH_NAME:-bench}" "$1" >&2
	exit 1
}

# bench_note MESSAGE - a progress note on stderr (stdout carries only results).
bench_note() {
	printf '%s: %s\n' "$BENCH_NAME" "$1" >&2
}

# bench_shq STRING - STRING single-quoted for sh and for hyperfine's own word splitting.
bench_shq() {
	printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"
}

# bench_init NAME [BUILD_DIR] - check the tools, pin the environment, make the scratch directory.
# Sets BENCH_NAME, BENCH_BUILD (absolute), HIVE_INIT, HIVE_EMIT, BENCH_TMP (removed on exit),
# BENCH_QUICK (1 when HIVE_BENCH_QUICK=1: fewer runs, for a smoke test).
# shellcheck disable=SC2034 # the variables are for the scripts that source this file
bench_init() {
	BENCH_NAME=$1
	build=${2:-build}
	# standalone from anywhere: fall back to the build directory next to the sources
	if [ $# -lt 2 ] && [ ! -d "$build" ] && [ -d "$BENCH_DIR/../../build" ]; then
		build=$BENCH_DIR/../../build
	fi
	[ -d "$build" ] || bench_die "build directory '$build' not found: run make first"
	BENCH_BUILD=$(cd "$build" && pwd -P) || bench_die "cannot enter '$build'"
	HIVE_INIT=$BENCH_BUILD/hive-init
	HIVE_EMIT=$BENCH_BUILD/hive-emit
	for t in "$HIVE_INIT" "$HIVE_EMIT"; do
		[ -x "$t" ] || bench_die "$t not found or not executable: run make first"
	done
	for t in hyperfine jq git awk; do
		command -v "$t" >/dev/null 2>&1 || bench_die "$t is required and not on PATH"
	done
	BENCH_QUICK=${HIVE_BENCH_QUICK:-0}

	BENCH_TMP=$(mktemp -d "${TMPDIR:-/tmp}/hive-bench.XXXXXX") || bench_die "mktemp failed"
	trap 'bench_cleanup' EXIT
	# by a signal too (a closed pipe included: `sh init.sh | head`), through the EXIT trap
	trap 'exit 129' HUP
	trap 'exit 130' INT
	trap 'exit 141' PIPE
	trap 'exit 143' TERM
	: >"$BENCH_TMP/bench-lines"

	# Nothing from the caller's environment may change what is measured.
	export LC_ALL=C TZ=UTC
	export HOME="$BENCH_TMP/home"
	mkdir "$HOME"
	unset XDG_CONFIG_HOME GIT_DIR GIT_WORK_TREE GIT_INDEX_FILE GIT_CEILING_DIRECTORIES \
		GIT_OBJECT_DIRECTORY GIT_ALTERNATE_OBJECT_DIRECTORIES GIT_CONFIG_PARAMETERS \
		GIT_CONFIG_COUNT HIVE_ROOT HIVE_SESSION_ID HIVE_CONFIG HIVE_GIT_DIRTY \
		HIVE_LOCK_TIMEOUT CI GITHUB_ACTIONS GITLAB_CI GITHUB_ENV GITHUB_OUTPUT \
		GITHUB_RUN_ID GITHUB_RUN_ATTEMPT GITHUB_REPOSITORY GITHUB_SERVER_URL \
		CI_PIPELINE_ID CI_PROJECT_DIR
	export GIT_CONFIG_NOSYSTEM=1
	export GIT_AUTHOR_NAME="hive bench" GIT_AUTHOR_EMAIL="bench@hive.invalid"
	export GIT_COMMITTER_NAME="hive bench" GIT_COMMITTER_EMAIL="bench@hive.invalid"
	export GIT_AUTHOR_DATE="2025-01-01T00:00:00Z" GIT_COMMITTER_DATE="2025-01-01T00:00:00Z"
}

# bench_cleanup - EXIT trap: keep the raw hyperfine exports when HIVE_BENCH_KEEP=DIR, then
# remove the scratch directory.
bench_cleanup() {
	if [ -n "${HIVE_BENCH_KEEP:-}" ] && [ -d "${BENCH_TMP:-}" ]; then
		mkdir -p "$HIVE_BENCH_KEEP" &&
			for f in "$BENCH_TMP"/*.json "$BENCH_TMP"/*.log; do
				[ -f "$f" ] && cp "$f" "$HIVE_BENCH_KEEP/$BENCH_NAME.${f##*/}"
			done
	fi
	[ -n "${BENCH_TMP:-}" ] && rm -rf "$BENCH_TMP"
}

# bench_machine - print the header (date, machine, versions) and record its "bench:" line.
bench_machine() {
	cpu=$(sed -n 's/^model name[[:space:]]*: *//p' /proc/cpuinfo 2>/dev/null | head -n 1)
	cpus=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo '?')
	now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
	kernel=$(uname -sr)
	hive=$("$HIVE_INIT" --version 2>/dev/null | head -n 1)
	gitv=$(git --version | sed 's/^git version //')
	hfv=$(hyperfine --version | sed 's/^hyperfine //')
	printf '%s benchmark, %s\n' "$BENCH_NAME" "$now"
	printf 'machine: %s, %s cpus, %s\n' "${cpu:-unknown cpu}" "$cpus" "$kernel"
	printf 'tools:   %s, git %s, hyperfine %s, build %s\n' "$hive" "$gitv" "$hfv" "$BENCH_BUILD"
	bench_line "$BENCH_NAME.env date=$now cpus=$cpus cpu=$(printf '%s' "${cpu:-unknown}" | tr -s ' \t' '__')" \
		"kernel=$(printf '%s' "$kernel" | tr ' ' '_') git=$gitv hyperfine=$hfv" \
		"hive=$(printf '%s' "$hive" | tr ' ' '_')"
}

# bench_line WORDS... - record one "bench:" line, printed by bench_finish.
bench_line() {
	printf 'bench: %s\n' "$*" >>"$BENCH_TMP/bench-lines"
}

# bench_finish - print the recorded "bench:" lines (the last thing a script prints).
bench_finish() {
	printf '\n'
	cat "$BENCH_TMP/bench-lines"
}

# bench_write_small_files DIR - the small project's files: a Dockerfile, a .tf file, a GitHub
# workflow, a README and the worker profile from tests/fixtures (not committed).
bench_write_small_files() {
	mkdir -p "$1/.claude/agents" "$1/.github/workflows" "$1/infra" || return 1
	cp "$BENCH_DIR/../fixtures/devops-worker.md" "$1/.claude/agents/devops-worker.md" || return 1
	printf 'FROM debian:12-slim\nRUN apt-get update\n' >"$1/Dockerfile"
	printf 'resource "aws_vpc" "main" {\n  cidr_block = "10.0.0.0/16"\n}\n' >"$1/infra/main.tf"
	printf 'name: deploy\non: push\njobs:\n  deploy:\n    runs-on: ubuntu-latest\n    steps:\n      - run: make\n' \
		>"$1/.github/workflows/deploy.yml"
	printf '# bench project\n' >"$1/README.md"
}

# bench_small_repo DIR - a fresh repository with the small project's files in one commit.
bench_small_repo() {
	git init -q -b main "$1" || return 1
	bench_write_small_files "$1" || return 1
	git -C "$1" add -A && git -C "$1" commit -q -m "small project"
}

# bench_big_repo DIR [N] - a fresh repository with the small project's files plus N (default
# 100000) generated tracked files in 1000 directories, all in one commit. One awk process writes
# the files; git add runs once. Nothing is cached between runs.
bench_big_repo() {
	n=${2:-100000}
	git init -q -b main "$1" || return 1
	bench_write_small_files "$1" || return 1
	awk -v root="$1/src" 'BEGIN { for (d = 0; d < 1000; d++) printf "%s/d%03d\n", root, d }' |
		xargs mkdir -p || return 1
	awk -v root="$1/src" -v n="$n" 'BEGIN {
		for (i = 0; i < n; i++) {
			f = sprintf("%s/d%03d/f%06d.txt", root, i % 1000, i)
			printf "generated file %d\nline two of %d\n", i, i > f
			close(f)
		}
	}' || return 1
	# An index written in the same second as the files it records would leave them "racily
	# clean", and every status would re-hash them: let the clock move on before git add.
	sleep 1
	git -C "$1" add -A && git -C "$1" commit -q -m "big project" || return 1
	# Flush the new files' pages before anything is timed: with ~400 MB of writeback still
	# pending, every fsync hive makes waits behind it (hive-emit measured 3.5 ms instead of
	# 1.8 ms with HIVE_GIT_DIRTY=0) while git rev-parse, which never syncs, does not.
	sync
	# Then let the kernel finish with them: for about 1.5 s after the sync it keeps one core
	# busy, and whatever is measured first runs single-core (git status -uno measured
	# 112 ms then 70 ms a run, and so did hive-emit's parallel scan; seen on the CI kind).
	sleep 5
}

# bench_hyperfine GROUP HYPERFINE_ARGS... - run hyperfine, its JSON export kept as GROUP for
# bench_row and bench_ratio. hyperfine's own report goes to a log, shown only when it fails.
bench_hyperfine() {
	group=$1
	shift
	bench_note "measuring $group"
	if ! hyperfine --style basic --export-json "$BENCH_TMP/$group.json" "$@" \
		>"$BENCH_TMP/$group.log" 2>&1; then
		cat "$BENCH_TMP/$group.log" >&2
		bench_die "hyperfine failed in $group"
	fi
}

# bench_stats GROUP INDEX - "median min max runs" of one command of a hyperfine run, in ms.
bench_stats() {
	jq -r --argjson i "$2" '.results[$i] | "\(.median * 1000) \(.min * 1000) \(.max * 1000) \(.times | length)"' \
		"$BENCH_TMP/$1.json" || bench_die "no result $2 in $1"
}

# bench_how SLUG - how a command was run, in words, for the table.
bench_how() {
	case $1 in
	exec) echo "exec, no shell (-N)" ;;
	sh-c) echo "sh -c '...' (-N)" ;;
	in-shell) echo "in sh, spawn subtracted" ;;
	bash-c) echo "bash -c, args from a file" ;;
	*) echo "$1" ;;
	esac
}

# bench_table_head TITLE [HEAD1 HEAD2] - a section title and the column heads of a table whose
# first two columns are HEAD1 and HEAD2 (default "command" and "run as").
bench_table_head() {
	printf '\n%s\n' "$1"
	printf '  %-44s %-24s %9s %9s %9s %6s\n' "${2:-command}" "${3:-run as}" "median" "min" "max" "runs"
}

# bench_row GROUP INDEX ID HOW LABEL - one table row for a command of a hyperfine run, and its
# "bench:" line (ID.HOW median=… min=… max=… runs=…); HOW is exec, sh-c or in-shell.
bench_row() {
	set -- "$1" "$2" "$3" "$4" "$5" "$(bench_stats "$1" "$2")"
	# shellcheck disable=SC2086 # the stats are four words on purpose
	set -- "$@" $6
	printf '  %-44s %-24s %6.2f ms %6.2f ms %6.2f ms %6d\n' "$5" "$(bench_how "$4")" "$7" "$8" "$9" "${10}"
	bench_line "$BENCH_NAME.$3.$4 median=$(printf '%.3f' "$7")ms min=$(printf '%.3f' "$8")ms" \
		"max=$(printf '%.3f' "$9")ms runs=${10}"
}

# bench_ratio_head - the column heads of a ratio block.
bench_ratio_head() {
	printf '  %-66s %9s %9s\n' "ratio of medians" "measured" "goal"
}

# bench_ratio ID LABEL GROUP_A INDEX_A ID_A GROUP_B INDEX_B ID_B [GOAL] - print A's median over
# B's with the goal (an upper bound, printed, never enforced) and record its "bench:" line.
bench_ratio() {
	a=$(bench_stats "$3" "$4" | awk '{ print $1 }')
	b=$(bench_stats "$6" "$7" | awk '{ print $1 }')
	r=$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
	if [ -n "${9:-}" ]; then
		printf '  %-66s %9s %9s\n' "$2" "$r" "<= $9"
		bench_line "$BENCH_NAME.$1 $5=$(printf '%.3f' "$a")ms $8=$(printf '%.3f' "$b")ms ratio=$r goal=$9"
	else
		printf '  %-66s %9s %9s\n' "$2" "$r" "-"
		bench_line "$BENCH_NAME.$1 $5=$(printf '%.3f' "$a")ms $8=$(printf '%.3f' "$b")ms ratio=$r"
	fi
}

# bench_median_min_max - read numbers, one a line; print "median min max" (median of an even
# count is the mean of the middle two, as hyperfine computes it).
bench_median_min_max() {
	sort -g | awk '{ v[NR] = $1 } END {
		if (NR == 0) exit 1
		m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		print m, v[1], v[NR]
	}'
}

# bench_rss_how - how bench_peak_rss measures, in words: GNU time's %M (the kernel's ru_maxrss
# of the finished process) when /usr/bin/time is GNU time, else VmHWM from /proc/PID/status,
# polled. (Not python3's os.wait4: a child forked from python keeps python's ~14 MiB in its
# ru_maxrss through exec.)
bench_rss_how() {
	if /usr/bin/time -f %M -o /dev/null true >/dev/null 2>&1; then
		echo "GNU time -f %M (ru_maxrss)"
	elif [ -r /proc/self/status ]; then
		echo "VmHWM of /proc/PID/status, polled every 50 ms"
	else
		return 1
	fi
}

# bench_peak_rss KIB_FILE COMMAND... - run COMMAND (stdout to /dev/null, stderr passed through)
# and write its peak resident set size in KiB to KIB_FILE; returns COMMAND's exit status. When
# polling (no GNU time), a peak reached within the last 50 ms of a run can be missed, and a
# command that ends before the first sample reads as 0.
bench_peak_rss() {
	out=$1
	shift
	st=0
	case $(bench_rss_how) in
	GNU*)
		/usr/bin/time -f %M -o "$out.time" "$@" >/dev/null || st=$?
		# on a non-zero exit GNU time writes "Command exited with ..." before the number
		tail -n 1 "$out.time" >"$out" && rm -f "$out.time"
		;;
	VmHWM*)
		"$@" >/dev/null &
		pid=$!
		hwm=0
		born=
		# VmHWM only grows while the program runs (exec starts it afresh); a zombie has none, so
		# the last value read stays. The shell may reap the program early and its pid be reused:
		# the start time in /proc/PID/stat tells another process apart.
		while kill -0 "$pid" 2>/dev/null; do
			# shellcheck disable=SC2046 # two words: start time and VmHWM (KiB)
			set -- $(awk 'FNR == NR { sub(/.*\) /, ""); split($0, f, " "); print f[20]; next }
				/^VmHWM:/ { print $2 }' "/proc/$pid/stat" "/proc/$pid/status" 2>/dev/null)
			[ $# -eq 2 ] || break
			[ -z "$born" ] && born=$1
			[ "$1" = "$born" ] || break
			hwm=$2
			sleep 0.05
		done
		wait "$pid" || st=$?
		echo "$hwm" >"$out"
		;;
	*) st=127 ;;
	esac
	return "$st"
}
