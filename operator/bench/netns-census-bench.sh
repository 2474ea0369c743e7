#!/usr/bin/env bash
# Pod-namespace census benchmark: one in-process census pass over many network namespaces
# (tcptune's AllNamespacesCensus: one worker thread per CPU, up to 4, each taking the next
# namespace, setns from namespace to namespace, netlink inside each; beside it the same pass on
# one worker, with the CPU of the workers' threads summed for both) against cAdvisor's way (parse /proc/<pid>/net/tcp and tcp6 of a process in each) and
# against `ss -tan state time-wait` run inside each namespace, on the same sockets.
#
#   operator/bench/netns-census-bench.sh [NAMESPACES [TIME_WAIT_PER_NAMESPACE [CHILD_EHASH]]]
#                                          (defaults: 100 2000 4096)
#
# Two rounds, same sizes (each fills its namespaces, then times the methods interleaved):
#  1. namespaces made with `ip netns add`, as every pod's is today: they share the kernel's TCP
#     hash tables with the whole machine (the default, tcp_child_ehash_entries = 0), so every
#     method walks all of the machine's sockets once per namespace and a pass takes seconds:
#     two interleaved runs, the one-worker pass in the first only, to stay within TIME_WAIT's 60 s;
#  2. namespaces created from inside a parent namespace whose net.ipv4.tcp_child_ehash_entries is
#     CHILD_EHASH (set INSIDE that parent, never in the host): each child gets hash tables of its
#     own (Linux >= 6.1), which is what a node gets when the host sets that sysctl before pods
#     start. Skipped when the kernel lacks the sysctl or CHILD_EHASH is 0.
#
# Needs root, iproute2 (ip, ss) and util-linux (unshare, nsenter). Every namespace gets
# tcp_tw_reuse=0 and tcp_rfc1337=1 (inside it) so that each TIME_WAIT socket lives its 60 s and
# holds its port, and a `sleep` standing in for a pod's process; all are deleted on exit, Ctrl-C
# included. Nothing is changed in the host namespace. The bench fills the namespaces and
# measures within TIME_WAIT's 60 s, and prints UNSTABLE when it could not.
set -euo pipefail
cd "$(dirname "$0")/../.."

source operator/bench/lib.sh
for tool in ss ip unshare nsenter; do
  command -v "$tool" >/dev/null || { echo "netns-census-bench: needs $tool (apt-get install iproute2 util-linux)" >&2; exit 1; }
done
COUNT=${1:-100}
PER=${2:-2000}
CHILD_EHASH=${3:-4096}
PREFIX="tcptune-nsbench-$$"
PIDS=()
PIDS_FILE=$(mktemp)
cleanup() {
  trap - EXIT INT TERM
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  for ((i = 0; i < COUNT; i++)); do ip netns del "$PREFIX-$i" 2>/dev/null || true; done
  ip netns del "$PREFIX-parent" 2>/dev/null || true
  rm -f "$PIDS_FILE"
}
trap cleanup EXIT
trap 'cleanup; exit 130' INT TERM

bench_build
CP=$(bench_classpath)
BENCH=("$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -XX:+UseSerialGC -cp "$CP" io.tcptuning.bench.NetnsCensusBench)
SETUP='ip link set lo up; echo 0 > /proc/sys/net/ipv4/tcp_tw_reuse; echo 1 > /proc/sys/net/ipv4/tcp_rfc1337'

echo "netns-census-bench: round 1, $COUNT namespaces (ip netns add)..." >&2
for ((i = 0; i < COUNT; i++)); do
  ns="$PREFIX-$i"
  ip netns add "$ns"
  ip netns exec "$ns" sh -c "$SETUP"
  ip netns exec "$ns" sleep 3600 &   # the "pod": a process in it, for cAdvisor's /proc/<pid>/net/tcp
  PIDS+=($!)
done
"${BENCH[@]}" --prefix "$PREFIX" --count "$COUNT" --per-namespace "$PER" --runs 2 --one-worker-runs 1 --warmups 0 --pass-warmups 0 --label "shared TCP hash tables (the default)"
for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
wait 2>/dev/null || true
PIDS=()
for ((i = 0; i < COUNT; i++)); do ip netns del "$PREFIX-$i"; done

if [ "$CHILD_EHASH" = 0 ] || [ ! -e /proc/sys/net/ipv4/tcp_child_ehash_entries ]; then
  echo "netns-census-bench: no round 2 (tcp_child_ehash_entries missing on this kernel, or 0 asked)" >&2
  exit 0
fi
echo >&2
echo "netns-census-bench: round 2, $COUNT namespaces with TCP hash tables of their own ($CHILD_EHASH buckets)..." >&2
ip netns add "$PREFIX-parent"
ip netns exec "$PREFIX-parent" sh -c "echo $CHILD_EHASH > /proc/sys/net/ipv4/tcp_child_ehash_entries"
for ((i = 0; i < COUNT; i++)); do
  # Created from inside the parent: the child's hash tables follow the parent's setting.
  ip netns exec "$PREFIX-parent" unshare -n sh -c "$SETUP; exec sleep 3600" &
  PIDS+=($!)
  echo "$!" >>"$PIDS_FILE"
done
# unshare and sh exec into sleep: wait until every one of them is sleeping in its own namespace.
for pid in "${PIDS[@]}"; do
  for _ in $(seq 100); do [ "$(cat /proc/"$pid"/comm 2>/dev/null)" = sleep ] && break; sleep 0.05; done
done
"${BENCH[@]}" --pids-file "$PIDS_FILE" --count "$COUNT" --per-namespace "$PER" --label "TCP hash tables of their own ($CHILD_EHASH buckets)"
