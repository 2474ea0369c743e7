package io.tcptuning.node;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A netlink socket of the calling thread's network namespace (a socket belongs to the namespace
 * of the thread that creates it), for dump requests: the plumbing the sock_diag census and the
 * nftables NAT check share. One request at a time; replies land in one receive buffer and are
 * handed out in place, so a dump of 200,000 sockets creates no object per socket.
 *
 * <p>A socket works in a {@link Memory} (receive buffer, request, addresses): its own, freed
 * when it closes, or one that a caller opening sockets one after another keeps (a census pass
 * opens one in each namespace it visits, since a socket answers for the namespace it was opened
 * in, but needs its 128 KiB of buffers only once).
 *
 * <p>Malformed replies (a length that is too short or runs past the datagram) end the dump with
 * an {@link IOException}; the walk always advances, and a kernel that never says DONE hits the
 * receive timeout, so no reply can make a caller loop.
 */
public final class NetlinkSocket implements AutoCloseable {
  public static final int NETLINK_SOCK_DIAG = 4;
  public static final int NETLINK_NETFILTER = 12;

  /** struct nlmsghdr: u32 length, u16 type, u16 flags, u32 sequence, u32 port id. */
  public static final int HEADER_LENGTH = 16;

  static final short NLMSG_ERROR = 2;
  static final short NLMSG_DONE = 3;
  static final short NLMSG_OVERRUN = 4;
  /** Types below this are netlink's own control messages. */
  private static final int NLMSG_MIN_TYPE = 0x10;
  private static final short NLM_F_REQUEST = 0x1;
  private static final short NLM_F_DUMP = 0x300;
  /** Set on a dump's messages when the data changed while it was being dumped. */
  static final short NLM_F_DUMP_INTR = 0x10;

  private static final int AF_NETLINK = 16;
  private static final int SOCK_RAW = 3;
  private static final int SOCK_CLOEXEC = 0x80000;
  private static final int SOL_SOCKET = 1;
  private static final int SO_RCVTIMEO = 20;

  /** Big enough for the largest skb a netlink dump hands out (32 KiB), with room to spare. */
  private static final int RECV_BUFFER = 128 * 1024;
  private static final int MAX_REQUEST = 256;
  private static final long RECV_TIMEOUT_SECONDS = 10;

  /** One reply message of a dump: its type and where its payload is in {@code buffer}. */
  @FunctionalInterface
  public interface Handler {
    void message(short type, MemorySegment buffer, long payloadOffset, int payloadLength) throws IOException;
  }

  /**
   * The native memory a socket works in. {@link #reusable()} makes one for sockets opened one
   * after the other, on any thread: a second socket cannot use it while the first is open, and
   * the garbage collector frees it once nothing refers to it (so no socket can outlive it).
   */
  public static final class Memory {
    private final Arena arena;
    private final boolean ownedBySocket;
    private final AtomicBoolean inUse = new AtomicBoolean();
    final MemorySegment capture;
    final MemorySegment request;
    final MemorySegment payload;
    final MemorySegment kernel;
    final MemorySegment timeval;
    final MemorySegment buffer;

    private Memory(Arena arena, boolean ownedBySocket) {
      this.arena = arena;
      this.ownedBySocket = ownedBySocket;
      this.capture = arena.allocate(Libc.CAPTURE_LAYOUT);
      this.request = arena.allocate(MAX_REQUEST, 8);
      this.payload = arena.allocate(MAX_REQUEST, 8);
      this.kernel = arena.allocate(12, 4);
      this.timeval = arena.allocate(16, 8);
      this.buffer = arena.allocate(RECV_BUFFER, 8);
    }

    /** Memory for sockets opened one after the other (one at a time), freed by the garbage collector. */
    public static Memory reusable() {
      return new Memory(Arena.ofAuto(), false);
    }

    /** True while a socket is open on it. */
    public boolean inUse() {
      return inUse.get();
    }

    private void claim(String name) {
      if (!inUse.compareAndSet(false, true)) {
        throw new IllegalStateException("netlink memory is in use by another open socket; " + name + " needs its own");
      }
    }

    private void release() {
      inUse.set(false);
      if (ownedBySocket) {
        arena.close();
      }
    }
  }

  private final Memory memory;
  private final MemorySegment capture;
  private final MemorySegment request;
  private final MemorySegment kernel;
  private final MemorySegment buffer;
  private final int fd;
  private final String name;
  private int sequence;
  private boolean closed;

  private NetlinkSocket(int fd, String name, Memory memory) {
    this.fd = fd;
    this.name = name;
    this.memory = memory;
    this.capture = memory.capture;
    this.request = memory.request;
    this.kernel = memory.kernel;
    this.buffer = memory.buffer;
  }

