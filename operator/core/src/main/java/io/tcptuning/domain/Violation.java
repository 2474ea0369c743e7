package io.tcptuning.domain;

/** One thing wrong with a policy: the manifest field and what is accepted there. */
public record Violation(String field, String message) {
  @Override
  public String toString() {
    return field + ": " + message;
  }
}
