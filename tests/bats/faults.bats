#!/usr/bin/env bats
# tests/bats/faults.bats - fault injection: a full disk, a read-only folder, a held lock,
# writers killed with SIGKILL mid-storm, a session folder swapped for a symbolic link,
# over-long lines, invalid UTF-8 and NUL bytes, a truncated STATE.json, an empty log.
#
# Each fault ends with a clear error and no data lost: every test asserts the exit status,
# the message, and that the files are exactly as they were (or, where a tool recovers,
# that the session is whole again and hive-check passes). Mounting a tmpfs and running as
# nobody need root: CI runs as root, and a machine where that fails fails these tests
# loudly rather than skipping them.
# shellcheck disable=SC2016 # jq filters with $variables are single-quoted on purpose
# shellcheck disable=SC2030,SC2031 # bats runs each test in a subshell: BG_PIDS is per test

load test_helper

setup() {
	hive_setup || return 1
	REPO="$BATS_TEST_TMPDIR/repo"
	make_repo "$REPO" || return 1
	cd "$REPO" || return 1
	MON=(monitoring_added --resource api --action create --platform K8s --status success)
	BG_PIDS=()
}

teardown() {
	local pid
	for pid in "${BG_PIDS[@]}"; do
		kill -9 "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	if [[ -n "${TMPFS-}" ]] && mountpoint -q "$TMPFS"; then
		cd / && umount "$TMPFS"
	fi
	if [[ -n "${TOP-}" && -d "$TOP" ]]; then
		chmod -R u+w "$TOP" && rm -rf "$TOP"
	fi
}

# --- helpers ------------------------------------------------------------------------

# mount_tmpfs SIZE: a small tmpfs at $TMPFS, unmounted in teardown: inside the repository,
# since a root outside the work tree is refused (SPEC 9).
mount_tmpfs() {
	TMPFS="$REPO/tmpfs"
	mkdir -p "$TMPFS"
	mount -t tmpfs -o "size=$1" tmpfs "$TMPFS" ||
		fail "cannot mount a tmpfs at $TMPFS as uid $(id -u): the disk-full tests need root (CI runs as root)"
}

# fill_leaving PAGES: fill $TMPFS with $TMPFS/fill until PAGES pages (4 KiB) are free.
fill_leaving() {
	local avail
	rm -f "$TMPFS/fill"
	avail=$(df --output=avail -B1 "$TMPFS" | tail -n 1 | tr -d ' ')
	if ((avail > $1 * 4096)); then
		head -c $((avail - $1 * 4096)) /dev/zero >"$TMPFS/fill" 2>/dev/null || true
	fi
	avail=$(df --output=avail -B1 "$TMPFS" | tail -n 1 | tr -d ' ')
	((avail <= $1 * 4096)) || fail "$TMPFS still has $avail bytes free, wanted $1 pages"
}

# check_clean ARGS…: hive-check ARGS… passes (exit 0) with no error on stderr.
check_clean() {
	run --separate-stderr hive-check "$@"
	[[ "$status" == 0 ]] || fail "$(printf 'hive-check %s: exit %s\n%s\n%s' "$*" "$status" "$output" "${stderr-}")"
}

# refused STATUS GLOB DIR CMD…: CMD exits STATUS, prints nothing on stdout, says one line
# matching GLOB on stderr, and leaves every file under DIR as it was.
refused() {
	local want=$1 glob=$2 dir=$3
	shift 3
	snapshot "$dir"
	run --separate-stderr "$@"
	[[ "$status" == "$want" ]] ||
		fail "$(printf '%s: exit %s, expected %s\nstderr: %s' "$*" "$status" "$want" "$stderr")"
	[[ -z "$output" ]] || fail "$(printf 'stdout should be empty, got:\n%s' "$output")"
	# shellcheck disable=SC2053
	[[ "$stderr" == $glob ]] ||
		fail "$(printf 'stderr does not match\npattern: %s\nactual:  %s' "$glob" "$stderr")"
	assert_unchanged "$dir"
}

# lines_of FILE: the number of lines in FILE.
lines_of() {
	wc -l <"$1" | tr -d ' '
}

