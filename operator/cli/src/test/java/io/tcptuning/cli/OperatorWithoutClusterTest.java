package io.tcptuning.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * {@code tcptune operator} as a process with no API server to talk to: it says so in one line
 * naming the URL it tried, within seconds, instead of JOSDK's retries and stack traces.
 */
class OperatorWithoutClusterTest {
  @Test
  void noReachableApiServerFailsFastInOneLineNamingTheUrl() throws Exception {
    int closedPort;
    try (ServerSocket s = new ServerSocket(0)) {
      closedPort = s.getLocalPort();
    }
    String url = "https://127.0.0.1:" + closedPort;
    ProcessBuilder pb = new ProcessBuilder(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp", System.getProperty("java.class.path"),
        Main.class.getName(), "operator");
    pb.environment().remove("KUBERNETES_SERVICE_HOST");
    pb.environment().put("KUBERNETES_MASTER", url);
    pb.environment().put("KUBECONFIG", "/nonexistent/kubeconfig");
    pb.redirectErrorStream(true);

    long start = System.nanoTime();
    Process p = pb.start();
    try {
      assertThat(p.waitFor(15, TimeUnit.SECONDS)).as("exits within 15 s").isTrue();
      Duration took = Duration.ofNanos(System.nanoTime() - start);
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);

      assertThat(p.exitValue()).as(out).isNotZero();
      assertThat(out.lines().toList()).as(out).singleElement().asString()
          .startsWith("tcptune operator: cannot reach the Kubernetes API server at " + url)
          .doesNotContain("Exception");
      // Nothing asked it to stop: no SIGTERM to speak of.
      assertThat(out).doesNotContain("SIGTERM");
      assertThat(took).as("took %s", took).isLessThan(Duration.ofSeconds(15));
    } finally {
      p.destroyForcibly();
    }
  }
}
