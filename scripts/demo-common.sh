# Shared by scripts/demo.sh and scripts/tour.sh (sourced, not run): the
# program, a work folder removed at exit with the processes listed in
# $WORK/pids, headings, expect_rejected, and swtpm_listen.
CONCIERGE=${1:-build/bin/concierge}
case "$CONCIERGE" in /*) ;; *) CONCIERGE="$(pwd)/$CONCIERGE" ;; esac
WORK=$(mktemp -d)
cleanup() {
  if [ -f "$WORK/pids" ]; then xargs kill < "$WORK/pids" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
# Runs a command that must exit 1 (rejected, refused, or: differs); anything
# else stops the demo.
expect_rejected() {
  what=$1
  shift
  set +e
  "$@"
  rc=$?
  set -e
  if [ "$rc" -ne 1 ]; then
    echo "demo: expected $what (exit 1), got $rc" >&2
    exit 1
  fi
}

# swtpm_listen STATE_DIR LOG: a TPM 2.0 (swtpm) on the state in STATE_DIR,
# listening on a free loopback port pair; returns once it answers. Prints
# "PID TCTI"; the pid is also listed in $WORK/pids, so cleanup stops it.
swtpm_listen() {
  for _ in 1 2 3 4 5 6 7 8 9 10; do
    port=$(( ( $(od -An -N2 -tu2 /dev/urandom) % 20000 + 10000 ) * 2 ))
    swtpm socket --tpm2 --tpmstate dir="$1" \
      --server type=tcp,port=$port,bindaddr=127.0.0.1 \
      --ctrl type=tcp,port=$((port + 1)),bindaddr=127.0.0.1 \
      --flags not-need-init,startup-clear --log file="$2" \
      </dev/null >/dev/null 2>&1 &
    pid=$!
    for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30; do
      if "$CONCIERGE" tpm pcrs --tcti "swtpm:host=127.0.0.1,port=$port" --pcrs sha256:0 \
        >/dev/null 2>&1; then
        echo "$pid" >> "$WORK/pids"
        echo "$pid swtpm:host=127.0.0.1,port=$port"
        return 0
      fi
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill "$pid" 2>/dev/null || true
  done
  echo "demo: swtpm did not start" >&2
  return 1
}
