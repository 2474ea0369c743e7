package io.tcptuning.cli;

import io.tcptuning.policy.InvalidPolicyException;
import io.tcptuning.policy.PolicyReader;
import io.tcptuning.api.v1alpha1.TcpTuningPolicy;
import io.tcptuning.domain.Sysctl;
import io.tcptuning.node.OriginalsJournal;
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

    /** The applier of this machine's namespace, journaling in the state directory. */
    SysctlApplier applier() {
      return new SysctlApplier(new ProcSysctls(), journal());
    }

    OriginalsJournal journal() {
      return new OriginalsJournal(stateDir);
    }

    /** Why this process may not write these sysctls or the state directory: see {@link WriteAccess}. */
    Optional<String> writeDenied(Set<Sysctl> toWrite) throws IOException {
      return WriteAccess.denied(toWrite, new ProcSysctls(), stateDir);
    }
  }
}
