package io.tcptuning.agent;

import io.fabric8.kubernetes.api.model.Condition;
import io.tcptuning.api.v1alpha1.Conditions;
import io.tcptuning.agent.pods.PodNamespaces;
import io.tcptuning.api.v1alpha1.Mode;
import io.tcptuning.api.v1alpha1.PodPressure;
import io.tcptuning.api.v1alpha1.NodePhase;
import io.tcptuning.api.v1alpha1.SysctlState;
import io.tcptuning.api.v1alpha1.TcpTuningNodeStateStatus;
import io.tcptuning.api.v1alpha1.TcpTuningNodeStateStatus.SysctlStatus;
import io.tcptuning.api.v1alpha1.TcpTuningNodeStateStatus.TimeWait;
import io.tcptuning.api.v1alpha1.TimeWaitFigures;
import io.tcptuning.domain.NatVerdict;
import io.tcptuning.node.census.CensusReport;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.stream.Collectors;

/**
 * Builds a node's report from what the agent measured and did, and decides whether it differs
 * enough from the last one written to be worth a write. Pure.
 */
public final class NodeStatusFactory {
  public static final String APPLIED = "Applied";
  public static final String DEGRADED = "Degraded";
  /** Degraded reason: giving the node back left sysctls someone changed by hand as they are. */
  public static final String CHANGED_BY_HAND = "ChangedByHand";

  /** Pressure moves below this are noise, not news. */
  static final double PRESSURE_STEP = 0.05;

  private NodeStatusFactory() {}

  /** A pressure as reported (node and pods alike): four decimals, so that noise does not make a new status. */
  public static double reportedPressure(double v) {
    return Math.round(v * 10000) / 10000.0;
  }

  /** The node's TIME_WAIT figures, from the census of its own namespace. */
  public static TimeWait timeWait(CensusReport c) {
    TimeWait t = figures(c, new TimeWait());
    t.setTotal(c.timeWaitTotal());
    if (!c.topDestinations().isEmpty()) {
      t.setHottestDestinationSockets(c.topDestinations().getFirst().sockets());
    }
    t.setMaxTwBucketsHeadroom(c.maxTwBucketsHeadroom());
    return t;
  }

  /** A pod's TIME_WAIT figures, from the census of its network namespace. */
  public static PodPressure podPressure(CensusReport c, String pod, long netnsInode) {
    PodPressure p = figures(c, new PodPressure());
    p.setPod(pod);
    p.setNetnsInode(netnsInode);
    p.setTimeWait(c.timeWaitTotal());
    return p;
  }

  /** The figures the node's and a pod's report share, filled alike for both. */
  private static <T extends TimeWaitFigures> T figures(CensusReport c, T f) {
    f.setPortRangeSize(c.portRange().size());
    f.setPressure(reportedPressure(c.pressure()));
    f.setMaxDestinationPressure(reportedPressure(c.maxDestinationPressure()));
    if (!c.topDestinations().isEmpty()) {
      f.setHottestDestination(c.topDestinations().getFirst().address());
    }
    return f;
  }

  /** Who is reporting, for what. */
  public record Identity(String policy, long policyGeneration, Mode mode) {}

  /**
   * A node's report. {@code changedByHand} names the sysctls a give-back left alone because someone
   * changed them after the apply ("net.ipv4.tcp_tw_reuse (applied 1, now 0: ...)"): a Reverted
   * node with any reports Degraded, reason {@value #CHANGED_BY_HAND}.
   */
  public static TcpTuningNodeStateStatus build(
      Identity id,
      NodePhase phase,
      String kernel,
      NatVerdict nat,
      TimeWait timeWait,
      List<SysctlStatus> sysctls,
      String detail,
      List<String> changedByHand,
      TcpTuningNodeStateStatus previous,
      Instant now) {
    TcpTuningNodeStateStatus s = new TcpTuningNodeStateStatus();
    s.setPolicy(id.policy());
    s.setPolicyGeneration(id.policyGeneration());
    s.setMode(id.mode());
    s.setPhase(phase);
    s.setKernel(kernel);
    s.setNat(new TcpTuningNodeStateStatus.Nat(nat.detected(), nat.evidence()));
    s.setTimeWait(timeWait);
    s.setSysctls(sysctls);
    List<Condition> before = previous == null ? null : previous.getConditions();
    s.setConditions(List.of(applied(phase, sysctls, detail, before, now), degraded(phase, sysctls, detail, changedByHand, before, now)));
    s.setLastReportTime(now.truncatedTo(java.time.temporal.ChronoUnit.SECONDS).toString());
    return s;
  }

  private static Condition applied(NodePhase phase, List<SysctlStatus> sysctls, String detail, List<Condition> before, Instant now) {
    return switch (phase) {
      case Applied -> Conditions.of(APPLIED, true, "AsExpected", summary(sysctls), null, before, now);
      case Planned -> Conditions.of(APPLIED, false, "DryRun", "DryRun: nothing written; " + summary(sysctls), null, before, now);
      case Failed -> Conditions.of(APPLIED, false, "SysctlWriteFailed", orSummary(detail, sysctls), null, before, now);
      case Superseded -> Conditions.of(APPLIED, false, "Superseded", orSummary(detail, sysctls), null, before, now);
      case Reverted -> Conditions.of(APPLIED, false, "Reverted", orSummary(detail, sysctls), null, before, now);
    };
  }

