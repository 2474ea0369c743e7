package io.tcptuning.cli;

import io.tcptuning.policy.InvalidPolicyException;
import io.tcptuning.policy.PolicyReader;
import io.tcptuning.api.v1alpha1.TcpTuningPolicy;
import io.tcptuning.node.OriginalsJournal;
import io.tcptuning.node.ProcSysctls;
import io.tcptuning.node.SysctlApplier;
import java.nio.file.Path;
import java.util.Optional;
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
      return new SysctlApplier(new ProcSysctls(), new OriginalsJournal(stateDir));
    }
  }
}
