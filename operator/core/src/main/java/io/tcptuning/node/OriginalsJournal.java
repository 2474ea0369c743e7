package io.tcptuning.node;

import io.tcptuning.domain.Sysctl;
import io.tcptuning.domain.TuningRequest;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Collections;
import java.util.EnumMap;
import java.util.HexFormat;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.regex.Pattern;

/**
 * The node's record of each sysctl's value from before this project first wrote it, and of the
 * policy that owns the tuning. One file per node in the state directory, shared by whichever
 * policy owns the node.
 *
 * <p>Durable: a new version is written to a temporary file in the same directory, fsynced,
 * renamed over the old one atomically, and the directory is fsynced, so a crash leaves either
 * the old or the new journal, never a mix. Checked: the file carries a format version and a
 * SHA-256 of its content; anything else is reported as corrupt and never trusted or replaced.
 *
 * <p>Format (text, one item a line):
 *
 * <pre>
 * tcptune-originals 1
 * owner high-churn-clients
 * sysctl net.ipv4.tcp_tw_reuse=2
 * sysctl net.ipv4.ip_local_port_range=32768 60999
 * sha256 &lt;hex SHA-256 of every byte above this line&gt;
 * </pre>
 */
public final class OriginalsJournal {
  public static final Path DEFAULT_STATE_DIR = io.tcptuning.config.AgentContract.DEFAULT_STATE_DIR;
  static final String FILE_NAME = "originals.journal";
  static final String LOCK_NAME = "originals.lock";
  static final String FORMAT_LINE = "tcptune-originals 1";
  private static final String TMP_PREFIX = ".originals.journal.tmp-";
  /** A generous cap: a valid journal has a handful of short lines. */
  private static final long MAX_BYTES = 64 * 1024;
  /** Kubernetes object names (DNS-1123 subdomain): the owner can never break a line. */
  private static final Pattern SHA_LINE = Pattern.compile("^sha256 ([0-9a-f]{64})$");
  // One lock per directory inside this JVM: FileChannel.lock excludes other processes only.
  private static final Map<Path, ReentrantLock> IN_PROCESS = new ConcurrentHashMap<>();

  /** What the journal records: the owning policy and the originals, in allowlist order. */
  public record Entries(String owner, Map<Sysctl, String> originals) {
    public Entries {
      if (owner == null || !TuningRequest.validPolicyName(owner)) {
        throw new IllegalArgumentException("journal owner must be a Kubernetes object name, got " + owner);
      }
      Map<Sysctl, String> copy = new EnumMap<>(Sysctl.class);
      for (var e : originals.entrySet()) {
        if (!ProcSysctls.isCanonical(e.getKey(), e.getValue())) {
          throw new IllegalArgumentException(
              "not a canonical value for " + e.getKey().dottedName() + ": " + e.getValue());
        }
        copy.put(e.getKey(), e.getValue());
      }
      originals = Collections.unmodifiableMap(copy);
    }

    public static Entries empty(String owner) {
      return new Entries(owner, Map.of());
    }

    /**
     * First-time semantics: adds the originals of sysctls not yet recorded and keeps every
     * recorded one, so that a re-apply never replaces a true original by a tuned value.
     */
    public Entries withFirstOriginals(Map<Sysctl, String> before) {
      Map<Sysctl, String> merged = new EnumMap<>(Sysctl.class);
      merged.putAll(before);
      merged.putAll(originals);
      return new Entries(owner, merged);
    }

    /** These entries minus some sysctls (given back to their originals). */
    public Entries without(Iterable<Sysctl> dropped) {
      Map<Sysctl, String> rest = new EnumMap<>(Sysctl.class);
      rest.putAll(originals);
      dropped.forEach(rest::remove);
      return new Entries(owner, rest);
    }

    public boolean ownedBy(String policy) {
      return owner.equals(policy);
    }
  }

  private final Path dir;

  public OriginalsJournal(Path stateDir) {
    this.dir = stateDir.toAbsolutePath().normalize();
  }

  public Path stateDir() {
    return dir;
  }

