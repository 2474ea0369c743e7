package io.tcptuning.node.census;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Parses {@code /proc/net/tcp} and {@code /proc/net/tcp6} straight from bytes into a
 * {@link SocketTally}, without a String per line. The fallback when netlink is unavailable.
 *
 * <p>Format ({@code net/ipv4/tcp_ipv4.c}, {@code net/ipv6/tcp_ipv6.c}): after a header line,
 * {@code "  sl  local_address rem_address   st ..."}, one line per socket:
 * {@code "   0: 0100007F:1F90 00000000:0000 0A ..."}. Addresses are the in-memory (network order)
 * bytes printed as native-endian 32-bit words, so on little-endian machines each word is
 * byte-reversed; IPv6 is four such words. Ports and the state are plain hex. The kernel lists
 * the listening sockets of a file before its connections, which the tally relies on.
 */
final class ProcNetTcpParser {
  private static final int CHUNK = 256 * 1024;
  private static final boolean LITTLE_ENDIAN = java.nio.ByteOrder.nativeOrder() == java.nio.ByteOrder.LITTLE_ENDIAN;

  private final SocketTally tally;
  private byte[] buf = new byte[CHUNK];

  ProcNetTcpParser(SocketTally tally) {
    this.tally = tally;
  }

  /** Parses one file; a missing tcp6 (IPv6 disabled) is not an error for the caller to fear. */
  void parse(Path file) throws IOException {
    try (InputStream in = Files.newInputStream(file)) {
      parse(in);
    }
  }

  /** Parses the whole stream; the family of each line is told by its address width. */
  void parse(InputStream in) throws IOException {
    int len = 0;
    int start = 0;
    while (true) {
      if (start > 0) {
        System.arraycopy(buf, start, buf, 0, len - start);
        len -= start;
        start = 0;
      }
      if (len == buf.length) {
        // A line longer than the buffer: not /proc/net/tcp. Grow rather than loop forever.
        buf = java.util.Arrays.copyOf(buf, buf.length * 2);
      }
      int read = in.read(buf, len, buf.length - len);
      if (read < 0) {
        if (len > start) {
          line(start, len);
        }
        return;
      }
      len += read;
      for (int i = start; i < len; i++) {
        if (buf[i] == '\n') {
          line(start, i);
          start = i + 1;
        }
      }
    }
  }

  /** One line in buf[from, to). Header and malformed lines are skipped. */
  private void line(int from, int to) {
    int p = skipSpaces(from, to);
    // "sl" field: digits then ':'.
    int q = p;
    while (q < to && buf[q] >= '0' && buf[q] <= '9') {
      q++;
    }
    if (q == p || q >= to || buf[q] != ':') {
      return; // the header, or not a socket line
    }
    p = skipSpaces(q + 1, to);
    int local = p;
    int localColon = indexOf(':', local, to);
    if (localColon < 0) {
      return;
    }
    int addrLen = localColon - local;
    if (addrLen != 8 && addrLen != 32) {
      return;
    }
    int localPort = (int) hex(localColon + 1, 4, to);
    p = localColon + 5;
    p = skipSpaces(p, to);
    int remote = p;
    int remoteColon = remote + addrLen;
    if (remoteColon + 5 > to || buf[remoteColon] != ':') {
      return;
    }
    int remotePort = (int) hex(remoteColon + 1, 4, to);
    p = skipSpaces(remoteColon + 5, to);
    int state = (int) hex(p, 2, to);
    if (localPort < 0 || remotePort < 0 || state < 0) {
      return;
    }
    if (addrLen == 8) {
      long word = hex(remote, 8, to);
      if (word >= 0) {
        tally.socket(DestinationTable.INET, state, 0, networkOrder(word), remotePort, localPort);
      }
      return;
    }
    long w0 = hex(remote, 8, to);
    long w1 = hex(remote + 8, 8, to);
    long w2 = hex(remote + 16, 8, to);
    long w3 = hex(remote + 24, 8, to);
    if ((w0 | w1 | w2 | w3) < 0) {
      return;
    }
    long hi = (networkOrder(w0) << 32) | networkOrder(w1);
    long lo = (networkOrder(w2) << 32) | networkOrder(w3);
    tally.socket(DestinationTable.INET6, state, hi, lo, remotePort, localPort);
  }

  /** A native-endian word as printed by the kernel, turned into network order (32 bits). */
  private static long networkOrder(long word) {
    return LITTLE_ENDIAN ? Integer.reverseBytes((int) word) & 0xffffffffL : word;
  }

  private int skipSpaces(int p, int to) {
    while (p < to && buf[p] == ' ') {
      p++;
    }
    return p;
  }

  private int indexOf(char c, int from, int to) {
    for (int i = from; i < to; i++) {
      if (buf[i] == c) {
        return i;
      }
      if (buf[i] == ' ') {
        return -1;
      }
    }
    return -1;
  }

  /** {@code digits} (at most 8) hex digits at {@code from}; -1 if they are not all hex. */
  private long hex(int from, int digits, int to) {
    if (from + digits > to) {
      return -1;
    }
    long v = 0;
    for (int i = from; i < from + digits; i++) {
      int d = Character.digit(buf[i], 16);
      if (d < 0) {
        return -1;
      }
      v = (v << 4) | d;
    }
    return v;
  }
}
