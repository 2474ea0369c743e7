package io.tcptuning.node.census;

import java.util.OptionalLong;

/**
 * {@code /proc/net/sockstat}: {@code "TCP: inuse 5 orphan 0 tw 3000 alloc 7 mem 1"}. The
 * {@code tw} figure counts the namespace's TIME_WAIT sockets of both families: IPv6 TIME_WAIT
 * sockets share IPv4's death row ({@code net->ipv4.tcp_death_row}), and sockstat6 has no tw.
 * Checked against the kernel by TimeWaitCensusNamespaceTest.
 */
public final class Sockstat {
  private Sockstat() {}

  /** The tw figure of the TCP line, empty when absent or unparsable. */
  public static OptionalLong timeWait(String sockstat) {
    return value(sockstat, "TCP", "tw");
  }

  /**
   * One figure of one protocol's line: {@code value(sockstat, "TCP", "inuse")}, or of
   * /proc/net/sockstat6 {@code value(sockstat6, "TCP6", "inuse")}; empty when absent or unparsable.
   */
  public static OptionalLong value(String sockstat, String protocol, String key) {
    String prefix = protocol + ":";
    for (String line : sockstat.split("\n")) {
      if (!line.startsWith(prefix)) {
        continue;
      }
      String[] t = line.substring(prefix.length()).trim().split("\\s+");
      for (int i = 0; i + 1 < t.length; i += 2) {
        if (t[i].equals(key)) {
          try {
            return OptionalLong.of(Long.parseLong(t[i + 1]));
          } catch (NumberFormatException e) {
            return OptionalLong.empty();
          }
        }
      }
    }
    return OptionalLong.empty();
  }
}
