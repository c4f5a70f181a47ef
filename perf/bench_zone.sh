#!/usr/bin/env bash
# perf/bench_zone.sh: sign and verify a 110,000-name zone with keyfort, ldns, BIND and Knot, side by
# side in one run, with the same keys and the same signature validity window.
#
#   perf/bench_zone.sh [--rounds N] [--deleg N] [--a N] [--alg p256|rsa|all] [--keyfort PATH]
#                      [--no-crosscheck]
#
# What it does (everything in one mktemp directory, removed on exit and on Ctrl-C):
#   1. perf/gen_zone.sh writes the zone: 100,000 delegations (two NS each, glue under the child)
#      and 10,000 A names (--deleg, --a).
#   2. openssl genpkey makes one P-256 KSK+ZSK pair and one RSA-2048 pair; `peers.sh import-pem`
#      puts the same PEM keys into each peer's key store (it checks that every tool derives the
#      same DS). A throw-away SoftHSM2 token (SOFTHSM2_CONF in the temp dir) gets a KSK+ZSK pair
#      of each algorithm made by `keyfort key gen`.
#   3. Each round, per algorithm: sign with keyfort (PEM keys), keyfort (SoftHSM keys),
#      ldns-signzone, dnssec-signzone and kzonesign, then verify the zone keyfort signed (PEM keys)
#      with keyfort zone verify, ldns-verify-zone, dnssec-verify, kzonecheck and kzonesign -v.
#      The order is reversed every other round (ABBA), so load from other processes hits every
#      tool alike. Each run is measured by /usr/bin/time: wall time, user+system CPU time and
#      peak RSS. The tables show the median over rounds (peak RSS: the highest).
#   4. Round 1 also checks that the runs are comparable: every signer's output has the same
#      number of RRSIG, NSEC and DNSKEY records and one and the same validity window on every
#      RRSIG, and every verifier accepts every signer's output (a 5 x 5 matrix per algorithm).
#
# Signers: all three peers are driven by `tests/dnssec/peers.sh sign` (the interop tests' option
# choices), with /usr/bin/time around the peer tool alone: peers.sh runs with a directory of
# shims first on PATH, so its own work (finding keys, copying zone files, keymgr list) is not
# measured.
# Settings, each tool at its fastest on this machine (N = online CPUs):
#   keyfort zone sign   --threads N (its default, given explicitly); keys as PEM files or
#                       pkcs11: URIs with pin-source
#   ldns-signzone 1.8   single-threaded, no speed options. peers.sh: -o -f -i -e, KSK and ZSK
#   dnssec-signzone 9.18  -n N worker threads (also its default), from peers.sh (PEERS_THREADS=N).
#                       peers.sh: -P (no post-signing verify), -x, -N keep, -O full, -s -e, -k KSK
#   kzonesign 3.2       policy signing-threads: N (Knot's default is 1), from peers.sh
#                       (PEERS_THREADS=N); the shims check both thread settings are there.
#                       background-workers sizes knotd's worker pool only: kzonesign does not use
#                       it. zone adjust-threads (default 1) speeds up NSEC3 adjusting only; this
#                       zone is NSEC. peers.sh: manual keys, -t shifted so that the inception
#                       lands exactly, rrsig-lifetime up to the expiration.
# Verifiers, on the same input (the zone keyfort signed with PEM keys that round):
#   keyfort zone verify --threads N      ldns-verify-zone (single-threaded, no options)
#   dnssec-verify -x (single-threaded; 9.18 has no thread option)
#   kzonecheck -d on (no thread option, but Knot 3.2 validates on threads of its own: 3 threads,
#                       CPU time above wall time)
#   kzonesign -v with signing-threads: N: Knot's parallel validator, an extra row so that the
#                       fastest peer verifier really is the fastest Knot has
# Validity: every signer gets inception = start - 1 h, expiration = start + 30 days
# (YYYYMMDDHHMMSS), fixed for the whole run; all verifiers check at the current time.
#
# The floor: `openssl speed -multi N` (OpenSSL's signatures per second on all CPUs, measured at the
# start under the same load) gives the least time any tool that verifies one signature at a time
# with OpenSSL needs for this zone's RRSIGs. keyfort's verifier runs on the offload engine
# (docs/offload.md), whose IFMA kernels are not bound by it; the report says so.
#
# Targets (per algorithm): keyfort sign (PEM keys) >= 2x faster than the fastest peer signer;
# keyfort verify >= 6x faster than the fastest peer verifier (issue 7; 3x before the engine);
# keyfort's peak RSS no higher than the lightest peer's (sign and verify separately). The SoftHSM
# row is information only.
#
# Exit: 0 once it has run (FAIL lines are findings, not errors); 2 on bad usage or when the setup
# fails (a tool missing, key import, token); 1 on an unexpected internal error.
set -euo pipefail

