#!/bin/sh
# deps.sh - install hive's build and test dependencies; build the static libgit2 and cJSON
#
# Usage: scripts/deps.sh PREFIX
# Does nothing that is already done: missing Debian packages are installed with apt-get
# (directly as root, through sudo otherwise); libgit2 1.5.1 and cJSON are built once from
# Debian's own source packages into PREFIX (see README, "Why a static libgit2").
set -eu

prefix=${1:?usage: deps.sh PREFIX}
case $prefix in /*) ;; *) prefix=$(pwd)/$prefix ;; esac

# to build hive (and run make demo)
packages="build-essential pkg-config cmake dpkg-dev libyaml-dev libssl-dev zlib1g-dev
libhttp-parser-dev libpcre2-dev git jq"
# to test it (make check, make bench); HIVE_DEPS_TESTS=0 leaves them out. postgresql:
# export.bats starts its own server (PostgreSQL 15, /usr/lib/postgresql/15/bin); lintian:
# release.bats holds make deb to it; curl: export.bats posts OTLP with it
if [ "${HIVE_DEPS_TESTS:-1}" != 0 ]; then
	packages="$packages libcmocka-dev bats bats-assert bats-support libxml2-utils mandoc
shellcheck hyperfine prometheus curl python3 pre-commit valgrind clang clang-format libclang-rt-14-dev
postgresql lintian"
fi

say() { printf 'deps: %s\n' "$*" >&2; }

as_root() {
	if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

missing=
for p in $packages; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing="$missing $p"
done
if [ -n "$missing" ]; then
	say "installing:$missing"
	as_root apt-get update -qq
	# shellcheck disable=SC2086
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

# --- npm test tools (ci-templates) ---
# tests/package.json's tools (@action-validator/cli, gitlab-ci-local, yaml, ajv-cli,
# ajv-formats; lefthook and husky for hook-managers.bats; @grafana/schema and typescript for
# dashboard.bats; @modelcontextprotocol/sdk, the MCP client of mcp.bats; protobufjs and
# @opentelemetry/otlp-transformer for export.bats) go into tests/node_modules, exactly
# as tests/package-lock.json pins them; gitlab-ci-local's shell isolation copies with rsync.
# Skipped when already installed from the same lock file, and when HIVE_DEPS_TESTS=0 (the CI
# templates set it when they build hive on a runner). --ignore-scripts: lefthook's
# postinstall runs `lefthook install` in the directory npm was started from, which would
# write a lefthook.yml and git hooks into hive's own repository; its binary comes from the
# platform package (lefthook-linux-x64, …), which needs no script, and no other tool has one.
if [ "${HIVE_DEPS_TESTS:-1}" != 0 ]; then
	npm_dir=$(cd "$(dirname "$0")/../tests" && pwd)
	npm_missing=
	command -v npm >/dev/null 2>&1 || npm_missing="$npm_missing npm"
	command -v rsync >/dev/null 2>&1 || npm_missing="$npm_missing rsync"
	if [ -n "$npm_missing" ]; then
		say "installing:$npm_missing"
		as_root apt-get update -qq
		# shellcheck disable=SC2086
		as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $npm_missing >/dev/null
	fi
	if ! cmp -s "$npm_dir/package-lock.json" "$npm_dir/node_modules/.hive-lock" ||
		[ ! -x "$npm_dir/node_modules/.bin/gitlab-ci-local" ]; then
		say "installing the npm test tools into $npm_dir/node_modules"
		npm ci --prefix "$npm_dir" --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null
		cp "$npm_dir/package-lock.json" "$npm_dir/node_modules/.hive-lock"
	fi
	case $(node --version 2>/dev/null) in
	v[2-9][0-9].*) ;;
	*) say "warning: gitlab-ci-local needs Node.js 20 or later; found $(node --version 2>/dev/null || echo none)" ;;
	esac
fi
# --- end npm ---

[ -f "$prefix/lib/libgit2.a" ] && [ -f "$prefix/lib/libcjson.a" ] && exit 0

# Debian's source packages: apt-get source needs a deb-src entry. Add one for the
# suites the machine already uses, in a file of our own, only when none exists.
src_list=/etc/apt/sources.list.d/hive-deb-src.sources
if ! apt-cache showsrc libgit2 2>/dev/null | grep -q '^Package: libgit2'; then
	say "adding a deb-src entry ($src_list) for apt-get source"
	# shellcheck disable=SC1091
	codename=$(. /etc/os-release && echo "$VERSION_CODENAME")
	as_root sh -c "cat > $src_list" <<SRC
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: $codename $codename-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
	as_root apt-get update -qq
fi

work=$prefix/src
rm -rf "$work"
mkdir -p "$work"
cd "$work"

say "fetching Debian source packages libgit2 and cjson"
apt-get source -qq libgit2 cjson >/dev/null 2>&1 || {
	apt-get source libgit2 cjson >&2
	exit 1
}
lg2=$(find . -maxdepth 1 -type d -name 'libgit2-*' | head -n 1)
cj=$(find . -maxdepth 1 -type d -name 'cjson-*' | head -n 1)

# libgit2: static, no network transports (hive never fetches or pushes), so no TLS
# library and no CA bundle parsed at start-up.
say "building libgit2 ($lg2) without HTTPS, SSH and GSSAPI"
cmake -S "$lg2" -B "$work/libgit2-build" -DCMAKE_BUILD_TYPE=Release \
	-DCMAKE_INSTALL_PREFIX="$prefix" -DCMAKE_INSTALL_LIBDIR=lib \
	-DBUILD_SHARED_LIBS=OFF -DBUILD_TESTS=OFF -DBUILD_CLI=OFF -DBUILD_EXAMPLES=OFF \
	-DUSE_HTTPS=OFF -DUSE_SSH=OFF -DUSE_GSSAPI=OFF -DUSE_NTLMCLIENT=OFF -DUSE_ICONV=OFF \
	-DUSE_SHA1=OpenSSL -DUSE_SHA256=OpenSSL -DREGEX_BACKEND=regcomp \
	-DUSE_HTTP_PARSER=system -DCMAKE_POSITION_INDEPENDENT_CODE=ON >"$work/libgit2-cmake.log" 2>&1 ||
	{ cat "$work/libgit2-cmake.log" >&2; exit 1; }
cmake --build "$work/libgit2-build" -j "$(nproc)" >"$work/libgit2-build.log" 2>&1 ||
	{ tail -50 "$work/libgit2-build.log" >&2; exit 1; }
cmake --install "$work/libgit2-build" >/dev/null

say "building cJSON ($cj)"
mkdir -p "$prefix/include/cjson" "$prefix/lib"
cp "$cj/cJSON.h" "$prefix/include/cjson/"
cc -O2 -fPIC -c "$cj/cJSON.c" -o "$work/cJSON.o"
ar rcs "$prefix/lib/libcjson.a" "$work/cJSON.o"
say "done: $prefix"
