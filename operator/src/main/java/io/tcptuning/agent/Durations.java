package io.tcptuning.agent;

import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.regex.Pattern;

/** Durations in configuration: {@code 500ms}, {@code 15s}, {@code 5m}, {@code 1h}, or ISO-8601 {@code PT15S}. */
public final class Durations {
  private static final Pattern SIMPLE = Pattern.compile("^([0-9]{1,9})(ms|s|m|h)$");

  private Durations() {}

  /**
   * @param name the setting, for the error message
   * @throws IllegalArgumentException naming the setting and the accepted forms
   */
  public static Duration parse(String name, String value) {
    String v = value == null ? "" : value.strip();
    var m = SIMPLE.matcher(v);
    Duration d = null;
    if (m.matches()) {
      long n = Long.parseLong(m.group(1));
      d = switch (m.group(2)) {
        case "ms" -> Duration.ofMillis(n);
        case "s" -> Duration.ofSeconds(n);
        case "m" -> Duration.ofMinutes(n);
        default -> Duration.ofHours(n);
      };
    } else if (v.startsWith("PT") || v.startsWith("P")) {
      try {
        d = Duration.parse(v);
      } catch (DateTimeParseException ignored) {
        d = null;
      }
    }
    if (d == null || d.isNegative() || d.isZero()) {
      throw new IllegalArgumentException(
          name + ": \"" + value + "\" is not a positive duration; use e.g. 500ms, 15s, 5m, 1h or PT15S");
    }
    return d;
  }
}