readonly SELF=${0##*/}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
readonly HERE ROOT
readonly PEERS="$ROOT/tests/dnssec/peers.sh"
readonly GEN="$HERE/gen_zone.sh"
readonly ORIGIN="bench.example."
readonly TIME_BIN=/usr/bin/time
readonly TIME_FMT='%e %U %S %M'

usage() {
    cat >&2 <<EOF
usage: $SELF [--rounds N] [--deleg N] [--a N] [--alg p256|rsa|all] [--keyfort PATH] [--no-crosscheck]

  --rounds N        measured rounds per tool (default 3); the tables show medians
  --deleg N         delegations in the zone (default 100000)
  --a N             A-record names in the zone (default 10000)
  --alg A           p256, rsa (RSA-2048) or all (default)
  --keyfort PATH    the keyfort binary (default: build/tools/keyfort/keyfort)
  --no-crosscheck   skip the check that every verifier accepts every signer's output
EOF
    exit 2
}

setup_fail() {
    echo "$SELF: setup failed: $*" >&2
    exit 2
}

# ---------------------------------------------------------------- options

rounds=3 n_deleg=100000 n_a=10000 alg_opt=all crosscheck=1
keyfort="$ROOT/build/tools/keyfort/keyfort"
cmdline="perf/$SELF${*:+ $*}"
while (($#)); do
    case $1 in
    --rounds) (($# >= 2)) || usage; rounds=$2; shift ;;
    --deleg) (($# >= 2)) || usage; n_deleg=$2; shift ;;
    --a) (($# >= 2)) || usage; n_a=$2; shift ;;
    --alg) (($# >= 2)) || usage; alg_opt=$2; shift ;;
    --keyfort) (($# >= 2)) || usage; keyfort=$2; shift ;;
    --no-crosscheck) crosscheck=0 ;;
    -h | --help) usage ;;
    *) echo "$SELF: unknown option '$1'" >&2; usage ;;
    esac
    shift
done
[[ $rounds =~ ^[1-9][0-9]*$ ]] || { echo "$SELF: bad --rounds '$rounds'" >&2; usage; }
[[ $n_deleg =~ ^[0-9]+$ ]] || { echo "$SELF: bad --deleg '$n_deleg'" >&2; usage; }
[[ $n_a =~ ^[0-9]+$ ]] || { echo "$SELF: bad --a '$n_a'" >&2; usage; }
case $alg_opt in
p256) ALGS=(13) ;;
rsa) ALGS=(8) ;;
all) ALGS=(13 8) ;;
*) echo "$SELF: bad --alg '$alg_opt' (p256, rsa or all)" >&2; usage ;;
esac

alg_label() { case $1 in 13) echo P-256 ;; 8) echo RSA-2048 ;; esac; }
alg_short() { case $1 in 13) echo p256 ;; 8) echo rsa ;; esac; }

# ---------------------------------------------------------------- checks

[[ -x $keyfort ]] || setup_fail "no keyfort binary at $keyfort (build it, or give --keyfort PATH)"
keyfort=$(realpath -- "$keyfort")
[[ -x $TIME_BIN ]] || setup_fail "$TIME_BIN is missing: apt-get install time (scripts/deps.sh)"
[[ -r $PEERS ]] || setup_fail "$PEERS is missing"
[[ -x $GEN ]] || setup_fail "$GEN is missing or not executable"
for c in openssl python3 awk ldns-signzone ldns-verify-zone dnssec-signzone dnssec-verify \
    kzonesign kzonecheck keymgr; do
    command -v "$c" >/dev/null 2>&1 || setup_fail "$c is not installed (scripts/deps.sh installs it)"
done
NCPU=$(nproc)
REAL_LDNS_SIGNZONE=$(command -v ldns-signzone)
REAL_DNSSEC_SIGNZONE=$(command -v dnssec-signzone)
REAL_KZONESIGN=$(command -v kzonesign)
readonly NCPU REAL_LDNS_SIGNZONE REAL_DNSSEC_SIGNZONE REAL_KZONESIGN

# ---------------------------------------------------------------- temp dir

TMP=""
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
    if [[ -n $TMP ]]; then
        rm -rf -- "$TMP"
    fi
}
trap cleanup EXIT
trap 'echo "$SELF: interrupted" >&2; exit 130' INT
trap 'exit 143' TERM
TMP=$(mktemp -d "${TMPDIR:-/tmp}/bench_zone.XXXXXX")
mkdir -p "$TMP/tmp" "$TMP/keys" "$TMP/out" "$TMP/log" "$TMP/shim" "$TMP/kzv" "$TMP/hsm/tokens"
# peers.sh makes its own work directories with mktemp: keep them inside ours.
export TMPDIR="$TMP/tmp"

