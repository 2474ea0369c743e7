package io.tcptuning.node;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.OptionalLong;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;

/**
 * Moves the calling thread into another network namespace with {@code setns(2)} (through the FFM
 * API). Only that thread moves: its sockets, its netlink census, its /proc/sys/net writes and
 * {@code /proc/thread-self/net} then belong to the target namespace, while the rest of the
 * process (the Kubernetes client, the HTTP server) stays where it is. The move is verified by
 * comparing namespace inodes, so a failed setns can never leave the caller tuning the wrong
 * namespace.
 *
 * <p>A namespace is entered through an open file descriptor ({@link Handle}): the inode is read
 * from the descriptor itself, which pins the namespace, so the namespace that was checked is the
 * one that is entered even if the path meanwhile names another one (PID or bind-mount reuse).
 */
public final class NetNamespace {
  private static final int CLONE_NEWNET = 0x40000000;
  private static final int O_RDONLY = 0;
  private static final int O_CLOEXEC = 0x80000;
  private static final int ENOENT = 2;
  private static final int ESRCH = 3;
  private static final int EACCES = 13;
  private static final int EPERM = 1;
  private static final int AF_UNIX = 1;
  private static final int SOCK_DGRAM = 2;
  private static final int SOCK_CLOEXEC = 0x80000;
  private static final int SOL_SOCKET = 1;
  /** asm-generic value, shared by x86_64 and aarch64; Linux 5.14+. */
  private static final int SO_NETNS_COOKIE = 71;
  private static final Path BOOT_ID = Path.of("/proc/sys/kernel/random/boot_id");

  /**
   * Who a namespace is, beyond its inode: the kernel reuses the inode number of a namespace that
   * went away for the next one made (seen on Linux 6.18 within seconds), while the cookie
   * ({@code SO_NETNS_COOKIE}) is never reused within a boot and the boot id tells boots apart.
   *
   * @param cookie 0 when the kernel has no namespace cookies (before 5.14)
   * @param bootId {@code /proc/sys/kernel/random/boot_id}, "unknown" when unreadable
   */
  public record Identity(long inode, long cookie, String bootId) {
    /** {@code net:[4026532246]}, as readlink shows a namespace. */
    public String shown() {
      return "net:[" + inode + "]";
    }
  }

  /** The inability to enter a namespace (missing, not a namespace, no permission). */
  public static final class EntryFailedException extends IOException {
    public EntryFailedException(String message) {
      super(message);
    }
  }

  private NetNamespace() {}

  /**
   * Moves the calling thread into the namespace at {@code nsPath} ({@code /run/netns/NAME} or
   * {@code /proc/PID/ns/net}) and checks that it arrived.
   */
  public static void enter(Path nsPath) throws IOException {
    try (Handle h = Handle.open(nsPath)) {
      h.enter();
    }
  }

  /** The inode of the calling thread's network namespace. */
  public static long currentInode() throws IOException {
    return linkInode(Path.of("/proc/thread-self/ns/net"));
  }

  /** Who the calling thread's network namespace is. */
  public static Identity currentIdentity() throws IOException {
    return new Identity(currentInode(), currentCookie(), bootId());
  }

  /**
   * The calling thread's namespace cookie, read from a socket it makes (sockets belong to their
   * creator's namespace); 0 when the kernel has none.
   */
  static long currentCookie() throws IOException {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment state = arena.allocate(Libc.CAPTURE_LAYOUT);
      int fd = (int) Libc.SOCKET.invokeExact(state, AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
      if (fd < 0) {
        throw new IOException("socket(AF_UNIX) for the namespace cookie: errno " + Libc.errno(state));
      }
      try {
        MemorySegment value = arena.allocate(ValueLayout.JAVA_LONG);
        MemorySegment len = arena.allocate(ValueLayout.JAVA_INT);
        len.set(ValueLayout.JAVA_INT, 0, 8);
        int rc = (int) Libc.GETSOCKOPT.invokeExact(state, fd, SOL_SOCKET, SO_NETNS_COOKIE, value, len);
        return rc == 0 ? value.get(ValueLayout.JAVA_LONG, 0) : 0L;
      } finally {
        int ignored = (int) Libc.CLOSE.invokeExact(state, fd);
      }
    } catch (IOException e) {
      throw e;
    } catch (Throwable t) {
      throw new IOException("namespace cookie: " + t.getMessage(), t);
    }
  }

  static String bootId() {
    try {
      return ProcFiles.read(BOOT_ID).strip();
    } catch (IOException e) {
      return "unknown";
    }
  }

