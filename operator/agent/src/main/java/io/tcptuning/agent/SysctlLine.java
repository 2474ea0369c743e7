package io.tcptuning.agent;

import io.tcptuning.api.v1alpha1.SysctlState;
import io.tcptuning.api.v1alpha1.TcpTuningNodeStateStatus.SysctlStatus;
import io.tcptuning.domain.Plan;
import io.tcptuning.domain.PlannedSysctl;
import io.tcptuning.domain.Sysctl;
import io.tcptuning.node.ApplyResult;
import io.tcptuning.node.SysctlOutcome;
import java.util.List;
import java.util.Map;

/**
 * What the agent knows of one sysctl of its policy: the agent's working state, turned into the
 * node state's wire form only when it reports ({@link #toStatus()}).
 *
 * @param original the value before this project first wrote it (from the journal)
 * @param actual the value read back; null when the file does not exist here
 */
record SysctlLine(
    Sysctl sysctl, String original, String desired, String actual, SysctlState state, String reason, String message) {

  static final String DRIFT_CORRECTED = "DriftCorrected";

  /** The policy's value is in place (whether this run wrote it or found it so). */
  boolean inPlace() {
    return state == SysctlState.Applied || state == SysctlState.Unchanged || state == SysctlState.Drifted;
  }

  /** This line after someone else changed the value to {@code found} and the agent put it back. */
  SysctlLine driftCorrected(String found) {
    return new SysctlLine(sysctl, original, desired, actual, SysctlState.Drifted, DRIFT_CORRECTED,
        "found " + found + ", put back to " + desired);
  }

  SysctlStatus toStatus() {
    return new SysctlStatus(sysctl.dottedName(), original, desired, actual, state, reason, message);
  }

  static List<SysctlStatus> toStatuses(List<SysctlLine> lines) {
    return lines.stream().map(SysctlLine::toStatus).toList();
  }

  /** DryRun: what would happen, nothing written. */
  static List<SysctlLine> fromPlan(Plan plan) {
    return plan.sysctls().stream().map(SysctlLine::planned).toList();
  }

  private static SysctlLine planned(PlannedSysctl p) {
    SysctlState st = switch (p.action()) {
      case Change -> SysctlState.Planned;
      case Keep -> SysctlState.Unchanged;
      case Refuse -> SysctlState.Refused;
    };
    return new SysctlLine(p.sysctl(), p.current(), p.desired(), p.current(), st, p.reason(), p.message());
  }

  /** Enforce: what the applier did, with the originals it journaled. */
  static List<SysctlLine> fromApply(ApplyResult result, Map<Sysctl, String> originals) {
    return result.sysctls().stream().map(o -> applied(o, originals.getOrDefault(o.sysctl(), o.before()))).toList();
  }

  private static SysctlLine applied(SysctlOutcome o, String original) {
    SysctlState st = switch (o.status()) {
      case Applied -> SysctlState.Applied;
      case AlreadySet, Restored -> SysctlState.Unchanged;
      case Refused, Missing -> SysctlState.Refused;
      case Failed, RolledBack, NotAttempted -> SysctlState.Failed;
      // Only a give-back leaves a sysctl alone, and given-back sysctls are not plan lines.
      case ChangedByHand -> SysctlState.Unchanged;
    };
    return new SysctlLine(o.sysctl(), original, o.target(), o.after(), st, o.reason(), o.message());
  }
}