# ---------------------------------------------------------------- shims

# Each shim runs the real peer tool under /usr/bin/time, writing to $BENCH_TIMING, so that only
# the tool is measured; peers.sh itself (key lookup, zone copies) is not.
cat >"$TMP/shim/ldns-signzone" <<EOF
#!/usr/bin/env bash
exec $TIME_BIN -f '$TIME_FMT' -o "\$BENCH_TIMING" $REAL_LDNS_SIGNZONE "\$@"
EOF
# dnssec-signzone and kzonesign: peers.sh passes the thread count (PEERS_THREADS, set below); the
# shims refuse to run when it did not, so a change there cannot quietly slow a peer down.
cat >"$TMP/shim/dnssec-signzone" <<EOF
#!/usr/bin/env bash
if [[ " \$* " != *" -n $NCPU "* ]]; then
    echo "bench_zone.sh shim: peers.sh did not pass -n $NCPU to dnssec-signzone: \$*" >&2
    exit 1
fi
exec $TIME_BIN -f '$TIME_FMT' -o "\$BENCH_TIMING" $REAL_DNSSEC_SIGNZONE "\$@"
EOF
cat >"$TMP/shim/kzonesign" <<EOF
#!/usr/bin/env bash
prev=""
for a in "\$@"; do
    if [[ \$prev == -c ]] && ! grep -q -x '    signing-threads: $NCPU' "\$a"; then
        echo "bench_zone.sh shim: the knot.conf from peers.sh has no signing-threads: $NCPU (\$a)" >&2
        exit 1
    fi
    prev=\$a
done
exec $TIME_BIN -f '$TIME_FMT' -o "\$BENCH_TIMING" $REAL_KZONESIGN "\$@"
EOF
chmod +x "$TMP/shim/"*

# ---------------------------------------------------------------- header

cpu_model=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo)
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
kf_version=$("$keyfort" --version 2>&1 | head -n1) || setup_fail "$keyfort --version failed"
# Build trees are shared: note which binary this was, and whether a rebuild replaced it mid-run.
kf_id() { echo "sha256 $(sha256sum <"$keyfort" | cut -c1-12), built $(date -u -r "$keyfort" '+%F %T') UTC"; }
kf_id_start=$(kf_id)
# The build type: from `keyfort --version` when it says, else the CMakeCache.txt of its build tree.
kf_build=""
d=$(dirname -- "$keyfort")
for _ in 1 2 3 4; do
    if [[ -f $d/CMakeCache.txt ]]; then
        bt=$(sed -n 's/^CMAKE_BUILD_TYPE:STRING=//p' "$d/CMakeCache.txt")
        flags=$(sed -n "s/^CMAKE_C_FLAGS_${bt^^}:STRING=//p" "$d/CMakeCache.txt")
        san=$(sed -n 's/^KEYFORT_SANITIZE:BOOL=//p' "$d/CMakeCache.txt")
        kf_build="${bt:-none} (${flags:-no flags}), sanitizers ${san:-unknown} ($d/CMakeCache.txt)"
        if [[ $flags != *-O[23s]* || $san == ON ]]; then
            kf_build+="; WARNING: not an optimised build without sanitizers, keyfort's numbers mean little"
        fi
        break
    fi
    d=$(dirname -- "$d")
done
if [[ $kf_version == *RelWithDebInfo* || $kf_version == *Release* || $kf_version == *Debug* ]]; then
    kf_build="as keyfort --version says"
fi
peer_versions=$(bash "$PEERS" version 2>&1 | paste -sd';' | sed 's/;/; /g') ||
    setup_fail "peers.sh version: $peer_versions"

# The crypto floor: OpenSSL's sign/s and verify/s on all CPUs.
declare -A SPEED=()
speed_out=$(openssl speed -seconds 1 -multi "$NCPU" ecdsap256 rsa2048 2>/dev/null) ||
    setup_fail "openssl speed failed"
SPEED[13]=$(awk '/ecdsa \(nistp256\)/ { print $(NF - 1), $NF }' <<<"$speed_out")
SPEED[8]=$(awk '/^rsa 2048 bits/ { print $(NF - 1), $NF }' <<<"$speed_out")

# ---------------------------------------------------------------- zone and keys

"$GEN" "$ORIGIN" "$n_deleg" "$n_a" >"$TMP/unsigned.zone" || setup_fail "gen_zone.sh failed"
zone_lines=$(wc -l <"$TMP/unsigned.zone")
nsec_names=$((3 + n_deleg + n_a))
# RRSIGs: apex SOA, NS, DNSKEY, NSEC; A and NSEC of ns1/ns2; NSEC of each delegation (NS and glue
# are not signed); A and NSEC of each A name. The comparability table counts them in the outputs.
n_sigs=$((8 + n_deleg + 2 * n_a))

