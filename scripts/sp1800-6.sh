#!/usr/bin/env bash
# scripts/sp1800-6.sh - NIST SP 1800-6 on one machine: two mail domains with DNSSEC-signed
# zones, MTAs whose TLS keys live on SoftHSM2 tokens, delivery authenticated by DANE, S/MIME
# checked through SMIMEA. Work in progress (issue 6): the positive path below; the negative
# cases and the report table come next.
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

say() { printf '== %s\n' "$*"; }
die() {
    printf 'sp1800-6: %s\n' "$*" >&2
    exit 1
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
done
kf a key gen --type p256 --label alice-smime --pin-file "$WORK/a/pin" "pkcs11:token=a" >/dev/null
kf b key gen --type p256 --label bob-smime --pin-file "$WORK/b/pin" "pkcs11:token=b" >/dev/null

# Certificates of token keys, made by openssl with keyfort.so (self-signed: DANE-EE and SMIMEA
# usage 3 vouch for them, no CA).
selfsign() { # selfsign ORG LABEL CN OUT
    SOFTHSM2_CONF=$WORK/$1/softhsm2.conf OPENSSL_MODULES=$(dirname "$PROVIDER") \
        openssl req -provider keyfort -provider default -new -x509 -days 30 \
        -key "$(uri "$1" "$2")" -subj "/CN=$3" -out "$4" 2>/dev/null
}
selfsign a mx-tls mx.example-a.test "$WORK/a/mx.crt"
selfsign b mx-tls mx.example-b.test "$WORK/b/mx.crt"
selfsign a alice-smime alice@example-a.test "$WORK/a/alice.crt"
selfsign b bob-smime bob@example-b.test "$WORK/b/bob.crt"

# ---- zones ------------------------------------------------------------------------------
say "zones, signed on the tokens"
mkdir -p "$WORK/dns"
zone_head() { # zone_head ORIGIN
    printf '$ORIGIN %s\n$TTL 300\n@ SOA ns.test. hostmaster.test. 1 7200 3600 1209600 300\n@ NS ns.test.\n' "$1"
}
for org in a b; do
    d=example-$org.test
    {
        zone_head "$d."
        printf 'mx A %s\n' "${ADDR[$org]}"
        kf "$org" mail policy --domain "$d" --mx "mx.$d"
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
smtp_tls_loglevel = 1
smtpd_tls_loglevel = 1
import_environment = MAIL_CONFIG MAIL_DEBUG MAIL_LOGTAG TZ LANG=C SOFTHSM2_CONF=$WORK/$org/softhsm2.conf
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
ip netns exec kf-b "$KEYFORT" smime verify --email alice@example-a.test \
    --anchor "$WORK/dns/test.anchor" --resolver 192.0.2.53 --in "$msg" --out /dev/null
say "done"
