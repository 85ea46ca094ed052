#!/usr/bin/env bats
# tests/bats/options.bats - each tool's option table against its man page, both ways
#
# A tool's options are declared once, in its table (bin/hive-*.c, the common ones in
# lib/cli.c); `TOOL --help-options` lists that table, one option a line:
# "-o<TAB>--output<TAB>FILE". The man page's OPTIONS section lists them in mdoc, one .It per
# option: `.It Fl q , Fl -quiet`, `.It Fl -format Ar format`, `.It Fl o Ar file , Fl -output
# Ar file`. Every entry of the table must be an .It of OPTIONS with the same names and
# taking a value the same way (Ar or Cm after the name), and every option .It of OPTIONS an
# entry of the table. Operand items (`.It Ar key Ns = Ns Ar value`) name no option.

load test_helper

setup() {
	hive_setup || return 1
	cd "$BATS_TEST_TMPDIR" || return 1
}

# table_entries TOOL: the entries of TOOL's table, one a line: its names then "value" or
# "flag" ("-o --output value", "-q --quiet flag").
table_entries() {
	"$1" --help-options | awk -F '\t' '{
		out = ""
		for (i = 1; i <= 2; i++) if ($i != "") out = out $i " "
		print out ($3 != "" ? "value" : "flag") }' | sort
}

# man_entries PAGE: the options of PAGE's OPTIONS section in the same form, from the .It
# lines of its outer list (a nested list, such as the values of --export, is skipped).
man_entries() {
	awk '/^\.Sh / { on = ($0 == ".Sh OPTIONS"); next }
		!on { next }
		/^\.Bl/ { depth++; next }
		/^\.El/ { depth--; next }
		depth != 1 || !/^\.It / { next }
		{
			n = split($0, w, " "); out = ""; kind = ""
			for (i = 2; i < n; i++) {
				if (w[i] != "Fl" || w[i + 1] !~ /^-?[A-Za-z][-A-Za-z]*$/) continue
				out = out "-" w[i + 1] " "
				k = (i + 2 <= n && (w[i + 2] == "Ar" || w[i + 2] == "Cm")) ? "value" : "flag"
				# every name of one item takes a value, or none does
				if (kind != "" && k != kind) k = "mixed"
				kind = k
			}
			if (out != "") print out kind
		}' "$1" | sort
}

# same_entries TOOL PAGE: fail, naming each difference, unless the two lists agree.
same_entries() {
	local table man missing extra
	table="$(table_entries "$1")"
	man="$(man_entries "$2")"
	[[ -n $table ]] || fail "$1 --help-options listed nothing"
	[[ -n $man ]] || fail "$2: no options found in OPTIONS"
	missing="$(comm -23 <(echo "$table") <(echo "$man"))"
	extra="$(comm -13 <(echo "$table") <(echo "$man"))"
	[[ -z $missing && -z $extra ]] ||
		fail "$(printf '%s and %s disagree\nin the table, not in OPTIONS:\n%s\nin OPTIONS, not in the table:\n%s' \
			"$1" "${2##*/}" "${missing:-(none)}" "${extra:-(none)}")"
}

@test "hive-init: every option of its table is in hive-init(1) OPTIONS, and the other way round" {
	same_entries hive-init "$SRC_TOP/man/hive-init.1"
}

@test "hive-emit: every option of its table is in hive-emit(1) OPTIONS, and the other way round" {
	same_entries hive-emit "$SRC_TOP/man/hive-emit.1"
}

@test "hive-check: every option of its table is in hive-check(1) OPTIONS, and the other way round" {
	same_entries hive-check "$SRC_TOP/man/hive-check.1"
}

@test "hive-runbook: every option of its table is in hive-runbook(1) OPTIONS, and the other way round" {
	same_entries hive-runbook "$SRC_TOP/man/hive-runbook.1"
}

@test "hive-mcp: every option of its table is in hive-mcp(1) OPTIONS, and the other way round" {
	same_entries hive-mcp "$SRC_TOP/man/hive-mcp.1"
}

@test "hive(7) OPTIONS are exactly the options every tool shares (lib/cli.c's table)" {
	local common man
	common="$(comm -12 <(table_entries hive-init) <(table_entries hive-emit) |
		comm -12 - <(table_entries hive-check) | comm -12 - <(table_entries hive-runbook))"
	man="$(man_entries "$SRC_TOP/man/hive.7")"
	[[ -n $common ]] || fail "the tools share no option"
	[[ $common == "$man" ]] ||
		fail "$(printf 'hive(7) OPTIONS and the common table differ:\n%s' "$(diff <(echo "$common") <(echo "$man"))")"
}

@test "--help-options lists the table: the common options of SPEC 2 in every tool, nothing hidden" {
	for t in hive-init hive-emit hive-check hive-runbook hive-mcp; do
		run --separate-stderr "$t" --help-options
		assert_success
		assert_stderr_empty
		for want in $'-C\t\tDIR' $'\t--root\tDIR' $'\t--session\tID' $'\t--config\tFILE' \
			$'-q\t--quiet\t' $'-h\t--help\t' $'\t--version\t'; do
			assert_line "$want"
		done
		refute_line --partial 'help-options'
		# three fields on every line, and every line names an option
		[[ -z "$(awk -F '\t' 'NF != 3 || ($1 == "" && $2 == "")' <<<"$output")" ]] ||
			fail "$t --help-options: a line is not -x<TAB>--long<TAB>ARG"
		# --help shows the same options (by the names column of its option lines)
		run "$t" --help
		refute_output --partial 'help-options'
	done
	# the tools' own options, with the value each takes
	run hive-runbook --help-options
	assert_line $'-o\t--output\tFILE'
	assert_line $'\t--step-summary\t'
	run hive-init --help-options
	assert_line $'\t--export\tFORMAT'
	assert_line $'\t--install-hooks\t'
	assert_line $'\t--install-agent-hooks\t'
	run hive-emit --help-options
	assert_line $'\t--from\tAGENT'
}

@test "the check finds a difference either way, and an option documented without its value" {
	mkdir bin
	cat >bin/hive-fake <<-'EOF'
		#!/bin/sh
		printf '%s\n' '	--all	' '-o	--output	FILE' '-q	--quiet	' '	--format	F'
	EOF
	chmod +x bin/hive-fake
	cat >fake.1 <<-'EOF'
		.Sh OPTIONS
		.Bl -tag -width Ds
		.It Fl -all
		every session
		.It Fl o Ar file , Fl -output Ar file
		.Bl -tag -compact
		.It Fl -nested
		.El
		.It Fl q
		no notes
		.It Fl -format
		no value named
		.It Fl -gone
		not in the table
		.It Ar key Ns = Ns Ar value
		an operand
		.El
		.Sh EXIT STATUS
		.Bl -tag -width Ds
		.It Fl -not-options
		.El
	EOF
	run man_entries fake.1
	assert_output "$(printf '%s\n' '--all flag' '--format flag' '--gone flag' '-o --output value' '-q flag')"
	run same_entries bin/hive-fake fake.1
	assert_failure
	assert_output --partial "$(printf 'in the table, not in OPTIONS:\n--format value\n-q --quiet flag')"
	assert_output --partial "$(printf 'in OPTIONS, not in the table:\n--format flag\n--gone flag\n-q flag')"
}
