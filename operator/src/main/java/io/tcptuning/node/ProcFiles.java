package io.tcptuning.node;

import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * Reads /proc files correctly. {@code Files.readString} must not be used there: /proc files
 * report size 0, so the JDK first reads a single byte, and the sysctl integer handlers
 * (proc_dointvec) answer any read at a non-zero offset with EOF. The result is "3" for
 * "32768\t60999". A stream read asks for a full buffer at offset 0 and gets the whole value.
 */
public final class ProcFiles {
  private ProcFiles() {}

  public static String read(Path file) throws IOException {
    try (InputStream in = new FileInputStream(file.toFile())) {
      return new String(in.readAllBytes(), StandardCharsets.US_ASCII);
    }
  }
}
