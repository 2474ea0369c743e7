package io.tcptuning.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.crd.generator.annotation.SchemaFrom;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.Toleration;
import java.util.ArrayList;
import java.util.List;

@JsonInclude(JsonInclude.Include.NON_NULL)
public class TcpTuningPolicySpec {

  @JsonPropertyDescription(
      "Nodes this policy tunes (a label selector). Empty or absent selects every node.")
  @SchemaFrom(type = LabelSelectorSchema.class)
  private LabelSelector nodeSelector;

  @JsonPropertyDescription(
      "Pods whose own network namespaces this policy tunes too, on the nodes it tunes (a label"
          + " selector over pod labels; empty selects every pod). Absent, together with"
          + " namespaceSelector, means the node's namespace only. Pods with hostNetwork share the"
          + " node's namespace and are never selected by it. A sysctl that a pod sets itself in"
          + " securityContext.sysctls is left alone.")
  @SchemaFrom(type = LabelSelectorSchema.class)
  private LabelSelector podSelector;

  @JsonPropertyDescription(
      "Namespaces (by their labels) whose pods this policy tunes, on the nodes it tunes. With"
          + " podSelector, a pod must match both; alone, every pod of a matching namespace is"
          + " selected. Absent, together with podSelector, means the node's namespace only.")
  @SchemaFrom(type = LabelSelectorSchema.class)
  private LabelSelector namespaceSelector;

  @JsonPropertyDescription(
      "Where policies overlap on a node, the highest priority wins; ties go to the oldest policy,"
          + " then to the name in alphabetical order. The other policies count that node as superseded.")
  @Min(PolicyBounds.PRIORITY_MIN)
  @Max(PolicyBounds.PRIORITY_MAX)
  @Default("0")
  private Integer priority;

  @JsonPropertyDescription(
      "Enforce writes and verifies the sysctls; DryRun measures and plans on every node and writes nothing.")
  @Default("Enforce")
  private Mode mode;

  @JsonPropertyDescription(
      "Treat every selected node as being behind NAT even when the agent finds no NAT rules."
          + " NAT makes tcp_tw_recycle unsafe; Kubernetes nodes with kube-proxy or CNI masquerading"
          + " are detected without this.")
  private Boolean assumeNat;

  @JsonPropertyDescription(
      "The sysctls to set. Each is optional; an absent one leaves the node's value alone.")
  private SysctlSettings sysctls;

  @JsonPropertyDescription("How a change of this policy rolls out over the nodes.")
  private Rollout rollout;

  @JsonPropertyDescription(
      "Tolerations of the agent pods. Absent means tolerate every taint, so that tainted nodes are"
          + " tuned too; an empty list means tolerate none.")
  private List<Toleration> tolerations;

  public LabelSelector getNodeSelector() {
    return nodeSelector;
  }

  public void setNodeSelector(LabelSelector nodeSelector) {
    this.nodeSelector = nodeSelector;
  }

  public LabelSelector getPodSelector() {
    return podSelector;
  }

  public void setPodSelector(LabelSelector podSelector) {
    this.podSelector = podSelector;
  }

  public LabelSelector getNamespaceSelector() {
    return namespaceSelector;
  }

  public void setNamespaceSelector(LabelSelector namespaceSelector) {
    this.namespaceSelector = namespaceSelector;
  }

  /** Whether the policy reaches into pods' network namespaces (either pod selector present). */
  public boolean selectsPods() {
    return podSelector != null || namespaceSelector != null;
  }

  public Integer getPriority() {
    return priority;
  }

  public void setPriority(Integer priority) {
    this.priority = priority;
  }

  public Mode getMode() {
    return mode;
  }

  public void setMode(Mode mode) {
    this.mode = mode;
  }

  public Boolean getAssumeNat() {
    return assumeNat;
  }

  public void setAssumeNat(Boolean assumeNat) {
    this.assumeNat = assumeNat;
  }

  public SysctlSettings getSysctls() {
    return sysctls;
  }

  public void setSysctls(SysctlSettings sysctls) {
    this.sysctls = sysctls;
  }

  public Rollout getRollout() {
    return rollout;
  }

  public void setRollout(Rollout rollout) {
    this.rollout = rollout;
  }

  public List<Toleration> getTolerations() {
    return tolerations;
  }

  public void setTolerations(List<Toleration> tolerations) {
    this.tolerations = tolerations == null ? null : new ArrayList<>(tolerations);
  }

  /** The effective priority (0 when absent). */
  public int effectivePriority() {
    return priority == null ? 0 : priority;
  }

  /** The effective mode (Enforce when absent). */
  public Mode effectiveMode() {
    return mode == null ? Mode.Enforce : mode;
  }
}
