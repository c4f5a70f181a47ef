#!/usr/bin/env bash
# scripts/demo.sh - keyfort end to end on a throw-away SoftHSM2 token.
#
# Installs what is missing (scripts/deps.sh), builds the keyfort CLI in build/, then in a fresh
# temp dir with its own SOFTHSM2_CONF: initialises a token with random PINs (files of mode 600,
# never printed), generates one key of every type on it, lists them, and for each key exports
# the public key, signs a message on the token, verifies the signature in software with the
# openssl CLI (and checks that a tampered message is rejected), and asks an independent
# PKCS#11 client (OpenSC's pkcs11-tool) what the token says about the private key.
#
# Every step prints OK or FAIL; the temp dir is removed on exit; the exit status is non-zero
# when any step failed. Environment: KF_BUILD_DIR (default build), KF_DEMO_KEEP=1 keeps the
# temp dir for inspection (it holds the PIN files: delete it afterwards).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD="$ROOT/${KF_BUILD_DIR:-build}"
TOKEN_LABEL=keyfort-demo
TOKEN_URI="pkcs11:token=$TOKEN_LABEL"
KEY_TYPES=(rsa2048 rsa3072 rsa4096 p256 p384 ed25519 ed448)

if [[ "${1:-}" == -h || "${1:-}" == --help ]]; then
    sed -n '2,14s/^# \{0,1\}//p' "$0"
    exit 0
fi

if [[ -t 1 ]]; then
    C_OK=$'\e[32m' C_FAIL=$'\e[31m' C_OFF=$'\e[0m'
else
    C_OK='' C_FAIL='' C_OFF=''
fi

n_ok=0
n_fail=0
failed_steps=()
STEP_CONTEXT='' # prefixed to a failed step in the summary
WORK=''

