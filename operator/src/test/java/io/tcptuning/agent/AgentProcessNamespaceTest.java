package io.tcptuning.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.tcptuning.api.v1alpha1.NodePhase;
import io.tcptuning.api.v1alpha1.TcpTuningNodeState;
import io.tcptuning.api.v1alpha1.TcpTuningPolicy;
import io.tcptuning.operator.AgentDaemonSetFactory;
import io.tcptuning.operator.AgentSettings;
import io.tcptuning.testing.HttpWatchBridge;
import io.tcptuning.testing.MockApiServer;
import io.tcptuning.testing.SelfSignedCertificate;
import io.tcptuning.testing.TestNamespace;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The agent as the DaemonSet runs it: {@code tcptune agent} as a process with the operator's JVM
 * flags, talking TLS to the API server with a token file and a CA, tuning a namespace of its own.
 * It must tune and report, stay tuned through SIGTERM while the policy still wants the node, and
 * load none of the libraries it was made small by leaving behind.
 */
@Timeout(120)
class AgentProcessNamespaceTest {
  static final String NODE = "process-node";
  /** What the agent's runtime path must not load: each costs megabytes on every node. */
  static final List<String> HEAVY = List.of("com.fasterxml.jackson.databind.ObjectMapper", "com.fasterxml.jackson.core.",
      "io.fabric8.kubernetes.client.impl.", "io.fabric8.kubernetes.client.dsl.", "io.fabric8.kubernetes.client.http.",
      "io.micrometer.", "io.prometheus.", "io.javaoperatorsdk.", "java.net.http.",
      "picocli.CommandLine$"); // the parser's model of the commands; Main itself names picocli.CommandLine

  @TempDir Path dir;

  @Test
  void tunesReportsOverTlsKeepsTheNodeTunedThroughSigtermAndLoadsNoHeavyLibrary() throws Exception {
    java.util.logging.Logger.getLogger("io.fabric8.mockwebserver").setLevel(java.util.logging.Level.WARNING);
    SelfSignedCertificate cert = SelfSignedCertificate.create("ip:127.0.0.1");
    try (MockApiServer api = new MockApiServer(); HttpWatchBridge bridge = new HttpWatchBridge(api, cert.serverContext());
        KubernetesClient client = api.newClient(); TestNamespace ns = TestNamespace.create("agent-proc")) {
      String hostReuse = TestNamespace.hostSysctl("net.ipv4.tcp_tw_reuse");
      ns.setSysctl("net.ipv4.tcp_tw_reuse", "0");
      client.nodes().resource(new NodeBuilder().withNewMetadata().withName(NODE).withLabels(Map.of("tcptuning.io/profile", "high-churn"))
          .endMetadata().build()).create();
      TcpTuningPolicy policy = client.resource(Serialization.unmarshal(
          Files.readString(Path.of("../deploy/examples/high-churn-clients.yaml")), TcpTuningPolicy.class)).create();
      Path token = Files.writeString(dir.resolve("token"), "agent-token");
      Path classes = dir.resolve("classes.log");

      List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
      cmd.addAll(List.of(AgentSettings.DEFAULT_JAVA_TOOL_OPTIONS.split(" ")));
      cmd.addAll(List.of("--enable-native-access=ALL-UNNAMED", "-Xlog:class+load=info:file=" + classes,
          "-cp", System.getProperty("java.class.path"), "io.tcptuning.cli.Main", "agent"));
      ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(dir.resolve("agent.log").toFile());
      pb.environment().putAll(Map.of("NODE_NAME", NODE, "TCPTUNE_POLICY_NAME", policy.getMetadata().getName(),
          "TCPTUNE_POLICY_SPEC", AgentDaemonSetFactory.agentSpecJson(policy.getSpec()), "TCPTUNE_STATE_DIR", dir.toString(),
          "TCPTUNE_AGENT_PORT", "0", "TCPTUNE_NETNS", ns.path().toString(), "TCPTUNE_API_SERVER", bridge.url(),
          "TCPTUNE_API_TOKEN_FILE", token.toString(), "TCPTUNE_API_CA_FILE", cert.caPem().toString()));
      Process agent = pb.start();
      try {
        await().atMost(Duration.ofSeconds(60)).until(() -> {
          TcpTuningNodeState s = client.resources(TcpTuningNodeState.class).withName(NODE).get();
          return s != null && s.getStatus() != null && s.getStatus().getPhase() == NodePhase.Applied;
        });
        assertThat(ns.sysctl("net.ipv4.tcp_tw_reuse")).isEqualTo("1");
        assertThat(bridge.requests()).allSatisfy(r -> assertThat(r.authorization()).isEqualTo("Bearer agent-token"));
        await().atMost(Duration.ofSeconds(10)).until(() -> bridge.watchesOpened() >= 1);
      } finally {
        agent.destroy(); // SIGTERM, as the kubelet sends
        assertThat(agent.waitFor(30, TimeUnit.SECONDS)).as("agent exits on SIGTERM").isTrue();
      }
      // A restart is not a goodbye: the policy still wants the node.
      assertThat(ns.sysctl("net.ipv4.tcp_tw_reuse")).isEqualTo("1");
      assertThat(TestNamespace.hostSysctl("net.ipv4.tcp_tw_reuse")).isEqualTo(hostReuse);

      List<String> loaded = Files.readAllLines(classes).stream()
          .filter(l -> l.contains("[class,load]")).map(l -> l.split(" ")[1]).toList();
      assertThat(loaded).as("the agent's own classes are in the log").contains("io.tcptuning.agent.Agent", "sun.security.ssl.SSLSocketImpl");
      assertThat(loaded).as("heavy libraries loaded by the agent").filteredOn(c -> HEAVY.stream().anyMatch(c::startsWith)).isEmpty();
    } finally {
      cert.delete();
    }
  }
}
