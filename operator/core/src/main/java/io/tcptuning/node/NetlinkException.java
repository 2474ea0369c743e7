package io.tcptuning.node;

import java.io.IOException;

/** The kernel said no to a netlink call: {@link #errno()} says why, the message says it in words. */
public final class NetlinkException extends IOException {
  public static final int EPERM = 1;
  public static final int EACCES = 13;
  public static final int EINVAL = 22;
  public static final int EAFNOSUPPORT = 97;
  public static final int EPROTONOSUPPORT = 93;
  public static final int EOPNOTSUPP = 95;

  private final int errno;

  public NetlinkException(String what, int errno) {
    super(what + ": " + describe(errno));
    this.errno = errno;
  }

  public int errno() {
    return errno;
  }

  /** True for "not allowed" (EPERM, EACCES): another way in may still work. */
  public boolean refused() {
    return errno == EPERM || errno == EACCES;
  }

  /** {@code errno 1 (EPERM, operation not permitted)} for the errors a user may meet here. */
  public static String describe(int errno) {
    String said = switch (errno) {
      case EPERM -> "EPERM, operation not permitted";
      case 2 -> "ENOENT, no such file or directory";
      case EACCES -> "EACCES, permission denied";
      case 12 -> "ENOMEM, out of memory";
      case 16 -> "EBUSY, device or resource busy";
      case EINVAL -> "EINVAL, invalid argument";
      case EPROTONOSUPPORT -> "EPROTONOSUPPORT, protocol not supported";
      case EOPNOTSUPP -> "EOPNOTSUPP, operation not supported";
      case EAFNOSUPPORT -> "EAFNOSUPPORT, address family not supported";
      case 105 -> "ENOBUFS, no buffer space available";
      default -> null;
    };
    return "errno " + errno + (said == null ? "" : " (" + said + ")");
  }
}
