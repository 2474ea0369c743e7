package io.tcptuning.api.v1alpha1;

/** What the agents do with a policy. */
public enum Mode {
  /** Measure, plan, write the sysctls, verify them. */
  Enforce,
  /** Measure and plan only; nothing is written. */
  DryRun
}
