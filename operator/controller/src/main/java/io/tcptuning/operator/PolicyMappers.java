package io.tcptuning.operator;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.Cache;
import io.javaoperatorsdk.operator.processing.event.source.SecondaryToPrimaryMapper;
import io.tcptuning.api.v1alpha1.TcpTuningNodeState;
import io.tcptuning.api.v1alpha1.TcpTuningNodeStateStatus;
import io.tcptuning.api.v1alpha1.TcpTuningPolicy;
import io.tcptuning.domain.LabelSelectors;
import java.util.HashSet;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * Which policies an event of a secondary resource concerns. A node event concerns the policies
 * that select the node now and those that selected it at its previous event (its labels may have
 * changed, or it went away); a node report concerns the policy it names as well. Each mapping
 * costs one selector match per policy.
 */
public final class PolicyMappers {

  private PolicyMappers() {}

  /** Node events: the policies selecting the node, now or at its previous event. */
  public static SecondaryToPrimaryMapper<Node> nodes(Cache<TcpTuningPolicy> policies) {
    Map<String, Seen> previous = new ConcurrentHashMap<>();
    return node -> answer(previous, node.getMetadata().getName(), node.getMetadata().getResourceVersion(),
        () -> selecting(policies, NodeAssignment.labels(node)));
  }

  /**
   * Node report events: the policy the report names, and the policies selecting its node (looked up
   * in the node cache by the report's name, which is the node's), now or at the previous report.
   */
  public static SecondaryToPrimaryMapper<TcpTuningNodeState> nodeStates(Cache<TcpTuningPolicy> policies, Supplier<Cache<Node>> nodes) {
    Map<String, Seen> previous = new ConcurrentHashMap<>();
    return state -> {
      String nodeName = state.getMetadata().getName();
      return answer(previous, nodeName, state.getMetadata().getResourceVersion(), () -> {
        Set<ResourceID> now = new HashSet<>();
        if (state.getStatus() != null && state.getStatus().getPolicy() != null) {
          now.add(new ResourceID(state.getStatus().getPolicy()));
        }
        Optional<Node> node = nodes.get().get(new ResourceID(nodeName));
        node.ifPresent(n -> now.addAll(selecting(policies, NodeAssignment.labels(n))));
        return now;
      });
    };
  }

  /** What a mapper answered for one version of an object, and the policies it selected then. */
  private record Seen(String resourceVersion, Set<ResourceID> now, Set<ResourceID> answer) {}

  /**
   * The policies of {@code now} and of the object's previous version. JOSDK may ask a mapper more
   * than once about one event (its primary-to-secondary index, then the event itself), so one
   * resourceVersion always gets one answer: had the first call already moved "previous" on, the
   * second would forget the policy a relabelled node just left, and that policy would never
   * recount it.
   */
  private static Set<ResourceID> answer(Map<String, Seen> previous, String name, String resourceVersion, Supplier<Set<ResourceID>> now) {
    return previous.compute(name, (k, seen) -> {
      if (seen != null && resourceVersion != null && resourceVersion.equals(seen.resourceVersion())) {
        return seen;
      }
      Set<ResourceID> current = now.get();
      return new Seen(resourceVersion, current, union(current, seen == null ? null : seen.now()));
    }).answer();
  }

  /** Agent DaemonSet events: the policy named in its label. */
  public static SecondaryToPrimaryMapper<DaemonSet> daemonSets() {
    return ds -> {
      var labels = ds.getMetadata().getLabels();
      String policy = labels == null ? null : labels.get(AgentDaemonSetFactory.POLICY_LABEL);
      return policy == null ? Set.of() : Set.of(new ResourceID(policy));
    };
  }

  /** Another policy changed (selector, priority, created, deleted): every policy's affinity may change. */
  public static SecondaryToPrimaryMapper<TcpTuningPolicy> otherPolicies(Cache<TcpTuningPolicy> policies) {
    return changed -> {
      Set<ResourceID> out = new HashSet<>();
      policies.keys().forEach(out::add);
      out.remove(new ResourceID(changed.getMetadata().getName()));
      return out;
    };
  }

  /** Node updates matter only when labels change; status heartbeats are noise here. */
  public static boolean labelsChanged(Node now, Node before) {
    return !Objects.equals(NodeAssignment.labels(now), NodeAssignment.labels(before));
  }

  /**
   * Report updates matter only when something the status is built from changes (not the
   * heartbeat's lastReportTime, nor pressure below the status's resolution).
   */
  public static boolean reportChanged(TcpTuningNodeState now, TcpTuningNodeState before) {
    TcpTuningNodeStateStatus a = now.getStatus();
    TcpTuningNodeStateStatus b = before.getStatus();
    if (a == null || b == null) {
      return a != b;
    }
    return !Objects.equals(a.getPolicy(), b.getPolicy())
        || !Objects.equals(a.getPolicyGeneration(), b.getPolicyGeneration())
        || a.getPhase() != b.getPhase()
        || !Objects.equals(a.getSysctls(), b.getSysctls())
        || !Objects.equals(pressure(a), pressure(b))
        || !Objects.equals(a.getPods(), b.getPods())
        || !Objects.equals(a.getPodRefusals(), b.getPodRefusals())
        || !Objects.equals(worstPod(a), worstPod(b));
  }

  /** The worst pod as the policy status shows it: which pod, and its pressure to two decimals. */
  private static String worstPod(TcpTuningNodeStateStatus s) {
    var w = s.getWorstPod();
    return w == null ? null : w.getPod() + " " + PolicyStatusAggregator.round(w.getMaxDestinationPressure());
  }

  /** Policy updates that change arbitration: spec (generation) or the start of deletion. */
  public static boolean specOrDeletionChanged(TcpTuningPolicy now, TcpTuningPolicy before) {
    return !Objects.equals(now.getMetadata().getGeneration(), before.getMetadata().getGeneration())
        || !Objects.equals(now.getMetadata().getDeletionTimestamp(), before.getMetadata().getDeletionTimestamp());
  }

  /** DaemonSet updates that matter: its spec or our hash changed (someone edited or deleted it). */
  public static boolean daemonSetChanged(DaemonSet now, DaemonSet before) {
    return !Objects.equals(now.getMetadata().getGeneration(), before.getMetadata().getGeneration())
        || !Objects.equals(AgentDaemonSetFactory.desiredHash(now), AgentDaemonSetFactory.desiredHash(before))
        || !Objects.equals(now.getMetadata().getDeletionTimestamp(), before.getMetadata().getDeletionTimestamp());
  }

  private static Double pressure(TcpTuningNodeStateStatus s) {
    return s.getTimeWait() == null ? null : PolicyStatusAggregator.round(s.getTimeWait().getMaxDestinationPressure());
  }

  private static Set<ResourceID> selecting(Cache<TcpTuningPolicy> policies, Map<String, String> labels) {
    Set<ResourceID> out = new HashSet<>();
    if (!NodeAssignment.isLinux(labels)) {
      return out;
    }
    policies
        .list(p -> LabelSelectors.matches(p.getSpec() == null ? null : p.getSpec().getNodeSelector(), labels))
        .map(HasMetadata::getMetadata)
        .forEach(m -> out.add(new ResourceID(m.getName())));
    return out;
  }

  private static Set<ResourceID> union(Set<ResourceID> now, Set<ResourceID> before) {
    if (before == null || now.containsAll(before)) {
      return now;
    }
    Set<ResourceID> out = new HashSet<>(now);
    out.addAll(before);
    return out;
  }
}
