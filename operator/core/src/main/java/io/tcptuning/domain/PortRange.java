package io.tcptuning.domain;

import io.tcptuning.api.v1alpha1.PolicyBounds;

import java.util.Optional;
import java.util.regex.Pattern;

/** An ephemeral port range, {@code net.ipv4.ip_local_port_range}. */
public record PortRange(int min, int max) {
  private static final Pattern MANIFEST = Pattern.compile(PolicyBounds.PORT_RANGE_PATTERN);
  private static final Pattern KERNEL = Pattern.compile("^\\s*([0-9]{1,5})\\s+([0-9]{1,5})\\s*$");

  /** The Linux default, 32768..60999 (28,232 ports). */
  public static final PortRange LINUX_DEFAULT = new PortRange(32768, 60999);

  /** Number of ports in the range. */
  public int size() {
    return max - min + 1;
  }

  /** The kernel warns when both ends have the same parity: connect() takes even ports, bind() odd. */
  public boolean sameParity() {
    return (min & 1) == (max & 1);
  }

  public boolean contains(int port) {
    return port >= min && port <= max;
  }

  /** "min max", as in a manifest and as written to the kernel. */
  @Override
  public String toString() {
    return min + " " + max;
  }

  /**
   * Parses a manifest value strictly: exactly two decimal numbers and one space, nothing else
   * (no newline, tab or trailing text can ride along into a write).
   */
  public static Optional<PortRange> parseManifest(String value) {
    if (value == null || !MANIFEST.matcher(value).matches()) {
      return Optional.empty();
    }
    int space = value.indexOf(' ');
    return Optional.of(new PortRange(Integer.parseInt(value.substring(0, space)), Integer.parseInt(value.substring(space + 1))));
  }

  /** Parses what the kernel shows ({@code "32768\t60999\n"}). */
  public static Optional<PortRange> parseKernel(String value) {
    if (value == null) {
      return Optional.empty();
    }
    var m = KERNEL.matcher(value);
    if (!m.matches()) {
      return Optional.empty();
    }
    return Optional.of(new PortRange(Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2))));
  }
}
