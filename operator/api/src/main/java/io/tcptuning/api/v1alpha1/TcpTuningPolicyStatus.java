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

  @JsonPropertyDescription("Pods selected by podSelector and namespaceSelector over all nodes, and how their tuning went.")
  private PodCounts pods;

  @JsonPropertyDescription("The pod with the worst TIME_WAIT pressure in the cluster, with its node.")
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

  /** How many nodes refused one sysctl for one reason. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class RefusalSummary {
    @JsonPropertyDescription("The sysctl, dotted as under /proc/sys (net.ipv4.tcp_tw_recycle).")
    private String sysctl;

    @JsonPropertyDescription("Why, as one CamelCase word (KernelRemovedSysctl, NatDetected, ...).")
    private String reason;

    @JsonPropertyDescription("How many nodes refused it for this reason.")
    private int nodes;

    @JsonPropertyDescription("A few of those nodes, for a first look.")
    private List<String> exampleNodes = new ArrayList<>();

    public RefusalSummary() {}

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

    @Override
    public boolean equals(Object o) {
      return o instanceof RefusalSummary r
          && nodes == r.nodes
          && Objects.equals(sysctl, r.sysctl)
          && Objects.equals(reason, r.reason)
          && Objects.equals(exampleNodes, r.exampleNodes);
    }

    @Override
    public int hashCode() {
      return Objects.hash(sysctl, reason, nodes, exampleNodes);
    }
  }
}
