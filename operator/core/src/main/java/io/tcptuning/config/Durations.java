package io.tcptuning.config;

import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Durations in configuration, for the operator and the agent alike: {@code 500ms}, {@code 15s},
 * {@code 5m}, {@code 1h}, or ISO-8601 {@code PT15S}. Errors name the setting and the accepted
 * forms or range.
 */
public final class Durations {
  private static final Pattern SHORT = Pattern.compile("^([0-9]{1,9})(ms|s|m|h)$");

  private Durations() {}

  /** A duration between {@code min} and {@code max}, inclusive. */
  public static Duration parse(String name, String raw, Duration min, Duration max) {
    Duration d = parse(name, raw);
    if (d.compareTo(min) < 0 || d.compareTo(max) > 0) {
      throw new IllegalArgumentException(name + " must be between " + human(min) + " and " + human(max) + " (got \"" + raw + "\")");
    }
    return d;
  }

  /** Any duration that is not negative. */
  public static Duration parse(String name, String raw) {
    String v = raw == null ? "" : raw.strip();
    Matcher m = SHORT.matcher(v);
    Duration d;
    if (m.matches()) {
      long n = Long.parseLong(m.group(1));
      d = switch (m.group(2)) {
        case "ms" -> Duration.ofMillis(n);
        case "s" -> Duration.ofSeconds(n);
        case "m" -> Duration.ofMinutes(n);
        default -> Duration.ofHours(n);
      };
    } else {
      try {
        d = Duration.parse(v.toUpperCase(Locale.ROOT));
      } catch (DateTimeParseException e) {
        d = null;
      }
    }
    if (d == null || d.isNegative()) {
      throw new IllegalArgumentException(
          name + " must be a duration such as 500ms, 2s, 5m, 1h or ISO-8601 PT2S (got \"" + raw + "\")");
    }
    return d;
  }

  public static String human(Duration d) {
    return d.toMillis() % 1000 == 0 ? d.toSeconds() + "s" : d.toMillis() + "ms";
  }
}
