#!/usr/bin/env bash
# TIME_WAIT census benchmark: tcptune's netlink census and /proc fallback against ss and netstat,
# on the same real TIME_WAIT sockets, at several sizes.
#
#   operator/bench/census-bench.sh [SIZE...]     (default: 10000 100000 200000)
#
# Needs root, iproute2 (ip, ss) and net-tools (netstat). Every size gets its own throwaway network
# namespace (wide port range, raised tcp_max_tw_buckets and somaxconn, set INSIDE it), filled by
# TimeWaitLoad over 8 destinations and deleted afterwards, which frees the sockets. Nothing is
# changed in the host namespace. TIME_WAIT lasts 60 s, so the measurements must finish within
# 60 s of the first socket; a row says UNSTABLE if sockstat's count moved while measuring.
# Each size also times the whole CLI process (`operator/cli/target/tcptune census --json`, JVM start
# and AOT cache included) against ss; TCPTUNE_COLD="cmd..." times another command line instead.
set -euo pipefail
cd "$(dirname "$0")/../.."

source operator/bench/lib.sh
for tool in ss netstat ip; do
  command -v "$tool" >/dev/null || { echo "census-bench: needs $tool (apt-get install iproute2 net-tools)" >&2; exit 1; }
done
JAVA="$JAVA_HOME/bin/java"
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(10000 100000 200000)

bench_build
CP=$(bench_classpath)
JVM=("$JAVA" --enable-native-access=ALL-UNNAMED -cp "$CP")
# The CLI as users run it: the launcher beside the jar, with the AOT cache the build trained.
# TCPTUNE_COLD="command ..." measures another command line instead (e.g. a plain java -jar).
if [ -n "${TCPTUNE_COLD:-}" ]; then
  read -r -a COLD <<<"$TCPTUNE_COLD"
else
  COLD=("$PWD/operator/cli/target/tcptune")
fi
COLD+=(census --json)
cold_what="${COLD[*]}"

NS=""
cleanup() { if [ -n "$NS" ]; then ip netns del "$NS" 2>/dev/null || true; fi; }
trap cleanup EXIT

echo "TIME_WAIT census benchmark, $(uname -r), $(nproc) CPUs; times are medians: netlink, proc 11 runs; sockstat 101; ss 7; netstat 3; cold 3"
echo "order: netlink, sockstat, ss, proc, cold, netstat. netlink/proc: TimeWaitCensus.take(10), warm JVM;"
echo "sockstat: timeWaitTotal(); ss|wc, netstat|wc include their process start; cold: $cold_what"
"${JVM[@]}" io.tcptuning.node.census.CensusBench --header
for n in "${sizes[@]}"; do
  NS="tcptune-census-bench-$$-$n"
  ip netns add "$NS"
  ip netns exec "$NS" ip link set lo up
  ip netns exec "$NS" sh -c '
    echo "1024 65535" > /proc/sys/net/ipv4/ip_local_port_range
    echo 2000000 > /proc/sys/net/ipv4/tcp_max_tw_buckets
    echo 65535 > /proc/sys/net/core/somaxconn
    echo 0 > /proc/sys/net/ipv4/tcp_tw_reuse
    echo 1 > /proc/sys/net/ipv4/tcp_rfc1337'
  # 8 destinations (4 loopback addresses x 2 ports), n/8 connections each.
  specs=()
  for host in 127.0.0.1 127.0.0.2 127.0.0.3 127.0.0.4; do
    for port in 7001 7002; do specs+=("inet:$host:$port=$((n / 8))"); done
  done
  start=$(date +%s.%N)
  ip netns exec "$NS" "${JVM[@]}" io.tcptuning.node.census.TimeWaitLoad --threads 4 "${specs[@]}" >/dev/null
  made=$(date +%s.%N)
  label=$(awk -v n="$n" 'BEGIN { if (n % 1000 == 0) printf "%dk", n / 1000; else print n }')
  ip netns exec "$NS" "${JVM[@]}" io.tcptuning.node.census.CensusBench --label "$label" --runs 7 --cold "${COLD[@]}"
  done_at=$(date +%s.%N)
  awk -v a="$start" -v b="$made" -v c="$done_at" 'BEGIN { printf "       (sockets made in %.1f s, measured in %.1f s)\n", b - a, c - b }'
  ip netns del "$NS"
  NS=""
done