  /**
   * Runs {@code work} on a fresh platform thread that enters the namespace at {@code nsPath}
   * through a descriptor whose inode must be the one the caller saw ({@code expectedInode}), so
   * that a namespace replaced in between is never worked on. The thread ends with the work: no
   * thread is left inside a foreign namespace, and the caller's thread never moves.
   *
   * @throws EntryFailedException when the thread cannot enter, or the path names another namespace now
   */
  public static <T> T callInside(Path nsPath, long expectedInode, Callable<T> work) throws Exception {
    var task = new FutureTask<T>(() -> {
      try (Handle h = Handle.open(nsPath)) {
        if (h.inode() != expectedInode) {
          throw new EntryFailedException(nsPath + " is net:[" + h.inode() + "] now, no longer net:[" + expectedInode + "]: the namespace was replaced");
        }
        h.enter();
      } catch (EntryFailedException e) {
        throw e;
      } catch (NoSuchFileException e) {
        throw new EntryFailedException("open " + nsPath + ": no such file");
      } catch (AccessDeniedException e) {
        throw new EntryFailedException("open " + nsPath + ": permission denied");
      } catch (IOException e) {
        throw new EntryFailedException(e.getMessage());
      }
      return work.call();
    });
    Thread t = Thread.ofPlatform().name("netns").start(task);
    try {
      return task.get();
    } catch (ExecutionException e) {
      if (e.getCause() instanceof Exception cause) {
        throw cause;
      }
      if (e.getCause() instanceof Error error) {
        throw error;
      }
      throw e;
    } finally {
      t.join();
    }
  }

  /**
   * The namespace inode a {@code /proc/PID/ns/net} (or {@code /proc/thread-self/fd/N}) link
   * names: readlink gives {@code net:[INODE]}, which is cheaper than a stat. Empty when the link
   * names something other than a network namespace.
   */
  public static OptionalLong parseLink(String target) {
    if (!target.startsWith("net:[") || !target.endsWith("]")) {
      return OptionalLong.empty();
    }
    try {
      return OptionalLong.of(Long.parseLong(target, 5, target.length() - 1, 10));
    } catch (NumberFormatException e) {
      return OptionalLong.empty();
    }
  }

  /** The inode a {@code ns/net} link names, by readlink. */
  public static long linkInode(Path link) throws IOException {
    String target = Files.readSymbolicLink(link).toString();
    return parseLink(target).orElseThrow(() -> new IOException(link + " is not a network namespace (" + target + ")"));
  }

  /** The inode of the file at {@code nsPath} after following links (as {@code stat -L -c %i}). */
  public static long inode(Path nsPath) throws IOException {
    Object ino = Files.getAttribute(nsPath, "unix:ino");
    return ((Number) ino).longValue();
  }

  /**
   * An open network namespace: a file descriptor on it and the namespace's inode, read from the
   * descriptor. Close it to release the descriptor (the namespace lives on only while something
   * else holds it).
   */
  public static final class Handle implements AutoCloseable {
    private final int fd;
    private final long inode;
    private final Path path;
    private boolean closed;

    private Handle(int fd, long inode, Path path) {
      this.fd = fd;
      this.inode = inode;
      this.path = path;
    }

    /**
     * Opens {@code nsPath} and checks that it is a network namespace.
     *
     * @throws NoSuchFileException the path does not exist (any more): the process exited or the
     *     bind mount was removed
     * @throws AccessDeniedException no permission to open it
     * @throws IOException anything else, or the path is not a network namespace
     */
    public static Handle open(Path nsPath) throws IOException {
      int fd;
      int errno;
      try (Arena arena = Arena.ofConfined()) {
        MemorySegment state = arena.allocate(Libc.CAPTURE_LAYOUT);
        fd = (int) Libc.OPEN.invokeExact(state, arena.allocateFrom(nsPath.toString()), O_RDONLY | O_CLOEXEC);
        errno = fd < 0 ? Libc.errno(state) : 0;
      } catch (Throwable t) {
        throw new IOException("open " + nsPath + " failed: " + t.getMessage(), t);
      }
      if (fd < 0) {
        switch (errno) {
          case ENOENT, ESRCH -> throw new NoSuchFileException(nsPath.toString());
          case EACCES, EPERM -> throw new AccessDeniedException(nsPath.toString());
          default -> throw new IOException("open " + nsPath + ": " + errnoText(errno));
        }
      }
      try {
        // The descriptor's own inode: the namespace this fd pins, whatever the path names now.
        return new Handle(fd, fdInode(fd, nsPath), nsPath);
      } catch (IOException | RuntimeException e) {
        closeFd(fd);
        throw e;
      }
    }

    /** Opens the calling thread's own network namespace ({@code /proc/thread-self/ns/net}). */
    public static Handle current() throws IOException {
      return open(Path.of("/proc/thread-self/ns/net"));
    }

