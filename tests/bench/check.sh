#!/bin/sh
# check.sh - hive-check throughput and peak RSS on generated logs against jq, and --pre-push
# with 10 and 10,000 committed sessions
#
# usage: sh tests/bench/check.sh [BUILD_DIR]     (default: build; `make bench` passes it)
#
# (1) Throughput (issue 4: hive-check at least 5x the throughput of `jq -c . LOG >/dev/null` while
#     it verifies JSON, schema, seq and the prev chain, order and secrets). A python3 script in
#     this file writes a bare log of 1,000,000 events (HIVE_BENCH_CHECK_EVENTS): line 1
#     session_started, then the seed's event types, incidents and metrics in turn, each with a
#     git and a ci object, timestamps 250 ms apart, seq and prev correct. An event with both
#     objects cannot be the issue's ~300 bytes (prev alone is 81, git with its commit ~140, the
#     shortest SPEC 3 event with both ~450): these are ~500 (the generic ci provider, short
#     configurations); the table prints the real size.
#     hive-check must pass the log (exit 0) and refuse a copy of its first 1,000 lines with one
#     byte edited (exit 1) before anything is timed. Both commands are executed by hyperfine -N;
#     hyperfine sends their stdout to /dev/null (its default --output=null), which is jq's
#     redirection. The file is in the page cache (just written and checked).
# (2) Peak RSS of hive-check -q on that log and on a 10x longer one (issue 4: under 10 MiB for
#     both), by GNU time's %M (else python3's os.wait4; the table says which). The longer log is
#     the first one continued (the generator resumes the chain from its last line), as far as
#     fits in HIVE_BENCH_GEN_SECONDS (default 180) and in the free disk space less 2 GiB: when
#     it stops short, the table says so. Removed as soon as it is measured.
# (3) --pre-push (issue 4: 10,000 sessions within 2x of 10). Two repositories, each with the
#     small project's files and one real session (hive-init, hive-emit), copied under new names
#     to 10 and 10,000 (HIVE_BENCH_SESSIONS) sessions, committed and pushed to a bare remote;
#     then one hive-emit into the real session, committed. Timed: the real `git push` of that
#     commit through .git/hooks/pre-push (`exec hive-check --pre-push`), the same push with
#     --no-verify (what the push costs without the gate), and hive-check --pre-push alone on
#     the same pre-push line (sh -c, for the redirection). hyperfine's --prepare (untimed) moves
#     the remote branch back one commit with --no-verify, so every run pushes the same commit.
#     Before timing, one push through the hook must say that it checked exactly 1 session.
# Timings are printed, never asserted; exit 0 unless something failed to run.
#
# HIVE_BENCH_QUICK=1: 100,000 events (1,000,000 for RSS), 1,000 sessions, fewer runs.

set -eu

BENCH_DIR=$(cd "$(dirname "$0")" && pwd -P)
# shellcheck source=tests/bench/lib.sh
. "$BENCH_DIR/lib.sh"
bench_init check "$@"

HIVE_CHECK=$BENCH_BUILD/hive-check
[ -x "$HIVE_CHECK" ] || bench_die "$HIVE_CHECK not found or not executable: run make first"
command -v python3 >/dev/null 2>&1 || bench_die "python3 is required (it writes the logs)"
rss_how=$(bench_rss_how) || bench_die "neither GNU time (apt: time) nor python3 to read peak RSS"

if [ "$BENCH_QUICK" = 1 ]; then
	events=${HIVE_BENCH_CHECK_EVENTS:-100000}
	sessions=${HIVE_BENCH_SESSIONS:-1000}
	thr_runs="-r 2"
	push_runs="-w 2 -r 5"
else
	events=${HIVE_BENCH_CHECK_EVENTS:-1000000}
	sessions=${HIVE_BENCH_SESSIONS:-10000}
	thr_runs="-r 3"
	push_runs="-w 3 -r 30"
fi
big_events=$((events * 10))
gen_seconds=${HIVE_BENCH_GEN_SECONDS:-180}

check=$(bench_shq "$HIVE_CHECK")
logs=$BENCH_TMP/logs # not *.log at the top: HIVE_BENCH_KEEP copies those
mkdir "$logs"
log=$logs/events.jsonl

# now_ns - the time in nanoseconds
now_ns() {
	date +%s%N
}

