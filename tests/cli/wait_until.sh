# Sourced by the CLI tests: waits on conditions, never for a fixed time, so that the tests pass
# on a loaded machine (scripts/test.sh runs them again under a CPU hog).
#
# wait_until SECONDS COMMAND [ARG...]: runs COMMAND every 50 ms until it succeeds (returns 0) or
# SECONDS have passed (returns 1). Give generous deadlines: they bound a failure, not a success.
wait_until() {
  local limit="$1"
  shift
  local deadline=$((SECONDS + limit))
  until "$@"; do
    [ "$SECONDS" -ge "$deadline" ] && return 1
    sleep 0.05
  done
  return 0
}

# wait_for_line SECONDS FILE PATTERN: until FILE has a line matching the grep PATTERN.
wait_for_line() {
  wait_until "$1" grep -q -- "$3" "$2" 2>/dev/null
}
