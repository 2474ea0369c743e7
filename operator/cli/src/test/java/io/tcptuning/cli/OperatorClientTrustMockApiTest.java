package io.tcptuning.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.tcptuning.testing.DefaultTrustStore;
import io.tcptuning.testing.MockApiServer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The operator's client, and the reachability probe it starts with, trust the CA their
 * configuration names and not the JVM's default trust store, which fabric8 on its own merges in
 * (there, the public CAs of {@code cacerts}); with no CA named, the JVM's default stays.
 */
class OperatorClientTrustMockApiTest {
  @TempDir Path dir;

  static Config config(MockApiServer server, Path ca) {
    ConfigBuilder b = new ConfigBuilder(Config.empty()).withMasterUrl("https://localhost:" + server.port())
        .withOauthToken("operator-token").withRequestRetryBackoffLimit(0);
    return (ca == null ? b : b.withCaCertFile(ca.toString())).build();
  }

  @Test
  void trustsTheConfiguredCaAndNothingFromTheJvmsDefaultTrustStore() throws Exception {
    try (MockApiServer api = new MockApiServer(true); MockApiServer other = new MockApiServer(true)) {
      Config rightCa = config(api, api.caPem());
      try (KubernetesClient client = OperatorCommand.newClient(rightCa)) {
        assertThat(client.nodes().list().getItems()).isEmpty();
      }
      assertThat(OperatorCommand.unreachable(rightCa)).isEmpty();

      // The JVM's default trust store vouches for the server; the CA configured is another one.
      Config wrongCa = config(api, other.caPem());
      try (DefaultTrustStore jvm = DefaultTrustStore.trusting(api.caPem(), dir)) {
        jvm.assertOnlyTheConfiguredCaIsTrusted(wrongCa, OperatorCommand::newClient);

        assertThat(OperatorCommand.unreachable(wrongCa)).hasValueSatisfying(why -> assertThat(why)
            .startsWith("cannot reach the Kubernetes API server at https://localhost:" + api.port())
            .contains("(TLS: the server's certificate is not signed by the CA in " + other.caPem() + ")")
            .doesNotContain("Exception"));
      }
    }
  }

  @Test
  void noCaConfiguredLeavesTheJvmsDefaultTrustStore() throws Exception {
    try (MockApiServer api = new MockApiServer(true)) {
      Config noCa = config(api, null);
      assertThat(OperatorCommand.unreachable(noCa)).hasValueSatisfying(why -> assertThat(why)
          .contains("(TLS: the server's certificate is not signed by a CA of the JVM's default trust store (no CA configured))")
          .doesNotContain("Exception"));
      try (DefaultTrustStore jvm = DefaultTrustStore.trusting(api.caPem(), dir)) {
        assertThat(OperatorCommand.unreachable(noCa)).isEmpty();
        try (KubernetesClient client = OperatorCommand.newClient(noCa)) {
          assertThat(client.nodes().list().getItems()).isEmpty();
        }
      }
    }
  }

  @Test
  void anotherTlsFailureIsSaidInWordsWithWhatIsTrusted() throws Exception {
    try (MockApiServer api = new MockApiServer(true)) {
      // The server's certificate names localhost only: the right CA, the wrong host name.
      Config byAddress = new ConfigBuilder(config(api, api.caPem())).withMasterUrl("https://127.0.0.1:" + api.port()).build();
      assertThat(OperatorCommand.unreachable(byAddress)).hasValueSatisfying(why -> assertThat(why)
          .contains("(TLS: No subject alternative names present; trusting the CA in " + api.caPem() + ")")
          .doesNotContain("Exception"));
    }
  }

  @Test
  void aCaThatCannotBeReadIsSaidInOneLine() throws Exception {
    try (MockApiServer api = new MockApiServer(true)) {
      Path garbage = Files.writeString(dir.resolve("ca.crt"), "not a certificate\n");
      assertThat(OperatorCommand.unreachable(config(api, garbage))).hasValueSatisfying(why -> assertThat(why)
          .startsWith("cannot read the cluster CA " + garbage + ": ").doesNotContain("Exception"));
      Path missing = dir.resolve("missing.crt");
      assertThat(OperatorCommand.unreachable(config(api, missing))).hasValue("cannot read the cluster CA " + missing + ": no such file");
    }
  }

  /** {@code tcptune operator} as a process, its CA another than the server's: one line on the terminal, no class names. */
  @Test
  void theOperatorProcessRefusesAServerItsCaDoesNotSignInOneLine() throws Exception {
    try (MockApiServer api = new MockApiServer(true); MockApiServer other = new MockApiServer(true);
        DefaultTrustStore jvm = DefaultTrustStore.trusting(api.caPem(), dir)) {
      List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
      command.addAll(jvm.jvmOptions()); // the JVM's default trust store vouches for the server
      command.addAll(List.of("-cp", System.getProperty("java.class.path"), Main.class.getName(), "operator"));
      ProcessBuilder pb = new ProcessBuilder(command);
      pb.environment().remove("KUBERNETES_SERVICE_HOST");
      pb.environment().put("KUBERNETES_MASTER", "https://localhost:" + api.port());
      pb.environment().put("KUBERNETES_CERTS_CA_FILE", other.caPem().toString());
      pb.environment().put("KUBERNETES_AUTH_TRYKUBECONFIG", "false");
      pb.environment().put("KUBERNETES_AUTH_TRYSERVICEACCOUNT", "false");
      pb.redirectErrorStream(true);
      Process p = pb.start();
      try {
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).as("exits within 30 s").isTrue();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.exitValue()).as(out).isEqualTo(Main.EXIT_FAILED);
        assertThat(out.lines().toList()).as(out).singleElement().asString()
            .startsWith("tcptune operator: cannot reach the Kubernetes API server at https://localhost:" + api.port())
            .contains("not signed by the CA in " + other.caPem())
            .doesNotContain("Exception");
      } finally {
        p.destroyForcibly();
      }
    }
  }
}