# seconds_between NS_A NS_B - the seconds from A to B, one decimal
seconds_between() {
	awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", (b - a) / 1e9 }'
}

# generate LOG COUNT SECONDS - write a bare log of COUNT events to LOG, or, when LOG exists,
# continue its chain from its last line up to COUNT events; stop early (at a whole line) after
# SECONDS. Prints the number of events LOG then holds.
generate() {
	python3 - "$@" <<-'EOF'
		import hashlib, json, os, sys, time
		path, count, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
		deadline = time.monotonic() + seconds
		seq, prev = 0, "null"
		if os.path.exists(path) and os.path.getsize(path) > 0:
		    with open(path, "rb") as f:
		        f.seek(max(0, os.path.getsize(path) - 65536))
		        last = f.read().rstrip(b"\n").rsplit(b"\n", 1)[-1]
		    seq = json.loads(last)["seq"]
		    prev = '"sha256:' + hashlib.sha256(last).hexdigest() + '"'
		out = open(path, "ab", buffering=1 << 20)
		line_fmt = ('{"seq":%d,"timestamp":"%s.%03dZ","event_type":"%s","worker":"devops-worker",'
		            '"session_id":"bench-1","details":{"resource":"%s","action":"%s","platform":"%s",'
		            '"configuration":%s,"status":"%s"},"git":{"commit":"%s","branch":"main",'
		            '"dirty":false,"tag":%s,"remote":"https://git.example.com/acme/app"},'
		            '"ci":{"provider":"ci"},"prev":%s}')
		# event type, resource, action, platform, configuration (%d: a number from seq), status
		kinds = [
		    ("deployment_configured", "api", "update", "K8s", '{"image":"api:1.4.%d"}', "success"),
		    ("infrastructure_provisioned", "vpc-main", "create", "AWS", '{"cidr":"10.%d.0.0/16"}', "success"),
		    ("pipeline_updated", "ci", "update", "Docker", '{"stage":"build-%d"}', "success"),
		    ("monitoring_added", "grafana", "create", "K8s", '{"alerts":%d}', "success"),
		    ("metric_recorded", "api", "update", "AWS", '{"name":"cpu","value":%d,"unit":"%%"}', "success"),
		    ("security_hardened", "sg-web", "update", "AWS", '{"port":%d}', "success"),
		    ("deployment_configured", "worker", "update", "K8s", '{"replicas":%d}', "failure"),
		    ("incident_detected", "api", "update", "K8s", '{"severity":"P3","impact":"%d errors"}', "failure"),
		    ("incident_resolved", "api", "update", "K8s", '{"severity":"P3","root_cause":"oom %d"}', "success"),
		]
		t0 = 1735689600000  # 2025-01-01T00:00:00Z in ms
		sha, write, sec, stamp, commit, tag = hashlib.sha256, out.write, -1, "", "", "null"
		while seq < count:
		    seq += 1
		    if seq % 1000 == 1 or not commit:  # a new commit every 1000 events
		        if time.monotonic() > deadline:
		            seq -= 1
		            break
		        block = (seq - 1) // 1000
		        commit = hashlib.sha1(b"%d" % block).hexdigest()
		        tag = '"v1.%d.0"' % block if block % 10 == 0 else "null"
		    t = t0 + seq * 250
		    if t // 1000 != sec:
		        sec = t // 1000
		        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(sec))
		    if seq == 1:
		        et, res, act, plat, conf, st = ("session_started", "", "", "", "", "")
		        details = '{"worker_profile":null,"requirements":{}}'
		        line = (line_fmt.replace('{"resource":"%s","action":"%s","platform":"%s",'
		                                 '"configuration":%s,"status":"%s"}', details)
		                % (seq, stamp, t % 1000, et, commit, tag, prev))
		    else:
		        et, res, act, plat, conf, st = kinds[seq % len(kinds)]
		        line = line_fmt % (seq, stamp, t % 1000, et, res, act, plat, conf % (seq % 251), st,
		                           commit, tag, prev)
		    b = line.encode()
		    write(b + b"\n")
		    prev = '"sha256:' + sha(b).hexdigest() + '"'
		out.close()
		print(seq)
	EOF
}

# mib KIB - KiB as MiB, two decimals
mib() {
	awk -v k="$1" 'BEGIN { printf "%.2f", k / 1024 }'
}

bench_machine

