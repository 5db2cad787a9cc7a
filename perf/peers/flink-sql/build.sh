#!/usr/bin/env bash
# Builds the Flink SQL peer into CACHE_DIR (nothing is written inside the repository):
#   CACHE_DIR/lib/      runtime jars (mvn dependency:copy-dependencies; redone when pom.xml changes)
#   CACHE_DIR/classes/  dev.sluice.peers.FlinkSqlPeer and log4j2.properties
# Usage: build.sh CACHE_DIR     (idempotent; quiet unless something fails)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

die() {
  echo "flink-sql build: $*" >&2
  exit 1
}

[[ $# -eq 1 && -n "$1" ]] || die "usage: build.sh CACHE_DIR"
mkdir -p "$1" || die "cannot create $1"
cache=$(cd "$1" && pwd)
command -v mvn >/dev/null 2>&1 || die "no Maven (mvn) on PATH"
command -v javac >/dev/null 2>&1 || die "no javac on PATH (a JDK 17 or newer is needed)"

# Dependencies, once per pom.xml: Maven runs on a copy of the pom in CACHE_DIR/maven so that it
# leaves nothing (target/) next to the sources.
stamp="$cache/lib/.pom-$(sha1sum "$here/pom.xml" | cut -c1-12)"
if [[ ! -f "$stamp" ]]; then
  rm -rf "$cache/lib" "$cache/maven"
  mkdir -p "$cache/maven"
  cp "$here/pom.xml" "$cache/maven/pom.xml"
  if ! (cd "$cache/maven" && mvn -q -B dependency:copy-dependencies \
      -DoutputDirectory="$cache/lib" -DincludeScope=runtime) >"$cache/maven/mvn.log" 2>&1; then
    tail -n 40 "$cache/maven/mvn.log" >&2
    die "resolving the dependencies failed (log: $cache/maven/mvn.log)"
  fi
  touch "$stamp"
fi

# Classes: compiled afresh each time (a few seconds) into a new directory, then swapped in.
tmp="$cache/classes.tmp"
rm -rf "$tmp"
mkdir -p "$tmp"
mapfile -t sources < <(find "$here/src/main/java" -name '*.java' | sort)
if ! javac -nowarn --release 17 -encoding UTF-8 -cp "$cache/lib/*" -d "$tmp" "${sources[@]}" \
    >"$cache/javac.log" 2>&1; then
  cat "$cache/javac.log" >&2
  die "compiling failed"
fi
cp -r "$here/src/main/resources/." "$tmp/"
rm -rf "$cache/classes"
mv "$tmp" "$cache/classes"
