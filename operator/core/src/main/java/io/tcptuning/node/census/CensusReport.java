package io.tcptuning.node.census;

import io.tcptuning.domain.PortRange;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One TIME_WAIT census of a network namespace.
 *
 * @param source "netlink" (SOCK_DIAG, as ss does) or "proc" (/proc/net/tcp{,6})
 * @param timeWaitTotal TIME_WAIT sockets, IPv4 and IPv6
 * @param portRange net.ipv4.ip_local_port_range
 * @param pressure timeWaitTotal / portRange.size(): an upper bound, exhaustion is per destination
 * @param topDestinations the busiest destinations by sockets, descending
 * @param destinationCount how many distinct destinations hold ephemeral ports
 * @param maxTwBuckets net.ipv4.tcp_max_tw_buckets, null if unreadable
 * @param tcpExt TCPTimeWaitOverflow, TWRecycled, ListenOverflows, ListenDrops (those present);
 *     empty when the census skips them ({@link TimeWaitCensus#withoutTcpExt()})
 * @param listeningPorts local ports with a listening socket (either family)
 */
public record CensusReport(
    String source,
    long timeWaitTotal,
    PortRange portRange,
    double pressure,
    List<Destination> topDestinations,
    long destinationCount,
    Long maxTwBuckets,
    Map<String, Long> tcpExt,
    Set<Integer> listeningPorts) {

  public CensusReport {
    topDestinations = List.copyOf(topDestinations);
    tcpExt = Map.copyOf(tcpExt);
    listeningPorts = Set.copyOf(listeningPorts);
  }

  /** The pressure of the busiest destination, 0 when no socket holds an ephemeral port. */
  public double maxDestinationPressure() {
    return topDestinations.isEmpty() ? 0.0 : topDestinations.getFirst().pressure();
  }

  /** How many more TIME_WAIT sockets fit before the kernel destroys them early; null if unknown. */
  public Long maxTwBucketsHeadroom() {
    return maxTwBuckets == null ? null : maxTwBuckets - timeWaitTotal;
  }
}