# --- (1) throughput -----------------------------------------------------------------------------
bench_note "writing a log of $events events"
t0=$(now_ns)
made=$(generate "$log" "$events" 600) || bench_die "the log generator failed"
t1=$(now_ns)
[ "$made" -eq "$events" ] || bench_die "the generator wrote $made events, not $events"
[ "$(wc -l <"$log")" -eq "$events" ] || bench_die "$log does not hold $events lines"
bytes=$(wc -c <"$log")
"$HIVE_CHECK" -q "$log" || bench_die "hive-check refuses the generated log (exit $?)"
# a control: the same events with one byte of line 500 edited must fail the chain at line 501
head -n 1000 "$log" >"$logs/head.jsonl"
sed '500s/"sg-web"/"sg-wab"/' "$logs/head.jsonl" >"$logs/tampered.jsonl"
! cmp -s "$logs/head.jsonl" "$logs/tampered.jsonl" || bench_die "line 500 is not the event it should be"
st=0
"$HIVE_CHECK" --format json "$logs/tampered.jsonl" >"$logs/tampered.out" 2>/dev/null || st=$?
if [ "$st" != 1 ] || [ "$(jq -r '"\(.rule):\(.line)"' "$logs/tampered.out")" != chain:501 ]; then
	bench_die "hive-check does not refuse an edited line 500 with exactly [chain] at 501 (exit $st)"
fi

# shellcheck disable=SC2086 # $thr_runs is several options on purpose
bench_hyperfine throughput -N $thr_runs \
	-n "hive-check -q LOG (exec)" "$check -q $(bench_shq "$log")" \
	-n "jq -c . LOG (exec)" "jq -c . $(bench_shq "$log")"

printf 'log: %s events, %s bytes (%.1f bytes/event), written by python3 in %s s; hive-check -q: exit 0;\n' \
	"$events" "$bytes" "$(awk -v b="$bytes" -v n="$events" 'BEGIN { print b / n }')" "$(seconds_between "$t0" "$t1")"
printf '     its first 1000 lines with line 500 edited: exit 1, [chain] at line 501\n'
bench_table_head "(1) hive-check throughput on a $events-event log (hyperfine: $thr_runs; stdout to /dev/null)"
bench_row throughput 0 hive-check.log exec "hive-check -q LOG"
bench_row throughput 1 jq.log exec "jq -c . LOG >/dev/null"
printf '\n  %-44s %-24s %9s %9s %9s\n' "throughput of the median (min..max)" "" "events/s" "MB/s" "x jq"
jq_median=$(bench_stats throughput 1 | awk '{ print $1 }')
for i in 0 1; do
	id=$(if [ "$i" = 0 ]; then echo hive-check; else echo jq; fi)
	# shellcheck disable=SC2046 # four numbers: median min max runs (ms)
	set -- $(bench_stats throughput "$i")
	rates=$(awk -v n="$events" -v b="$bytes" -v med="$1" -v mn="$2" -v mx="$3" -v jq="$jq_median" 'BEGIN {
		printf "%.0f %.0f %.0f %.1f %.2f", n / (med / 1e3), n / (mx / 1e3), n / (mn / 1e3), b / 1e6 / (med / 1e3), jq / med
	}')
	# shellcheck disable=SC2086
	set -- "$@" $rates
	printf '  %-44s %-24s %9s %9s %9s\n' "$id ($6..$7 events/s)" "" "$5" "$8" "$9"
	bench_line "$BENCH_NAME.throughput.$id median=$5/s min=$6/s max=$7/s runs=$4 events=$events" \
		"bytes=$bytes mb_per_s=$8MB/s"
done
printf '\n'
bench_ratio_head
bench_ratio throughput.vs-jq "hive-check -q / jq -c . (time; 5x jq's throughput is 0.20)" \
	throughput 0 hive-check.log.exec throughput 1 jq.log.exec 0.20

# --- (2) peak RSS -------------------------------------------------------------------------------
bench_note "peak RSS of hive-check on $events events"
t0=$(now_ns)
bench_peak_rss "$logs/rss-small" "$HIVE_CHECK" -q "$log" || bench_die "hive-check failed on the log"
t1=$(now_ns)
rss_small=$(cat "$logs/rss-small")
small_s=$(seconds_between "$t0" "$t1")

