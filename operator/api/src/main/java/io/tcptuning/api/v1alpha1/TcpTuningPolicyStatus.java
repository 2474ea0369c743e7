package io.tcptuning.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.kubernetes.api.model.Condition;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/** Cluster-wide state of a policy, rolled up by the operator from the nodes' reports. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class TcpTuningPolicyStatus {

  @JsonPropertyDescription("The metadata.generation this status describes.")
  private Long observedGeneration;

  @JsonPropertyDescription("Ready, Progressing and Degraded, in the Kubernetes convention.")
  private List<Condition> conditions = new ArrayList<>();

  @JsonPropertyDescription("Node counts: selected by the policy, and of those, in each state.")
  private NodeCounts nodes;

  @JsonPropertyDescription(
      "The worst TIME_WAIT pressure over the nodes: sockets to the hottest destination divided by"
          + " the size of the ephemeral port range (1.0 = connect() to it fails with errno 99).")
  private Double maxPressure;

  @JsonPropertyDescription("The node with the worst pressure.")
  private String maxPressureNode;

  @JsonPropertyDescription(
      "Pods selected by podSelector and namespaceSelector over the nodes this policy tunes, and how"
          + " their tuning went: the sum of the nodes' reports for the current generation. Absent when"
          + " the policy selects no pods (neither selector set).")
  private PodCounts pods;

  @JsonPropertyDescription(
      "The pod with the worst pressure to its hottest destination on the nodes this policy tunes,"
          + " with its node (pressures rounded to 0.01). Absent when no pod holds TIME_WAIT sockets.")
  private PodPressure worstPod;

  @JsonPropertyDescription("Refusals over the nodes, one entry per sysctl and reason.")
  private List<RefusalSummary> refusals = new ArrayList<>();

  public Long getObservedGeneration() {
    return observedGeneration;
  }

  public void setObservedGeneration(Long observedGeneration) {
    this.observedGeneration = observedGeneration;
  }

  public List<Condition> getConditions() {
    return conditions;
  }

  public void setConditions(List<Condition> conditions) {
    this.conditions = conditions == null ? new ArrayList<>() : new ArrayList<>(conditions);
  }

  public NodeCounts getNodes() {
    return nodes;
  }

  public void setNodes(NodeCounts nodes) {
    this.nodes = nodes;
  }

  public Double getMaxPressure() {
    return maxPressure;
  }

  public void setMaxPressure(Double maxPressure) {
    this.maxPressure = maxPressure;
  }

  public String getMaxPressureNode() {
    return maxPressureNode;
  }

  public void setMaxPressureNode(String maxPressureNode) {
    this.maxPressureNode = maxPressureNode;
  }

  public PodCounts getPods() {
    return pods;
  }

  public void setPods(PodCounts pods) {
    this.pods = pods;
  }

  public PodPressure getWorstPod() {
    return worstPod;
  }

  public void setWorstPod(PodPressure worstPod) {
    this.worstPod = worstPod;
  }

  public List<RefusalSummary> getRefusals() {
    return refusals;
  }

  public void setRefusals(List<RefusalSummary> refusals) {
    this.refusals = refusals == null ? new ArrayList<>() : new ArrayList<>(refusals);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof TcpTuningPolicyStatus s
        && Objects.equals(observedGeneration, s.observedGeneration)
        && Objects.equals(conditions, s.conditions)
        && Objects.equals(nodes, s.nodes)
        && Objects.equals(maxPressure, s.maxPressure)
        && Objects.equals(maxPressureNode, s.maxPressureNode)
        && Objects.equals(pods, s.pods)
        && Objects.equals(worstPod, s.worstPod)
        && Objects.equals(refusals, s.refusals);
  }

  @Override
  public int hashCode() {
    return Objects.hash(observedGeneration, conditions, nodes, maxPressure, maxPressureNode, pods, worstPod, refusals);
  }

  /** Node counts of a policy. A node with refusals also counts as applied when the rest applied. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class NodeCounts {
    @JsonPropertyDescription("Nodes whose labels match the policy's nodeSelector.")
    private int selected;

    @JsonPropertyDescription("Nodes this policy tunes whose agent applied and verified it (or planned it, in DryRun).")
    private int applied;

    @JsonPropertyDescription("Nodes where at least one sysctl was refused as unsafe or unsupported.")
    private int refused;

    @JsonPropertyDescription("Nodes where a write failed or did not verify.")
    private int failed;

    @JsonPropertyDescription("Selected nodes tuned by a policy of higher priority instead.")
    private int superseded;

    @JsonPropertyDescription("Nodes this policy tunes with no report for the current generation yet.")
    private int pending;

    public NodeCounts() {}

    public NodeCounts(int selected, int applied, int refused, int failed, int superseded, int pending) {
      this.selected = selected;
      this.applied = applied;
      this.refused = refused;
      this.failed = failed;
      this.superseded = superseded;
      this.pending = pending;
    }

    public int getSelected() {
      return selected;
    }

    public void setSelected(int selected) {
      this.selected = selected;
    }

    public int getApplied() {
      return applied;
    }

    public void setApplied(int applied) {
      this.applied = applied;
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

    public int getSuperseded() {
      return superseded;
    }

    public void setSuperseded(int superseded) {
      this.superseded = superseded;
    }

    public int getPending() {
      return pending;
    }

    public void setPending(int pending) {
      this.pending = pending;
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof NodeCounts c
          && selected == c.selected
          && applied == c.applied
          && refused == c.refused
          && failed == c.failed
          && superseded == c.superseded
          && pending == c.pending;
    }

    @Override
    public int hashCode() {
      return Objects.hash(selected, applied, refused, failed, superseded, pending);
    }

    @Override
    public String toString() {
      return "selected=%d applied=%d refused=%d failed=%d superseded=%d pending=%d"
          .formatted(selected, applied, refused, failed, superseded, pending);
    }
  }

  /**
   * How many nodes refused one sysctl for one reason; or, for an entry with {@code pods} set, how
   * many selected pods' namespaces it was not written in, and on how many nodes.
   */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class RefusalSummary {
    @JsonPropertyDescription("The sysctl, dotted as under /proc/sys (net.ipv4.tcp_tw_recycle).")
    private String sysctl;

    @JsonPropertyDescription(
        "Why, as one CamelCase word (KernelRemovedSysctl, NatDetected, ...; for pods also"
            + " PodDeclaresSysctl: the pod sets it itself in securityContext.sysctls).")
    private String reason;

    @JsonPropertyDescription("How many nodes refused it for this reason (for a pod entry: nodes where pods did).")
    private int nodes;

    @JsonPropertyDescription("A few of those nodes, for a first look.")
    private List<String> exampleNodes = new ArrayList<>();

    @JsonPropertyDescription(
        "Set on entries about pods' namespaces, absent on entries about nodes: how many selected pods"
            + " it was not written in for this reason, as far as the nodes report them (each node"
            + " reports at most 20 pod refusals).")
    private Integer pods;

    @JsonPropertyDescription("A few of those pods, as namespace/name.")
    private List<String> examplePods;

    public RefusalSummary() {}

    /** An entry about pods' namespaces. */
    public static RefusalSummary ofPods(String sysctl, String reason, int nodes, List<String> exampleNodes, int pods, List<String> examplePods) {
      RefusalSummary r = new RefusalSummary(sysctl, reason, nodes, exampleNodes);
      r.setPods(pods);
      r.setExamplePods(examplePods);
      return r;
    }

    public RefusalSummary(String sysctl, String reason, int nodes, List<String> exampleNodes) {
      this.sysctl = sysctl;
      this.reason = reason;
      this.nodes = nodes;
      setExampleNodes(exampleNodes);
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

    public int getNodes() {
      return nodes;
    }

    public void setNodes(int nodes) {
      this.nodes = nodes;
    }

    public List<String> getExampleNodes() {
      return exampleNodes;
    }

    public void setExampleNodes(List<String> exampleNodes) {
      this.exampleNodes = exampleNodes == null ? new ArrayList<>() : new ArrayList<>(exampleNodes);
    }

    public Integer getPods() {
      return pods;
    }

    public void setPods(Integer pods) {
      this.pods = pods;
    }

    public List<String> getExamplePods() {
      return examplePods;
    }

    public void setExamplePods(List<String> examplePods) {
      this.examplePods = examplePods == null ? null : new ArrayList<>(examplePods);
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof RefusalSummary r
          && nodes == r.nodes
          && Objects.equals(sysctl, r.sysctl)
          && Objects.equals(reason, r.reason)
          && Objects.equals(exampleNodes, r.exampleNodes)
          && Objects.equals(pods, r.pods)
          && Objects.equals(examplePods, r.examplePods);
    }

    @Override
    public int hashCode() {
      return Objects.hash(sysctl, reason, nodes, exampleNodes, pods, examplePods);
    }

    @Override
    public String toString() {
      return "RefusalSummary{" + sysctl + " " + reason + " nodes=" + nodes + " " + exampleNodes
          + (pods == null ? "" : " pods=" + pods + " " + examplePods) + "}";
    }
  }
}
