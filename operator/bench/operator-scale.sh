#!/usr/bin/env bash
# Operator scale: 5000 Nodes and 5000 TcpTuningNodeStates reporting for one policy and for three
# overlapping policies, against the mock API server; prints convergence time after the last
# report, policy status writes and operator heap after GC.
# Usage: operator/bench/operator-scale.sh [nodes]   (default 5000)
set -euo pipefail
cd "$(dirname "$0")/../.."
source operator/bench/lib.sh
bench_build
"$JAVA_HOME/bin/java" -cp "$(bench_classpath)" io.tcptuning.operator.OperatorScaleBench "${1:-5000}"