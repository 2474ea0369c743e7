package io.tcptuning.domain;

import io.fabric8.kubernetes.api.model.LabelSelector;
import java.time.Instant;
import java.util.Collection;
import java.util.Comparator;
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

  /** The policy that tunes a node with these labels, if any selects it. */
  public static Optional<Candidate> winner(Map<String, String> nodeLabels, Collection<Candidate> policies) {
    return policies.stream().filter(p -> LabelSelectors.matches(p.selector(), nodeLabels)).min(PRECEDENCE);
  }

  /** True when {@code a} takes precedence over {@code b}. */
  public static boolean outranks(Candidate a, Candidate b) {
    return PRECEDENCE.compare(a, b) < 0;
  }
}
