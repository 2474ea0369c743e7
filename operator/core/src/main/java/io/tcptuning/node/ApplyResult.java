package io.tcptuning.node;

import io.tcptuning.domain.Plan;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * The outcome of one apply.
 *
 * @param plan the plan that was carried out, made from the values read under the journal lock
 * @param sysctls one outcome per plan line, in plan order
 * @param givenBack sysctls restored to their originals before the plan: dropped from the policy,
 *     or journaled by the previous owner on a handover
 * @param previousOwner the policy that owned the node before a handover
 * @param failure why the run failed (everything it wrote was rolled back), empty on success
 * @param persisted the sysctl.d file this run wrote the values in place to ({@code --persist})
 * @param removedPersisted the previous owner's sysctl.d file, removed on a handover
 */
public record ApplyResult(
    String policy,
    Plan plan,
    List<SysctlOutcome> sysctls,
    List<SysctlOutcome> givenBack,
    Optional<String> previousOwner,
    Optional<String> failure,
    Optional<Path> persisted,
    Optional<Path> removedPersisted) {
  public ApplyResult {
    sysctls = List.copyOf(sysctls);
    givenBack = List.copyOf(givenBack);
  }

  /** True when everything the plan did not refuse is in place. */
  public boolean succeeded() {
    return failure.isEmpty();
  }
}
