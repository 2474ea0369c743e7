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
 * The record of each sysctl's value from before this project first wrote it, of the value this
 * project applied, and of the policy that owns the tuning. One file per network namespace in the
 * state directory: {@code originals.journal} for the namespace the process runs in (the node's),
 * {@code originals-netns-<inode>.journal} for another one, which also records who that namespace
 * is (inode, cookie, boot) so that a namespace that went away is never mistaken for a new one
 * that got its inode.
 *
 * <p>Durable: a new version is written to a temporary file in the same directory, fsynced,
 * renamed over the old one atomically, and the directory is fsynced, so a crash leaves either
 * the old or the new journal, never a mix. Checked: the file carries a format version and a
 * SHA-256 of its content; anything else is reported as corrupt and never trusted or replaced.
 *
 * <p>Format (text, one item a line; {@code netns}, {@code persisted} and {@code applied} lines
 * are optional):
 *
 * <pre>
 * tcptune-originals 2
 * owner high-churn-clients
 * netns 4026532246 8193 0f1e...boot id... /run/netns/blue
 * persisted /etc/sysctl.d/90-tcptune-high-churn-clients.conf
 * sysctl net.ipv4.tcp_tw_reuse=2
 * applied net.ipv4.tcp_tw_reuse=1
 * sysctl net.ipv4.ip_local_port_range=32768 60999
 * applied net.ipv4.ip_local_port_range=10240 65535
 * sha256 &lt;hex SHA-256 of every byte above this line&gt;
 * </pre>
 *
 * <p>Format 1 (written before applied values were recorded) has only the owner and sysctl lines;
 * it is still read, its applied values unknown.
 */
public final class OriginalsJournal {
  public static final Path DEFAULT_STATE_DIR = io.tcptuning.config.AgentContract.DEFAULT_STATE_DIR;
  static final String FILE_NAME = "originals.journal";
  static final String LOCK_NAME = "originals.lock";
  static final String FORMAT_LINE = "tcptune-originals 2";
  static final String FORMAT_1_LINE = "tcptune-originals 1";
  private static final String NETNS_PREFIX = "originals-netns-";
  private static final Pattern NETNS_FILE = Pattern.compile("^originals-netns-([0-9]{1,20})\\.journal$");
  private static final Pattern NETNS_LINE = Pattern.compile("^netns ([0-9]{1,20}) ([0-9]{1,20}) ([0-9a-z-]{1,64}) (/[\\x21-\\x7e][\\x20-\\x7e]*)$");
  /** A generous cap: a valid journal has a handful of short lines. */
  private static final long MAX_BYTES = 64 * 1024;
  /** Kubernetes object names (DNS-1123 subdomain): the owner can never break a line. */
  private static final Pattern SHA_LINE = Pattern.compile("^sha256 ([0-9a-f]{64})$");
  // One lock per directory inside this JVM: FileChannel.lock excludes other processes only.
  private static final Map<Path, ReentrantLock> IN_PROCESS = new ConcurrentHashMap<>();

  /** Who a journaled namespace is, and the path it was reached by. */
  public record Netns(NetNamespace.Identity id, String path) {
    public Netns {
      if (!printable(path) || !path.startsWith("/")) {
        throw new IllegalArgumentException("namespace path must be absolute printable ASCII, got " + path);
      }
      if (!id.bootId().matches("[0-9a-z-]{1,64}")) {
        throw new IllegalArgumentException("boot id must be lower-case hex and '-', got " + id.bootId());
      }
    }

    /** {@code net:[4026532246] (/run/netns/blue)}. */
    public String shown() {
      return id.shown() + " (" + path + ")";
    }
  }

  /**
   * What the journal records: the owning policy, the originals and the values applied (both in
   * allowlist order), the namespace when it is not the node's own, and the sysctl.d file written
   * by {@code apply --persist}.
   *
   * @param applied the value this project last applied, per journaled sysctl; a sysctl without
   *     one was journaled by an older version (format 1), its applied value unknown
   */
  public record Entries(
      String owner, Map<Sysctl, String> originals, Map<Sysctl, String> applied, Optional<Netns> netns, Optional<Path> persisted) {
    public Entries {
      if (owner == null || !TuningRequest.validPolicyName(owner)) {
        throw new IllegalArgumentException("journal owner must be a Kubernetes object name, got " + owner);
      }
      originals = canonicalCopy(originals);
      applied = canonicalCopy(applied);
      if (!originals.keySet().containsAll(applied.keySet())) {
        throw new IllegalArgumentException("an applied value without an original: " + applied.keySet());
      }
      if (persisted.isPresent() && (!persisted.get().isAbsolute() || !printable(persisted.get().toString()))) {
        throw new IllegalArgumentException("persisted file must be an absolute printable ASCII path, got " + persisted.get());
      }
    }

    /** Originals only (applied values unknown), the node's namespace, nothing persisted. */
    public Entries(String owner, Map<Sysctl, String> originals) {
      this(owner, originals, Map.of(), Optional.empty(), Optional.empty());
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
      return new Entries(owner, merged, applied, netns, persisted);
    }

    /** These entries with the given applied values (for journaled sysctls only) replacing the recorded ones. */
    public Entries withApplied(Map<Sysctl, String> values) {
      Map<Sysctl, String> next = new EnumMap<>(Sysctl.class);
      next.putAll(applied);
      values.forEach((s, v) -> {
        if (originals.containsKey(s)) {
          next.put(s, v);
        }
      });
      return new Entries(owner, originals, next, netns, persisted);
    }

    public Entries withNetns(Optional<Netns> ns) {
      return new Entries(owner, originals, applied, ns, persisted);
    }

    public Entries withPersisted(Optional<Path> file) {
      return new Entries(owner, originals, applied, netns, file);
    }

    /** These entries minus some sysctls (given back to their originals). */
    public Entries without(Iterable<Sysctl> dropped) {
      Map<Sysctl, String> rest = new EnumMap<>(Sysctl.class);
      rest.putAll(originals);
      Map<Sysctl, String> restApplied = new EnumMap<>(Sysctl.class);
      restApplied.putAll(applied);
      dropped.forEach(s -> {
        rest.remove(s);
        restApplied.remove(s);
      });
      return new Entries(owner, rest, restApplied, netns, persisted);
    }

    /** Only these sysctls (those still to give back). */
    public Entries only(java.util.Collection<Sysctl> kept) {
      return without(originals.keySet().stream().filter(s -> !kept.contains(s)).toList());
    }

    public boolean ownedBy(String policy) {
      return owner.equals(policy);
    }

    private static Map<Sysctl, String> canonicalCopy(Map<Sysctl, String> values) {
      Map<Sysctl, String> copy = new EnumMap<>(Sysctl.class);
      for (var e : values.entrySet()) {
        if (!ProcSysctls.isCanonical(e.getKey(), e.getValue())) {
          throw new IllegalArgumentException(
              "not a canonical value for " + e.getKey().dottedName() + ": " + e.getValue());
        }
        copy.put(e.getKey(), e.getValue());
      }
      return Collections.unmodifiableMap(copy);
    }
  }

  /** One journal of another namespace found in the state directory, or why it could not be read. */
  public record NamespaceJournal(Path file, long inode, Optional<Entries> entries, Optional<String> problem) {}

  private final Path dir;
  private final String fileName;
  private final Optional<Netns> netns;

  /** The journal of the namespace this process runs in (the node's). */
  public OriginalsJournal(Path stateDir) {
    this(stateDir, FILE_NAME, Optional.empty());
  }

  private OriginalsJournal(Path stateDir, String fileName, Optional<Netns> netns) {
    this.dir = stateDir.toAbsolutePath().normalize();
    this.fileName = fileName;
    this.netns = netns;
  }

  /**
   * The journal of another network namespace, keyed by its inode; its entries record who the
   * namespace is, and a journal recording anyone else is refused ({@link
   * JournalForOtherNamespaceException}).
   */
  public static OriginalsJournal forNamespace(Path stateDir, Netns netns) {
    return new OriginalsJournal(stateDir, namespaceFileName(netns.id().inode()), Optional.of(netns));
  }

  /**
   * The journal file of another namespace known here only by its inode, to find or remove it. Who
   * it was written for is checked when it is loaded through {@link #forNamespace} inside that
   * namespace; this instance does not load it (its entries name a namespace it does not know).
   */
  public static OriginalsJournal ofNamespaceInode(Path stateDir, long inode) {
    return new OriginalsJournal(stateDir, namespaceFileName(inode), Optional.empty());
  }

  static String namespaceFileName(long inode) {
    return NETNS_PREFIX + inode + ".journal";
  }

  public Path stateDir() {
    return dir;
  }

  public Path file() {
    return dir.resolve(fileName);
  }

  /** The namespace this journal is for; empty for the node's own. */
  public Optional<Netns> netns() {
    return netns;
  }

  /**
   * Every journal of another namespace in the state directory, with what it records (or why it
   * cannot be read); none when the directory does not exist.
   */
  public static java.util.List<NamespaceJournal> namespaceJournals(Path stateDir) throws IOException {
    Path dir = stateDir.toAbsolutePath().normalize();
    java.util.List<NamespaceJournal> out = new java.util.ArrayList<>();
    if (!Files.isDirectory(dir)) {
      return out;
    }
    try (DirectoryStream<Path> s = Files.newDirectoryStream(dir, NETNS_PREFIX + "*.journal")) {
      for (Path p : s) {
        var m = NETNS_FILE.matcher(p.getFileName().toString());
        if (!m.matches()) {
          continue;
        }
        long inode = Long.parseLong(m.group(1));
        try {
          byte[] bytes = readCapped(p);
          out.add(new NamespaceJournal(p, inode, Optional.of(parse(p, bytes)), Optional.empty()));
        } catch (IOException e) {
          out.add(new NamespaceJournal(p, inode, Optional.empty(), Optional.of(IoErrors.describe(e))));
        }
      }
    }
    out.sort(java.util.Comparator.comparing(NamespaceJournal::file));
    return out;
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
      bytes = readCapped(file);
    } catch (NoSuchFileException e) {
      return Optional.empty();
    }
    Entries entries = parse(file, bytes);
    if (netns.isPresent()) {
      Netns want = netns.get();
      Netns recorded = entries.netns().orElseThrow(() -> new JournalCorruptException(file, "it names no namespace"));
      if (!recorded.id().equals(want.id())) {
        throw new JournalForOtherNamespaceException(file, recorded, want);
      }
    } else if (entries.netns().isPresent()) {
      throw new JournalCorruptException(file, "it names a namespace, but this is the journal of the node's own");
    }
    return Optional.of(entries);
  }

  private static byte[] readCapped(Path file) throws IOException {
    if (Files.size(file) > MAX_BYTES) {
      throw new JournalCorruptException(file, "larger than " + MAX_BYTES + " bytes");
    }
    return Files.readAllBytes(file);
  }

  /** Replaces the journal durably (temp file, fsync, atomic rename, fsync of the directory). */
  public void store(Entries entries) throws IOException {
    if (!entries.netns().equals(netns)) {
      throw new IllegalArgumentException("entries for " + entries.netns().map(Netns::shown).orElse("the node's namespace")
          + " stored in the journal of " + netns.map(Netns::shown).orElse("the node's namespace"));
    }
    Files.createDirectories(dir);
    removeStaleTemporaries();
    byte[] bytes = render(entries);
    Path tmp = dir.resolve(tmpPrefix() + UUID.randomUUID());
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

  private String tmpPrefix() {
    return "." + fileName + ".tmp-";
  }

  /** A temporary file left by a crash mid-store was never renamed into place: it is not trusted. */
  private void removeStaleTemporaries() throws IOException {
    try (DirectoryStream<Path> s = Files.newDirectoryStream(dir, tmpPrefix() + "*")) {
      for (Path p : s) {
        Files.deleteIfExists(p);
      }
    }
  }

  static byte[] render(Entries entries) {
    StringBuilder b = new StringBuilder();
    b.append(FORMAT_LINE).append('\n');
    b.append("owner ").append(entries.owner()).append('\n');
    entries.netns().ifPresent(n -> b.append("netns ").append(n.id().inode()).append(' ').append(n.id().cookie()).append(' ')
        .append(n.id().bootId()).append(' ').append(n.path()).append('\n'));
    entries.persisted().ifPresent(p -> b.append("persisted ").append(p).append('\n'));
    entries.originals().forEach((s, v) -> {
      b.append("sysctl ").append(s.dottedName()).append('=').append(v).append('\n');
      String applied = entries.applied().get(s);
      if (applied != null) {
        b.append("applied ").append(s.dottedName()).append('=').append(applied).append('\n');
      }
    });
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
    boolean format1 = lines.length >= 1 && lines[0].equals(FORMAT_1_LINE);
    if (lines.length < 3 || !(lines[0].equals(FORMAT_LINE) || format1)) {
      throw new JournalCorruptException(file, "unknown format (expected first line \"" + FORMAT_LINE + "\" or \"" + FORMAT_1_LINE + "\")");
    }
    if (!lines[1].startsWith("owner ") || !TuningRequest.validPolicyName(lines[1].substring(6))) {
      throw new JournalCorruptException(file, "line 2 is not \"owner <policy name>\"");
    }
    String owner = lines[1].substring(6);
    int i = 2;
    Optional<Netns> netns = Optional.empty();
    if (!format1 && i < lines.length - 1 && lines[i].startsWith("netns ")) {
      var m = NETNS_LINE.matcher(lines[i]);
      if (!m.matches()) {
        throw new JournalCorruptException(file, "line " + (i + 1) + " is not \"netns <inode> <cookie> <boot id> <path>\"");
      }
      try {
        netns = Optional.of(new Netns(
            new NetNamespace.Identity(Long.parseUnsignedLong(m.group(1)), Long.parseUnsignedLong(m.group(2)), m.group(3)), m.group(4)));
      } catch (IllegalArgumentException e) {
        throw new JournalCorruptException(file, "line " + (i + 1) + ": " + e.getMessage());
      }
      i++;
    }
    Optional<Path> persisted = Optional.empty();
    if (!format1 && i < lines.length - 1 && lines[i].startsWith("persisted ")) {
      String p = lines[i].substring("persisted ".length());
      if (!p.startsWith("/")) {
        throw new JournalCorruptException(file, "line " + (i + 1) + " is not \"persisted <absolute path>\"");
      }
      persisted = Optional.of(Path.of(p));
      i++;
    }
    Map<Sysctl, String> originals = new EnumMap<>(Sysctl.class);
    Map<Sysctl, String> applied = new EnumMap<>(Sysctl.class);
    Sysctl last = null;
    for (; i < lines.length - 1; i++) {
      String line = lines[i];
      int lineNo = i + 1;
      int eq = line.indexOf('=');
      boolean isApplied = !format1 && line.startsWith("applied ");
      if (!(line.startsWith("sysctl ") || isApplied) || eq < 0) {
        throw new JournalCorruptException(file, "line " + lineNo + " is not \"sysctl <name>=<value>\"" + (format1 ? "" : " or \"applied <name>=<value>\""));
      }
      String name = line.substring(isApplied ? 8 : 7, eq);
      String value = line.substring(eq + 1);
      // Only allowlisted names resolve; anything else (ip_forward, a path) is refused here.
      Sysctl sysctl =
          Sysctl.byDottedName(name)
              .orElseThrow(() -> new JournalCorruptException(file, "line " + lineNo + " names a sysctl outside the allowlist"));
      if (!ProcSysctls.isCanonical(sysctl, value)) {
        throw new JournalCorruptException(file, "the value recorded for " + sysctl.dottedName() + " is not canonical");
      }
      if (isApplied) {
        if (sysctl != last || applied.put(sysctl, value) != null) {
          throw new JournalCorruptException(file, "line " + lineNo + ": an applied value must follow the sysctl line of " + sysctl.dottedName());
        }
      } else if (originals.put(sysctl, value) != null) {
        throw new JournalCorruptException(file, sysctl.dottedName() + " is recorded twice");
      }
      last = sysctl;
    }
    try {
      return new Entries(owner, originals, applied, netns, persisted);
    } catch (IllegalArgumentException e) {
      throw new JournalCorruptException(file, e.getMessage());
    }
  }

  private static boolean printable(String s) {
    return s != null && !s.isEmpty() && s.chars().allMatch(c -> c >= 0x20 && c <= 0x7e);
  }

  private static String sha256(byte[] data) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required of every JDK", e);
    }
  }
}
