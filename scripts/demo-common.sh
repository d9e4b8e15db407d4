# Shared by scripts/demo.sh and scripts/tour.sh (sourced, not run): the
# program, a work folder removed at exit with the processes listed in
# $WORK/pids, headings, and expect_rejected.
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
