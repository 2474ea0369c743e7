package io.tcptuning.node.census;

import java.util.OptionalLong;

/**
 * {@code /proc/net/sockstat}: {@code "TCP: inuse 5 orphan 0 tw 3000 alloc 7 mem 1"}. The
 * {@code tw} figure counts the namespace's TIME_WAIT sockets of both families: IPv6 TIME_WAIT
 * sockets share IPv4's death row ({@code net->ipv4.tcp_death_row}), and sockstat6 has no tw.
 * Checked against the kernel by TimeWaitCensusNamespaceTest.
 */
final class Sockstat {
  private Sockstat() {}

  /** The tw figure of the TCP line, empty when absent or unparsable. */
  static OptionalLong timeWait(String sockstat) {
    for (String line : sockstat.split("\n")) {
      if (!line.startsWith("TCP:")) {
        continue;
      }
      String[] t = line.substring(4).trim().split("\\s+");
      for (int i = 0; i + 1 < t.length; i += 2) {
        if (t[i].equals("tw")) {
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