  /**
   * Opens a socket of netlink {@code protocol} in the calling thread's network namespace, with
   * memory of its own; {@code name} ("sock_diag", "nf_tables") is what error messages call it.
   *
   * @throws NetlinkException when the kernel refuses the socket (errno says why)
   */
  public static NetlinkSocket open(int protocol, String name) throws IOException {
    return open(protocol, name, new Memory(Arena.ofConfined(), true));
  }

  /**
   * Opens a socket as {@link #open(int, String)} does, working in {@code memory} until it is
   * closed.
   *
   * @throws IllegalStateException another socket is open on {@code memory}
   */
  public static NetlinkSocket open(int protocol, String name, Memory memory) throws IOException {
    memory.claim(name);
    int fd;
    int errno = 0;
    try {
      fd = (int) Libc.SOCKET.invokeExact(memory.capture, AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, protocol);
      if (fd < 0) {
        errno = Libc.errno(memory.capture);
      }
    } catch (Throwable t) {
      memory.release();
      if (t instanceof RuntimeException e) {
        throw e;
      }
      if (t instanceof Error e) {
        throw e;
      }
      throw new IOException(name + " netlink socket setup failed", t);
    }
    if (fd < 0) {
      memory.release();
      throw new NetlinkException("socket(AF_NETLINK, " + name + ") failed", errno);
    }
    // From here on the socket's close() releases the memory.
    var socket = new NetlinkSocket(fd, name, memory);
    try {
      socket.configure();
    } catch (IOException | RuntimeException | Error e) {
      socket.close();
      throw e;
    }
    return socket;
  }

  /**
   * A zeroed scratch area of {@code size} bytes for a request's payload, in this socket's memory:
   * fill it and pass it to {@link #dump}.
   */
  public MemorySegment payload(long size) {
    return memory.payload.asSlice(0, size).fill((byte) 0);
  }

  private void configure() throws IOException {
    try {
      // sockaddr_nl {nl_family, nl_pad, nl_pid = 0 (kernel assigns), nl_groups = 0}: used to
      // bind and as the destination (the kernel is pid 0).
      kernel.fill((byte) 0);
      kernel.set(JAVA_SHORT, 0, (short) AF_NETLINK);
      if ((int) Libc.BIND.invokeExact(capture, fd, kernel, (int) kernel.byteSize()) != 0) {
        throw new NetlinkException("bind(" + name + " netlink) failed", Libc.errno(capture));
      }
      // A receive timeout so a misbehaving kernel cannot hang the agent's loops.
      MemorySegment timeval = memory.timeval;
      timeval.set(JAVA_LONG, 0, RECV_TIMEOUT_SECONDS);
      timeval.set(JAVA_LONG, 8, 0L);
      if ((int) Libc.SETSOCKOPT.invokeExact(capture, fd, SOL_SOCKET, SO_RCVTIMEO, timeval, 16) != 0) {
        throw new NetlinkException("setsockopt(SO_RCVTIMEO) failed", Libc.errno(capture));
      }
    } catch (IOException | RuntimeException | Error e) {
      throw e;
    } catch (Throwable t) {
      throw new IOException(name + " netlink socket setup failed", t);
    }
  }

  /**
   * Sends one dump request ({@code type}, {@code NLM_F_REQUEST | NLM_F_DUMP}, {@code payload}
   * after the header) and hands every reply message of it to {@code handler} until the kernel
   * says DONE.
   *
   * @return false when the kernel flagged the dump as interrupted (the data changed meanwhile:
   *     the caller may ask again for a consistent view)
   * @throws NetlinkException when the kernel refuses the request or the dump fails
   */
  public boolean dump(short type, MemorySegment payload, Handler handler) throws IOException {
    int seq = ++sequence;
    send(type, payload, seq);
    Walk walk = new Walk(seq, name);
    while (true) {
      long n = receive();
      if (walk.datagram(buffer, n, handler)) {
        return !walk.interrupted;
      }
    }
  }

  /**
   * The reply messages of one dump, datagram by datagram: pure, so that captured datagrams can be
   * fed to it without a socket. Messages of other sequence numbers are skipped.
   */
  public static final class Walk {
    private final int seq;
    private final String name;
    private boolean interrupted;

    public Walk(int seq, String name) {
      this.seq = seq;
      this.name = name;
    }

    /** True when the dump interrupted flag was seen on any message so far. */
    public boolean interrupted() {
      return interrupted;
    }