start=$(date -u +%s)
INCEPTION=$(date -u -d "@$((start - 3600))" +%Y%m%d%H%M%S)
EXPIRATION=$(date -u -d "@$((start + 30 * 86400))" +%Y%m%d%H%M%S)
readonly INCEPTION EXPIRATION

# setup_step LOG CMD...: run a setup command; on failure show its output and exit 2.
setup_step() {
    local log=$1
    shift
    if ! "$@" >"$log" 2>&1; then
        sed 's/^/    /' "$log" >&2
        setup_fail "$*"
    fi
}

echo "# setting up: zone of $zone_lines lines, keys, key import, SoftHSM token ..." >&2
for alg in "${ALGS[@]}"; do
    a=$(alg_short "$alg")
    for role in ksk zsk; do
        if [[ $alg == 13 ]]; then
            setup_step "$TMP/log/genpkey" openssl genpkey -algorithm EC \
                -pkeyopt ec_paramgen_curve:P-256 -out "$TMP/keys/$a-$role.pem"
        else
            setup_step "$TMP/log/genpkey" openssl genpkey -algorithm RSA \
                -pkeyopt rsa_keygen_bits:2048 -out "$TMP/keys/$a-$role.pem"
        fi
    done
    for tool in ldns bind knot; do
        setup_step "$TMP/log/import" bash "$PEERS" import-pem "$tool" "$ORIGIN" "$alg" \
            "$TMP/keys/$a-ksk.pem" "$TMP/keys/$a-zsk.pem" "$TMP/keys/$a-$tool"
    done
done

# The throw-away token. PIN files without a newline.
export SOFTHSM2_CONF="$TMP/hsm/softhsm2.conf"
printf 'directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n' \
    "$TMP/hsm/tokens" >"$SOFTHSM2_CONF"
printf '%s' 87654321 >"$TMP/hsm/so.pin"
printf '%s' 1234 >"$TMP/hsm/user.pin"
setup_step "$TMP/log/token" "$keyfort" token init --label bench \
    --so-pin-file "$TMP/hsm/so.pin" --pin-file "$TMP/hsm/user.pin"
for alg in "${ALGS[@]}"; do
    a=$(alg_short "$alg")
    for role in ksk zsk; do
        setup_step "$TMP/log/keygen" "$keyfort" key gen --type "$([[ $alg == 13 ]] && echo p256 || echo rsa2048)" \
            --label "$a-$role" --pin-file "$TMP/hsm/user.pin" 'pkcs11:token=bench'
    done
done
hsm_uri() { echo "pkcs11:token=bench;object=$1;type=private?pin-source=$TMP/hsm/user.pin"; }

# ---------------------------------------------------------------- measuring

# Results: RES_W/RES_C/RES_M["alg:phase:tool"] = space-separated wall s, CPU s, peak RSS KiB per
# round; RES_FAIL[...] = how the last failed run ended; LAST_W = wall of the latest run.
declare -A RES_W=() RES_C=() RES_M=() RES_FAIL=() LAST_W=() RATIOS=()

# parse_time FILE KEY RC: record the /usr/bin/time numbers of one run.
parse_time() {
    local f=$1 key=$2 rc=$3 wall user sys rss
    if [[ ! -s $f ]]; then
        RES_FAIL[$key]="no timing (exit $rc)"
        return 1
    fi
    # /usr/bin/time puts "Command exited with non-zero status N" before the numbers.
    read -r wall user sys rss < <(tail -n1 "$f")
    if ((rc != 0)); then
        RES_FAIL[$key]="$(head -n1 "$f" | sed 's/^Command //') (exit $rc)"
        return 1
    fi
    RES_W[$key]+="$wall "
    RES_C[$key]+="$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.2f", u + s }') "
    RES_M[$key]+="$rss "
    LAST_W[$key]=$wall
}

# fail_log KEY LOG: a measured run failed: say so with its output; the run goes on.
fail_log() {
    echo "$SELF: $1 failed: ${RES_FAIL[$1]}" >&2
    tail -n 20 "$2" | sed 's/^/    /' >&2
}

sign_out() { echo "$TMP/out/$(alg_short "$1")-$2.zone"; }

