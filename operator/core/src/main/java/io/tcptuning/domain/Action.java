package io.tcptuning.domain;

/** What the plan does with one sysctl. */
public enum Action {
  /** Write the desired value. */
  Change,
  /** Already at the desired value: nothing to write. */
  Keep,
  /** Not written: unsafe or unsupported here. */
  Refuse
}
