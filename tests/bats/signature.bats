#!/usr/bin/env bats
# signature.bats - checkpoints and signatures (SPEC 10): CHECKPOINT written by --finish and
# --checkpoint, signed through ssh-keygen with real keys of the three kinds hive verifies
# (ed25519, ECDSA P-256, RSA 2048), cosigned with --sign, and verified in-process by rule
# signature. Every verdict is cross-checked with OpenSSH itself: `ssh-keygen -Y verify`
# accepts what hive accepts and refuses what hive refuses. ssh-keygen reads one signature
# block per file, so a cosigned CHECKPOINT.sig is split into blocks for it.

load test_helper
load session_helpers

setup() {
	hive_setup
	require_tool hive-emit
	require_tool hive-check
	require_tool hive-runbook
	command -v ssh-keygen >/dev/null || fail "ssh-keygen is missing (openssh-client)"
	KEYS="$BATS_TEST_TMPDIR/keys"
	mkdir -p "$KEYS"
	ssh-keygen -q -t ed25519 -N '' -C alice -f "$KEYS/ed" || fail "ssh-keygen ed25519"
	ssh-keygen -q -t ecdsa -b 256 -N '' -C bob -f "$KEYS/ec" || fail "ssh-keygen ecdsa"
	ssh-keygen -q -t rsa -b 2048 -N '' -C carol -f "$KEYS/rsa" || fail "ssh-keygen rsa"
	ssh-keygen -q -t ed25519 -N '' -C mallory -f "$KEYS/other" || fail "ssh-keygen other"
	REPO="$BATS_TEST_TMPDIR/repo"
	make_repo "$REPO"
	cd "$REPO" || return 1
	mkdir -p .hive
	{
		printf 'alice@example.org namespaces="hive-checkpoint" %s\n' "$(pubkey ed)"
		printf 'bob@example.org %s\n' "$(pubkey ec)"
		printf '# carol signs releases\ncarol@example.org,ci@example.org valid-after="20200101" %s carol\n' \
			"$(pubkey rsa)"
	} >.hive/allowed_signers
	ALLOWED="$REPO/.hive/allowed_signers"
	printf 'trust:\n  allowed_signers: .hive/allowed_signers\n' >.hive.yml
	git add -A && git commit -q -m 'trust'
	unset HIVE_SIGNING_KEY
}

# pubkey NAME: "type base64" of key NAME.
pubkey() {
	cut -d' ' -f1,2 "$KEYS/$1.pub"
}

# checkpoint_of DIR: the checkpoint the logs of DIR describe now, computed here in bash (the
# format of man/hive.7), not by hive.
checkpoint_of() {
	local dir=$1 id n f
	id=$(basename "$dir")
	printf 'hive-checkpoint/v1\nsession %s\n' "$id"
	for f in EVENTS.jsonl $(cd "$dir" && LC_ALL=C ls -- *.jsonl | grep -vx EVENTS.jsonl); do
		n=$(wc -l <"$dir/$f")
		if ((n)); then
			printf 'log %s %d %s\n' "$f" "$n" "$(line_hash "$(sed -n "${n}p" "$dir/$f")")"
		else
			printf 'log %s 0 -\n' "$f"
		fi
	done
}

# split_sigs DIR: CHECKPOINT.sig's blocks as $BATS_TEST_TMPDIR/block.1, block.2, …; prints
# the count.
split_sigs() {
	rm -f "$BATS_TEST_TMPDIR"/block.*
	awk -v out="$BATS_TEST_TMPDIR/block." '/^-----BEGIN SSH SIGNATURE-----$/ { n++ }
		{ print > (out n) } END { print n + 0 }' "$1/CHECKPOINT.sig"
}

# ssh_verify PRINCIPAL SIGFILE [MESSAGE_FILE]: OpenSSH's verdict on SIGFILE over MESSAGE_FILE
# (default: the session's CHECKPOINT) against the same allowed_signers hive reads.
ssh_verify() {
	ssh-keygen -Y verify -f "$ALLOWED" -I "$1" -n hive-checkpoint -s "$2" <"${3:-$DIR/CHECKPOINT}"
}

# finished ID KEY: a session of three events finished with KEY (a name under $KEYS, or "").
finished() {
	new_session "$1" 3
	DIR="$(session_dir "$1")"
	HIVE_SIGNING_KEY=${2:+$KEYS/$2} hive-runbook -q --session "$1" --finish >/dev/null ||
		fail "hive-runbook --finish $1 failed"
}

