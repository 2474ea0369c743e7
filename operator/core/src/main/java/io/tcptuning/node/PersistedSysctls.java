package io.tcptuning.node;

import io.tcptuning.domain.Sysctl;
import io.tcptuning.domain.TuningRequest;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

/**
 * The file {@code apply --persist} leaves in {@code /etc/sysctl.d} so that the applied values
 * come back at boot ({@code systemd-sysctl}, {@code sysctl --system}): named after the policy,
 * with a header saying who wrote it and how to undo it, written atomically (temp file, fsync,
 * rename, fsync of the directory). {@code revert} removes it.
 */
public final class PersistedSysctls {
  /** Where systemd-sysctl and {@code sysctl --system} read drop-ins. */
  public static final Path DEFAULT_DIR = Path.of("/etc/sysctl.d");

  /**
   * Where to persist and who is writing.
   *
   * @param dir the sysctl.d directory
   * @param writer for the header, e.g. "tcptune 0.1.0"
   */
  public record Target(Path dir, String writer) {
    public Path fileFor(String policy) {
      return dir.toAbsolutePath().normalize().resolve(fileName(policy));
    }
  }

  private PersistedSysctls() {}

  /** {@code 90-tcptune-<policy>.conf}: late in the order, after distribution defaults. */
  public static String fileName(String policy) {
    if (!TuningRequest.validPolicyName(policy)) {
      throw new IllegalArgumentException("not a policy name: " + policy);
    }
    return "90-tcptune-" + policy + ".conf";
  }

  /** The file's content: the header, then one {@code name = value} line per sysctl, in allowlist order. */
  public static String render(String policy, Map<Sysctl, String> values, String writer, Instant at) {
    StringBuilder b = new StringBuilder();
    b.append("# Written by ").append(writer).append(" (tcptune apply --persist) at ")
        .append(at.truncatedTo(ChronoUnit.SECONDS)).append(" for policy ").append(policy).append(".\n");
    b.append("# Applied again at every boot. To undo: tcptune revert --policy ").append(policy)
        .append(" (puts back the values from before the first apply and removes this file).\n");
    b.append("# Do not edit: the next apply rewrites this file.\n");
    new java.util.TreeMap<Sysctl, String>(values).forEach((s, v) -> b.append(s.dottedName()).append(" = ").append(v).append('\n'));
    return b.toString();
  }

  /** Writes the file atomically: a crash leaves the old file or the new one, never half of one. */
  public static void write(Path file, String content) throws IOException {
    Path dir = file.getParent();
    Files.createDirectories(dir);
    Path tmp = dir.resolve("." + file.getFileName() + ".tmp-" + UUID.randomUUID());
    try {
      try (FileChannel ch = FileChannel.open(tmp, Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE),
          PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-r--r--")))) {
        ByteBuffer buf = ByteBuffer.wrap(content.getBytes(StandardCharsets.US_ASCII));
        while (buf.hasRemaining()) {
          ch.write(buf);
        }
        ch.force(true);
      }
      Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } finally {
      Files.deleteIfExists(tmp);
    }
    fsync(dir);
  }

  /** Removes the file durably; true when there was one. */
  public static boolean remove(Path file) throws IOException {
    if (Files.deleteIfExists(file)) {
      fsync(file.getParent());
      return true;
    }
    return false;
  }

  private static void fsync(Path dir) throws IOException {
    try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
      d.force(true);
    }
  }
}
