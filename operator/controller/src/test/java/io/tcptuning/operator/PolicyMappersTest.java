package io.tcptuning.operator;

import static io.tcptuning.operator.Fixtures.labels;
import static io.tcptuning.operator.Fixtures.node;
import static io.tcptuning.operator.Fixtures.policy;
import static io.tcptuning.operator.Fixtures.report;
import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Node;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.Cache;
import io.tcptuning.api.v1alpha1.NodePhase;
import io.tcptuning.api.v1alpha1.TcpTuningNodeState;
import io.tcptuning.api.v1alpha1.TcpTuningPolicy;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

class PolicyMappersTest {

  /** An informer cache stand-in. */
  static final class MapCache<T extends HasMetadata> implements Cache<T> {
    final Map<ResourceID, T> items = new LinkedHashMap<>();

    MapCache(List<T> list) {
      list.forEach(t -> items.put(new ResourceID(t.getMetadata().getName()), t));
    }

    @Override
    public Optional<T> get(ResourceID id) {
      return Optional.ofNullable(items.get(id));
    }

    @Override
    public Stream<ResourceID> keys() {
      return items.keySet().stream();
    }

    @Override
    public Stream<T> list(Predicate<T> p) {
      return items.values().stream().filter(p);
    }
  }

  private final MapCache<TcpTuningPolicy> policies =
      new MapCache<>(List.of(policy("web", 0, labels("role", "web")), policy("db", 0, labels("role", "db")), policy("all", 0, null)));

  private static Set<ResourceID> ids(String... names) {
    return Stream.of(names).map(ResourceID::new).collect(java.util.stream.Collectors.toSet());
  }

  private static Node version(Node n, String resourceVersion) {
    n.getMetadata().setResourceVersion(resourceVersion);
    return n;
  }

  @Test
  void aNodeMapsToThePoliciesSelectingItNowAndBefore() {
    var mapper = PolicyMappers.nodes(policies);
    assertThat(mapper.toPrimaryResourceIDs(version(node("n1", "role", "web"), "1"))).isEqualTo(ids("web", "all"));
    // Relabelled: the policy that selected it before must recount too, however many times JOSDK
    // asks about that one event (its index asks, then the event is propagated).
    Node relabelled = version(node("n1", "role", "db"), "2");
    assertThat(mapper.toPrimaryResourceIDs(relabelled)).isEqualTo(ids("web", "db", "all"));
    assertThat(mapper.toPrimaryResourceIDs(relabelled)).isEqualTo(ids("web", "db", "all"));
    // The next change of the node no longer concerns the policy it left.
    assertThat(mapper.toPrimaryResourceIDs(version(node("n1", "role", "db"), "3"))).isEqualTo(ids("db", "all"));
    Node windows = node("n2");
    windows.getMetadata().getLabels().put("kubernetes.io/os", "windows");
    assertThat(mapper.toPrimaryResourceIDs(windows)).isEmpty();
  }

  @Test
  void aReportMapsToItsPolicyAndThePoliciesSelectingItsNode() {
    MapCache<Node> nodes = new MapCache<>(List.of(node("n1", "role", "db")));
    var mapper = PolicyMappers.nodeStates(policies, () -> nodes);
    TcpTuningNodeState r = report("n1", "legacy", 1, NodePhase.Applied);
    r.getMetadata().setResourceVersion("1");
    assertThat(mapper.toPrimaryResourceIDs(r)).isEqualTo(ids("legacy", "db", "all"));
    TcpTuningNodeState next = report("n1", "db", 1, NodePhase.Applied);
    next.getMetadata().setResourceVersion("2");
    assertThat(mapper.toPrimaryResourceIDs(next)).isEqualTo(ids("legacy", "db", "all"));
    assertThat(mapper.toPrimaryResourceIDs(next)).as("asked again about the same event").isEqualTo(ids("legacy", "db", "all"));
    TcpTuningNodeState later = report("n1", "db", 1, NodePhase.Applied);
    later.getMetadata().setResourceVersion("3");
    assertThat(mapper.toPrimaryResourceIDs(later)).isEqualTo(ids("db", "all"));
    // A report whose node is not (yet) in the cache still reaches its policy.
    assertThat(mapper.toPrimaryResourceIDs(report("n9", "web", 1, NodePhase.Applied))).isEqualTo(ids("web"));
  }

