package io.tcptuning.agent.pods;

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
 * outlives a sandbox that is recreated; together they can never restore one pod's originals into
 * another pod, or into a namespace the originals were not read from.
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

  public OriginalsJournal journal(Key key) {
    return new OriginalsJournal(root.resolve(key.dirName()));
  }

  /** True when originals are on record for this pod namespace. */
  public boolean exists(Key key) {
    return Files.exists(journal(key).file());
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

  /** Forgets a pod namespace that is gone: its journal, lock and directory. */
  public void drop(Key key) throws IOException {
    journal(key).discard();
  }
}