@test "signature: --finish signs with ed25519, ECDSA P-256 and RSA; hive and ssh-keygen -Y verify agree" {
	local k who
	for k in ed ec rsa; do
		case $k in ed) who=alice@example.org ;; ec) who=bob@example.org ;; rsa) who=ci@example.org ;; esac
		finished "s-$k" "$k"
		assert_equal "$(cat "$DIR/CHECKPOINT")" "$(checkpoint_of "$DIR")"
		assert_equal "$(split_sigs "$DIR")" 1
		run ssh_verify "$who" "$DIR/CHECKPOINT.sig"
		assert_success
		assert_output --partial "Good \"hive-checkpoint\" signature for $who"
		run hive-check --session "s-$k"
		assert_success
		assert_output 'hive-check: 1 session checked: 0 errors, 0 warnings'
	done
}

@test "signature: the CHECKPOINT format, line by line (man/hive.7)" {
	new_session s1 2
	DIR="$(session_dir s1)"
	run --separate-stderr hive-runbook --session s1 --checkpoint
	assert_success
	assert_output ''
	assert_stderr 'hive-runbook: session s1: CHECKPOINT written (no signing key configured)'
	[[ ! -e "$DIR/CHECKPOINT.sig" ]] || fail "CHECKPOINT.sig without a key"
	assert_equal "$(cat "$DIR/CHECKPOINT")" "$(printf 'hive-checkpoint/v1\nsession s1\nlog EVENTS.jsonl 3 %s' \
		"$(line_hash "$(sed -n 3p "$DIR/EVENTS.jsonl")")")"
	# a lane (any other *.jsonl) is listed after EVENTS.jsonl, by name; the .torn file is not
	printf 'x\n' >"$DIR/EVENTS.jsonl.torn"
	printf '{"a":1}\n{"b":2}\n' >"$DIR/lane-b.jsonl"
	: >"$DIR/lane-a.jsonl"
	hive-runbook -q --session s1 --checkpoint
	assert_equal "$(sed -n '3,$p' "$DIR/CHECKPOINT")" "$(printf 'log EVENTS.jsonl 3 %s\nlog lane-a.jsonl 0 -\nlog lane-b.jsonl 2 %s' \
		"$(line_hash "$(sed -n 3p "$DIR/EVENTS.jsonl")")" "$(line_hash '{"b":2}')")"
	run hive-check --session s1
	assert_success
	# a lane edited under its checkpoint is found
	printf '{"a":1}\n{"b":3}\n' >"$DIR/lane-b.jsonl"
	run hive-check --session s1
	assert_failure 1
	assert_output --partial "Docs/hive-mind/sessions/s1/CHECKPOINT:5: error: [signature] line 2 of lane-b.jsonl is not the line CHECKPOINT names"
}

@test "signature: an active session's checkpoint is a prefix: the log may grow, not change" {
	new_session s1 2
	DIR="$(session_dir s1)"
	HIVE_SIGNING_KEY="$KEYS/ed" hive-runbook -q --session s1 --checkpoint
	hive-emit -q --session s1 pipeline_updated --resource ci --action update --platform Docker \
		--status success >/dev/null
	run hive-check --session s1
	assert_success
	# line 2 edited, every hash recomputed and STATE.json in step: only the checkpoint knows
	sed -i '2s/"ci-1"/"ci-X"/' "$DIR/EVENTS.jsonl"
	rechain "$DIR/EVENTS.jsonl"
	sync_state "$DIR"
	run hive-check --session s1
	assert_failure 1
	assert_output --partial "Docs/hive-mind/sessions/s1/CHECKPOINT:3: error: [signature] line 3 of EVENTS.jsonl is not the line CHECKPOINT names"
	run ssh_verify alice@example.org "$DIR/CHECKPOINT.sig" <(printf 'hive-checkpoint/v1\nsession s1\nlog EVENTS.jsonl 3 %s\n' \
		"$(line_hash "$(sed -n 3p "$DIR/EVENTS.jsonl")")")
	assert_failure
	# cut short
	head -n 2 "$DIR/EVENTS.jsonl" >"$DIR/e" && mv "$DIR/e" "$DIR/EVENTS.jsonl"
	sync_state "$DIR"
	run hive-check --session s1
	assert_failure 1
	assert_output --partial "CHECKPOINT says EVENTS.jsonl has 3 lines, it has 2: the log was cut short"
}

