package io.tcptuning.node;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * The outcome of a revert.
 *
 * @param owner the policy the journal belonged to (empty when there was none)
 * @param sysctls one outcome per journaled sysctl
 * @param removedPersisted the sysctl.d file of {@code apply --persist} that was removed
 */
public record RevertResult(
    Outcome outcome, Optional<String> owner, List<SysctlOutcome> sysctls, String message, Optional<Path> removedPersisted) {
  public RevertResult {
    sysctls = List.copyOf(sysctls);
  }

  public enum Outcome {
    /** Every journaled original is back and the journal is gone. */
    Reverted,
    /** No journal: nothing was ever changed, or it was already reverted. */
    NothingToRevert,
    /** The journal belongs to another policy: nothing was touched. */
    OwnedByAnotherPolicy,
    /**
     * Everything put back except sysctls someone changed after the apply: those are left as they
     * are and the journal keeps their originals.
     */
    ChangedByHand,
    /** Some original could not be put back; the journal keeps those. */
    Failed
  }

  /** True unless an original could not be put back. */
  public boolean succeeded() {
    return outcome != Outcome.Failed;
  }
}
