package io.tcptuning.node.netns;

import io.tcptuning.node.NetNamespace;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The one reader of a network-namespace path given by a user ({@code --netns PATH}): which forms
 * are accepted, and the {@link NetnsRef} it names right now.
 */
public final class NetnsPath {
  /** For messages: what {@link #problem} accepts. */
  public static final String ACCEPTED = "/run/netns/NAME, /var/run/netns/NAME or /proc/PID/ns/net";

  private static final Pattern BIND_MOUNT = Pattern.compile("/(?:var/)?run/netns/([A-Za-z0-9_.@:+-]{1,255})");
  private static final Pattern PROC = Pattern.compile("/proc/([1-9][0-9]{0,8}|self|thread-self)/ns/net");

  private NetnsPath() {}

  /** Why {@code path} is not an accepted form, or empty when it is. */
  public static Optional<String> problem(String path) {
    if (path == null || path.isEmpty()) {
      return Optional.of("a path is required; accepted: " + ACCEPTED);
    }
    Matcher bind = BIND_MOUNT.matcher(path);
    if (bind.matches() && !bind.group(1).equals(".") && !bind.group(1).equals("..")) {
      return Optional.empty();
    }
    if (PROC.matcher(path).matches()) {
      return Optional.empty();
    }
    return Optional.of("'" + path.replace("\n", "\\n") + "' is not a network namespace path; accepted: " + ACCEPTED);
  }

  /**
   * The namespace {@code path} names now: its inode read from an open descriptor, whether it is
   * this process's own, and the PID when the path is {@code /proc/PID/ns/net}.
   *
   * @throws IllegalArgumentException the path is not an accepted form ({@link #problem})
   * @throws NoSuchFileException no such bind mount or process
   * @throws AccessDeniedException no permission to open it
   * @throws IOException it exists but is not a network namespace
   */
  public static NetnsRef resolve(String path) throws IOException {
    Optional<String> problem = problem(path);
    if (problem.isPresent()) {
      throw new IllegalArgumentException(problem.get());
    }
    long inode;
    try (NetNamespace.Handle h = NetNamespace.Handle.open(Path.of(path))) {
      inode = h.inode();
    }
    long self = NetNamespace.linkInode(Path.of("/proc/self/ns/net"));
    Matcher proc = PROC.matcher(path);
    List<Integer> pids = List.of();
    List<Path> bindMounts = List.of(Path.of(path));
    if (proc.matches()) {
      bindMounts = List.of();
      String who = proc.group(1);
      pids = who.chars().allMatch(Character::isDigit) ? List.of(Integer.parseInt(who)) : List.of((int) ProcessHandle.current().pid());
    }
    return new NetnsRef(inode, Path.of(path), pids, bindMounts, inode == self);
  }
}
