package io.tcptuning.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.ValidationRule;
import io.fabric8.kubernetes.api.model.IntOrString;

@JsonInclude(JsonInclude.Include.NON_NULL)
public class Rollout {

  @JsonPropertyDescription(
      "Most agent pods that may be unavailable during a rollout, as a number (>= 1) or a"
          + " percentage (\"1%\"..\"100%\"). A node that fails to apply stays unavailable and so"
          + " halts the rollout. Default \"10%\".")
  @ValidationRule(
      value = "type(self) == int ? self >= 1 : self.matches('" + PolicyBounds.MAX_UNAVAILABLE_PERCENT_PATTERN + "')",
      message = "rollout.maxUnavailable must be " + PolicyBounds.MAX_UNAVAILABLE_ACCEPTED)
  private IntOrString maxUnavailable;

  public IntOrString getMaxUnavailable() {
    return maxUnavailable;
  }

  public void setMaxUnavailable(IntOrString maxUnavailable) {
    this.maxUnavailable = maxUnavailable;
  }
}
