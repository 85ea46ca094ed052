#!/bin/sh
# dist.sh - release artifacts: a reproducible tarball (make dist) and a Debian package (make deb)
#
# Usage: scripts/dist.sh tarball|deb BUILD
#
# Both build the tools again in BUILD/release/build (-O2, the source folder mapped out of
# every path the compiler records: -ffile-prefix-map), install them with `make install` into
# a staging folder, strip the binaries, and pack them with fixed times (SOURCE_DATE_EPOCH,
# default: the commit's time), owners (0:0, numeric), modes and order (tar --sort=name,
# gzip -n), so that two builds of one commit on one machine are byte-identical. Artifacts go
# to BUILD/dist, with SHA256SUMS listing those of this version:
#
#   tarball  hive-VERSION-linux-ARCH.tar.gz   one folder, hive-VERSION-linux-ARCH/, holding
#            bin/ share/man/ share/hive/{hooks,ci-templates,schemas,sql}/
#            share/bash-completion/completions/: extract it into a prefix with
#            --strip-components=1 (README, "Installing a release")
#   deb      hive_DEBVERSION_DEBARCH.deb        the same under /usr; DEBVERSION is VERSION
#            with '-' written '+' (a native package: 0.0.0-5-gabc -> 0.0.0+5+gabc)
#
# VERSION is scripts/version.sh's. The binaries link everything but the C library
# statically (README, "Why a static libgit2"): they run on a glibc as new as the build
# machine's or newer.
set -eu

mode=${1:?usage: dist.sh tarball|deb BUILD}
build=${2:?usage: dist.sh tarball|deb BUILD}
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
case $build in /*) ;; *) build=$top/$build ;; esac
case $mode in tarball | deb) ;; *)
	echo "dist.sh: mode must be tarball or deb: $mode" >&2
	exit 2
	;;
esac

export LC_ALL=C TZ=UTC
umask 022
version=$(sh scripts/version.sh)
if [ -z "${SOURCE_DATE_EPOCH:-}" ]; then
	SOURCE_DATE_EPOCH=$(git log -1 --format=%ct 2>/dev/null || echo 0)
fi
export SOURCE_DATE_EPOCH
rel=$build/release
out=$build/dist
say() { printf 'dist: %s\n' "$*" >&2; }

# mk TARGET…: make with the release build's folder and flags: -O2, Debian's hardening
# (fortify, stack protector, full RELRO, PIE as the compiler's default), no debug information
mk() {
	make -s --no-print-directory BUILD="$rel/build" OPT=-O2 \
		EXTRA_CFLAGS="-ffile-prefix-map=$top/= -D_FORTIFY_SOURCE=2 -fstack-protector-strong" \
		EXTRA_LDFLAGS="-Wl,-z,relro -Wl,-z,now" "$@"
}

# The tools, apart from the development build (whose flags may differ).
say "building hive $version in $rel/build"
mk all >/dev/null

# stage PREFIX DIR: make install into DIR with PREFIX, binaries stripped, every time fixed.
stage() {
	rm -rf "$2"
	mkdir -p "$2"
	mk install DESTDIR="$2" PREFIX="$1" >/dev/null
	strip --strip-unneeded "$2$1"/bin/hive-*
	find "$2" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
}

# pack DIR NAME OUT: DIR/NAME as a reproducible .tar.gz at OUT
pack() {
	tar --sort=name --mtime="@$SOURCE_DATE_EPOCH" --owner=0 --group=0 --numeric-owner \
		--format=gnu --mode='u+rwX,go+rX,go-w' -C "$1" -cf - "$2" | gzip -9n >"$3.tmp"
	mv "$3.tmp" "$3"
}

# sums FILE: add or replace FILE's line in OUT/SHA256SUMS (names sorted)
sums() {
	touch "$out/SHA256SUMS"
	{
		grep -v "  $1\$" "$out/SHA256SUMS" || true
		(cd "$out" && sha256sum -- "$1")
	} | sort -k 2 >"$out/SHA256SUMS.tmp"
	mv "$out/SHA256SUMS.tmp" "$out/SHA256SUMS"
}

mkdir -p "$out"
if [ "$mode" = tarball ]; then
	name=hive-$version-linux-$(uname -m)
	stage "/$name" "$rel/tarball"
	pack "$rel/tarball" "$name" "$out/$name.tar.gz"
	sums "$name.tar.gz"
	say "$out/$name.tar.gz"
	exit 0
fi

# --- deb -----------------------------------------------------------------------------------
debver=$(printf '%s' "$version" | tr - +)
debarch=$(dpkg --print-architecture)
name=hive_${debver}_$debarch
root=$rel/deb/$name
stage /usr "$root"
# Debian compresses manual pages (the tarball leaves them as they are: man reads both)
find "$root/usr/share/man" -type f -name '*.[17]' -exec gzip -9n {} +
doc=$root/usr/share/doc/hive
mkdir -p "$doc" "$root/DEBIAN"
date=$(date -u -R -d "@$SOURCE_DATE_EPOCH")
printf 'hive (%s) unstable; urgency=medium\n\n  * Built from %s.\n\n -- %s  %s\n' \
	"$debver" "$(git rev-parse HEAD 2>/dev/null || echo "version $version")" \
	"${HIVE_DEB_MAINTAINER:-hive developers <hive@example.org>}" "$date" |
	gzip -9n >"$doc/changelog.gz"
# the years: from the first commit's to this one's
first=$(git log --reverse --format=%cd --date=format:%Y 2>/dev/null | sed -n 1p)
last=$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y)
years=${first:-$last}
if [ "$years" != "$last" ]; then years=$years-$last; fi
sed "s/@YEARS@/$years/" packaging/debian/copyright >"$doc/copyright"
install -d "$root/usr/share/lintian/overrides"
cp packaging/debian/lintian-overrides "$root/usr/share/lintian/overrides/hive"
# the C library the binaries need, as dpkg-shlibdeps reads it from them
tmp=$rel/deb/shlibs
rm -rf "$tmp"
mkdir -p "$tmp/debian"
printf 'Source: hive\n\nPackage: hive\nArchitecture: any\n' >"$tmp/debian/control"
depends=$(cd "$tmp" && dpkg-shlibdeps -O "$root"/usr/bin/hive-* 2>/dev/null | sed -n 's/^shlibs:Depends=//p')
size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
cat >"$root/DEBIAN/control" <<EOF
Package: hive
Version: $debver
Architecture: $debarch
Maintainer: ${HIVE_DEB_MAINTAINER:-hive developers <hive@example.org>}
Installed-Size: $size
Depends: $depends
Section: devel
Priority: optional
Description: checked, tamper-evident records of DevOps work
 hive turns the startup, logging, monitoring and completion protocols of a
 DevOps session into small tools a machine enforces: hive-init starts a
 session, hive-emit appends validated, redacted, hash-chained events,
 hive-check is the gate (schema, chain, history, signatures, policies) and
 hive-runbook writes the reports, DORA's four keys and OTLP exports.
EOF
find "$root" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
rm -f "$out/$name.deb"
dpkg-deb --root-owner-group -Zxz --build "$root" "$out/$name.deb.tmp" >/dev/null
mv "$out/$name.deb.tmp" "$out/$name.deb"
sums "$name.deb"
say "$out/$name.deb"
