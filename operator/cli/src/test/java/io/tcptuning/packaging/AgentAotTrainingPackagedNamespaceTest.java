package io.tcptuning.packaging;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.tcptuning.operator.AgentSettings;
import io.tcptuning.testing.ProjectPaths;
import io.tcptuning.testing.TestNamespace;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The image's training of the agent's AOT cache, run as the Dockerfile runs it (the same script on
 * the packaged jar, a JDK for the stand-in API server) in a network namespace of its own: the
 * agent must get through its whole start against the stand-in, up to writing its status, and the
 * cache must be one that a JVM started with the agents' flags uses. Runs in verify, after package.
 */
class AgentAotTrainingPackagedNamespaceTest {
  @TempDir Path dir;

  @Test
  void theTrainingRunWritesTheNodeStatusAndTheAgentsFlagsUseTheCache() throws Exception {
    assumeTrue(TestNamespace.canCreate(), "needs root for network namespaces");
    Path jar = ProjectPaths.resolve("operator/cli/target/tcptune.jar");
    assertThat(jar).as("packaged before verify").exists();
    Path cache = dir.resolve("agent.aot");
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    AgentAotTraining.Run training = AgentAotTraining.train(jar, cache);
    String output = training.output();
    assertThat(training.exit()).as(output).isZero();
    // The start a node runs, against the stand-in: policy, node and pods read, status written.
    assertThat(output).as(output)
        .contains("GET /apis/tcptuning.io/v1alpha1/tcptuningpolicies/aot-training", "GET /api/v1/nodes/aot-training", "GET /api/v1/pods",
            "POST /apis/tcptuning.io/v1alpha1/tcptuningnodestates", "PUT /apis/tcptuning.io/v1alpha1/tcptuningnodestates/aot-training/status")
        .doesNotContain("cannot write node state").doesNotContain("cannot reach the API server");
    // Scraped as Prometheus scrapes it, so that the exposition path is in the cache too.
    assertThat(output).as(output).containsPattern("the agent's /metrics answered [1-9][0-9]* scrapes");
    assertThat(cache).isNotEmptyFile();

    // A JVM with the agents' flags (the operator's JAVA_TOOL_OPTIONS, then the image's
    // ENTRYPOINT flags) uses it: with -XX:AOTMode=on a cache it cannot use stops it.
    List<String> cmd = new ArrayList<>(List.of(java));
    cmd.addAll(List.of(AgentSettings.DEFAULT_JAVA_TOOL_OPTIONS.replace(AgentSettings.AOT_CACHE, cache.toString()).split(" ")));
    cmd.addAll(List.of("-XX:+UseSerialGC", "-Xss512k", "-XX:MaxRAMPercentage=70", "-XX:+ExitOnOutOfMemoryError", "--enable-native-access=ALL-UNNAMED",
        "-XX:AOTMode=on", "-Xlog:class+load=info", "-jar", jar.toString(), "--version"));
    Process run = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String ran = new String(run.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(run.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(run.exitValue()).as(ran).isZero();
    assertThat(ran).as("the agent's classes come from the cache").contains("io.tcptuning.cli.Main source: shared objects file");
  }
}
