package io.tcptuning.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.fabric8.kubernetes.api.model.LabelSelectorBuilder;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.tcptuning.api.v1alpha1.PodCounts;
import io.tcptuning.api.v1alpha1.PodRefusal;
import io.tcptuning.api.v1alpha1.TcpTuningNodeState;
import io.tcptuning.api.v1alpha1.TcpTuningNodeStateStatus;
import io.tcptuning.api.v1alpha1.TcpTuningPolicy;
import io.tcptuning.api.v1alpha1.TcpTuningPolicySpec;
import io.tcptuning.domain.Sysctl;
import io.tcptuning.operator.AgentSettings;
import io.tcptuning.policy.PolicyReader;
import io.tcptuning.testing.MockApiServer;
import io.tcptuning.testing.ProjectPaths;
import io.tcptuning.testing.TestNamespace;
import io.tcptuning.testing.TestPod;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
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
 * The agent process end to end with pods: {@code tcptune agent} as the DaemonSet runs it, over
 * TLS to the mock API server, its node a namespace of its own, and three "pods" on its node (named
 * namespaces with a process in a real cgroup carrying the pod's UID): one selected, one not, one
 * selected that sets its own port range in securityContext.sysctls. Then a new selected pod
 * appears, a pod goes away, and the policy is deleted.
 */
@Timeout(240)
class AgentPodsProcessNamespaceTest {
  static final String NODE = "pods-node";

  @TempDir Path dir;
  KubernetesClient client;
  final List<TestPod> pods = new ArrayList<>();

  TestPod pod(String name, Map<String, String> labels, String declaredRange) throws Exception {
    PodBuilder b = new PodBuilder().withNewMetadata().withName(name).withNamespace("apps").withLabels(labels).endMetadata()
        .withNewSpec().withNodeName(NODE).endSpec();
    if (declaredRange != null) {
      b.editSpec().withNewSecurityContext().addNewSysctl("net.ipv4.ip_local_port_range", declaredRange).endSecurityContext().endSpec();
    }
    Pod created = client.pods().inNamespace("apps").resource(b.build()).create();
    TestPod p = TestPod.start("e2e-" + name, created.getMetadata().getUid());
    pods.add(p);
    return p;
  }

  TcpTuningNodeStateStatus status() {
    TcpTuningNodeState s = client.resources(TcpTuningNodeState.class).withName(NODE).get();
    return s == null ? null : s.getStatus();
  }

  @Test
  void tunesSelectedPodsMeasuresAllRespectsDeclaredSysctlsFollowsNewAndGonePodsAndGivesBackOnDeletion() throws Exception {
    assumeTrue(TestPod.canCreate(), "needs root and a writable cgroup v2 hierarchy at " + TestPod.CGROUP_ROOT);
    java.util.logging.Logger.getLogger("io.fabric8.mockwebserver").setLevel(java.util.logging.Level.WARNING);
    Map<Sysctl, String> hostBefore = TestNamespace.hostSysctls();
    Process agent = null;
    try (MockApiServer api = new MockApiServer(true); KubernetesClient c = api.newClient(); TestNamespace node = TestNamespace.create("e2e-node")) {
      client = c;
      node.setSysctl("net.ipv4.tcp_tw_reuse", "0");
      Map<Sysctl, String> nodeBefore = node.sysctls();
      client.nodes().resource(new NodeBuilder().withNewMetadata().withName(NODE).withLabels(Map.of("tcptuning.io/profile", "high-churn"))
          .endMetadata().build()).create();
      TcpTuningPolicy policy = Serialization.unmarshal(Files.readString(ProjectPaths.resolve("deploy/examples/high-churn-clients.yaml")), TcpTuningPolicy.class);
      policy.getSpec().setPodSelector(new LabelSelectorBuilder().withMatchLabels(Map.of("role", "client")).build());
      policy = client.resource(policy).create();

      TestPod selected = pod("client-1", Map.of("role", "client"), null);
      TestPod other = pod("server-1", Map.of("role", "server"), null);
      TestPod declares = pod("client-own-range", Map.of("role", "client"), "20000 30001");
      for (TestPod p : List.of(selected, other, declares)) {
        p.namespace().setSysctl("net.ipv4.tcp_tw_reuse", "0");
      }
      declares.namespace().setSysctl("net.ipv4.ip_local_port_range", "20000 30001");
      Map<Sysctl, String> otherBefore = other.namespace().sysctls();
      selected.timeWait(200);

      // The agent's spec as the operator hands it on: mode, assumeNat, sysctls and the pod selector.
      TcpTuningPolicySpec agentSpec = new TcpTuningPolicySpec();
      agentSpec.setMode(policy.getSpec().effectiveMode());
      agentSpec.setSysctls(policy.getSpec().getSysctls());
      agentSpec.setPodSelector(policy.getSpec().getPodSelector());
      Path token = Files.writeString(dir.resolve("token"), "agent-token");
      Path state = Files.createDirectories(dir.resolve("state"));
      int port;
      try (var free = new java.net.ServerSocket(0)) {
        port = free.getLocalPort();
      }
      List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
      // The agents' flags, less the image's AOT cache: this agent runs from the class path.
      cmd.addAll(List.of(AgentSettings.DEFAULT_JAVA_TOOL_OPTIONS.replace("-XX:AOTCache=" + AgentSettings.AOT_CACHE, "-Xshare:off").split(" ")));
      Path classes = dir.resolve("classes.log");
      cmd.add("-Xlog:class+load=info:file=" + classes);
      cmd.addAll(List.of("--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"), "io.tcptuning.cli.Main", "agent"));
      Path log = dir.resolve("agent.log");
      ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
      pb.environment().putAll(Map.of("NODE_NAME", NODE, "TCPTUNE_POLICY_NAME", policy.getMetadata().getName(),
          "TCPTUNE_POLICY_SPEC", new PolicyReader().writeSpec(agentSpec), "TCPTUNE_STATE_DIR", state.toString(),
          "TCPTUNE_AGENT_PORT", Integer.toString(port), "TCPTUNE_NETNS", node.path().toString(), "TCPTUNE_CENSUS_INTERVAL", "2s"));
      pb.environment().putAll(api.podEnvironment(token));
      agent = pb.start();

      // 1. Selected: tuned. Not selected: measured, untouched. Declaring its port range: that one left alone.
      await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200)).until(() -> {
        TcpTuningNodeStateStatus s = status();
        return s != null && s.getPods() != null && s.getPods().getTuned() == 2 && s.getWorstPod() != null;
      });
      TcpTuningNodeStateStatus s = status();
      assertThat(s.getPods()).isEqualTo(new PodCounts(2, 2, 1, 0));
      assertThat(s.getPodRefusals()).extracting(PodRefusal::getPod, PodRefusal::getSysctl, PodRefusal::getReason)
          .containsExactly(org.assertj.core.groups.Tuple.tuple("apps/client-own-range", "net.ipv4.ip_local_port_range", "PodDeclaresSysctl"));
      assertThat(s.getNamespaces()).isGreaterThanOrEqualTo(4);
      assertThat(s.getWorstPod().getPod()).isEqualTo("apps/client-1");
      assertThat(s.getWorstPod().getTimeWait()).isGreaterThanOrEqualTo(200);
      assertThat(s.getWorstPod().getNetnsInode()).isEqualTo(selected.inode());
      assertThat(s.getTopPods()).extracting(x -> x.getPod()).containsExactly("apps/client-1");
      assertThat(selected.namespace().sysctl("net.ipv4.tcp_tw_reuse")).isEqualTo("1");
      assertThat(selected.namespace().sysctl("net.ipv4.ip_local_port_range")).isEqualTo("10240 65535");
      assertThat(other.namespace().sysctls()).as("not selected: untouched").isEqualTo(otherBefore);
      assertThat(declares.namespace().sysctl("net.ipv4.tcp_tw_reuse")).isEqualTo("1");
      assertThat(declares.namespace().sysctl("net.ipv4.ip_local_port_range")).as("the pod's own choice").isEqualTo("20000 30001");
      String metrics = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics")).build(),
          HttpResponse.BodyHandlers.ofString()).body();
      assertThat(metrics).containsPattern("tcptuning_pod_time_wait_sockets\\{namespace=\"apps\",node=\"" + NODE
          + "\",pod=\"client-1\",policy=\"high-churn-clients\"\\} (2[0-9][0-9]|[3-9][0-9][0-9])\\.0\n");
      assertThat(metrics).contains("tcptuning_pod_max_destination_pressure{namespace=\"apps\",node=\"" + NODE + "\",pod=\"client-1\"");
      assertThat(metrics).doesNotContain("pod=\"server-1\"");

      // 2. A new selected pod is tuned within about a second of its namespace appearing.
      TestPod late = pod("client-2", Map.of("role", "client"), null);
      long t0 = System.nanoTime();
      String lateRangeBefore = "32768 60999";
      await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(10))
          .until(() -> "1".equals(late.namespace().sysctl("net.ipv4.tcp_tw_reuse")));
      long tunedMs = (System.nanoTime() - t0) / 1_000_000;
      System.out.println("new pod tuned " + tunedMs + " ms after its namespace and process appeared");
      assertThat(tunedMs).as("tuned within about a second").isLessThan(2_000);

      // 3. A pod whose namespace goes away takes its journal with it, without an error.
      Path declaresJournal = state.resolve("pods").resolve(declares.uid() + "_" + declares.inode());
      assertThat(declaresJournal.resolve("originals-netns-" + declares.inode() + ".journal")).exists();
      declares.close();
      await().atMost(Duration.ofSeconds(10)).until(() -> !Files.exists(declaresJournal));

      // 4. The policy is deleted: the selected pods get their originals back, the node too.
      client.resource(policy).delete();
      await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100))
          .until(() -> "0".equals(selected.namespace().sysctl("net.ipv4.tcp_tw_reuse"))
              && "2".equals(late.namespace().sysctl("net.ipv4.tcp_tw_reuse")));
      assertThat(selected.namespace().sysctl("net.ipv4.ip_local_port_range")).isEqualTo("32768 60999");
      assertThat(late.namespace().sysctl("net.ipv4.ip_local_port_range")).isEqualTo(lateRangeBefore);
      await().atMost(Duration.ofSeconds(10)).until(() -> node.sysctls().equals(nodeBefore));
      try (var left = Files.list(state.resolve("pods"))) {
        assertThat(left.toList()).as("no journal left").isEmpty();
      }
      assertThat(other.namespace().sysctls()).isEqualTo(otherBefore);

      agent.destroy();
      assertThat(agent.waitFor(30, TimeUnit.SECONDS)).as("agent exits on SIGTERM").isTrue();
      String out = Files.readString(log);
      assertThat(out).contains("pod=apps/client-1 applied net.ipv4.tcp_tw_reuse 0->1");
      // One line per write, naming where it happened: the shared applier does not repeat it without the pod.
      assertThat(out.lines().filter(l -> l.contains("applied net.ipv4.tcp_tw_reuse 0->1")))
          .as("each write logged once, with its node (and pod)")
          .allMatch(l -> l.contains(" node=")).hasSizeGreaterThanOrEqualTo(2);
      assertThat(out.lines().filter(l -> l.contains("pod=apps/client-1 applied net.ipv4.tcp_tw_reuse"))).hasSize(1);
      assertThat(out).contains("pod=apps/client-own-range net:[" + declares.inode() + "] the namespace is gone");
      assertThat(out).as("no error and no Java exception name in the agent's log").doesNotContain(" ERROR ").doesNotContain("Exception:");
      assertThat(node.sysctls()).isEqualTo(nodeBefore);
      // Pods (listed, watched, added, deleted) and the Node were read as the agent's small views:
      // fabric8's Pod and Node graphs, hundreds of classes resident on every node, never loaded.
      String loaded = Files.readString(classes);
      assertThat(loaded).contains(" io.tcptuning.agent.views.PodView ").contains(" io.tcptuning.agent.views.NodeView ")
          .doesNotContain(" io.fabric8.kubernetes.api.model.PodSpec ").doesNotContain(" io.fabric8.kubernetes.api.model.Container ")
          .doesNotContain(" io.fabric8.kubernetes.api.model.NodeStatus ");
    } finally {
      if (agent != null && agent.isAlive()) {
        agent.destroyForcibly();
        agent.waitFor(10, TimeUnit.SECONDS);
      }
      for (TestPod p : pods) {
        p.close();
      }
      if (Files.exists(dir.resolve("agent.log")) && System.getenv("TCPTUNE_TEST_SHOW_LOG") != null) {
        System.out.println(Files.readString(dir.resolve("agent.log")));
      }
      assertThat(TestNamespace.hostSysctls()).as("the host's namespace is untouched").isEqualTo(hostBefore);
    }
  }
}
