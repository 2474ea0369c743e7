#!/usr/bin/env bash
# Agent footprint: RSS, idle CPU and time to first report of the real `tcptune.jar agent`
# process, against the mock API server, tuning a network namespace of its own. Root needed.
# TCPTUNE_BENCH_API=kube-apiserver runs it against a real kube-apiserver and etcd instead (built
# by .ci/kube-binaries.sh), where the agent negotiates HTTP/2 and uses a bound token as in a cluster.
# Usage: operator/bench/agent-footprint.sh [window-seconds]   (default 60)
set -euo pipefail
cd "$(dirname "$0")/../.."
source operator/bench/lib.sh
bench_build
"$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -cp "$(bench_classpath)" io.tcptuning.bench.AgentFootprintBench "$TCPTUNE_JAR_BUILT" ${1:-60}
