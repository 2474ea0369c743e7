package io.tcptuning.operator;

import static io.tcptuning.operator.Fixtures.newPolicy;
import static io.tcptuning.operator.Fixtures.node;
import static io.tcptuning.operator.MockApi.NAMESPACE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.authorization.v1.SelfSubjectRulesReviewBuilder;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** Two replicas with leader election on the mock: one reconciles, the other stands by and takes over. */
@EnableKubernetesMockClient(crud = true)
class LeaderElectionMockApiTest {
  private static final Duration WAIT = Duration.ofSeconds(30);
  // exitOnStopLeading as in production: stopping a replica (SIGTERM) must not exit the JVM, which
  // here would end the test run.
  private static final TcpTuningOperator.LeaseTimings FAST =
      new TcpTuningOperator.LeaseTimings(Duration.ofSeconds(2), Duration.ofMillis(1500), Duration.ofMillis(200), true);

  KubernetesMockServer server;
  KubernetesClient client;

  @Test
  void oneReplicaLeadsAndTheOtherTakesOver() {
    MockApi.registerCrds(client);
    // JOSDK checks that it may use Leases before it campaigns; the CRUD mock cannot answer that.
    server
        .expect()
        .post()
        .withPath("/apis/authorization.k8s.io/v1/selfsubjectrulesreviews")
        .andReturn(
            201,
            new SelfSubjectRulesReviewBuilder()
                .withNewMetadata()
                .endMetadata()
                .withNewStatus()
                .addNewResourceRule()
                .withApiGroups("coordination.k8s.io")
                .withResources("leases")
                .withVerbs("get", "create", "update")
                .endResourceRule()
                .withIncomplete(false)
                .endStatus()
                .build())
        .always();
    client.resource(node("w1")).create();
    OperatorConfig config =
        new OperatorConfig(NAMESPACE, "tcptune:test", "IfNotPresent", "tcp-tuning-agent", Duration.ZERO, Duration.ofSeconds(120), true, NAMESPACE, 0, AgentSettings.DEFAULTS);
    TcpTuningOperator a = TcpTuningOperator.create(client, config, new SimpleMeterRegistry(), Clock.systemUTC(), FAST);
    a.start();
    await().atMost(WAIT).until(a::isLeading);
    TcpTuningOperator b = TcpTuningOperator.create(client, config, new SimpleMeterRegistry(), Clock.systemUTC(), FAST);
    b.start();
    try {
      Lease lease = client.leases().inNamespace(NAMESPACE).withName(TcpTuningOperator.LEASE_NAME).get();
      assertThat(lease).isNotNull();
      client.resource(newPolicy("web", 0, null)).create();
      await().atMost(WAIT).until(() -> MockApi.policy(client, "web").getStatus() != null);
      assertThat(a.reconciler().reconciles()).isPositive();
      assertThat(b.isLeading()).isFalse();
      assertThat(b.reconciler().reconciles()).isZero();
      assertThat(b.isReady()).as("a standby replica is ready").isTrue();

      a.stop();
      await().atMost(WAIT).until(b::isLeading);
      client.resource(node("w2")).create();
      await().atMost(WAIT).until(() -> b.reconciler().reconciles() > 0
          && MockApi.policy(client, "web").getStatus().getNodes().getSelected() == 2);
    } finally {
      b.stop();
    }
  }
}
