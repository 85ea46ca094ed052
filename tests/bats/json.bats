#!/usr/bin/env bats
# json.bats - the one strict JSON reader from the outside: what jq and python3 make of each
# odd line, then what the gate (hive-check) and the writer (hive-emit) do with it.
#
# Each case first asserts what `jq -c .` (jq 1.6) and python3's json.loads say, as they
# are, not as we would like them: both refuse a raw control byte, a BOM before a line and
# 998-deep nesting; jq takes `06` and `2.` (python3 refuses them); both take a key named
# twice and keep the LAST value, where cJSON alone kept the first. hive refuses all of them,
# so no line can mean one thing to the gate and another to the tools that read the log
# after it.
#
# A gate case edits the last line of a session written by the tools and puts the new line's
# hash into STATE.json (so the chain and last_hash still hold, and the finding is the json
# one; STATE.json's last_seq then disagrees with a log whose last line is not read, which
# is a second finding). A writer case asserts exit 2, the message, nothing on stdout, and
# EVENTS.jsonl and STATE.json byte for byte as they were.

load test_helper

setup() {
	hive_setup || return 1
	REPO="$BATS_TEST_TMPDIR/repo"
	make_repo "$REPO" || return 1
	cd "$REPO" || return 1
	hive-init --session s1 >/dev/null 2>&1 || fail "hive-init failed"
	hive-emit --session s1 pipeline_updated --resource ci --action update --platform Docker \
		--status success note=hello replicas:=3 >/dev/null 2>&1 || fail "hive-emit failed"
	D="$(session_dir s1)"
	EV="$D/EVENTS.jsonl"
	ST="$D/STATE.json"
	SHOWN=Docs/hive-mind/sessions/s1/EVENTS.jsonl
}

# --- helpers for this suite -----------------------------------------------------------

# jq_line / py_line: the last line through `jq -c EXPR` / json.loads and a Python EXPR on
# its value `v` (printed as JSON); run, so $status and $output say what each made of it.
jq_line() {
	run jq -c "${1:-.}" < <(tail -n 1 "$EV")
}
py_line() {
	run python3 -c 'import json,sys; v = json.loads(sys.stdin.read()); print(json.dumps('"${1:-v}"'))' \
		< <(tail -n 1 "$EV")
}

# edit_last PYTHON_EXPR: replace the last line L of EVENTS.jsonl by PYTHON_EXPR (over the
# bytes L), then give STATE.json that line's hash as last_hash.
edit_last() {
	python3 - "$EV" "$1" <<-'EOF' || fail "edit_last $1 failed"
		import sys
		path, expr = sys.argv[1], sys.argv[2]
		lines = open(path, 'rb').read().split(b'\n')
		L = lines[-2]
		new = eval(expr)
		assert new != L, 'the edit changed nothing'
		lines[-2] = new
		open(path, 'wb').write(b'\n'.join(lines))
	EOF
	local h
	h="$(tail -n 1 "$EV" | tr -d '\n' | sha256sum | cut -c1-64)"
	sed -i "s/\"last_hash\":\"sha256:[0-9a-f]*\"/\"last_hash\":\"sha256:$h\"/" "$ST"
}

# byte_at NEEDLE [first]: where the last (or first) NEEDLE starts in the last line, from 1.
byte_at() {
	python3 -c 'import sys; l = open(sys.argv[1], "rb").read().split(b"\n")[-2]
n = sys.argv[2].encode("utf-8", "surrogateescape")
print((l.find(n) if sys.argv[3] == "first" else l.rindex(n)) + 1)' "$EV" "$1" "${2:-last}"
}

# gate_refuses REASON: hive-check exits 1, and its first finding is the json one at the
# last line, with REASON.
gate_refuses() {
	local n
	n=$(wc -l <"$EV" | tr -d ' ')
	run --separate-stderr hive-check --session s1
	assert_failure 1
	assert_line --index 0 "$SHOWN:$n: error: [json] not valid JSON: $1"
	[[ "$(grep -c '\[json\]' <<<"$output")" == 1 ]] || fail "one json finding expected: $output"
}

