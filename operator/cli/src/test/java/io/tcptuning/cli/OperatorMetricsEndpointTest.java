package io.tcptuning.operator;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.tcptuning.api.v1alpha1.TcpTuningPolicyStatus;
import io.tcptuning.api.v1alpha1.TcpTuningPolicyStatus.NodeCounts;
import io.tcptuning.cli.Main;
import io.tcptuning.metrics.MetricsHttpServer;
import java.io.ByteArrayOutputStream;
import java.io.PrintWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

class OperatorMetricsEndpointTest {

  @Test
  void servesMetricsAndProbes() throws Exception {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    PolicyMetrics metrics = new PolicyMetrics(registry);
    TcpTuningPolicyStatus s = new TcpTuningPolicyStatus();
    s.setNodes(new NodeCounts(5, 3, 1, 1, 0, 1));
    s.setMaxPressure(0.42);
    metrics.update("web", s);
    metrics.statusWritten("web");
    AtomicBoolean ready = new AtomicBoolean(false);
    try (MetricsHttpServer server = new MetricsHttpServer(0, registry::scrape, () -> true, ready::get);
        HttpClient http = HttpClient.newHttpClient()) {
      String base = "http://127.0.0.1:" + server.port();
      HttpResponse<String> m = http.send(HttpRequest.newBuilder(URI.create(base + "/metrics")).build(), HttpResponse.BodyHandlers.ofString());
      assertThat(m.statusCode()).isEqualTo(200);
      assertThat(m.body())
          .contains("tcptuning_policy_nodes{policy=\"web\",state=\"applied\"} 3.0")
          .contains("tcptuning_policy_nodes{policy=\"web\",state=\"failed\"} 1.0")
          .contains("tcptuning_policy_max_pressure{policy=\"web\"} 0.42")
          .contains("tcptuning_policy_status_writes_total{policy=\"web\"} 1.0");
      assertThat(http.send(HttpRequest.newBuilder(URI.create(base + "/healthz")).build(), HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(200);
      assertThat(http.send(HttpRequest.newBuilder(URI.create(base + "/readyz")).build(), HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(503);
      ready.set(true);
      assertThat(http.send(HttpRequest.newBuilder(URI.create(base + "/readyz")).build(), HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(200);

      metrics.remove("web");
      String after = http.send(HttpRequest.newBuilder(URI.create(base + "/metrics")).build(), HttpResponse.BodyHandlers.ofString()).body();
      assertThat(after).doesNotContain("policy=\"web\"");
    }
  }

  @Test
  void operatorIsASubcommandThatDocumentsItsEnvironment() {
    var cmd = Main.commandLine();
    assertThat(cmd.getSubcommands()).containsKey("operator");
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    cmd.setOut(new PrintWriter(out, true));
    assertThat(cmd.execute("operator", "--help")).isZero();
    assertThat(out.toString()).contains("TCPTUNE_STATUS_DEBOUNCE").contains("TCPTUNE_REVERT_TIMEOUT").contains("TCPTUNE_METRICS_PORT");
  }
}
