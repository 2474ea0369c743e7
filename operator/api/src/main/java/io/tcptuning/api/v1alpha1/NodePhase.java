package io.tcptuning.api.v1alpha1;

/** Where a node stands with the policy its agent serves. */
public enum NodePhase {
  /** Every sysctl not refused is in place and verified. */
  Applied,
  /** DryRun: measured and planned, nothing written. */
  Planned,
  /** A write failed or did not verify; what the run wrote was rolled back. */
  Failed,
  /** Another policy of higher priority tunes this node; this agent writes nothing. */
  Superseded,
  /** The policy let go of this node and the journaled originals are back. */
  Reverted
}
