package io.tcptuning.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.tcptuning.testing.DefaultTrustStore;
import io.tcptuning.testing.MockApiServer;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.net.ssl.SSLHandshakeException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The agent's client trusts the cluster CA it is given, and not the JVM's default trust store,
 * which fabric8 on its own merges in (there, the public CAs of {@code cacerts}).
 */
class ClusterCaTrustMockApiTest {
  @TempDir Path dir;

  static Config config(MockApiServer server, Path ca) {
    return new ConfigBuilder(Config.empty()).withMasterUrl("https://localhost:" + server.port()).withCaCertFile(ca.toString())
        .withOauthToken("agent-token").withRequestRetryBackoffLimit(0).build();
  }

  @Test
  void trustsTheClusterCaAndNothingFromTheJvmsDefaultTrustStore() throws Exception {
    try (MockApiServer api = new MockApiServer(true); MockApiServer other = new MockApiServer(true)) {
      try (KubernetesClient client = NodeStateReporter.newClient(config(api, api.caPem()))) {
        assertThat(client.nodes().list().getItems()).isEmpty(); // the cluster CA: trusted
      }

      // The JVM's default trust store vouches for the server; the CA configured is another one.
      Config wrongCa = config(api, other.caPem());
      try (DefaultTrustStore jvm = DefaultTrustStore.trusting(api.caPem(), dir)) {
        try (KubernetesClient plain = new KubernetesClientBuilder().withConfig(wrongCa).build()) {
          assertThat(plain.nodes().list().getItems()).as("fabric8 alone trusts the JVM's default store too").isEmpty();
        }
        assertThatThrownBy(() -> {
          try (KubernetesClient agent = NodeStateReporter.newClient(wrongCa)) {
            agent.nodes().list();
          }
        }).isInstanceOf(KubernetesClientException.class)
            .satisfies(e -> assertThat(causes(e)).anyMatch(SSLHandshakeException.class::isInstance));
      }
    }
  }

  @Test
  void aClusterCaThatCannotBeReadGivesNoClientRatherThanOneThatTrustsMore() throws Exception {
    try (MockApiServer api = new MockApiServer(true)) {
      Path garbage = Files.writeString(dir.resolve("ca.crt"), "not a certificate\n");
      assertThatThrownBy(() -> NodeStateReporter.newClient(config(api, garbage)))
          .isInstanceOf(KubernetesClientException.class).hasMessageContaining("cannot read the cluster CA " + garbage);
    }
  }

  static java.util.List<Throwable> causes(Throwable e) {
    java.util.List<Throwable> out = new java.util.ArrayList<>();
    for (Throwable t = e; t != null && !out.contains(t); t = t.getCause()) {
      out.add(t);
    }
    return out;
  }
}
