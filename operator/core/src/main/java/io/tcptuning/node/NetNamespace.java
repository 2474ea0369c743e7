package io.tcptuning.node;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;

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
        throw new IOException("open " + nsPath + ": errno " + Libc.errno(state));
      }
      try {
        int rc = (int) Libc.SETNS.invokeExact(state, fd, CLONE_NEWNET);
        if (rc != 0) {
          throw new IOException("setns " + nsPath + ": errno " + Libc.errno(state));
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

  static long inode(Path nsPath) throws IOException {
    Object ino = Files.getAttribute(nsPath, "unix:ino");
    return ((Number) ino).longValue();
  }
}
