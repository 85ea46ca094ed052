#!/bin/sh
# run.sh - make bench: every benchmark script, then one table of the ratios they measured
#
# Usage: sh tests/bench/run.sh [BUILD]
# Each script's whole output is shown as it runs; afterwards every `bench: NAME A=… B=…
# ratio=R [goal=G]` line is gathered into one table, each side with its min..max from its
# own `bench: A median=… min=… max=…` line, and the date and machine the run came from.
set -u

here=$(cd "$(dirname "$0")" && pwd)
build=${1:-build}
log=$(mktemp "${TMPDIR:-/tmp}/hive-bench.XXXXXX")
trap 'rm -f "$log"' EXIT
trap 'exit 130' INT TERM

status=0
for script in "$here"/init.sh "$here"/emit.sh "$here"/check.sh "$here"/push.sh "$here"/install.sh "$here"/agent.sh; do
	sh "$script" "$build" 2>&1 | tee -a "$log" || status=1
	# tee hides the script's status: a script that failed prints no bench lines
done

awk '
/^bench: [a-z]+\.env / {
	for (i = 3; i <= NF; i++) { split($i, kv, "="); env[kv[1]] = kv[2] }
	next
}
/^bench: / && / median=/ {
	name = $2
	for (i = 3; i <= NF; i++) {
		split($i, kv, "=")
		if (kv[1] == "median" || kv[1] == "min" || kv[1] == "max") m[name, kv[1]] = kv[2]
	}
	next
}
/^bench: / && / ratio=/ {
	rows[++n] = $0
}
function side(prefix, key, value,   full) {
	full = prefix "." key
	if ((full, "min") in m)
		return value " (" m[full, "min"] ".." m[full, "max"] ")"
	return value
}
END {
	if (!n) { print "bench: no ratios were measured" > "/dev/stderr"; exit 1 }
	gsub(/_/, " ", env["cpu"]); gsub(/_/, " ", env["kernel"])
	printf "\nhive benchmarks, %s, %s cpus, %s, %s, git %s\n", env["date"], env["cpus"], env["cpu"], env["kernel"], env["git"]
	printf "%-34s %-34s %-34s %7s %6s\n", "measurement", "A: median (min..max)", "B: median (min..max)", "A/B", "goal"
	for (r = 1; r <= n; r++) {
		split(rows[r], f, " ")
		name = f[2]; prefix = name; sub(/\..*/, "", prefix)
		a = ""; b = ""; ratio = ""; goal = "-"
		for (i = 3; f[i] != ""; i++) {
			split(f[i], kv, "=")
			if (kv[1] == "ratio") ratio = kv[2]
			else if (kv[1] == "goal") goal = "<= " kv[2]
			else if (a == "") a = side(prefix, kv[1], kv[1] "=" kv[2])
			else if (b == "") b = side(prefix, kv[1], kv[1] "=" kv[2])
		}
		printf "%-34s %-34s %-34s %7s %6s\n", name, substr(a, index(a, "=") + 1), substr(b, index(b, "=") + 1), ratio, goal
	}
}' "$log" || status=1
exit $status
