package io.tcptuning.node;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Where the network files of /proc are for the calling thread. {@code /proc/thread-self/net}
 * shows the namespace of this very thread (one that called setns(2) sees its new namespace),
 * {@code /proc/self/net} that of the process's main thread; older kernels (before 3.17) only have
 * the latter.
 */
public final class ProcNet {
  public static final Path PROC = Path.of("/proc");

  private ProcNet() {}

  /** The net directory under {@code procRoot}: thread-self/net, else self/net, else net. */
  public static Path netDir(Path procRoot) {
    for (String candidate : new String[] {"thread-self/net", "self/net"}) {
      Path dir = procRoot.resolve(candidate);
      if (Files.isDirectory(dir)) {
        return dir;
      }
    }
    return procRoot.resolve("net");
  }

  /** The calling thread's net directory under the real /proc. */
  public static Path netDir() {
    return netDir(PROC);
  }
}
