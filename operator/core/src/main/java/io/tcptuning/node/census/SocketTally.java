package io.tcptuning.node.census;

import io.tcptuning.domain.PortRange;
import java.util.BitSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * What a census counts while sockets stream past, whichever source produces them: TIME_WAIT
 * sockets, listening ports, and per destination the sockets holding an ephemeral local port.
 *
 * <p>A socket holds an ephemeral port when its local port is inside ip_local_port_range and is
 * not a listening port: accepted connections (and server-side TIME_WAIT) sit on the listener's
 * port and cost no ephemeral port, even when a wide range covers that port. Listeners must
 * therefore be reported before the connections on their port (both sources guarantee that).
 */
final class SocketTally {
  static final int TCP_TIME_WAIT = 6;
  static final int TCP_LISTEN = 10;

  private final PortRange range;
  private final BitSet listening = new BitSet(65536);
  private final DestinationTable destinations = new DestinationTable();
  private long timeWait;
  private long sockets;

  SocketTally(PortRange range) {
    this.range = range;
  }

  /**
   * One socket. IPv6 addresses arrive as two big-endian halves, IPv4 in the low 32 bits of
   * {@code dstLo}; an IPv4-mapped IPv6 destination is folded into IPv4 (same port space).
   */
  void socket(int family, int state, long dstHi, long dstLo, int dstPort, int localPort) {
    sockets++;
    if (state == TCP_LISTEN) {
      listening.set(localPort);
      return;
    }
    if (state == TCP_TIME_WAIT) {
      timeWait++;
    }
    if (!range.contains(localPort) || listening.get(localPort)) {
      return;
    }
    if (family == DestinationTable.INET6 && dstHi == 0 && (dstLo >>> 32) == 0xffffL) {
      destinations.add(DestinationTable.INET, 0, dstLo & 0xffffffffL, dstPort);
    } else {
      destinations.add(family, dstHi, dstLo, dstPort);
    }
  }

  long timeWait() {
    return timeWait;
  }

  /** Every socket seen, listeners included. */
  long sockets() {
    return sockets;
  }

  PortRange range() {
    return range;
  }

  DestinationTable destinations() {
    return destinations;
  }

  Set<Integer> listeningPorts() {
    var ports = new TreeSet<Integer>();
    listening.stream().forEach(ports::add);
    return ports;
  }

  List<Destination> top(int n) {
    return destinations.top(n, range.size());
  }
}
