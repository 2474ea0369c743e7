package io.tcptuning.node;

import io.tcptuning.domain.Sysctl;

/**
 * What happened to one sysctl in an apply or a revert.
 *
 * @param before value when the run started (null: no file)
 * @param target value the run meant to leave (desired, or the original when giving back)
 * @param after value read back at the end (null: no file, or not read)
 * @param reason one CamelCase word; for plan lines, the planner's reason
 * @param message for people; for a sysctl given back, why (revert, handover, dropped)
 */
public record SysctlOutcome(
    Sysctl sysctl, String before, String target, String after, Status status, String reason, String message) {

  public enum Status {
    /** Written and verified. */
    Applied,
    /** Already at the desired value: nothing written. */
    AlreadySet,
    /** Refused by the plan: not written. */
    Refused,
    /** Given back to its journaled original (revert, a dropped sysctl, or a handover). */
    Restored,
    /** The write or its verification failed. */
    Failed,
    /** Written by this run, then put back to its value from before the run. */
    RolledBack,
    /** Journaled, but the file no longer exists: nothing to give back. */
    Missing,
    /** Planned to change, not written because an earlier write of the run failed. */
    NotAttempted,
    /**
     * Not given back: its value is neither the one applied nor the original, so someone changed
     * it after the apply; left as it is ({@code after}), {@code target} the original.
     */
    ChangedByHand
  }
}
