package io.tcptuning.api.v1alpha1;

/** The outcome for one sysctl on one node. */
public enum SysctlState {
  /** Written (or already at the desired value) and verified. */
  Applied,
  /** Already at the desired value before the agent touched anything. */
  Unchanged,
  /** Not written: unsafe or unsupported here; see the reason. */
  Refused,
  /** The write failed or did not read back. */
  Failed,
  /** Someone changed it after it was applied; the agent put it back. */
  Drifted,
  /** DryRun: would be changed. */
  Planned
}
