package io.tcptuning.cli;

import io.tcptuning.node.IoErrors;
import io.tcptuning.node.NetNamespace;
import io.tcptuning.node.OriginalsJournal;
import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Optional;
import java.util.regex.Pattern;
import picocli.CommandLine.Option;

/**
 * {@code --netns PATH} of plan, apply and revert: the command's kernel reads and writes happen on
 * a thread of their own that entered that network namespace (checked by inode), and apply and
 * revert use that namespace's own journal in the state directory. Without it, the command works
 * on the namespace it runs in, as always.
 */
final class NetnsOption {
  static final String ACCEPTED = "/run/netns/NAME or /proc/PID/ns/net";
  private static final Pattern NAMED = Pattern.compile("^(/var)?/run/netns/([\\x21-\\x2e\\x30-\\x7e]{1,255})$");
  private static final Pattern PROC = Pattern.compile("^/proc/[1-9][0-9]{0,9}/ns/net$");

  @Option(names = "--netns", paramLabel = "PATH",
      description = "Work in this network namespace instead of the current one: " + ACCEPTED + ".")
  String path;

  /** The work of a command, given the namespace it runs in (empty: the process's own). */
  interface Body {
    int run(Optional<OriginalsJournal.Netns> netns) throws Exception;
  }

  boolean given() {
    return path != null;
  }

  /** Why PATH is not one of the accepted forms (exit 2), or empty. */
  Optional<String> invalid() {
    if (path == null) {
      return Optional.empty();
    }
    var named = NAMED.matcher(path);
    boolean ok = (named.matches() && !named.group(2).equals(".") && !named.group(2).equals("..")) || PROC.matcher(path).matches();
    return ok ? Optional.empty()
        : Optional.of("--netns: expected " + ACCEPTED + ", got " + io.tcptuning.domain.PolicyValidator.quote(path));
  }

  /**
   * Runs the body in the namespace, on a thread that entered it and ends with the body; without
   * --netns, right here. Bad PATH exits 2, a namespace that cannot be entered 1.
   */
  int run(ErrorOutput errors, Body body) throws Exception {
    if (path == null) {
      return body.run(Optional.empty());
    }
    Optional<String> bad = invalid();
    if (bad.isPresent()) {
      return errors.fail(Main.EXIT_INVALID, bad.get());
    }
    Path ns = Path.of(path);
    long inode;
    try {
      inode = NetNamespace.inode(ns);
    } catch (NoSuchFileException e) {
      return errors.fail(Main.EXIT_FAILED, "cannot enter --netns " + path + ": no such namespace");
    } catch (IOException e) {
      return errors.fail(Main.EXIT_FAILED, "cannot enter --netns " + path + ": " + IoErrors.describe(e));
    }
    if (inode == NetNamespace.inode(Path.of("/proc/self/ns/net"))) {
      return errors.fail(Main.EXIT_INVALID,
          "--netns " + path + " is net:[" + inode + "], the namespace this command runs in: leave --netns out");
    }
    try {
      return NetNamespace.callInside(ns, inode, () -> body.run(Optional.of(new OriginalsJournal.Netns(NetNamespace.currentIdentity(), path))));
    } catch (NetNamespace.EntryFailedException e) {
      return errors.fail(Main.EXIT_FAILED, "cannot enter --netns " + path + ": " + e.getMessage());
    }
  }

  /** The inode at PATH now, or empty when nothing is there. */
  Optional<Long> inodeNow() {
    try {
      return Optional.of(NetNamespace.inode(Path.of(path)));
    } catch (IOException e) {
      return Optional.empty();
    }
  }
}
