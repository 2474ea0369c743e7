package io.tcptuning.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.kubernetes.api.model.Condition;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/** One node's report. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class TcpTuningNodeStateStatus {

  @JsonPropertyDescription("The policy whose agent wrote this report.")
  private String policy;

  @JsonPropertyDescription("The policy's metadata.generation the agent was running.")
  private Long policyGeneration;

  @JsonPropertyDescription("Enforce or DryRun, as run.")
  private Mode mode;

  @JsonPropertyDescription("Applied, Planned, Failed, Superseded or Reverted.")
  private NodePhase phase;

  @JsonPropertyDescription("The node's kernel release (/proc/sys/kernel/osrelease).")
  private String kernel;

  @JsonPropertyDescription("Whether NAT is in play on the node, and what showed it.")
  private Nat nat;

  @JsonPropertyDescription("The TIME_WAIT census of the node's network namespace.")
  private TimeWait timeWait;

  @JsonPropertyDescription("Network namespaces the census counted on the node: the node's own and every pod's.")
  private Integer namespaces;

  @JsonPropertyDescription("The pods with the worst TIME_WAIT pressure on the node, worst first (at most 10; none with zero).")
  private List<PodPressure> topPods = new ArrayList<>();

  @JsonPropertyDescription("The node's worst pod by pressure to its hottest destination (absent when no pod holds TIME_WAIT).")
  private PodPressure worstPod;

  @JsonPropertyDescription("Pods the policy's podSelector and namespaceSelector select on this node, and how their tuning went.")
  private PodCounts pods;

  @JsonPropertyDescription("Sysctls not written in selected pods' namespaces, and why (at most 20).")
  private List<PodRefusal> podRefusals = new ArrayList<>();

  @JsonPropertyDescription("One entry per sysctl of the policy.")
  private List<SysctlStatus> sysctls = new ArrayList<>();

  @JsonPropertyDescription("Applied and Degraded.")
  private List<Condition> conditions = new ArrayList<>();

  @JsonPropertyDescription("When the agent last wrote this report (RFC 3339); a slow heartbeat.")
  private String lastReportTime;

  public String getPolicy() {
    return policy;
  }

  public void setPolicy(String policy) {
    this.policy = policy;
  }

  public Long getPolicyGeneration() {
    return policyGeneration;
  }

  public void setPolicyGeneration(Long policyGeneration) {
    this.policyGeneration = policyGeneration;
  }

  public Mode getMode() {
    return mode;
  }

  public void setMode(Mode mode) {
    this.mode = mode;
  }

  public NodePhase getPhase() {
    return phase;
  }

  public void setPhase(NodePhase phase) {
    this.phase = phase;
  }

  public String getKernel() {
    return kernel;
  }

  public void setKernel(String kernel) {
    this.kernel = kernel;
  }

  public Nat getNat() {
    return nat;
  }

  public void setNat(Nat nat) {
    this.nat = nat;
  }

  public TimeWait getTimeWait() {
    return timeWait;
  }

  public void setTimeWait(TimeWait timeWait) {
    this.timeWait = timeWait;
  }

  public Integer getNamespaces() {
    return namespaces;
  }

  public void setNamespaces(Integer namespaces) {
    this.namespaces = namespaces;
  }

  public List<PodPressure> getTopPods() {
    return topPods;
  }

  public void setTopPods(List<PodPressure> topPods) {
    this.topPods = topPods == null ? new ArrayList<>() : new ArrayList<>(topPods);
  }

  public PodPressure getWorstPod() {
    return worstPod;
  }

  public void setWorstPod(PodPressure worstPod) {
    this.worstPod = worstPod;
  }

  public PodCounts getPods() {
    return pods;
  }

  public void setPods(PodCounts pods) {
    this.pods = pods;
  }

  public List<PodRefusal> getPodRefusals() {
    return podRefusals;
  }

  public void setPodRefusals(List<PodRefusal> podRefusals) {
    this.podRefusals = podRefusals == null ? new ArrayList<>() : new ArrayList<>(podRefusals);
  }

  public List<SysctlStatus> getSysctls() {
    return sysctls;
  }

  public void setSysctls(List<SysctlStatus> sysctls) {
    this.sysctls = sysctls == null ? new ArrayList<>() : new ArrayList<>(sysctls);
  }

  public List<Condition> getConditions() {
    return conditions;
  }

  public void setConditions(List<Condition> conditions) {
    this.conditions = conditions == null ? new ArrayList<>() : new ArrayList<>(conditions);
  }

  public String getLastReportTime() {
    return lastReportTime;
  }

  public void setLastReportTime(String lastReportTime) {
    this.lastReportTime = lastReportTime;
  }

  /** NAT verdict: detected true/false, or absent when it could not be told. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class Nat {
    @JsonPropertyDescription("true: NAT is in play; false: looked and found none; absent: could not tell.")
    private Boolean detected;

    @JsonPropertyDescription("What showed it (iptables nat table, MASQUERADE rule, conntrack NAT entry...).")
    private List<String> evidence = new ArrayList<>();

    public Nat() {}

    public Nat(Boolean detected, List<String> evidence) {
      this.detected = detected;
      setEvidence(evidence);
    }

    public Boolean getDetected() {
      return detected;
    }

    public void setDetected(Boolean detected) {
      this.detected = detected;
    }

    public List<String> getEvidence() {
      return evidence;
    }

    public void setEvidence(List<String> evidence) {
      this.evidence = evidence == null ? new ArrayList<>() : new ArrayList<>(evidence);
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Nat n && Objects.equals(detected, n.detected) && Objects.equals(evidence, n.evidence);
    }

    @Override
    public int hashCode() {
      return Objects.hash(detected, evidence);
    }
  }

  /** TIME_WAIT census figures. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class TimeWait implements TimeWaitFigures {
    @JsonPropertyDescription("TIME_WAIT sockets in the node's network namespace (IPv4 and IPv6).")
    private long total;

    @JsonPropertyDescription("Size of the ephemeral port range (max - min + 1).")
    private int portRangeSize;

    @JsonPropertyDescription("total / portRangeSize: an upper bound of the real pressure.")
    private double pressure;

    @JsonPropertyDescription(
        "Sockets holding an ephemeral port to the hottest destination / portRangeSize: the real"
            + " pressure. At 1.0 connect() to that destination fails with errno 99.")
    private double maxDestinationPressure;

    @JsonPropertyDescription("The hottest destination, ip:port.")
    private String hottestDestination;

    @JsonPropertyDescription("Sockets holding an ephemeral port to the hottest destination.")
    private long hottestDestinationSockets;

    @JsonPropertyDescription("tcp_max_tw_buckets minus total: how far the kernel is from destroying TIME_WAIT sockets early.")
    private Long maxTwBucketsHeadroom;

    public long getTotal() {
      return total;
    }

    public void setTotal(long total) {
      this.total = total;
    }

    public int getPortRangeSize() {
      return portRangeSize;
    }

    public void setPortRangeSize(int portRangeSize) {
      this.portRangeSize = portRangeSize;
    }

    public double getPressure() {
      return pressure;
    }

    public void setPressure(double pressure) {
      this.pressure = pressure;
    }

    public double getMaxDestinationPressure() {
      return maxDestinationPressure;
    }

    public void setMaxDestinationPressure(double maxDestinationPressure) {
      this.maxDestinationPressure = maxDestinationPressure;
    }

    public String getHottestDestination() {
      return hottestDestination;
    }

    public void setHottestDestination(String hottestDestination) {
      this.hottestDestination = hottestDestination;
    }

    public long getHottestDestinationSockets() {
      return hottestDestinationSockets;
    }

    public void setHottestDestinationSockets(long hottestDestinationSockets) {
      this.hottestDestinationSockets = hottestDestinationSockets;
    }

    public Long getMaxTwBucketsHeadroom() {
      return maxTwBucketsHeadroom;
    }

    public void setMaxTwBucketsHeadroom(Long maxTwBucketsHeadroom) {
      this.maxTwBucketsHeadroom = maxTwBucketsHeadroom;
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof TimeWait t
          && total == t.total
          && portRangeSize == t.portRangeSize
          && Double.compare(pressure, t.pressure) == 0
          && Double.compare(maxDestinationPressure, t.maxDestinationPressure) == 0
          && Objects.equals(hottestDestination, t.hottestDestination)
          && hottestDestinationSockets == t.hottestDestinationSockets
          && Objects.equals(maxTwBucketsHeadroom, t.maxTwBucketsHeadroom);
    }

    @Override
    public int hashCode() {
      return Objects.hash(total, portRangeSize, pressure, maxDestinationPressure, hottestDestination);
    }
  }

  /** One sysctl on one node. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class SysctlStatus {
    @JsonPropertyDescription("Dotted name as under /proc/sys (net.ipv4.tcp_tw_reuse).")
    private String name;

    @JsonPropertyDescription("The value before this project first wrote it (from the journal).")
    private String original;

    @JsonPropertyDescription("The value the policy asks for.")
    private String desired;

    @JsonPropertyDescription("The value read back from the kernel; absent when the file does not exist.")
    private String actual;

    @JsonPropertyDescription("Applied, Unchanged, Refused, Failed, Drifted or Planned.")
    private SysctlState state;

    @JsonPropertyDescription("Why, as one CamelCase word.")
    private String reason;

    @JsonPropertyDescription("Why, in a sentence for people.")
    private String message;

    public SysctlStatus() {}

    public SysctlStatus(
        String name, String original, String desired, String actual, SysctlState state, String reason, String message) {
      this.name = name;
      this.original = original;
      this.desired = desired;
      this.actual = actual;
      this.state = state;
      this.reason = reason;
      this.message = message;
    }

    public String getName() {
      return name;
    }

    public void setName(String name) {
      this.name = name;
    }

    public String getOriginal() {
      return original;
    }

    public void setOriginal(String original) {
      this.original = original;
    }

    public String getDesired() {
      return desired;
    }

    public void setDesired(String desired) {
      this.desired = desired;
    }

    public String getActual() {
      return actual;
    }

    public void setActual(String actual) {
      this.actual = actual;
    }

    public SysctlState getState() {
      return state;
    }

    public void setState(SysctlState state) {
      this.state = state;
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
      return o instanceof SysctlStatus s
          && Objects.equals(name, s.name)
          && Objects.equals(original, s.original)
          && Objects.equals(desired, s.desired)
          && Objects.equals(actual, s.actual)
          && state == s.state
          && Objects.equals(reason, s.reason)
          && Objects.equals(message, s.message);
    }

    @Override
    public int hashCode() {
      return Objects.hash(name, original, desired, actual, state, reason);
    }
  }
}