  public Path file() {
    return dir.resolve(FILE_NAME);
  }

  /** Static check of an owner name, for callers that want to reject it before locking. */
  public static boolean validOwner(String owner) {
    return TuningRequest.validPolicyName(owner);
  }

  /**
   * Takes the node-wide journal lock: other processes (and other threads of this one) wait
   * until it is closed. Creates the state directory if needed. Every apply and revert runs
   * under this lock.
   */
  public Lock lock() throws IOException {
    ReentrantLock local = IN_PROCESS.computeIfAbsent(dir, d -> new ReentrantLock());
    local.lock();
    try {
      Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
      FileChannel ch =
          FileChannel.open(dir.resolve(LOCK_NAME), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
      try {
        return new Lock(ch, ch.lock(), local);
      } catch (IOException | RuntimeException e) {
        ch.close();
        throw e;
      }
    } catch (IOException | RuntimeException e) {
      local.unlock();
      throw e;
    }
  }

  /** Held journal lock; close to release. */
  public static final class Lock implements AutoCloseable {
    private final FileChannel channel;
    private final FileLock fileLock;
    private final ReentrantLock local;

    private Lock(FileChannel channel, FileLock fileLock, ReentrantLock local) {
      this.channel = channel;
      this.fileLock = fileLock;
      this.local = local;
    }

    @Override
    public void close() throws IOException {
      try {
        fileLock.release();
        channel.close();
      } finally {
        local.unlock();
      }
    }
  }

  /**
   * The recorded entries, or empty when there is no journal.
   *
   * @throws JournalCorruptException when the file exists but fails any check
   */
  public Optional<Entries> load() throws IOException {
    Path file = file();
    byte[] bytes;
    try {
      if (Files.size(file) > MAX_BYTES) {
        throw new JournalCorruptException(file, "larger than " + MAX_BYTES + " bytes");
      }
      bytes = Files.readAllBytes(file);
    } catch (NoSuchFileException e) {
      return Optional.empty();
    }
    return Optional.of(parse(file, bytes));
  }

  /** Replaces the journal durably (temp file, fsync, atomic rename, fsync of the directory). */
  public void store(Entries entries) throws IOException {
    Files.createDirectories(dir);
    removeStaleTemporaries();
    byte[] bytes = render(entries);
    Path tmp = dir.resolve(TMP_PREFIX + UUID.randomUUID());
    try {
      try (FileChannel ch =
          FileChannel.open(
              tmp,
              Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE),
              PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-r--r--")))) {
        ByteBuffer buf = ByteBuffer.wrap(bytes);
        while (buf.hasRemaining()) {
          ch.write(buf);
        }
        ch.force(true);
      }
      Files.move(tmp, file(), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } finally {
      Files.deleteIfExists(tmp);
    }
    fsyncDirectory();
  }

  /** Removes the journal durably; a missing journal is fine. */
  public void delete() throws IOException {
    if (Files.deleteIfExists(file())) {
      fsyncDirectory();
    }
  }

  /**
   * Removes the journal, its lock file and the state directory itself, and forgets this
   * directory's in-process lock: for a directory kept for one pod's network namespace once that
   * namespace is gone (nothing is left to restore). The directory must hold nothing else; a
   * directory that still does is left in place.
   */
  public void discard() throws IOException {
    ReentrantLock local = IN_PROCESS.computeIfAbsent(dir, d -> new ReentrantLock());
    local.lock();
    try {
      delete();
      removeStaleTemporaries0();
      Files.deleteIfExists(dir.resolve(LOCK_NAME));
      try {
        Files.deleteIfExists(dir);
      } catch (java.nio.file.DirectoryNotEmptyException e) {
        return; // someone put something else there: not ours to remove
      }
      IN_PROCESS.remove(dir, local);
    } finally {
      local.unlock();
    }
  }

  private void removeStaleTemporaries0() throws IOException {
    try {
      removeStaleTemporaries();
    } catch (NoSuchFileException e) {
      // no directory: nothing to remove
    }
  }

  private void fsyncDirectory() throws IOException {
    // Makes the rename or unlink itself durable, not only the file's content.
    try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
      d.force(true);
    }
  }

  /** A temporary file left by a crash mid-store was never renamed into place: it is not trusted. */
  private void removeStaleTemporaries() throws IOException {
    try (DirectoryStream<Path> s = Files.newDirectoryStream(dir, TMP_PREFIX + "*")) {
      for (Path p : s) {
        Files.deleteIfExists(p);
      }
    }
  }

  static byte[] render(Entries entries) {
    StringBuilder b = new StringBuilder();
    b.append(FORMAT_LINE).append('\n');
    b.append("owner ").append(entries.owner()).append('\n');
    entries.originals().forEach((s, v) -> b.append("sysctl ").append(s.dottedName()).append('=').append(v).append('\n'));
    String body = b.toString();
    return (body + "sha256 " + sha256(body.getBytes(StandardCharsets.US_ASCII)) + "\n").getBytes(StandardCharsets.US_ASCII);
  }

  static Entries parse(Path file, byte[] bytes) throws JournalCorruptException {
    if (bytes.length == 0) {
      throw new JournalCorruptException(file, "the file is empty");
    }
    for (byte c : bytes) {
      if (c != '\n' && (c < 0x20 || c > 0x7e)) {
        throw new JournalCorruptException(file, "it contains a byte that is not printable ASCII");
      }
    }
    String text = new String(bytes, StandardCharsets.US_ASCII);
    if (!text.endsWith("\n")) {
      throw new JournalCorruptException(file, "it does not end with a newline (truncated?)");
    }
    int lastLineStart = text.lastIndexOf('\n', text.length() - 2) + 1;
    String body = text.substring(0, lastLineStart);
    var sha = SHA_LINE.matcher(text.substring(lastLineStart, text.length() - 1));
    if (!sha.matches()) {
      throw new JournalCorruptException(file, "the last line is not \"sha256 <64 hex digits>\" (truncated?)");
    }
    if (!MessageDigest.isEqual(
        sha.group(1).getBytes(StandardCharsets.US_ASCII),
        sha256(body.getBytes(StandardCharsets.US_ASCII)).getBytes(StandardCharsets.US_ASCII))) {
      throw new JournalCorruptException(file, "the SHA-256 of its content does not match its sha256 line");
    }
    String[] lines = body.split("\n", -1);
    // body ends with '\n', so the last element is the empty string after it.
    if (lines.length < 3 || !lines[0].equals(FORMAT_LINE)) {
      throw new JournalCorruptException(file, "unknown format (expected first line \"" + FORMAT_LINE + "\")");
    }
    if (!lines[1].startsWith("owner ") || !TuningRequest.validPolicyName(lines[1].substring(6))) {
      throw new JournalCorruptException(file, "line 2 is not \"owner <policy name>\"");
    }
    String owner = lines[1].substring(6);
    Map<Sysctl, String> originals = new EnumMap<>(Sysctl.class);
    for (int i = 2; i < lines.length - 1; i++) {
      String line = lines[i];
      int lineNo = i + 1;
      int eq = line.indexOf('=');
      if (!line.startsWith("sysctl ") || eq < 0) {
        throw new JournalCorruptException(file, "line " + lineNo + " is not \"sysctl <name>=<value>\"");
      }
      String name = line.substring(7, eq);
      String value = line.substring(eq + 1);
      // Only allowlisted names resolve; anything else (ip_forward, a path) is refused here.
      Sysctl sysctl =
          Sysctl.byDottedName(name)
              .orElseThrow(() -> new JournalCorruptException(file, "line " + lineNo + " names a sysctl outside the allowlist"));
      if (!ProcSysctls.isCanonical(sysctl, value)) {
        throw new JournalCorruptException(file, "the value recorded for " + sysctl.dottedName() + " is not canonical");
      }
      if (originals.put(sysctl, value) != null) {
        throw new JournalCorruptException(file, sysctl.dottedName() + " is recorded twice");
      }
    }
    return new Entries(owner, originals);
  }

  private static String sha256(byte[] data) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required of every JDK", e);
    }
  }
}