@test "signature: a flipped byte in CHECKPOINT is refused by hive and by ssh-keygen" {
	finished s1 ed
	run ssh_verify alice@example.org "$DIR/CHECKPOINT.sig"
	assert_success
	# the last hex digit of the hash flipped
	local last
	last="$(sed -n 3p "$DIR/CHECKPOINT" | tail -c 2 | head -c 1)"
	if [[ $last == 0 ]]; then sed -i '3s/.$/1/' "$DIR/CHECKPOINT"; else sed -i '3s/.$/0/' "$DIR/CHECKPOINT"; fi
	run ssh_verify alice@example.org "$DIR/CHECKPOINT.sig"
	assert_failure
	run hive-check --session s1
	assert_failure 1
	assert_output --partial "Docs/hive-mind/sessions/s1/CHECKPOINT.sig:1: error: [signature] the signature by ssh-ed25519 SHA256:"
	assert_output --partial "does not verify over CHECKPOINT: the signature does not verify"
	assert_output --partial "[signature] line 5 of EVENTS.jsonl is not the line CHECKPOINT names"
}

@test "signature: a completed session's logs grown past its checkpoint are refused by hive and by ssh-keygen" {
	finished s1 ec
	append_event "$DIR/EVENTS.jsonl" "$(make_event pipeline_updated s1 2026-01-01T00:00:00.000Z \
		'{"resource":"x","action":"update","platform":"Docker","status":"success"}')"
	sync_state "$DIR"
	run hive-check --session s1
	assert_failure 1
	assert_output --partial "Docs/hive-mind/sessions/s1/CHECKPOINT:3: error: [signature] EVENTS.jsonl grew past the checkpoint (6 lines, CHECKPOINT says 5): a completed session's checkpoint covers all of it"
	# the signature covers the checkpoint, not the logs as they are now
	run ssh_verify bob@example.org "$DIR/CHECKPOINT.sig"
	assert_success
	run ssh_verify bob@example.org "$DIR/CHECKPOINT.sig" <(checkpoint_of "$DIR")
	assert_failure
	# and a cosigner checks before signing: refused, nothing changed
	HIVE_SIGNING_KEY="$KEYS/ed" run_refused 1 "grew past the checkpoint .*: not signing it" \
		hive-runbook --session s1 --sign
}

@test "signature: a signer not in allowed_signers is refused by hive and by ssh-keygen" {
	finished s1 other
	run hive-check --session s1
	assert_failure 1
	assert_output --regexp "CHECKPOINT.sig:1: error: \[signature\] the signer ssh-ed25519 SHA256:[A-Za-z0-9+/]+ is not in trust.allowed_signers"
	run ssh-keygen -Y find-principals -f "$ALLOWED" -s "$DIR/CHECKPOINT.sig"
	assert_failure
	run ssh_verify alice@example.org "$DIR/CHECKPOINT.sig"
	assert_failure
	# the signature itself is sound: without allowed_signers it is only a warning
	: >"$BATS_TEST_TMPDIR/empty.yml"
	run hive-check --config "$BATS_TEST_TMPDIR/empty.yml" --session s1
	assert_success
	assert_output --partial "warning: [signature] the signature by ssh-ed25519"
}

@test "signature: a signature made in another namespace is refused by hive and by ssh-keygen" {
	finished s1 ""
	ssh-keygen -q -Y sign -n other -f "$KEYS/ed" <"$DIR/CHECKPOINT" >"$DIR/CHECKPOINT.sig" 2>/dev/null
	run ssh_verify alice@example.org "$DIR/CHECKPOINT.sig"
	assert_failure
	run hive-check --session s1
	assert_failure 1
	assert_output --partial 'does not verify over CHECKPOINT: made in namespace "other", not hive-checkpoint'
	# allowed_signers' namespaces= restricts a key: alice may not sign "other", nor may
	# bob's key with a namespaces list that lacks hive-checkpoint
	ssh-keygen -q -Y sign -n hive-checkpoint -f "$KEYS/ec" <"$DIR/CHECKPOINT" >"$DIR/CHECKPOINT.sig" 2>/dev/null
	sed -i 's/^bob@example.org /bob@example.org namespaces="git" /' "$ALLOWED"
	run ssh_verify bob@example.org "$DIR/CHECKPOINT.sig"
	assert_failure
	run hive-check --session s1
	assert_failure 1
	assert_output --partial "is not in trust.allowed_signers (for namespace hive-checkpoint)"
}

