package io.tcptuning.node;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * Reads small /proc files correctly. A /proc/sys integer file must be read in ONE read() call:
 * the kernel answers any read at a non-zero offset with EOF, and {@code Files.readString} /
 * {@code Files.readAllBytes} start with a 1-byte read on these zero-size files, so they return
 * "3" for ip_local_port_range "32768 60999". Checked on Linux 6.18.
 *
 * <p>The first read asks for 4 KiB, which holds every /proc/sys value and most /proc files
 * whole. Not more: for each read of a /proc/sys file the kernel allocates and zeroes a buffer of
 * the size asked for (proc_sys_call_handler), and asking for 64 KiB made reading
 * ip_local_port_range take twice as long, which a census of a hundred namespaces pays hundreds
 * of times per pass. A first read that fills the buffer and is followed by nothing may have been
 * cut short, so the file is read again from the start with a larger buffer; files that the
 * kernel hands out piece by piece (sockstat, netstat, net/tcp) simply go on.
 */
public final class ProcFiles {
  static final int FIRST_READ = 4 * 1024;

  private ProcFiles() {}

  /** The whole file, UTF-8. */
  public static String read(Path file) throws IOException {
    for (int first = FIRST_READ; ; first *= 16) {
      try (InputStream in = Files.newInputStream(file)) {
        byte[] buf = new byte[first];
        int len = Math.max(0, in.read(buf, 0, first));
        boolean filled = len == first;
        while (true) {
          if (len == buf.length) {
            buf = Arrays.copyOf(buf, buf.length * 2);
          }
          int n = in.read(buf, len, buf.length - len);
          if (n < 0) {
            break;
          }
          len += n;
        }
        if (!filled || len > first) {
          return new String(buf, 0, len, StandardCharsets.UTF_8);
        }
        // Exactly one full read, then EOF: a /proc/sys file longer than the buffer looks the
        // same; ask again with room to spare.
      }
    }
  }
}
