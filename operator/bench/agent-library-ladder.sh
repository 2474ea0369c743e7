#!/usr/bin/env bash
# What each library costs the agent in RSS: a ladder of processes with the agent's JVM flags, each
# doing one thing more than the one below (the node work, TLS and the JDK's HTTP client, Jackson,
# fabric8's client, its informers, micrometer, picocli) against the mock API server, and the real
# agent beside them. Root needed (the agent tunes a namespace of its own).
# Usage: operator/bench/agent-library-ladder.sh   (TCPTUNE_BENCH_ROUNDS=N, default 3)
set -euo pipefail
cd "$(dirname "$0")/../.."
source operator/bench/lib.sh
bench_build
"$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -cp "$(bench_classpath)" io.tcptuning.bench.LibraryLadderBench "$TCPTUNE_JAR_BUILT"