@test "signature: --sign adds a cosignature; CHECKPOINT never changes; each block verifies with ssh-keygen" {
	finished s1 ed
	local before
	before="$(sha256sum <"$DIR/CHECKPOINT")"
	run --separate-stderr env HIVE_SIGNING_KEY="$KEYS/rsa" hive-runbook --session s1 --sign
	assert_success
	assert_output ''
	assert_stderr 'hive-runbook: session s1: cosignature added to CHECKPOINT.sig'
	assert_equal "$(sha256sum <"$DIR/CHECKPOINT")" "$before"
	assert_equal "$(split_sigs "$DIR")" 2
	run ssh_verify alice@example.org "$BATS_TEST_TMPDIR/block.1"
	assert_success
	run ssh_verify carol@example.org "$BATS_TEST_TMPDIR/block.2"
	assert_success
	run hive-check --session s1
	assert_success
	# the same key again adds nothing
	snapshot "$REPO"
	run --separate-stderr env HIVE_SIGNING_KEY="$KEYS/rsa" hive-runbook --session s1 --sign
	assert_success
	assert_stderr --partial 'this key has signed CHECKPOINT already: nothing added'
	assert_unchanged "$REPO"
}

@test "signature: policy.require_signed: 2 with one signer is an error, with two it passes" {
	finished s1 ed
	printf 'trust:\n  allowed_signers: .hive/allowed_signers\npolicy:\n  require_signed: 2\n' >.hive.yml
	run hive-check --session s1
	assert_failure 1
	assert_output --partial "Docs/hive-mind/sessions/s1/CHECKPOINT.sig: error: [policy.require_signed] CHECKPOINT has 1 valid signer in trust.allowed_signers, 2 required"
	# a second signature by the same key is no second signer
	ssh-keygen -q -Y sign -n hive-checkpoint -f "$KEYS/ed" <"$DIR/CHECKPOINT" >>"$DIR/CHECKPOINT.sig" 2>/dev/null
	run hive-check --session s1
	assert_failure 1
	assert_output --partial "CHECKPOINT has 1 valid signer"
	HIVE_SIGNING_KEY="$KEYS/ec" hive-runbook -q --session s1 --sign
	run hive-check --session s1
	assert_success
	# an unsigned completed session, and a session with no CHECKPOINT at all
	new_session s2 1
	complete_session s2
	run hive-check --session s2
	assert_failure 1
	assert_output --partial "error: [policy.require_signed] the completed session has no CHECKPOINT: 2 signers required"
	# the policy without allowed_signers says what is missing
	printf 'policy:\n  require_signed: 1\n' >.hive.yml
	run hive-check --session s1
	assert_failure 1
	assert_output --partial "policy.require_signed needs trust.allowed_signers"
}

@test "signature: a signing key from git's user.signingkey with gpg.format ssh, or trust.signing_key" {
	git config gpg.format ssh
	git config user.signingkey "$KEYS/ec"
	finished s1 ""
	run ssh_verify bob@example.org "$DIR/CHECKPOINT.sig"
	assert_success
	printf 'trust:\n  allowed_signers: .hive/allowed_signers\n  signing_key: ../keys/rsa\n' >.hive.yml
	finished s2 ""
	run ssh_verify carol@example.org "$DIR/CHECKPOINT.sig"
	assert_success
	# a literal key in user.signingkey is refused before anything is written
	printf 'trust:\n  allowed_signers: .hive/allowed_signers\n' >.hive.yml
	git config user.signingkey "key::$(pubkey ed)"
	new_session s3 1
	run_refused 2 "user.signingkey is a literal key" hive-runbook --session s3 --finish
}

@test "signature: --finish is all or nothing: a key ssh-keygen cannot use leaves the session unfinished" {
	new_session s1 2
	HIVE_SIGNING_KEY="$KEYS/missing" run_refused 3 \
		"session not finished: ssh-keygen -Y sign -f .*/keys/missing failed" \
		hive-runbook --session s1 --finish
	run hive-check --session s1
	assert_success
}

@test "signature: bad inputs to --checkpoint and --sign: exit status, message, nothing changed" {
	new_session s1 2
	run_refused 2 "^hive-runbook: error: --sign: no signing key" hive-runbook --session s1 --sign
	HIVE_SIGNING_KEY="$KEYS/ed" run_refused 2 "sessions/s1/CHECKPOINT: no checkpoint to sign" \
		hive-runbook --session s1 --sign
	run_refused 2 "^hive-runbook: error: --checkpoint and --sign go alone" \
		hive-runbook --session s1 --checkpoint --finish
	run_refused 2 "go alone" hive-runbook --session s1 --sign --report deployment
	run_refused 2 "run hive-init" hive-runbook --session nosuch --checkpoint
	hive-runbook -q --session s1 --checkpoint
	printf 'hive-checkpoint/v1\nsession s1\nlog EVENTS.jsonl  3 sha256:00\n' >"$(session_dir s1)/CHECKPOINT"
	HIVE_SIGNING_KEY="$KEYS/ed" run_refused 2 "sessions/s1/CHECKPOINT:3: " \
		hive-runbook --session s1 --sign
	finished s2 ed
	run_refused 2 "session s2 is completed: its CHECKPOINT is final" \
		hive-runbook --session s2 --checkpoint
}