# verify_chain FILE: seq runs 1..N and every prev is the SHA-256 of the line before,
# computed here (hive-check is what is being tested, so it is not the judge).
verify_chain() {
	local file=$1 n=0 line want_prev=null seq prev
	while IFS= read -r line; do
		n=$((n + 1))
		seq=$(jq -r .seq <<<"$line") || fail "$file:$n: not JSON"
		prev=$(jq -r '.prev // "null"' <<<"$line")
		[[ "$seq" == "$n" ]] || fail "$file:$n: seq is $seq"
		[[ "$prev" == "$want_prev" ]] || fail "$file:$n: prev is $prev, expected $want_prev"
		want_prev="sha256:$(printf '%s' "$line" | sha256sum | cut -d' ' -f1)"
	done <"$file"
}

# hold_lock FILE: another process holds an exclusive flock on FILE until teardown.
hold_lock() {
	local ready="$BATS_TEST_TMPDIR/locked"
	rm -f "$ready"
	# the subshell takes the lock on its own descriptor and becomes the sleep, so killing
	# $! lets the lock go (flock FILE CMD would leave CMD holding it)
	(
		exec 9>>"$1"
		flock 9
		: >"$ready"
		exec sleep 60
	) &
	BG_PIDS+=($!)
	for _ in $(seq 100); do
		[[ -e "$ready" ]] && return 0
		sleep 0.05
	done
	fail "flock did not take $1"
}

# as_nobody: the command prefix that runs a tool as nobody when we are root (root writes
# through any mode bits), nothing otherwise.
as_nobody() {
	AS=()
	if [[ "$(id -u)" == 0 ]]; then
		AS=(setpriv --reuid=65534 --regid=65534 --clear-groups)
	fi
}

# --- a full disk ----------------------------------------------------------------------

@test "disk full: hive-init with 0, 1, 2 and 3 pages free either makes a sound session or exits 3 leaving nothing" {
	local k rc seen=
	mount_tmpfs 64k
	for k in 0 1 2 3; do
		rm -rf "$TMPFS/hive"
		fill_leaving "$k"
		snapshot "$TMPFS"
		run --separate-stderr hive-init -q --root "$TMPFS/hive" --session full
		rc=$status
		if [[ "$status" == 3 ]]; then
			[[ -z "$output" ]] || fail "k=$k: stdout: $output"
			[[ "$stderr" == "hive-init: error: $TMPFS/hive/sessions/full/"*": No space left on device" ]] ||
				fail "k=$k: stderr: $stderr"
			assert_unchanged "$TMPFS" # no session, no temporary folder, no root left behind
		else
			[[ "$status" == 0 ]] || fail "k=$k: exit $status: $stderr"
			check_clean --root "$TMPFS/hive" --session full
		fi
		echo "# $k pages free: exit $rc" >&3
		seen="$seen $rc"
	done
	[[ "$seen" == " 3 "*" 0" ]] || fail "exit statuses by free pages:$seen"
	rm -rf "$TMPFS/hive"
	fill_leaving 0
	refused 3 "hive-init: error: *No space left on device" "$TMPFS" \
		hive-init -q --root "$TMPFS/hive" --session full
	rm -f "$TMPFS/fill"
	run hive-init -q --root "$TMPFS/hive" --session full
	assert_success
}

@test "disk full: hive-emit at every fill level appends whole or exits 3 with the session unchanged" {
	local k big rc seen=
	mount_tmpfs 64k
	hive-init -q --root "$TMPFS/hive" --session full >/dev/null
	local sess="$TMPFS/hive/sessions/full"
	big=$(head -c 6000 /dev/zero | tr '\0' x)
	for k in 0 1 2 3 4; do
		fill_leaving "$k"
		snapshot "$TMPFS"
		run --separate-stderr hive-emit --root "$TMPFS/hive" --session full "${MON[@]}" "big=$big"
		rc=$status
		if [[ "$status" == 3 ]]; then
			[[ -z "$output" ]] || fail "k=$k: stdout: $output"
			[[ "$stderr" == "hive-emit: error: "*"$sess/"*"No space left on device" ]] ||
				fail "k=$k: stderr: $stderr"
			assert_unchanged "$TMPFS"
		else
			[[ "$status" == 0 ]] || fail "k=$k: exit $status: $stderr"
			[[ "$output" == "$(tail -n 1 "$sess/EVENTS.jsonl")" ]] || fail "k=$k: stdout is not the line written"
		fi
		check_clean --root "$TMPFS/hive" --session full
		echo "# $k pages free: exit $rc" >&3
		seen="$seen $rc"
	done
	[[ "$seen" == " 3 "*" 0" ]] || fail "exit statuses by free pages:$seen"
	verify_chain "$sess/EVENTS.jsonl"
}

