package io.tcptuning.operator;

import static io.tcptuning.operator.Fixtures.newPolicy;
import static io.tcptuning.operator.Fixtures.node;
import static io.tcptuning.operator.MockApi.NAMESPACE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.tcptuning.cli.Main;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * {@code tcptune operator} as a process: configured by environment variables, talking to the mock
 * API server, serving /metrics and the probes, and stopping on SIGTERM.
 */
@EnableKubernetesMockClient(crud = true)
class OperatorCommandMockApiTest {
  KubernetesMockServer server;
  KubernetesClient client;

  @Test
  void runsUntilSigterm() throws Exception {
    MockApi.registerCrds(client);
    client.resource(node("w1")).create();
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    Path log = Files.createTempFile("operator", ".log");
    ProcessBuilder pb =
        new ProcessBuilder(
            Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "-cp", System.getProperty("java.class.path"),
            Main.class.getName(), "operator");
    var env = pb.environment();
    env.put("KUBERNETES_MASTER", client.getMasterUrl().toString());
    env.put("KUBERNETES_TRUST_CERTIFICATES", "true");
    env.put("KUBERNETES_AUTH_TRYKUBECONFIG", "false");
    env.put("KUBERNETES_AUTH_TRYSERVICEACCOUNT", "false");
    env.put("TCPTUNE_NAMESPACE", NAMESPACE);
    env.put("TCPTUNE_AGENT_IMAGE", "registry.example/tcptune:9.9.9");
    env.put("TCPTUNE_LEADER_ELECTION", "false");
    env.put("TCPTUNE_METRICS_PORT", String.valueOf(port));
    env.put("TCPTUNE_STATUS_DEBOUNCE", "100ms");
    pb.redirectErrorStream(true).redirectOutput(log.toFile());
    Process p = pb.start();
    try (HttpClient http = HttpClient.newHttpClient()) {
      String base = "http://127.0.0.1:" + port;
      await().atMost(Duration.ofSeconds(60)).ignoreExceptions().until(() -> get(http, base + "/readyz").statusCode() == 200);

      client.resource(newPolicy("web", 0, null)).create();
      await().atMost(Duration.ofSeconds(30)).until(() -> client.apps().daemonSets().inNamespace(NAMESPACE).withName("tcp-tuning-agent-web").get() != null);
      var ds = client.apps().daemonSets().inNamespace(NAMESPACE).withName("tcp-tuning-agent-web").get();
      assertThat(ds.getSpec().getTemplate().getSpec().getContainers().getFirst().getImage()).isEqualTo("registry.example/tcptune:9.9.9");
      await().atMost(Duration.ofSeconds(30)).until(() -> get(http, base + "/metrics").body().contains("tcptuning_policy_nodes{policy=\"web\",state=\"pending\"} 1.0"));
      String metrics = get(http, base + "/metrics").body();
      assertThat(metrics).contains("operator_sdk_").contains("jvm_memory_used_bytes");
      assertThat(get(http, base + "/healthz").statusCode()).isEqualTo(200);

      p.destroy(); // SIGTERM
      assertThat(p.waitFor(30, TimeUnit.SECONDS)).as("exits after SIGTERM; log: %s", log).isTrue();
      assertThat(p.exitValue()).as("the JVM's own exit on SIGTERM").isEqualTo(128 + 15);
      assertThat(Files.readString(log)).contains("stopping: SIGTERM received");
    } finally {
      p.destroyForcibly();
      Files.deleteIfExists(log);
    }
  }

  @Test
  void badConfigurationExitsWithCodeTwoAndNamesTheVariable() throws Exception {
    ProcessBuilder pb =
        new ProcessBuilder(
            Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp", System.getProperty("java.class.path"), Main.class.getName(), "operator");
    pb.environment().put("TCPTUNE_STATUS_DEBOUNCE", "soon");
    pb.redirectErrorStream(true);
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes());
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).isEqualTo(Main.EXIT_INVALID);
    assertThat(out).contains("TCPTUNE_STATUS_DEBOUNCE");
  }

  private static HttpResponse<String> get(HttpClient http, String url) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
  }
}
