#!/usr/bin/env bash
# peers.sh: drive the peer DNSSEC implementations (ldns, BIND, Knot) so that
# keyfort's `zone sign` / `zone verify` can be cross-checked against them.
# See tests/dnssec/README.md for the options chosen and why.
#
# Everything happens inside the directories given on the command line or in a
# private mktemp directory removed on exit: no /etc, no system services, no
# daemons (Knot is driven through kzonesign/keymgr with a knot.conf in DIR).
set -euo pipefail

readonly SELF=${0##*/}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
readonly HERE
readonly PEM2BIND="$HERE/pem2bind.py"

# Knot sets every RRSIG inception 90 minutes before its notion of "now"
# (knot.conf(5), rrsig-lifetime); we shift "now" by this much to hit an
# exact inception.
readonly KNOT_INCEPT_IN_PAST=5400
# Signing threads for the signers that have them (BIND -n, Knot
# signing-threads; ldns-signzone is single-threaded). Default: all CPUs,
# which is dnssec-signzone's own default; PEERS_THREADS overrides.
THREADS=${PEERS_THREADS:-$(nproc 2>/dev/null || echo 1)}
[[ $THREADS =~ ^[1-9][0-9]*$ ]] || { echo "${0##*/}: bad PEERS_THREADS '$THREADS'" >&2; exit 2; }
readonly THREADS
# RSA modulus size for generated keys: ldns-keygen defaults to 1024 bits,
# BIND to 2048; pin one value for all.
readonly RSA_BITS=2048

usage() {
    cat >&2 <<EOF
usage: $SELF keygen TOOL ALG ORIGIN DIR
       $SELF import-pem TOOL ORIGIN ALG KSK.pem ZSK.pem DIR
       $SELF sign TOOL ORIGIN IN.zone OUT.zone DIR
                  [--nsec3 [--salt HEX] [--iterations N] [--opt-out]]
                  [--inception YYYYMMDDHHMMSS --expiration YYYYMMDDHHMMSS]
       $SELF verify TOOL ORIGIN SIGNED.zone [--time YYYYMMDDHHMMSS]
       $SELF version

TOOL is ldns, bind or knot. ALG is 8, 10, 13, 14, 15 or 16 (all three tools
take all six). ldns and bind share BIND-format key files
(K<origin>+<alg>+<tag>.key/.private), so a DIR made for one can be signed with
the other; knot keeps a KASP database and knot.conf in DIR. Times are UTC.
verify bind cannot honour --time (dnssec-verify has no such option): it checks
at the current time and says so on stderr.
Exit status: 0 success (verify: the zone is valid), 1 failure, 2 usage.
PEERS_THREADS sets the signing threads of bind and knot (default: all CPUs).
EOF
    exit 2
}

die() {
    echo "$SELF: $*" >&2
    exit 1
}

# ---------------------------------------------------------------- helpers

WORK=""
cleanup() {
    if [[ -n $WORK ]]; then
        rm -rf -- "$WORK"
    fi
}
trap cleanup EXIT
make_work() {
    WORK=$(mktemp -d "${TMPDIR:-/tmp}/peers.XXXXXX")
}

# run TOOL-NAME FILE CMD...: run a peer command with its output in a log;
# on failure name the tool and the file it worked on and show the output.
run() {
    local name=$1 file=$2
    shift 2
    local log="$WORK/log.$BASHPID" rc=0
    "$@" >"$log" 2>&1 || rc=$?
    if ((rc != 0)); then
        echo "$SELF: $name failed on $file (exit $rc): $*" >&2
        sed 's/^/    /' "$log" >&2
        exit 1
    fi
    cat "$log"
}

need_cmd() {
    command -v "$1" >/dev/null 2>&1 || die "$1 is not installed (needed for $2)"
}

abspath() {
    # realpath -m: the file may not exist yet (outputs).
    realpath -m -- "$1"
}

check_tool() {
    case $1 in
    ldns | bind | knot) ;;
    *) die "unknown TOOL '$1' (expected ldns, bind or knot)" ;;
    esac
}

