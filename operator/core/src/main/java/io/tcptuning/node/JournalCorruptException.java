package io.tcptuning.node;

import java.io.IOException;
import java.nio.file.Path;

/**
 * The originals journal exists but cannot be trusted (truncated, edited, checksum mismatch,
 * unknown format). Nothing is written and the file is left where it is for a person to inspect.
 */
public final class JournalCorruptException extends IOException {
  private final Path file;

  public JournalCorruptException(Path file, String problem) {
    super("originals journal " + file + " is corrupt: " + problem
        + "; nothing was changed. Check the values it records by hand, restore them if needed,"
        + " then move the file away");
    this.file = file;
  }

  public Path file() {
    return file;
  }
}
