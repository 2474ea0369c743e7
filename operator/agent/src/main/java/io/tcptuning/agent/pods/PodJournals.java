package io.tcptuning.agent.pods;

import io.tcptuning.node.NetNamespace;
import io.tcptuning.node.OriginalsJournal;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One {@link OriginalsJournal} per pod network namespace, each in a directory of its own under
 * {@code <state dir>/pods/}, named {@code <pod uid>_<namespace inode>}. Both halves of the key
 * matter: a namespace inode is reused by the kernel once the namespace is gone, and a pod UID
 * outlives a sandbox that is recreated; together they never restore one pod's originals into
 * another pod. The journal itself records who the namespace was (inode, {@code SO_NETNS_COOKIE},
 * boot id: {@link OriginalsJournal#forNamespace}) and is opened only from inside the namespace
 * ({@link #inside}), so that a pod's sandbox recreated under the same inode (the kernel reuses
 * them within seconds) is recognised as another namespace ({@link
 * io.tcptuning.node.JournalForOtherNamespaceException}): its originals were never read there.
 * A journal written before namespace identities were recorded ({@code originals.journal}) is
 * still read, without that check.
 */
public final class PodJournals {
  /** A pod network namespace, as the journals know it. */
  public record Key(String uid, long inode) {
    private static final String UID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9a-f]{32}";
    private static final Pattern UID_PATTERN = Pattern.compile("^(?:" + UID + ")$");
    private static final Pattern DIR = Pattern.compile("^(" + UID + ")_([1-9][0-9]{0,18})$");

    /** Only a pod UID as PodCgroups returns it: nothing that could leave the directory. */
    public Key {
      if (uid == null || !UID_PATTERN.matcher(uid).matches() || inode <= 0) {
        throw new IllegalArgumentException("not a pod UID and namespace inode: " + uid + " " + inode);
      }
    }

    String dirName() {
      return uid + "_" + inode;
    }

    static java.util.Optional<Key> parse(String dirName) {
      Matcher m = DIR.matcher(dirName);
      if (!m.matches()) {
        return java.util.Optional.empty();
      }
      try {
        return java.util.Optional.of(new Key(m.group(1), Long.parseLong(m.group(2))));
      } catch (NumberFormatException e) {
        return java.util.Optional.empty();
      }
    }
  }

  private final Path root;

  public PodJournals(Path stateDir) {
    this.root = stateDir.toAbsolutePath().normalize().resolve("pods");
  }

  public Path root() {
    return root;
  }

  /**
   * The journal of the pod namespace the calling thread is in, which must be {@code key}'s (the
   * runner's worker, entered): the one recorded for who this namespace is now, or a journal
   * written before identities were recorded.
   *
   * @param path how the namespace was reached (recorded with it, for the reader)
   */
  public OriginalsJournal inside(Key key, Path path) throws IOException {
    OriginalsJournal legacy = legacy(key);
    if (Files.exists(legacy.file())) {
      return legacy;
    }
    NetNamespace.Identity id = NetNamespace.currentIdentity();
    if (id.inode() != key.inode()) {
      throw new IOException("the journal of net:[" + key.inode() + "] opened from net:[" + id.inode() + "]");
    }
    return OriginalsJournal.forNamespace(dir(key), new OriginalsJournal.Netns(id, path.toAbsolutePath().toString()));
  }

  /** True when originals are on record for this pod namespace. */
  public boolean exists(Key key) {
    return Files.exists(legacy(key).file()) || Files.exists(byInode(key).file());
  }

  private Path dir(Key key) {
    return root.resolve(key.dirName());
  }

  private OriginalsJournal legacy(Key key) {
    return new OriginalsJournal(dir(key));
  }

  private OriginalsJournal byInode(Key key) {
    return OriginalsJournal.ofNamespaceInode(dir(key), key.inode());
  }

  /** Every pod namespace with a directory here (a journal, or what is left of one). */
  public List<Key> list() throws IOException {
    List<Key> out = new ArrayList<>();
    try (DirectoryStream<Path> dirs = Files.newDirectoryStream(root)) {
      for (Path d : dirs) {
        Key.parse(d.getFileName().toString()).ifPresent(out::add);
      }
    } catch (NoSuchFileException e) {
      return List.of();
    }
    return out;
  }

  /** Forgets a pod namespace that is gone (or was replaced): its journal, lock and directory. */
  public void drop(Key key) throws IOException {
    byInode(key).discard();
    legacy(key).discard(); // the last one removes the directory
  }
}
