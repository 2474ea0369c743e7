package io.tcptuning.cli;

import io.tcptuning.node.netns.NetnsRef;
import io.tcptuning.node.netns.PodCgroups;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Which pod a network namespace belongs to, without a cluster: the pod UID from the cgroup of a
 * process in it ({@link PodCgroups}), and the pod's namespace and name from the directory kubelet
 * keeps its logs in, {@code /var/log/pods/<namespace>_<name>_<uid>} (namespace and pod names
 * never contain '_').
 */
final class PodDirectory {
  static final Path POD_LOGS = Path.of("/var/log/pods");

  /** A pod; namespace and name are null when only the UID is known (no log directory for it). */
  record Pod(String namespace, String name, String uid) {
    String shown() {
      return name == null ? "uid " + uid : namespace + "/" + name;
    }
  }

  private static final Pattern LOG_DIR = Pattern.compile("([a-z0-9.-]{1,253})_([a-z0-9.-]{1,253})_([0-9a-f-]{32,36})");

  private final Path procRoot;
  private final Map<String, Pod> byUid;

  private PodDirectory(Path procRoot, Map<String, Pod> byUid) {
    this.procRoot = procRoot;
    this.byUid = byUid;
  }

  /** Reads the pod log directories once; a missing root (no kubelet here) knows no names. */
  static PodDirectory read(Path procRoot, Path podLogs) {
    Map<String, Pod> byUid = new HashMap<>();
    try (DirectoryStream<Path> dirs = Files.newDirectoryStream(podLogs)) {
      for (Path dir : dirs) {
        var m = LOG_DIR.matcher(dir.getFileName().toString());
        if (m.matches()) {
          byUid.put(m.group(3), new Pod(m.group(1), m.group(2), m.group(3)));
        }
      }
    } catch (IOException e) {
      // Not a Kubernetes node, or not readable: pods are shown by UID only.
    }
    return new PodDirectory(procRoot, byUid);
  }

  /** The pod of the first process in {@code ref} whose cgroup names one; empty for the node's own and for others. */
  Optional<Pod> pod(NetnsRef ref) {
    if (ref.host()) {
      return Optional.empty(); // hostNetwork pods share it: it is the node's, not theirs
    }
    // The pod sandbox (pause) is usually the lowest PID; a few more cover a sandbox that exited.
    for (int pid : ref.pids().subList(0, Math.min(8, ref.pids().size()))) {
      Optional<String> uid = PodCgroups.podUid(procRoot, pid);
      if (uid.isPresent()) {
        return Optional.of(byUid.getOrDefault(uid.get(), new Pod(null, null, uid.get())));
      }
    }
    return Optional.empty();
  }
}
