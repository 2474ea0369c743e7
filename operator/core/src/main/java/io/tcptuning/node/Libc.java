package io.tcptuning.node;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

/**
 * The few libc calls this project makes (the netlink census's socket calls, open/statx/setns to
 * enter a network namespace, getsockopt for its cookie), as FFM downcalls that capture errno.
 * Linked on first use; a JVM
 * without native access fails here and the census falls back to /proc.
 * Assumes an LP64 Linux (size_t and ssize_t are 64-bit): x86_64 and aarch64.
 */
public final class Libc {
  public static final int EINTR = 4;
  public static final int EAGAIN = 11;

  private static final Linker LINKER = Linker.nativeLinker();
  public static final StructLayout CAPTURE_LAYOUT = Linker.Option.captureStateLayout();
  private static final VarHandle ERRNO = CAPTURE_LAYOUT.varHandle(MemoryLayout.PathElement.groupElement("errno"));

  /** int socket(int domain, int type, int protocol) */
  public static final MethodHandle SOCKET = downcall("socket", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT));
  /** int bind(int fd, const struct sockaddr *addr, socklen_t len) */
  public static final MethodHandle BIND = downcall("bind", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
  /** int setsockopt(int fd, int level, int name, const void *value, socklen_t len) */
  public static final MethodHandle SETSOCKOPT =
      downcall("setsockopt", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
  /** ssize_t sendto(int fd, const void *buf, size_t len, int flags, const struct sockaddr *to, socklen_t tolen) */
  public static final MethodHandle SENDTO =
      downcall("sendto", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT));
  /** ssize_t recv(int fd, void *buf, size_t len, int flags) */
  public static final MethodHandle RECV = downcall("recv", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));
  /** int getsockopt(int fd, int level, int name, void *value, socklen_t *len) */
  public static final MethodHandle GETSOCKOPT =
      downcall("getsockopt", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));
  /** int open(const char *path, int flags) */
  public static final MethodHandle OPEN = downcall("open", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
  /** int setns(int fd, int nstype) */
  public static final MethodHandle SETNS = downcall("setns", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
  /** int close(int fd) */
  public static final MethodHandle CLOSE = downcall("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
  /**
   * int statx(int dirfd, const char *path, int flags, unsigned int mask, struct statx *buf), whose
   * struct is the same on every architecture (unlike struct stat); null on a libc without it
   * (glibc before 2.28).
   */
  public static final MethodHandle STATX = optionalDowncall("statx", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, ADDRESS));

  private Libc() {}

  private static MethodHandle downcall(String name, FunctionDescriptor descriptor) {
    var symbol = LINKER.defaultLookup().find(name).orElseThrow(() -> new UnsatisfiedLinkError("libc has no " + name));
    return LINKER.downcallHandle(symbol, descriptor, Linker.Option.captureCallState("errno"));
  }

  private static MethodHandle optionalDowncall(String name, FunctionDescriptor descriptor) {
    return LINKER.defaultLookup().find(name).map(symbol -> LINKER.downcallHandle(symbol, descriptor, Linker.Option.captureCallState("errno"))).orElse(null);
  }

  public static int errno(MemorySegment capture) {
    return (int) ERRNO.get(capture, 0L);
  }
}
