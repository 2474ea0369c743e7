package io.tcptuning.agent;

import io.tcptuning.testing.ProjectPaths;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.fabric8.mockwebserver.http.RecordedRequest;
import io.tcptuning.api.v1alpha1.NodePhase;
import io.tcptuning.api.v1alpha1.TcpTuningNodeState;
import io.tcptuning.api.v1alpha1.TcpTuningPolicy;
import io.tcptuning.operator.AgentDaemonSetFactory;
import io.tcptuning.operator.AgentSettings;
import io.tcptuning.testing.MockApiServer;
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
 * flags, finding the API server as a pod does (service host and port, a service-account token
 * file, the CA) and talking TLS to it, tuning a namespace of its own. It must tune, report with
 * its token, follow the policy with a watch, serve its metrics through micrometer, and stay tuned
 * through SIGTERM while the policy still wants the node.
 */
@Timeout(120)
class AgentProcessNamespaceTest {
  static final String NODE = "process-node";

  @TempDir Path dir;

  @Test
  void tunesAndReportsOverTlsWithItsTokenAndKeepsTheNodeTunedThroughSigterm() throws Exception {
    java.util.logging.Logger.getLogger("io.fabric8.mockwebserver").setLevel(java.util.logging.Level.WARNING);
    try (MockApiServer api = new MockApiServer(true); KubernetesClient client = api.newClient();
        TestNamespace ns = TestNamespace.create("agent-proc")) {
      String hostReuse = TestNamespace.hostSysctl("net.ipv4.tcp_tw_reuse");
      ns.setSysctl("net.ipv4.tcp_tw_reuse", "0");
      client.nodes().resource(new NodeBuilder().withNewMetadata().withName(NODE).withLabels(Map.of("tcptuning.io/profile", "high-churn"))
          .endMetadata().build()).create();
      TcpTuningPolicy policy = client.resource(Serialization.unmarshal(
          Files.readString(ProjectPaths.resolve("deploy/examples/high-churn-clients.yaml")), TcpTuningPolicy.class)).create();
      Path token = Files.writeString(dir.resolve("token"), "agent-token");
      int port;
      try (var free = new java.net.ServerSocket(0)) {
        port = free.getLocalPort();
      }

      List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
      // The agents' flags, less the image's AOT cache: this agent runs from the class path.
      cmd.addAll(List.of(AgentSettings.DEFAULT_JAVA_TOOL_OPTIONS.replace("-XX:AOTCache=" + AgentSettings.AOT_CACHE, "-Xshare:off").split(" ")));
      cmd.addAll(List.of("--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"), "io.tcptuning.cli.Main", "agent"));
      ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(dir.resolve("agent.log").toFile());
      pb.environment().putAll(Map.of("NODE_NAME", NODE, "TCPTUNE_POLICY_NAME", policy.getMetadata().getName(),
          "TCPTUNE_POLICY_SPEC", AgentDaemonSetFactory.agentSpecJson(policy.getSpec()), "TCPTUNE_STATE_DIR", dir.toString(),
          "TCPTUNE_AGENT_PORT", Integer.toString(port), "TCPTUNE_NETNS", ns.path().toString()));
      pb.environment().putAll(api.podEnvironment(token));
      api.takeRequests(); // the test's own requests so far
      Process agent = pb.start();
      try {
        await().atMost(Duration.ofSeconds(60)).until(() -> {
          TcpTuningNodeState s = client.resources(TcpTuningNodeState.class).withName(NODE).get();
          return s != null && s.getStatus() != null && s.getStatus().getPhase() == NodePhase.Applied;
        });
        assertThat(ns.sysctl("net.ipv4.tcp_tw_reuse")).isEqualTo("1");
        List<RecordedRequest> seen = new ArrayList<>(agentRequests(api));
        await().atMost(Duration.ofSeconds(10)).until(() -> {
          seen.addAll(agentRequests(api));
          return seen.stream().anyMatch(r -> r.getPath().contains("tcptuningpolicies") && r.getPath().contains("watch=true"));
        });
        assertThat(seen).as("every request of the agent carries its token")
            .allSatisfy(r -> assertThat(r.getHeader("Authorization")).isEqualTo("Bearer agent-token"));
        String metrics = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
            java.net.URI.create("http://127.0.0.1:" + port + "/metrics")).build(), java.net.http.HttpResponse.BodyHandlers.ofString()).body();
        assertThat(metrics).contains("tcptuning_sysctl_applied{node=\"" + NODE + "\",policy=\"high-churn-clients\",sysctl=\"net.ipv4.tcp_tw_reuse\"} 1.0");
        assertThat(seen).as("status written through the status subresource")
            .anyMatch(r -> r.getMethod().equals("PUT") && r.getPath().endsWith("/tcptuningnodestates/" + NODE + "/status"));
      } finally {
        agent.destroy(); // SIGTERM, as the kubelet sends
        assertThat(agent.waitFor(30, TimeUnit.SECONDS)).as("agent exits on SIGTERM").isTrue();
      }
      // A restart is not a goodbye: the policy still wants the node.
      assertThat(ns.sysctl("net.ipv4.tcp_tw_reuse")).isEqualTo("1");
      assertThat(TestNamespace.hostSysctl("net.ipv4.tcp_tw_reuse")).isEqualTo(hostReuse);
    }
  }

  static List<RecordedRequest> agentRequests(MockApiServer api) throws InterruptedException {
    return api.takeRequests().stream().filter(r -> !MockApiServer.TEST_USER_AGENT.equals(r.getHeader("User-Agent"))).toList();
  }
}
