#!/usr/bin/env bash
# perf/gen_zone.sh: write a synthetic, unsigned zone for the zone-signing benchmark
# (perf/bench_zone.sh) to standard output.
#
#   perf/gen_zone.sh [ORIGIN [N_DELEG [N_A]]] > unsigned.zone
#
# Defaults: ORIGIN bench.example., N_DELEG 100000, N_A 10000. The output is deterministic (the same
# arguments give the same bytes) and looks like a TLD-ish zone:
#
#   - the apex: SOA, two NS (ns1/ns2.ORIGIN) with their A glue, which is authoritative data;
#   - N_DELEG delegations dNNNNNNN.ORIGIN, each with two NS ns1/ns2.dNNNNNNN.ORIGIN and an A glue
#     record for each name server under the child (occluded: not signed, no NSEC);
#   - N_A names hNNNNNNN.ORIGIN with one A record each (authoritative: signed).
#
# Signed with NSEC that is 1 + N_DELEG + N_A + 2 names in the chain. Addresses: the apex glue
# is 192.0.2.1/.2 (RFC 5737); everything else is numbered through 10.0.0.0/8 (RFC 1918), glue
# of delegation i at 10/8 + 2i-1 and 2i, host j after all glue, so no two A records share an
# address and none is a routable, someone-else's address. awk does the work: 100,000
# delegations take well under a second.
set -euo pipefail

usage() {
    echo "usage: ${0##*/} [ORIGIN [N_DELEG [N_A]]] > zone   (defaults: bench.example. 100000 10000)" >&2
    exit 2
}

(($# <= 3)) || usage
origin=${1:-bench.example.}
n_deleg=${2:-100000}
n_a=${3:-10000}
[[ $origin =~ ^[A-Za-z0-9.-]+$ ]] || usage
[[ $origin == *. ]] || origin="$origin."
[[ $n_deleg =~ ^[0-9]+$ && $n_a =~ ^[0-9]+$ ]] || usage
# Every glue and host address is distinct inside 10/8 (2^24 - 2 usable: not .0.0.0 or .255.255.255).
((2 * n_deleg + n_a <= 16777214)) || {
    echo "${0##*/}: 2 * N_DELEG + N_A must be at most 16777214 (one /8 of addresses)" >&2
    exit 2
}

LC_ALL=C awk -v origin="$origin" -v nd="$n_deleg" -v na="$n_a" '
function addr(k) {    # the k-th address of 10.0.0.0/8, k >= 1
    return "10." int(k / 65536) % 256 "." int(k / 256) % 256 "." k % 256
}
BEGIN {
    print "$ORIGIN " origin
    print "$TTL 3600"
    print "@ IN SOA ns1." origin " hostmaster." origin " 2024010101 7200 3600 1209600 3600"
    print "@ IN NS ns1." origin
    print "@ IN NS ns2." origin
    print "ns1 IN A 192.0.2.1"
    print "ns2 IN A 192.0.2.2"
    for (i = 1; i <= nd; i++) {
        d = sprintf("d%07d", i)
        print d " IN NS ns1." d
        print d " IN NS ns2." d
        print "ns1." d " IN A " addr(2 * i - 1)
        print "ns2." d " IN A " addr(2 * i)
    }
    for (i = 1; i <= na; i++)
        print sprintf("h%07d", i) " IN A " addr(2 * nd + i)
}'
