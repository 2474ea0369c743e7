package io.tcptuning.domain;

import io.fabric8.kubernetes.api.model.LabelSelector;
import io.tcptuning.api.v1alpha1.TcpTuningPolicy;
import java.time.Instant;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Decides which policy tunes a node where several select it: the highest priority, then the
 * oldest, then the name. The operator, the agents and the tests use this one rule.
 */
public final class PolicyArbiter {

  /** What arbitration needs to know of a policy. */
  public record Candidate(String name, int priority, Instant created, LabelSelector selector) {}

  /** Winner first. */
  public static final Comparator<Candidate> PRECEDENCE =
      Comparator.comparingInt(Candidate::priority)
          .reversed()
          .thenComparing(Candidate::created, Comparator.nullsLast(Comparator.naturalOrder()))
          .thenComparing(Candidate::name);

  private PolicyArbiter() {}

  /** A policy as a candidate; null when it is being deleted (a policy letting go wins nothing). */
  public static Candidate candidateOf(TcpTuningPolicy policy) {
    var meta = policy.getMetadata();
    if (meta.getDeletionTimestamp() != null) {
      return null;
    }
    Instant created = meta.getCreationTimestamp() == null ? null : Instant.parse(meta.getCreationTimestamp());
    var spec = policy.getSpec();
    return new Candidate(meta.getName(), spec == null ? 0 : spec.effectivePriority(), created, spec == null ? null : spec.getNodeSelector());
  }

  /** The live (not deleting) policies as candidates. */
  public static List<Candidate> candidatesOf(Collection<TcpTuningPolicy> policies) {
    return policies.stream().map(PolicyArbiter::candidateOf).filter(java.util.Objects::nonNull).toList();
  }

  /** The policy that tunes a node with these labels, if any selects it. */
  public static Optional<Candidate> winner(Map<String, String> nodeLabels, Collection<Candidate> policies) {
    return policies.stream().filter(p -> LabelSelectors.matches(p.selector(), nodeLabels)).min(PRECEDENCE);
  }

  /** True when {@code a} takes precedence over {@code b}. */
  public static boolean outranks(Candidate a, Candidate b) {
    return PRECEDENCE.compare(a, b) < 0;
  }
}
