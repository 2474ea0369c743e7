package io.tcptuning.packaging;

import io.tcptuning.testing.ProjectPaths;
import io.tcptuning.testing.TestNamespace;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The image's training of the agent's AOT cache, run here as the Dockerfile runs it: {@code
 * train-agent-aot.sh} on the given jar, by this JVM, with this JDK running the stand-in API
 * server, in a network namespace made for it (the stand-in listens on its loopback).
 */
public final class AgentAotTraining {
  /** How the training ended: the script's exit status and everything it printed. */
  public record Run(int exit, String output) {}

  private AgentAotTraining() {}

  public static Run train(Path jar, Path cache) throws Exception {
    String javaHome = System.getProperty("java.home");
    try (TestNamespace ns = TestNamespace.create("aot-train")) {
      ProcessBuilder pb = ns.builder(List.of("sh", ProjectPaths.resolve("operator/cli/src/main/docker/train-agent-aot.sh").toString(),
          jar.toString(), cache.toString())).redirectErrorStream(true);
      pb.environment().put("JAVA_HOME", javaHome);
      pb.environment().put("TRAINING_API_JAVA", Path.of(javaHome, "bin", "java").toString());
      Process training = pb.start();
      String output = new String(training.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!training.waitFor(120, TimeUnit.SECONDS)) {
        training.destroyForcibly();
        return new Run(-1, output + "\n(still running after 120 s: stopped)");
      }
      return new Run(training.exitValue(), output);
    }
  }
}
