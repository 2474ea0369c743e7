package io.tcptuning.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.tcptuning.testing.DefaultTrustStore;
import io.tcptuning.testing.MockApiServer;
import java.nio.file.Files;
import java.nio.file.Path;
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
        jvm.assertOnlyTheConfiguredCaIsTrusted(wrongCa, NodeStateReporter::newClient);
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
}