cleanup()
{
    if [[ -n "$WORK" && -d "$WORK" ]]; then
        if [[ "${KF_DEMO_KEEP:-0}" == 1 ]]; then
            printf '\nkept %s (holds the PIN files: rm -rf it when done)\n' "$WORK"
        else
            rm -rf -- "$WORK"
        fi
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

section()
{
    printf '\n== %s\n' "$*"
}

ok()
{
    n_ok=$((n_ok + 1))
    printf '  [%s OK %s] %s\n' "$C_OK" "$C_OFF" "$1"
}

fail()
{
    n_fail=$((n_fail + 1))
    failed_steps+=("${STEP_CONTEXT:-}$1")
    printf '  [%sFAIL%s] %s\n' "$C_FAIL" "$C_OFF" "$1"
}

# Indent captured output under its step.
show()
{
    sed 's/^/         /' "$@"
}

# step DESCRIPTION CMD... : run CMD, its output going to $WORK/step.log; print OK or FAIL, and
# the output on failure. Returns CMD's status so callers can skip what depends on it.
step()
{
    local desc=$1
    shift
    local log="${WORK:-/tmp}/step.log" rc=0
    "$@" >"$log" 2>&1 || rc=$?
    if ((rc == 0)); then
        ok "$desc"
        return 0
    fi
    fail "$desc (exit $rc)"
    printf '         $ %s\n' "$*"
    show "$log"
    return "$rc"
}

# expect_fail DESCRIPTION CMD... : the step passes when CMD fails.
expect_fail()
{
    local desc=$1
    shift
    local log="$WORK/step.log"
    if "$@" >"$log" 2>&1; then
        fail "$desc (the command succeeded)"
        printf '         $ %s\n' "$*"
        show "$log"
        return 1
    fi
    ok "$desc"
    return 0
}

softhsm_module()
{
    local m
    for m in /usr/lib/softhsm/libsofthsm2.so /usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so; do
        if [[ -r "$m" ]]; then
            printf '%s\n' "$m"
            return 0
        fi
    done
    return 1
}

# A random PIN of 24 hex digits, written straight to a file of mode 600.
new_pin_file()
{
    local f=$1
    (umask 077 && od -An -N12 -tx1 /dev/urandom | tr -d ' \n' >"$f")
    chmod 600 "$f"
}

# ---------------------------------------------------------------------------------------------

section "setup"
"$ROOT/scripts/deps.sh"
ok "dependencies present (scripts/deps.sh)"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/keyfort-demo.XXXXXX")
chmod 700 "$WORK"

if [[ ! -f "$BUILD/CMakeCache.txt" ]]; then
    step "configure ${BUILD#"$ROOT"/}/ (RelWithDebInfo)" \
        cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo || exit 1
fi
step "build the keyfort CLI in ${BUILD#"$ROOT"/}/" \
    cmake --build "$BUILD" --target keyfort --parallel "$(nproc)" || exit 1

KEYFORT="$BUILD/tools/keyfort/keyfort"
if [[ ! -x "$KEYFORT" ]]; then
    KEYFORT=$(find "$BUILD" -type f -name keyfort -perm -u+x -print -quit)
fi
if [[ -z "$KEYFORT" || ! -x "$KEYFORT" ]]; then
    fail "find the keyfort binary under ${BUILD#"$ROOT"/}/"
    exit 1
fi
ok "keyfort binary: ${KEYFORT#"$ROOT"/}"

MODULE=$(softhsm_module) || {
    fail "find libsofthsm2.so"
    exit 1
}
mkdir -m 700 "$WORK/tokens"
cat >"$WORK/softhsm2.conf" <<EOF
directories.tokendir = $WORK/tokens
objectstore.backend = file
log.level = ERROR
slots.removable = false
EOF
export SOFTHSM2_CONF="$WORK/softhsm2.conf"
export KEYFORT_PKCS11_MODULE="$MODULE"
ok "fresh SoftHSM2 store: SOFTHSM2_CONF=$SOFTHSM2_CONF"

SO_PIN="$WORK/so.pin"
USER_PIN="$WORK/user.pin"
new_pin_file "$SO_PIN"
new_pin_file "$USER_PIN"
ok "random SO and user PINs in $(basename "$SO_PIN"), $(basename "$USER_PIN") (mode $(stat -c %a "$USER_PIN"), not shown)"

section "token"
step "keyfort token init --label $TOKEN_LABEL" \
    "$KEYFORT" token init --label "$TOKEN_LABEL" --so-pin-file "$SO_PIN" \
    --pin-file "$USER_PIN" --module "$MODULE" || exit 1
if step "keyfort token list" "$KEYFORT" token list; then
    show "$WORK/step.log"
fi

section "keys"
generated=()
for t in "${KEY_TYPES[@]}"; do
    if step "keyfort key gen --type $t --label demo-$t" \
        "$KEYFORT" key gen --type "$t" --label "demo-$t" --pin-file "$USER_PIN" "$TOKEN_URI"; then
        generated+=("$t")
    fi
done
if step "keyfort key list $TOKEN_URI" \
    "$KEYFORT" key list --pin-file "$USER_PIN" "$TOKEN_URI"; then
    show "$WORK/step.log"
    for t in "${generated[@]}"; do
        if ! grep -q -- "demo-$t" "$WORK/step.log"; then
            fail "key list shows demo-$t"
        fi
    done
fi

# The message every key signs, and a copy with one byte changed.
MSG="$WORK/message.txt"
BAD="$WORK/tampered.txt"
printf 'keyfort demo: signed on the token at %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" >"$MSG"
sed 's/signed/SIGNED/' "$MSG" >"$BAD"

# pkcs11-tool reads the PIN from an environment variable of its own process (env:NAME), so
# the PIN is neither printed nor visible in the process list.
p11tool()
{
    KF_DEMO_PIN=$(cat "$USER_PIN") pkcs11-tool --module "$MODULE" --token-label "$TOKEN_LABEL" \
        --pin env:KF_DEMO_PIN "$@"
}

# The token's own view of a private key. CKA_ALWAYS_SENSITIVE and CKA_NEVER_EXTRACTABLE are
# set by the token, not by the caller (PKCS#11 v2.40 s4.9): true means the key has never left
# the token in plaintext or wrapped form since it was made there (CKA_LOCAL).
check_private_key()
{
    local label=$1 access
    # pkcs11-tool 0.23 lists every private key whatever --label says: pick the block whose
    # label line is exactly this one.
    p11tool --list-objects --type privkey >"$WORK/p11.log" 2>&1 || return 1
    access=$(awk -v want="$label" '
        /^[^ ]/ { in_key = ($0 ~ /^Private Key Object/); mine = 0; next }
        in_key && $1 == "label:" { v = $0; sub(/^[ \t]*label:[ \t]*/, "", v); mine = (v == want) }
        in_key && mine && $1 == "Access:" { v = $0; sub(/^[ \t]*Access:[ \t]*/, "", v); print v; exit }
    ' "$WORK/p11.log")
    printf '%s: Access: %s\n' "$label" "${access:-(no such private key listed)}"
    [[ -n "$access" ]] || return 1
    [[ ", $access," == *", sensitive,"* ]] || return 1
    [[ "$access" == *"always sensitive"* ]] || return 1
    [[ "$access" == *"never extractable"* ]] || return 1
    [[ "$access" == *"local"* ]] || return 1
}

for t in "${generated[@]}"; do
    section "key demo-$t"
    STEP_CONTEXT="demo-$t: "
    uri="$TOKEN_URI;object=demo-$t"
    pub="$WORK/demo-$t.pub.pem"
    sig="$WORK/demo-$t.sig"

    # shellcheck disable=SC2016 # $1.. expand in the inner shell
    if ! step "keyfort key pub: export the public key" \
        bash -c '"$1" key pub "$2" >"$3" && openssl pkey -pubin -in "$3" -noout' \
        _ "$KEYFORT" "$uri" "$pub"; then
        continue
    fi

    case "$t" in
        ed25519 | ed448)
            if step "keyfort key sign (EdDSA) on the token" \
                "$KEYFORT" key sign --pin-file "$USER_PIN" --in "$MSG" --out "$sig" "$uri"; then
                step "openssl pkeyutl -verify: signature verifies in software" \
                    openssl pkeyutl -verify -pubin -inkey "$pub" -rawin -in "$MSG" -sigfile "$sig" || true
                expect_fail "openssl pkeyutl -verify: a tampered message is rejected" \
                    openssl pkeyutl -verify -pubin -inkey "$pub" -rawin -in "$BAD" -sigfile "$sig" || true
            fi
            ;;
        *)
            what="ECDSA, DER"
            [[ "$t" == rsa* ]] && what="RSA PKCS#1 v1.5"
            if step "keyfort key sign --digest sha256 ($what) on the token" \
                "$KEYFORT" key sign --digest sha256 --pin-file "$USER_PIN" --in "$MSG" --out "$sig" "$uri"; then
                step "openssl dgst -sha256 -verify: signature verifies in software" \
                    openssl dgst -sha256 -verify "$pub" -signature "$sig" "$MSG" || true
                expect_fail "openssl dgst -sha256 -verify: a tampered message is rejected" \
                    openssl dgst -sha256 -verify "$pub" -signature "$sig" "$BAD" || true
            fi
            if [[ "$t" == rsa* ]] &&
                step "keyfort key sign --digest sha256 --pss (RSA-PSS) on the token" \
                    "$KEYFORT" key sign --digest sha256 --pss --pin-file "$USER_PIN" --in "$MSG" \
                    --out "$sig.pss" "$uri"; then
                step "openssl dgst -sha256 -sigopt rsa_padding_mode:pss -verify: PSS signature verifies" \
                    openssl dgst -sha256 -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:auto \
                    -verify "$pub" -signature "$sig.pss" "$MSG" || true
            fi
            ;;
    esac

    if step "pkcs11-tool: the token marks the private key sensitive, never extractable, made on the token" \
        check_private_key "demo-$t"; then
        show "$WORK/step.log"
    fi