  private static Condition degraded(
      NodePhase phase, List<SysctlStatus> sysctls, String detail, List<String> changedByHand, List<Condition> before, Instant now) {
    if (phase == NodePhase.Failed) {
      return Conditions.of(DEGRADED, true, "SysctlWriteFailed", orSummary(detail, sysctls), null, before, now);
    }
    if (phase == NodePhase.Reverted && !changedByHand.isEmpty()) {
      return Conditions.of(DEGRADED, true, CHANGED_BY_HAND,
          "left as they are, changed by hand since apply (their originals stay in the journal): " + String.join("; ", changedByHand),
          null, before, now);
    }
    List<SysctlStatus> refused = sysctls.stream().filter(x -> x.getState() == SysctlState.Refused).toList();
    if (!refused.isEmpty() && phase != NodePhase.Reverted && phase != NodePhase.Superseded) {
      String reason = refused.getFirst().getReason();
      String message = refused.stream().map(x -> x.getName() + ": " + x.getMessage()).collect(Collectors.joining("; "));
      return Conditions.of(DEGRADED, true, reason, message, null, before, now);
    }
    return Conditions.of(DEGRADED, false, "AsExpected", "no sysctl refused or failed", null, before, now);
  }

  /** "3 applied, 1 unchanged, 1 refused" over the sysctls of the policy. */
  static String summary(List<SysctlStatus> sysctls) {
    if (sysctls.isEmpty()) {
      return "the policy sets no sysctl";
    }
    List<String> parts = new ArrayList<>();
    for (SysctlState st : SysctlState.values()) {
      long n = sysctls.stream().filter(x -> x.getState() == st).count();
      if (n > 0) {
        parts.add(n + " " + st.name().toLowerCase(java.util.Locale.ROOT));
      }
    }
    return String.join(", ", parts);
  }

  private static String orSummary(String detail, List<SysctlStatus> sysctls) {
    return detail != null && !detail.isBlank() ? detail : summary(sysctls);
  }

  /**
   * True when {@code next} says something {@code last} did not: any change of phase, policy,
   * sysctl states, conditions, kernel or NAT, or a TIME_WAIT move worth telling (pressure by
   * {@value #PRESSURE_STEP} or more, a new port range). Socket counts drifting, or two
   * destinations trading the hottest place, are left for the heartbeat.
   */
  public static boolean materiallyDifferent(TcpTuningNodeStateStatus last, TcpTuningNodeStateStatus next) {
    if (last == null) {
      return true;
    }
    if (!Objects.equals(last.getPolicy(), next.getPolicy())
        || !Objects.equals(last.getPolicyGeneration(), next.getPolicyGeneration())
        || last.getMode() != next.getMode()
        || last.getPhase() != next.getPhase()
        || !Objects.equals(last.getKernel(), next.getKernel())
        || !Objects.equals(last.getNat(), next.getNat())
        || !Objects.equals(last.getSysctls(), next.getSysctls())
        || !Objects.equals(last.getConditions(), next.getConditions())) {
      return true;
    }
    if (podsMateriallyDifferent(last, next)) {
      return true;
    }
    TimeWait a = last.getTimeWait();
    TimeWait b = next.getTimeWait();
    if (a == null || b == null) {
      return a != b;
    }
    return Math.abs(a.getPressure() - b.getPressure()) >= PRESSURE_STEP
        || Math.abs(a.getMaxDestinationPressure() - b.getMaxDestinationPressure()) >= PRESSURE_STEP
        || a.getPortRangeSize() != b.getPortRangeSize();
  }

  /**
   * The pod figures, with the node's thresholds: how the selected pods' tuning went (counts and
   * refusals) is news; so is the worst pod changing or its pressure moving by {@value
   * #PRESSURE_STEP} or more, but only where it matters (at or above that step). Pods coming and
   * going, the number of namespaces and the rest of the top list wait for the heartbeat.
   */
  static boolean podsMateriallyDifferent(TcpTuningNodeStateStatus last, TcpTuningNodeStateStatus next) {
    if (!Objects.equals(last.getPods(), next.getPods()) || !Objects.equals(last.getPodRefusals(), next.getPodRefusals())) {
      return true;
    }
    PodPressure a = last.getWorstPod();
    PodPressure b = next.getWorstPod();
    double pa = a == null ? 0 : a.getMaxDestinationPressure();
    double pb = b == null ? 0 : b.getMaxDestinationPressure();
    if (Math.abs(pa - pb) >= PRESSURE_STEP) {
      return true;
    }
    boolean sameWorst = a != null && b != null && Objects.equals(a.getPod(), b.getPod());
    return !sameWorst && Math.max(pa, pb) >= PRESSURE_STEP;
  }

  /** Sets the pod figures of a report. */
  public static TcpTuningNodeStateStatus withPods(TcpTuningNodeStateStatus s, PodNamespaces.Report pods) {
    if (pods == null) {
      return s;
    }
    s.setNamespaces(pods.namespaces());
    s.setTopPods(pods.top());
    s.setWorstPod(pods.worst());
    s.setPods(pods.counts());
    s.setPodRefusals(pods.refusals());
    return s;
  }
}
