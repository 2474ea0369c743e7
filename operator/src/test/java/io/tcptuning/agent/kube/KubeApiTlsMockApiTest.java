package io.tcptuning.agent.kube;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.tcptuning.agent.NodeStateReporter;
import io.tcptuning.testing.HttpWatchBridge;
import io.tcptuning.testing.MockApiServer;
import io.tcptuning.testing.SelfSignedCertificate;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import javax.net.ssl.SSLHandshakeException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@link KubeApi} over TLS, as in a pod: it trusts exactly the CA it is given (the service
 * account's {@code ca.crt}), checks the server's name, and watches over the same TLS setup.
 */
@Timeout(120)
class KubeApiTlsMockApiTest {
  static final String POLICIES = KubeApiMockApiTest.POLICIES;

  static MockApiServer mock;
  static SelfSignedCertificate serverCert;
  static HttpWatchBridge bridge;

  @BeforeAll
  static void start() throws Exception {
    java.util.logging.Logger.getLogger("io.fabric8.mockwebserver").setLevel(java.util.logging.Level.WARNING);
    mock = new MockApiServer();
    serverCert = SelfSignedCertificate.create("ip:127.0.0.1");
    bridge = new HttpWatchBridge(mock, serverCert.serverContext());
  }

  @AfterAll
  static void stop() throws Exception {
    bridge.close();
    mock.close();
    serverCert.delete();
  }

  static KubeApi trusting(SelfSignedCertificate ca) throws Exception {
    assertThat(bridge.url()).startsWith("https://");
    return KubeApi.create(KubeApi.Config.of(bridge.url(), () -> "t0k3n").withTls(PemTrust.sslContext(ca.caPem())), NodeStateReporter.JSON);
  }

  @Test
  void aServerSignedByTheGivenCaIsTrustedForRequestsAndWatches() throws Exception {
    try (KubeApi api = trusting(serverCert)) {
      List<Optional<Map<String, Object>>> seen = new CopyOnWriteArrayList<>();
      try (ObjectWatch watch = api.watchOne(POLICIES, "tls-1", seen::add)) {
        await().atMost(Duration.ofSeconds(10)).until(() -> seen.size() == 1);
        api.post(POLICIES, KubeApiMockApiTest.policy("tls-1", false));
        await().atMost(Duration.ofSeconds(10)).until(() -> seen.size() == 2 && seen.get(1).isPresent());
      }
      assertThat(api.get(POLICIES + "/tls-1")).isPresent();
    }
  }

  @Test
  void requestsShareOneKeptAliveConnection() throws Exception {
    // A TLS handshake per request would cost the agent CPU on every report.
    try (KubeApi api = trusting(serverCert)) {
      int before = bridge.requests().size();
      for (int i = 0; i < 5; i++) {
        api.get(POLICIES + "/keep-alive-" + i);
      }
      List<HttpWatchBridge.SeenRequest> mine = bridge.requests().subList(before, bridge.requests().size());
      assertThat(mine).hasSize(5);
      assertThat(mine.stream().map(HttpWatchBridge.SeenRequest::clientPort).distinct()).hasSize(1);
    }
  }

  @Test
  void aServerSignedBySomeoneElseIsRefused() throws Exception {
    SelfSignedCertificate stranger = SelfSignedCertificate.create("ip:127.0.0.1");
    try (KubeApi api = trusting(stranger)) {
      assertThatThrownBy(() -> api.get(POLICIES + "/any")).isInstanceOf(SSLHandshakeException.class);
    } finally {
      stranger.delete();
    }
  }

  @Test
  void aTrustedCertificateForAnotherNameIsRefused() throws Exception {
    SelfSignedCertificate otherName = SelfSignedCertificate.create("dns:api.example.invalid");
    try (HttpWatchBridge misnamed = new HttpWatchBridge(mock, otherName.serverContext());
        KubeApi api = KubeApi.create(KubeApi.Config.of(misnamed.url(), () -> "t0k3n").withTls(PemTrust.sslContext(otherName.caPem())),
            NodeStateReporter.JSON)) {
      assertThatThrownBy(() -> api.get(POLICIES + "/any")).isInstanceOf(SSLHandshakeException.class)
          .hasMessageContaining("127.0.0.1");
    } finally {
      otherName.delete();
    }
  }
}