# sign ALG TOOL: one measured signing run; the output goes to sign_out ALG TOOL.
sign() {
    local alg=$1 tool=$2 a out key tf log rc=0
    a=$(alg_short "$alg")
    out=$(sign_out "$alg" "$tool")
    key="$alg:sign:$tool" tf="$TMP/time.txt" log="$TMP/log/sign-$a-$tool"
    rm -f -- "$tf" "$out"
    case $tool in
    kf)
        "$TIME_BIN" -f "$TIME_FMT" -o "$tf" "$keyfort" zone sign -o "$ORIGIN" \
            --ksk "$TMP/keys/$a-ksk.pem" --zsk "$TMP/keys/$a-zsk.pem" \
            --inception "$INCEPTION" --expiration "$EXPIRATION" --threads "$NCPU" \
            "$TMP/unsigned.zone" -f "$out" >"$log" 2>&1 || rc=$?
        ;;
    kfhsm)
        "$TIME_BIN" -f "$TIME_FMT" -o "$tf" "$keyfort" zone sign -o "$ORIGIN" \
            --ksk "$(hsm_uri "$a-ksk")" --zsk "$(hsm_uri "$a-zsk")" \
            --inception "$INCEPTION" --expiration "$EXPIRATION" --threads "$NCPU" \
            "$TMP/unsigned.zone" -f "$out" >"$log" 2>&1 || rc=$?
        ;;
    ldns | bind | knot)
        BENCH_TIMING=$tf PEERS_THREADS=$NCPU PATH="$TMP/shim:$PATH" bash "$PEERS" sign "$tool" "$ORIGIN" \
            "$TMP/unsigned.zone" "$out" "$TMP/keys/$a-$tool" \
            --inception "$INCEPTION" --expiration "$EXPIRATION" >"$log" 2>&1 || rc=$?
        ;;
    esac
    parse_time "$tf" "$key" "$rc" || { fail_log "$key" "$log"; return 1; }
}

# verify_cmd TOOL ZONE: print nothing, set VCMD to the verifier's command line.
verify_cmd() {
    local tool=$1 zone=$2
    case $tool in
    kf) VCMD=("$keyfort" zone verify -o "$ORIGIN" --threads "$NCPU" "$zone") ;;
    ldns) VCMD=(ldns-verify-zone "$zone") ;;
    bind) VCMD=(dnssec-verify -x -o "$ORIGIN" "$zone") ;;
    knot) VCMD=(kzonecheck -o "$ORIGIN" -d on "$zone") ;;
    knotv)
        rm -rf -- "$TMP/kzv"
        mkdir -p "$TMP/kzv"
        cat >"$TMP/kzv/knot.conf" <<EOF
server:
    rundir: "$TMP/kzv"
database:
    storage: "$TMP/kzv"
    kasp-db: "$TMP/kzv/kasp"
    journal-db: "$TMP/kzv/journal"
    timer-db: "$TMP/kzv/timers"
log:
  - target: stderr
    any: warning
policy:
  - id: verify
    signing-threads: $NCPU
zone:
  - domain: "$ORIGIN"
    file: "$zone"
    dnssec-policy: verify
    adjust-threads: $NCPU
    journal-content: none
    zonefile-load: whole
EOF
        VCMD=(kzonesign -c "$TMP/kzv/knot.conf" -v "$ORIGIN")
        ;;
    esac
}

