package io.tcptuning.node.netns;

import io.tcptuning.node.NetNamespace;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;

/**
 * Finds the network namespaces on the node: every {@code /proc/<pid>/ns/net} deduplicated by
 * inode (readlink gives {@code net:[INODE]}, cheaper than a stat), plus the bind mounts under
 * {@code /run/netns} and {@code /var/run/netns} (containerd's CNI names them {@code cni-<uuid>};
 * {@code ip netns add} puts its names there). Processes that exit during the scan, or whose link
 * this process may not read, are skipped. Only thread-group leaders are looked at: a thread that
 * setns(2)'d on its own is not seen.
 *
 * <p>Meant to run every second or so: one directory listing of /proc and one readlink per
 * process, no file is opened.
 */
public final class NetnsScanner {
  public static final Path PROC = Path.of("/proc");
  public static final List<Path> DEFAULT_BIND_MOUNT_DIRS = List.of(Path.of("/run/netns"), Path.of("/var/run/netns"));

  private final Path procRoot;
  private final String procPrefix;
  private final List<Path> bindMountDirs;

  /** Scans /proc, /run/netns and /var/run/netns. */
  public NetnsScanner() {
    this(PROC, DEFAULT_BIND_MOUNT_DIRS);
  }

  /**
   * @param procRoot where /proc is (a fixture directory in tests)
   * @param bindMountDirs directories holding namespace bind mounts; missing ones are skipped, and
   *     one that is another's alias (/var/run is usually a link to /run) is read once
   */
  public NetnsScanner(Path procRoot, List<Path> bindMountDirs) {
    this.procRoot = procRoot;
    this.procPrefix = procRoot.toString().endsWith("/") ? procRoot.toString() : procRoot + "/";
    this.bindMountDirs = List.copyOf(bindMountDirs);
  }

  /** The inode of this process's network namespace (that of its main thread). */
  public long hostInode() throws IOException {
    return NetNamespace.linkInode(procRoot.resolve("self/ns/net"));
  }

  /**
   * One pass over /proc and the bind-mount directories: each namespace once, the host's first,
   * then by lowest PID, then namespaces held only by bind mounts by inode.
   *
   * @throws IOException when /proc itself cannot be listed or this process's namespace cannot be
   *     read
   */
  public List<NetnsRef> scan() throws IOException {
    long host = hostInode();
    Map<Long, Found> byInode = new HashMap<>();
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(procRoot)) {
      for (Path p : entries) {
        String name = p.getFileName().toString();
        int pid = pid(name);
        if (pid <= 0) {
          continue;
        }
        String target;
        try {
          target = Files.readSymbolicLink(Path.of(procPrefix + name + "/ns/net")).toString();
        } catch (IOException | SecurityException e) {
          // Exited since the listing (no such file), a kernel without the link, or not ours to read.
          continue;
        }
        OptionalLong ino = NetNamespace.parseLink(target);
        if (ino.isPresent()) {
          byInode.computeIfAbsent(ino.getAsLong(), k -> new Found()).pids.add(pid);
        }
      }
    }
    scanBindMounts(byInode);
    List<NetnsRef> refs = new ArrayList<>(byInode.size());
    for (var e : byInode.entrySet()) {
      Found f = e.getValue();
      f.pids.sort(null);
      Path entry = !f.bindMounts.isEmpty() ? f.bindMounts.getFirst() : Path.of(procPrefix + f.pids.getFirst() + "/ns/net");
      refs.add(new NetnsRef(e.getKey(), entry, f.pids, f.bindMounts, e.getKey() == host));
    }
    refs.sort(
        Comparator.comparing((NetnsRef r) -> !r.host())
            .thenComparing(r -> r.pids().isEmpty())
            .thenComparingInt(NetnsRef::lowestPid)
            .thenComparingLong(NetnsRef::inode));
    return refs;
  }

  private void scanBindMounts(Map<Long, Found> byInode) {
    Long nsfsDevice = null;
    List<Path> seenDirs = new ArrayList<>();
    for (Path dir : bindMountDirs) {
      Path real;
      try {
        real = dir.toRealPath();
      } catch (IOException e) {
        continue; // no such directory: nothing mounted there
      }
      if (seenDirs.contains(real)) {
        continue;
      }
      seenDirs.add(real);
      try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
        for (Path file : files) {
          if (nsfsDevice == null) {
            nsfsDevice = nsfsDevice();
          }
          try {
            Map<String, Object> attrs = Files.readAttributes(file, "unix:dev,ino");
            long dev = ((Number) attrs.get("dev")).longValue();
            // `ip netns add` that failed halfway, or a name being deleted, leaves a plain empty
            // file: only a file on nsfs is a namespace.
            if (nsfsDevice == null || dev != nsfsDevice) {
              continue;
            }
            long ino = ((Number) attrs.get("ino")).longValue();
            byInode.computeIfAbsent(ino, k -> new Found()).bindMounts.add(file);
          } catch (IOException | RuntimeException e) {
            // Unmounted and removed since the listing.
          }
        }
      } catch (IOException e) {
        // Unreadable directory: its namespaces are still found through their processes.
      }
    }
  }

  /** The device of nsfs, the filesystem every namespace inode lives on. */
  private static Long nsfsDevice() {
    try {
      return ((Number) Files.getAttribute(Path.of("/proc/self/ns/net"), "unix:dev")).longValue();
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }

  /** The PID a /proc entry name stands for, or -1 if it is not all digits. */
  static int pid(String name) {
    int len = name.length();
    if (len == 0 || len > 9) {
      return -1;
    }
    int v = 0;
    for (int i = 0; i < len; i++) {
      char c = name.charAt(i);
      if (c < '0' || c > '9') {
        return -1;
      }
      v = v * 10 + (c - '0');
    }
    return v;
  }

  private static final class Found {
    final List<Integer> pids = new ArrayList<>(4);
    final List<Path> bindMounts = new ArrayList<>(1);
  }
}
