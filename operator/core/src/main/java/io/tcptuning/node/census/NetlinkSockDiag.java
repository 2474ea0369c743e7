package io.tcptuning.node.census;

import io.tcptuning.node.Libc;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.io.IOException;
import java.lang.foreign.Arena;
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
  private static final int AF_NETLINK = 16;
  private static final int SOCK_RAW = 3;
  private static final int SOCK_CLOEXEC = 0x80000;
  private static final int NETLINK_SOCK_DIAG = 4;
  private static final int IPPROTO_TCP = 6;
  private static final int SOL_SOCKET = 1;
  private static final int SO_RCVTIMEO = 20;

  private static final short NLMSG_ERROR = 2;
  private static final short NLMSG_DONE = 3;
  private static final short NLMSG_OVERRUN = 4;
  private static final short SOCK_DIAG_BY_FAMILY = 20;
  /** The original inet_diag request (struct inet_diag_req): the kernel dumps both families in one walk. */
  private static final short TCPDIAG_GETSOCK = 18;
  private static final short NLM_F_REQUEST = 0x1;
  private static final short NLM_F_DUMP = 0x300;

  private static final int NLMSG_HDRLEN = 16;
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

  /** Big enough for the largest skb a netlink dump hands out (32 KiB), with room to spare. */
  private static final int RECV_BUFFER = 128 * 1024;
  private static final long RECV_TIMEOUT_SECONDS = 10;

  private static final ValueLayout.OfShort BE_SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
  private static final ValueLayout.OfInt BE_INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
  private static final ValueLayout.OfLong BE_LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);

  private final Arena arena = Arena.ofConfined();
  private final MemorySegment capture = arena.allocate(Libc.CAPTURE_LAYOUT);
  private final MemorySegment request = arena.allocate(NLMSG_HDRLEN + Math.max(INET_DIAG_REQ_V2_LEN, INET_DIAG_REQ_LEN), 8);
  private final MemorySegment kernel = arena.allocate(12, 4);
  private final MemorySegment buffer = arena.allocate(RECV_BUFFER, 8);
  private final int fd;
  private int sequence;

  private NetlinkSockDiag(int fd) {
    this.fd = fd;
  }

  /** Opens a sock_diag socket in the calling thread's network namespace. */
  static NetlinkSockDiag open() throws IOException {
    try (Arena setup = Arena.ofConfined()) {
      MemorySegment capture = setup.allocate(Libc.CAPTURE_LAYOUT);
      int fd = (int) Libc.SOCKET.invokeExact(capture, AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
      if (fd < 0) {
        throw new IOException("socket(AF_NETLINK, NETLINK_SOCK_DIAG) failed, errno " + Libc.errno(capture));
      }
      var diag = new NetlinkSockDiag(fd);
      try {
        diag.configure();
      } catch (IOException | RuntimeException e) {
        diag.close();
        throw e;
      }
      return diag;
    } catch (IOException | RuntimeException | Error e) {
      throw e;
    } catch (Throwable t) {
      throw new IOException("netlink socket setup failed", t);
    }
  }

  private void configure() throws IOException {
    try {
      // sockaddr_nl {nl_family, nl_pad, nl_pid = 0 (kernel assigns), nl_groups = 0}: used to
      // bind and as the destination (the kernel is pid 0).
      kernel.fill((byte) 0);
      kernel.set(JAVA_SHORT, 0, (short) AF_NETLINK);
      if ((int) Libc.BIND.invokeExact(capture, fd, kernel, (int) kernel.byteSize()) != 0) {
        throw new IOException("bind(netlink) failed, errno " + Libc.errno(capture));
      }
      // A receive timeout so a misbehaving kernel cannot hang the agent's census loop.
      MemorySegment timeval = arena.allocate(16, 8);
      timeval.set(JAVA_LONG, 0, RECV_TIMEOUT_SECONDS);
      timeval.set(JAVA_LONG, 8, 0L);
      if ((int) Libc.SETSOCKOPT.invokeExact(capture, fd, SOL_SOCKET, SO_RCVTIMEO, timeval, 16) != 0) {
        throw new IOException("setsockopt(SO_RCVTIMEO) failed, errno " + Libc.errno(capture));
      }
    } catch (IOException | RuntimeException | Error e) {
      throw e;
    } catch (Throwable t) {
      throw new IOException("netlink socket setup failed", t);
    }
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
      int seq = ++sequence;
      sendCompat(ALL_STATES, seq);
      try {
        receiveDump(seq, tally);
        return;
      } catch (RequestRefusedException e) {
        // Refused before a single reply: nothing was counted.
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
    int seq = ++sequence;
    send(family, states, seq);
    receiveDump(seq, tally);
  }

  /** The kernel refused a request outright (an NLMSG_ERROR with a non-zero errno). */
  static final class RequestRefusedException extends IOException {
    RequestRefusedException(String message) {
      super(message);
    }
  }

  private void receiveDump(int seq, SocketTally tally) throws IOException {
    while (true) {
      long n = receive();
      int off = 0;
      while (off + NLMSG_HDRLEN <= n) {
        int len = buffer.get(JAVA_INT, off);
        short type = buffer.get(JAVA_SHORT, off + 4);
        int msgSeq = buffer.get(JAVA_INT, off + 8);
        if (len < NLMSG_HDRLEN || off + len > n) {
          throw new IOException("malformed netlink message (length " + len + " at " + off + " of " + n + ")");
        }
        if (msgSeq == seq) {
          switch (type) {
            case SOCK_DIAG_BY_FAMILY, TCPDIAG_GETSOCK -> {
              if (len >= NLMSG_HDRLEN + INET_DIAG_MSG_LEN) {
                parse(off + NLMSG_HDRLEN, tally);
              }
            }
            case NLMSG_DONE -> {
              // The payload of DONE is an int: a negative errno when the dump itself failed.
              int status = len >= NLMSG_HDRLEN + 4 ? buffer.get(JAVA_INT, off + NLMSG_HDRLEN) : 0;
              if (status < 0) {
                throw new IOException("sock_diag dump failed, errno " + -status);
              }
              return;
            }
            case NLMSG_ERROR -> {
              int error = len >= NLMSG_HDRLEN + 4 ? buffer.get(JAVA_INT, off + NLMSG_HDRLEN) : 0;
              if (error != 0) {
                throw new RequestRefusedException("sock_diag request refused, errno " + -error);
              }
            }
            case NLMSG_OVERRUN -> throw new IOException("netlink overrun: the dump lost data");
            default -> {
              // NLMSG_NOOP and anything newer: skip.
            }
          }
        }
        off += (len + 3) & ~3;
      }
    }
  }

  private void parse(long msg, SocketTally tally) {
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

  private void sendCompat(int states, int seq) throws IOException {
    request.fill((byte) 0);
    request.set(JAVA_INT, 0, NLMSG_HDRLEN + INET_DIAG_REQ_LEN);
    request.set(JAVA_SHORT, 4, TCPDIAG_GETSOCK);
    request.set(JAVA_SHORT, 6, (short) (NLM_F_REQUEST | NLM_F_DUMP));
    request.set(JAVA_INT, 8, seq);
    request.set(JAVA_INT, 12, 0);
    // struct inet_diag_req: the family is ignored by a dump (the kernel asks for AF_UNSPEC), the
    // sockid is zero (any), states at offset 52.
    request.set(JAVA_BYTE, NLMSG_HDRLEN, (byte) AF_INET);
    request.set(JAVA_INT, NLMSG_HDRLEN + 52, states);
    transmit(NLMSG_HDRLEN + INET_DIAG_REQ_LEN);
  }

  private void send(int family, int states, int seq) throws IOException {
    request.fill((byte) 0);
    request.set(JAVA_INT, 0, NLMSG_HDRLEN + INET_DIAG_REQ_V2_LEN);
    request.set(JAVA_SHORT, 4, SOCK_DIAG_BY_FAMILY);
    request.set(JAVA_SHORT, 6, (short) (NLM_F_REQUEST | NLM_F_DUMP));
    request.set(JAVA_INT, 8, seq);
    request.set(JAVA_INT, 12, 0);
    // struct inet_diag_req_v2: family, protocol, ext (none), pad, states, sockid (zero: any).
    request.set(JAVA_BYTE, NLMSG_HDRLEN, (byte) family);
    request.set(JAVA_BYTE, NLMSG_HDRLEN + 1, (byte) IPPROTO_TCP);
    request.set(JAVA_INT, NLMSG_HDRLEN + 4, states);
    transmit(NLMSG_HDRLEN + INET_DIAG_REQ_V2_LEN);
  }

  private void transmit(long length) throws IOException {
    try {
      while (true) {
        long sent = (long) Libc.SENDTO.invokeExact(capture, fd, request, length, 0, kernel, (int) kernel.byteSize());
        if (sent == length) {
          return;
        }
        int errno = Libc.errno(capture);
        if (sent < 0 && errno == Libc.EINTR) {
          continue;
        }
        throw new IOException("sendto(netlink) failed: " + sent + ", errno " + errno);
      }
    } catch (IOException | RuntimeException | Error e) {
      throw e;
    } catch (Throwable t) {
      throw new IOException("sendto(netlink) failed", t);
    }
  }

  private long receive() throws IOException {
    try {
      while (true) {
        long n = (long) Libc.RECV.invokeExact(capture, fd, buffer, buffer.byteSize(), 0);
        if (n > 0) {
          return n;
        }
        int errno = Libc.errno(capture);
        if (n < 0 && errno == Libc.EINTR) {
          continue;
        }
        if (n < 0 && errno == Libc.EAGAIN) {
          throw new IOException("no netlink reply within " + RECV_TIMEOUT_SECONDS + "s");
        }
        throw new IOException(n == 0 ? "netlink socket closed mid-dump" : "recv(netlink) failed, errno " + errno);
      }
    } catch (IOException | RuntimeException | Error e) {
      throw e;
    } catch (Throwable t) {
      throw new IOException("recv(netlink) failed", t);
    }
  }

  @Override
  public void close() {
    try {
      int ignored = (int) Libc.CLOSE.invokeExact(capture, fd);
    } catch (Throwable t) {
      // Nothing sensible to do about a failed close of a netlink socket.
    } finally {
      arena.close();
    }
  }
}