# verify ALG TOOL ZONE [untimed]: one verifier run; measured unless a 4th argument is given.
# Returns the verifier's status.
verify() {
    local alg=$1 tool=$2 zone=$3 key tf log rc=0
    key="$alg:verify:$tool" tf="$TMP/time.txt" log="$TMP/log/verify-$alg-$tool"
    verify_cmd "$tool" "$zone"
    rm -f -- "$tf"
    "$TIME_BIN" -f "$TIME_FMT" -o "$tf" "${VCMD[@]}" >"$log" 2>&1 || rc=$?
    if (($# > 3)); then
        ((rc == 0)) || tail -n 8 "$log" | sed "s|^|    $tool: |" >"$TMP/log/reject-$alg-$tool-${zone##*/}"
        return "$rc"
    fi
    parse_time "$tf" "$key" "$rc" || { fail_log "$key" "$log"; return 1; }
}

SIGNERS=(kf ldns bind knot kfhsm)
VERIFIERS=(kf ldns bind knot knotv)
declare -A NAME=(
    [sign:kf]="keyfort" [sign:kfhsm]="keyfort SoftHSM" [sign:ldns]="ldns-signzone"
    [sign:bind]="dnssec-signzone" [sign:knot]="kzonesign"
    [verify:kf]="keyfort verify" [verify:ldns]="ldns-verify-zone" [verify:bind]="dnssec-verify"
    [verify:knot]="kzonecheck" [verify:knotv]="kzonesign -v"
)
declare -A SETTING=(
    [sign:kf]="PEM keys, --threads $NCPU" [sign:kfhsm]="SoftHSM2 token, --threads $NCPU"
    [sign:ldns]="single-threaded" [sign:bind]="-n $NCPU" [sign:knot]="signing-threads $NCPU"
    [verify:kf]="--threads $NCPU" [verify:ldns]="single-threaded" [verify:bind]="single-threaded"
    [verify:knot]="own threads, no option" [verify:knotv]="signing-threads $NCPU"
)

# zone_facts FILE: "RRSIG NSEC DNSKEY windows first-window" of a signed zone (any of the tools'
# text formats: owner ttl [class] type rdata, one record per line).
zone_facts() {
    awk '$1 !~ /^;/ && $1 !~ /^\$/ {
            for (i = 2; i <= 4 && i <= NF; i++)
                if ($i == "RRSIG" || $i == "NSEC" || $i == "DNSKEY") {
                    n[$i]++
                    if ($i == "RRSIG") { w = $(i + 6) "-" $(i + 5); if (!(w in win)) { win[w] = 1; nw++; fw = w } }
                    break
                }
         }
         END { print n["RRSIG"] + 0, n["NSEC"] + 0, n["DNSKEY"] + 0, nw + 0, fw }' "$1"
}

declare -A CROSS=() FACTS=()

# crosscheck ALG: round-1 outputs of every signer through every verifier.
crosscheck() {
    local alg=$1 s v z
    for s in "${SIGNERS[@]}"; do
        z=$(sign_out "$alg" "$s")
        if [[ ! -s $z ]]; then
            FACTS[$alg:$s]="no output"
            continue
        fi
        FACTS[$alg:$s]=$(zone_facts "$z")
        for v in "${VERIFIERS[@]}"; do
            if [[ $s == kf && -n ${CROSS[$alg:$s:$v]:-} ]]; then
                continue # measured already this round
            fi
            echo "#   crosscheck $(alg_label "$alg"): ${NAME[verify:$v]} on ${NAME[sign:$s]}'s zone" >&2
            if verify "$alg" "$v" "$z" untimed; then CROSS[$alg:$s:$v]=ok; else CROSS[$alg:$s:$v]=REJECT; fi
        done
    done
}

echo "# measuring: $rounds round(s); the peers take tens of seconds per run at full size" >&2
for ((r = 1; r <= rounds; r++)); do
    for alg in "${ALGS[@]}"; do
        order_s=("${SIGNERS[@]}") order_v=("${VERIFIERS[@]}")
        if ((r % 2 == 0)); then
            order_s=() order_v=()
            for ((i = ${#SIGNERS[@]} - 1; i >= 0; i--)); do order_s+=("${SIGNERS[i]}"); done
            for ((i = ${#VERIFIERS[@]} - 1; i >= 0; i--)); do order_v+=("${VERIFIERS[i]}"); done
        fi
        for t in "${order_s[@]}"; do
            echo "# round $r/$rounds $(alg_label "$alg"): sign with ${NAME[sign:$t]}" >&2
            sign "$alg" "$t" || true
        done
        kz=$(sign_out "$alg" kf)
        if [[ -s $kz ]]; then
            for t in "${order_v[@]}"; do
                echo "# round $r/$rounds $(alg_label "$alg"): verify with ${NAME[verify:$t]}" >&2
                if verify "$alg" "$t" "$kz"; then
                    ((r == 1)) && CROSS[$alg:kf:$t]=ok
                else
                    ((r == 1)) && CROSS[$alg:kf:$t]=REJECT
                fi
            done
        fi
        # This round's fastest-peer / keyfort, for the spread.
        for phase in sign verify; do
            if [[ $phase == sign ]]; then peers=(ldns bind knot); else peers=(ldns bind knot knotv); fi
            kw=${LAST_W[$alg:$phase:kf]:-}
            best=""
            for p in "${peers[@]}"; do
                pw=${LAST_W[$alg:$phase:$p]:-}
                [[ -n $pw ]] || continue
                if [[ -z $best ]] || awk -v a="$pw" -v b="$best" 'BEGIN { exit !(a < b) }'; then best=$pw; fi
            done
            if [[ -n $kw && -n $best ]]; then
                RATIOS[$alg:$phase]+="$(awk -v p="$best" -v k="$kw" 'BEGIN { printf "%.2f (%.2f/%.2f s)", (k > 0 ? p / k : 0), p, k }') "
            fi
            unset "LAST_W[$alg:$phase:kf]"
            for p in "${peers[@]}"; do unset "LAST_W[$alg:$phase:$p]"; done
        done
        if ((r == 1 && crosscheck)); then
            crosscheck "$alg"
        fi
    done
done
load_end=$(cut -d' ' -f1-3 /proc/loadavg)
kf_id_end=$(kf_id)

# ---------------------------------------------------------------- report

median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { if (NR == 0) print ""; else if (NR % 2) print a[(NR + 1) / 2]; else printf "%.2f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
maxof() { printf '%s\n' "$@" | sort -g | tail -n1; }

echo "keyfort bench_zone: sign and verify a zone with keyfort, ldns, BIND and Knot (same keys, same validity window)"
echo "cpu:      ${cpu_model:-unknown} ($NCPU online CPUs)"
echo "load:     $load_start at start, $load_end at end (loadavg; other work on the machine adds noise)"
echo "keyfort:  $keyfort: $kf_version; $kf_id_start"
if [[ $kf_id_end != "$kf_id_start" ]]; then
    echo "WARNING:  the keyfort binary changed during the run (now $kf_id_end): the rounds mix builds, run again"
fi
echo "build:    ${kf_build:-unknown (no build type in --version, no CMakeCache.txt near the binary)}"
echo "peers:    $peer_versions"
echo "zone:     $ORIGIN $n_deleg delegations + $n_a A names ($zone_lines lines, $nsec_names names in the NSEC chain), NSEC"
echo "sigs:     $n_sigs RRSIGs per signed zone"
echo "validity: $INCEPTION - $EXPIRATION for every signer; verified at the current time"
echo "rounds:   $rounds, order reversed every other round; times are medians, RSS the peak over rounds"
echo "command:  $cmdline"

declare -A VERDICT=() NEED=()
# print_cols CELL...: the matrix cells of one line, 16 wide, no trailing blanks.
print_cols() {
    while (($# > 1)); do printf ' %-16s' "$1"; shift; done
    printf ' %s\n' "$1"
}
for alg in "${ALGS[@]}"; do
    echo
    echo "== $(alg_label "$alg") (algorithm $alg): sign"
    for phase in sign verify; do
        if [[ $phase == verify ]]; then
            echo
            echo "== $(alg_label "$alg") (algorithm $alg): verify the zone keyfort signed"
            tools=("${VERIFIERS[@]}") peers=(ldns bind knot knotv)
        else
            tools=("${SIGNERS[@]}") peers=(ldns bind knot)
        fi
        printf '%-17s %8s %8s %8s %9s  %s\n' tool "$phase s" "cpu s" "RSS MB" "x keyfort" settings
        kw=""
        if [[ -n ${RES_W[$alg:$phase:kf]:-} ]]; then
            # shellcheck disable=SC2086 # a word list
            kw=$(median ${RES_W[$alg:$phase:kf]})
        fi
        declare -A MW=() MR=()
        for t in "${tools[@]}"; do
            k="$alg:$phase:$t"
            if [[ -z ${RES_W[$k]:-} ]]; then
                printf '%-17s %8s %8s %8s %9s  %s\n' "${NAME[$phase:$t]}" failed - - - \
                    "${SETTING[$phase:$t]}; ${RES_FAIL[$k]:-not run}"
                continue
            fi
            # shellcheck disable=SC2086 # word lists
            MW[$t]=$(median ${RES_W[$k]})
            # shellcheck disable=SC2086
            MR[$t]=$(maxof ${RES_M[$k]})
            # shellcheck disable=SC2086
            cw=$(median ${RES_C[$k]})
            x=-
            [[ -n $kw ]] && x=$(awk -v a="${MW[$t]}" -v b="$kw" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
            note="${SETTING[$phase:$t]}"
            [[ -n ${RES_FAIL[$k]:-} ]] && note+="; a run failed: ${RES_FAIL[$k]}"
            printf '%-17s %8.2f %8.2f %8.1f %9s  %s\n' "${NAME[$phase:$t]}" "${MW[$t]}" "$cw" \
                "$(awk -v m="${MR[$t]}" 'BEGIN { print m / 1024 }')" "$x" "$note"
        done
        # Verdicts. Fastest peer by median wall time, lightest by peak RSS.
        target=2
        [[ $phase == verify ]] && target=6
        fast="" light=""
        for p in "${peers[@]}"; do
            [[ -n ${MW[$p]:-} ]] || continue
            if [[ -z $fast ]] || awk -v a="${MW[$p]}" -v b="${MW[$fast]}" 'BEGIN { exit !(a < b) }'; then fast=$p; fi
            if [[ -z $light ]] || ((MR[$p] < MR[$light])); then light=$p; fi
        done
        if [[ -z $kw || -z $fast ]]; then
            VERDICT[$alg:$phase]="FAIL  $phase: keyfort or every peer failed, no ratio"
            VERDICT[$alg:$phase:mem]="FAIL  $phase memory: no data"
        else
            ratio=$(awk -v p="${MW[$fast]}" -v k="$kw" 'BEGIN { printf "%.2f", (k > 0 ? p / k : 0) }')
            ok=$(awk -v r="$ratio" -v t="$target" 'BEGIN { print (r >= t ? "PASS" : "FAIL") }')
            rr=${RATIOS[$alg:$phase]:-n/a}
            rr=${rr% }
            NEED[$alg:$phase]=$(awk -v p="${MW[$fast]}" -v t="$target" 'BEGIN { printf "%.2f", p / t }')
            VERDICT[$alg:$phase]="$ok  $phase speed: fastest peer ${NAME[$phase:$fast]} ${MW[$fast]} s / keyfort $kw s = ${ratio}x (target >= ${target}x; per round: $rr)"
            ok=PASS
            ((MR[kf] <= MR[$light])) || ok=FAIL
            VERDICT[$alg:$phase:mem]="$ok  $phase memory: keyfort $(awk -v m="${MR[kf]}" 'BEGIN { printf "%.1f", m / 1024 }') MB peak RSS vs lightest peer ${NAME[$phase:$light]} $(awk -v m="${MR[$light]}" 'BEGIN { printf "%.1f", m / 1024 }') MB (target: no more)"
        fi
        unset MW MR
    done

    if ((crosscheck)); then
        echo
        echo "== $(alg_label "$alg"): comparability (round 1 outputs)"
        printf '%-17s %8s %7s %7s  %-31s' signer RRSIG NSEC DNSKEY "RRSIG validity"
        cols=()
        for v in "${VERIFIERS[@]}"; do cols+=("${NAME[verify:$v]}"); done
        print_cols "${cols[@]}"
        same=1 allok=1 ref=""
        for s in "${SIGNERS[@]}"; do
            f=${FACTS[$alg:$s]:-no output}
            if [[ $f == "no output" ]]; then
                printf '%-17s %s\n' "${NAME[sign:$s]}" "no output"
                same=0 allok=0
                continue
            fi
            read -r nr nn nk nw fw <<<"$f"
            win=$fw
            ((nw == 1)) || win="$nw different windows"
            [[ $fw == "$INCEPTION-$EXPIRATION" && $nw == 1 ]] || same=0
            [[ -z $ref ]] && ref="$nr $nn $nk"
            [[ "$nr $nn $nk" == "$ref" ]] || same=0
            printf '%-17s %8s %7s %7s  %-31s' "${NAME[sign:$s]}" "$nr" "$nn" "$nk" "$win"
            cols=()
            for v in "${VERIFIERS[@]}"; do
                c=${CROSS[$alg:$s:$v]:-n/a}
                [[ $c == ok ]] || allok=0
                cols+=("$c")
            done
            print_cols "${cols[@]}"
        done
        if ((same)); then
            VERDICT[$alg:same]="PASS  comparable: every signer wrote the same RRSIG/NSEC/DNSKEY counts, all RRSIGs $INCEPTION-$EXPIRATION"
        else
            VERDICT[$alg:same]="FAIL  comparable: the signers' outputs differ in record counts or validity (table above)"
        fi
        if ((allok)); then
            VERDICT[$alg:cross]="PASS  interop: every verifier accepted every signer's zone (${#SIGNERS[@]} x ${#VERIFIERS[@]})"
        else
            VERDICT[$alg:cross]="FAIL  interop: a verifier rejected a zone (REJECT above; messages below)"
        fi
    fi
    echo
    for v in sign sign:mem verify verify:mem same cross; do
        if [[ -n ${VERDICT[$alg:$v]:-} ]]; then echo "${VERDICT[$alg:$v]}"; fi
    done
    read -r sps vps <<<"${SPEED[$alg]:-0 0}"
    awk -v n="$n_sigs" -v s="$sps" -v v="$vps" -v c="$NCPU" -v ns="${NEED[$alg:sign]:-}" \
        -v nv="${NEED[$alg:verify]:-}" 'BEGIN {
            if (s <= 0 || v <= 0) { print "floor: openssl speed gave no numbers"; exit }
            fs = n / s; fv = n / v
            printf "floor: openssl speed -multi %d: %.0f sign/s, %.0f verify/s: %d RRSIGs need >= %.2f s to sign, >= %.2f s to verify\n", c, s, v, n, fs, fv
            if (ns != "") printf "       the sign target asks keyfort for <= %.2f s%s\n", ns, (ns < fs ? ": below the floor, out of reach on this machine" : "")
            if (nv != "") printf "       the verify target asks keyfort for <= %.2f s%s\n", nv, (nv < fv ? ": below the one-at-a-time floor (keyfort verifies on the offload engine, not bound by it)" : "")
        }'
    shopt -s nullglob
    for f in "$TMP/log/reject-$alg-"*; do
        echo "rejected: ${f##*/reject-"$alg"-}"
        cat "$f"
    done
    shopt -u nullglob
done
exit 0
