# Shared by the bench scripts (sourced, from the repository root). Every step says why when it
# fails, so that a bench on a fresh clone either runs or tells what is missing.
export JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
if [ ! -x "$JAVA_HOME/bin/java" ]; then
  echo "bench: no JDK at $JAVA_HOME (set JAVA_HOME to a JDK 25)" >&2
  exit 1
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "bench: needs root (it creates network namespaces)" >&2
  exit 1
fi

# Runs Maven quietly; on failure shows the end of what Maven said and exits.
bench_mvn() {
  local log
  log=$(mktemp)
  if ! ./mvnw -B -ntp "$@" >"$log" 2>&1; then
    echo "bench: ./mvnw $* failed; the end of its output:" >&2
    tail -n 40 "$log" >&2
    rm -f "$log"
    exit 1
  fi
  rm -f "$log"
}

# Builds every module and installs it (with its test jar) in the local Maven repository, so that
# the CLI module's tests, where the benches live, resolve their class path in a later call.
bench_build() {
  echo "bench: building (./mvnw install -DskipTests)..." >&2
  bench_mvn install -DskipTests
}

# The CLI module's test class path: every module's classes, test classes and dependencies.
bench_classpath() {
  bench_mvn -pl operator/cli org.apache.maven.plugins:maven-dependency-plugin:3.7.0:build-classpath \
    -Dmdep.outputFile=target/bench.classpath -Dmdep.includeScope=test
  echo "operator/cli/target/test-classes:operator/cli/target/classes:$(cat operator/cli/target/bench.classpath)"
}

TCPTUNE_JAR_BUILT="$PWD/operator/cli/target/tcptune.jar"
