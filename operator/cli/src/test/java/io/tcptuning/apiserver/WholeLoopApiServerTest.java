package io.tcptuning.apiserver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.tcptuning.api.v1alpha1.Conditions;
import io.tcptuning.api.v1alpha1.NodePhase;
import io.tcptuning.config.AgentContract;
import io.tcptuning.domain.Sysctl;
import io.tcptuning.testing.ProjectPaths;

import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import java.nio.file.Files;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The whole loop against a real API server, with real processes and real sysctls: the operator
 * ({@code tcptune operator}, as its service account) turns {@code deploy/examples/high-churn-clients.yaml}
 * into a DaemonSet; an agent process per node, started from that DaemonSet's pod template with a
 * bound token, tunes the node's network namespace and reports its TcpTuningNodeState; the policy
 * goes Ready "2/2 nodes applied". A spec change gives a new DaemonSet generation; the agents,
 * restarted with the new template as a rollout would, change the sysctls. Deleting the policy:
 * the agents see it through their informer, put back exactly what was there, and the operator
 * lets the policy go. See {@link TuningLoop} for how the processes are started without a kubelet.
 */
@Timeout(180)
class WholeLoopApiServerTest {

  @RegisterExtension static final RealApiServer API = RealApiServer.restartable();

  private static final String POLICY = "high-churn-clients";
  private static final Duration CONVERGE = Duration.ofSeconds(45);
  private static TuningLoop loop;

  @BeforeAll
  static void install() throws Exception {
    // A short census interval through the operator's setting (the chart's agent.censusInterval):
    // the agents' reports come sooner; nothing else depends on it.
    loop = new TuningLoop(API, Map.of(AgentContract.CENSUS_INTERVAL, "2s"));
    loop.install();
    // Two selected nodes that start different, and one the policy does not select.
    loop.addNode("worker-a", Map.of("tcptuning.io/profile", "high-churn"), Map.of());
    loop.addNode("worker-b", Map.of("tcptuning.io/profile", "high-churn"),
        Map.of("net.ipv4.tcp_tw_reuse", "0", "net.ipv4.ip_local_port_range", "40000 50001"));
    API.client().nodes().resource(new io.fabric8.kubernetes.api.model.NodeBuilder().withNewMetadata().withName("worker-other")
        .withLabels(Map.of("kubernetes.io/os", "linux", "tcptuning.io/profile", "elsewhere")).endMetadata().build()).create();
    loop.startOperator();
  }

  /** Stops everything; the loop checks that the host namespace's sysctls are as they were. */
  @AfterAll
  static void cleanUp() {
    if (loop != null) {
      loop.close();
    }
  }

