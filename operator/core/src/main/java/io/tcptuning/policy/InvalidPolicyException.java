package io.tcptuning.policy;

import io.tcptuning.domain.Violation;
import java.util.List;
import java.util.stream.Collectors;

/**
 * A policy manifest that cannot be used; each violation names the field and what it accepts. A
 * file that cannot be read at all has no violations, only a {@link #summary()} such as "no such
 * file: p.yaml".
 */
public final class InvalidPolicyException extends Exception {
  private final String source;
  private final String summary;
  private final List<Violation> violations;

  public InvalidPolicyException(String source, List<Violation> violations) {
    this(source, "invalid policy " + source, violations);
  }

  public InvalidPolicyException(String source, Violation violation) {
    this(source, List.of(violation));
  }

  private InvalidPolicyException(String source, String summary, List<Violation> violations) {
    super(summary + violations.stream().map(v -> "\n  " + v).collect(Collectors.joining("", violations.isEmpty() ? "" : ":", "")));
    this.source = source;
    this.summary = summary;
    this.violations = List.copyOf(violations);
  }

  /** The file (or standard input) could not be read: {@code problem} says why, in one line. */
  public static InvalidPolicyException unreadable(String source, String problem) {
    return new InvalidPolicyException(source, problem, List.of());
  }

  public String source() {
    return source;
  }

  /** The first line: "invalid policy p.yaml", or why the file could not be read. */
  public String summary() {
    return summary;
  }

  public List<Violation> violations() {
    return violations;
  }
}