# keep: copies of EVENTS.jsonl and STATE.json; unchanged: cmp against them.
keep() {
	cp "$EV" "$BATS_TEST_TMPDIR/events.before"
	cp "$ST" "$BATS_TEST_TMPDIR/state.before"
}
unchanged() {
	cmp "$EV" "$BATS_TEST_TMPDIR/events.before" || fail "EVENTS.jsonl changed"
	cmp "$ST" "$BATS_TEST_TMPDIR/state.before" || fail "STATE.json changed"
}

# emit_refused MESSAGE ARGS…: hive-emit ARGS… exits 2 saying exactly MESSAGE, writes
# nothing on stdout and changes neither file.
emit_refused() {
	local msg=$1
	shift
	keep
	run --separate-stderr hive-emit --session s1 "$@"
	assert_failure 2
	assert_output ''
	assert_stderr "hive-emit: error: $msg"
	unchanged
}

# nested N: an object N deep, {"a":{"a":…0…}}.
nested() {
	python3 -c 'import sys; n = int(sys.argv[1]); print("{\"a\":" * n + "0" + "}" * n)' "$1"
}

PIPE=(pipeline_updated --resource ci --action update --platform Docker --status success)

# --- the gate: duplicate keys ---------------------------------------------------------

@test "gate: a second \"prev\" (jq and python3 read the last one) is a json finding" {
	local prev
	prev="$(tail -n 1 "$EV" | jq -r .prev)"
	edit_last 'L[:-1] + b",\"prev\":null}"'
	jq_line .prev
	assert_success
	assert_output 'null'
	py_line 'v["prev"]'
	assert_success
	assert_output 'null'
	# cJSON alone read the first, the right hash: the chain held and this passed
	[[ "$(tail -n 1 "$EV")" == *"\"prev\":\"$prev\",\"prev\":null}" ]]
	gate_refuses "byte $(byte_at '"prev"'): duplicate key \"prev\""
}

@test "gate: a second \"seq\" is a json finding" {
	edit_last 'L.replace(b"{\"seq\":2,", b"{\"seq\":2,\"seq\":9,", 1)'
	jq_line .seq
	assert_success
	assert_output '9'
	py_line 'v["seq"]'
	assert_success
	assert_output '9'
	gate_refuses "byte $(byte_at '"seq"'): duplicate key \"seq\""
}

@test "gate: a second \"session_id\" is a json finding" {
	edit_last 'L.replace(b"\"session_id\":\"s1\"", b"\"session_id\":\"s1\",\"session_id\":\"other\"", 1)'
	jq_line .session_id
	assert_success
	assert_output '"other"'
	py_line 'v["session_id"]'
	assert_success
	assert_output '"other"'
	gate_refuses "byte $(byte_at '"session_id"'): duplicate key \"session_id\""
}

@test "gate: a second git \"dirty\" (depth 2) is a json finding" {
	[[ "$(tail -n 1 "$EV")" == *'"dirty":false'* ]] || fail "the line has no git.dirty false"
	edit_last 'L.replace(b"\"dirty\":false", b"\"dirty\":false,\"dirty\":true", 1)'
	jq_line .git.dirty
	assert_success
	assert_output 'true'
	py_line 'v["git"]["dirty"]'
	assert_success
	assert_output 'true'
	gate_refuses "byte $(byte_at '"dirty"'): duplicate key \"dirty\""
}

@test "gate: a duplicate key inside details.configuration (depth 3) is a json finding" {
	edit_last 'L.replace(b"\"replicas\":3", b"\"replicas\":3,\"replicas\":300", 1)'
	jq_line .details.configuration.replicas
	assert_success
	assert_output '300'
	py_line 'v["details"]["configuration"]["replicas"]'
	assert_success
	assert_output '300'
	gate_refuses "byte $(byte_at '"replicas"'): duplicate key \"replicas\""
}

