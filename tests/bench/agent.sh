#!/bin/sh
# agent.sh - a Claude Code hook call: hive-emit --from claude-code against the JSONL logger a user
# would hand-roll, with a 2 KiB payload and with a 512 KiB tool_response (issue 15)
#
# usage: sh tests/bench/agent.sh [BUILD_DIR]     (default: build; `make bench` passes it)
#
# Claude Code runs a hook's command through a shell with the payload on stdin, so every command
# here is `CMD < payload.json` in a shell, measured two ways (see tests/bench/README.md):
#   sh -c     hyperfine -N running `sh -c '...'`: starting sh included, like-for-like;
#   in-shell  hyperfine's default mode, an empty sh's start subtracted: what the hook call costs.
# The payloads are Claude Code's PostToolUse shape: a Bash call whose command makes the whole
# payload 2 KiB, and a `kubectl logs` call whose tool_response.stdout is 512 KiB. The session
# is started once (a SessionStart payload); every run appends one tool_used event, checked
# afterwards (every line a tool_used, the chain whole by hive-check, no response stored).
# The user's logger is `jq -c . >> log` (what people write: one compact line per call).
# Goals (issue 15), printed, never enforced: hive in-shell median <= 2.5 ms with 2 KiB and
# <= 10 ms with 512 KiB (as the budget ratio measured/goal <= 1.00).
# Timings are printed, never asserted; exit 0 unless something failed to run.

set -eu

BENCH_DIR=$(cd "$(dirname "$0")" && pwd -P)
# shellcheck source=tests/bench/lib.sh
. "$BENCH_DIR/lib.sh"
bench_init agent "$@"
HIVE_CHECK=$BENCH_BUILD/hive-check

if [ "$BENCH_QUICK" = 1 ]; then
	runs="-w 3 -m 10 -M 30"
else
	runs="-w 10 -m 60"
fi

bench_machine
repo=$BENCH_TMP/repo
bench_small_repo "$repo" || bench_die "cannot make the repository"
cd "$repo"

sid=bench-5d0e-4c55-8a5b-0c2e4f9d1a10
base=$(jq -cn --arg sid "$sid" --arg cwd "$repo" \
	'{session_id: $sid, transcript_path: "/home/u/.claude/projects/p/\($sid).jsonl", cwd: $cwd}')
# 2 KiB: a Bash call, its command padded so the whole payload is 2048 bytes
pad=$(printf '%s' "$base" | jq -c '. + {hook_event_name: "PostToolUse", tool_name: "Bash",
	tool_input: {command: "", description: "list the pods"}, tool_use_id: "toolu_01ABC",
	tool_response: {stdout: "NAME READY STATUS\napi-7d9 1/1 Running", stderr: "", interrupted: false}}' | wc -c)
cmd=$(awk -v n=$((2048 - pad)) 'BEGIN { s = "kubectl get pods -n production -o wide"; while (length(s) < n) s = s " -l app=api"; print substr(s, 1, n) }')
printf '%s' "$base" | jq -c --arg c "$cmd" '. + {hook_event_name: "PostToolUse", tool_name: "Bash",
	tool_input: {command: $c, description: "list the pods"}, tool_use_id: "toolu_01ABC",
	tool_response: {stdout: "NAME READY STATUS\napi-7d9 1/1 Running", stderr: "", interrupted: false}}' \
	>"$BENCH_TMP/p2k.json"
# 512 KiB: kubectl logs, its stdout 512 KiB of log lines
awk 'BEGIN { l = "2026-12-06T06:00:00Z INFO api request served path=/v1/orders status=200 ms=12\n"; n = 0
	while (n + length(l) <= 524288) { printf "%s", l; n += length(l) } }' >"$BENCH_TMP/stdout.txt"
printf '%s' "$base" | jq -c --rawfile out "$BENCH_TMP/stdout.txt" '. + {hook_event_name: "PostToolUse",
	tool_name: "Bash", tool_input: {command: "kubectl logs deploy/api --since=1h"}, tool_use_id: "toolu_02DEF",
	tool_response: {stdout: $out, stderr: "", interrupted: false}}' >"$BENCH_TMP/p512k.json"
printf '%s' "$base" | jq -c '. + {hook_event_name: "SessionStart", source: "startup"}' |
	"$HIVE_EMIT" -q --from claude-code >/dev/null || bench_die "SessionStart failed"
