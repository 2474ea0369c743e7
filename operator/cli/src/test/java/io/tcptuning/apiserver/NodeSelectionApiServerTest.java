package io.tcptuning.apiserver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.tcptuning.api.v1alpha1.TcpTuningPolicy;
import io.tcptuning.operator.AgentSettings;
import io.tcptuning.operator.OperatorConfig;
import io.tcptuning.operator.TcpTuningOperator;
import io.tcptuning.testing.ProjectPaths;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A node relabelled into a policy's selector and out of it again is counted, then no longer: the
 * real operator (in process, as KubectlApiServerTest runs it) against a real API server, whose
 * informers call the node mapper more than once per event. Before the mapper answered one
 * resourceVersion the same way every time, the policy never recounted a node that left it.
 */
class NodeSelectionApiServerTest {
  @RegisterExtension static final RealApiServer API = new RealApiServer();

  @Test
  void aNodeRelabelledInAndOutOfTheSelectorIsCountedThenNot() throws Exception {
    API.installCrds(); // no agents here: only the policy's count of selected nodes is asserted
    API.client().namespaces().resource(new NamespaceBuilder().withNewMetadata().withName("tcp-tuning-system").endMetadata().build()).create();
    for (String n : new String[] {"a", "b"}) {
      API.client().nodes().resource(new NodeBuilder().withNewMetadata().withName(n)
          .withLabels(Map.of("kubernetes.io/os", "linux", "tcptuning.io/profile", n.equals("a") ? "high-churn" : "x")).endMetadata().build()).create();
    }
    OperatorConfig config = new OperatorConfig("tcp-tuning-system", "tcptune:test", OperatorConfig.DEFAULT_PULL_POLICY, OperatorConfig.DEFAULT_AGENT_SERVICE_ACCOUNT,
        Duration.ofSeconds(2), OperatorConfig.DEFAULT_REVERT_TIMEOUT, false, "tcp-tuning-system", 0, AgentSettings.DEFAULTS);
    TcpTuningOperator op = TcpTuningOperator.create(API.client(), config, new SimpleMeterRegistry(), Clock.systemUTC());
    op.start();
    try {
      API.kubectl("apply", "-f", ProjectPaths.resolve("deploy/examples/high-churn-clients.yaml").toString()).assertSuccess();
      await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> assertThat(sel()).isEqualTo(1));
      Thread.sleep(3000);
      API.kubectl("label", "node", "b", "tcptuning.io/profile=high-churn", "--overwrite").assertSuccess();
      await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> assertThat(sel()).isEqualTo(2));
      Thread.sleep(3000);
      API.kubectl("label", "node", "b", "tcptuning.io/profile=x", "--overwrite").assertSuccess();
      await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> assertThat(sel()).as("after deselecting b").isEqualTo(1));
    } finally {
      op.stop();
    }
  }

  private static int sel() {
    var s = API.client().resources(TcpTuningPolicy.class).withName("high-churn-clients").get().getStatus();
    return s == null ? -1 : s.getNodes().getSelected();
  }
}
