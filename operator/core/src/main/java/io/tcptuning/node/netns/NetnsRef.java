package io.tcptuning.node.netns;

import java.nio.file.Path;
import java.util.List;

/**
 * One network namespace found on the node.
 *
 * @param inode the namespace's identity ({@code stat -L -c %i /proc/PID/ns/net}); PIDs and paths
 *     are only ways in, checked against it on every entry
 * @param entry the path to enter it by: a bind mount under /run/netns or /var/run/netns if there
 *     is one (it outlives processes), else {@code /proc/<lowest pid>/ns/net}
 * @param pids the processes (thread-group leaders) in it, ascending; empty for a namespace held
 *     only by a bind mount
 * @param bindMounts the bind mounts that hold it, in the order the directories were given
 * @param host true for the namespace of this process: the node's own when the agent runs with
 *     hostNetwork. The pod path never writes it.
 */
public record NetnsRef(long inode, Path entry, List<Integer> pids, List<Path> bindMounts, boolean host) {
  public NetnsRef {
    pids = List.copyOf(pids);
    bindMounts = List.copyOf(bindMounts);
  }

  /** The lowest PID in the namespace (the pod sandbox's pause process, usually), or -1. */
  public int lowestPid() {
    return pids.isEmpty() ? -1 : pids.getFirst();
  }

  /** {@code net:[INODE]}, as readlink of /proc/PID/ns/net prints it. */
  public String label() {
    return "net:[" + inode + "]";
  }
}
