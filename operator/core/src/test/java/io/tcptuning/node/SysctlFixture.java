package io.tcptuning.node;

import io.tcptuning.domain.Sysctl;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.Map;

/**
 * A stand-in for /proc/sys under a temporary directory, holding the allowlisted files with the
 * values a 6.x kernel shows in a fresh namespace (tcp_tw_recycle absent, as since 4.12).
 */
final class SysctlFixture {
  static final Map<Sysctl, String> KERNEL_DEFAULTS = new EnumMap<>(Sysctl.class);

  static {
    KERNEL_DEFAULTS.put(Sysctl.TCP_TW_REUSE, "2");
    KERNEL_DEFAULTS.put(Sysctl.TCP_TIMESTAMPS, "1");
    KERNEL_DEFAULTS.put(Sysctl.IP_LOCAL_PORT_RANGE, "32768\t60999");
    KERNEL_DEFAULTS.put(Sysctl.TCP_FIN_TIMEOUT, "60");
    KERNEL_DEFAULTS.put(Sysctl.TCP_MAX_TW_BUCKETS, "131072");
    KERNEL_DEFAULTS.put(Sysctl.SOMAXCONN, "4096");
    KERNEL_DEFAULTS.put(Sysctl.TCP_MAX_SYN_BACKLOG, "2048");
  }

  final Path root;

  SysctlFixture(Path root) throws IOException {
    this.root = root;
    for (var e : KERNEL_DEFAULTS.entrySet()) {
      set(e.getKey(), e.getValue());
    }
  }

  ProcSysctls sysctls() {
    return new ProcSysctls(root);
  }

  Path file(Sysctl s) {
    return root.resolve(s.procPath());
  }

  /** Writes the file as the kernel shows it (value plus newline). */
  void set(Sysctl s, String raw) throws IOException {
    Files.createDirectories(file(s).getParent());
    Files.writeString(file(s), raw + "\n", StandardCharsets.US_ASCII);
  }

  /** The raw file content, newline stripped; null when the file does not exist. */
  String raw(Sysctl s) throws IOException {
    Path f = file(s);
    return Files.exists(f) ? Files.readString(f, StandardCharsets.US_ASCII).stripTrailing() : null;
  }

  /** Makes the file a symlink to a regular file elsewhere: reads follow it, writes must not. */
  Path symlink(Sysctl s, Path elsewhere) throws IOException {
    Path target = elsewhere.resolve(s.procPath().replace('/', '_'));
    Files.writeString(target, raw(s) + "\n");
    Files.delete(file(s));
    Files.createSymbolicLink(file(s), target);
    return target;
  }
}
