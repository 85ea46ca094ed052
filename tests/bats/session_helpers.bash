# session_helpers.bash - sessions made for real, then edited as an attacker would: hashes
# recomputed (rechain), STATE.json kept in step (sync_state). Loaded by hive-check.bats and
# history.bats after test_helper.

# line_hash LINE: "sha256:<hex>" of LINE's bytes (without a newline), as prev holds it.
line_hash() {
	printf 'sha256:%s' "$(printf '%s' "$1" | sha256sum | cut -c1-64)"
}

# events_of ID: the EVENTS.jsonl of session ID under the default root.
events_of() {
	printf '%s/EVENTS.jsonl' "$(session_dir "$1")"
}

# new_session ID [N]: hive-init the session, then N (default 3) pipeline_updated events.
new_session() {
	local id=$1 n=${2:-3} i
	hive-init --session "$id" >/dev/null 2>&1 || fail "hive-init --session $id failed"
	for ((i = 1; i <= n; i++)); do
		hive-emit --session "$id" pipeline_updated --resource "ci-$i" --action update \
			--platform Docker --status success step="$i" >/dev/null 2>&1 ||
			fail "hive-emit into $id failed"
	done
}

# make_event TYPE ID TIMESTAMP DETAILS_JSON: an event object without seq and prev.
make_event() {
	jq -cn --arg t "$1" --arg s "$2" --arg ts "$3" --argjson d "$4" \
		'{timestamp: $ts, event_type: $t, worker: "devops-worker", session_id: $s,
		  details: $d, git: null, ci: null}'
}

# append_event FILE EVENT_JSON: append EVENT (no seq, no prev) to FILE with the seq and
# prev that continue the chain, keys in SPEC 3's order.
append_event() {
	local file=$1 ev=$2 last seq=1 prev=null
	if [[ -s "$file" ]]; then
		last="$(tail -n 1 "$file")"
		seq=$(($(jq -r .seq <<<"$last") + 1))
		prev="\"$(line_hash "$last")\""
	fi
	jq -c --argjson seq "$seq" --argjson prev "$prev" \
		'{seq: $seq, timestamp, event_type, worker, session_id, details, git, ci, prev: $prev}' \
		<<<"$ev" >>"$file" || fail "append_event: bad event $ev"
}

# rechain FILE: rewrite seq (1, 2, …) and prev (the SHA-256 of the line before) on every
# line, leaving every other byte as it is: the chain of a log edited by hand made sound.
rechain() {
	python3 - "$1" <<-'EOF' || fail "rechain $1 failed"
		import hashlib, re, sys
		path = sys.argv[1]
		lines = open(path, 'rb').read().split(b'\n')
		assert lines[-1] == b'', 'no final newline'
		out, prev = [], None
		for i, l in enumerate(lines[:-1], 1):
		    l, n1 = re.subn(rb'^\{"seq":\d+', b'{"seq":%d' % i, l)
		    p = b'null' if prev is None else b'"sha256:' + prev + b'"'
		    l, n2 = re.subn(rb'"prev":(null|"sha256:[0-9a-f]{64}")\}$', b'"prev":' + p + b'}', l)
		    assert n1 == 1 and n2 == 1, 'line %d has no seq or prev where expected' % i
		    prev = hashlib.sha256(l).hexdigest().encode()
		    out.append(l)
		open(path, 'wb').write(b'\n'.join(out) + b'\n')
	EOF
}

# sync_state DIR: make DIR/STATE.json agree with DIR/EVENTS.jsonl (events.count,
# last_seq, last_hash, status, completed_at), the way the tools keep it.
sync_state() {
	local dir=$1 last n
	last="$(tail -n 1 "$dir/EVENTS.jsonl")"
	n=$(wc -l <"$dir/EVENTS.jsonl")
	{ jq -c --argjson n "$n" --argjson seq "$(jq .seq <<<"$last")" --arg h "$(line_hash "$last")" \
		--slurpfile log "$dir/EVENTS.jsonl" '
		.events.count = $n | .events.last_seq = $seq | .events.last_hash = $h |
		([$log[] | select(.event_type == "session_completed")] | first) as $c |
		if $c then
			.status = (if $c.details.status == "failure" then "failed" else "completed" end) |
			.completed_at = $c.timestamp
		else . end' "$dir/STATE.json" >"$dir/STATE.json.new" &&
		mv "$dir/STATE.json.new" "$dir/STATE.json"; } || fail "sync_state $dir failed"
}

# complete_session ID [TIMESTAMP]: what hive-runbook --finish leaves: a session_completed
# line (at TIMESTAMP, default the last line's), METRICS.json, STATE.json completed.
complete_session() {
	local id=$1 dir ts
	dir="$(session_dir "$id")"
	ts=${2:-$(tail -n 1 "$dir/EVENTS.jsonl" | jq -r .timestamp)}
	append_event "$dir/EVENTS.jsonl" "$(make_event session_completed "$id" "$ts" '{"status":"success"}')"
	jq -cn --arg s "$id" '{session_id: $s}' >"$dir/METRICS.json"
	sync_state "$dir"
}

