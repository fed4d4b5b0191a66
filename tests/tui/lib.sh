# tests/tui/lib.sh — what every tmux test script shares. Source it with the path of
# the vigil binary in $1: it makes a private temporary directory and a private tmux
# server (its own socket, killed on exit), points HOME and the XDG directories into
# it, and defines the checks. Start vigil in a session named "v"; end with `finish`.
set -u
SRC=$(cd "$(dirname "$0")/../.." && pwd) # the source tree
VIGIL=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
T=$(mktemp -d "${TMPDIR:-/tmp}/vigil-tui-XXXXXX")
SOCK="$T/tmux.sock"
tm() { tmux -S "$SOCK" "$@"; }
trap 'tm kill-server 2>/dev/null; rm -rf "$T"' EXIT
cd "$T" || exit 1
export HOME="$T" XDG_CONFIG_HOME="$T/config" XDG_DATA_HOME="$T/data" XDG_STATE_HOME="$T/state"
export LC_ALL=C.UTF-8 TZ=UTC TERM=xterm-256color
unset VIGIL_INTEL_DB # the tests' intel store is under XDG_DATA_HOME
# The files vigil ships (data/, playbooks/) from this tree, laid out as installed.
mkdir -p "$T/share"
for f in "$SRC"/data/*; do ln -s "$f" "$T/share/"; done
ln -s "$SRC/playbooks" "$T/share/playbooks"
export VIGIL_DATA_DIR="$T/share"
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); printf 'FAIL %s\n' "$*"; tm capture-pane -p -t v | sed 's/^/  | /'; }
screen() { tm capture-pane -p -t v; }
# wait_for TEXT [SECONDS]: until the screen shows TEXT (fixed string).
wait_for() {
    i=0
    while [ $i -lt $((${2:-5} * 10)) ]; do
        screen | grep -qF -- "$1" && return 0
        sleep 0.1; i=$((i + 1))
    done
    return 1
}
expect_screen() { if wait_for "$1" "${3:-5}"; then ok; else bad "$2: '$1' not on screen"; fi; }
keys() { tm send-keys -t v "$@"; sleep 0.2; }
# start [COLS ROWS] [ARGS...]: vigil on $T/ws.db in session v; its exit status is
# printed as VIGIL-EXITED N when it ends.
start() {
    cols=${1:-80} rows=${2:-24}
    [ $# -ge 2 ] && shift 2
    tm -f /dev/null new-session -d -s v -x "$cols" -y "$rows" \
        "$VIGIL --db $T/ws.db $*; echo VIGIL-EXITED \$?; sleep 60"
}

finish() {
    printf '%d passed, %d failed\n' "$pass" "$fail"
    [ "$fail" -eq 0 ]
}
