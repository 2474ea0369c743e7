package io.tcptuning.agent.views;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.WatchEvent;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.tcptuning.agent.NodeStateReporter;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The agent's small views of a Pod and a Node read what the API server sends, and skip the rest. */
class PodViewTest {
  static final String FULL_POD = Serialization.asJson(new PodBuilder()
      .withNewMetadata().withName("client-7d9").withNamespace("apps").withUid("u-1").withLabels(Map.of("role", "client")).endMetadata()
      .withNewSpec().withNodeName("n1").withHostNetwork(true)
      .addNewContainer().withName("c").withImage("busybox").withNewReadinessProbe().withNewExec().withCommand("true").endExec().endReadinessProbe()
      .withNewResources().withLimits(Map.of("memory", new Quantity("64Mi"))).endResources().endContainer()
      .addNewVolume().withName("v").withNewEmptyDir().endEmptyDir().endVolume()
      .withNewSecurityContext().addNewSysctl("net.ipv4.tcp_fin_timeout", "30").withRunAsUser(1000L).endSecurityContext()
      .endSpec()
      .withNewStatus().withPhase("Running").withPodIP("10.0.0.7").endStatus()
      .build());

  @Test
  void aPodIsReadAsTheViewWithTheFieldsTheAgentUses() {
    PodView pod = NodeStateReporter.serialization().unmarshal(FULL_POD, PodView.class);
    assertThat(pod.getMetadata().getName()).isEqualTo("client-7d9");
    assertThat(pod.getMetadata().getLabels()).containsEntry("role", "client");
    assertThat(pod.getSpec().nodeName()).isEqualTo("n1");
    assertThat(pod.getSpec().hostNetwork()).isTrue();
    assertThat(pod.getSpec().securityContext().sysctls()).containsExactly(new PodView.SysctlSetting("net.ipv4.tcp_fin_timeout", "30"));
    assertThat(pod.getStatus().phase()).isEqualTo("Running");
  }

  @Test
  void aWatchEventsPodArrivesAsTheViewNotAsFabric8sPod() {
    // An informer's watch event names its object only by apiVersion and kind.
    String event = "{\"type\":\"ADDED\",\"object\":" + FULL_POD + "}";
    WatchEvent parsed = NodeStateReporter.serialization().unmarshal(event, WatchEvent.class);
    assertThat(parsed.getObject()).isInstanceOf(PodView.class);
    assertThat(((PodView) parsed.getObject()).getSpec().nodeName()).isEqualTo("n1");
  }

  @Test
  void aNodeIsReadForItsMetadataOnly() {
    String node = Serialization.asJson(new NodeBuilder().withNewMetadata().withName("n1").withUid("node-uid")
        .withLabels(Map.of("tcptuning.io/profile", "high-churn")).endMetadata()
        .withNewStatus().withNewNodeInfo().withKernelVersion("6.1.0").endNodeInfo().addNewAddress("10.0.0.1", "InternalIP").endStatus().build());
    NodeView view = NodeStateReporter.serialization().unmarshal(node, NodeView.class);
    assertThat(view.getMetadata().getUid()).isEqualTo("node-uid");
    assertThat(view.getMetadata().getLabels()).containsEntry("tcptuning.io/profile", "high-churn");
  }
}