done

# The check above must be able to fail: a key that pkcs11-tool makes extractable on purpose
# (a control, never used for anything) is reported as such and rejected by the same check.
STEP_CONTEXT="control: "
section "control: a key that can leave the token"
if step "pkcs11-tool --keypairgen --extractable: make a control key" \
    p11tool --keypairgen --key-type EC:prime256v1 --label control-extractable --id c0 \
    --extractable; then
    if expect_fail "the same check rejects the extractable control key" \
        check_private_key control-extractable; then
        show "$WORK/step.log"
    fi
fi

# DNSSEC: a zone signed on the token, checked by keyfort and by ldns, BIND and Knot.
STEP_CONTEXT="dnssec: "
section "dnssec: sign a zone with the p256 key on the token (docs/dnssec.md)"
ZONE="$WORK/demo.example.zone"
cat >"$ZONE" <<'ZONE_EOF'
$ORIGIN demo.example.
$TTL 3600
@    SOA  ns1 hostmaster 1 7200 3600 1209600 300
@    NS   ns1
@    MX   10 mail
ns1  A    192.0.2.1
mail A    192.0.2.25
www  CNAME mail
ZONE_EOF
if [[ " ${generated[*]} " == *" p256 "* ]]; then
    zkey="$TOKEN_URI;object=demo-p256;type=private"
    if step "keyfort key dnskey: the DNSKEY and DS the parent would publish" \
        "$KEYFORT" key dnskey --origin demo.example. --ksk --pin-file "$USER_PIN" "$zkey"; then
        show "$WORK/step.log"
        grep -P '\tDS\t' "$WORK/step.log" >"$WORK/demo.ds" || true
    fi
    if step "keyfort zone sign --nsec3 (CSK on the token)" \
        "$KEYFORT" zone sign -o demo.example. --csk "$zkey" --nsec3 --pin-file "$USER_PIN" \
        "$ZONE" -f "$ZONE.signed"; then
        show "$WORK/step.log"
        step "keyfort zone verify --anchor: secure" \
            "$KEYFORT" zone verify --anchor "$WORK/demo.ds" "$ZONE.signed" && show "$WORK/step.log"
        step "ldns-verify-zone accepts it" ldns-verify-zone "$ZONE.signed" || true
        step "kzonecheck -d on accepts it" kzonecheck -o demo.example. -d on "$ZONE.signed" || true
        step "dnssec-verify -z accepts it (-z: a CSK, no separate ZSK)" \
            dnssec-verify -z -o demo.example. "$ZONE.signed" || true
        sed 's/192\.0\.2\.25/192.0.2.26/' "$ZONE.signed" >"$ZONE.tampered"
        expect_fail "keyfort zone verify rejects a changed address (exit 7, record named)" \
            "$KEYFORT" zone verify "$ZONE.tampered" && show "$WORK/step.log"
    fi
fi

# The SP 1800-6 scenario: two mail domains, DANE between their Postfix MTAs whose TLS keys are
# on tokens, S/MIME checked through SMIMEA, and the negative cases (docs/sp1800-6.md).
STEP_CONTEXT="sp1800-6: "
section "sp1800-6: the mail scenario in network namespaces (scripts/sp1800-6.sh)"
if step "scripts/sp1800-6.sh: delivery over DANE, S/MIME via SMIMEA, four negative cases" \
    env KF_BUILD_DIR="$BUILD" bash "$ROOT/scripts/sp1800-6.sh"; then
    sed -n '/== summary/,$p' "$WORK/step.log" | sed 's/^/         /'
else
    tail -20 "$WORK/step.log" | sed 's/^/         /'
fi

for t in "${KEY_TYPES[@]}"; do
    if [[ " ${generated[*]} " != *" $t "* ]]; then
        printf '\n  (no steps for %s: its key was not generated)\n' "$t"
    fi
done

section "summary"
if ((n_fail > 0)); then
    printf '  failed steps:\n'
    printf '    - %s\n' "${failed_steps[@]}"
fi
printf 'demo: %d passed, %d failed\n' "$n_ok" "$n_fail"
((n_fail == 0))
