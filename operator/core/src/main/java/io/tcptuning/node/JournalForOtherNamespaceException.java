package io.tcptuning.node;

import java.nio.file.Path;

/**
 * The journal keyed by a namespace's inode records another namespace: the one it was written for
 * went away (or the machine rebooted) and the kernel gave its inode to a new one. Nothing is
 * written and the file is kept: its values went with its namespace, and a person decides.
 */
public final class JournalForOtherNamespaceException extends java.io.IOException {
  private final Path file;

  public JournalForOtherNamespaceException(Path file, OriginalsJournal.Netns recorded, OriginalsJournal.Netns now) {
    super("the journal " + file + " is for " + recorded.shown() + " (cookie " + recorded.id().cookie() + ", boot "
        + recorded.id().bootId() + "), but " + now.path() + " is now " + now.id().shown() + " with cookie " + now.id().cookie()
        + ", boot " + now.id().bootId() + ": that namespace is gone or was replaced; nothing was changed. Its values went"
        + " with it: remove the journal by hand once you have checked it");
    this.file = file;
  }

  public Path file() {
    return file;
  }
}
