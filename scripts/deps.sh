#!/usr/bin/env bash
# scripts/deps.sh - install every Debian 12 package that keyfort's build, tests, demo and CI use.
#
# Idempotent: asks dpkg first and prints nothing when everything is present; only then runs
# apt-get update + install (as root, non-interactive). A package that cannot be installed is
# named and the script exits non-zero, so a test never skips for a missing package (STYLE.md
# s14).
#
#   scripts/deps.sh            install what is missing
#   scripts/deps.sh --check    only report what is missing (exit 1 if anything is)
#   scripts/deps.sh --list     print the package list
set -euo pipefail

# One line per package, with who needs it. Keep in step with CMakeLists.txt and the scripts.
readonly KF_PACKAGES=(
    build-essential    # gcc, make, libc headers
    cmake              # >= 3.25 (Debian 12 has 3.25)
    pkg-config         # finds p11-kit-1
    clang              # libFuzzer build (KEYFORT_FUZZ=ON)
    libclang-rt-14-dev # libFuzzer and sanitizer runtimes for clang 14
    clang-format       # the .clang-format check (clang-format --dry-run --Werror)
    libssl-dev         # OpenSSL 3 headers and libcrypto
    openssl            # openssl CLI: tests and scripts/demo.sh verify signatures in software
    libp11-kit-dev     # p11-kit-1 headers (hsm/ loads modules through p11-kit)
    p11-kit            # p11-kit CLI, p11-kit server and p11-kit-client.so (remote token test)
    softhsm2           # softhsm2-util, used by the token fixture
    libsofthsm2        # the SoftHSM2 PKCS#11 module (/usr/lib/softhsm/libsofthsm2.so)
    opensc             # pkcs11-tool: an independent PKCS#11 client for tests and the demo
    libcriterion-dev   # unit and hsm tests (cmake/kf_test.cmake)
    libengine-pkcs11-openssl # engine_pkcs11: the peer baseline of tests/provider and perf/
    libunbound-dev     # validated DNS lookups for DANE and SMIMEA (dane/lookup.c)
    libevent-dev       # libunbound's pkg-config file requires libevent's
    libknot-dev        # libzscanner (zone files in) and libknot (record text out) for dnssec/
    ldnsutils          # ldns-signzone / ldns-verify-zone: DNSSEC interop peers
    bind9-utils        # dnssec-signzone / dnssec-verify: DNSSEC interop peers
    knot-dnssecutils   # kzonecheck / kzonesign / keymgr: DNSSEC interop peers
    knot               # knotd: the authoritative server of the resolver test
    unbound            # the validating resolver of the resolver test
    bind9-dnsutils     # dig: queries in the resolver test
    postfix            # the MTAs of the SP 1800-6 scenario (scripts/sp1800-6.sh)
    iproute2           # ip netns: the scenario's network namespaces
    time               # /usr/bin/time: wall, CPU and peak memory in perf/bench_zone.sh
)

kf_pkg_names()
{
    printf '%s\n' "${KF_PACKAGES[@]}"
}

kf_missing()
{
    local p status
    for p in "${KF_PACKAGES[@]}"; do
        status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
        if [[ "$status" != "installed" ]]; then
            printf '%s\n' "$p"
        fi
    done
}

die()
{
    printf 'deps.sh: ERROR: %s\n' "$*" >&2
    exit 1
}

mode=install
case "${1:-}" in
    "") ;;
    --check) mode=check ;;
    --list)
        kf_pkg_names
        exit 0
        ;;
    -h | --help)
        sed -n '2,12s/^# \{0,1\}//p' "$0"
        exit 0
        ;;
    *) die "unknown option '$1' (try --help)" ;;
esac

command -v dpkg-query >/dev/null 2>&1 || die "dpkg-query not found: this script is for Debian 12"

mapfile -t missing < <(kf_missing)
if ((${#missing[@]} == 0)); then
    exit 0 # quiet when all is present
fi

if [[ "$mode" == check ]]; then
    printf 'deps.sh: missing: %s\n' "${missing[*]}" >&2
    exit 1
fi

SUDO=()
if ((EUID != 0)); then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        SUDO=(sudo -n)
    else
        die "need root to install: ${missing[*]} (run as root or apt-get install them)"
    fi
fi

export DEBIAN_FRONTEND=noninteractive
APT=("${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -y -q
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold
    -o DPkg::Lock::Timeout=300)

printf 'deps.sh: installing: %s\n' "${missing[*]}"
log=$(mktemp "${TMPDIR:-/tmp}/kf-deps.XXXXXX")
trap 'rm -f "$log"' EXIT

if ! "${APT[@]}" update >"$log" 2>&1; then
    cat "$log" >&2
    die "apt-get update failed (packages still missing: ${missing[*]})"
fi

if ! "${APT[@]}" install --no-install-recommends "${missing[@]}" >"$log" 2>&1; then
    # Find out which package is to blame: try them one at a time.
    tail -n 20 "$log" >&2
    failed=()
    for p in "${missing[@]}"; do
        if ! "${APT[@]}" install --no-install-recommends "$p" >"$log" 2>&1; then
            failed+=("$p")
            printf -- '--- apt-get install %s ---\n' "$p" >&2
            tail -n 10 "$log" >&2
        fi
    done
    if ((${#failed[@]} > 0)); then
        die "could not install: ${failed[*]}"
    fi
fi

# Trust dpkg, not apt-get's exit status.
mapfile -t still < <(kf_missing)
if ((${#still[@]} > 0)); then
    die "still not installed after apt-get: ${still[*]}"
fi
printf 'deps.sh: installed %d package(s)\n' "${#missing[@]}"
