#!/usr/bin/env bats
# tests/bats/mcp.bats - hive-mcp from the outside: a real MCP client (the official TypeScript
# SDK, tests/mcp/client.mjs) through a whole session, then the protocol's edges line by line:
# malformed JSON-RPC, unknown methods, notifications, oversize messages (SPEC 12)
#
# The SDK is installed into tests/node_modules by `make deps` (tests/package-lock.json pins
# it); a missing SDK is a FAILURE, never a skip.

# Single-quoted jq programs use jq's $variables; bats runs each test in a subshell.
# shellcheck disable=SC2016,SC2030,SC2031

load test_helper

setup() {
	hive_setup || return 1
	require_tool hive-mcp || return 1
	[[ -f "$SRC_TOP/tests/node_modules/@modelcontextprotocol/sdk/package.json" ]] ||
		fail "tests/node_modules has no @modelcontextprotocol/sdk: run make deps"
	REPO="$BATS_TEST_TMPDIR/repo"
	make_repo "$REPO"
	REPO="$(cd "$REPO" && pwd -P)"
	cd "$REPO" || return 1
}

# step NAME: the client's line for that step.
step() {
	jq -c --arg s "$1" 'select(.step == $s)' <<<"$CLIENT"
}

# rpc LINE…: hive-mcp's replies to these lines (run --separate-stderr).
rpc() {
	run --separate-stderr bash -c 'printf "%s\n" "$@" | hive-mcp -q' _ "$@"
}

@test "the MCP TypeScript SDK drives a whole session: initialize, tools/list, start, emit, check, show, finish" {
	run --separate-stderr node "$SRC_TOP/tests/mcp/client.mjs" "$BUILD_DIR/hive-mcp"
	[[ $status -eq 0 ]] || fail "client.mjs failed: $stderr"
	CLIENT=$output
	assert_jq '.server.name == "hive-mcp" and .capabilities.tools.listChanged == false
		and (.instructions | contains("hive_start"))' "$(step initialize)"
	assert_jq '.names == ["hive_start","hive_emit","hive_check","hive_show","hive_finish"]
		and .schemas.hive_emit.required == ["event_type"]
		and ([.schemas[] | .type] | unique == ["object"])' "$(step tools/list)"
	assert_jq '.ok' "$(step ping)"
	assert_jq '.isError == false and (.text | fromjson | .session_id == "mcp-1" and .created == true)' "$(step start)"
	assert_jq '.isError == false and (.text | fromjson | .created == false and .events == 1)' "$(step start-again)"
	# the event as written, secrets redacted: exactly the log's line 2
	log="$(session_dir mcp-1)/EVENTS.jsonl"
	assert_jq '.isError == false and .text == $line + "\n"' "$(step emit)" --arg line "$(sed -n 2p "$log")"
	assert_jq '.details.configuration.db_password == "[REDACTED]" and .details.configuration.version == "1.4.2"' \
		"$(sed -n 2p "$log")"
	# tool errors: the CLI's message, isError, nothing written
	assert_jq '.isError and .text == "hive_emit: error: details.action: \"destroy\" is not one of create, update, delete"' "$(step emit-bad)"
	assert_jq '.isError and (.text | contains("unknown argument \"nope\""))' "$(step emit-unknown-arg)"
	assert_jq '.isError and (.text | contains("session missing-1 does not exist"))' "$(step emit-no-session)"
	assert_jq '.isError and (.text | contains("is completed"))' "$(step emit-after-finish)"
	[[ ! -e "$(session_dir missing-1)" ]]
	assert_jq '.isError == false and .text == "0 errors, 0 warnings\n"' "$(step check)"
	assert_jq '.isError == false and (.text | fromjson | .metrics.events.total == 2)' "$(step show)"
	assert_jq '.isError == false and (.text | fromjson == {"session_id":"mcp-1","finished":true,"status":"completed"})' "$(step finish)"
	assert_jq '.isError == false and (.text | fromjson | .finished == false)' "$(step finish-again)"
	assert_jq '.isError == false and (.text | startswith("# RUNBOOK: mcp-1"))' "$(step show-runbook)"
	assert_jq '.threw and .code == -32602' "$(step unknown-tool)"
	assert_jq '.threw and .code == -32601' "$(step unknown-method)"
	# the log: session_started, the event, session_completed, and the gate agrees
	run jq -r .event_type "$log"
	assert_output $'session_started\ndeployment_configured\nsession_completed'
	run --separate-stderr hive-check --session mcp-1
	assert_success
	[[ -f "$(session_dir mcp-1)/METRICS.json" && -f "$(session_dir mcp-1)/RUNBOOK.md" ]]
}

