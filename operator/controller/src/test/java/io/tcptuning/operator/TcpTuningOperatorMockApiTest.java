package io.tcptuning.operator;

import static io.tcptuning.operator.Fixtures.newPolicy;
import static io.tcptuning.operator.Fixtures.node;
import static io.tcptuning.operator.Fixtures.report;
import static io.tcptuning.operator.MockApi.NAMESPACE;
import static io.tcptuning.operator.MockApi.rv;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.tcptuning.api.v1alpha1.Conditions;
import io.tcptuning.api.v1alpha1.NodePhase;
import io.tcptuning.api.v1alpha1.TcpTuningPolicy;
import java.time.Clock;
import java.time.Duration;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The real JOSDK {@code Operator} (informers, event mapping, finalizer handling, rescheduling)
 * against the mock API server. Waits for outcomes with generous limits; asserts no durations.
 */
@EnableKubernetesMockClient(crud = true)
class TcpTuningOperatorMockApiTest {
  private static final Duration WAIT = Duration.ofSeconds(30);

  KubernetesMockServer server;
  KubernetesClient client;

  private final OperatorConfig config = Fixtures.config(NAMESPACE).withStatusDebounce(Duration.ofMillis(200));

  @BeforeEach
  void setUp() {
    MockApi.registerCrds(client);
    client.resource(node("w1")).create();
    client.resource(node("w2")).create();
  }

  private TcpTuningOperator start() {
    TcpTuningOperator op = TcpTuningOperator.create(client, config, new SimpleMeterRegistry(), Clock.systemUTC());
    op.start();
    return op;
  }

  private TcpTuningPolicy policy() {
    return MockApi.policy(client, "web");
  }

  private DaemonSet daemonSet() {
    return client.apps().daemonSets().inNamespace(NAMESPACE).withName("tcp-tuning-agent-web").get();
  }

  private String ready(TcpTuningPolicy p) {
    if (p == null || p.getStatus() == null) {
      return null;
    }
    return Conditions.find(p.getStatus().getConditions(), "Ready").map(c -> c.getStatus() + " " + c.getReason() + " " + c.getMessage()).orElse(null);
  }

  @Test
  void createReportAndDeleteThroughTheOperator() {
    TcpTuningOperator op = start();
    try {
      client.resource(newPolicy("web", 0, null)).create();
      await().atMost(WAIT).until(() -> daemonSet() != null && ready(policy()) != null);
      assertThat(policy().getMetadata().getFinalizers()).containsExactly(TcpTuningPolicyReconciler.FINALIZER);
      assertThat(ready(policy())).isEqualTo("False RolloutInProgress 0/2 nodes applied, 2 pending");

      long gen = policy().getMetadata().getGeneration();
      MockApi.report(client, report("w1", "web", gen, NodePhase.Applied));
      MockApi.report(client, report("w2", "web", gen, NodePhase.Applied));
      await().atMost(WAIT).until(() -> "True AsExpected 2/2 nodes applied".equals(ready(policy())));

      client.resources(TcpTuningPolicy.class).withName("web").delete();
      await().atMost(WAIT).until(() -> "False Reverting 0/2 nodes reverted".equals(ready(policy())));
      MockApi.report(client, report("w1", "web", gen, NodePhase.Reverted));
      await().atMost(WAIT).until(() -> "False Reverting 1/2 nodes reverted".equals(ready(policy())));
      // Still there: one node has not reverted yet, and its agent still runs.
      assertThat(policy().getMetadata().getFinalizers()).containsExactly(TcpTuningPolicyReconciler.FINALIZER);
      assertThat(daemonSet()).isNotNull();

      MockApi.report(client, report("w2", "web", gen, NodePhase.Reverted));
      await().atMost(WAIT).until(() -> policy() == null && daemonSet() == null);
      assertThat(MockApi.events(client, "RevertFinished")).hasSize(1);
    } finally {
      op.stop();
    }
  }

  @Test
  void aSecondOperatorTakesOverWithoutRewritingAnything() {
    TcpTuningOperator first = start();
    try {
      client.resource(newPolicy("web", 0, null)).create();
      await().atMost(WAIT).until(() -> daemonSet() != null && policy().getStatus() != null);
      long gen = policy().getMetadata().getGeneration();
      MockApi.report(client, report("w1", "web", gen, NodePhase.Applied));
      MockApi.report(client, report("w2", "web", gen, NodePhase.Applied));
      await().atMost(WAIT).until(() -> "True AsExpected 2/2 nodes applied".equals(ready(policy())));
    } finally {
      first.stop();
    }
    TcpTuningPolicy converged = policy();
    String dsRv = rv(daemonSet());

    TcpTuningOperator second = start();
    try {
      // JOSDK reconciles every policy when it starts; wait for that, and a few more rounds.
      await().atMost(WAIT).until(() -> second.reconciler().reconciles() >= 1);
      client.resource(node("w3", "role", "spare")).create(); // an event: one more reconcile
      await().atMost(WAIT).until(() -> second.reconciler().reconciles() >= 2);
      await().atMost(WAIT).until(() -> "False RolloutInProgress 2/3 nodes applied, 1 pending".equals(ready(policy())));
      client.resources(io.fabric8.kubernetes.api.model.Node.class).withName("w3").delete();
      await().atMost(WAIT).until(() -> "True AsExpected 2/2 nodes applied".equals(ready(policy())));

      TcpTuningPolicy after = policy();
      assertThat(client.apps().daemonSets().inNamespace(NAMESPACE).list().getItems()).hasSize(1);
      assertThat(rv(daemonSet())).isEqualTo(dsRv);
      assertThat(second.reconciler().statusWrites()).isEqualTo(2); // w3 came and went, nothing else
      assertThat(Conditions.find(after.getStatus().getConditions(), "Ready").orElseThrow().getLastTransitionTime())
          .isNotNull();
      assertThat(after.getStatus().getNodes()).isEqualTo(converged.getStatus().getNodes());
    } finally {
      second.stop();
    }
  }
}
