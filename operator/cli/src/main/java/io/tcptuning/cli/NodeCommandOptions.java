package io.tcptuning.cli;

import io.tcptuning.policy.InvalidPolicyException;
import io.tcptuning.policy.PolicyReader;
import io.tcptuning.api.v1alpha1.TcpTuningPolicy;
import io.tcptuning.domain.Sysctl;
import io.tcptuning.node.OriginalsJournal;
import io.tcptuning.node.PersistedSysctls;
import io.tcptuning.node.ProcSysctls;
import io.tcptuning.node.SysctlApplier;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;
import java.util.Set;
import picocli.CommandLine.Option;

/** Options the node commands share, as picocli mixins. */
final class NodeCommandOptions {
  private NodeCommandOptions() {}

  /** {@code -f POLICY}: the manifest users {@code kubectl apply}, read strictly. */
  static final class PolicyFile {
    @Option(names = {"-f", "--filename"}, required = true, paramLabel = "POLICY",
        description = "TcpTuningPolicy manifest, YAML or JSON; - reads standard input.")
    String file;

    /** The policy, or empty after saying why not (exit 2). */
    Optional<TcpTuningPolicy> read(ErrorOutput errors) {
      try {
        return Optional.of(new PolicyReader().read(file));
      } catch (InvalidPolicyException e) {
        errors.invalidPolicy(e);
        return Optional.empty();
      }
    }
  }

  /** {@code --state-dir DIR}: where the originals journal lives. */
  static final class StateDir {
    @Option(names = "--state-dir", paramLabel = "DIR", description = "Where the originals journal lives (default: ${DEFAULT-VALUE}).")
    Path stateDir = OriginalsJournal.DEFAULT_STATE_DIR;

    /**
     * The applier of the calling thread's namespace, journaling in the state directory: in the
     * node's journal, or in that of the --netns namespace.
     */
    SysctlApplier applier(Optional<OriginalsJournal.Netns> netns) {
      return new SysctlApplier(new ProcSysctls(), journal(netns));
    }

    OriginalsJournal journal(Optional<OriginalsJournal.Netns> netns) {
      return netns.map(n -> OriginalsJournal.forNamespace(stateDir, n)).orElseGet(() -> new OriginalsJournal(stateDir));
    }

    /** Why this process may not write these sysctls or the state directory: see {@link WriteAccess}. */
    Optional<String> writeDenied(Set<Sysctl> toWrite, Optional<Path> sysctlDir) throws IOException {
      return WriteAccess.denied(toWrite, new ProcSysctls(), stateDir, sysctlDir);
    }
  }

  /** {@code --persist} and {@code --sysctl-dir DIR} of apply. */
  static final class Persist {
    @Option(names = "--persist",
        description = "Also write the values to a file named 90-tcptune-POLICY.conf in /etc/sysctl.d (or --sysctl-dir),"
            + " so that they are set again at boot; revert removes it. Not with --netns.")
    boolean persist;

    @Option(names = "--sysctl-dir", paramLabel = "DIR",
        description = "The directory --persist writes its file to, /etc/sysctl.d unless given.")
    Path sysctlDir = PersistedSysctls.DEFAULT_DIR;

    /** The target of --persist, or empty without it. */
    Optional<PersistedSysctls.Target> target() {
      return persist ? Optional.of(new PersistedSysctls.Target(sysctlDir.toAbsolutePath().normalize(), new Main.Version().getVersion()[0]))
          : Optional.empty();
    }

    /** Why these options cannot be used (exit 2), or empty. */
    Optional<String> invalid(boolean netns) {
      String dir = sysctlDir.toString();
      if (!dir.chars().allMatch(c -> c > 0x20 && c <= 0x7e)) {
        return Optional.of("--sysctl-dir: must be a path of printable ASCII without spaces, got " + io.tcptuning.domain.PolicyValidator.quote(dir));
      }
      if (persist && netns) {
        return Optional.of("--persist: cannot be combined with --netns (files in /etc/sysctl.d set the host's namespace at boot;"
            + " a namespace made later starts from kernel defaults)");
      }
      return Optional.empty();
    }
  }
}
