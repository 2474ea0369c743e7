package io.tcptuning.policy;

import io.tcptuning.domain.Violation;
import java.util.List;
import java.util.stream.Collectors;

/** A policy manifest that cannot be used; each violation names the field and what it accepts. */
public final class InvalidPolicyException extends Exception {
  private final String source;
  private final List<Violation> violations;

  public InvalidPolicyException(String source, List<Violation> violations) {
    super("invalid policy " + source + ":\n" + violations.stream().map(v -> "  " + v).collect(Collectors.joining("\n")));
    this.source = source;
    this.violations = List.copyOf(violations);
  }

  public InvalidPolicyException(String source, Violation violation) {
    this(source, List.of(violation));
  }

  public String source() {
    return source;
  }

  public List<Violation> violations() {
    return violations;
  }
}
