package io.tcptuning.apiserver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.tcptuning.api.v1alpha1.NodePhase;
import io.tcptuning.api.v1alpha1.SysctlState;
import io.tcptuning.config.AgentContract;
import io.tcptuning.domain.Sysctl;
import io.tcptuning.testing.ProjectPaths;

import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.nio.file.Files;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Faults on a real API server, with the operator and agent processes of {@link TuningLoop}, two
 * nodes tuned by {@code high-churn-clients}:
 *
 * <ol>
 *   <li>kube-apiserver killed for 20 s and started again on the same etcd: the agents go on
 *       tuning (one corrects a drift while the server is away), nothing is reverted, the
 *       DaemonSet is the same object, the node states and the policy status converge after.
 *   <li>watches that expire: writes move etcd's revision past the policy's, then kube-apiserver
 *       restarts and fills its watch cache from the current revision, so the agents' policy
 *       watches, resumed from the policy's resourceVersion, are answered 410 Gone. The informers
 *       list again and still see the policy's deletion: the agents revert exactly, and the
 *       operator lets the policy go. (Until the agent's serialization knew Status, this 410 was
 *       retried forever at the same resourceVersion and the deletion was never seen.)
 * </ol>
 *
 * The steps share one cluster and run in order.
 */
@Timeout(240)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ApiServerOutageApiServerTest {

  @RegisterExtension static final RealApiServer API = RealApiServer.restartable();

  private static final String POLICY = "high-churn-clients";
  private static final Duration CONVERGE = Duration.ofSeconds(60);
  private static final Duration OUTAGE = Duration.ofSeconds(20);
  private static TuningLoop loop;
  private static final Map<String, Map<Sysctl, String>> before = new LinkedHashMap<>();

  @BeforeAll
  static void installAndTune() throws Exception {
    loop = new TuningLoop(API, Map.of(AgentContract.CENSUS_INTERVAL, "2s"));
    loop.install();
    loop.addNode("worker-a", Map.of("tcptuning.io/profile", "high-churn"), Map.of());
    loop.addNode("worker-b", Map.of("tcptuning.io/profile", "high-churn"), Map.of("net.ipv4.tcp_tw_reuse", "0"));
    for (var node : loop.nodes()) {
      before.put(node.name, node.sysctls());
    }
    loop.startOperator();
    API.kubectl("apply", "-f", ProjectPaths.resolve("deploy/examples/high-churn-clients.yaml").toString()).assertSuccess();
    await().atMost(CONVERGE).until(() -> loop.daemonSet(POLICY) != null);
    for (var node : loop.nodes()) {
      loop.startAgent(node, POLICY);
    }
    loop.awaitReady(POLICY, 1, "2/2 nodes applied", CONVERGE);
  }

  /** Stops everything; the loop checks that the host namespace's sysctls are as they were. */
  @AfterAll
  static void cleanUp() {
    if (loop != null) {
      loop.close();
    }
  }

  @Test
  @Order(1)
  void anApiServerOutageOf20SecondsRevertsNothingAndStatusConvergesAfter() throws Exception {
    DaemonSet ds = loop.daemonSet(POLICY);
    var drifting = loop.nodes().getFirst();
    Map<String, Map<Sysctl, String>> tuned = new LinkedHashMap<>();
    for (var node : loop.nodes()) {
      tuned.put(node.name, node.sysctls());
      assertThat(tuned.get(node.name).get(Sysctl.TCP_TW_REUSE)).isEqualTo("1");
    }

    API.stopApiServer();
    long outageEnds = System.nanoTime() + OUTAGE.toNanos();
    assertThatThrownBy(() -> loop.policy(POLICY)).as("the server is down").isInstanceOf(KubernetesClientException.class);

    // Someone changes a sysctl while the server is away: the agent puts it back without asking it.
    drifting.ns.setSysctl("net.ipv4.tcp_tw_reuse", "0");
    await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(200))
        .untilAsserted(() -> assertThat(drifting.sysctl("net.ipv4.tcp_tw_reuse")).isEqualTo("1"));
    // And otherwise nothing moves, in any node, for the rest of the outage.
    while (System.nanoTime() < outageEnds) {
      for (var node : loop.nodes()) {
        assertThat(node.agent.isAlive()).as("agent of " + node.name + " during the outage\n" + loop.agentLog(node)).isTrue();
        assertThat(node.sysctls()).as(node.name + " during the outage").isEqualTo(tuned.get(node.name));
      }
      Thread.sleep(1000);
    }
    API.startApiServer();

    // After: the same DaemonSet (not recreated, not rewritten), the node states and the policy converge.
    loop.awaitReady(POLICY, 1, "2/2 nodes applied", CONVERGE);
    var daemonSets = API.client().apps().daemonSets().inNamespace(TuningLoop.NS).list().getItems();
    assertThat(daemonSets).as("DaemonSets after the outage").hasSize(1);
    assertThat(daemonSets.getFirst().getMetadata().getUid()).isEqualTo(ds.getMetadata().getUid());
    assertThat(daemonSets.getFirst().getMetadata().getGeneration()).isEqualTo(ds.getMetadata().getGeneration());
    await().atMost(CONVERGE).untilAsserted(() -> assertThat(loop.nodeState(drifting.name).getStatus().getSysctls())
        .as("the drift corrected during the outage, reported after it")
        .anySatisfy(line -> {
          assertThat(line.getName()).isEqualTo("net.ipv4.tcp_tw_reuse");
          assertThat(line.getState()).isEqualTo(SysctlState.Drifted);
          assertThat(line.getMessage()).isEqualTo("found 0, put back to 1");
        }));
    for (var node : loop.nodes()) {
      assertThat(node.agent.isAlive()).as("agent of " + node.name).isTrue();
      assertThat(node.sysctls()).as(node.name + " after the outage").isEqualTo(tuned.get(node.name));
      assertThat(loop.agentLog(node)).as("agent of " + node.name).doesNotContain("revert");
      assertThat(Files.exists(node.stateDir.resolve("originals.journal"))).isTrue();
    }
    // The operator is still in charge: a spec change made after the outage rolls through.
    API.kubectl("patch", "ttp", POLICY, "--type=merge", "-p", "{\"spec\":{\"sysctls\":{\"ipLocalPortRange\":\"15000 64999\"}}}").assertSuccess();
    await().atMost(CONVERGE).untilAsserted(() -> assertThat(WholeLoopApiServerTest.env(loop.daemonSet(POLICY), AgentContract.POLICY_GENERATION)).isEqualTo("2"));
    assertThat(loop.daemonSet(POLICY).getMetadata().getUid()).isEqualTo(ds.getMetadata().getUid());
    for (var node : loop.nodes()) {
      loop.stopAgent(node);
      loop.startAgent(node, POLICY);
    }
    loop.awaitReady(POLICY, 2, "2/2 nodes applied", CONVERGE);
    for (var node : loop.nodes()) {
      assertThat(node.sysctl("net.ipv4.ip_local_port_range")).as(node.name).isEqualTo("15000 64999");
    }
    // With the chart's lease timings (15 s lease, 10 s renew deadline) a 20 s outage usually costs
    // the operator its lease: it exits, as client-go operators do, and the kubelet starts it again.
    assertThat(loop.operatorStarts()).as("operator processes started\n" + loop.operatorLogText()).isBetween(1, 2);
  }

  @Test
  @Order(2)
  void expiredWatchesAreListedAgainAndTheAgentsStillSeeTheDeletion() throws Exception {
    // Writes elsewhere move etcd's revision past the policy's (the agents' watches stay at the policy's).
    var cm = API.client().configMaps().inNamespace("default").resource(new ConfigMapBuilder().withNewMetadata().withName("churn").endMetadata()
        .addToData("n", "0").build()).create();
    for (int i = 1; i <= 20; i++) {
      cm.getData().put("n", Integer.toString(i));
      cm = API.client().configMaps().inNamespace("default").resource(cm).update();
    }
    // A restarted kube-apiserver fills its watch cache from etcd's current revision: a watch resumed
    // from an older resourceVersion is answered 410 Gone ("too old resource version").
    API.stopApiServer();
    API.startApiServer();
    await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500))
        .until(() -> loop.nodes().stream().allMatch(node -> loop.agentLog(node).contains(GONE)));
    for (var node : loop.nodes()) {
      assertThat(loop.agentLog(node)).as("agent of " + node.name + ": its policy watch expired (410 Gone) and it listed again").contains(GONE);
      assertThat(node.agent.isAlive()).isTrue();
    }
    loop.awaitReady(POLICY, 2, "2/2 nodes applied", CONVERGE);

    // The deletion reaches the agents through their informers all the same.
    API.kubectl("delete", "ttp", POLICY, "--wait=false").assertSuccess();
    await().atMost(CONVERGE).pollInterval(Duration.ofMillis(250)).untilAsserted(() -> {
      for (var node : loop.nodes()) {
        assertThat(node.sysctls()).as("sysctls of " + node.name + " after the revert").isEqualTo(before.get(node.name));
      }
    });
    await().atMost(CONVERGE).untilAsserted(() -> {
      for (var node : loop.nodes()) {
        assertThat(loop.nodeState(node.name).getStatus().getPhase()).isEqualTo(NodePhase.Reverted);
      }
      assertThat(loop.policy(POLICY)).isNull();
      assertThat(API.client().apps().daemonSets().inNamespace(TuningLoop.NS).list().getItems()).isEmpty();
    });
    for (var node : loop.nodes()) {
      assertThat(loop.agentLog(node)).contains("policy is being deleted: revert Reverted");
      loop.stopAgent(node);
      assertThat(node.sysctls()).isEqualTo(before.get(node.name));
    }
  }

  /** fabric8's reflector (at debug) when a watch ends with 410 Gone and it starts over with a list. */
  private static final String GONE = "Watch restarting due to http gone";
}