@test "signature: malformed CHECKPOINT, CHECKPOINT.sig and allowed_signers are reported" {
	finished s1 ed
	cp "$DIR/CHECKPOINT" "$BATS_TEST_TMPDIR/cp"
	sed -i '3s/ sha256/  sha256/' "$DIR/CHECKPOINT"
	run hive-check --session s1
	assert_failure 1
	assert_output --partial "Docs/hive-mind/sessions/s1/CHECKPOINT:3: error: [signature] CHECKPOINT is malformed"
	cp "$BATS_TEST_TMPDIR/cp" "$DIR/CHECKPOINT"
	printf 'hello\n' >>"$DIR/CHECKPOINT.sig"
	run hive-check --session s1
	assert_failure 1
	assert_output --partial "CHECKPOINT.sig:7: error: [signature] CHECKPOINT.sig is malformed: 7: text outside a -----BEGIN SSH SIGNATURE----- block"
	rm "$DIR/CHECKPOINT"
	run hive-check --session s1
	assert_failure 1
	assert_output --partial "[signature] CHECKPOINT.sig without a CHECKPOINT"
	printf 'alice ssh-ed25519 !!!\n' >"$ALLOWED"
	snapshot "$BATS_TEST_TMPDIR"
	run --separate-stderr hive-check --session s1
	assert_failure 2
	assert_stderr "hive-check: error: .hive/allowed_signers:1: the key is not base64"
	assert_unchanged "$BATS_TEST_TMPDIR"
}

@test "signature: history keeps a sealed CHECKPOINT; its CHECKPOINT.sig may only grow" {
	finished s1 ed
	git add -A Docs && git commit -q -m 'sealed and signed'
	local published
	published="$(git rev-parse HEAD)"
	HIVE_SIGNING_KEY="$KEYS/ec" hive-runbook -q --session s1 --sign
	run hive-check --since "$published"
	assert_success
	# a signature removed
	split_sigs "$DIR" >/dev/null
	cp "$BATS_TEST_TMPDIR/block.2" "$DIR/CHECKPOINT.sig"
	run hive-check --since "$published"
	assert_failure 1
	assert_output --regexp "Docs/hive-mind/sessions/s1/CHECKPOINT.sig:[0-9]+: error: \[history\] line [0-9]+ differs from the published version"
	# CHECKPOINT rewritten (and re-signed to match)
	git checkout -q -- Docs
	sed -i '3s/ 5 / 4 /' "$DIR/CHECKPOINT"
	run hive-check --since "$published"
	assert_failure 1
	assert_output --partial "Docs/hive-mind/sessions/s1/CHECKPOINT:3: error: [history] line 3 differs from the published version"
}

@test "signature: the pre-push hook checks CHECKPOINT.sig as it is in the pushed commit" {
	REMOTE="$BATS_TEST_TMPDIR/remote.git"
	git init -q --bare "$REMOTE"
	git remote add origin "$REMOTE"
	hive-init -q --install-hooks >/dev/null 2>&1 || fail "hive-init --install-hooks failed"
	finished s1 other
	git add -A && git commit -q -m 'signed by a stranger'
	run git push origin main
	assert_failure
	assert_output --partial "Docs/hive-mind/sessions/s1/CHECKPOINT.sig:1: error: [signature] the signer ssh-ed25519"
	# on disk the signature is mended, but the commit is what is pushed
	ssh-keygen -q -Y sign -n hive-checkpoint -f "$KEYS/ed" <"$DIR/CHECKPOINT" >"$DIR/CHECKPOINT.sig" 2>/dev/null
	run git push origin main
	assert_failure
	assert_output --partial "[signature] the signer ssh-ed25519"
	git add -A && git commit -q --amend -m 'signed by alice'
	run git push origin main
	assert_success
	assert_output --partial 'hive-check: 1 session checked: 0 errors, 0 warnings'
}
