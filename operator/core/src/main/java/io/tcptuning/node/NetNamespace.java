package io.tcptuning.node;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
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
 */
public final class NetNamespace {
  private static final int CLONE_NEWNET = 0x40000000;
  private static final int O_RDONLY = 0;
  private static final int O_CLOEXEC = 0x80000;
  private static final int EPERM = 1;
  private static final int ENOENT = 2;
  private static final int EACCES = 13;
  private static final int EINVAL = 22;
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
    long target = inode(nsPath);
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment state = arena.allocate(Libc.CAPTURE_LAYOUT);
      int fd = (int) Libc.OPEN.invokeExact(state, arena.allocateFrom(nsPath.toString()), O_RDONLY | O_CLOEXEC);
      if (fd < 0) {
        throw new IOException("open " + nsPath + ": " + describeErrno(Libc.errno(state)));
      }
      try {
        int rc = (int) Libc.SETNS.invokeExact(state, fd, CLONE_NEWNET);
        if (rc != 0) {
          int errno = Libc.errno(state);
          throw new IOException("setns " + nsPath + ": " + (errno == EINVAL ? "not a network namespace" : describeErrno(errno)));
        }
      } finally {
        int ignored = (int) Libc.CLOSE.invokeExact(state, fd);
      }
    } catch (IOException e) {
      throw e;
    } catch (Throwable t) {
      throw new IOException("setns " + nsPath + " failed", t);
    }
    long now = currentInode();
    if (now != target) {
      throw new IOException("setns " + nsPath + " did not take: thread is in net:[" + now + "], wanted net:[" + target + "]");
    }
  }

  /** The inode of the calling thread's network namespace. */
  public static long currentInode() throws IOException {
    return inode(Path.of("/proc/thread-self/ns/net"));
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

  private static String describeErrno(int errno) {
    return switch (errno) {
      case EPERM -> "operation not permitted (entering a namespace needs CAP_SYS_ADMIN: root)";
      case ENOENT -> "no such file";
      case EACCES -> "permission denied";
      default -> "errno " + errno;
    };
  }

  static String bootId() {
    try {
      return ProcFiles.read(BOOT_ID).strip();
    } catch (IOException e) {
      return "unknown";
    }
  }

  /**
   * Runs {@code work} on a fresh platform thread that first enters the namespace at {@code
   * nsPath} and checks that it is the one whose inode the caller saw ({@code expectedInode}), so
   * that a namespace replaced in between is never worked on. The thread ends with the work: no
   * thread is left inside a foreign namespace, and the caller's thread never moves.
   *
   * @throws EntryFailedException when the thread cannot enter, or arrives elsewhere
   */
  public static <T> T callInside(Path nsPath, long expectedInode, Callable<T> work) throws Exception {
    var task = new FutureTask<T>(() -> {
      try {
        enter(nsPath);
      } catch (IOException e) {
        throw new EntryFailedException(e.getMessage());
      }
      long now = currentInode();
      if (now != expectedInode) {
        throw new EntryFailedException(nsPath + " is net:[" + now + "] now, no longer net:[" + expectedInode + "]: the namespace was replaced");
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

  /** The inode of the namespace at {@code nsPath} (following the nsfs link). */
  public static long inode(Path nsPath) throws IOException {
    Object ino = Files.getAttribute(nsPath, "unix:ino");
    return ((Number) ino).longValue();
  }
}
