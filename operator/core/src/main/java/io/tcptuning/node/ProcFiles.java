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
 */
public final class ProcFiles {
  private static final int FIRST_READ = 64 * 1024;

  private ProcFiles() {}

  /** The whole file, UTF-8, with a large first read. */
  public static String read(Path file) throws IOException {
    try (InputStream in = Files.newInputStream(file)) {
      byte[] buf = new byte[FIRST_READ];
      int len = 0;
      while (true) {
        if (len == buf.length) {
          buf = Arrays.copyOf(buf, buf.length * 2);
        }
        int n = in.read(buf, len, buf.length - len);
        if (n < 0) {
          return new String(buf, 0, len, StandardCharsets.UTF_8);
        }
        len += n;
      }
    }
  }
}
