package io.tcptuning.packaging;

import io.tcptuning.testing.ProjectPaths;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * There is no Docker engine here, so the Dockerfile is checked against what it must agree with: the
 * jar the build produces, the user the chart runs as, and the JVM that will read the flags.
 */
class DockerfileTest {

  private static final Path DOCKERFILE = Path.of("operator/cli/src/main/docker/Dockerfile");

  /** Every instruction in order, as {keyword, arguments}. */
  private static List<String[]> all;

  @BeforeAll
  static void parse() throws IOException {
    all = new ArrayList<>();
    StringBuilder logical = new StringBuilder();
    for (String line : Files.readAllLines(ProjectPaths.root().resolve(DOCKERFILE))) {
      if (line.isBlank() || line.stripLeading().startsWith("#")) {
        continue;
      }
      if (line.endsWith("\\")) {
        logical.append(line, 0, line.length() - 1).append(' ');
        continue;
      }
      logical.append(line);
      String[] parts = logical.toString().strip().split("\\s+", 2);
      all.add(new String[] {parts[0].toUpperCase(), parts.length > 1 ? parts[1] : ""});
      logical.setLength(0);
    }
  }

  @Test
  void runsOnATemurin25Jre() {
    assertThat(last("FROM")).isEqualTo("eclipse-temurin:25-jre");
  }

  @Test
  void copiesTheJarTheBuildProduces() throws IOException {
    assertThat(last("COPY")).isEqualTo("operator/cli/target/tcptune.jar /app/tcptune.jar");
    // operator/cli/target/tcptune.jar exists only if the CLI module's finalName stays "tcptune".
    String pom = Files.readString(ProjectPaths.root().resolve("operator/cli/pom.xml"));
    assertThat(pom).contains("<finalName>tcptune</finalName>");
    // The build context is the repository root with everything but the jar ignored.
    List<String> ignore = Files.readAllLines(ProjectPaths.root().resolve(".dockerignore"));
    assertThat(ignore).contains("*", "!operator/cli/target/tcptune.jar");
  }

  @Test
  void runsAsTheNonRootUserTheChartExpects() {
    Deployment operator = RenderedChart.render().get(Deployment.class, RenderedChart.RELEASE);
    long chartUser = operator.getSpec().getTemplate().getSpec().getSecurityContext().getRunAsUser();

    assertThat(last("USER")).isEqualTo(chartUser + ":" + chartUser);
    assertThat(arguments("RUN")).anySatisfy(run -> assertThat(run).contains("--uid " + chartUser).contains("--gid " + chartUser));
  }

  @Test
  void trainsTheAgentsAotCacheForTheJarItCopiesAndTheAgentsUseIt() throws IOException {
    String cache = "/app/tcptune-agent.aot";
    int copy = indexOf("COPY", "/app/tcptune.jar");
    int train = indexOf("RUN", "train-agent-aot.sh /app/tcptune.jar " + cache);
    int user = indexOf("USER", "");
    // After the jar's COPY (a new jar retrains), as root before USER (the cache is the image's).
    assertThat(copy).isNotNegative().isLessThan(train);
    assertThat(train).isLessThan(user);
    assertThat(all.get(train)[1]).contains("TRAINING_API_JAVA=", "from=training-api");
    assertThat(arguments("FROM")).contains("eclipse-temurin:25-jdk AS training-api");
    // What the step mounts from the build context must not be ignored.
    assertThat(Files.readAllLines(ProjectPaths.root().resolve(".dockerignore")))
        .contains("!operator/cli/src/main/docker/train-agent-aot.sh", "!operator/cli/src/main/docker/AotTrainingApi.java");
    assertThat(io.tcptuning.operator.AgentSettings.DEFAULT_JAVA_TOOL_OPTIONS.split(" ")).contains("-XX:AOTCache=" + cache).doesNotContain("-Xshare:off");
  }

  @Test
  void entrypointRunsTheJarWithSmallFootprintFlags() throws IOException {
    List<String> entrypoint = entrypoint();

    assertThat(entrypoint.getFirst()).isEqualTo("java");
    assertThat(entrypoint.subList(entrypoint.size() - 2, entrypoint.size()))
        .containsExactly("-jar", "/app/tcptune.jar");
    assertThat(entrypoint)
        .contains(
            "-XX:+UseSerialGC",
            "-Xss512k",
            "-XX:MaxRAMPercentage=70",
            "-XX:+ExitOnOutOfMemoryError",
            "--enable-native-access=ALL-UNNAMED");
  }

  @Test
  void thisJdkAcceptsTheEntrypointFlags() throws Exception {
    // A misspelt -XX flag stops the JVM before main(); catch that here, not in a CrashLoopBackOff.
    List<String> entrypoint = entrypoint();
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(entrypoint.subList(1, entrypoint.size() - 2));
    command.add("-version");
    Process java = new ProcessBuilder(command).redirectErrorStream(true).start();
    String output = new String(java.getInputStream().readAllBytes(), StandardCharsets.UTF_8);

    assertThat(java.waitFor()).as("%s\n%s", command, output).isZero();
    assertThat(Runtime.version().feature()).isGreaterThanOrEqualTo(25);
  }

  @Test
  void theAgentAotTrainingScriptRunsTheAgentWithTheFlagsItRunsWith() throws IOException {
    // A cache is used only by a JVM started as it was trained (GC, compact object headers): the
    // script's flags are the agents' JAVA_TOOL_OPTIONS with class sharing on, then the ENTRYPOINT's.
    String script = Files.readString(ProjectPaths.root().resolve("operator/cli/src/main/docker/train-agent-aot.sh"));
    List<String> agentFlags = new ArrayList<>(List.of(io.tcptuning.operator.AgentSettings.DEFAULT_JAVA_TOOL_OPTIONS.split(" ")));
    agentFlags.removeIf(f -> f.startsWith("-XX:AOTCache="));
    List<String> entrypoint = entrypoint();

    assertThat(script).contains("agent_flags=\"" + String.join(" ", agentFlags) + "\"");
    assertThat(script).contains("entrypoint_flags=\"" + String.join(" ", entrypoint.subList(1, entrypoint.size() - 2)) + "\"");
    // DryRun (it writes nothing), the API server on loopback (the stand-in, or a closed port).
    assertThat(script).contains("\"mode\":\"DryRun\"", "KUBERNETES_SERVICE_HOST=127.0.0.1", "-XX:AOTCacheOutput=", "AotTrainingApi.java");
  }

  /** The arguments of the last {@code keyword} instruction (the one that counts, for FROM, USER, ENTRYPOINT). */
  private static String last(String keyword) {
    List<String> found = arguments(keyword);
    return found.isEmpty() ? null : found.getLast();
  }

  private static List<String> arguments(String keyword) {
    return all.stream().filter(i -> i[0].equals(keyword)).map(i -> i[1]).toList();
  }

  /** The index of the first {@code keyword} instruction whose arguments contain {@code text}, or -1. */
  private static int indexOf(String keyword, String text) {
    for (int i = 0; i < all.size(); i++) {
      if (all.get(i)[0].equals(keyword) && all.get(i)[1].contains(text)) {
        return i;
      }
    }
    return -1;
  }

  private static List<String> entrypoint() throws IOException {
    // Exec form only: a shell form would swallow SIGTERM and break graceful leader hand-over.
    return new ObjectMapper().readValue(last("ENTRYPOINT"), new TypeReference<>() {});
  }
}
