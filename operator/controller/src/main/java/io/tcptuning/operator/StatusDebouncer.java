package io.tcptuning.operator;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * At most one status write per policy per window: a burst of node reports then costs one write
 * now and one at the end of the window, not one per report. In memory only; after a restart the
 * first write goes straight through.
 */
public final class StatusDebouncer {
  private final Duration window;
  private final Clock clock;
  private final Map<String, Instant> lastWrite = new ConcurrentHashMap<>();

  public StatusDebouncer(Duration window, Clock clock) {
    this.window = window;
    this.clock = clock;
  }

  /** How long to wait before this policy's status may be written; zero when it may be now. */
  public Duration waitFor(String policy) {
    Instant last = lastWrite.get(policy);
    if (last == null) {
      return Duration.ZERO;
    }
    Duration left = Duration.between(clock.instant(), last.plus(window));
    return left.isNegative() ? Duration.ZERO : left;
  }

  public void written(String policy) {
    lastWrite.put(policy, clock.instant());
  }

  public void forget(String policy) {
    lastWrite.remove(policy);
  }
}
