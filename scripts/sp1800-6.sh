#!/usr/bin/env bash
# scripts/sp1800-6.sh - NIST SP 1800-6 on one machine: two mail domains with DNSSEC-signed
# zones, MTAs whose TLS keys live on SoftHSM2 tokens, delivery authenticated by DANE, S/MIME
# checked through SMIMEA; then the negative cases, each with its expected outcome, and a
# summary table. Exit 0 only when every step went as expected.
#
# Network namespaces (created here, removed at the end):
#   kf-net  a bridge joining the others                      (no addresses)
#   kf-dns  knotd (test., example-a.test., example-b.test.) on 127.0.0.1:5300 and
#           Unbound on 192.0.2.53:53 validating from the test. trust anchor
#   kf-a    Postfix for example-a.test, mx.example-a.test = 192.0.2.10
#   kf-b    Postfix for example-b.test, mx.example-b.test = 192.0.2.20
# Each org has its own SoftHSM2 token; the test. zone's keys sit on a third ("registry").
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${KF_BUILD_DIR:-$ROOT/build}
KEYFORT=$BUILD/tools/keyfort/keyfort
PROVIDER=$BUILD/provider/keyfort.so
WORK=$(mktemp -d /tmp/kf-sp1800.XXXXXX)
chmod 755 "$WORK"
NETNS=(kf-net kf-dns kf-a kf-b)
KEEP=${KF_KEEP:-0}
# Sanitizer builds: keyfort.so is built with ASan, so every program that loads it (openssl,
# Postfix's smtpd) needs the runtime preloaded (KF_PRELOAD, set by the ctest), without leak
# checks: those programs are not keyfort's to fix.
PRELOAD_ENV=()
if [[ -n ${KF_PRELOAD:-} ]]; then
    PRELOAD_ENV=(LD_PRELOAD="$KF_PRELOAD" ASAN_OPTIONS=halt_on_error=1:detect_leaks=0)
fi

say() { printf '== %s\n' "$*"; }
die() {
    printf 'sp1800-6: %s\n' "$*" >&2
    exit 1
}

# The report: one row per step, printed at the end.
REPORT=()
FAILED=0
row() { # row STEP EXPECTED OUTCOME ok|FAIL
    REPORT+=("$(printf '%-44s %-34s %-40s %s' "$1" "$2" "$3" "$4")")
    if [[ $4 != ok ]]; then
        FAILED=$((FAILED + 1))
    fi
}