  @Test
  void aPolicyChangeReachesEveryOtherPolicy() {
    assertThat(PolicyMappers.otherPolicies(policies).toPrimaryResourceIDs(policy("web", 0, null))).isEqualTo(ids("db", "all"));
  }

  @Test
  void filtersLetThroughWhatTheStatusDependsOnOnly() {
    TcpTuningNodeState a = Fixtures.withPressure(report("n1", "web", 1, NodePhase.Applied), 0.301);
    TcpTuningNodeState heartbeat = Fixtures.withPressure(report("n1", "web", 1, NodePhase.Applied), 0.302);
    heartbeat.getStatus().setLastReportTime("2025-06-01T10:05:00Z");
    assertThat(PolicyMappers.reportChanged(heartbeat, a)).isFalse();
    assertThat(PolicyMappers.reportChanged(Fixtures.withPressure(report("n1", "web", 1, NodePhase.Applied), 0.35), a)).isTrue();
    assertThat(PolicyMappers.reportChanged(Fixtures.withPressure(report("n1", "web", 2, NodePhase.Applied), 0.301), a)).isTrue();
    assertThat(PolicyMappers.reportChanged(Fixtures.withPressure(report("n1", "web", 1, NodePhase.Failed), 0.301), a)).isTrue();
    // Pods: counts, refusals and the worst pod (its name, its pressure to two decimals).
    TcpTuningNodeState withPod = Fixtures.withWorstPod(Fixtures.withPods(Fixtures.withPressure(report("n1", "web", 1, NodePhase.Applied), 0.301), 3, 3, 0, 0), "shop/client-1", 0.401);
    TcpTuningNodeState pNoise = Fixtures.withWorstPod(Fixtures.withPods(Fixtures.withPressure(report("n1", "web", 1, NodePhase.Applied), 0.301), 3, 3, 0, 0), "shop/client-1", 0.402);
    assertThat(PolicyMappers.reportChanged(pNoise, withPod)).isFalse();
    assertThat(PolicyMappers.reportChanged(withPod, a)).isTrue();
    assertThat(PolicyMappers.reportChanged(Fixtures.withWorstPod(Fixtures.withPods(Fixtures.withPressure(report("n1", "web", 1, NodePhase.Applied), 0.301), 3, 3, 0, 0), "shop/client-2", 0.401), withPod)).isTrue();
    assertThat(PolicyMappers.reportChanged(Fixtures.withWorstPod(Fixtures.withPods(Fixtures.withPressure(report("n1", "web", 1, NodePhase.Applied), 0.301), 4, 3, 1, 0), "shop/client-1", 0.401), withPod)).isTrue();
    assertThat(PolicyMappers.reportChanged(
        Fixtures.withPodRefusal(Fixtures.withWorstPod(Fixtures.withPods(Fixtures.withPressure(report("n1", "web", 1, NodePhase.Applied), 0.301), 3, 3, 0, 0), "shop/client-1", 0.401),
            "shop/client-1", "net.ipv4.tcp_tw_reuse", "PodDeclaresSysctl"), withPod)).isTrue();

    Node n = node("n1", "role", "web");
    Node sameLabels = node("n1", "role", "web");
    sameLabels.getMetadata().setResourceVersion("99");
    assertThat(PolicyMappers.labelsChanged(sameLabels, n)).isFalse();
    assertThat(PolicyMappers.labelsChanged(node("n1", "role", "db"), n)).isTrue();

    TcpTuningPolicy p = policy("web", 0, null);
    TcpTuningPolicy statusOnly = policy("web", 0, null);
    statusOnly.setStatus(new io.tcptuning.api.v1alpha1.TcpTuningPolicyStatus());
    assertThat(PolicyMappers.specOrDeletionChanged(statusOnly, p)).isFalse();
    TcpTuningPolicy deleting = policy("web", 0, null);
    deleting.getMetadata().setDeletionTimestamp("2025-06-01T10:00:00Z");
    assertThat(PolicyMappers.specOrDeletionChanged(deleting, p)).isTrue();
  }
}
