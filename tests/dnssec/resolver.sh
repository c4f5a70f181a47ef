#!/usr/bin/env bash
# resolver.sh: a throw-away DNSSEC resolver chain for acceptance tests.
#
# knotd (authoritative, serves one signed zone) <- unbound (validating, trust anchor = the zone's
# DS/DNSKEY) <- dig. Everything lives in a caller-made directory; nothing outside it is touched
# except the listening ports. Unbound talks only to knotd: a stub-zone for ORIGIN and a stub-zone
# for "." both point at it, so names outside ORIGIN fail fast (knotd REFUSES -> SERVFAIL) instead
# of waiting on root servers that cannot be reached. Notes and traps: resolver.md beside this file.
#
#   resolver.sh start  DIR ORIGIN SIGNED.zone ANCHOR_FILE [--addr A] [--auth-port N]
#                      [--resolver-port N] [--allow CIDR]...
#   resolver.sh reload DIR SIGNED.zone
#   resolver.sh query  DIR NAME TYPE
#   resolver.sh stop   DIR
set -euo pipefail

PROG=${0##*/}
START_DEADLINE_S=10   # knotd and unbound together must answer within this
STOP_GRACE_S=5        # SIGTERM grace before SIGKILL
QUERY_TIMEOUT_S=3     # dig +time for `query`
PORT_TRIES=3          # fresh ports to try when an automatically chosen one is taken meanwhile

usage() {
    cat >&2 <<EOF
usage: $PROG start  DIR ORIGIN SIGNED.zone ANCHOR_FILE [--addr ADDR] [--auth-port N]
                    [--resolver-port N] [--allow CIDR]...
       $PROG reload DIR SIGNED.zone
       $PROG query  DIR NAME TYPE
       $PROG stop   DIR

  start   write knot.conf and unbound.conf into DIR (which must exist), start knotd serving
          SIGNED.zone for ORIGIN and unbound validating it with the DS/DNSKEY records in
          ANCHOR_FILE, wait until both answer, and print "auth_port=N resolver_port=N".
          ADDR defaults to 127.0.0.1; free ports are chosen when not given. unbound answers
          clients from ADDR and from each --allow CIDR.
  reload  serve SIGNED.zone instead and flush unbound's cache for ORIGIN.
  query   ask unbound (dig +dnssec); print "rcode=R ad=0|1 answers=N" (N counts answer
          records other than RRSIG); exit 0 when any response arrived.
  stop    stop both daemons and wait for them to exit; DIR is left for the caller.
EOF
    exit 2
}

die() {
    printf '%s: %s\n' "$PROG" "$*" >&2
    exit 1
}

# die_log DAEMON LOGFILE MESSAGE: fail naming the daemon and its log, with the log's tail.
die_log() {
    printf '%s: %s: %s (log: %s)\n' "$PROG" "$1" "$3" "$2" >&2
    if [[ -s $2 ]]; then
        tail -n 5 -- "$2" | sed 's/^/    /' >&2
    fi
    exit 1
}

need_tools() {
    local t
    for t in "$@"; do
        command -v "$t" >/dev/null 2>&1 ||
            die "'$t' not found (Debian packages: knot unbound bind9-dnsutils iproute2)"
    done
}

now_us() { echo "${EPOCHREALTIME/./}"; }

# --- state -----------------------------------------------------------------------------------

# Fixed file names inside DIR. Set by set_paths.
set_paths() {
    DIR=$1
    [[ -d $DIR ]] || die "'$DIR' is not a directory (the caller creates it, e.g. mktemp -d)"
    DIR=$(cd -- "$DIR" && pwd -P)
    # The paths are written into config files between double quotes.
    [[ $DIR != *[\"$'\n'\\]* ]] || die "directory name must not contain '\"', '\\' or newlines"
    STATE=$DIR/resolver.env
    KNOT_CONF=$DIR/knot.conf KNOT_LOG=$DIR/knot.log KNOT_PID=$DIR/knot.pid
    KNOT_SPAWN=$DIR/knot.spawn-pid KNOT_SOCK=$DIR/knot.sock KNOT_DB=$DIR/knot-db
    ZONE=$DIR/zone.db
    UB_CONF=$DIR/unbound.conf UB_LOG=$DIR/unbound.log UB_PID=$DIR/unbound.pid
    UB_SPAWN=$DIR/unbound.spawn-pid UB_SOCK=$DIR/unbound.ctl ANCHOR=$DIR/anchor.txt
    local s
    for s in "$KNOT_SOCK" "$UB_SOCK"; do
        # sun_path is 108 bytes including the NUL.
        ((${#s} < 108)) || die "control socket path too long (${#s} > 107 bytes): $s"
    done
}

load_state() {
    [[ -f $STATE ]] || die "no resolver state in $DIR (was '$PROG start' run on it?)"
    # Written by write_state with printf %q, so sourcing it only assigns these variables.
    # shellcheck source=/dev/null
    source "$STATE"
}

write_state() {
    {
        printf 'ORIGIN=%q\n' "$ORIGIN"
        printf 'ADDR=%q\n' "$ADDR"
        printf 'AUTH_PORT=%q\n' "$AUTH_PORT"
        printf 'RESOLVER_PORT=%q\n' "$RESOLVER_PORT"
    } >"$STATE.tmp"
    mv -f -- "$STATE.tmp" "$STATE"
}

# --- processes -------------------------------------------------------------------------------

# alive PID: PID exists and is not a zombie.
alive() {
    local stat
    [[ $1 =~ ^[0-9]+$ ]] || return 1
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    stat=${stat##*) }
    [[ ${stat%% *} != Z ]]
}

# is_ours PID NAME CONF: PID is a live (not zombie) NAME process started with CONF. Guards the
# kill against a stale pidfile whose PID has been reused.
is_ours() {
    local pid=$1 name=$2 conf=$3 cmd
    alive "$pid" || return 1
    cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
    [[ $cmd == *"$name"*" $conf"* ]]
}

# spawn LOG SPAWNFILE CMD...: start CMD in the background with stdio on LOG; print its PID.
spawn() {
    local log=$1 spawnfile=$2
    shift 2
    (
        # Drop inherited descriptors: a daemon holding the caller's pipe (e.g. the one behind
        # $(resolver.sh start ...)) would keep the caller waiting for EOF.
        # (No 2>/dev/null here: on a bare exec it would redirect the daemon's stderr too.)
        for f in /proc/"$BASHPID"/fd/*; do
            f=${f##*/}
            if ((f > 2)) && [[ -e /proc/$BASHPID/fd/$f ]]; then
                exec {f}>&- || true
            fi
        done
        # Written by the child before exec, so `stop` finds the daemon even when `start` was
        # killed right after the fork and before the daemon wrote its own pidfile.
        echo "$BASHPID" >"$spawnfile"
        exec "$@"
    ) </dev/null >>"$log" 2>&1 &
    echo "$!"
}

# stop_daemon NAME CONF PIDFILE SPAWNFILE: SIGTERM, wait, SIGKILL after the grace period.
# Both PID sources are read: the pidfile is missing when startup failed early, and the
# spawn PID is all we know then.
stop_daemon() {
    local name=$1 conf=$2 pidfile=$3 spawnfile=$4 pid pids=() deadline killed f
    for f in "$pidfile" "$spawnfile"; do
        pid=$(cat -- "$f" 2>/dev/null) || continue
        if is_ours "$pid" "$name" "$conf"; then
            pids+=("$pid")
        fi
    done
    if ((${#pids[@]})); then
        kill -TERM "${pids[@]}" 2>/dev/null || true
    fi
    for pid in "${pids[@]}"; do
        deadline=$(($(now_us) + STOP_GRACE_S * 1000000)) killed=0
        while is_ours "$pid" "$name" "$conf"; do
            if (($(now_us) > deadline)); then
                if ((killed)); then
                    printf '%s: %s (PID %s) survived SIGKILL (log: %s)\n' \
                        "$PROG" "$name" "$pid" "${conf%.conf}.log" >&2
                    return 1
                fi
                printf '%s: %s (PID %s) ignored SIGTERM for %s s, sending SIGKILL (log: %s)\n' \
                    "$PROG" "$name" "$pid" "$STOP_GRACE_S" "${conf%.conf}.log" >&2
                kill -KILL "$pid" 2>/dev/null || true
                deadline=$(($(now_us) + 2000000)) killed=1
            fi
            sleep 0.02
        done
    done
    rm -f -- "$spawnfile"
}

# --- ports -----------------------------------------------------------------------------------

used_ports() {
    ss -Htuan 2>/dev/null | awk '{ n = split($5, a, ":"); print a[n] }' | sort -un
}

# port_free PORT: no TCP or UDP socket on this host (any address) uses PORT.
port_free() {
    ! used_ports | grep -qx -- "$1"
}

# pick_port EXCLUDE: a port no TCP/UDP socket uses, below the ephemeral range so that
# outgoing queries cannot take it between the check and the bind.
pick_port() {
    local exclude=$1 lo hi used p i
    read -r lo _ </proc/sys/net/ipv4/ip_local_port_range
    hi=$((lo > 20000 ? lo - 1 : 65535))
    lo=$((lo > 20000 ? 15000 : 49152))
    used=" $(used_ports | tr '\n' ' ') $exclude "
    for ((i = 0; i < 200; i++)); do
        p=$((lo + (RANDOM * 32768 + RANDOM) % (hi - lo + 1)))
        if [[ $used != *" $p "* ]]; then
            echo "$p"
            return 0
        fi
    done
    die "no free port found in $lo-$hi"
}

# --- configs ---------------------------------------------------------------------------------

write_knot_conf() {
    mkdir -p -- "$KNOT_DB"
    cat >"$KNOT_CONF" <<EOF
# Generated by $PROG. Foreground knotd, all state in $DIR.
server:
    rundir: "$DIR"
    pidfile: "$KNOT_PID"
    listen: $ADDR@$AUTH_PORT
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1

log:
  - target: stderr
    any: info

database:
    storage: "$KNOT_DB"

control:
    listen: "$KNOT_SOCK"

template:
  - id: default
    storage: "$DIR"
    # Serve the file exactly as given: never rewrite it, never keep a journal, and accept a
    # reload with an unchanged serial (tampered copies keep the serial).
    zonefile-load: whole
    zonefile-sync: -1
    journal-content: none
    semantic-checks: off
    dnssec-signing: off

zone:
  - domain: "$ORIGIN"
    file: "$ZONE"
EOF
}

write_unbound_conf() {
    local cidr host_len=32 suffix
    [[ $ADDR != *:* ]] || host_len=128
    {
        cat <<EOF
# Generated by $PROG. Foreground unbound, all state in $DIR.
server:
    directory: "$DIR"
    chroot: ""
    username: ""
    pidfile: "$UB_PID"
    logfile: "$UB_LOG"
    use-syslog: no
    log-time-ascii: yes
    verbosity: 1
    val-log-level: 2
    log-servfail: yes
    ede: yes
    num-threads: 1
    # Default yes would let a second instance share a taken port silently.
    so-reuseport: no
    interface: $ADDR@$RESOLVER_PORT
    interface-automatic: no
    do-not-query-localhost: no
    module-config: "validator iterator"
    trust-anchor-file: "$ANCHOR"
    # No _ta-XXXX signalling queries (RFC 8145): keeps knotd's traffic to real lookups.
    trust-anchor-signaling: no
    access-control: $ADDR/$host_len allow
EOF
        for cidr in "${ALLOW[@]}"; do
            printf '    access-control: %s allow\n' "$cidr"
        done
        # Default local zones (test., invalid., localhost., onion., home.arpa., RFC 1918 and
        # other reverse zones, ...) would answer for ORIGIN before any lookup. nodefault on a
        # name without a default zone is a no-op, so clear every ancestor of ORIGIN.
        suffix=$ORIGIN
        while [[ $suffix != . ]]; do
            printf '    local-zone: "%s" nodefault\n' "$suffix"
            suffix=${suffix#*.}
            [[ -n $suffix ]] || suffix=.
        done
        cat <<EOF

remote-control:
    control-enable: yes
    control-interface: "$UB_SOCK"
    control-use-cert: no

stub-zone:
    name: "$ORIGIN"
    stub-addr: $ADDR@$AUTH_PORT
EOF
        if [[ $ORIGIN != . ]]; then
            # Replaces the built-in root hints: without it every other name waits on
            # unreachable root servers; with it knotd refuses and unbound SERVFAILs at once.
            cat <<EOF

stub-zone:
    name: "."
    stub-addr: $ADDR@$AUTH_PORT
EOF
        fi
    } >"$UB_CONF"
}

# --- readiness -------------------------------------------------------------------------------

# log_since LOG OFFSET: what LOG got after its first OFFSET bytes (one start attempt's lines).
log_since() {
    tail -c +$(($2 + 1)) -- "$1" 2>/dev/null || true
}

# wait_ready NAME LOG OFFSET PID PORT CHECK_FN DEADLINE_US: poll CHECK_FN until it succeeds;
# OFFSET is LOG's size before this attempt. Returns 0 ready, 1 failed (message printed),
# 3 the daemon could not bind its port.
wait_ready() {
    local name=$1 log=$2 offset=$3 pid=$4 port=$5 check=$6 deadline=$7 why
    while :; do
        if "$check"; then
            return 0
        fi
        why=
        # Our own child: before its exec the PID still runs bash, so alive, not is_ours.
        if ! alive "$pid"; then
            if log_since "$log" "$offset" | grep -qiE 'cannot bind|can.t bind|already in use'; then
                return 3
            fi
            why="exited during startup"
        elif log_since "$log" "$offset" | grep -qF "[$ORIGIN] zone event 'load' failed"; then
            why="could not load the zone for $ORIGIN"
        elif (($(now_us) > deadline)); then
            why="did not answer on $ADDR port $port within $START_DEADLINE_S s"
        fi
        if [[ -n $why ]]; then
            printf '%s: %s %s (log: %s)\n' "$PROG" "$name" "$why" "$log" >&2
            log_since "$log" "$offset" | tail -n 5 | sed 's/^/    /' >&2
            return 1
        fi
        sleep 0.05
    done
}

# knotd is ready once it answers authoritatively for ORIGIN (the zone is loaded) and our own
# control socket answers: knotd binds it only after its listening sockets, so the DNS answer
# cannot come from another server that holds the port.
knot_answers() {
    local out
    out=$(dig @"$ADDR" -p "$AUTH_PORT" "$ORIGIN" SOA +norec +time=1 +tries=1 2>/dev/null) ||
        return 1
    [[ $out == *"status: NOERROR"* && $out =~ flags:[a-z\ ]*\ aa[\ \;] ]] || return 1
    knotc -c "$KNOT_CONF" -t 1 status >/dev/null 2>&1
}

# unbound is ready once it answers at all (a CHAOS query leaves the cache untouched) and its
# control socket, opened after the listening ports, answers too.
unbound_answers() {
    dig @"$ADDR" -p "$RESOLVER_PORT" version.bind CH TXT +time=1 +tries=1 >/dev/null 2>&1 &&
        unbound-control -c "$UB_CONF" status >/dev/null 2>&1
}

# --- subcommands -----------------------------------------------------------------------------

cmd_start() {
    (($# >= 4)) || usage
    local zone_src=$3 anchor_src=$4 auth_auto=1 res_auto=1 deadline rc try pid offset
    set_paths "$1"
    ORIGIN=$2
    shift 4
    ADDR=127.0.0.1 AUTH_PORT='' RESOLVER_PORT='' ALLOW=()
    while (($#)); do
        case $1 in
        --addr) (($# >= 2)) || usage; ADDR=$2; shift 2 ;;
        --auth-port) (($# >= 2)) || usage; AUTH_PORT=$2; auth_auto=0; shift 2 ;;
        --resolver-port) (($# >= 2)) || usage; RESOLVER_PORT=$2; res_auto=0; shift 2 ;;
        --allow) (($# >= 2)) || usage; ALLOW+=("$2"); shift 2 ;;
        *) printf '%s: unknown option %s\n' "$PROG" "$1" >&2; usage ;;
        esac
    done
    need_tools knotd knotc unbound unbound-checkconf dig ss
    [[ $ORIGIN == *. ]] || ORIGIN=$ORIGIN.
    [[ $ORIGIN =~ ^([A-Za-z0-9_-]+\.)+$|^\.$ ]] || die "bad ORIGIN '$ORIGIN'"
    [[ $ADDR =~ ^[0-9A-Fa-f:.]+$ ]] || die "bad --addr '$ADDR' (an IPv4 or IPv6 literal)"
    local p
    for p in "$AUTH_PORT" "$RESOLVER_PORT"; do
        [[ -z $p || ($p =~ ^[0-9]+$ && $p -ge 1 && $p -le 65535) ]] || die "bad port '$p'"
    done
    for p in "${ALLOW[@]}"; do
        [[ $p =~ ^[0-9A-Fa-f:.]+/[0-9]+$ ]] || die "bad --allow '$p' (CIDR, e.g. 10.0.0.0/24)"
    done
    [[ -r $zone_src && -s $zone_src ]] || die "zone file '$zone_src' is missing or empty"
    [[ -r $anchor_src && -s $anchor_src ]] || die "anchor file '$anchor_src' is missing or empty"
    if is_ours "$(cat -- "$KNOT_PID" 2>/dev/null)" knotd "$KNOT_CONF" ||
        is_ours "$(cat -- "$UB_PID" 2>/dev/null)" unbound "$UB_CONF"; then
        die "a resolver chain is already running in $DIR (run '$PROG stop $DIR' first)"
    fi
    for p in "$AUTH_PORT" "$RESOLVER_PORT"; do
        [[ -z $p ]] || port_free "$p" || die "port $p is already in use on this host (ss -tuanp)"
    done
    [[ -z $AUTH_PORT || $AUTH_PORT != "$RESOLVER_PORT" ]] ||
        die "--auth-port and --resolver-port must differ"
    cp -f -- "$zone_src" "$ZONE"
    cp -f -- "$anchor_src" "$ANCHOR"
    : >"$KNOT_LOG"
    : >"$UB_LOG"

    deadline=$(($(now_us) + START_DEADLINE_S * 1000000))
    p=$RESOLVER_PORT   # keep a requested resolver port out of the automatic choice
    # knotd first: unbound's first lookups need it.
    for ((try = 1; ; try++)); do
        ((auth_auto == 0)) || AUTH_PORT=$(pick_port "$p")
        write_knot_conf
        knotc -c "$KNOT_CONF" conf-check >>"$KNOT_LOG" 2>&1 ||
            die_log knotd "$KNOT_LOG" "knotc conf-check rejected $KNOT_CONF"
        offset=$(stat -c %s -- "$KNOT_LOG")
        pid=$(spawn "$KNOT_LOG" "$KNOT_SPAWN" knotd -c "$KNOT_CONF")
        rc=0
        wait_ready knotd "$KNOT_LOG" "$offset" "$pid" "$AUTH_PORT" knot_answers "$deadline" ||
            rc=$?
        ((rc == 0)) && break
        stop_daemon knotd "$KNOT_CONF" "$KNOT_PID" "$KNOT_SPAWN" || true
        if ((rc == 3)) && ((auth_auto && try < PORT_TRIES)); then
            continue
        fi
        ((rc != 3)) || printf '%s: knotd could not bind %s port %s (log: %s)\n' \
            "$PROG" "$ADDR" "$AUTH_PORT" "$KNOT_LOG" >&2
        exit 1
    done

    for ((try = 1; ; try++)); do
        ((res_auto == 0)) || RESOLVER_PORT=$(pick_port "$AUTH_PORT")
        write_unbound_conf
        unbound-checkconf "$UB_CONF" >>"$UB_LOG" 2>&1 || {
            stop_daemon knotd "$KNOT_CONF" "$KNOT_PID" "$KNOT_SPAWN" || true
            die_log unbound "$UB_LOG" "unbound-checkconf rejected $UB_CONF"
        }
        offset=$(stat -c %s -- "$UB_LOG")
        pid=$(spawn "$UB_LOG" "$UB_SPAWN" unbound -d -c "$UB_CONF")
        rc=0
        wait_ready unbound "$UB_LOG" "$offset" "$pid" "$RESOLVER_PORT" unbound_answers \
            "$deadline" || rc=$?
        ((rc == 0)) && break
        stop_daemon unbound "$UB_CONF" "$UB_PID" "$UB_SPAWN" || true
        if ((rc == 3)) && ((res_auto && try < PORT_TRIES)); then
            continue
        fi
        ((rc != 3)) || printf '%s: unbound could not bind %s port %s (log: %s)\n' \
            "$PROG" "$ADDR" "$RESOLVER_PORT" "$UB_LOG" >&2
        stop_daemon knotd "$KNOT_CONF" "$KNOT_PID" "$KNOT_SPAWN" || true
        exit 1
    done

    write_state
    echo "auth_port=$AUTH_PORT resolver_port=$RESOLVER_PORT"
}

cmd_reload() {
    (($# == 2)) || usage
    local zone_src=$2 out
    set_paths "$1"
    load_state
    need_tools knotc unbound-control
    [[ -r $zone_src && -s $zone_src ]] || die "zone file '$zone_src' is missing or empty"
    is_ours "$(cat -- "$KNOT_PID" 2>/dev/null)" knotd "$KNOT_CONF" ||
        die_log knotd "$KNOT_LOG" "not running in $DIR"
    is_ours "$(cat -- "$UB_PID" 2>/dev/null)" unbound "$UB_CONF" ||
        die_log unbound "$UB_LOG" "not running in $DIR"
    cp -f -- "$zone_src" "$ZONE.new"
    mv -f -- "$ZONE.new" "$ZONE"
    # -b: return only once the zone is loaded (or failed; knotd then keeps the old one).
    if ! out=$(knotc -c "$KNOT_CONF" -b -t 10 zone-reload "$ORIGIN" 2>&1); then
        printf '%s\n' "$out" >>"$KNOT_LOG"
        die_log knotd "$KNOT_LOG" "zone-reload of $ORIGIN failed; still serving the old zone"
    fi
    # Cached answers, validated keys and bogus verdicts for ORIGIN would hide the new zone.
    local c
    for c in "flush_zone $ORIGIN" flush_bogus flush_negative "flush_infra all" \
        flush_requestlist; do
        # shellcheck disable=SC2086 # c holds a command and its argument
        out=$(unbound-control -c "$UB_CONF" $c 2>&1) ||
            die_log unbound "$UB_LOG" "unbound-control $c failed: $out"
    done
}

cmd_query() {
    (($# == 3)) || usage
    local name=$2 type=$3 out rc=0 rcode ad=0 answers
    set_paths "$1"
    load_state
    need_tools dig
    out=$(dig @"$ADDR" -p "$RESOLVER_PORT" "$name" "$type" +dnssec +noall +comments +answer \
        +time="$QUERY_TIMEOUT_S" +tries=1 2>&1) || rc=$?
    [[ $out =~ status:\ ([A-Z0-9]+) ]] ||
        die_log unbound "$UB_LOG" \
            "no response to $name $type from $ADDR port $RESOLVER_PORT (dig exit $rc)"
    rcode=${BASH_REMATCH[1]}
    if [[ $out =~ \;\;\ flags:([a-z ]*)\; ]] && [[ " ${BASH_REMATCH[1]} " == *" ad "* ]]; then
        ad=1
    fi
    answers=$(awk '/^;/ || NF < 4 { next } $4 != "RRSIG" { n++ } END { print n + 0 }' <<<"$out")
    echo "rcode=$rcode ad=$ad answers=$answers"
}

cmd_stop() {
    (($# == 1)) || usage
    set_paths "$1"
    local rc=0
    # unbound first, so that it does not log lookups failing against a vanished knotd.
    stop_daemon unbound "$UB_CONF" "$UB_PID" "$UB_SPAWN" || rc=1
    stop_daemon knotd "$KNOT_CONF" "$KNOT_PID" "$KNOT_SPAWN" || rc=1
    return "$rc"
}

main() {
    (($# >= 1)) || usage
    local cmd=$1
    shift
    case $cmd in
    start) cmd_start "$@" ;;
    reload) cmd_reload "$@" ;;
    query) cmd_query "$@" ;;
    stop) cmd_stop "$@" ;;
    -h | --help | help) usage ;;
    *) printf '%s: unknown subcommand %s\n' "$PROG" "$cmd" >&2; usage ;;
    esac
}

main "$@"
