package io.tcptuning.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import java.util.Objects;

/**
 * Pods a policy's podSelector and namespaceSelector select (hostNetwork pods excluded: they share
 * the node's namespace), and of those, how many are tuned, refused or failed. A pod with some
 * sysctls refused and the rest applied counts as tuned and as refused.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class PodCounts {
  @JsonPropertyDescription("Running pods with a network namespace of their own that the policy selects.")
  private int selected;

  @JsonPropertyDescription("Selected pods whose namespace holds the policy's values, verified by reading back (or planned, in DryRun).")
  private int tuned;

  @JsonPropertyDescription("Selected pods where at least one sysctl was refused (unsafe, unsupported, or declared by the pod itself).")
  private int refused;

  @JsonPropertyDescription("Selected pods where a write failed or did not verify.")
  private int failed;

  public PodCounts() {}

  public PodCounts(int selected, int tuned, int refused, int failed) {
    this.selected = selected;
    this.tuned = tuned;
    this.refused = refused;
    this.failed = failed;
  }

  public int getSelected() {
    return selected;
  }

  public void setSelected(int selected) {
    this.selected = selected;
  }

  public int getTuned() {
    return tuned;
  }

  public void setTuned(int tuned) {
    this.tuned = tuned;
  }

  public int getRefused() {
    return refused;
  }

  public void setRefused(int refused) {
    this.refused = refused;
  }

  public int getFailed() {
    return failed;
  }

  public void setFailed(int failed) {
    this.failed = failed;
  }

  /** The sum of two counts (the operator adds up the nodes' counts). */
  public PodCounts plus(PodCounts other) {
    return other == null
        ? this
        : new PodCounts(selected + other.selected, tuned + other.tuned, refused + other.refused, failed + other.failed);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof PodCounts c && selected == c.selected && tuned == c.tuned && refused == c.refused && failed == c.failed;
  }

  @Override
  public int hashCode() {
    return Objects.hash(selected, tuned, refused, failed);
  }

  @Override
  public String toString() {
    return "PodCounts{selected=" + selected + ", tuned=" + tuned + ", refused=" + refused + ", failed=" + failed + "}";
  }
}
