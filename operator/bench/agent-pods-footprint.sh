#!/usr/bin/env bash
# Agent idle CPU with pods: the real `tcptune.jar agent` process with 100 pod network namespaces
# on its node (each a named namespace with a process in a pod cgroup, the pod in the mock API
# server), at the default 15 s census interval: once measuring only, once tuning all the pods.
# Root needed (namespaces and cgroups). Usage: operator/bench/agent-pods-footprint.sh [window-seconds] [pods]
set -euo pipefail
cd "$(dirname "$0")/../.."
source operator/bench/lib.sh
bench_build
"$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -cp "$(bench_classpath)" io.tcptuning.bench.AgentPodsFootprintBench "$TCPTUNE_JAR_BUILT" ${1:-60} ${2:-100}
