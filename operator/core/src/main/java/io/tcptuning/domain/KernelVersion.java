package io.tcptuning.domain;

import java.util.Optional;
import java.util.regex.Pattern;

/**
 * A kernel release as in {@code /proc/sys/kernel/osrelease} ({@code 6.18.44-foo},
 * {@code 4.9.0-19-amd64}, {@code 3.10.0-1160.el7.x86_64}). Only the leading major.minor is
 * trusted; anything else is unknown, and rules that need a version refuse on unknown.
 */
public record KernelVersion(String release, Optional<Integer> major, Optional<Integer> minor) {
  private static final Pattern LEADING = Pattern.compile("^([0-9]{1,4})\\.([0-9]{1,4})(?:[^0-9].*)?$", Pattern.DOTALL);

  public static KernelVersion parse(String release) {
    String r = release == null ? "" : release.strip();
    var m = LEADING.matcher(r);
    if (!m.matches()) {
      return new KernelVersion(r, Optional.empty(), Optional.empty());
    }
    return new KernelVersion(r, Optional.of(Integer.parseInt(m.group(1))), Optional.of(Integer.parseInt(m.group(2))));
  }

  public boolean known() {
    return major.isPresent() && minor.isPresent();
  }

  /** True when known and at least {@code maj.min}; false when older or unknown. */
  public boolean atLeast(int maj, int min) {
    if (!known()) {
      return false;
    }
    int a = major.get();
    return a > maj || (a == maj && minor.get() >= min);
  }

  /** "4.12" style, or "unknown". */
  public String shortVersion() {
    return known() ? major.get() + "." + minor.get() : "unknown";
  }
}
