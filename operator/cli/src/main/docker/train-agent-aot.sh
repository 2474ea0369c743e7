#!/bin/sh
# Trains the node agent's AOT cache (JEP 483/514) without an API server, as a Dockerfile build
# can: runs the real `tcptune.jar agent` with the JVM flags the operator gives the agents and the
# environment their DaemonSet sets, a DryRun policy (it writes no sysctl, no journal), and the
# API server at a closed port on loopback. What it loads on the way (the fabric8 client and its
# failing calls, Jackson writing a status, micrometer, the census, netlink, the namespace scanner)
# arrives in the cache; what it never loads (the TLS handshake) loads as usual. After SECONDS it
# is stopped with SIGTERM, and the JVM writes the cache as it exits.
#
# Usage: train-agent-aot.sh JAR CACHE [SECONDS]   (default 8; JAVA, else $JAVA_HOME/bin/java, else java)
# Written so that the Dockerfile can run it on the image's own JVM (a RUN after COPY of the jar);
# it does not yet: AgentFootprintBench runs it (in a network namespace of its own) and the cache
# it makes did not bring the first report under 2 s on the bench machine (README, "Performance").
# A cache belongs to one JVM build and one jar: JDK 25.0.3 was seen to use a cache's classes for
# another jar of other content, size and path without a word, so retrain whenever the jar changes.
set -eu
jar=${1:?usage: train-agent-aot.sh JAR CACHE [SECONDS]}
cache=${2:?usage: train-agent-aot.sh JAR CACHE [SECONDS]}
seconds=${3:-8}
java=${JAVA:-${JAVA_HOME:+$JAVA_HOME/bin/java}}
java=${java:-java}

# AgentSettings.DEFAULT_JAVA_TOOL_OPTIONS with class sharing on (DockerfileTest keeps them equal),
# then the image's ENTRYPOINT flags, as an agent container runs.
agent_flags="-XX:+UseSerialGC -Xms8m -Xmx40m -Xmn1m -XX:MinHeapFreeRatio=10 -XX:MaxHeapFreeRatio=20 -Xss256k -XX:TieredStopAtLevel=1 -XX:ReservedCodeCacheSize=16m -XX:MaxMetaspaceSize=96m -XX:+UseCompactObjectHeaders -XX:CICompilerCount=1 -XX:TrimNativeHeapInterval=5000"
entrypoint_flags="-XX:+UseSerialGC -Xss512k -XX:MaxRAMPercentage=70 -XX:+ExitOnOutOfMemoryError --enable-native-access=ALL-UNNAMED"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
printf %s aot-training >"$work/token" # a pod's token file has no newline
rm -f "$cache"

# shellcheck disable=SC2086 # the flags are words
env -i PATH="$PATH" HOME="$work" \
  JAVA_TOOL_OPTIONS="$agent_flags" \
  NODE_NAME=aot-training \
  TCPTUNE_POLICY_NAME=aot-training \
  TCPTUNE_POLICY_GENERATION=1 \
  TCPTUNE_POLICY_SPEC='{"mode":"DryRun","sysctls":{"tcpTwReuse":1,"tcpTimestamps":1,"ipLocalPortRange":"10240 65535"}}' \
  TCPTUNE_STATE_DIR="$work/state" \
  TCPTUNE_CENSUS_INTERVAL=1s \
  TCPTUNE_AGENT_PORT="${TCPTUNE_AGENT_PORT:-9479}" \
  KUBERNETES_SERVICE_HOST=127.0.0.1 \
  KUBERNETES_SERVICE_PORT=1 \
  KUBERNETES_AUTH_SERVICEACCOUNT_TOKEN="$work/token" \
  KUBECONFIG="$work/no-kubeconfig" \
  "$java" $entrypoint_flags -XX:AOTCacheOutput="$cache" -jar "$jar" agent >"$work/log" 2>&1 &
pid=$!
sleep "$seconds"
kill -TERM "$pid" 2>/dev/null || true
status=0
wait "$pid" || status=$?
if [ ! -s "$cache" ]; then
  echo "train-agent-aot: no AOT cache written (agent exit status $status); its output:" >&2
  cat "$work/log" >&2
  exit 1
fi
# What the agent and the JVM said, less stack traces and the classes a cache cannot hold
# (picocli's old class files, proxies, JFR events).
grep -v -e 'Skipping .*: [OUJN][a-z]' -e '^[[:space:]]' -e '^Caused by' "$work/log" || true
chmod 0644 "$cache"
echo "train-agent-aot: wrote $cache ($(wc -c <"$cache") bytes; agent exit status $status)"