alg_name() {
    case $1 in
    8) echo RSASHA256 ;;
    10) echo RSASHA512 ;;
    13) echo ECDSAP256SHA256 ;;
    14) echo ECDSAP384SHA384 ;;
    15) echo ED25519 ;;
    16) echo ED448 ;;
    *) die "unsupported algorithm '$1' (expected 8, 10, 13, 14, 15 or 16)" ;;
    esac
}

# Zone names are handled fully qualified, with the trailing dot.
fqdn() {
    local o=$1
    [[ -n $o ]] || die "empty ORIGIN"
    [[ $o == *. ]] || o="$o."
    echo "$o"
}

check_time() {
    [[ $1 =~ ^[0-9]{14}$ ]] || die "bad time '$1' for $2 (expected YYYYMMDDHHMMSS, UTC)"
}

# YYYYMMDDHHMMSS (UTC) -> seconds since the epoch: kzonesign -t only takes
# a UNIX timestamp in Knot 3.2.
to_epoch() {
    local t=$1
    date -u -d "${t:0:4}-${t:4:2}-${t:6:2} ${t:8:2}:${t:10:2}:${t:12:2}" +%s
}

# Find the KSK and ZSK in a directory of BIND-format keys: the only way to
# tell them apart is the SEP bit in the DNSKEY flags (257 vs 256).
# Sets KSK_BASE / ZSK_BASE to absolute paths without extension.
find_bind_keys() {
    local dir=$1 origin=$2 f flags owner
    KSK_BASE="" ZSK_BASE=""
    shopt -s nullglob
    local files=("$dir"/K*.key)
    shopt -u nullglob
    ((${#files[@]} > 0)) || die "no K*.key files in $dir (run keygen or import-pem first)"
    for f in "${files[@]}"; do
        # owner [ttl] [class] DNSKEY flags protocol algorithm key; ';' starts a comment.
        owner="" flags=""
        read -r owner flags < <(awk '!/^[[:space:]]*;/ {
                for (i = 1; i < NF; i++) if (toupper($i) == "DNSKEY") { print $1, $(i + 1); exit } }' "$f") || true
        [[ -n $flags ]] || die "$f holds no DNSKEY record"
        [[ ${owner,,} == "${origin,,}" ]] || die "$f is a key for $owner, not $origin"
        [[ -f ${f%.key}.private ]] || die "${f%.key}.private is missing (private half of $f)"
        case $flags in
        257) [[ -z $KSK_BASE ]] || die "two KSKs in $dir: $KSK_BASE and ${f%.key}"
            KSK_BASE=${f%.key} ;;
        256) [[ -z $ZSK_BASE ]] || die "two ZSKs in $dir: $ZSK_BASE and ${f%.key}"
            ZSK_BASE=${f%.key} ;;
        *) die "$f has DNSKEY flags $flags, expected 256 (ZSK) or 257 (KSK)" ;;
        esac
    done
    [[ -n $KSK_BASE ]] || die "no KSK (flags 257) among the keys in $dir"
    [[ -n $ZSK_BASE ]] || die "no ZSK (flags 256) among the keys in $dir"
}

