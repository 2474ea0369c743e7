#!/bin/sh
# Trains the node agent's AOT cache (JEP 483/514) as a Dockerfile build can, with no cluster:
# runs the real `tcptune.jar agent` with the JVM flags the operator gives the agents and the
# environment their DaemonSet sets, a DryRun policy (it writes no sysctl, no journal), against a
# stand-in API server on loopback (AotTrainingApi.java, beside this script: HTTPS, canned
# objects), so that the start-up a node runs (the TLS handshake, reading the policy, the node and
# the pods, creating the node state and writing its status, the watches, the census, netlink, the
# namespace scanner) arrives in the cache. After SECONDS the agent is stopped with SIGTERM, and
# the JVM writes the cache as it exits.
#
# Usage: train-agent-aot.sh JAR CACHE [SECONDS]   (default 8)
#   JAVA              the JVM that will run the agent (else $JAVA_HOME/bin/java, else java): the
#                     cache belongs to that JVM build
#   TRAINING_API_JAVA a JDK's java that can run a source file, for the stand-in API server; when
#                     unset, the API server is a closed port (the TLS handshake and the reading of
#                     real answers then stay out of the cache: about 0.5 s more to the first report)
# A cache belongs to one JVM build and one jar: JDK 25.0.3 was seen to use a cache's classes for
# another jar of other content, size and path without a word, so retrain whenever the jar changes
# (in the Dockerfile the training RUN follows the jar's COPY).
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
api_pid=
trap 'if [ -n "$api_pid" ]; then kill "$api_pid" 2>/dev/null || true; fi; rm -rf "$work"' EXIT
printf %s aot-training >"$work/token" # a pod's token file has no newline
rm -f "$cache"

api_port=1 # closed: every call fails fast
agent_port=${TCPTUNE_AGENT_PORT:-9479}
ca=
if [ -n "${TRAINING_API_JAVA:-}" ]; then
  # The stand-in API server's key and certificate (for 127.0.0.1), made with the image's keytool;
  # the agent trusts that certificate as a pod trusts its cluster's CA.
  keytool=$(dirname "$java")/keytool
  command -v "$keytool" >/dev/null 2>&1 || keytool=keytool
  if ! { "$keytool" -genkeypair -keystore "$work/api.p12" -storetype PKCS12 -storepass aot-training -alias api \
      -keyalg EC -groupname secp256r1 -dname CN=aot-training -ext san=ip:127.0.0.1 -validity 2 &&
    "$keytool" -exportcert -rfc -keystore "$work/api.p12" -storepass aot-training -alias api -file "$work/ca.crt"; } >"$work/keytool.log" 2>&1; then
    echo "train-agent-aot: keytool could not make the stand-in API server's key; its output:" >&2
    cat "$work/keytool.log" >&2
    exit 1
  fi
  ca="$work/ca.crt"
  api_port=${TCPTUNE_TRAINING_API_PORT:-6443} # below the trained port range (10240-)
  # It also scrapes the agent's /metrics every second, as Prometheus would.
  "$TRAINING_API_JAVA" -cp "$jar" "$(dirname "$0")/AotTrainingApi.java" "$work/api.p12" aot-training "$api_port" "$work/api-ready" "$agent_port" >"$work/api.log" 2>&1 &
  api_pid=$!
  waited=0
  while [ ! -e "$work/api-ready" ]; do
    if ! kill -0 "$api_pid" 2>/dev/null || [ "$waited" -ge 300 ]; then
      echo "train-agent-aot: the stand-in API server did not start; its output:" >&2
      cat "$work/api.log" >&2
      exit 1
    fi
    sleep 0.1
    waited=$((waited + 1))
  done
fi

# shellcheck disable=SC2086 # the flags are words
env -i PATH="$PATH" HOME="$work" \
  JAVA_TOOL_OPTIONS="$agent_flags" \
  NODE_NAME=aot-training \
  TCPTUNE_POLICY_NAME=aot-training \
  TCPTUNE_POLICY_GENERATION=1 \
  TCPTUNE_POLICY_SPEC='{"mode":"DryRun","sysctls":{"tcpTwReuse":1,"tcpTimestamps":1,"ipLocalPortRange":"10240 65535"}}' \
  TCPTUNE_STATE_DIR="$work/state" \
  TCPTUNE_CENSUS_INTERVAL=1s \
  TCPTUNE_AGENT_PORT="$agent_port" \
  KUBERNETES_SERVICE_HOST=127.0.0.1 \
  KUBERNETES_SERVICE_PORT="$api_port" \
  KUBERNETES_AUTH_SERVICEACCOUNT_TOKEN="$work/token" \
  ${ca:+KUBERNETES_CERTS_CA_FILE="$ca"} \
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
if [ -n "$api_pid" ]; then
  echo "train-agent-aot: the stand-in API server answered $(grep -c -e '^GET ' -e '^POST ' -e '^PUT ' "$work/api.log") requests: $(grep -e '^GET ' -e '^POST ' -e '^PUT ' "$work/api.log" | sed 's/?.*//' | sort | uniq -c | awk '{printf "%s%s %s x%s", sep, $2, $3, $1; sep=", "}')"
  echo "train-agent-aot: the agent's /metrics answered $(grep -c '^SCRAPE /metrics 200' "$work/api.log") scrapes"
fi
chmod 0644 "$cache"
echo "train-agent-aot: wrote $cache ($(wc -c <"$cache") bytes; agent exit status $status)"