@test "disk full: hive-runbook --finish at every fill level finishes whole or exits 3 with the session unchanged" {
	local k rc seen=
	mount_tmpfs 64k
	hive-init -q --root "$TMPFS/hive" --session full >/dev/null
	hive-emit -q --root "$TMPFS/hive" --session full "${MON[@]}" >/dev/null
	local sess="$TMPFS/hive/sessions/full"
	cp -a "$TMPFS/hive" "$BATS_TEST_TMPDIR/hive.orig"
	for k in 0 1 2 3 4 5; do
		rm -rf "$TMPFS/hive"
		rm -f "$TMPFS/fill"
		cp -a "$BATS_TEST_TMPDIR/hive.orig" "$TMPFS/hive"
		fill_leaving "$k"
		snapshot "$TMPFS"
		run --separate-stderr hive-runbook --root "$TMPFS/hive" --session full --finish
		rc=$status
		if [[ "$status" == 3 ]]; then
			[[ -z "$output" ]] || fail "k=$k: stdout: $output"
			[[ "$stderr" == "hive-runbook: error: "*"$sess/"*"No space left on device" ]] ||
				fail "k=$k: stderr: $stderr"
			# no session_completed, no METRICS.json, no RUNBOOK.md, no temporary file
			assert_unchanged "$TMPFS"
			check_clean --root "$TMPFS/hive" --session full
		else
			[[ "$status" == 0 ]] || fail "k=$k: exit $status: $stderr"
			[[ -f "$sess/METRICS.json" && -f "$sess/RUNBOOK.md" ]] || fail "k=$k: reports missing"
			assert_jq '.status == "completed"' "$(cat "$sess/STATE.json")"
			check_clean --root "$TMPFS/hive" --session full
		fi
		echo "# $k pages free: exit $rc" >&3
		seen="$seen $rc"
	done
	# the levels cover both outcomes: a refusal with nothing free, success with room
	[[ "$seen" == " 3 "*" 0" ]] || fail "exit statuses by free pages:$seen"
}

# --- a read-only folder ---------------------------------------------------------------