# Refuse to mix a second key set into DIR: sign expects exactly one KSK and
# one ZSK there.
fresh_dir() {
    local dir=$1
    mkdir -p -- "$dir"
    shopt -s nullglob
    local old=("$dir"/K*.key)
    shopt -u nullglob
    [[ -e $dir/knot.conf ]] && old+=("$dir/knot.conf")
    [[ -e $dir/keys ]] && old+=("$dir/keys")
    ((${#old[@]} == 0)) || die "$dir already holds keys (${old[0]}); use an empty directory"
}

# knot_conf FILE DIR SCRATCH ORIGIN ALG [policy lines...]: a knot.conf for
# offline use. The KASP database lives in DIR/keys; journal, timers and the
# zone file in SCRATCH (the work dir when signing, so signing leaves nothing
# behind but the key store).
# manual: on stops Knot from generating or rolling keys itself: it signs
# with the keys keymgr put in DIR, KSK for DNSKEY and ZSK for the rest.
knot_conf() {
    local conf=$1 dir=$2 scratch=$3 origin=$4 alg=$5
    shift 5
    {
        cat <<EOF
# Written by tests/dnssec/peers.sh: offline signing only, no daemon.
server:
    rundir: "$scratch"
database:
    storage: "$scratch"
    kasp-db: "$dir/keys"
    journal-db: "$scratch/journal"
    timer-db: "$scratch/timers"
log:
  - target: stderr
    any: warning
policy:
  - id: peers
    manual: on
    algorithm: $(alg_name "$alg" | tr '[:upper:]' '[:lower:]')
EOF
        local line
        for line in "$@"; do
            echo "    $line"
        done
        cat <<EOF
template:
  - id: default
    storage: "$scratch"
    dnssec-signing: on
    dnssec-policy: peers
    journal-content: none
    zonefile-load: whole
zone:
  - domain: "$origin"
    file: "$scratch/unsigned.zone"
EOF
    } >"$conf"
}

# Knot key timers: 1 (1970-01-01T00:00:01) makes the key published and
# active at any signing time kzonesign -t may pick (0 would mean "never").
readonly KNOT_TIMERS="created=1 publish=1 ready=1 active=1"

# ---------------------------------------------------------------- keygen

cmd_keygen() {
    (($# == 4)) || usage
    local tool=$1 alg=$2 origin dir
    origin=$(fqdn "$3")
    dir=$(abspath "$4")
    check_tool "$tool"
    local name size=()
    name=$(alg_name "$alg")
    fresh_dir "$dir"
    make_work
    local stage=$WORK/stage
    mkdir "$stage"

    case $tool in
    ldns)
        need_cmd ldns-keygen "keygen ldns"
        [[ $alg == 8 || $alg == 10 ]] && size=(-b "$RSA_BITS")
        # ldns-keygen writes into the current directory and prints the base name.
        (cd "$stage" && run ldns-keygen "$dir" ldns-keygen -a "$name" "${size[@]}" -k "$origin") >/dev/null
        (cd "$stage" && run ldns-keygen "$dir" ldns-keygen -a "$name" "${size[@]}" "$origin") >/dev/null
        # ldns also leaves a .ds file for the KSK; harmless, kept for reference.
        ;;
    bind)
        need_cmd dnssec-keygen "keygen bind"
        [[ $alg == 8 || $alg == 10 ]] && size=(-b "$RSA_BITS")
        run dnssec-keygen "$dir" dnssec-keygen -q -K "$stage" -a "$alg" "${size[@]}" -n ZONE -f KSK "$origin" >/dev/null
        run dnssec-keygen "$dir" dnssec-keygen -q -K "$stage" -a "$alg" "${size[@]}" -n ZONE "$origin" >/dev/null
        ;;
    knot)
        need_cmd keymgr "keygen knot"
        [[ $alg == 8 || $alg == 10 ]] && size=("size=$RSA_BITS")
        knot_conf "$stage/knot.conf" "$stage" "$stage" "$origin" "$alg"
        # shellcheck disable=SC2086 # KNOT_TIMERS is a list of words
        run keymgr "$dir" keymgr -c "$stage/knot.conf" "$origin" generate \
            algorithm="$alg" "${size[@]}" ksk=yes zsk=no $KNOT_TIMERS >/dev/null
        # shellcheck disable=SC2086
        run keymgr "$dir" keymgr -c "$stage/knot.conf" "$origin" generate \
            algorithm="$alg" "${size[@]}" ksk=no zsk=yes $KNOT_TIMERS >/dev/null
        ;;
    esac
    publish_stage "$tool" "$stage" "$dir" "$origin" "$alg"
    describe_keys "$tool" "$origin" "$dir"
}

# Keys are made in the work dir and moved into DIR only once complete, so a
# failed keygen or import-pem leaves DIR as it was. A Knot KASP database
# holds no paths (the keystore location comes from knot.conf), so it moves
# too; knot.conf is then written anew for DIR.
publish_stage() {
    local tool=$1 stage=$2 dir=$3 origin=$4 alg=$5
    rm -f -- "$stage/knot.conf"
    mv -- "$stage"/* "$dir"/
    if [[ $tool == knot ]]; then
        knot_conf "$dir/knot.conf" "$dir" "$dir" "$origin" "$alg"
    fi
}

# Print "KSK <tag>" / "ZSK <tag>" so callers can log what they got.
describe_keys() {
    local tool=$1 origin=$2 dir=$3
    case $tool in
    ldns | bind)
        find_bind_keys "$dir" "$origin"
        echo "KSK ${KSK_BASE##*/}"
        echo "ZSK ${ZSK_BASE##*/}"
        ;;
    knot)
        run keymgr "$dir/knot.conf" keymgr -c "$dir/knot.conf" "$origin" list |
            awk '{ print $3, $2, $1 }' | sort
        ;;
    esac
}

