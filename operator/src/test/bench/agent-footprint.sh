#!/usr/bin/env bash
# Agent footprint: RSS, idle CPU and time to first report of the real `tcptune.jar agent`
# process, against the mock API server, tuning a network namespace of its own. Root needed.
# Usage: operator/src/test/bench/agent-footprint.sh [window-seconds]   (default 60)
set -euo pipefail
cd "$(dirname "$0")/../../.."   # operator/
export JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
../mvnw -B -q -ntp -f ../pom.xml package -DskipTests
../mvnw -B -q -ntp -f ../pom.xml -pl operator exec:java -Dexec.classpathScope=test \
  -Dexec.mainClass=io.tcptuning.bench.AgentFootprintBench -Dexec.args="target/tcptune.jar ${1:-60}"