avail_k=$(df -Pk "$logs" | awk 'NR == 2 { print $4 }')
fit=$(awk -v a="$avail_k" -v b="$bytes" -v n="$events" -v want="$big_events" 'BEGIN {
	k = int((a - 2 * 1048576) * 1024 / (b / n))   # events that fit, keeping 2 GiB free
	print (k < want ? (k > n ? k : n) : want)
}')
bench_note "continuing the log to $fit events (at most $gen_seconds s; $((avail_k / 1048576)) GiB free)"
t0=$(now_ns)
made=$(generate "$log" "$fit" "$gen_seconds") || bench_die "the log generator failed"
t1=$(now_ns)
gen_s=$(seconds_between "$t0" "$t1")
big_bytes=$(wc -c <"$log")
if [ "$made" -lt "$big_events" ]; then
	if [ "$fit" -lt "$big_events" ]; then
		short="only $made of $big_events events: the disk has room for $fit (keeping 2 GiB free)"
	else
		short="only $made of $big_events events: the generator stopped after ${gen_seconds} s"
	fi
	bench_note "$short"
fi
bench_note "peak RSS of hive-check on $made events"
t0=$(now_ns)
bench_peak_rss "$logs/rss-big" "$HIVE_CHECK" -q "$log" || bench_die "hive-check failed on the long log"
t1=$(now_ns)
rss_big=$(cat "$logs/rss-big")
big_s=$(seconds_between "$t0" "$t1")
rm -f "$log" # up to 4.5 GB: not needed any more

printf '\n(2) peak RSS of hive-check -q, measured by %s; one run each\n' "$rss_how"
printf '  %-30s %10s %12s %12s %10s %9s %10s\n' "log" "events" "bytes" "peak RSS" "goal" "exit" "wall"
printf '  %-30s %10s %12s %8s MiB %10s %9s %8s s\n' "the $events-event log" "$events" "$bytes" \
	"$(mib "$rss_small")" "< 10 MiB" 0 "$small_s"
printf '  %-30s %10s %12s %8s MiB %10s %9s %8s s\n' "continued to $made events" "$made" "$big_bytes" \
	"$(mib "$rss_big")" "< 10 MiB" 0 "$big_s"
printf '  the continuation was written in %s s%s\n' "$gen_s" "${short:+; $short}"
bench_line "$BENCH_NAME.rss.log peak=$(mib "$rss_small")MiB events=$events bytes=$bytes wall=${small_s}s goal=10MiB"
bench_line "$BENCH_NAME.rss.long-log peak=$(mib "$rss_big")MiB events=$made bytes=$big_bytes wall=${big_s}s goal=10MiB" \
	"wanted=$big_events"

# --- (3) --pre-push -------------------------------------------------------------------------------
# sessions_repo DIR N - the small project with N committed sessions (one real, N-1 copies of it)
# pushed to DIR.git, then one more event in the real session, committed; a pre-push hook that
# runs hive-check; DIR.lines holds git's pre-push line for pushing that commit.
sessions_repo() {
	bench_small_repo "$1" >/dev/null || bench_die "cannot make the repository $1"
	(
		cd "$1"
		"$HIVE_INIT" -q --session s00000 >/dev/null 2>&1
		"$HIVE_EMIT" -q --session s00000 pipeline_updated --resource ci --action update \
			--platform Docker --status success stage=build >/dev/null
		python3 - Docs/hive-mind/sessions "$2" <<-'EOF'
			import shutil, sys
			root, n = sys.argv[1], int(sys.argv[2])
			for i in range(1, n):
			    shutil.copytree(root + "/s00000", "%s/s%05d" % (root, i))
		EOF
		git add -A
		git commit -q -m "$2 sessions"
		git init -q --bare "$1.git"
		git remote add origin "$1.git"
		git push -q origin main
		"$HIVE_EMIT" -q --session s00000 deployment_configured --resource api --action update \
			--platform K8s --status success image=api:1.4.3 >/dev/null
		git add -A
		git commit -q -m "one session touched"
		printf '#!/bin/sh\nexec %s --pre-push\n' "$check" >.git/hooks/pre-push
		chmod +x .git/hooks/pre-push
		printf 'refs/heads/main %s refs/heads/main %s\n' "$(git rev-parse HEAD)" \
			"$(git rev-parse HEAD~1)" >"$1.lines"
	) || bench_die "cannot make the repository $1"
	# one push through the hook, untimed: it must check exactly the one session
	git -C "$1" push -q origin main 2>"$1.push" || { cat "$1.push" >&2; bench_die "the push in $1 failed"; }
	grep -q '1 session checked: 0 errors' "$1.push" ||
		{ cat "$1.push" >&2; bench_die "the hook in $1 did not check exactly 1 session"; }
	[ "$(git -C "$1.git" rev-parse main)" = "$(git -C "$1" rev-parse HEAD)" ] ||
		bench_die "the push in $1 did not reach the remote"
}

