#!/usr/bin/env bash
# Checks the Dockerfile's runtime stage without a container engine: builds a Debian bookworm root
# with debootstrap (minbase, as bookworm-slim), replays the stage's COPY / RUN / USER / WORKDIR
# lines in it (COPY --from=build takes the binary of build/release, built as the build stage
# does), then, as the image's user in its working directory:
#   - every shared library of the binary resolves inside the root (ldd);
#   - `sluice --version`, `sluice validate` on the copied examples, and `sluice run` of a copied
#     example succeed;
#   - `sluice serve` with a config listening on 0.0.0.0 and no token is refused (the image must
#     be given http.token), and with a token it starts and answers /healthz on loopback.
#
#   sudo scripts/check-image.sh [WORKDIR]     (root: debootstrap and chroot; on demand, ~3 min)
#
# The root is built in WORKDIR (default: a temporary directory, removed at the end); /proc is
# mounted in it while the checks run. Needs the network to Debian's archive.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
[[ $(id -u) -eq 0 ]] || { echo "check-image.sh: run as root (debootstrap, chroot)" >&2; exit 2; }
command -v debootstrap >/dev/null || apt-get install -y -q debootstrap >/dev/null
[[ -x build/release/sluice ]] ||
  { cmake --preset release >/dev/null && cmake --build --preset release --target sluice; }

work=${1:-$(mktemp -d)}
root="$work/root"
cleanup() {
  mountpoint -q "$root/proc" && umount "$root/proc"
  [[ -n "${1:-}" ]] || rm -rf "$work"
}
trap 'cleanup ${1:-}' EXIT
mkdir -p "$work"

echo "== debootstrap bookworm (minbase) into $root"
debootstrap --variant=minbase bookworm "$root" http://deb.debian.org/debian >"$work/debootstrap.log" 2>&1 ||
  { tail -20 "$work/debootstrap.log"; exit 1; }
cp /etc/resolv.conf "$root/etc/resolv.conf"
mount -t proc proc "$root/proc"

# Replays the runtime stage (from "FROM ... AS runtime" to the end), one instruction at a time.
user=root
workdir=/
in_stage=0
instruction=""
replay() {
  local line=$1 op args
  op=${line%% *}
  args=${line#* }
  case $op in
    COPY)
      if [[ $args == --from=build* ]]; then
        read -r _ src dst <<<"$args"
        src=${src#/src/}
        echo "   COPY (build stage) $src -> $dst"
        cp -a "$repo/$src" "$root$dst"
      else
        read -r src dst <<<"$args"
        echo "   COPY $src -> $dst"
        mkdir -p "$(dirname "$root$dst")"
        cp -a "$repo/$src" "$root$dst"
      fi ;;
    RUN)
      echo "   RUN $args"
      chroot "$root" /bin/sh -c "$args" >"$work/run.log" 2>&1 || { tail -30 "$work/run.log"; exit 1; } ;;
    USER) user=$args; echo "   USER $user" ;;
    WORKDIR) workdir=$args; echo "   WORKDIR $workdir" ;;
    ENTRYPOINT | CMD | FROM | "") ;;
    *) echo "check-image.sh: the runtime stage uses $op, which this check does not replay" >&2; exit 1 ;;
  esac
}
echo "== the Dockerfile's runtime stage"
while IFS= read -r raw || [[ -n "$raw" ]]; do
  if [[ $raw =~ ^FROM\ .*\ AS\ runtime ]]; then in_stage=1; continue; fi
  ((in_stage)) || continue
  [[ $raw =~ ^[[:space:]]*# ]] && continue
  if [[ $raw == *\\ ]]; then instruction+="${raw%\\} "; continue; fi
  instruction+=$raw
  replay "$(echo "$instruction" | sed 's/^[[:space:]]*//')"
  instruction=""
done <Dockerfile

as_user() { chroot --userspec="$user:$user" "$root" /bin/sh -c "cd '$workdir' && $1"; }

echo "== checks as $user in $workdir"
missing=$(chroot "$root" ldd /usr/local/bin/sluice | grep 'not found' || true)
[[ -z "$missing" ]] || { echo "FAIL: libraries missing from the runtime image:"; echo "$missing"; exit 1; }
echo "ok   every shared library resolves in the image"
version=$(as_user "sluice --version")
echo "ok   sluice --version: $version"
as_user "sluice validate /etc/sluice/examples/*.yaml" >/dev/null
echo "ok   sluice validate /etc/sluice/examples/*.yaml"
as_user "mkdir -p run && cp -r /etc/sluice/examples/* run/ && cd run && sluice run trades-by-symbol.yaml 2>&1 | tail -1 && test -s out/trades_by_symbol.jsonl"
echo "ok   sluice run of an example, as $user"
cat >"$root/var/lib/sluice/open.yaml" <<'EOF'
kafka: {bootstrap.servers: 127.0.0.1:1}
jobs_dir: jobs
http: {listen: 0.0.0.0:19464}
EOF
mkdir -p "$root/var/lib/sluice/jobs"
chown -R 10001:10001 "$root/var/lib/sluice"
if as_user "sluice serve --config open.yaml" >"$work/open.log" 2>&1; then
  echo "FAIL: sluice serve listened on 0.0.0.0 without a token"; exit 1
fi
grep -q "token" "$work/open.log" || { echo "FAIL: no word of the token:"; cat "$work/open.log"; exit 1; }
echo "ok   serve on 0.0.0.0 without http.token is refused: $(grep -m1 token "$work/open.log")"
printf 'kafka: {bootstrap.servers: 127.0.0.1:1}\njobs_dir: jobs\nhttp: {listen: 0.0.0.0:19464, token: t0k3n}\n' \
  >"$root/var/lib/sluice/token.yaml"
chown 10001:10001 "$root/var/lib/sluice/token.yaml"
as_user "exec sluice serve --config token.yaml" >"$work/serve.log" 2>&1 &
pid=$!
ok=0
for _ in $(seq 50); do
  if curl -fsS --max-time 2 http://127.0.0.1:19464/healthz >/dev/null 2>&1; then ok=1; break; fi
  sleep 0.2
done
kill -TERM "$pid" 2>/dev/null || true
wait "$pid" || true
((ok)) || { echo "FAIL: /healthz did not answer"; cat "$work/serve.log"; exit 1; }
echo "ok   serve with a token starts as $user and answers /healthz"
echo "== the runtime image works"