# ---------------------------------------------------------------- import-pem

# Normalise DS lines from any tool to "tag alg digesttype HEX" (upper case),
# keeping only SHA-256 (type 2), which every tool prints.
ds_norm() {
    awk '{ for (i = 1; i < NF; i++) if ($i == "DS") {
             if ($(i + 3) == 2) { d = ""; for (j = i + 4; j <= NF; j++) d = d $j
                                  print $(i + 1), $(i + 2), $(i + 3), toupper(d) }
             break } }'
}

cmd_import_pem() {
    (($# == 6)) || usage
    local tool=$1 origin alg=$3 ksk_pem zsk_pem dir
    origin=$(fqdn "$2")
    ksk_pem=$(abspath "$4")
    zsk_pem=$(abspath "$5")
    dir=$(abspath "$6")
    check_tool "$tool"
    alg_name "$alg" >/dev/null
    local pem
    for pem in "$ksk_pem" "$zsk_pem"; do
        [[ -r $pem ]] || die "cannot read PEM key $pem"
    done
    need_cmd openssl "import-pem"
    need_cmd python3 "import-pem"
    fresh_dir "$dir"
    make_work
    local stage=$WORK/stage
    mkdir "$stage"

    # Reference DS records, computed independently of the peer tools from
    # the same PEM files; every tool must reproduce them, which proves the
    # DNSKEY RDATA and key tags are identical across ldns, BIND and Knot.
    local role flags out want got base
    for role in KSK ZSK; do
        if [[ $role == KSK ]]; then pem=$ksk_pem flags=257; else pem=$zsk_pem flags=256; fi
        mkdir -p "$WORK/ref"
        out=$(run pem2bind.py "$pem" python3 "$PEM2BIND" --ds "$origin" "$alg" "$flags" "$pem" "$WORK/ref")
        base=$(sed -n 1p <<<"$out")
        want=$(sed -n 2p <<<"$out" | ds_norm)
        case $tool in
        ldns | bind)
            cp -- "$WORK/ref/$base.key" "$WORK/ref/$base.private" "$stage/"
            if [[ $tool == bind ]]; then
                need_cmd dnssec-dsfromkey "import-pem bind"
                got=$(run dnssec-dsfromkey "$pem" dnssec-dsfromkey -2 "$stage/$base.key" | ds_norm)
            else
                need_cmd ldns-key2ds "import-pem ldns"
                # -f: ldns-key2ds silently prints nothing for a ZSK without it.
                got=$(run ldns-key2ds "$pem" ldns-key2ds -f -n -2 "$stage/$base.key" | ds_norm)
            fi
            ;;
        knot)
            need_cmd keymgr "import-pem knot"
            [[ -f $stage/knot.conf ]] || knot_conf "$stage/knot.conf" "$stage" "$stage" "$origin" "$alg"
            local ksk=no zsk=yes id
            [[ $role == KSK ]] && ksk=yes zsk=no
            # keymgr prints the new key ID, then "OK". The PEM is copied into
            # the KASP keystore (keys/keys/<id>.pem).
            # shellcheck disable=SC2086
            id=$(run keymgr "$pem" keymgr -c "$stage/knot.conf" "$origin" import-pem "$pem" \
                algorithm="$alg" ksk=$ksk zsk=$zsk $KNOT_TIMERS | sed -n 1p)
            got=$(run keymgr "$pem" keymgr -c "$stage/knot.conf" "$origin" ds "$id" | ds_norm)
            ;;
        esac
        [[ -n $got && $got == "$want" ]] ||
            die "$tool derived a different DS for $role $pem: got '${got}', expected '${want}'"
        echo "$role $base"
    done
    publish_stage "$tool" "$stage" "$dir" "$origin" "$alg"
}