# --- the gate: text RFC 8259 refuses --------------------------------------------------

@test "gate: a raw control byte in a string is a json finding (jq and python3 refuse it)" {
	edit_last 'L.replace(b"\"hello\"", b"\"hel\x01lo\"", 1)'
	jq_line
	assert_failure
	assert_output --partial 'control characters from U+0000 through U+001F must be escaped'
	py_line
	assert_failure
	assert_output --partial 'Invalid control character'
	gate_refuses "byte $(byte_at $'\x01'): raw control character U+0001 in a string"
}

@test "gate: the number 06 is a json finding (jq reads 6, python3 refuses)" {
	edit_last 'L.replace(b"\"replicas\":3", b"\"replicas\":06", 1)'
	jq_line .details.configuration.replicas
	assert_success
	assert_output '6'
	py_line
	assert_failure
	assert_output --partial "Expecting ',' delimiter"
	gate_refuses "byte $(($(byte_at '"replicas":06') + 11)): leading zero in a number"
}

@test "gate: the number 2. is a json finding (jq reads 2, python3 refuses)" {
	edit_last 'L.replace(b"\"replicas\":3", b"\"replicas\":2.", 1)'
	jq_line .details.configuration.replicas
	assert_success
	assert_output '2'
	py_line
	assert_failure
	assert_output --partial "Expecting ',' delimiter"
	gate_refuses "byte $(($(byte_at '"replicas":2.') + 11)): a number needs a digit after its decimal point"
}

@test "gate: a BOM in the middle of EVENTS.jsonl is a json finding (jq and python3 refuse it)" {
	edit_last 'b"\xef\xbb\xbf" + L'
	# jq over the file: the BOM before line 2 is not JSON
	run jq -c . "$EV"
	assert_failure
	assert_output --partial 'parse error: Invalid numeric literal at line 2'
	# (jq does skip a BOM at the very start of its input, the line on its own)
	jq_line .seq
	assert_success
	assert_output '2'
	py_line
	assert_failure
	assert_output --partial 'Unexpected UTF-8 BOM'
	gate_refuses "byte 1: a byte order mark (U+FEFF) before the JSON value"
}

@test "gate: nesting: 64 levels pass, 65 are a json finding" {
	# replicas sits at level 3 (event, details, configuration): 61 arrays make 64
	edit_last 'L.replace(b"\"replicas\":3", b"\"replicas\":" + b"[" * 61 + b"3" + b"]" * 61, 1)'
	jq_line
	assert_success
	py_line
	assert_success
	run --separate-stderr hive-check --session s1
	assert_success
	assert_output ''
	edit_last 'L.replace(b"[3]", b"[[3]]", 1)'
	jq_line
	assert_success
	py_line
	assert_success
	# the 62nd bracket, at level 65: the innermost
	gate_refuses "byte $(byte_at '[3]'): nesting deeper than 64"
}

# --- the writer -----------------------------------------------------------------------

@test "emit: --json nested 998 deep is refused before anything is written" {
	local deep
	deep="$(nested 998)"
	run jq -c . <<<"$deep"
	assert_failure
	assert_output --partial 'Exceeds depth limit for parsing'
	run python3 -c 'import json,sys; json.loads(sys.stdin.read())' <<<"$deep"
	assert_failure
	assert_output --partial 'RecursionError'
	emit_refused '--json: not valid JSON: byte 321: nesting deeper than 64' "${PIPE[@]}" --json "$deep"
	# and from a file, and from standard input
	printf '%s\n' "$deep" >"$BATS_TEST_TMPDIR/deep.json"
	emit_refused "--json: $BATS_TEST_TMPDIR/deep.json: not valid JSON: byte 321: nesting deeper than 64" \
		"${PIPE[@]}" --json "@$BATS_TEST_TMPDIR/deep.json"
	emit_refused '--json: standard input: not valid JSON: byte 321: nesting deeper than 64' \
		"${PIPE[@]}" --json - <<<"$deep"
}

