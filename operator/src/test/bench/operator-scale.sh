#!/usr/bin/env bash
# Operator scale: 5000 Nodes and 5000 TcpTuningNodeStates reporting for one policy and for three
# overlapping policies, against the mock API server; prints convergence time after the last
# report, policy status writes and operator heap after GC.
# Usage: operator/src/test/bench/operator-scale.sh [nodes]   (default 5000)
set -euo pipefail
cd "$(dirname "$0")/../../.."   # operator/
export JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
../mvnw -B -q -ntp -f ../pom.xml -pl operator test-compile exec:java -Dexec.classpathScope=test \
  -Dexec.mainClass=io.tcptuning.operator.OperatorScaleBench -Dexec.args="${1:-5000}"
