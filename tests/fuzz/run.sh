#!/bin/sh
# tests/fuzz/run.sh - build the libFuzzer harnesses with clang and run each for a while
#
#   sh tests/fuzz/run.sh [BUILD [SECONDS [NAME...]]]   (defaults: build, 30, every harness)
#
# Each tests/fuzz/fuzz_NAME.c is linked with lib/*.c compiled by clang with
# -fsanitize=fuzzer,address,undefined (not the gcc objects of the normal build), against the
# static libgit2, libyaml, libcrypto, PCRE2 and cJSON the tools use (cJSON is compiled from its
# source in build/deps/src when it is there, so the fuzzer sees its branches too), into
# BUILD/fuzz/. Then each runs for SECONDS (-max_total_time) over a working corpus in
# BUILD/fuzz/corpus/NAME, seeded from tests/fuzz/corpus/NAME (which stays as committed).
# A crash, a leak, a sanitizer report, a timeout (10 s for one input) or running out of
# memory (2 GiB) fails the run and leaves the input in BUILD/fuzz/crashes/: reproduce it
# with `BUILD/fuzz/fuzz_NAME FILE`, then make it a regression test in tests/unit/.
# Prints `ok`/`not ok` per harness and ends with `fuzz: N passed, N failed`.

BUILD=${1:-build}
SECONDS_EACH=${2:-30}
if [ $# -gt 2 ]; then shift 2; else set --; fi
cd "$(dirname "$0")/../.." || exit 2

CC=${FUZZ_CC:-clang}
DEPS=build/deps
OUT=$BUILD/fuzz
NAMES=${*:-$(for f in tests/fuzz/fuzz_*.c; do basename "$f" .c | sed 's/^fuzz_//'; done)}

say() { printf 'fuzz: %s\n' "$*" >&2; }

if ! command -v "$CC" >/dev/null 2>&1; then
	echo "not ok - $CC is not installed (apt-get install clang libclang-rt-14-dev)"
	echo "fuzz: 0 passed, 1 failed"
	exit 1
fi
if [ ! -f "$DEPS/lib/libgit2.a" ]; then
	echo "not ok - $DEPS/lib/libgit2.a is missing (run make deps)"
	echo "fuzz: 0 passed, 1 failed"
	exit 1
fi

SAN="-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all"
CFLAGS="-std=c11 -g -O1 -fno-omit-frame-pointer -D_GNU_SOURCE -I$DEPS/include \
	$(pkg-config --cflags yaml-0.1 libcrypto 2>/dev/null)"
LIBS="-L$DEPS/lib -Wl,-Bstatic -lgit2 -lhttp_parser -lz -lyaml -lcrypto -lpcre2-8 -Wl,-Bdynamic \
	-lpthread -ldl -lrt"

mkdir -p "$OUT/obj" "$OUT/crashes" "$OUT/gen" || exit 2

# lib/hooks.c embeds hooks/pre-push through a generated header, as the Makefile makes it
sh scripts/embed.sh hooks/pre-push >"$OUT/gen/hook-pre-push.h" || exit 2
# and lib/version.c the version, as the Makefile makes it
sh scripts/version.sh --header >"$OUT/gen/version.h" || exit 2
CFLAGS="$CFLAGS -I$OUT/gen"

# lib/*.c (and cJSON) once, instrumented for coverage and the sanitizers, shared by every
# harness; -fsanitize=fuzzer-no-link adds the coverage without a second main.
say "compiling lib/*.c with $CC"
objs=
for src in lib/*.c; do
	obj=$OUT/obj/$(basename "$src" .c).o
	# shellcheck disable=SC2086 # word lists
	$CC $CFLAGS -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all \
		-c "$src" -o "$obj" || exit 2
	objs="$objs $obj"
done
cjson_src=$(find "$DEPS/src" -path '*/cjson-*/cJSON.c' 2>/dev/null | head -n 1)
if [ -n "$cjson_src" ]; then
	# shellcheck disable=SC2086
	$CC $CFLAGS -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all \
		-c "$cjson_src" -o "$OUT/obj/cJSON.o" || exit 2
	objs="$objs $OUT/obj/cJSON.o"
else
	LIBS="$LIBS -L$DEPS/lib -Wl,-Bstatic -lcjson -Wl,-Bdynamic"
fi

passed=0
failed=0
for name in $NAMES; do
	src=tests/fuzz/fuzz_$name.c
	bin=$OUT/fuzz_$name
	if [ ! -f "$src" ]; then
		echo "not ok - fuzz_$name: no $src"
		failed=$((failed + 1))
		continue
	fi
	# shellcheck disable=SC2086
	if ! $CC $CFLAGS $SAN -o "$bin" "$src" $objs $LIBS; then
		echo "not ok - fuzz_$name: does not build"
		failed=$((failed + 1))
		continue
	fi
	work=$OUT/corpus/$name
	mkdir -p "$work"
	dict=
	[ -f "tests/fuzz/$name.dict" ] && dict="-dict=tests/fuzz/$name.dict"
	log=$OUT/fuzz_$name.log
	say "running fuzz_$name for ${SECONDS_EACH}s"
	# shellcheck disable=SC2086
	ASAN_OPTIONS="detect_leaks=1:allocator_may_return_null=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}" \
		UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}" \
		"$bin" -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=2048 \
		-max_len=65536 -print_final_stats=1 $dict \
		-artifact_prefix="$OUT/crashes/$name-" "$work" "tests/fuzz/corpus/$name" \
		>"$log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	if [ "$rc" -eq 0 ]; then
		echo "ok - fuzz_$name: ${runs:-?} inputs in ${SECONDS_EACH}s, no crash"
		passed=$((passed + 1))
	else
		echo "not ok - fuzz_$name: exit $rc after ${runs:-?} inputs"
		grep -E 'ERROR|SUMMARY|runtime error|Test unit written|^ *#[0-9]+ ' "$log" |
			head -n 40 | sed 's/^/#   /'
		failed=$((failed + 1))
	fi
done
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
