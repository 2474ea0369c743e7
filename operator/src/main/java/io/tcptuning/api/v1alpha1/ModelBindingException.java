package io.tcptuning.api.v1alpha1;

import io.tcptuning.domain.Violation;
import java.util.List;
import java.util.stream.Collectors;

/** A JSON tree that does not fit the model; each violation names the field and what it accepts. */
public final class ModelBindingException extends Exception {
  private final List<Violation> violations;

  public ModelBindingException(List<Violation> violations) {
    super(violations.stream().map(Violation::toString).collect(Collectors.joining("; ")));
    this.violations = List.copyOf(violations);
  }

  public List<Violation> violations() {
    return violations;
  }
}