    public long inode() {
      return inode;
    }

    public Path path() {
      return path;
    }

    /**
     * Moves the calling thread into this namespace with setns(2), then checks
     * {@code /proc/thread-self/ns/net}.
     *
     * @throws IOException setns failed (the thread did not move) or the thread is not where it
     *     was sent (then its namespace is unknown: the caller must not use it for writes)
     */
    public void enter() throws IOException {
      if (closed) {
        throw new IllegalStateException("namespace handle for " + path + " is closed");
      }
      int rc;
      int errno;
      try (Arena arena = Arena.ofConfined()) {
        MemorySegment state = arena.allocate(Libc.CAPTURE_LAYOUT);
        rc = (int) Libc.SETNS.invokeExact(state, fd, CLONE_NEWNET);
        errno = rc != 0 ? Libc.errno(state) : 0;
      } catch (Throwable t) {
        throw new IOException("setns " + path + " failed: " + t.getMessage(), t);
      }
      if (rc != 0) {
        throw new IOException("setns " + path + ": " + errnoText(errno));
      }
      long now = currentInode();
      if (now != inode) {
        throw new IOException("setns " + path + " did not take: thread is in net:[" + now + "], wanted net:[" + inode + "]");
      }
    }

    @Override
    public void close() {
      if (!closed) {
        closed = true;
        closeFd(fd);
      }
    }
  }

  /** The errnos setns(2) and open(2) give here, in words. */
  static String errnoText(int errno) {
    return switch (errno) {
      case EPERM -> "operation not permitted (needs CAP_SYS_ADMIN: root)";
      case EACCES -> "permission denied";
      case ENOENT -> "no such file";
      case EINVAL -> "not a network namespace";
      case ENOMEM -> "out of memory";
      default -> "errno " + errno;
    };
  }

  private static final int EINVAL = 22;
  private static final int ENOMEM = 12;
  private static final int AT_EMPTY_PATH = 0x1000;
  private static final int STATX_INO = 0x100;
  private static final int STATX_SIZE = 256;
  private static final long STX_INO = 32;
  private static final long STX_DEV_MAJOR = 136;
  private static final long STX_DEV_MINOR = 140;

  /**
   * The inode of the namespace an open descriptor refers to, checked to be on nsfs (the
   * filesystem of every namespace; a path that is a plain file, such as a name left behind by an
   * unmounted bind mount, is not). setns(2) checks that it is a network namespace. readlink of
   * /proc/self/fd/N would not do: for a bind mount it gives the mount's path, not {@code net:[N]}.
   */
  private static long fdInode(int fd, Path nsPath) throws IOException {
    if (Libc.STATX == null) {
      // A libc without statx: readlink works for /proc/PID/ns/net, not for bind mounts.
      String target = Files.readSymbolicLink(Path.of("/proc/self/fd/" + fd)).toString();
      return parseLink(target).orElseThrow(() -> new IOException(nsPath + " is not a network namespace"));
    }
    long[] self = statx(-100, "/proc/self/ns/net", 0);
    long[] it = statx(fd, "", AT_EMPTY_PATH);
    if (it[1] != self[1] || it[2] != self[2]) {
      throw new IOException(nsPath + " is not a network namespace");
    }
    return it[0];
  }

  /** statx: {inode, device major, device minor}; dirfd -100 is AT_FDCWD. */
  private static long[] statx(int dirfd, String path, int flags) throws IOException {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment state = arena.allocate(Libc.CAPTURE_LAYOUT);
      MemorySegment buf = arena.allocate(STATX_SIZE, 8);
      int rc = (int) Libc.STATX.invokeExact(state, dirfd, arena.allocateFrom(path), flags, STATX_INO, buf);
      if (rc != 0) {
        throw new IOException("statx " + (path.isEmpty() ? "fd " + dirfd : path) + ": errno " + Libc.errno(state));
      }
      return new long[] {
        buf.get(ValueLayout.JAVA_LONG, STX_INO),
        Integer.toUnsignedLong(buf.get(ValueLayout.JAVA_INT, STX_DEV_MAJOR)),
        Integer.toUnsignedLong(buf.get(ValueLayout.JAVA_INT, STX_DEV_MINOR))
      };
    } catch (IOException e) {
      throw e;
    } catch (Throwable t) {
      throw new IOException("statx failed: " + t.getMessage(), t);
    }
  }

  private static void closeFd(int fd) {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment state = arena.allocate(Libc.CAPTURE_LAYOUT);
      int ignored = (int) Libc.CLOSE.invokeExact(state, fd);
    } catch (Throwable t) {
      // Nothing to do: a descriptor we could not close is a leak, not a safety problem.
    }
  }
}