@test "emit: --json at the deepest that fits (62: the event and details take 2) passes the gate; 63 is refused" {
	local a62
	a62="$(printf '.a%.0s' {1..62})"
	run --separate-stderr hive-emit --session s1 "${PIPE[@]}" --json "$(nested 62)"
	assert_success
	assert_jq '.details.configuration'"${a62%.a}"' == {"a":0}' "$(tail -n 1 "$EV")"
	run --separate-stderr hive-check --session s1
	assert_success
	assert_output ''
	emit_refused "details.configuration${a62}: nesting deeper than 64 (the limit for a whole event line, where the event is level 1 and details level 2)" \
		"${PIPE[@]}" --json "$(nested 63)"
	# the same limit through KEY:=JSON under a dotted key
	emit_refused "details.configuration.x${a62%.a}: nesting deeper than 64 (the limit for a whole event line, where the event is level 1 and details level 2)" \
		"${PIPE[@]}" "x:=$(nested 62)"
}

@test "emit: --json, KEY:=JSON and NDJSON lines are read strictly, each refusal names its reason" {
	local ok='{"event_type":"pipeline_updated","details":{"resource":"ci","action":"update","platform":"Docker","status":"success"}}'
	emit_refused '--json: not valid JSON: byte 6: leading zero in a number' "${PIPE[@]}" --json '{"n":06}'
	emit_refused '--json: not valid JSON: byte 6: a number needs a digit after its decimal point' \
		"${PIPE[@]}" --json '{"n":2.}'
	emit_refused '--json: not valid JSON: byte 8: duplicate key "n"' "${PIPE[@]}" --json '{"n":1,"n":2}'
	emit_refused '--json: not valid JSON: byte 8: raw control character U+0001 in a string' \
		"${PIPE[@]}" --json $'{"s":"a\x01b"}'
	emit_refused '--json: not valid JSON: byte 1: a byte order mark (U+FEFF) before the JSON value' \
		"${PIPE[@]}" --json $'\xef\xbb\xbf{}'
	emit_refused '--json: not valid JSON: byte 6: NaN and Infinity are not JSON numbers' \
		"${PIPE[@]}" --json '{"n":NaN}'
	emit_refused '"n:=06": the value after := is not valid JSON: byte 1: leading zero in a number (quote strings, or use KEY=VALUE)' \
		"${PIPE[@]}" 'n:=06'
	emit_refused '"n:=.5": the value after := is not valid JSON: byte 1: a number starts with a digit or '"'-'"', not '"'.'"' (quote strings, or use KEY=VALUE)' \
		"${PIPE[@]}" 'n:=.5'
	emit_refused '"t:={\"a\":1,\"b\":{\"c\":0,\"c\":1}}": the value after := is not valid JSON: byte 19: duplicate key "c" (quote strings, or use KEY=VALUE)' \
		"${PIPE[@]}" 't:={"a":1,"b":{"c":0,"c":1}}'
	printf '%s\n%s\n' "$ok" '{"event_type":"pipeline_updated","event_type":"monitoring_added","details":{}}' \
		>"$BATS_TEST_TMPDIR/stream"
	emit_refused 'stdin:2: not valid JSON: byte 34: duplicate key "event_type"' - <"$BATS_TEST_TMPDIR/stream"
	printf '%s\n\xef\xbb\xbf%s\n' "$ok" "$ok" >"$BATS_TEST_TMPDIR/stream"
	emit_refused 'stdin:2: not valid JSON: byte 1: a byte order mark (U+FEFF) before the JSON value' \
		- <"$BATS_TEST_TMPDIR/stream"
	printf '%s\n%s\n' "$ok" '{"event_type":"pipeline_updated","details":{"resource":"c	i"}}' \
		>"$BATS_TEST_TMPDIR/stream"
	emit_refused 'stdin:2: not valid JSON: byte 58: raw control character U+0009 in a string' \
		- <"$BATS_TEST_TMPDIR/stream"
}