@test "read-only session folder: hive-emit, hive-runbook --finish and --repair exit 3 naming it; hive-check still reads it" {
	TOP=$(mktemp -d /tmp/hive-faults.XXXXXX)
	chmod 755 "$TOP"
	cd "$TOP" # no repository: any root is fine, and nobody cannot enter the bats folders
	hive-init -q --root "$TOP/hive" --session ro >/dev/null
	hive-emit -q --root "$TOP/hive" --session ro "${MON[@]}" >/dev/null
	local sess="$TOP/hive/sessions/ro"
	cd "$TOP" # nobody cannot enter the bats temporary folders
	as_nobody
	if [[ ${#AS[@]} == 0 ]]; then
		chmod -R a-w "$TOP/hive"
	fi
	refused 3 "hive-emit: error: $sess/*Permission denied" "$TOP" \
		"${AS[@]}" "$(command -v hive-emit)" --root "$TOP/hive" --session ro "${MON[@]}"
	refused 3 "hive-runbook: error: $sess/*Permission denied" "$TOP" \
		"${AS[@]}" "$(command -v hive-runbook)" --root "$TOP/hive" --session ro --finish
	refused 3 "hive-check: error: $sess/*Permission denied" "$TOP" \
		"${AS[@]}" "$(command -v hive-check)" --root "$TOP/hive" --session ro --repair
	# reading needs no write access: the gate and the reports work on a read-only tree
	snapshot "$TOP"
	run --separate-stderr "${AS[@]}" "$(command -v hive-check)" --root "$TOP/hive" --session ro
	assert_success
	run --separate-stderr "${AS[@]}" "$(command -v hive-runbook)" --root "$TOP/hive" --session ro
	assert_success
	assert_output --partial '# RUNBOOK: ro'
	assert_unchanged "$TOP"
}

# --- a lock held by another process ---------------------------------------------------

@test "a lock held by another process: HIVE_LOCK_TIMEOUT=1 gives exit 3 within seconds, nothing written" {
	hive-init -q --session locked >/dev/null
	local sess
	sess="$(session_dir locked)"
	hold_lock "$sess/.lock"
	local t0=$SECONDS
	HIVE_LOCK_TIMEOUT=1 refused 3 "hive-emit: error: *lock*" "$REPO" \
		hive-emit --session locked "${MON[@]}"
	HIVE_LOCK_TIMEOUT=1 refused 3 "hive-emit: error: *lock*" "$REPO" \
		hive-emit --session locked - <<<'{"event_type":"monitoring_added","details":{"resource":"a","action":"create","platform":"K8s","status":"success"}}'
	HIVE_LOCK_TIMEOUT=1 refused 3 "hive-runbook: error: *lock*" "$REPO" \
		hive-runbook --session locked --finish
	HIVE_LOCK_TIMEOUT=1 refused 3 "hive-check: error: *lock*" "$REPO" \
		hive-check --session locked --repair
	# four waits of one second each, not the default ten
	((SECONDS - t0 < 12)) || fail "the timeouts took $((SECONDS - t0)) s"
	# once the holder lets go, the same emit works
	kill -9 "${BG_PIDS[0]}"
	wait "${BG_PIDS[0]}" 2>/dev/null || true
	BG_PIDS=()
	run hive-emit -q --session locked "${MON[@]}"
	assert_success
	check_clean --session locked
}

# --- kill -9 in the middle of a concurrent emit storm ---------------------------------

@test "kill -9 storm: 8 writers killed at random moments lose no reported line; hive-check passes (after --repair at most)" {
	hive-init -q --session storm >/dev/null
	local sess out="$BATS_TEST_TMPDIR/out" i pids victim kills=0
	sess="$(session_dir storm)"
	mkdir -p "$out"
	# each writer: a loop of hive-emit, each one's stdout (the line it reports written)
	# in its own file, so a process killed while printing cannot garble another's line
	# Under `make sanitize`, LeakSanitizer's exit-time check stops every thread with ptrace;
	# a SIGKILL landing during that check makes it report "Unable to get registers from
	# thread N" and fail the run. A process killed on purpose has no leak worth reporting,
	# so the writers here run without the leak check (ASan and UBSan still watch them, and
	# the hive-check and hive-emit runs after the storm keep it).
	for i in 1 2 3 4 5 6 7 8; do
		(
			export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
			n=0
			while :; do
				n=$((n + 1))
				hive-emit --session storm -q "${MON[@]}" "writer=$i" "n=$n" \
					>"$out/$i.$n" 2>/dev/null || true
			done
		) &
		BG_PIDS+=($!)
	done
	for _ in $(seq 12); do
		sleep "0.$((RANDOM % 4 + 1))"
		# SIGKILL a random hive-emit of a random writer (children of our own loops only)
		for i in $(seq 3); do
			pids=$(pgrep -P "${BG_PIDS[RANDOM % 8]}" -x hive-emit || true)
			for victim in $pids; do
				kill -9 "$victim" 2>/dev/null && kills=$((kills + 1))
			done
		done
	done
	for i in "${BG_PIDS[@]}"; do
		kill -9 "$i" 2>/dev/null || true
	done
	for i in "${BG_PIDS[@]}"; do
		wait "$i" 2>/dev/null || true
	done
	BG_PIDS=()
	# the loops' last hive-emit may still be finishing: wait for them to go
	for i in $(seq 100); do
		pgrep -f "hive-emit --session storm" >/dev/null || break
		sleep 0.1
	done
	echo "# $kills hive-emit processes killed, $(lines_of "$sess/EVENTS.jsonl") lines written" >&3
	((kills > 0)) || fail "no writer was killed: the test proved nothing"

	run --separate-stderr hive-check --session storm
	if [[ "$status" != 0 ]]; then
		# only a cut-off tail (a writer killed inside its write) may be wrong
		run --separate-stderr hive-check --session storm --repair
		[[ "$status" == 0 ]] || fail "$(printf 'hive-check --repair: exit %s\n%s\n%s' "$status" "$output" "$stderr")"
		[[ -s "$sess/EVENTS.jsonl.torn" ]] || fail "repaired, but no EVENTS.jsonl.torn"
		[[ "$(tail -c 1 "$sess/EVENTS.jsonl.torn" | od -An -c | tr -d ' ')" != '\n' ]] ||
			fail "EVENTS.jsonl.torn holds a whole line"
	fi
	check_clean --session storm
	verify_chain "$sess/EVENTS.jsonl"
	# every line a writer printed as written is in the log, byte for byte
	local reported="$BATS_TEST_TMPDIR/reported" missing
	find "$out" -type f -size +0 -exec cat {} + | grep -a '}$' | sort -u >"$reported" || true
	[[ -s "$reported" ]] || fail "no writer reported a line"
	missing=$(sort "$sess/EVENTS.jsonl" | comm -23 "$reported" -)
	[[ -z "$missing" ]] || fail "$(printf 'lines reported written but not in the log:\n%s' "$missing")"
	echo "# $(lines_of "$reported") reported lines, all in the log" >&3
	# the session takes more events, and its view agrees with the log
	run hive-emit -q --session storm "${MON[@]}"
	assert_success
	check_clean --session storm
	# and the killed writers left no temporary files behind (a STATE.json being written
	# when its writer died is reused by the next writer, not left as .STATE.json.<pid>.tmp)
	[[ -z "$(find "$sess" -name '*.tmp')" ]] || fail "temporary files left: $(find "$sess" -name '*.tmp')"
}

@test "a STATE.json temporary file left by a writer killed mid-rewrite is taken over by the next writer" {
	hive-init -q --session tmp >/dev/null
	local sess
	sess="$(session_dir tmp)"
	printf '{"half a STATE.j' >"$sess/.STATE.json.tmp"
	run hive-emit -q --session tmp "${MON[@]}"
	assert_success
	[[ ! -e "$sess/.STATE.json.tmp" ]] || fail ".STATE.json.tmp is still there"
	[[ -z "$(find "$sess" -name '*.tmp')" ]] || fail "temporary files left: $(find "$sess" -name '*.tmp')"
	check_clean --session tmp
}

@test "a writer killed inside its write(2): the cut-off tail blocks appends until --repair moves exactly it aside" {
	hive-init -q --session torn >/dev/null
	hive-emit -q --session torn "${MON[@]}" >/dev/null
	local sess line
	sess="$(session_dir torn)"
	cp "$sess/EVENTS.jsonl" "$BATS_TEST_TMPDIR/whole"
	# what a SIGKILL between two pages of a write leaves: the first bytes of a real line
	hive-init -q --root "$REPO/elsewhere" --session x >/dev/null
	line="$(hive-emit --root "$REPO/elsewhere" --session x "${MON[@]}")"
	printf '%s' "${line:0:150}" >>"$sess/EVENTS.jsonl"
	refused 3 "hive-emit: error: *cut off*hive-check --repair*" "$REPO" \
		hive-emit --session torn "${MON[@]}"
	run --separate-stderr hive-check --session torn
	assert_failure 1
	assert_output --partial '[json]'
	run --separate-stderr hive-check --session torn --repair
	assert_success
	assert_stderr --partial 'moved a cut-off last line (150 bytes) to EVENTS.jsonl.torn'
	cmp "$sess/EVENTS.jsonl" "$BATS_TEST_TMPDIR/whole"
	[[ "$(cat "$sess/EVENTS.jsonl.torn")" == "${line:0:150}" ]] || fail "EVENTS.jsonl.torn is not the tail"
	run hive-emit -q --session torn "${MON[@]}"
	assert_success
	check_clean --session torn
	verify_chain "$sess/EVENTS.jsonl"
}

# --- a session folder swapped for a symbolic link -------------------------------------

@test "a session folder swapped for a symbolic link between runs is refused by every tool; its target unchanged" {
	hive-init -q --session a >/dev/null
	hive-init -q --session b >/dev/null
	local root="$REPO/Docs/hive-mind/sessions"
	mv "$root/a" "$BATS_TEST_TMPDIR/a.real"
	ln -s b "$root/a"
	refused 3 "hive-emit: error: $root/a: is a symbolic link (refused)" "$REPO" \
		hive-emit --session a "${MON[@]}"
	refused 3 "hive-runbook: error: $root/a: is a symbolic link (refused)" "$REPO" \
		hive-runbook --session a --finish
	refused 3 "hive-runbook: error: $root/a: is a symbolic link (refused)" "$REPO" \
		hive-runbook --session a
	snapshot "$REPO"
	run --separate-stderr hive-init -q --session a
	assert_failure 3
	assert_stderr --partial "$root/a: is a symbolic link (refused)"
	run --separate-stderr hive-check --session a --repair
	assert_failure 1
	assert_output --partial 'symbolic link'
	assert_unchanged "$REPO"
	check_clean --session b
}

# --- lines the stream must refuse -----------------------------------------------------

@test "a 2 MiB line on hive-emit's stdin is exit 2 naming the line, nothing written" {
	hive-init -q --session big >/dev/null
	{
		printf '{"event_type":"monitoring_added","details":{"resource":"a","action":"create","platform":"K8s","status":"success"}}\n'
		printf '{"event_type":"monitoring_added","details":{"resource":"'
		head -c $((2 * 1024 * 1024)) /dev/zero | tr '\0' a
		printf '","action":"create","platform":"K8s","status":"success"}}\n'
	} >"$BATS_TEST_TMPDIR/big.ndjson"
	refused 2 "hive-emit: error: stdin:2: longer than 1048576 bytes" "$REPO" \
		hive-emit --session big - <"$BATS_TEST_TMPDIR/big.ndjson"
}

@test "invalid UTF-8 on hive-emit's stdin is exit 2 naming the line and byte, nothing written" {
	hive-init -q --session utf >/dev/null
	printf '{"event_type":"monitoring_added","details":{"resource":"a","action":"create","platform":"K8s","status":"success"}}\n{"event_type":"monitoring_added","details":{"resource":"caf\xe9","action":"create","platform":"K8s","status":"success"}}\n' \
		>"$BATS_TEST_TMPDIR/latin1.ndjson"
	refused 2 "hive-emit: error: stdin:2: not valid JSON: byte 60: invalid UTF-8 in a string" "$REPO" \
		hive-emit --session utf - <"$BATS_TEST_TMPDIR/latin1.ndjson"
	# an overlong encoding and a UTF-16 surrogate are not UTF-8 either
	printf '{"event_type":"monitoring_added","details":{"resource":"a\xc0\xafb","action":"create","platform":"K8s","status":"success"}}\n' \
		>"$BATS_TEST_TMPDIR/overlong.ndjson"
	refused 2 "hive-emit: error: stdin:1: not valid JSON: byte 58: invalid UTF-8 in a string" "$REPO" \
		hive-emit --session utf - <"$BATS_TEST_TMPDIR/overlong.ndjson"
	printf '{"event_type":"monitoring_added","details":{"resource":"a\xed\xa0\x80","action":"create","platform":"K8s","status":"success"}}\n' \
		>"$BATS_TEST_TMPDIR/surrogate.ndjson"
	refused 2 "hive-emit: error: stdin:1: not valid JSON: byte 58: invalid UTF-8 in a string" "$REPO" \
		hive-emit --session utf - <"$BATS_TEST_TMPDIR/surrogate.ndjson"
}

@test "a NUL byte on hive-emit's stdin (inside a string, between tokens, before or after the object) is exit 2, nothing written" {
	hive-init -q --session nul >/dev/null
	local d='"details":{"resource":"a","action":"create","platform":"K8s","status":"success"'
	# before: cJSON read "create\0destroy" as "create" and skipped a NUL as a space
	printf '{"event_type":"deployment_configured",%s,"configuration":{"action_note":"create\0destroy"}}}\n' "$d" \
		>"$BATS_TEST_TMPDIR/in-string"
	refused 2 "hive-emit: error: stdin:1:*: a NUL character (an event holds text, and text holds no NUL)" \
		"$REPO" hive-emit --session nul - <"$BATS_TEST_TMPDIR/in-string"
	printf '{"event_type":"monitoring_added",\0%s}}\n' "$d" >"$BATS_TEST_TMPDIR/between"
	refused 2 "hive-emit: error: stdin:1:34: a NUL character*" "$REPO" \
		hive-emit --session nul - <"$BATS_TEST_TMPDIR/between"
	printf '\0{"event_type":"monitoring_added",%s}}\n' "$d" >"$BATS_TEST_TMPDIR/before"
	refused 2 "hive-emit: error: stdin:1:1: a NUL character*" "$REPO" \
		hive-emit --session nul - <"$BATS_TEST_TMPDIR/before"
	printf '{"event_type":"monitoring_added",%s}}\0\n' "$d" >"$BATS_TEST_TMPDIR/after"
	refused 2 "hive-emit: error: stdin:1:*: a NUL character*" "$REPO" \
		hive-emit --session nul - <"$BATS_TEST_TMPDIR/after"
	# the escaped form \u0000 cannot be held by a C string either
	printf '{"event_type":"monitoring_added",%s,"configuration":{"x":"a\\u0000b"}}}\n' "$d" \
		>"$BATS_TEST_TMPDIR/escaped"
	refused 2 "hive-emit: error: stdin:1:*: a NUL character*" "$REPO" \
		hive-emit --session nul - <"$BATS_TEST_TMPDIR/escaped"
	refused 2 "hive-emit: error: *the value after := is not valid JSON*" "$REPO" \
		hive-emit --session nul "${MON[@]}" 'x:="a\u0000b"'
	# and a line with a NUL byte in the log is a json finding for the gate
	printf '{"seq":2}\0\n' >>"$(session_dir nul)/EVENTS.jsonl"
	run --separate-stderr hive-check --session nul
	assert_failure 1
	assert_output --partial ':2: error: [json] not valid JSON'
}

# --- a damaged view or log ------------------------------------------------------------

@test "a truncated STATE.json: the next hive-emit rebuilds it from the log; so does hive-check --repair" {
	hive-init -q --session st >/dev/null
	hive-emit -q --session st "${MON[@]}" >/dev/null
	local sess
	sess="$(session_dir st)"
	cp "$sess/STATE.json" "$BATS_TEST_TMPDIR/state.good"
	truncate -s 60 "$sess/STATE.json"
	# the gate sees it
	run --separate-stderr hive-check --session st
	assert_failure 1
	assert_output --partial '[state]'
	# hive-check --repair rebuilds the view, and the log is untouched
	cp "$sess/EVENTS.jsonl" "$BATS_TEST_TMPDIR/events.before"
	run --separate-stderr hive-check --session st --repair
	assert_success
	cmp "$sess/EVENTS.jsonl" "$BATS_TEST_TMPDIR/events.before"
	cmp "$sess/STATE.json" "$BATS_TEST_TMPDIR/state.good"
	# the next hive-emit does the same on its own
	truncate -s 60 "$sess/STATE.json"
	run --separate-stderr hive-emit --session st "${MON[@]}"
	assert_success
	assert_jq '.events.count == 3 and .events.last_seq == 3' "$(cat "$sess/STATE.json")"
	check_clean --session st
	verify_chain "$sess/EVENTS.jsonl"
}

@test "an empty EVENTS.jsonl: hive-emit exits 3 saying so, hive-check reports it, nothing is changed" {
	hive-init -q --session empty >/dev/null
	local sess
	sess="$(session_dir empty)"
	: >"$sess/EVENTS.jsonl"
	refused 3 "hive-emit: error: $sess/EVENTS.jsonl: empty (no session_started): run hive-init" \
		"$REPO" hive-emit --session empty "${MON[@]}"
	# --finish shows the gate's findings first, then why it cannot finish
	refused 3 "*hive-runbook: error: $sess/EVENTS.jsonl: empty (no session_started): run hive-init" \
		"$REPO" hive-runbook --session empty --finish
	snapshot "$REPO"
	run --separate-stderr hive-check --session empty
	assert_failure 1
	assert_output --partial "EVENTS.jsonl: error: [protocol] the log is empty: line 1 must be session_started"
	run --separate-stderr hive-check --session empty --repair
	assert_failure 1
	assert_unchanged "$REPO"
}
