package io.tcptuning.operator;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.tcptuning.api.v1alpha1.NodePhase;
import io.tcptuning.api.v1alpha1.TcpTuningNodeState;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The trimmed caches keep what the operator reads and nothing else, and the node event filter
 * still tells a label change from a status heartbeat when both sides of an update are trimmed.
 */
class SlimItemStoreTest {
  private static final KubernetesSerialization JSON = new KubernetesSerialization();

  private static Node kubelet(String name, String rv, int beat, String... kv) {
    Node n = KubeletNodes.node(name, kv);
    n.setStatus(KubeletNodes.status(name, beat).build().getStatus());
    n.getMetadata().setUid("uid-" + name);
    n.getMetadata().setResourceVersion(rv);
    n.getMetadata().setCreationTimestamp("2026-11-30T09:00:00Z");
    return n;
  }

  @Test
  void aNodeKeepsItsNameUidVersionLabelsAndTimestampsOnly() {
    var store = SlimItemStore.nodes();
    Node full = kubelet("w1", "7", 0, "role", "web");
    full.getMetadata().setDeletionTimestamp("2026-11-30T11:00:00Z");
    var labels = Map.copyOf(full.getMetadata().getLabels());
    int before = JSON.asJson(full).length();
    store.put(store.getKey(full), full);

    Node cached = store.get("w1");
    KubeletNodes.assertTrimmed(cached);
    assertThat(cached.getMetadata().getName()).isEqualTo("w1");
    assertThat(cached.getMetadata().getUid()).isEqualTo("uid-w1");
    assertThat(cached.getMetadata().getResourceVersion()).isEqualTo("7");
    assertThat(cached.getMetadata().getCreationTimestamp()).isEqualTo("2026-11-30T09:00:00Z");
    assertThat(cached.getMetadata().getDeletionTimestamp()).isEqualTo("2026-11-30T11:00:00Z");
    assertThat(cached.getMetadata().getLabels()).isEqualTo(labels).containsEntry("role", "web");
    int after = JSON.asJson(cached).length();
    assertThat(before).as("a kubelet-like node's JSON").isGreaterThan(8_000);
    assertThat(after).as("the cached node's JSON").isLessThan(600);
  }

  @Test
  void aStatusOnlyUpdateIsStillFilteredOutAndALabelChangeStillPassesWithBothSidesTrimmed() {
    var store = SlimItemStore.nodes();
    Node v1 = kubelet("w1", "1", 0, "role", "web");
    assertThat(store.put("w1", v1)).isNull();

    // As fabric8's informer does: put the new object, hand (previous from the store, the new object) to the handler.
    Node heartbeat = kubelet("w1", "2", 10, "role", "web");
    Node old = store.put("w1", heartbeat);
    assertThat(old).isSameAs(v1);
    assertThat(heartbeat.getStatus()).as("trimmed in place: the handler sees what the cache holds").isNull();
    assertThat(PolicyMappers.labelsChanged(heartbeat, old)).isFalse();

    Node relabelled = kubelet("w1", "3", 20, "role", "batch");
    old = store.put("w1", relabelled);
    assertThat(PolicyMappers.labelsChanged(relabelled, old)).isTrue();
    assertThat(store.get("w1").getMetadata().getLabels()).containsEntry("role", "batch");

    Node unlabelled = new NodeBuilder(kubelet("w1", "4", 30)).build();
    unlabelled.getMetadata().getLabels().remove("role");
    old = store.put("w1", unlabelled);
    assertThat(PolicyMappers.labelsChanged(unlabelled, old)).isTrue();
  }

  @Test
  void aNodeReportKeepsItsStatusAndLosesManagedFields() {
    var store = SlimItemStore.nodeStates();
    TcpTuningNodeState s = Fixtures.report("w1", "web", 3, NodePhase.Applied);
    s.setMetadata(new ObjectMetaBuilder().withName("w1").withResourceVersion("5")
        .addNewManagedField().withManager("tcptune-agent").withOperation("Update").withSubresource("status").endManagedField()
        .build());
    var status = s.getStatus();
    store.put(store.getKey(s), s);
    TcpTuningNodeState cached = store.get("w1");
    assertThat(cached.getMetadata().getManagedFields()).isNullOrEmpty();
    assertThat(cached.getMetadata().getResourceVersion()).isEqualTo("5");
    assertThat(cached.getStatus()).isSameAs(status);
    assertThat(PolicyMappers.reportChanged(cached, Fixtures.report("w1", "web", 3, NodePhase.Applied))).isFalse();
  }
}
