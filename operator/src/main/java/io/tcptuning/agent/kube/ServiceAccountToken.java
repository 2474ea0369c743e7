package io.tcptuning.agent.kube;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.function.Supplier;

/**
 * A bearer token read from a file and read again when the file changes: projected service-account
 * tokens are rotated by the kubelet (about hourly) by swapping the file. A stat per request is
 * cheap next to an HTTP round trip; the token is also re-read at least every minute in case a
 * swap keeps the modification time.
 */
final class ServiceAccountToken implements Supplier<String> {
  private static final long MAX_AGE_NANOS = 60_000_000_000L;

  private final Path file;
  private String token;
  private FileTime readModified;
  private long readAt;

  ServiceAccountToken(Path file) {
    this.file = file;
  }

  @Override
  public synchronized String get() {
    try {
      FileTime modified = Files.getLastModifiedTime(file);
      if (token == null || !modified.equals(readModified) || System.nanoTime() - readAt > MAX_AGE_NANOS) {
        token = Files.readString(file, StandardCharsets.UTF_8).strip();
        readModified = modified;
        readAt = System.nanoTime();
      }
      return token;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read API token " + file + ": " + e.getMessage(), e);
    }
  }
}
