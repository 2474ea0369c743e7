package io.tcptuning.apiserver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Node;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.tcptuning.api.v1alpha1.TcpTuningPolicy;
import io.tcptuning.operator.AgentSettings;
import io.tcptuning.operator.KubeletNodes;
import io.tcptuning.operator.OperatorConfig;
import io.tcptuning.operator.TcpTuningOperator;
import io.tcptuning.testing.ProjectPaths;
import java.time.Clock;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Against a real kube-apiserver, which adds its own managedFields to every object: Nodes with a
 * kubelet's status are cached by the operator's informer as a name and labels, and the operator
 * still counts them by label and recounts a node relabelled into its policy's selector.
 */
class SlimCachesApiServerTest {
  @RegisterExtension static final RealApiServer API = new RealApiServer();

  @Test
  void theOperatorCachesNodesTrimmedAndStillFollowsTheirLabels() throws Exception {
    API.installCrds();
    API.client().namespaces().resource(new NamespaceBuilder().withNewMetadata().withName("tcp-tuning-system").endMetadata().build()).create();
    for (String n : new String[] {"a", "b"}) {
      Node full = KubeletNodes.node(n, "tcptuning.io/profile", n.equals("a") ? "high-churn" : "x");
      full.getMetadata().setManagedFields(null); // the server's own
      Node created = API.client().nodes().resource(full).create();
      if (created.getStatus() == null || created.getStatus().getImages().isEmpty()) {
        created.setStatus(full.getStatus());
        API.client().nodes().resource(created).updateStatus();
      }
    }
    Node onServer = API.client().nodes().withName("a").get();
    assertThat(onServer.getStatus().getImages()).hasSize(KubeletNodes.IMAGES);
    assertThat(onServer.getMetadata().getManagedFields()).as("the server's managedFields").isNotEmpty();
    assertThat(onServer.getMetadata().getAnnotations()).isNotEmpty();

    OperatorConfig config = new OperatorConfig("tcp-tuning-system", "tcptune:test", OperatorConfig.DEFAULT_PULL_POLICY, OperatorConfig.DEFAULT_AGENT_SERVICE_ACCOUNT,
        Duration.ofSeconds(1), OperatorConfig.DEFAULT_REVERT_TIMEOUT, false, "tcp-tuning-system", 0, AgentSettings.DEFAULTS);
    TcpTuningOperator op = TcpTuningOperator.create(API.client(), config, new SimpleMeterRegistry(), Clock.systemUTC());
    op.start();
    try {
      API.kubectl("apply", "-f", ProjectPaths.resolve("deploy/examples/high-churn-clients.yaml").toString()).assertSuccess();
      await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> assertThat(selected()).isEqualTo(1));

      Node cached = op.reconciler().cachedNode("a").orElseThrow();
      KubeletNodes.assertTrimmedCopyOf(cached, onServer);

      // A kubelet heartbeat reaches the cache, trimmed.
      Node beat = API.client().nodes().withName("a").get();
      beat.setStatus(KubeletNodes.status("a", 7).build().getStatus());
      String rv = API.client().nodes().resource(beat).updateStatus().getMetadata().getResourceVersion();
      await().atMost(Duration.ofSeconds(20)).until(() -> rv.equals(op.reconciler().cachedNode("a").orElseThrow().getMetadata().getResourceVersion()));
      assertThat(op.reconciler().cachedNode("a").orElseThrow().getStatus()).isNull();

      API.kubectl("label", "node", "b", "tcptuning.io/profile=high-churn", "--overwrite").assertSuccess();
      await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> assertThat(selected()).isEqualTo(2));
      assertThat(op.reconciler().cachedNode("b").orElseThrow().getMetadata().getLabels()).containsEntry("tcptuning.io/profile", "high-churn");
      assertThat(op.reconciler().cachedNode("b").orElseThrow().getStatus()).isNull();
    } finally {
      op.stop();
    }
  }

  private static int selected() {
    var s = API.client().resources(TcpTuningPolicy.class).withName("high-churn-clients").get().getStatus();
    return s == null || s.getNodes() == null ? -1 : s.getNodes().getSelected();
  }
}
