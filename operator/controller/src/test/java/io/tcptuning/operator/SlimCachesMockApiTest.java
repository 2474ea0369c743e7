package io.tcptuning.operator;

import static io.tcptuning.operator.Fixtures.labels;
import static io.tcptuning.operator.Fixtures.newPolicy;
import static io.tcptuning.operator.Fixtures.report;
import static io.tcptuning.operator.MockApi.NAMESPACE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.ManagedFieldsEntryBuilder;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.tcptuning.api.v1alpha1.NodePhase;
import io.tcptuning.api.v1alpha1.TcpTuningNodeState;
import io.tcptuning.api.v1alpha1.TcpTuningPolicy;
import java.time.Clock;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * The real operator against the mock API server with kubelet-like Nodes (images, conditions,
 * nodeInfo, annotations, managedFields): its informer caches hold each Node's name and labels
 * only and each report without managedFields, while it still assigns nodes by their labels,
 * recounts a relabelled node, and is not woken by a status heartbeat.
 */
@EnableKubernetesMockClient(crud = true)
class SlimCachesMockApiTest {
  private static final Duration WAIT = Duration.ofSeconds(30);

  KubernetesClient client;

  private int selected() {
    TcpTuningPolicy p = MockApi.policy(client, "web");
    return p == null || p.getStatus() == null || p.getStatus().getNodes() == null ? -1 : p.getStatus().getNodes().getSelected();
  }

  @Test
  void cachedNodesAreTrimmedAndLabelsStillDriveTheOperator() throws Exception {
    MockApi.registerCrds(client);
    client.resource(KubeletNodes.node("w1", "role", "web")).create();
    client.resource(KubeletNodes.node("w2", "role", "batch")).create();
    Node onServer = client.nodes().withName("w1").get();
    assertThat(onServer.getStatus().getImages()).as("the server's node, as a kubelet wrote it").hasSize(KubeletNodes.IMAGES);
    assertThat(onServer.getMetadata().getManagedFields()).isNotEmpty();
    assertThat(onServer.getMetadata().getAnnotations()).isNotEmpty();

    TcpTuningOperator op = TcpTuningOperator.create(
        client, Fixtures.config(NAMESPACE).withStatusDebounce(Duration.ofMillis(200)), new SimpleMeterRegistry(), Clock.systemUTC());
    op.start();
    try {
      client.resource(newPolicy("web", 0, labels("role", "web"))).create();
      await().atMost(WAIT).until(() -> selected() == 1);

      Node cached = op.reconciler().cachedNode("w1").orElseThrow();
      KubeletNodes.assertTrimmedCopyOf(cached, onServer);
      assertThat(cached.getMetadata().getResourceVersion()).isEqualTo(onServer.getMetadata().getResourceVersion());

      // A report with managedFields (the mock keeps what it is given): cached without them, counted.
      long gen = MockApi.policy(client, "web").getMetadata().getGeneration();
      TcpTuningNodeState state = report("w1", "web", gen, NodePhase.Applied);
      state.getMetadata().getManagedFields().add(new ManagedFieldsEntryBuilder()
          .withManager("tcptune-agent").withOperation("Update").withApiVersion("tcptuning.io/v1alpha1").build());
      TcpTuningNodeState fresh = new TcpTuningNodeState();
      fresh.setMetadata(state.getMetadata());
      TcpTuningNodeState created = client.resource(fresh).create();
      created.setStatus(state.getStatus());
      client.resource(created).updateStatus();
      await().atMost(WAIT).until(() -> MockApi.policy(client, "web").getStatus().getNodes().getApplied() == 1);
      assertThat(client.resources(TcpTuningNodeState.class).withName("w1").get().getMetadata().getManagedFields()).isNotEmpty();
      TcpTuningNodeState cachedState = op.reconciler().cachedNodeState("w1").orElseThrow();
      assertThat(cachedState.getMetadata().getManagedFields()).isNullOrEmpty();
      assertThat(cachedState.getStatus().getPhase()).isEqualTo(NodePhase.Applied);

      // A status heartbeat on w1: the cache takes the new version, the operator is not woken.
      long quiet = stableReconciles(op);
      Node beat = client.nodes().withName("w1").get();
      beat.setStatus(KubeletNodes.status("w1", 42).build().getStatus());
      String beatRv = client.resource(beat).updateStatus().getMetadata().getResourceVersion();
      await().atMost(WAIT).until(() -> beatRv.equals(op.reconciler().cachedNode("w1").orElseThrow().getMetadata().getResourceVersion()));
      assertThat(op.reconciler().cachedNode("w1").orElseThrow().getStatus()).isNull();
      Thread.sleep(1000);
      assertThat(op.reconciler().reconciles()).as("reconciles after a status-only update").isEqualTo(quiet);

      // Relabelling w2 into the selector, then out again: each is a reconcile and a recount.
      client.nodes().withName("w2").edit(n -> { n.getMetadata().getLabels().put("role", "web"); return n; });
      await().atMost(WAIT).until(() -> selected() == 2);
      assertThat(op.reconciler().reconciles()).isGreaterThan(quiet);
      assertThat(op.reconciler().cachedNode("w2").orElseThrow().getMetadata().getLabels()).containsEntry("role", "web");
      client.nodes().withName("w2").edit(n -> { n.getMetadata().getLabels().put("role", "batch"); return n; });
      await().atMost(WAIT).until(() -> selected() == 1);
    } finally {
      op.stop();
    }
  }

  /** The reconcile count once it has not moved for a second. */
  private static long stableReconciles(TcpTuningOperator op) throws InterruptedException {
    long last = -1;
    long now = op.reconciler().reconciles();
    while (now != last) {
      last = now;
      Thread.sleep(1000);
      now = op.reconciler().reconciles();
    }
    return now;
  }
}
