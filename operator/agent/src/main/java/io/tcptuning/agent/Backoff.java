package io.tcptuning.agent;

import java.time.Duration;
import java.time.Instant;

/** Exponential backoff for API writes: 1 s, 2 s, 4 s ... up to a cap; reset on success. */
final class Backoff {
  private final Duration first;
  private final Duration cap;
  private Duration current;
  private Instant notBefore = Instant.MIN;

  Backoff(Duration first, Duration cap) {
    this.first = first;
    this.cap = cap;
    this.current = first;
  }

  boolean ready(Instant now) {
    return !now.isBefore(notBefore);
  }

  void failed(Instant now) {
    notBefore = now.plus(current);
    current = current.multipliedBy(2).compareTo(cap) > 0 ? cap : current.multipliedBy(2);
  }

  void succeeded() {
    current = first;
    notBefore = Instant.MIN;
  }

  Duration nextDelay() {
    return current;
  }
}
