package io.tcptuning.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.LabelSelectorBuilder;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.tcptuning.api.v1alpha1.Mode;
import io.tcptuning.api.v1alpha1.NodePhase;
import io.tcptuning.api.v1alpha1.SysctlSettings;
import io.tcptuning.api.v1alpha1.SysctlState;
import io.tcptuning.api.v1alpha1.TcpTuningNodeState;
import io.tcptuning.api.v1alpha1.TcpTuningPolicy;
import io.tcptuning.api.v1alpha1.TcpTuningPolicySpec;
import io.tcptuning.testing.MockApiServer;
import io.tcptuning.testing.TestNamespace;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The real agent, in-process, against the mock API server, tuning a network namespace of its
 * own (its kernel thread enters it with setns). The host namespace is checked untouched.
 */
class AgentNamespaceTest {
  static final String NODE = "worker-1";
  static final Map<String, String> CHURN = Map.of("tcptuning.io/profile", "high-churn");

  @TempDir Path stateDir;
  MockApiServer api;
  KubernetesClient client;
  TestNamespace ns;
  String hostReuse;
  String hostRange;

  @BeforeEach
  void setUp() throws Exception {
    hostReuse = TestNamespace.hostSysctl("net.ipv4.tcp_tw_reuse");
    hostRange = TestNamespace.hostSysctl("net.ipv4.ip_local_port_range");
    api = new MockApiServer();
    client = api.newClient();
    client.nodes().resource(new NodeBuilder().withNewMetadata().withName(NODE).withLabels(CHURN).endMetadata().build()).create();
    ns = TestNamespace.create("agent");
    // Known, non-default starting values, so that "restored exactly" means something.
    ns.setSysctl("net.ipv4.tcp_tw_reuse", "0");
    ns.setSysctl("net.ipv4.ip_local_port_range", "40000 49999");
  }

  @AfterEach
  void tearDown() throws Exception {
    try {
      if (ns != null) {
        ns.close();
      }
      client.close();
      api.close();
    } finally {
      assertThat(TestNamespace.hostSysctl("net.ipv4.tcp_tw_reuse")).isEqualTo(hostReuse);
      assertThat(TestNamespace.hostSysctl("net.ipv4.ip_local_port_range")).isEqualTo(hostRange);
    }
  }

  TcpTuningPolicy createPolicy(String name, int priority, Mode mode) {
    SysctlSettings s = new SysctlSettings();
    s.setTcpTwReuse(1);
    s.setTcpTimestamps(1);
    s.setIpLocalPortRange("10240 65535");
    s.setTcpTwRecycle(1);
    TcpTuningPolicySpec spec = new TcpTuningPolicySpec();
    spec.setNodeSelector(new LabelSelectorBuilder().withMatchLabels(CHURN).build());
    spec.setPriority(priority);
    spec.setMode(mode);
    spec.setSysctls(s);
    TcpTuningPolicy p = new TcpTuningPolicy();
    p.setMetadata(new ObjectMetaBuilder().withName(name).withFinalizers("tcptuning.io/revert").build());
    p.setSpec(spec);
    return client.resource(p).create();
  }

  Agent startAgent(TcpTuningPolicy policy) throws Exception {
    return startAgent(policy, Duration.ofMillis(200));
  }

  Agent startAgent(TcpTuningPolicy policy, Duration censusInterval) throws Exception {
    AgentConfig config = new AgentConfig(NODE, policy.getMetadata().getName(), policy.getMetadata().getGeneration() == null ? 1 : policy.getMetadata().getGeneration(),
        policy.getSpec(), stateDir, censusInterval, Duration.ofHours(1), 0, Optional.of(ns.path()));
    Agent agent = new Agent(config, () -> NodeStateReporter.newClient(api.clientConfig()), Clock.systemUTC());
    agent.start();
    return agent;
  }

  TcpTuningNodeState nodeState() {
    return client.resources(TcpTuningNodeState.class).withName(NODE).get();
  }

