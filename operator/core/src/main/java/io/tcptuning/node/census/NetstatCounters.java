package io.tcptuning.node.census;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * {@code /proc/net/netstat}: pairs of lines per group, names then values
 * ({@code "TcpExt: SyncookiesSent ..."} / {@code "TcpExt: 0 ..."}). Counters a kernel does not
 * have are simply absent from the result.
 */
final class NetstatCounters {
  /** The TcpExt counters a census reports. */
  static final Set<String> CENSUS_TCP_EXT = Set.of("TCPTimeWaitOverflow", "TWRecycled", "ListenOverflows", "ListenDrops");

  private NetstatCounters() {}

  /** The {@code wanted} counters of {@code group} (e.g. "TcpExt"), in file order. */
  static Map<String, Long> read(String netstat, String group, Set<String> wanted) {
    var out = new LinkedHashMap<String, Long>();
    String prefix = group + ":";
    String[] lines = netstat.split("\n");
    for (int i = 0; i + 1 < lines.length; i++) {
      if (!lines[i].startsWith(prefix) || !lines[i + 1].startsWith(prefix)) {
        continue;
      }
      String[] names = lines[i].substring(prefix.length()).trim().split("\\s+");
      String[] values = lines[i + 1].substring(prefix.length()).trim().split("\\s+");
      for (int k = 0; k < Math.min(names.length, values.length); k++) {
        if (wanted.contains(names[k])) {
          try {
            out.put(names[k], Long.parseLong(values[k]));
          } catch (NumberFormatException e) {
            // A malformed value is left out rather than reported as 0.
          }
        }
      }
      i++;
    }
    return out;
  }
}
