package io.tcptuning.node;

import io.tcptuning.domain.KernelVersion;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;

/** The running kernel's release, from {@code /proc/sys/kernel/osrelease}. */
public final class KernelRelease {
  public static final Path OSRELEASE = Path.of("/proc/sys/kernel/osrelease");

  private KernelRelease() {}

  /** This machine's kernel; unknown when the file cannot be read. */
  public static KernelVersion read() {
    return read(OSRELEASE);
  }

  /** The release in {@code file}; unknown (no major/minor) when unreadable or unparsable. */
  public static KernelVersion read(Path file) {
    try {
      return KernelVersion.parse(ProcFiles.read(file));
    } catch (IOException | UncheckedIOException | SecurityException e) {
      return KernelVersion.parse("");
    }
  }
}
