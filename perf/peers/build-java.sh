#!/usr/bin/env bash
# Builds one Java peer (a folder of perf/peers/ with a pom.xml and src/main/java, optionally
# src/main/resources) into CACHE_DIR; nothing is written inside the repository:
#   CACHE_DIR/lib/      runtime jars (mvn dependency:copy-dependencies; redone when pom.xml changes)
#   CACHE_DIR/classes/  the compiled classes and the resources
# Usage: build-java.sh PEER_DIR CACHE_DIR     (idempotent; quiet unless something fails)
set -euo pipefail

[[ $# -eq 2 && -d "$1" && -n "$2" ]] || {
  echo "build-java.sh: usage: build-java.sh PEER_DIR CACHE_DIR" >&2
  exit 1
}
here=$(cd "$1" && pwd)
name=$(basename "$here")
die() {
  echo "$name build: $*" >&2
  exit 1
}
mkdir -p "$2" || die "cannot create $2"
cache=$(cd "$2" && pwd)
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
[[ ${#sources[@]} -gt 0 ]] || die "no sources under $here/src/main/java"
if ! javac -nowarn --release 17 -encoding UTF-8 -cp "$cache/lib/*" -d "$tmp" "${sources[@]}" \
    >"$cache/javac.log" 2>&1; then
  cat "$cache/javac.log" >&2
  die "compiling failed"
fi
if [[ -d "$here/src/main/resources" ]]; then cp -r "$here/src/main/resources/." "$tmp/"; fi
rm -rf "$cache/classes"
mv "$tmp" "$cache/classes"