log=$repo/Docs/hive-mind/sessions/claude-$sid/EVENTS.jsonl
[ -f "$log" ] || bench_die "SessionStart made no session"
bench_note "payloads: $(wc -c <"$BENCH_TMP/p2k.json") and $(wc -c <"$BENCH_TMP/p512k.json") bytes"

p2k=$(bench_shq "$BENCH_TMP/p2k.json")
p512k=$(bench_shq "$BENCH_TMP/p512k.json")
emit="$(bench_shq "$HIVE_EMIT") -q --from claude-code"
jqlog="jq -c . >> $(bench_shq "$BENCH_TMP/agent.jsonl")"

# shellcheck disable=SC2086 # $runs is several options on purpose
bench_hyperfine small -S sh $runs \
	-n "hive-emit --from claude-code < 2 KiB (in sh)" "$emit < $p2k" \
	-n "jq -c . >> log < 2 KiB (in sh)" "$jqlog < $p2k"
# shellcheck disable=SC2086
bench_hyperfine big -S sh $runs \
	-n "hive-emit --from claude-code < 512 KiB (in sh)" "$emit < $p512k" \
	-n "jq -c . >> log < 512 KiB (in sh)" "$jqlog < $p512k"
# shellcheck disable=SC2086
bench_hyperfine shc -N $runs \
	-n "hive-emit 2 KiB (sh -c)" "sh -c $(bench_shq "$emit < $p2k")" \
	-n "jq 2 KiB (sh -c)" "sh -c $(bench_shq "$jqlog < $p2k")" \
	-n "hive-emit 512 KiB (sh -c)" "sh -c $(bench_shq "$emit < $p512k")" \
	-n "jq 512 KiB (sh -c)" "sh -c $(bench_shq "$jqlog < $p512k")"

# What was measured wrote what it should: every line after the first a tool_used of the two
# calls, no response stored, the chain and the schema whole.
n=$(wc -l <"$log")
[ "$(jq -c 'select(.event_type != "tool_used")' "$log" | wc -l)" -eq 1 ] ||
	bench_die "$log holds other events than tool_used"
! grep -q 'request served' "$log" || bench_die "a tool_response was stored"
"$HIVE_CHECK" -q --session "claude-$sid" >/dev/null || bench_die "hive-check failed on the session"
bench_note "$n lines in the session, checked"

bench_table_head "hook call, small repository, the payload on stdin (hyperfine: $runs)"
bench_row small 0 hive_2k in-shell "hive-emit --from claude-code, 2 KiB"
bench_row small 1 jq_2k in-shell "jq -c . >> log, 2 KiB"
bench_row big 0 hive_512k in-shell "hive-emit --from claude-code, 512 KiB"
bench_row big 1 jq_512k in-shell "jq -c . >> log, 512 KiB"
bench_row shc 0 hive_2k sh-c "hive-emit --from claude-code, 2 KiB"
bench_row shc 1 jq_2k sh-c "jq -c . >> log, 2 KiB"
bench_row shc 2 hive_512k sh-c "hive-emit --from claude-code, 512 KiB"
bench_row shc 3 jq_512k sh-c "jq -c . >> log, 512 KiB"

printf '\n'
bench_ratio_head
bench_ratio small.vs-jq "hive 2 KiB / jq -c . >> log 2 KiB (in sh)" \
	small 0 hive_2k.in-shell small 1 jq_2k.in-shell
bench_ratio big.vs-jq "hive 512 KiB / jq -c . >> log 512 KiB (in sh)" \
	big 0 hive_512k.in-shell big 1 jq_512k.in-shell
# the absolute goals, as measured over goal (<= 1.00 meets it)
for g in "small 2k 2.5" "big 512k 10"; do
	# shellcheck disable=SC2086 # three words on purpose
	set -- $g
	m=$(bench_stats "$1" 0 | awk '{ print $1 }')
	r=$(awk -v m="$m" -v g="$3" 'BEGIN { printf "%.2f", m / g }')
	printf '  %-66s %9s %9s\n' "hive $2 in sh: median $(printf '%.2f' "$m") ms over the $3 ms goal" "$r" "<= 1.00"
	bench_line "agent.budget_$2 hive_$2.in-shell=$(printf '%.3f' "$m")ms goal_ms=$3ms ratio=$r goal=1.00"
done

bench_finish