  @Test
  void policyToDaemonSetToAgentsToStatusThenASpecChangeRollsThroughThenDeletionRevertsExactly() throws Exception {
    Map<String, Map<Sysctl, String>> before = new LinkedHashMap<>();
    for (var node : loop.nodes()) {
      before.put(node.name, node.sysctls());
    }
    assertThat(before.get("worker-b").get(Sysctl.TCP_TW_REUSE)).isEqualTo("0");

    // 1. The policy, as a user applies it.
    API.kubectl("apply", "-f", ProjectPaths.resolve("deploy/examples/high-churn-clients.yaml").toString()).assertSuccess();
    await().atMost(CONVERGE).untilAsserted(() -> {
      assertThat(API.client().apps().daemonSets().inNamespace(TuningLoop.NS).list().getItems()).hasSize(1);
      assertThat(loop.policy(POLICY).getMetadata().getFinalizers()).contains("tcptuning.io/revert");
      assertThat(loop.policy(POLICY).getStatus()).isNotNull();
      assertThat(loop.policy(POLICY).getStatus().getNodes().getSelected()).isEqualTo(2);
    });
    DaemonSet ds1 = loop.daemonSet(POLICY);
    assertThat(ds1.getMetadata().getGeneration()).isEqualTo(1L);
    assertThat(env(ds1, AgentContract.POLICY_GENERATION)).isEqualTo("1");
    assertThat(env(ds1, AgentContract.CENSUS_INTERVAL)).isEqualTo("2s");
    assertThat(Conditions.find(loop.policy(POLICY).getStatus().getConditions(), Conditions.READY).orElseThrow().getStatus())
        .as("not Ready before any agent reported").isEqualTo("False");

    // 2. The kubelet would start an agent on each selected node.
    for (var node : loop.nodes()) {
      loop.startAgent(node, POLICY);
    }
    loop.awaitReady(POLICY, 1, "2/2 nodes applied", CONVERGE);
    for (var node : loop.nodes()) {
      assertThat(node.sysctl("net.ipv4.tcp_tw_reuse")).as(node.name).isEqualTo("1");
      assertThat(node.sysctl("net.ipv4.tcp_timestamps")).as(node.name).isEqualTo("1");
      assertThat(node.sysctl("net.ipv4.ip_local_port_range")).as(node.name).isEqualTo("10240 65535");
      var state = loop.nodeState(node.name);
      assertThat(state.getStatus().getPolicy()).isEqualTo(POLICY);
      assertThat(state.getMetadata().getOwnerReferences()).extracting(o -> o.getKind() + "/" + o.getName()).containsExactly("Node/" + node.name);
      assertThat(state.getStatus().getSysctls()).anySatisfy(s -> {
        assertThat(s.getName()).isEqualTo("net.ipv4.tcp_tw_reuse");
        assertThat(s.getOriginal()).isEqualTo(before.get(node.name).get(Sysctl.TCP_TW_REUSE));
        assertThat(s.getActual()).isEqualTo("1");
      });
      assertThat(Files.exists(node.stateDir.resolve("originals.journal"))).as("journal on " + node.name).isTrue();
    }
    assertThat(loop.nodeState("worker-other")).as("no agent, no report, on the node the policy does not select").isNull();
    assertThat(loop.policy(POLICY).getStatus().getNodes().getSelected()).isEqualTo(2);

    // 3. A spec change: a new DaemonSet generation; the kubelet would restart each agent with the new template.
    API.kubectl("patch", "ttp", POLICY, "--type=merge", "-p", "{\"spec\":{\"sysctls\":{\"ipLocalPortRange\":\"15000 64999\"}}}").assertSuccess();
    await().atMost(CONVERGE).untilAsserted(() -> assertThat(env(loop.daemonSet(POLICY), AgentContract.POLICY_GENERATION)).isEqualTo("2"));
    DaemonSet ds2 = loop.daemonSet(POLICY);
    assertThat(ds2.getMetadata().getUid()).as("the same DaemonSet, updated").isEqualTo(ds1.getMetadata().getUid());
    assertThat(ds2.getMetadata().getGeneration()).isEqualTo(2L);
    assertThat(env(ds2, AgentContract.POLICY_SPEC)).contains("15000 64999");
    assertThat(ds2.getSpec().getTemplate().getMetadata().getAnnotations().get("tcptuning.io/agent-config-hash"))
        .as("the pod template changes, so a real DaemonSet controller rolls the pods")
        .isNotEqualTo(ds1.getSpec().getTemplate().getMetadata().getAnnotations().get("tcptuning.io/agent-config-hash"));
    for (var node : loop.nodes()) { // one at a time, as maxUnavailable 10% of 2 nodes allows
      loop.stopAgent(node);
      assertThat(node.sysctl("net.ipv4.ip_local_port_range")).as("a rollout is not a goodbye: " + node.name + " stays tuned while its agent restarts")
          .isEqualTo("10240 65535");
      loop.startAgent(node, POLICY);
      await().atMost(CONVERGE).untilAsserted(() -> assertThat(node.sysctl("net.ipv4.ip_local_port_range")).isEqualTo("15000 64999"));
    }
    loop.awaitReady(POLICY, 2, "2/2 nodes applied", CONVERGE);
    for (var node : loop.nodes()) {
      assertThat(node.sysctl("net.ipv4.tcp_tw_reuse")).as(node.name).isEqualTo("1");
      assertThat(loop.agentLog(node)).as("the new agent of " + node.name).contains("applied net.ipv4.ip_local_port_range");
    }

    // 4. Deletion: the finalizer holds the policy until both agents, told by their informers, put their node back.
    API.kubectl("delete", "ttp", POLICY, "--wait=false").assertSuccess();
    await().atMost(CONVERGE).pollInterval(Duration.ofMillis(250)).untilAsserted(() -> {
      for (var node : loop.nodes()) {
        assertThat(node.sysctls()).as("sysctls of " + node.name + " after the revert").isEqualTo(before.get(node.name));
      }
    });
    await().atMost(CONVERGE).untilAsserted(() -> {
      for (var node : loop.nodes()) {
        assertThat(loop.nodeState(node.name).getStatus().getPhase()).as(node.name).isEqualTo(NodePhase.Reverted);
      }
      assertThat(loop.policy(POLICY)).as("the policy, once every node reverted").isNull();
      assertThat(API.client().apps().daemonSets().inNamespace(TuningLoop.NS).list().getItems()).as("DaemonSets").isEmpty();
    });
    for (var node : loop.nodes()) {
      assertThat(loop.agentLog(node)).as(node.name).contains("policy is being deleted: revert Reverted");
      assertThat(Files.exists(node.stateDir.resolve("originals.journal"))).as("journal removed on " + node.name).isFalse();
      // The DaemonSet is gone: the kubelet stops the agent; the node stays as it was before the policy.
      loop.stopAgent(node);
      assertThat(node.sysctls()).as(node.name + " after its agent stopped").isEqualTo(before.get(node.name));
    }
    assertThat(loop.operatorStarts()).as("operator restarts\n" + loop.operatorLogText()).isEqualTo(1);
  }

  static String env(DaemonSet ds, String name) {
    return ds.getSpec().getTemplate().getSpec().getContainers().getFirst().getEnv().stream()
        .filter(e -> e.getName().equals(name)).map(e -> e.getValue()).findFirst().orElse(null);
  }
}