    /**
     * Walks the messages of one datagram of {@code n} bytes at the start of {@code datagram}.
     *
     * @return true when this datagram ended the dump (DONE)
     * @throws IOException on a malformed message, an error reply or an overrun
     */
    public boolean datagram(MemorySegment datagram, long n, Handler handler) throws IOException {
      if (n < 0 || n > datagram.byteSize()) {
        throw new IOException("malformed " + name + " netlink reply (" + n + " bytes in a buffer of " + datagram.byteSize() + ")");
      }
      long off = 0;
      while (off + HEADER_LENGTH <= n) {
        int len = datagram.get(JAVA_INT_UNALIGNED, off);
        short type = datagram.get(JAVA_SHORT_UNALIGNED, off + 4);
        short flags = datagram.get(JAVA_SHORT_UNALIGNED, off + 6);
        int msgSeq = datagram.get(JAVA_INT_UNALIGNED, off + 8);
        if (len < HEADER_LENGTH || len > n - off) {
          throw new IOException("malformed " + name + " netlink message (length " + Integer.toUnsignedString(len) + " at " + off + " of " + n + ")");
        }
        if (msgSeq == seq) {
          if ((flags & NLM_F_DUMP_INTR) != 0) {
            interrupted = true;
          }
          int payload = len - HEADER_LENGTH;
          switch (type) {
            case NLMSG_DONE -> {
              // The payload of DONE is an int: a negative errno when the dump itself failed.
              int status = payload >= 4 ? datagram.get(JAVA_INT_UNALIGNED, off + HEADER_LENGTH) : 0;
              if (status < 0) {
                throw new NetlinkException(name + " dump failed", -status);
              }
              return true;
            }
            case NLMSG_ERROR -> {
              // struct nlmsgerr: int error (0 = an acknowledgement), then the request's header.
              int error = payload >= 4 ? datagram.get(JAVA_INT_UNALIGNED, off + HEADER_LENGTH) : 0;
              if (error != 0) {
                throw new NetlinkException(name + " request refused", -error);
              }
            }
            case NLMSG_OVERRUN -> throw new IOException(name + " netlink overrun: the dump lost data");
            default -> {
              if (Short.toUnsignedInt(type) >= NLMSG_MIN_TYPE) {
                handler.message(type, datagram, off + HEADER_LENGTH, payload);
              }
              // NLMSG_NOOP and the other reserved control types: skip.
            }
          }
        }
        // The next message starts at the 4-byte aligned end of this one.
        off += (len + 3L) & ~3L;
      }
      return false;
    }
  }

  private void send(short type, MemorySegment payload, int seq) throws IOException {
    long length = HEADER_LENGTH + payload.byteSize();
    if (length > MAX_REQUEST) {
      throw new IllegalArgumentException("netlink request of " + length + " bytes exceeds " + MAX_REQUEST);
    }
    request.fill((byte) 0);
    request.set(JAVA_INT, 0, (int) length);
    request.set(JAVA_SHORT, 4, type);
    request.set(JAVA_SHORT, 6, (short) (NLM_F_REQUEST | NLM_F_DUMP));
    request.set(JAVA_INT, 8, seq);
    request.set(JAVA_INT, 12, 0);
    MemorySegment.copy(payload, 0, request, HEADER_LENGTH, payload.byteSize());
    MemorySegment message = request.asSlice(0, length);
    try {
      while (true) {
        long sent = (long) Libc.SENDTO.invokeExact(capture, fd, message, length, 0, kernel, (int) kernel.byteSize());
        if (sent == length) {
          return;
        }
        int errno = Libc.errno(capture);
        if (sent < 0 && errno == Libc.EINTR) {
          continue;
        }
        if (sent < 0) {
          throw new NetlinkException("sendto(" + name + " netlink) failed", errno);
        }
        throw new IOException("sendto(" + name + " netlink) sent " + sent + " of " + length + " bytes");
      }
    } catch (IOException | RuntimeException | Error e) {
      throw e;
    } catch (Throwable t) {
      throw new IOException("sendto(" + name + " netlink) failed", t);
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
          throw new IOException("no " + name + " netlink reply within " + RECV_TIMEOUT_SECONDS + "s");
        }
        if (n == 0) {
          throw new IOException(name + " netlink socket closed mid-dump");
        }
        throw new NetlinkException("recv(" + name + " netlink) failed", errno);
      }
    } catch (IOException | RuntimeException | Error e) {
      throw e;
    } catch (Throwable t) {
      throw new IOException("recv(" + name + " netlink) failed", t);
    }
  }

  /** Closes the socket and hands its memory back (to the next socket, or freed when it was its own). */
  @Override
  public void close() {
    if (closed) {
      return; // a second close must not release memory that another socket may hold by now
    }
    closed = true;
    try {
      int ignored = (int) Libc.CLOSE.invokeExact(capture, fd);
    } catch (Throwable t) {
      // Nothing sensible to do about a failed close of a netlink socket.
    } finally {
      memory.release();
    }
  }
}