cleanup() {
    set +e
    if [[ -n ${KF_LEAVE_RUNNING:-} ]]; then
        printf 'left running: %s (namespaces %s)\n' "$WORK" "${NETNS[*]}"
        return
    fi
    for org in a b; do
        [[ -f $WORK/$org/postfix/main.cf ]] &&
            ip netns exec "kf-$org" postfix -c "$WORK/$org/postfix" stop >/dev/null 2>&1
    done
    for p in "$WORK"/dns/*.pid; do
        [[ -f $p ]] && kill "$(cat "$p")" 2>/dev/null
    done
    sleep 0.5
    for ns in "${NETNS[@]}"; do
        ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null
        ip netns del "$ns" 2>/dev/null
        rm -rf "/etc/netns/$ns"
    done
    if [[ $KEEP != 1 ]]; then
        rm -rf "$WORK"
    else
        printf 'kept %s\n' "$WORK"
    fi
}
trap cleanup EXIT

[[ $(id -u) == 0 ]] || die "run as root (network namespaces, Postfix)"
[[ -x $KEYFORT && -r $PROVIDER ]] || die "build first: $KEYFORT and $PROVIDER"
export KEYFORT_PROVIDER=$PROVIDER

# ---- network -------------------------------------------------------------------------------
say "network namespaces"
for ns in "${NETNS[@]}"; do
    ip netns del "$ns" 2>/dev/null || true
    ip netns add "$ns"
    ip -n "$ns" link set lo up
done
ip -n kf-net link add br0 type bridge
ip -n kf-net link set br0 up
declare -A ADDR=([dns]=192.0.2.53 [a]=192.0.2.10 [b]=192.0.2.20)
for n in dns a b; do
    ip link add "kf-$n-0" type veth peer name "kf-$n-1"
    ip link set "kf-$n-0" netns kf-net
    ip link set "kf-$n-1" netns "kf-$n"
    ip -n kf-net link set "kf-$n-0" master br0 up
    ip -n "kf-$n" link set "kf-$n-1" name eth0
    ip -n "kf-$n" addr add "${ADDR[$n]}/24" dev eth0
    ip -n "kf-$n" link set eth0 up
    mkdir -p "/etc/netns/kf-$n"
    # glibc passes the AD bit to Postfix only with trust-ad (RFC 7672 needs it).
    printf 'nameserver 192.0.2.53\noptions trust-ad\n' >"/etc/netns/kf-$n/resolv.conf"
done

# ---- tokens and keys ----------------------------------------------------------------------
say "tokens and keys (SoftHSM2)"
token() { # token NAME: a token of its own in $WORK/NAME/tokens
    local d=$WORK/$1
    mkdir -p "$d/tokens"
    printf 'directories.tokendir = %s/tokens\nobjectstore.backend = file\n' "$d" >"$d/softhsm2.conf"
    printf '%s' "pin-$1-1234" >"$d/pin"
    printf '%s' "so-$1-5678" >"$d/sopin"
    chmod 600 "$d/pin" "$d/sopin"
    SOFTHSM2_CONF=$d/softhsm2.conf "$KEYFORT" token init --label "$1" --so-pin-file "$d/sopin" \
        --pin-file "$d/pin" >/dev/null
}
kf() { # kf ORG args...: keyfort with ORG's token
    local org=$1
    shift
    SOFTHSM2_CONF=$WORK/$org/softhsm2.conf "$KEYFORT" "$@"
}
uri() { printf 'pkcs11:token=%s;object=%s;type=private?pin-source=%s/%s/pin' "$1" "$2" "$WORK" "$1"; }
for t in registry a b; do
    token "$t"
done
for spec in "registry test" "a example-a" "b example-b"; do
    set -- $spec
    kf "$1" key gen --type p256 --label "$2-ksk" --pin-file "$WORK/$1/pin" "pkcs11:token=$1" >/dev/null
    kf "$1" key gen --type p256 --label "$2-zsk" --pin-file "$WORK/$1/pin" "pkcs11:token=$1" >/dev/null
done
for org in a b; do
    kf "$org" key gen --type p256 --label mx-tls --pin-file "$WORK/$org/pin" "pkcs11:token=$org" >/dev/null
    # The DKIM key the domain will sign with (RFC 8463); its public record goes in the zone.
    kf "$org" key gen --type ed25519 --label dkim --pin-file "$WORK/$org/pin" "pkcs11:token=$org" >/dev/null
done
kf a key gen --type p256 --label alice-smime --pin-file "$WORK/a/pin" "pkcs11:token=a" >/dev/null
kf b key gen --type p256 --label bob-smime --pin-file "$WORK/b/pin" "pkcs11:token=b" >/dev/null

# Certificates of token keys, made by openssl with keyfort.so (self-signed: DANE-EE and SMIMEA
# usage 3 vouch for them, no CA).
selfsign() { # selfsign ORG LABEL CN OUT
    env "${PRELOAD_ENV[@]}" SOFTHSM2_CONF="$WORK/$1/softhsm2.conf" \
        OPENSSL_MODULES="$(dirname "$PROVIDER")" openssl req -provider keyfort -provider default -new -x509 -days 30 \
        -key "$(uri "$1" "$2")" -subj "/CN=$3" -out "$4" 2>/dev/null
}
selfsign a mx-tls mx.example-a.test "$WORK/a/mx.crt"
selfsign b mx-tls mx.example-b.test "$WORK/b/mx.crt"
selfsign a alice-smime alice@example-a.test "$WORK/a/alice.crt"
selfsign b bob-smime bob@example-b.test "$WORK/b/bob.crt"

# ---- zones ------------------------------------------------------------------------------
say "zones, signed on the tokens"
mkdir -p "$WORK/dns/db"
zone_head() { # zone_head ORIGIN
    printf '$ORIGIN %s\n$TTL 300\n@ SOA ns.test. hostmaster.test. 1 7200 3600 1209600 300\n@ NS ns.test.\n' "$1"
}
for org in a b; do
    d=example-$org.test
    {
        zone_head "$d."
        printf 'mx A %s\n' "${ADDR[$org]}"
        kf "$org" mail policy --domain "$d" --mx "mx.$d" --dkim-key "$(uri "$org" dkim)"
        kf "$org" dane tlsa --cert "$WORK/$org/mx.crt" --host "mx.$d"
    } >"$WORK/dns/$d.zone"
done
kf a smimea --email alice@example-a.test --cert "$WORK/a/alice.crt" >>"$WORK/dns/example-a.test.zone"
kf b smimea --email bob@example-b.test --cert "$WORK/b/bob.crt" >>"$WORK/dns/example-b.test.zone"
for org in a b; do
    d=example-$org.test
    kf "$org" zone sign -o "$d." --ksk "$(uri "$org" "example-$org-ksk")" \
        --zsk "$(uri "$org" "example-$org-zsk")" --nsec3 "$WORK/dns/$d.zone" -f "$WORK/dns/$d.signed" >/dev/null
    kf "$org" key dnskey --origin "$d." --ksk "$(uri "$org" "example-$org-ksk")" | grep -P '\tDS\t' |
        grep -P ' 13 2 ' >"$WORK/dns/$d.ds"
done
{
    zone_head test.
    printf 'ns A 192.0.2.53\n'
    printf 'example-a.test. NS ns.test.\nexample-b.test. NS ns.test.\n'
    cat "$WORK/dns/example-a.test.ds" "$WORK/dns/example-b.test.ds"
} >"$WORK/dns/test.zone"
kf registry zone sign -o test. --ksk "$(uri registry test-ksk)" --zsk "$(uri registry test-zsk)" \
    --nsec3 "$WORK/dns/test.zone" -f "$WORK/dns/test.signed" >/dev/null
kf registry key dnskey --origin test. --ksk "$(uri registry test-ksk)" | grep -P '\tDS\t' |
    grep -P ' 13 2 ' >"$WORK/dns/test.anchor"
for z in test example-a.test example-b.test; do
    "$KEYFORT" zone verify "$WORK/dns/$z.signed" >/dev/null || die "$z does not verify"
done

# ---- DNS: knotd + Unbound in kf-dns --------------------------------------------------------
say "knotd and Unbound in kf-dns"
cat >"$WORK/dns/knot.conf" <<EOF
server:
    rundir: "$WORK/dns"
    pidfile: "$WORK/dns/knot.pid"
    listen: 127.0.0.1@5300
database:
    storage: "$WORK/dns/db"
control:
    listen: "$WORK/dns/knot.sock"
log:
  - target: stderr
    any: info
template:
  - id: default
    storage: "$WORK/dns"
    zonefile-load: whole
    zonefile-sync: -1
    journal-content: none
    semantic-checks: off
zone:
  - domain: test.
    file: test.signed
  - domain: example-a.test.
    file: example-a.test.signed
  - domain: example-b.test.
    file: example-b.test.signed
EOF
cat >"$WORK/dns/unbound.conf" <<EOF
server:
    interface: 192.0.2.53
    port: 53
    access-control: 192.0.2.0/24 allow
    access-control: 127.0.0.0/8 allow
    chroot: ""
    username: ""
    directory: "$WORK/dns"
    pidfile: "$WORK/dns/unbound.pid"
    logfile: "$WORK/dns/unbound.log"
    use-syslog: no
    do-not-query-localhost: no
    trust-anchor-file: "$WORK/dns/test.anchor"
    local-zone: "test." nodefault
    val-log-level: 2
    num-threads: 1
    so-reuseport: no
remote-control:
    control-enable: yes
    control-interface: "$WORK/dns/unbound.ctl"
    control-use-cert: no
stub-zone:
    name: "test."
    stub-addr: 127.0.0.1@5300
stub-zone:
    name: "."
    stub-addr: 127.0.0.1@5300
EOF
ip netns exec kf-dns knotd -c "$WORK/dns/knot.conf" >"$WORK/dns/knot.log" 2>&1 &
ip netns exec kf-dns unbound -d -c "$WORK/dns/unbound.conf" >>"$WORK/dns/unbound.log" 2>&1 &
for _ in $(seq 50); do
    if ip netns exec kf-a dig +time=1 +tries=1 @192.0.2.53 mx.example-b.test A 2>/dev/null |
        grep -q 'flags:.* ad'; then
        break
    fi
    sleep 0.2
done
ip netns exec kf-a dig +dnssec @192.0.2.53 _25._tcp.mx.example-b.test TLSA | grep -E 'flags:|TLSA' | head -3

# ---- Postfix --------------------------------------------------------------------------
say "Postfix in kf-a and kf-b (smtpd's TLS key on the token)"
for org in a b; do
    d=example-$org.test
    pd=$WORK/$org/postfix
    mkdir -p "$pd" "$WORK/$org/spool" "$WORK/$org/data" "$WORK/$org/mail"
    cp /etc/postfix/master.cf "$pd/master.cf"
    kf "$org" key pem --pin-file "$WORK/$org/pin" "$(uri "$org" mx-tls)" >"$WORK/$org/mx-key.pem"
    # smtpd runs as the postfix user: it reads the token and the PIN file.
    chown -R postfix:postfix "$WORK/$org/tokens" "$WORK/$org/pin" "$WORK/$org/mx-key.pem"
    chmod 755 "$WORK/$org"
    cat >"$WORK/$org/openssl.cnf" <<EOF
postfix = postfix_settings
[postfix_settings]
providers = provider_sect
[provider_sect]
default = default_sect
keyfort = keyfort_sect
[default_sect]
activate = 1
[keyfort_sect]
module = $PROVIDER
pkcs11-pin-source = $WORK/$org/pin
activate = 1
EOF
    printf 'bob@example-b.test bob/\nalice@example-a.test alice/\n' >"$WORK/$org/vmailbox"
    cat >"$pd/main.cf" <<EOF
compatibility_level = 3.6
queue_directory = $WORK/$org/spool
data_directory = $WORK/$org/data
maillog_file = $WORK/$org/maillog
maillog_file_prefixes = $WORK
myhostname = mx.$d
mydomain = $d
myorigin = \$mydomain
mydestination =
inet_interfaces = ${ADDR[$org]}, 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
virtual_mailbox_domains = $d
virtual_mailbox_base = $WORK/$org/mail
virtual_mailbox_maps = texthash:$WORK/$org/vmailbox
virtual_uid_maps = static:$(id -u postfix)
virtual_gid_maps = static:$(id -g postfix)
smtpd_tls_security_level = may
smtpd_tls_cert_file = $WORK/$org/mx.crt
smtpd_tls_key_file = $WORK/$org/mx-key.pem
tls_config_file = $WORK/$org/openssl.cnf
tls_config_name = postfix
smtp_tls_security_level = dane
smtp_dns_support_level = dnssec
# Every delivery on a connection of its own, so each one looks up and checks TLSA afresh
# (a cached connection would carry the earlier verdict into the negative cases).
smtp_connection_cache_on_demand = no
smtp_tls_loglevel = 1
smtpd_tls_loglevel = 1
import_environment = MAIL_CONFIG MAIL_DEBUG MAIL_LOGTAG TZ LANG=C SOFTHSM2_CONF=$WORK/$org/softhsm2.conf ${PRELOAD_ENV[*]}
EOF
    chown postfix:postfix "$WORK/$org/mail"
    # Chroot off in these test instances (the issue's choice): master.cf's chroot column "n".
    postconf -c "$pd" -F '*/*/chroot = n' >/dev/null
    postconf -c "$pd" -M postlog/unix-dgram="postlog   unix-dgram n  -       n       -       1       postlogd" >/dev/null
    ip netns exec "kf-$org" postfix -c "$pd" set-permissions >/dev/null 2>&1 || true
    # Postfix's commands log to syslog (absent here) unless on a terminal: `script` gives
    # them one, so a configuration error is shown.
    ip netns exec "kf-$org" script -qec "postfix -c $pd check" /dev/null ||
        die "postfix check failed for $d"
    ip netns exec "kf-$org" script -qec "postfix -c $pd start" /dev/null ||
        die "postfix start failed for $d"
done

# ---- mail -----------------------------------------------------------------------------
say "alice@example-a.test sends bob@example-b.test an S/MIME-signed message"
printf 'From: alice@example-a.test\r\nTo: bob@example-b.test\r\nSubject: SP 1800-6\r\n\r\nHello Bob, signed on the token.\r\n' >"$WORK/a/msg.txt"
kf a smime sign --key "$(uri a alice-smime)" --cert "$WORK/a/alice.crt" --in "$WORK/a/msg.txt" \
    --out "$WORK/a/msg.signed"
ip netns exec kf-a sendmail -C "$WORK/a/postfix" -f alice@example-a.test bob@example-b.test <"$WORK/a/msg.signed"
for _ in $(seq 100); do
    if compgen -G "$WORK/b/mail/bob/new/*" >/dev/null; then
        break
    fi
    sleep 0.2
done
grep -E 'Verified TLS|Untrusted TLS|Trusted TLS|status=' "$WORK/a/maillog" | tail -3 || true
msg=$(compgen -G "$WORK/b/mail/bob/new/*" | head -1) || die "bob's mailbox is empty"
say "bob verifies the signature with the certificate from alice's SMIMEA record"
# The anchor and resolver of kf-b: bob's client validates from the test. anchor.
smime_verify() { # smime_verify MESSAGE: bob's check, output in $WORK/b/verify.log
    ip netns exec kf-b "$KEYFORT" smime verify --email alice@example-a.test \
        --anchor "$WORK/dns/test.anchor" --resolver 192.0.2.53 --in "$1" --out /dev/null \
        >"$WORK/b/verify.log" 2>&1
}
if grep -q 'Verified TLS connection established to mx.example-b.test' "$WORK/a/maillog"; then
    row "a -> b delivery" "DANE-verified TLS, delivered" "Verified TLS, status=sent" ok
else
    row "a -> b delivery" "DANE-verified TLS, delivered" "not verified" FAIL
fi
if smime_verify "$msg"; then
    row "bob: S/MIME signature" "verified via SMIMEA" "verified (certificate from SMIMEA)" ok
else
    row "bob: S/MIME signature" "verified via SMIMEA" "$(tail -1 "$WORK/b/verify.log")" FAIL
fi
cat "$WORK/b/verify.log"
# The operator's view of the same path: keyfort dane check from kf-a, through the validating
# resolver, SMTP STARTTLS against Postfix, the key on org b's token.
if ip netns exec kf-a "$KEYFORT" dane check --anchor "$WORK/dns/test.anchor" --resolver 192.0.2.53 \
    mx.example-b.test >"$WORK/a/check.log" 2>&1; then
    row "keyfort dane check mx.example-b.test" "TLSA 3 1 1 matched (STARTTLS)" "$(grep -o 'TLSA [0-9 ]*([A-Z0-9 -]*) matched' "$WORK/a/check.log")" ok
else
    row "keyfort dane check mx.example-b.test" "TLSA 3 1 1 matched (STARTTLS)" "$(tail -1 "$WORK/a/check.log")" FAIL
fi
cat "$WORK/a/check.log"

# ---- negative cases ---------------------------------------------------------------------
serve() { # serve ZONE SIGNED-FILE: knotd serves the file, Unbound forgets what it knew
    cp "$2" "$WORK/dns/$1.signed"
    ip netns exec kf-dns knotc -c "$WORK/dns/knot.conf" -b zone-reload "$1." >/dev/null
    ip netns exec kf-dns unbound-control -c "$WORK/dns/unbound.conf" flush_zone "$1." >/dev/null
    ip netns exec kf-dns unbound-control -c "$WORK/dns/unbound.conf" flush_bogus >/dev/null
    ip netns exec kf-dns unbound-control -c "$WORK/dns/unbound.conf" flush_negative >/dev/null
    # Postfix's smtp processes keep TLSA answers in memory for their TTL: new processes see
    # the new zone at once.
    ip netns exec kf-a script -qec "postfix -c $WORK/a/postfix reload" /dev/null >/dev/null
    sleep 1
}
send_and_wait() { # send_and_wait TAG: a -> b; the maillog line of its final status this round
    local id
    printf 'Subject: %s\r\n\r\n%s\r\n' "$1" "$1" |
        ip netns exec kf-a sendmail -C "$WORK/a/postfix" -f alice@example-a.test bob@example-b.test
    for _ in $(seq 50); do
        if grep -q "status=\(sent\|deferred\|bounced\)" <(tail -n +"$MAILLOG_AT" "$WORK/a/maillog"); then
            break
        fi
        sleep 0.2
    done
    tail -n +"$MAILLOG_AT" "$WORK/a/maillog" | grep -E 'status=|TLSA|certificate' | tail -2
    # Drop whatever is left in the queue: this case is over.
    ip netns exec kf-a postsuper -c "$WORK/a/postfix" -d ALL >/dev/null 2>&1 || true
}
orig_b=$WORK/dns/example-b.test.signed.orig
orig_a=$WORK/dns/example-a.test.signed.orig
cp "$WORK/dns/example-b.test.signed" "$orig_b"
cp "$WORK/dns/example-a.test.signed" "$orig_a"

say "negative 1: a TLSA record that does not match (zone re-signed with it)"
sed -E 's/(TLSA[[:space:]]+3 1 1 )./\10/' "$WORK/dns/example-b.test.zone" >"$WORK/dns/wrong-tlsa.zone"
if cmp -s "$WORK/dns/wrong-tlsa.zone" "$WORK/dns/example-b.test.zone"; then
    sed -E 's/(TLSA[[:space:]]+3 1 1 )./\11/' "$WORK/dns/example-b.test.zone" >"$WORK/dns/wrong-tlsa.zone"
fi
kf b zone sign -o example-b.test. --ksk "$(uri b example-b-ksk)" --zsk "$(uri b example-b-zsk)" \
    --nsec3 "$WORK/dns/wrong-tlsa.zone" -f "$WORK/dns/wrong-tlsa.signed" >/dev/null
serve example-b.test "$WORK/dns/wrong-tlsa.signed"
MAILLOG_AT=$(($(wc -l <"$WORK/a/maillog") + 1))
out=$(send_and_wait "wrong TLSA")
printf '%s\n' "$out"
if grep -q 'status=deferred' <<<"$out" && ! grep -q 'status=sent' <<<"$out"; then
    row "TLSA does not match" "deferred, never sent in clear" "deferred" ok
else
    row "TLSA does not match" "deferred, never sent in clear" "$(grep -o 'status=[a-z]*' <<<"$out" | tail -1)" FAIL
fi

say "negative 2: the zone served with a record changed after signing"
sed -E 's/(mx\.example-b\.test\.[[:space:]]+300[[:space:]]+A[[:space:]]+)192\.0\.2\.20/\1192.0.2.21/' \
    "$orig_b" >"$WORK/dns/tampered.signed"
cmp -s "$WORK/dns/tampered.signed" "$orig_b" && die "the tampering edit did not apply"
serve example-b.test "$WORK/dns/tampered.signed"
answer=$(ip netns exec kf-a dig +time=2 +tries=1 @192.0.2.53 mx.example-b.test A | grep -o 'status: [A-Z]*')
MAILLOG_AT=$(($(wc -l <"$WORK/a/maillog") + 1))
out=$(send_and_wait "tampered zone")
printf '%s\n%s\n' "$answer" "$out"
if [[ $answer == "status: SERVFAIL" ]] && grep -q 'status=deferred' <<<"$out"; then
    row "zone tampered after signing" "SERVFAIL, deferred" "SERVFAIL, deferred" ok
else
    row "zone tampered after signing" "SERVFAIL, deferred" "$answer, $(grep -o 'status=[a-z]*' <<<"$out" | tail -1)" FAIL
fi
serve example-b.test "$orig_b"

say "negative 3: the signed message altered on the way"
sed 's/Hello Bob/Hello Rob/' "$msg" >"$WORK/b/altered.eml"
if smime_verify "$WORK/b/altered.eml"; then
    row "S/MIME message altered" "rejected by verify" "verified (!)" FAIL
else
    row "S/MIME message altered" "rejected by verify" "rejected: $(grep -o 'signature did not verify' "$WORK/b/verify.log" | head -1)" ok
fi
cat "$WORK/b/verify.log"

say "negative 4: alice's SMIMEA record removed (zone re-signed without it)"
grep -v SMIMEA "$WORK/dns/example-a.test.zone" >"$WORK/dns/no-smimea.zone"
kf a zone sign -o example-a.test. --ksk "$(uri a example-a-ksk)" --zsk "$(uri a example-a-zsk)" \
    --nsec3 "$WORK/dns/no-smimea.zone" -f "$WORK/dns/no-smimea.signed" >/dev/null
serve example-a.test "$WORK/dns/no-smimea.signed"
if smime_verify "$msg"; then
    row "SMIMEA record removed" "no validated certificate" "verified (!)" FAIL
elif grep -q 'no validated certificate' "$WORK/b/verify.log"; then
    row "SMIMEA record removed" "no validated certificate" "no validated certificate" ok
else
    row "SMIMEA record removed" "no validated certificate" "$(tail -1 "$WORK/b/verify.log")" FAIL
fi
cat "$WORK/b/verify.log"
serve example-a.test "$orig_a"

say "summary"
printf '%-44s %-34s %-40s %s\n' "step" "expected" "outcome" "verdict"
printf '%s\n' "${REPORT[@]}"
((FAILED == 0)) || die "$FAILED step(s) did not go as expected"
say "done"