bench_note "making repositories with 10 and $sessions sessions"
t0=$(now_ns)
few=$BENCH_TMP/s10
many=$BENCH_TMP/s$sessions
sessions_repo "$few" 10
sessions_repo "$many" "$sessions"
t1=$(now_ns)
many_files=$(git -C "$many" ls-files | wc -l)
m=s$sessions # the many-sessions repository in "bench:" names

git_push=$(bench_shq "git")
rewind() {
	printf '%s -C %s push -q --no-verify -f origin HEAD~1:refs/heads/main' "$git_push" "$(bench_shq "$1")"
}
# shellcheck disable=SC2086 # $push_runs is several options on purpose
bench_hyperfine push -N $push_runs \
	--prepare "$(rewind "$many")" --prepare "$(rewind "$many")" \
	--prepare "$(rewind "$few")" --prepare "$(rewind "$few")" \
	-n "git push, hook, $sessions sessions" "git -C $(bench_shq "$many") push -q origin main" \
	-n "git push --no-verify, $sessions sessions" "git -C $(bench_shq "$many") push -q --no-verify origin main" \
	-n "git push, hook, 10 sessions" "git -C $(bench_shq "$few") push -q origin main" \
	-n "git push --no-verify, 10 sessions" "git -C $(bench_shq "$few") push -q --no-verify origin main"
# shellcheck disable=SC2086
bench_hyperfine prepush -N $push_runs \
	-n "hive-check --pre-push, $sessions sessions" \
	"sh -c $(bench_shq "$check -C $(bench_shq "$many") --pre-push -q < $(bench_shq "$many.lines")")" \
	-n "hive-check --pre-push, 10 sessions" \
	"sh -c $(bench_shq "$check -C $(bench_shq "$few") --pre-push -q < $(bench_shq "$few.lines")")"

printf '\nrepositories: the small project plus 10 and %s sessions (%s tracked files), made in %s s;\n' \
	"$sessions" "$many_files" "$(seconds_between "$t0" "$t1")"
printf 'the pushed commit adds one event to one session; an untimed push through the hook checked 1 session in each\n'
bench_table_head "(3) --pre-push: pushing one commit that touches one session (hyperfine: $push_runs; --prepare rewinds the remote)"
bench_row push 0 "push.hook.$m" exec "git push (pre-push hook), $sessions sessions"
bench_row push 1 "push.no-verify.$m" exec "git push --no-verify, $sessions sessions"
bench_row push 2 push.hook.s10 exec "git push (pre-push hook), 10 sessions"
bench_row push 3 push.no-verify.s10 exec "git push --no-verify, 10 sessions"
bench_row prepush 0 "pre-push.$m" sh-c "hive-check --pre-push < line, $sessions sess."
bench_row prepush 1 pre-push.s10 sh-c "hive-check --pre-push < line, 10 sessions"
printf '\n'
bench_ratio_head
bench_ratio "push.$m.vs-s10" "git push with the hook: $sessions sessions / 10 sessions" \
	push 0 "push.hook.$m.exec" push 2 push.hook.s10.exec 2.0
bench_ratio "pre-push.$m.vs-s10" "hive-check --pre-push: $sessions sessions / 10 sessions" \
	prepush 0 "pre-push.$m.sh-c" prepush 1 pre-push.s10.sh-c 2.0
bench_ratio "push-no-verify.$m.vs-s10" "git push --no-verify: $sessions sessions / 10 sessions" \
	push 1 "push.no-verify.$m.exec" push 3 push.no-verify.s10.exec
bench_ratio "push.$m.hook-cost" "git push with the hook / --no-verify, $sessions sessions" \
	push 0 "push.hook.$m.exec" push 1 "push.no-verify.$m.exec"
bench_ratio push.s10.hook-cost "git push with the hook / --no-verify, 10 sessions" \
	push 2 push.hook.s10.exec push 3 push.no-verify.s10.exec
printf '  goals are upper bounds from issue 4, printed and never asserted\n'

bench_finish