  static String get(int port, String path) throws Exception {
    var r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(),
        HttpResponse.BodyHandlers.ofString());
    return r.statusCode() + " " + r.body();
  }

  @Test
  void appliesReportsCorrectsDriftAndGivesTheNodeBackWhenThePolicyIsDeleted() throws Exception {
    TcpTuningPolicy policy = createPolicy("high-churn", 10, Mode.Enforce);
    Agent agent = startAgent(policy);
    try (agent) {
      assertThat(ns.sysctl("net.ipv4.tcp_tw_reuse")).isEqualTo("1");
      assertThat(ns.sysctl("net.ipv4.ip_local_port_range")).isEqualTo("10240 65535");
      assertThat(agent.phase()).isEqualTo(NodePhase.Applied);

      await().atMost(Duration.ofSeconds(10)).until(() -> nodeState() != null && nodeState().getStatus() != null);
      var st = nodeState();
      assertThat(st.getMetadata().getOwnerReferences()).singleElement().satisfies(o -> {
        assertThat(o.getKind()).isEqualTo("Node");
        assertThat(o.getName()).isEqualTo(NODE);
      });
      assertThat(st.getStatus().getPolicy()).isEqualTo("high-churn");
      assertThat(st.getStatus().getPhase()).isEqualTo(NodePhase.Applied);
      assertThat(st.getStatus().getKernel()).isEqualTo(io.tcptuning.node.KernelRelease.read().release());
      assertThat(st.getStatus().getTimeWait().getPortRangeSize()).isEqualTo(65535 - 10240 + 1);
      assertThat(st.getStatus().getSysctls()).extracting(s -> s.getName() + "=" + s.getState() + "/" + s.getOriginal())
          .containsExactly("net.ipv4.tcp_tw_reuse=Applied/0", "net.ipv4.tcp_timestamps=Unchanged/1",
              "net.ipv4.ip_local_port_range=Applied/40000 49999", "net.ipv4.tcp_tw_recycle=Refused/null");
      assertThat(st.getStatus().getSysctls().getLast().getReason()).isEqualTo("KernelRemovedSysctl");
      assertThat(get(agent.port(), "/readyz")).startsWith("200");
      String metrics = get(agent.port(), "/metrics");
      assertThat(metrics).contains("tcptuning_time_wait_sockets{node=\"worker-1\",policy=\"high-churn\"}")
          .contains("tcptuning_port_range_size{node=\"worker-1\",policy=\"high-churn\"} 55296")
          .contains("tcptuning_sysctl_applied{node=\"worker-1\",policy=\"high-churn\",sysctl=\"net.ipv4.tcp_tw_reuse\"} 1")
          .contains("tcptuning_sysctl_value{node=\"worker-1\",policy=\"high-churn\",sysctl=\"net.ipv4.tcp_tw_reuse\"} 1")
          .contains("tcptuning_sysctl_applied{node=\"worker-1\",policy=\"high-churn\",sysctl=\"net.ipv4.tcp_tw_recycle\"} 0");

      // Someone turns reuse off by hand: the agent puts it back and says so.
      ns.setSysctl("net.ipv4.tcp_tw_reuse", "0");
      await().atMost(Duration.ofSeconds(10)).until(() -> "1".equals(ns.sysctl("net.ipv4.tcp_tw_reuse")));
      await().atMost(Duration.ofSeconds(10)).until(() -> nodeState().getStatus().getSysctls().getFirst().getState() == SysctlState.Drifted);
      assertThat(nodeState().getStatus().getSysctls().getFirst().getMessage()).isEqualTo("found 0, put back to 1");
      assertThat(get(agent.port(), "/metrics")).contains("tcptuning_sysctl_drift_total{node=\"worker-1\",policy=\"high-churn\"} 1.0");

      // Deletion: the finalizer holds the policy; the agent sees the deletionTimestamp and reverts.
      client.resource(policy).delete();
      await().atMost(Duration.ofSeconds(10)).until(() -> nodeState().getStatus().getPhase() == NodePhase.Reverted);
      assertThat(ns.sysctl("net.ipv4.tcp_tw_reuse")).isEqualTo("0");
      assertThat(ns.sysctl("net.ipv4.ip_local_port_range")).isEqualTo("40000 49999");
      assertThat(stateDir.resolve("originals.journal")).doesNotExist();
      // Drift after letting go is none of the agent's business any more.
      ns.setSysctl("net.ipv4.tcp_fin_timeout", "42");
      Thread.sleep(600);
      assertThat(ns.sysctl("net.ipv4.tcp_fin_timeout")).isEqualTo("42");
    }
    // The shutdown line tells the truth: the node was given back, it does not "stay tuned".
    assertThat(agent.shutdownSummary()).isEqualTo("the node was already given back to its original values");
  }

  @Test
  void aRestartKeepsTheNodeTunedAndTheOriginals() throws Exception {
    TcpTuningPolicy policy = createPolicy("high-churn", 10, Mode.Enforce);
    Agent first = startAgent(policy);
    first.close();
    assertThat(first.shutdownSummary()).isEqualTo("the node stays tuned");
    assertThat(ns.sysctl("net.ipv4.tcp_tw_reuse")).isEqualTo("1");
    try (Agent again = startAgent(policy)) {
      assertThat(again.phase()).isEqualTo(NodePhase.Applied);
      await().atMost(Duration.ofSeconds(10)).until(() -> nodeState() != null && nodeState().getStatus() != null);
      assertThat(nodeState().getStatus().getSysctls().getFirst().getOriginal()).isEqualTo("0");
    }
    // The node leaves the policy's selector: on shutdown the agent gives it back.
    client.nodes().withName(NODE).edit(n -> new NodeBuilder(n).editMetadata().withLabels(Map.of()).endMetadata().build());
    startAgent(policy).close();
    assertThat(ns.sysctl("net.ipv4.tcp_tw_reuse")).isEqualTo("0");
    assertThat(ns.sysctl("net.ipv4.ip_local_port_range")).isEqualTo("40000 49999");
  }

  @Test
  void aSupersededAgentWritesNothing() throws Exception {
    createPolicy("urgent", 100, Mode.Enforce);
    TcpTuningPolicy low = createPolicy("high-churn", 10, Mode.Enforce);
    Agent agent = startAgent(low);
    try (agent) {
      assertThat(agent.phase()).isEqualTo(NodePhase.Superseded);
      assertThat(agent.ready()).isTrue();
      assertThat(ns.sysctl("net.ipv4.tcp_tw_reuse")).isEqualTo("0");
      await().atMost(Duration.ofSeconds(10)).until(() -> nodeState() != null && nodeState().getStatus() != null);
      assertThat(nodeState().getStatus().getPhase()).isEqualTo(NodePhase.Superseded);
    }
    assertThat(agent.shutdownSummary()).isEqualTo("another policy tunes this node; this agent wrote nothing");
    assertThat(ns.sysctl("net.ipv4.tcp_tw_reuse")).isEqualTo("0");
  }

  @Test
  void dryRunPlansAndWritesNothing() throws Exception {
    Agent agent = startAgent(createPolicy("observe", 0, Mode.DryRun));
    try (agent) {
      assertThat(agent.phase()).isEqualTo(NodePhase.Planned);
      await().atMost(Duration.ofSeconds(10)).until(() -> nodeState() != null && nodeState().getStatus() != null);
      assertThat(nodeState().getStatus().getSysctls()).extracting(s -> s.getName() + "=" + s.getState())
          .contains("net.ipv4.tcp_tw_reuse=Planned", "net.ipv4.tcp_timestamps=Unchanged");
    }
    assertThat(agent.shutdownSummary()).isEqualTo("DryRun: this agent wrote nothing, the node keeps its own values");
    assertThat(ns.sysctl("net.ipv4.tcp_tw_reuse")).isEqualTo("0");
    assertThat(ns.sysctl("net.ipv4.ip_local_port_range")).isEqualTo("40000 49999");
    assertThat(stateDir.resolve("originals.journal")).doesNotExist();
  }

  @Test
  void anApiOutageChangesNothingAndTheReportArrivesWhenItIsBack() throws Exception {
    TcpTuningPolicy policy = createPolicy("high-churn", 10, Mode.Enforce);
    try (Agent agent = startAgent(policy)) {
      await().atMost(Duration.ofSeconds(10)).until(() -> nodeState() != null && nodeState().getStatus() != null);
      api.stop();
      // Still measuring and still correcting drift without an API server.
      ns.setSysctl("net.ipv4.tcp_tw_reuse", "0");
      await().atMost(Duration.ofSeconds(10)).until(() -> "1".equals(ns.sysctl("net.ipv4.tcp_tw_reuse")));
      await().atMost(Duration.ofSeconds(10)).until(() -> get(agent.port(), "/metrics")
          .matches("(?s).*tcptuning_report_failures_total\\{node=\"worker-1\",policy=\"high-churn\"} [1-9].*"));
      assertThat(agent.phase()).isEqualTo(NodePhase.Applied);
      api.start();
      await().atMost(Duration.ofSeconds(20)).until(() -> nodeState().getStatus().getSysctls().getFirst().getState() == SysctlState.Drifted);
    }
    // The restart happened while the policy still wants the node: nothing reverted.
    assertThat(ns.sysctl("net.ipv4.tcp_tw_reuse")).isEqualTo("1");
  }

  @Test
  void shutdownWithoutAnApiServerKeepsTheNodeTuned() throws Exception {
    TcpTuningPolicy policy = createPolicy("high-churn", 10, Mode.Enforce);
    Agent agent = startAgent(policy);
    api.stop();
    agent.close();
    assertThat(ns.sysctl("net.ipv4.tcp_tw_reuse")).isEqualTo("1");
    api.start();
  }


  @Test
  void onDeletionAValueChangedByHandSinceApplyIsLeftAloneAndReported() throws Exception {
    TcpTuningPolicy policy = createPolicy("high-churn", 10, Mode.Enforce);
    // A census interval longer than the test: no drift correction puts the hand-set value back first.
    try (Agent agent = startAgent(policy, Duration.ofHours(1))) {
      assertThat(ns.sysctl("net.ipv4.tcp_tw_reuse")).isEqualTo("1");
      // After the apply, someone sets reuse by hand (applied 1, original 0).
      ns.setSysctl("net.ipv4.tcp_tw_reuse", "2");

      client.resource(policy).delete();
      await().atMost(Duration.ofSeconds(10)).until(() -> nodeState().getStatus().getPhase() == NodePhase.Reverted);

      assertThat(ns.sysctl("net.ipv4.tcp_tw_reuse")).isEqualTo("2");
      assertThat(ns.sysctl("net.ipv4.ip_local_port_range")).isEqualTo("40000 49999");
      var conditions = nodeState().getStatus().getConditions();
      assertThat(conditions).filteredOn(c -> c.getType().equals("Applied")).singleElement().satisfies(c -> {
        assertThat(c.getReason()).isEqualTo("Reverted");
        assertThat(c.getMessage()).contains("left 1 changed by hand", "net.ipv4.tcp_tw_reuse");
      });
      assertThat(conditions).filteredOn(c -> c.getType().equals("Degraded")).singleElement().satisfies(c -> {
        assertThat(c.getStatus()).isEqualTo("True");
        assertThat(c.getReason()).isEqualTo("ChangedByHand");
        assertThat(c.getMessage()).contains("net.ipv4.tcp_tw_reuse: changed by hand since apply: applied 1, now 2 (original 0)");
      });
      // The journal keeps the original of what was left alone, and nothing else.
      assertThat(java.nio.file.Files.readString(stateDir.resolve("originals.journal")))
          .contains("sysctl net.ipv4.tcp_tw_reuse=0\napplied net.ipv4.tcp_tw_reuse=1\n").doesNotContain("ip_local_port_range");
      assertThat(agent.phase()).isEqualTo(NodePhase.Reverted);
    }
    assertThat(ns.sysctl("net.ipv4.tcp_tw_reuse")).isEqualTo("2");
  }
}
