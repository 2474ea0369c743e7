package io.tcptuning.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import java.util.Objects;

/** A sysctl the agent did not write in a selected pod's namespace, and why. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class PodRefusal {
  @JsonPropertyDescription("The pod, as namespace/name.")
  private String pod;

  @JsonPropertyDescription("Dotted name as under /proc/sys (net.ipv4.tcp_tw_reuse).")
  private String sysctl;

  @JsonPropertyDescription(
      "Why, as one CamelCase word: PodDeclaresSysctl (the pod sets it in securityContext.sysctls),"
          + " the node-level reasons (RemovedInKernel, NatInPlay, ...), or WriteFailed.")
  private String reason;

  @JsonPropertyDescription("Why, in a sentence for people.")
  private String message;

  public PodRefusal() {}

  public PodRefusal(String pod, String sysctl, String reason, String message) {
    this.pod = pod;
    this.sysctl = sysctl;
    this.reason = reason;
    this.message = message;
  }

  public String getPod() {
    return pod;
  }

  public void setPod(String pod) {
    this.pod = pod;
  }

  public String getSysctl() {
    return sysctl;
  }

  public void setSysctl(String sysctl) {
    this.sysctl = sysctl;
  }

  public String getReason() {
    return reason;
  }

  public void setReason(String reason) {
    this.reason = reason;
  }

  public String getMessage() {
    return message;
  }

  public void setMessage(String message) {
    this.message = message;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof PodRefusal r
        && Objects.equals(pod, r.pod)
        && Objects.equals(sysctl, r.sysctl)
        && Objects.equals(reason, r.reason)
        && Objects.equals(message, r.message);
  }

  @Override
  public int hashCode() {
    return Objects.hash(pod, sysctl, reason, message);
  }
}
