# tests/cli/lib.sh — what every black-box CLI test script shares. Source it with
# the path of the vigil binary in $1: it makes a private temporary directory (the
# working directory, removed on exit), points HOME and the XDG directories into
# it, and defines the checks. End the script with `finish`.
set -u
SRC=$(cd "$(dirname "$0")/../.." && pwd) # the source tree
VIGIL=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
T=$(mktemp -d "${TMPDIR:-/tmp}/vigil-cli-XXXXXX")
trap 'rm -rf "$T"' EXIT
cd "$T" || exit 1
export HOME="$T/home" XDG_CONFIG_HOME="$T/config" XDG_DATA_HOME="$T/data" XDG_STATE_HOME="$T/state"
export LC_ALL=C.UTF-8 TZ=UTC
unset VIGIL_INTEL_DB # the tests' intel store is under XDG_DATA_HOME
unset VIGIL_DB
# The files vigil ships (data/, playbooks/) from this tree, laid out as installed.
mkdir -p "$T/share"
for f in "$SRC"/data/*; do ln -s "$f" "$T/share/"; done
ln -s "$SRC/playbooks" "$T/share/playbooks"
export VIGIL_DATA_DIR="$T/share"
mkdir -p "$HOME"
pass=0 fail=0

ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); printf 'FAIL %s\n' "$*"; }

# run ARGS...: run vigil, capturing out, err and rc.
run() { "$VIGIL" "$@" >out 2>err; rc=$?; }
# expect RC DESCRIPTION: the last run exited RC.
expect() { if [ "$rc" -eq "$1" ]; then ok; else bad "$2: exit $rc, wanted $1 ($(head -c 300 err))"; fi; }
# has FILE TEXT DESCRIPTION: FILE contains TEXT (fixed string).
has() { if grep -qF -- "$2" "$1"; then ok; else bad "$3: '$2' not in $1: $(head -c 300 "$1")"; fi; }
hasnt() { if grep -qF -- "$2" "$1"; then bad "$3: '$2' in $1"; else ok; fi; }
json_ok() { if python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$1" 2>/dev/null; then ok; else bad "$2: not valid JSON"; fi; }
# py EXPR: print the Python expression EXPR, with d = the JSON in ./out.
py() { python3 -c "import json,sys; d=json.load(open('out')); print($1)"; }
eq() { if [ "$1" = "$2" ]; then ok; else bad "$3: got '$1', wanted '$2'"; fi; }

finish() {
    printf '%d passed, %d failed\n' "$pass" "$fail"
    [ "$fail" -eq 0 ]
}
