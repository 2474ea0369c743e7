package io.tcptuning.node;

import io.tcptuning.domain.Sysctl;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystemException;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.EnumMap;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Reads and writes the allowlisted sysctls of the caller's network namespace, and nothing else.
 * Every file is {@code /proc/sys/} plus the fixed path of a {@link Sysctl} constant: there is no
 * method that takes a path or a sysctl name from outside. A file that does not exist is
 * unsupported on this kernel and is never created.
 */
public final class ProcSysctls {
  /** The only root used in production. */
  public static final Path PROC_SYS = Path.of("/proc/sys");

  // No leading zeros: the kernel parses sysctl integers with base 0, so "010" would mean 8.
  private static final Pattern DIGITS = Pattern.compile("^(0|[1-9][0-9]{0,9})$");
  // Syntax only: originals restored on revert may lie outside what a policy may ask for.
  private static final Pattern PORT_PAIR = Pattern.compile("^(0|[1-9][0-9]{0,4}) (0|[1-9][0-9]{0,4})$");

  private final Path root;

  /** The caller's namespace, {@code /proc/sys}. */
  public ProcSysctls() {
    this(PROC_SYS);
  }

  /** A fixture tree standing in for /proc/sys, for tests. */
  ProcSysctls(Path root) {
    this.root = root.toAbsolutePath().normalize();
  }

  /** The canonical current value ("32768 60999"), or empty when the file does not exist here. */
  public Optional<String> read(Sysctl sysctl) throws IOException {
    Path file = fileOf(sysctl);
    try {
      // One large read: the kernel answers a read at a non-zero offset with EOF (see ProcFiles).
      return Optional.of(Sysctl.canonical(ProcFiles.read(file)));
    } catch (NoSuchFileException e) {
      return Optional.empty();
    }
  }

  /** Every allowlisted sysctl that exists here, canonical; absent keys have no file. */
  public Map<Sysctl, String> readAll() throws IOException {
    Map<Sysctl, String> out = new EnumMap<>(Sysctl.class);
    for (Sysctl s : Sysctl.values()) {
      read(s).ifPresent(v -> out.put(s, v));
    }
    return out;
  }

  /**
   * Writes a canonical value into the existing file. Refuses anything that is not canonical for
   * the sysctl (decimal digits without leading zeros; for the port range exactly "min max"), so that no newline or second
   * assignment can ride along even if a caller forgot to validate.
   *
   * @throws NoSuchFileException when the sysctl does not exist on this kernel (nothing created)
   * @throws IllegalArgumentException when the value is not canonical (nothing written)
   */
  public void write(Sysctl sysctl, String canonicalValue) throws IOException {
    requireCanonical(sysctl, canonicalValue);
    Path file = fileOf(sysctl);
    byte[] bytes = (canonicalValue + "\n").getBytes(StandardCharsets.US_ASCII);
    // No CREATE: a missing file stays missing. TRUNCATE_EXISTING matters only for fixture files;
    // procfs takes the whole value from the single write.
    try (FileChannel ch =
        FileChannel.open(file, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING, LinkOption.NOFOLLOW_LINKS)) {
      ByteBuffer buf = ByteBuffer.wrap(bytes);
      int written = ch.write(buf);
      if (written != bytes.length) {
        throw new IOException("short write to " + file + ": " + written + " of " + bytes.length + " bytes");
      }
    }
  }

  /**
   * Why this process may not write the sysctl ("permission denied", "Read-only file system"), or
   * empty when it may, or when the file does not exist (nothing is ever written to it). Asks the
   * kernel by opening the file for writing and closing it, nothing written: the same check a
   * write meets (root, or CAP_NET_ADMIN over the namespace). access(2), and so
   * {@code Files.isWritable}, asks for the real uid without capabilities and would refuse a
   * process that holds CAP_NET_ADMIN.
   */
  public Optional<String> writeDenied(Sysctl sysctl) throws IOException {
    try (FileChannel ch = FileChannel.open(fileOf(sysctl), StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS)) {
      return Optional.empty();
    } catch (NoSuchFileException e) {
      return Optional.empty();
    } catch (FileSystemException e) {
      return Optional.of(IoErrors.reason(e));
    }
  }

  /** True when {@code value} is canonical for {@code sysctl}: what {@link #write} accepts. */
  public static boolean isCanonical(Sysctl sysctl, String value) {
    if (value == null) {
      return false;
    }
    if (sysctl == Sysctl.IP_LOCAL_PORT_RANGE) {
      return PORT_PAIR.matcher(value).matches();
    }
    return DIGITS.matcher(value).matches();
  }

  private static void requireCanonical(Sysctl sysctl, String value) {
    if (!isCanonical(sysctl, value)) {
      String shown = value == null ? "null" : value.replaceAll("[^\\x20-\\x7e]", "?");
      throw new IllegalArgumentException(
          "refusing to write " + sysctl.dottedName() + ": \"" + shown + "\" is not a canonical value"
              + (sysctl == Sysctl.IP_LOCAL_PORT_RANGE ? " (\"min max\")" : " (decimal digits, no leading zero)"));
    }
  }

  private Path fileOf(Sysctl sysctl) {
    Path file = root.resolve(sysctl.procPath()).normalize();
    // The paths are enum constants; this guards against a future constant with ".." in it.
    if (!file.startsWith(root)) {
      throw new IllegalStateException("sysctl path escapes " + root + ": " + sysctl.procPath());
    }
    return file;
  }
}
