package io.tcptuning.operator;

import io.fabric8.kubernetes.api.model.Node;
import io.tcptuning.api.v1alpha1.TcpTuningPolicy;
import io.tcptuning.domain.LabelSelectors;
import io.tcptuning.domain.PolicyArbiter;
import io.tcptuning.domain.PolicyArbiter.Candidate;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;

/**
 * Which of the nodes a policy selects it tunes, and which another policy wins ({@link
 * PolicyArbiter}). Only Linux nodes count: the agents run nowhere else. A policy being deleted
 * wins no node, so that the next policy in line takes its nodes over. Pure.
 */
public final class NodeAssignment {

  /**
   * @param selected Linux nodes matching the policy's selector
   * @param tuned of those, the ones this policy wins
   * @param superseded of those, the ones another policy wins
   */
  public record Split(List<Node> selected, List<Node> tuned, List<Node> superseded) {}

  private NodeAssignment() {}

  public static Split split(TcpTuningPolicy policy, Collection<TcpTuningPolicy> policies, Collection<Node> nodes) {
    String name = policy.getMetadata().getName();
    List<Candidate> candidates = new ArrayList<>(candidates(policies, name));
    boolean deleting = isDeleting(policy);
    if (!deleting) {
      candidates.add(candidate(policy));
    }
    var selector = policy.getSpec() == null ? null : policy.getSpec().getNodeSelector();
    List<Node> selected = new ArrayList<>();
    List<Node> tuned = new ArrayList<>();
    List<Node> superseded = new ArrayList<>();
    for (Node node : nodes) {
      Map<String, String> labels = labels(node);
      if (!isLinux(labels) || !LabelSelectors.matches(selector, labels)) {
        continue;
      }
      selected.add(node);
      boolean wins =
          !deleting && PolicyArbiter.winner(labels, candidates).map(c -> c.name().equals(name)).orElse(false);
      (wins ? tuned : superseded).add(node);
    }
    return new Split(selected, tuned, superseded);
  }

  /** The policies that compete for nodes: all but those being deleted and the one named. */
  public static List<Candidate> candidates(Collection<TcpTuningPolicy> policies, String except) {
    List<Candidate> out = new ArrayList<>();
    for (TcpTuningPolicy p : policies) {
      if (!p.getMetadata().getName().equals(except) && !isDeleting(p)) {
        out.add(candidate(p));
      }
    }
    return out;
  }

  public static Candidate candidate(TcpTuningPolicy p) {
    var spec = p.getSpec();
    return new Candidate(
        p.getMetadata().getName(),
        spec == null ? 0 : spec.effectivePriority(),
        created(p),
        spec == null ? null : spec.getNodeSelector());
  }

  public static boolean isDeleting(TcpTuningPolicy p) {
    return p.getMetadata().getDeletionTimestamp() != null;
  }

  public static boolean isLinux(Map<String, String> labels) {
    return "linux".equals(labels.get(AgentNodeAffinity.OS_LABEL));
  }

  public static Map<String, String> labels(Node node) {
    var l = node.getMetadata().getLabels();
    return l == null ? Map.of() : l;
  }

  private static Instant created(TcpTuningPolicy p) {
    String ts = p.getMetadata().getCreationTimestamp();
    if (ts == null) {
      return null;
    }
    try {
      return Instant.parse(ts);
    } catch (DateTimeParseException e) {
      return null;
    }
  }
}
