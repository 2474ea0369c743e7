package io.tcptuning.node;

import io.tcptuning.domain.KernelVersion;
import io.tcptuning.domain.NatVerdict;
import io.tcptuning.domain.Plan;
import io.tcptuning.domain.Sysctl;
import io.tcptuning.domain.TuningPlanner;
import java.util.Collections;
import java.util.EnumMap;
import java.util.Map;
import java.util.Set;

/**
 * Everything a plan needs except the current values: the applier reads those under the journal
 * lock, after giving back what an earlier owner or an earlier version of the policy had set,
 * so that the plan it writes is never made from stale values.
 *
 * @param policy owning policy name (a Kubernetes object name), recorded in the journal
 * @param desired canonical desired values, from {@link TuningPlanner#desired}
 */
public record TuningRequest(
    String policy,
    Map<Sysctl, String> desired,
    KernelVersion kernel,
    NatVerdict nat,
    boolean assumeNat,
    Set<Integer> listeningPorts) {
  public TuningRequest {
    if (!OriginalsJournal.validOwner(policy)) {
      throw new IllegalArgumentException("policy name must be a Kubernetes object name, got " + policy);
    }
    Map<Sysctl, String> copy = new EnumMap<>(Sysctl.class);
    copy.putAll(desired);
    desired = Collections.unmodifiableMap(copy);
    listeningPorts = Set.copyOf(listeningPorts);
  }

  /** The plan for these current values (canonical; a missing key has no file here). */
  public Plan planFor(Map<Sysctl, String> current) {
    return TuningPlanner.plan(new TuningPlanner.Input(desired, current, kernel, nat, assumeNat, listeningPorts));
  }
}
