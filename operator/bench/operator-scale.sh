#!/usr/bin/env bash
# Operator scale: 5000 Nodes and 5000 TcpTuningNodeStates reporting for one policy (once with the
# operator caching whole objects, once with its trimmed caches) and for three overlapping policies,
# against the mock API server and then a real kube-apiserver with etcd; prints convergence time
# after the last report, policy status writes and operator heap after GC.
# The Nodes carry a kubelet's status (30 images, conditions, nodeInfo...); TCPTUNE_BENCH_NODES=bare
# creates them with a name and labels only.
# Usage: operator/bench/operator-scale.sh [nodes]   (default 5000)
set -euo pipefail
cd "$(dirname "$0")/../.."
source operator/bench/lib.sh
bench_build
CP=$(bench_classpath)
"$JAVA_HOME/bin/java" -cp "$CP" io.tcptuning.operator.OperatorScaleBench "${1:-5000}"
# The same against a real kube-apiserver and etcd (built by .ci/kube-binaries.sh).
.ci/kube-binaries.sh >/dev/null
"$JAVA_HOME/bin/java" -cp "$CP" io.tcptuning.apiserver.RealApiServerScaleBench "${1:-5000}"