# ---------------------------------------------------------------- sign

cmd_sign() {
    (($# >= 5)) || usage
    local tool=$1 origin in out dir
    origin=$(fqdn "$2")
    in=$(abspath "$3")
    out=$(abspath "$4")
    dir=$(abspath "$5")
    shift 5
    check_tool "$tool"
    local nsec3=0 salt="" iterations=0 optout=0 inception="" expiration=""
    while (($#)); do
        case $1 in
        --nsec3) nsec3=1 ;;
        --salt) (($# >= 2)) || usage; salt=$2; shift ;;
        --iterations) (($# >= 2)) || usage; iterations=$2; shift ;;
        --opt-out) optout=1 ;;
        --inception) (($# >= 2)) || usage; inception=$2; shift ;;
        --expiration) (($# >= 2)) || usage; expiration=$2; shift ;;
        *) echo "$SELF: unknown sign option '$1'" >&2; usage ;;
        esac
        shift
    done
    [[ -r $in ]] || die "cannot read zone file $in"
    [[ -d $dir ]] || die "key directory $dir does not exist"
    if ((!nsec3)) && [[ -n $salt || $iterations != 0 || $optout == 1 ]]; then
        die "--salt, --iterations and --opt-out need --nsec3"
    fi
    [[ -z $salt || $salt =~ ^([0-9a-fA-F]{2}){1,255}$ ]] || die "bad --salt '$salt' (hex, 1..255 octets)"
    [[ $iterations =~ ^[0-9]+$ ]] || die "bad --iterations '$iterations'"
    if [[ -n $inception || -n $expiration ]]; then
        [[ -n $inception && -n $expiration ]] || die "--inception and --expiration go together"
        check_time "$inception" --inception
        check_time "$expiration" --expiration
        [[ $inception < $expiration ]] || die "--inception must be before --expiration"
    fi
    make_work

    case $tool in
    ldns) sign_ldns ;;
    bind) sign_bind ;;
    knot) sign_knot ;;
    esac
    [[ -s $WORK/signed.zone ]] || die "$tool produced no signed zone for $in"
    cat "$WORK/signed.zone" >"$out"
}

sign_ldns() {
    need_cmd ldns-signzone "sign ldns"
    find_bind_keys "$dir" "$origin"
    local args=(-o "$origin" -f "$WORK/signed.zone")
    if ((nsec3)); then
        # -a 1: SHA-1, the only NSEC3 hash (RFC 5155 s11). An empty salt is
        # spelled by leaving -s out.
        args+=(-n -a 1 -t "$iterations")
        [[ -n $salt ]] && args+=(-s "$salt")
        ((optout)) && args+=(-p)
    fi
    [[ -n $inception ]] && args+=(-i "$inception" -e "$expiration")
    # Keys as base names; the SEP bit decides the roles: without -A the KSK
    # signs only the DNSKEY RRset, the ZSK everything else.
    run ldns-signzone "$in" ldns-signzone "${args[@]}" "$in" "$KSK_BASE" "$ZSK_BASE" >/dev/null
}

sign_bind() {
    need_cmd dnssec-signzone "sign bind"
    find_bind_keys "$dir" "$origin"
    # -x: DNSKEY RRset signed by the KSK only (default: KSK and ZSK).
    # -P: no post-signing verification; `peers.sh verify` does that, and it
    #     would double the signing time in the benchmark.
    # -k KSK + ZSK as argument instead of -S: exactly these two keys, with no
    #     dependence on the keys' timing metadata.
    # -N keep: keep the SOA serial (also the default), as ldns does.
    # -O full: one record per line, no parentheses (easier to diff and grep).
    local args=(-P -x -N keep -O full -n "$THREADS" -o "$origin" -f "$WORK/signed.zone"
        -k "$KSK_BASE.key")
    if ((nsec3)); then
        # -3 takes the salt in hex, "-" for none; -H the extra iterations.
        args+=(-3 "${salt:--}" -H "$iterations")
        ((optout)) && args+=(-A)
    fi
    [[ -n $inception ]] && args+=(-s "$inception" -e "$expiration")
    # Without -S, dnssec-signzone takes the DNSKEY RRset from the zone itself
    # ("failed to find keys at the zone apex" otherwise): append the two
    # public keys, as the classic "$INCLUDE K*.key" does.
    { cat -- "$in"; echo; cat -- "$KSK_BASE.key" "$ZSK_BASE.key"; } >"$WORK/unsigned.zone"
    # It also drops a dsset-<origin> file in the working directory: run it
    # in the work dir.
    (cd "$WORK" && run dnssec-signzone "$in" dnssec-signzone "${args[@]}" \
        "$WORK/unsigned.zone" "$ZSK_BASE.key") >/dev/null
}

sign_knot() {
    need_cmd kzonesign "sign knot"
    need_cmd keymgr "sign knot"
    [[ -f $dir/knot.conf && -d $dir/keys ]] ||
        die "$dir holds no Knot key store (knot.conf, keys/); run keygen knot or import-pem knot"
    # The policy needs an algorithm; take it from the keys.
    local alg
    alg=$(run keymgr "$dir/knot.conf" keymgr -c "$dir/knot.conf" "$origin" list |
        awk '$3 == "KSK" { split($4, a, "/"); print a[1]; exit }')
    [[ -n $alg ]] || die "no KSK for $origin in the Knot key store in $dir"
    local alg_num="" n
    for n in 8 10 13 14 15 16; do
        [[ $(alg_name $n) == "$alg" ]] && alg_num=$n
    done
    [[ -n $alg_num ]] || die "unsupported key algorithm $alg in the Knot key store in $dir"

    local policy=("signing-threads: $THREADS")
    if ((nsec3)); then
        # salt-lifetime 0 = never re-salt; the salt itself is stored in the
        # KASP db with keymgr (a policy only knows a salt length).
        policy+=("nsec3: on" "nsec3-iterations: $iterations"
            "nsec3-opt-out: $([[ $optout == 1 ]] && echo on || echo off)"
            "nsec3-salt-length: $((${#salt} / 2))" "nsec3-salt-lifetime: 0")
    fi
    local time_args=()
    if [[ -n $inception ]]; then
        # Knot has no inception/expiration options: signatures run from
        # now - 90 min to now + rrsig-lifetime. Move "now" (-t) so that the
        # inception lands exactly, and size the lifetime to the expiration.
        local t lifetime
        t=$(($(to_epoch "$inception") + KNOT_INCEPT_IN_PAST))
        lifetime=$(($(to_epoch "$expiration") - t))
        ((lifetime >= 3)) || die "knot needs --expiration at least 90 min + 3 s after --inception"
        # The refresh settings only schedule the next signing, which never
        # comes here, but Knot refuses to sign unless refresh + pre-refresh
        # (default 1 h) < lifetime and refresh >= propagation-delay (1 h) +
        # zone-max-ttl. Those two only time key rollovers, which we never
        # do, so shrink them and scale refresh with the lifetime: short
        # validity windows then sign too.
        policy+=("rrsig-lifetime: $lifetime" "rrsig-refresh: $((lifetime / 4 + 1))"
            "rrsig-pre-refresh: $((lifetime / 4))" "propagation-delay: 0"
            "zone-max-ttl: 1")
        time_args=(-t "$t")
    fi
    knot_conf "$WORK/knot.conf" "$dir" "$WORK" "$origin" "$alg_num" "${policy[@]}"
    if ((nsec3)); then
        run keymgr "$dir" keymgr -c "$WORK/knot.conf" "$origin" nsec3-salt "${salt:--}" >/dev/null
    fi
    cp -- "$in" "$WORK/unsigned.zone"
    mkdir "$WORK/out"
    # kzonesign signs the configured zone file and writes it to -o; no -r,
    # so it never rolls keys or re-salts.
    run kzonesign "$in" kzonesign -c "$WORK/knot.conf" -o "$WORK/out" "${time_args[@]}" "$origin" >/dev/null
    mv -- "$WORK/out/unsigned.zone" "$WORK/signed.zone"
}

# ---------------------------------------------------------------- verify

cmd_verify() {
    (($# >= 3)) || usage
    local tool=$1 origin zone
    origin=$(fqdn "$2")
    zone=$(abspath "$3")
    shift 3
    check_tool "$tool"
    local at=""
    while (($#)); do
        case $1 in
        --time) (($# >= 2)) || usage; at=$2; shift ;;
        *) echo "$SELF: unknown verify option '$1'" >&2; usage ;;
        esac
        shift
    done
    [[ -z $at ]] || check_time "$at" --time
    [[ -r $zone ]] || die "cannot read signed zone $zone"
    make_work

    local cmd=()
    case $tool in
    ldns)
        need_cmd ldns-verify-zone "verify ldns"
        # -t: absolute validation time. The origin comes from the SOA.
        cmd=(ldns-verify-zone)
        [[ -n $at ]] && cmd+=(-t "$at")
        cmd+=("$zone")
        ;;
    bind)
        need_cmd dnssec-verify "verify bind"
        # -x: accept a DNSKEY RRset signed only by the KSK (as every signer
        # here does). dnssec-verify has no validation-time option, and
        # libfaketime cannot stand in: BIND 9.18 hangs under it (recursive
        # clock_gettime() at start-up). So --time is not honoured: say so.
        cmd=(dnssec-verify -x -o "$origin" "$zone")
        if [[ -n $at ]]; then
            echo "$SELF: note: dnssec-verify cannot take a validation time;" \
                "verifying $zone at the current time, not $at" >&2
        fi
        ;;
    knot)
        need_cmd kzonecheck "verify knot"
        # -d on: full DNSSEC validation, not just syntax; -t: validation time.
        cmd=(kzonecheck -o "$origin" -d on)
        [[ -n $at ]] && cmd+=(-t "$at")
        cmd+=("$zone")
        ;;
    esac
    local log="$WORK/verify.log"
    if ! "${cmd[@]}" >"$log" 2>&1; then
        echo "$SELF: $tool (${cmd[0]}) says $zone is NOT valid:" >&2
        sed 's/^/    /' "$log" >&2
        exit 1
    fi
    cat "$log"
}

# ---------------------------------------------------------------- version

cmd_version() {
    (($# == 0)) || usage
    local missing=0
    if command -v ldns-signzone >/dev/null 2>&1; then
        echo "ldns: $(ldns-signzone -v 2>&1 | head -n1)"
    else
        echo "ldns: not installed (ldnsutils)"; missing=1
    fi
    if command -v dnssec-signzone >/dev/null 2>&1; then
        echo "bind: dnssec-signzone $(dnssec-signzone -V 2>&1 | head -n1 | sed 's/^dnssec-signzone //')"
    else
        echo "bind: not installed (bind9-utils)"; missing=1
    fi
    if command -v kzonesign >/dev/null 2>&1; then
        echo "knot: $(kzonesign -V 2>&1 | head -n1)"
    else
        echo "knot: not installed (knot-dnssecutils)"; missing=1
    fi
    return "$missing"
}

# ---------------------------------------------------------------- main

(($# >= 1)) || usage
sub=$1
shift
case $sub in
keygen) cmd_keygen "$@" ;;
import-pem) cmd_import_pem "$@" ;;
sign) cmd_sign "$@" ;;
verify) cmd_verify "$@" ;;
version) cmd_version "$@" ;;
-h | --help | help) usage ;;
*) echo "$SELF: unknown command '$sub'" >&2; usage ;;
esac