@test "initialize answers the version asked for when hive knows it, else 2025-11-25" {
	for v in 2025-11-25 2025-06-18 2025-03-26 2024-11-05; do
		rpc "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{\"protocolVersion\":\"$v\",\"capabilities\":{},\"clientInfo\":{\"name\":\"t\",\"version\":\"1\"}}}"
		assert_success
		assert_jq '.jsonrpc == "2.0" and .id == 1 and .result.protocolVersion == $v' "$output" --arg v "$v"
	done
	rpc '{"jsonrpc":"2.0","id":"a","method":"initialize","params":{"protocolVersion":"2099-01-01"}}'
	assert_jq '.id == "a" and .result.protocolVersion == "2025-11-25" and .result.serverInfo.name == "hive-mcp"' "$output"
}

@test "malformed JSON-RPC: parse errors, invalid requests, unknown methods and bad params, each answered" {
	rpc '{"jsonrpc":"2.0","id":1,' '[{"jsonrpc":"2.0","id":2,"method":"ping"}]' '"ping"' \
		'{"id":3,"method":"ping"}' '{"jsonrpc":"1.0","id":4,"method":"ping"}' \
		'{"jsonrpc":"2.0","id":5,"method":"tools/destroy"}' \
		'{"jsonrpc":"2.0","id":6,"method":"tools/call","params":[1]}' \
		'{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"arguments":{}}}' \
		'{"jsonrpc":"2.0","id":8,"method":"tools/call","params":{"name":"hive_start","arguments":"x"}}' \
		'{"jsonrpc":"2.0","id":9,"method":"ping","id":10}' \
		'{"jsonrpc":"2.0","id":11,"method":"ping"}'
	assert_success
	assert_stderr_empty
	[[ ${#lines[@]} -eq 11 ]] || fail "expected 11 replies, got ${#lines[@]}: $output"
	assert_jq '.id == null and .error.code == -32700 and (.error.message | startswith("Parse error: byte"))' "${lines[0]}"
	assert_jq '.id == null and .error.code == -32600 and (.error.message | contains("batches"))' "${lines[1]}"
	assert_jq '.id == null and .error.code == -32600' "${lines[2]}"
	assert_jq '.id == 3 and .error.code == -32600' "${lines[3]}"
	assert_jq '.id == 4 and .error.code == -32600' "${lines[4]}"
	assert_jq '.id == 5 and .error.code == -32601 and .error.message == "Method not found: tools/destroy"' "${lines[5]}"
	assert_jq '.id == 6 and .error.code == -32602' "${lines[6]}"
	assert_jq '.id == 7 and .error.code == -32602' "${lines[7]}"
	assert_jq '.id == 8 and .error.code == -32602' "${lines[8]}"
	assert_jq '.id == null and .error.code == -32700 and (.error.message | contains("duplicate key"))' "${lines[9]}"
	assert_jq '.id == 11 and .result == {}' "${lines[10]}"
	# nothing was written anywhere
	[[ ! -e Docs ]]
}

@test "notifications and responses get no reply; blank lines are skipped; a last line without newline is answered" {
	run --separate-stderr bash -c 'printf "%s\n\n\r\n%s\n%s\n%s" \
		"{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}" \
		"{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\",\"params\":{\"requestId\":1}}" \
		"{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}" \
		"{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"ping\"}" | hive-mcp'
	assert_success
	assert_output '{"jsonrpc":"2.0","id":2,"result":{}}'
}

@test "a message over 1 MiB is answered -32600 and skipped, never held whole; the next one is answered" {
	{
		printf '{"jsonrpc":"2.0","id":1,"method":"ping","params":{"pad":"'
		head -c $((1024 * 1024)) /dev/zero | tr '\0' a
		printf '"}}\n'
		printf '%s\n' '{"jsonrpc":"2.0","id":2,"method":"ping"}'
	} >big.ndjson
	run --separate-stderr hive-mcp -q <big.ndjson
	assert_success
	[[ ${#lines[@]} -eq 2 ]] || fail "expected 2 replies, got: ${output:0:300}"
	assert_jq '.id == null and .error.code == -32600 and (.error.message | contains("1048576"))' "${lines[0]}"
	assert_jq '.id == 2 and .result == {}' "${lines[1]}"
	# a message of exactly 1 MiB is still read
	head='{"jsonrpc":"2.0","id":3,"method":"ping","params":{"pad":"'
	tail='"}}'
	{
		printf '%s' "$head"
		head -c $((1024 * 1024 - ${#head} - ${#tail})) /dev/zero | tr '\0' a
		printf '%s\n' "$tail"
	} >max.ndjson
	[[ $(head -n 1 max.ndjson | tr -d '\n' | wc -c) -eq 1048576 ]]
	run --separate-stderr hive-mcp -q <max.ndjson
	assert_success
	assert_jq '.id == 3 and .result == {}' "$output"
	# an endless line costs bounded memory: 64 MiB without a newline, then EOF
	run --separate-stderr bash -c 'head -c $((64 * 1024 * 1024)) /dev/zero | tr "\0" a | hive-mcp -q'
	assert_success
	assert_jq '.error.code == -32600' "$output"
}

@test "a tool's error text is scrubbed of secrets, as every diagnostic is" {
	rpc '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"hive_emit","arguments":{"session":"s1","event_type":"ghp_0123456789abcdefghijklmnopqrstuvwxyz"}}}' \
		'{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"hive_start","arguments":{"session":"glpat-abcdefghij0123456789"}}}'
	assert_success
	assert_jq '.result.isError == true' "${lines[0]}"
	assert_jq '.result.isError == true' "${lines[1]}"
	refute_output --partial 'ghp_0123'
	refute_output --partial 'glpat-abc'
	[[ ! -e Docs ]]
}

@test "hive-mcp: --help, --version, an unknown option or an operand is exit 2" {
	run --separate-stderr hive-mcp --help
	assert_success
	assert_output --partial 'usage: hive-mcp [options]'
	run --separate-stderr hive-mcp --version
	assert_output --regexp '^hive-mcp [0-9]'
	run_refused 2 'hive-mcp: error: .*--bogus' hive-mcp --bogus
	run_refused 2 'unexpected argument serve' hive-mcp serve
}

@test "hive-mcp -C DIR --session ID: every call starts there and defaults to that session" {
	cd "$BATS_TEST_TMPDIR"
	run --separate-stderr bash -c 'printf "%s\n" "$@" | hive-mcp -q -C repo --session dflt' _ \
		'{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"hive_start","arguments":{}}}' \
		'{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"hive_emit","arguments":{"event_type":"metric_recorded","configuration":{"name":"cost","value":3,"unit":"USD"}}}}' \
		'{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"hive_check","arguments":{}}}'
	assert_success
	assert_jq '.result.isError == false and (.result.content[0].text | fromjson | .session_id == "dflt")' "${lines[0]}"
	assert_jq '.result.isError == false' "${lines[1]}"
	assert_jq '.result.isError == false' "${lines[2]}"
	[[ $(wc -l <"$REPO/Docs/hive-mind/sessions/dflt/EVENTS.jsonl") -eq 2 ]]
}
