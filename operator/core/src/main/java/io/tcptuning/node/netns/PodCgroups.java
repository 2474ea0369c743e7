package io.tcptuning.node.netns;

import io.tcptuning.node.ProcFiles;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The pod a process belongs to, from its {@code /proc/<pid>/cgroup}: kubelet puts every pod's
 * containers under a cgroup named after the pod's UID.
 *
 * <ul>
 *   <li>systemd driver: {@code /kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod<uid
 *       with _ for ->.slice/cri-containerd-<id>.scope} (CRI-O: {@code crio-<id>.scope}); Guaranteed
 *       pods have no QoS level: {@code kubepods-pod<uid>.slice};
 *   <li>cgroupfs driver: {@code /kubepods/burstable/pod<uid>/<container id>}, Guaranteed {@code
 *       /kubepods/pod<uid>/<container id>};
 *   <li>cgroup v1 (a line per hierarchy, {@code 4:memory:/kubepods/...}) and v2 (one line,
 *       {@code 0::/kubepods.slice/...}); inside a cgroup namespace the path may start with
 *       {@code /../..}, and kubelet in a container (kind) nests it deeper: the pod's segment is
 *       looked for anywhere in a path that has {@code kubepods} in it.
 * </ul>
 *
 * Pod UIDs are RFC 4122 UUIDs, or for static pods a 32-digit hex hash; both are returned as the
 * API server spells them (dashes, lower case).
 */
public final class PodCgroups {
  private static final String HEX = "[0-9a-fA-F]";
  /** One path segment naming a pod: cgroupfs {@code pod<uid>}, systemd {@code ...-pod<uid_>.slice}. */
  private static final Pattern POD_SEGMENT =
      Pattern.compile(
          "(?:[A-Za-z0-9_.-]+-)?pod("
              + HEX + "{8}[-_]" + HEX + "{4}[-_]" + HEX + "{4}[-_]" + HEX + "{4}[-_]" + HEX + "{12}"
              + "|" + HEX + "{32})(?:\\.slice)?");

  private PodCgroups() {}

  /** The pod UID in the text of a {@code /proc/<pid>/cgroup} file, empty for a process outside any pod. */
  public static Optional<String> podUid(String cgroupFile) {
    for (String line : cgroupFile.split("\n")) {
      // hierarchy-ID:controller-list:cgroup-path; the path may itself contain ':'.
      int first = line.indexOf(':');
      int second = first < 0 ? -1 : line.indexOf(':', first + 1);
      if (second < 0) {
        continue;
      }
      String path = line.substring(second + 1).strip();
      if (!path.contains("kubepods")) {
        continue;
      }
      Optional<String> uid = fromPath(path);
      if (uid.isPresent()) {
        return uid;
      }
    }
    return Optional.empty();
  }

  /** The pod UID of process {@code pid}, read from /proc; empty when it is in no pod or has exited. */
  public static Optional<String> podUid(int pid) {
    return podUid(NetnsScanner.PROC, pid);
  }

  /** As {@link #podUid(int)}, under another /proc root. */
  public static Optional<String> podUid(Path procRoot, int pid) {
    try {
      return podUid(ProcFiles.read(procRoot.resolve(Integer.toString(pid)).resolve("cgroup")));
    } catch (IOException e) {
      return Optional.empty();
    }
  }

  private static Optional<String> fromPath(String path) {
    // The innermost pod segment wins: kubelet in a container nests the whole tree under its own.
    String found = null;
    for (String segment : path.split("/")) {
      Matcher m = POD_SEGMENT.matcher(segment);
      if (m.matches()) {
        found = m.group(1);
      }
    }
    if (found == null) {
      return Optional.empty();
    }
    return Optional.of(found.replace('_', '-').toLowerCase(Locale.ROOT));
  }
}
