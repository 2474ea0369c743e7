package io.tcptuning.node.census;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import io.tcptuning.node.NetlinkException;
import io.tcptuning.node.NetlinkSocket;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Enumerates TCP sockets of the calling thread's network namespace over NETLINK_SOCK_DIAG
 * ({@code SOCK_DIAG_BY_FAMILY} with {@code inet_diag_req_v2}), the interface ss uses. The
 * kernel filters by state; replies are parsed in place in the receive buffer and fed to a
 * {@link SocketTally}, so no object is created per socket.
 *
 * <p>Listeners are dumped first (both families), then every other state, so the tally knows the
 * listening ports before it sees the connections on them.
 */
final class NetlinkSockDiag implements AutoCloseable {
  private static final int AF_INET = 2;
  private static final int AF_INET6 = 10;
  private static final int IPPROTO_TCP = 6;

  private static final short SOCK_DIAG_BY_FAMILY = 20;
  /** The original inet_diag request (struct inet_diag_req): the kernel dumps both families in one walk. */
  private static final short TCPDIAG_GETSOCK = 18;

  private static final int INET_DIAG_REQ_V2_LEN = 56;
  /** struct inet_diag_req: family, src_len, dst_len, ext, sockid (48 bytes), states, dbs. */
  private static final int INET_DIAG_REQ_LEN = 60;
  /** struct inet_diag_msg: family, state, timer, retrans, sockid (48 bytes), 5 x u32. */
  private static final int INET_DIAG_MSG_LEN = 72;
  private static final int OFF_FAMILY = 0;
  private static final int OFF_STATE = 1;
  private static final int OFF_SPORT = 4;
  private static final int OFF_DPORT = 6;
  private static final int OFF_DST = 24;

  /** TCP states 1 (ESTABLISHED) to 12 (NEW_SYN_RECV) as a kernel bitmask (bit n = state n). */
  static final int ALL_STATES = 0x1FFE;
  static final int LISTEN_ONLY = 1 << SocketTally.TCP_LISTEN;
  static final int TIME_WAIT_ONLY = 1 << SocketTally.TCP_TIME_WAIT;

  private static final ValueLayout.OfShort BE_SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
  private static final ValueLayout.OfInt BE_INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
  private static final ValueLayout.OfLong BE_LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);

  private final NetlinkSocket socket;

  private NetlinkSockDiag(NetlinkSocket socket) {
    this.socket = socket;
  }

  /** Opens a sock_diag socket in the calling thread's network namespace, with memory of its own. */
  static NetlinkSockDiag open() throws IOException {
    return new NetlinkSockDiag(NetlinkSocket.open(NetlinkSocket.NETLINK_SOCK_DIAG, "sock_diag"));
  }

  /** Opens a sock_diag socket in the calling thread's network namespace, working in {@code memory}. */
  static NetlinkSockDiag open(NetlinkSocket.Memory memory) throws IOException {
    return new NetlinkSockDiag(NetlinkSocket.open(NetlinkSocket.NETLINK_SOCK_DIAG, "sock_diag", memory));
  }

  /**
   * Every TCP socket of the namespace, listeners first. One TCPDIAG_GETSOCK dump does it in a
   * single walk of the kernel's socket hash tables for both families (the kernel walks all its
   * listeners before any other socket). Those tables are shared by every network namespace unless
   * tcp_child_ehash_entries says otherwise, so each walk visits every bucket and every socket of
   * the machine, whichever namespace asks: a walk per family, as ss and SOCK_DIAG_BY_FAMILY do,
   * costs twice as much, which matters when a pass measures a hundred namespaces. A kernel
   * without the old request type gets the four SOCK_DIAG_BY_FAMILY dumps instead.
   */
  void collect(SocketTally tally) throws IOException {
    if (!compatRefused) {
      // struct inet_diag_req: the family is ignored by a dump (the kernel asks for AF_UNSPEC), the
      // sockid is zero (any), states at offset 52.
      MemorySegment compatRequest = socket.payload(INET_DIAG_REQ_LEN);
      compatRequest.set(JAVA_BYTE, 0, (byte) AF_INET);
      compatRequest.set(JAVA_INT, 52, ALL_STATES);
      boolean[] counted = {false};
      try {
        socket.dump(TCPDIAG_GETSOCK, compatRequest, (type, buffer, msg, length) -> {
          if (type == TCPDIAG_GETSOCK && length >= INET_DIAG_MSG_LEN) {
            counted[0] = true;
            parse(buffer, msg, tally);
          }
        });
        return;
      } catch (NetlinkException e) {
        if (counted[0]) {
          throw e;
        }
        // Refused before a single reply: nothing was counted; ask per family from now on.
        compatRefused = true;
      }
    }
    collectByFamily(tally);
  }

  /** Kernels seen refusing TCPDIAG_GETSOCK: ask per family from then on. */
  private static volatile boolean compatRefused;

  /** Listeners first, then every other state, IPv4 and IPv6: four SOCK_DIAG_BY_FAMILY dumps. */
  void collectByFamily(SocketTally tally) throws IOException {
    dump(AF_INET, LISTEN_ONLY, tally);
    dump(AF_INET6, LISTEN_ONLY, tally);
    dump(AF_INET, ALL_STATES & ~LISTEN_ONLY, tally);
    dump(AF_INET6, ALL_STATES & ~LISTEN_ONLY, tally);
  }

  /** One dump request for {@code family} and the kernel-side {@code states} bitmask. */
  void dump(int family, int states, SocketTally tally) throws IOException {
    // struct inet_diag_req_v2: family, protocol, ext (none), pad, states, sockid (zero: any).
    MemorySegment request = socket.payload(INET_DIAG_REQ_V2_LEN);
    request.set(JAVA_BYTE, 0, (byte) family);
    request.set(JAVA_BYTE, 1, (byte) IPPROTO_TCP);
    request.set(JAVA_INT, 4, states);
    socket.dump(SOCK_DIAG_BY_FAMILY, request, (type, buffer, msg, length) -> {
      if (type == SOCK_DIAG_BY_FAMILY && length >= INET_DIAG_MSG_LEN) {
        parse(buffer, msg, tally);
      }
    });
  }

  private static void parse(MemorySegment buffer, long msg, SocketTally tally) {
    int family = buffer.get(JAVA_BYTE, msg + OFF_FAMILY) & 0xff;
    int state = buffer.get(JAVA_BYTE, msg + OFF_STATE) & 0xff;
    int localPort = buffer.get(BE_SHORT, msg + OFF_SPORT) & 0xffff;
    int dstPort = buffer.get(BE_SHORT, msg + OFF_DPORT) & 0xffff;
    if (family == AF_INET) {
      long dst = buffer.get(BE_INT, msg + OFF_DST) & 0xffffffffL;
      tally.socket(DestinationTable.INET, state, 0, dst, dstPort, localPort);
    } else if (family == AF_INET6) {
      long hi = buffer.get(BE_LONG, msg + OFF_DST);
      long lo = buffer.get(BE_LONG, msg + OFF_DST + 8);
      tally.socket(DestinationTable.INET6, state, hi, lo, dstPort, localPort);
    }
  }

  @Override
  public void close() {
    socket.close();
  }
}
