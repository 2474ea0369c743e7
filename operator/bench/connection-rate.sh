#!/usr/bin/env bash
# The project's outcome as a number: the sustained rate of short connections to one destination
# with zero errno 99 (EADDRNOTAVAIL), with the kernel's default sysctls and after
# `tcptune apply -f deploy/examples/high-churn-clients.yaml`. Target: >= 10x. Root needed.
#
#   operator/bench/connection-rate.sh [probe-seconds] [saturation-rate] [tuned-multiple]
#                                               (defaults: 75 1000 10; about 6 minutes)
#
# Every probe runs in two throwaway namespaces (tcptune-rate-client-*, tcptune-rate-server-*)
# joined by a veth pair (10.213.77.1/30, .2/30) so that the traffic is not loopback, which
# tcp_tw_reuse=2 (the default) would already reuse. Only the client namespace is tuned; the host
# namespace is never written. The namespaces are deleted after each probe, also on failure.
set -euo pipefail
cd "$(dirname "$0")/../.."
source operator/bench/lib.sh
bench_build
"$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -cp "$(bench_classpath)" io.tcptuning.bench.ConnectionRateBench "$TCPTUNE_JAR_BUILT" deploy/examples/high-churn-clients.yaml ${1:-75} ${2:-1000} ${3:-10}
