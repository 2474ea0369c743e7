package io.tcptuning.operator;

import static io.tcptuning.api.v1alpha1.Conditions.DEGRADED;
import static io.tcptuning.api.v1alpha1.Conditions.PROGRESSING;
import static io.tcptuning.api.v1alpha1.Conditions.READY;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.Node;
import io.tcptuning.api.v1alpha1.Conditions;
import io.tcptuning.api.v1alpha1.NodePhase;
import io.tcptuning.api.v1alpha1.PodCounts;
import io.tcptuning.api.v1alpha1.PodPressure;
import io.tcptuning.api.v1alpha1.PodRefusal;
import io.tcptuning.api.v1alpha1.SysctlState;
import io.tcptuning.api.v1alpha1.TcpTuningNodeState;
import io.tcptuning.api.v1alpha1.TcpTuningNodeStateStatus;
import io.tcptuning.api.v1alpha1.TcpTuningPolicy;
import io.tcptuning.api.v1alpha1.TcpTuningPolicyStatus;
import io.tcptuning.api.v1alpha1.TcpTuningPolicyStatus.NodeCounts;
import io.tcptuning.api.v1alpha1.TcpTuningPolicyStatus.RefusalSummary;
import io.tcptuning.domain.Violation;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * Builds a policy's status in one place from the nodes, the other policies and the nodes'
 * reports, and says when it is unchanged so that nothing is written. Pure; tested without a
 * cluster.
 */
public final class PolicyStatusAggregator {

  /** Example nodes (and pods) per refusal entry. */
  public static final int EXAMPLE_NODES = 3;
  /** The reason of a sysctl the pod sets itself: the owner's choice, reported but not a degradation. */
  public static final String POD_DECLARES_SYSCTL = "PodDeclaresSysctl";

  public static final String REASON_AS_EXPECTED = "AsExpected";
  public static final String REASON_INVALID_SPEC = "InvalidSpec";
  public static final String REASON_NODES_FAILING = "NodesFailing";
  public static final String REASON_ROLLOUT_IN_PROGRESS = "RolloutInProgress";
  public static final String REASON_ROLLOUT_COMPLETE = "RolloutComplete";
  public static final String REASON_NO_NODES_SELECTED = "NoNodesSelected";
  public static final String REASON_ALL_SUPERSEDED = "AllNodesSuperseded";
  public static final String REASON_REVERTING = "Reverting";
  public static final String REASON_REVERT_TIMED_OUT = "RevertTimedOut";
  public static final String REASON_WRITE_FAILED = "SysctlWriteFailed";
  public static final String REASON_REFUSED = "RefusedOnNodes";
  public static final String REASON_REFUSED_ON_PODS = "RefusedOnPods";
  public static final String REASON_PODS_FAILING = "PodsFailing";
  public static final String REASON_AFFINITY_TOO_COMPLEX = "AffinityTooComplex";
  public static final String REASON_RECONCILE_FAILED = "ReconcileFailed";

  /**
   * @param policy the policy whose status this is
   * @param policies every policy (this one may be among them)
   * @param nodes every node
   * @param nodeStates every node's report
   * @param violations of the policy's spec; non-empty means InvalidSpec
   * @param affinityNote set when the agents' affinity could not exclude superseded nodes
   * @param now for the transition times of changed conditions
   */
  public record Input(
      TcpTuningPolicy policy,
      Collection<TcpTuningPolicy> policies,
      Collection<Node> nodes,
      Collection<TcpTuningNodeState> nodeStates,
      List<Violation> violations,
      Optional<String> affinityNote,
      Instant now) {}

  /** How far a deleted policy's nodes are with their revert. */
  public record RevertProgress(int total, int reverted, List<String> waiting) {
    public boolean done() {
      return reverted >= total;
    }

    public String message() {
      return reverted + "/" + total + " nodes reverted";
    }
  }

  private PolicyStatusAggregator() {}

  public static TcpTuningPolicyStatus aggregate(Input in) {
    TcpTuningPolicy policy = in.policy();
    String name = policy.getMetadata().getName();
    Long generation = policy.getMetadata().getGeneration();
    List<Condition> previous = previousConditions(policy);

    NodeAssignment.Split split = NodeAssignment.split(policy, in.policies(), in.nodes());
    Map<String, TcpTuningNodeStateStatus> reports = reportsByNode(in.nodeStates());

    int applied = 0;
    int failed = 0;
    int refused = 0;
    int pending = 0;
    Double maxPressure = null;
    String maxPressureNode = null;
    Map<List<String>, Set<String>> refusals = new TreeMap<>(PolicyStatusAggregator::compareKeys);
    Set<String> refusalReasons = new HashSet<>();
    boolean selectsPods = policy.getSpec() != null && policy.getSpec().selectsPods();
    PodCounts pods = selectsPods ? new PodCounts() : null;
    PodPressure worstPod = null;
    // (sysctl, reason) -> nodes where selected pods refused it, and those pods
    Map<List<String>, Set<String>> podRefusalNodes = new TreeMap<>(PolicyStatusAggregator::compareKeys);
    Map<List<String>, Set<String>> podRefusalPods = new HashMap<>();
    for (Node node : split.tuned()) {
      String nodeName = node.getMetadata().getName();
      TcpTuningNodeStateStatus r = reports.get(nodeName);
      if (r != null && r.getTimeWait() != null) {
        double p = round(r.getTimeWait().getMaxDestinationPressure());
        if (maxPressure == null || p > maxPressure || (p == maxPressure && nodeName.compareTo(maxPressureNode) < 0)) {
          maxPressure = p;
          maxPressureNode = nodeName;
        }
      }
      if (r != null && r.getWorstPod() != null && r.getWorstPod().getPod() != null) {
        PodPressure candidate = worstPodOf(r.getWorstPod(), nodeName);
        if (worstPod == null || WORST_POD_FIRST.compare(candidate, worstPod) < 0) {
          worstPod = candidate;
        }
      }
      boolean current = r != null && name.equals(r.getPolicy()) && Objects.equals(generation, r.getPolicyGeneration());
      NodePhase phase = current ? r.getPhase() : null;
      if (phase == NodePhase.Applied || phase == NodePhase.Planned) {
        applied++;
      } else if (phase == NodePhase.Failed) {
        failed++;
      } else {
        pending++; // no report for this generation yet, or the agent still sees itself superseded
      }
      if (current) {
        boolean any = false;
        for (var s : r.getSysctls()) {
          if (s.getState() == SysctlState.Refused) {
            any = true;
            String reason = s.getReason() == null ? "Refused" : s.getReason();
            refusals.computeIfAbsent(List.of(String.valueOf(s.getName()), reason), k -> new TreeSet<>()).add(nodeName);
            refusalReasons.add(reason);
          }
        }
        if (any) {
          refused++;
        }
        if (selectsPods) {
          pods = pods.plus(r.getPods());
          for (PodRefusal pr : r.getPodRefusals()) {
            List<String> key = List.of(String.valueOf(pr.getSysctl()), pr.getReason() == null ? "Refused" : pr.getReason());
            podRefusalNodes.computeIfAbsent(key, k -> new TreeSet<>()).add(nodeName);
            podRefusalPods.computeIfAbsent(key, k -> new TreeSet<>()).add(String.valueOf(pr.getPod()));
          }
        }
      }
    }

    TcpTuningPolicyStatus status = new TcpTuningPolicyStatus();
    status.setObservedGeneration(generation);
    int tuned = split.tuned().size();
    status.setNodes(new NodeCounts(split.selected().size(), applied, refused, failed, split.superseded().size(), pending));
    status.setMaxPressure(maxPressure);
    status.setMaxPressureNode(maxPressureNode);
    status.setPods(pods);
    status.setWorstPod(worstPod);
    List<RefusalSummary> summaries = new ArrayList<>();
    refusals.forEach(
        (k, nodes) -> summaries.add(new RefusalSummary(k.get(0), k.get(1), nodes.size(), nodes.stream().limit(EXAMPLE_NODES).toList())));
    List<RefusalSummary> podSummaries = new ArrayList<>();
    podRefusalNodes.forEach((k, nodes) -> {
      Set<String> which = podRefusalPods.get(k);
      podSummaries.add(RefusalSummary.ofPods(k.get(0), k.get(1), nodes.size(), nodes.stream().limit(EXAMPLE_NODES).toList(),
          which.size(), which.stream().limit(EXAMPLE_NODES).toList()));
    });
    List<RefusalSummary> allSummaries = new ArrayList<>(summaries);
    allSummaries.addAll(podSummaries);
    status.setRefusals(allSummaries);

    String appliedMsg = applied + "/" + tuned + " nodes applied";
    // "3/3 nodes applied; 12/14 selected pods tuned, 2 refused" where the policy selects pods.
    String podsMsg = pods == null ? "" : "; " + podsMessage(pods);
    List<Condition> conditions = new ArrayList<>();
    if (!in.violations().isEmpty()) {
      String msg = in.violations().stream().map(Violation::toString).collect(Collectors.joining("; "));
      conditions.add(Conditions.of(READY, false, REASON_INVALID_SPEC, msg, generation, previous, in.now()));
      conditions.add(Conditions.of(PROGRESSING, false, REASON_INVALID_SPEC, "the agents keep the last valid spec: " + msg, generation, previous, in.now()));
    } else {
      if (failed > 0) {
        conditions.add(Conditions.of(READY, false, REASON_NODES_FAILING, appliedMsg + ", " + failed + " failed" + podsMsg, generation, previous, in.now()));
      } else if (pending > 0) {
        conditions.add(Conditions.of(READY, false, REASON_ROLLOUT_IN_PROGRESS, appliedMsg + ", " + pending + " pending" + podsMsg, generation, previous, in.now()));
      } else if (split.selected().isEmpty()) {
        conditions.add(Conditions.of(READY, true, REASON_NO_NODES_SELECTED, "no Linux node matches spec.nodeSelector", generation, previous, in.now()));
      } else if (tuned == 0) {
        conditions.add(
            Conditions.of(READY, true, REASON_ALL_SUPERSEDED,
                "all " + split.selected().size() + " selected nodes are tuned by policies of higher priority", generation, previous, in.now()));
      } else {
        conditions.add(Conditions.of(READY, true, REASON_AS_EXPECTED, appliedMsg + supersededSuffix(split) + podsMsg, generation, previous, in.now()));
      }
      if (pending > 0) {
        conditions.add(Conditions.of(PROGRESSING, true, REASON_ROLLOUT_IN_PROGRESS, pending + " nodes pending, " + appliedMsg, generation, previous, in.now()));
      } else {
        conditions.add(Conditions.of(PROGRESSING, false, REASON_ROLLOUT_COMPLETE, appliedMsg, generation, previous, in.now()));
      }
    }
    conditions.add(degraded(failed, refused, tuned, refusalReasons, summaries, pods, podSummaries, in.affinityNote(), generation, previous, in.now()));
    status.setConditions(conditions);

    return status;
  }

  /**
   * The status after a reconciliation failed (an API call refused or timed out): the last status
   * with Degraded True, so that {@code kubectl get ttp} and alerts show it while JOSDK retries.
   */
  public static TcpTuningPolicyStatus reconcileFailed(TcpTuningPolicy policy, String problem, Instant now) {
    TcpTuningPolicyStatus old = policy.getStatus() == null ? new TcpTuningPolicyStatus() : policy.getStatus();
    TcpTuningPolicyStatus status = new TcpTuningPolicyStatus();
    status.setObservedGeneration(old.getObservedGeneration());
    status.setNodes(old.getNodes());
    status.setMaxPressure(old.getMaxPressure());
    status.setMaxPressureNode(old.getMaxPressureNode());
    status.setPods(old.getPods());
    status.setWorstPod(old.getWorstPod());
    status.setRefusals(old.getRefusals());
    List<Condition> previous = old.getConditions();
    List<Condition> conditions = new ArrayList<>();
    if (previous != null) {
      previous.stream().filter(c -> !DEGRADED.equals(c.getType())).forEach(conditions::add);
    }
    conditions.add(Conditions.of(DEGRADED, true, REASON_RECONCILE_FAILED,
        "the operator cannot reconcile this policy and retries: " + problem, policy.getMetadata().getGeneration(), previous, now));
    status.setConditions(conditions);
    return status;
  }

  /**
   * The status of a policy being deleted: the counts of the last status stay, Ready and
   * Progressing tell how far the revert is.
   */
  public static TcpTuningPolicyStatus reverting(TcpTuningPolicy policy, RevertProgress progress, boolean timedOut, Instant now) {
    TcpTuningPolicyStatus old = policy.getStatus() == null ? new TcpTuningPolicyStatus() : policy.getStatus();
    List<Condition> previous = old.getConditions();
    Long generation = policy.getMetadata().getGeneration();
    TcpTuningPolicyStatus status = new TcpTuningPolicyStatus();
    status.setObservedGeneration(generation);
    status.setNodes(old.getNodes());
    status.setMaxPressure(old.getMaxPressure());
    status.setMaxPressureNode(old.getMaxPressureNode());
    status.setPods(old.getPods());
    status.setWorstPod(old.getWorstPod());
    status.setRefusals(old.getRefusals());
    List<Condition> conditions = new ArrayList<>();
    if (timedOut) {
      String msg = progress.message() + "; gave up waiting (" + String.join(", ", progress.waiting().stream().limit(EXAMPLE_NODES).toList())
          + (progress.waiting().size() > EXAMPLE_NODES ? ", ..." : "") + " did not report Reverted)";
      conditions.add(Conditions.of(READY, false, REASON_REVERT_TIMED_OUT, msg, generation, previous, now));
      conditions.add(Conditions.of(PROGRESSING, false, REASON_REVERT_TIMED_OUT, msg, generation, previous, now));
    } else {
      conditions.add(Conditions.of(READY, false, REASON_REVERTING, progress.message(), generation, previous, now));
      conditions.add(Conditions.of(PROGRESSING, !progress.done(), REASON_REVERTING, progress.message(), generation, previous, now));
    }
    Conditions.find(previous, DEGRADED).ifPresent(conditions::add);
    status.setConditions(conditions);
    return status;
  }

  /**
   * The nodes a deleted policy waits for: those whose report names the policy and whose node still
   * exists, except where the agent wrote nothing (Superseded). Done when all say Reverted.
   */
  public static RevertProgress revertProgress(String policy, Collection<Node> nodes, Collection<TcpTuningNodeState> nodeStates) {
    Set<String> existing = new HashSet<>();
    for (Node n : nodes) {
      existing.add(n.getMetadata().getName());
    }
    int total = 0;
    int reverted = 0;
    List<String> waiting = new ArrayList<>();
    for (TcpTuningNodeState s : nodeStates) {
      var st = s.getStatus();
      String node = s.getMetadata().getName();
      if (st == null || !policy.equals(st.getPolicy()) || !existing.contains(node) || st.getPhase() == NodePhase.Superseded) {
        continue;
      }
      total++;
      if (st.getPhase() == NodePhase.Reverted) {
        reverted++;
      } else {
        waiting.add(node);
      }
    }
    waiting.sort(null);
    return new RevertProgress(total, reverted, waiting);
  }

  private static Condition degraded(
      int failed, int refused, int tuned, Set<String> refusalReasons, List<RefusalSummary> summaries,
      PodCounts pods, List<RefusalSummary> podSummaries,
      Optional<String> affinityNote, Long generation, List<Condition> previous, Instant now) {
    // A sysctl a pod sets itself is its owner's choice: reported in refusals, not a degradation.
    List<RefusalSummary> podProblems = podSummaries.stream().filter(r -> !POD_DECLARES_SYSCTL.equals(r.getReason())).toList();
    int podsFailed = pods == null ? 0 : pods.getFailed();
    if (failed > 0 || refused > 0 || podsFailed > 0 || !podProblems.isEmpty()) {
      List<String> parts = new ArrayList<>();
      if (failed > 0) {
        parts.add(failed + "/" + tuned + " nodes failed to write or verify their sysctls");
      }
      for (RefusalSummary r : summaries) {
        parts.add(r.getNodes() + " nodes refused " + r.getSysctl() + " (" + r.getReason() + ")");
      }
      if (podsFailed > 0) {
        parts.add(podsFailed + "/" + pods.getSelected() + " selected pods failed to write or verify their sysctls");
      }
      Set<String> podReasons = new TreeSet<>();
      for (RefusalSummary r : podProblems) {
        parts.add(r.getPods() + " pods refused " + r.getSysctl() + " (" + r.getReason() + ")");
        podReasons.add(r.getReason());
      }
      Set<String> reasons = new TreeSet<>(refusalReasons);
      reasons.addAll(podReasons);
      String reason;
      if (failed > 0) {
        reason = REASON_WRITE_FAILED;
      } else if (podsFailed > 0) {
        reason = REASON_PODS_FAILING;
      } else if (reasons.size() == 1) {
        reason = reasons.iterator().next();
      } else {
        reason = refusalReasons.isEmpty() ? REASON_REFUSED_ON_PODS : REASON_REFUSED;
      }
      return Conditions.of(DEGRADED, true, reason, String.join("; ", parts), generation, previous, now);
    }
    if (affinityNote.isPresent()) {
      return Conditions.of(DEGRADED, true, REASON_AFFINITY_TOO_COMPLEX, affinityNote.get(), generation, previous, now);
    }
    String none = pods == null ? "no node failed or refused a sysctl" : "no node or selected pod failed or refused a sysctl";
    return Conditions.of(DEGRADED, false, REASON_AS_EXPECTED, none, generation, previous, now);
  }

  /** "12/14 selected pods tuned, 2 refused, 1 failed". */
  static String podsMessage(PodCounts pods) {
    String msg = pods.getTuned() + "/" + pods.getSelected() + " selected pods tuned";
    if (pods.getRefused() > 0) {
      msg += ", " + pods.getRefused() + " refused";
    }
    if (pods.getFailed() > 0) {
      msg += ", " + pods.getFailed() + " failed";
    }
    return msg;
  }

  /** Worst first: the highest pressure to a pod's hottest destination, then by node and pod. */
  static final Comparator<PodPressure> WORST_POD_FIRST =
      Comparator.comparingDouble(PodPressure::getMaxDestinationPressure).reversed()
          .thenComparing(PodPressure::getNode, Comparator.nullsLast(Comparator.naturalOrder()))
          .thenComparing(PodPressure::getPod, Comparator.nullsLast(Comparator.naturalOrder()));

  /** A node's worst pod as the policy shows it: with its node, pressures to two decimals like maxPressure. */
  private static PodPressure worstPodOf(PodPressure reported, String node) {
    PodPressure p = new PodPressure();
    p.setPod(reported.getPod());
    p.setNode(node);
    p.setNetnsInode(reported.getNetnsInode());
    p.setTimeWait(reported.getTimeWait());
    p.setPortRangeSize(reported.getPortRangeSize());
    p.setPressure(round(reported.getPressure()));
    p.setMaxDestinationPressure(round(reported.getMaxDestinationPressure()));
    p.setHottestDestination(reported.getHottestDestination());
    return p;
  }

  private static String supersededSuffix(NodeAssignment.Split split) {
    return split.superseded().isEmpty() ? "" : ", " + split.superseded().size() + " superseded";
  }

  private static Map<String, TcpTuningNodeStateStatus> reportsByNode(Collection<TcpTuningNodeState> states) {
    Map<String, TcpTuningNodeStateStatus> out = new HashMap<>();
    for (TcpTuningNodeState s : states) {
      if (s.getStatus() != null) {
        out.put(s.getMetadata().getName(), s.getStatus());
      }
    }
    return out;
  }

  private static List<Condition> previousConditions(TcpTuningPolicy p) {
    return p.getStatus() == null ? List.of() : p.getStatus().getConditions();
  }

  /**
   * Pressure to two decimals (1% of the port range): finer changes are census noise and would
   * only cause status writes.
   */
  static double round(double pressure) {
    return Math.round(pressure * 100) / 100.0;
  }

  private static int compareKeys(List<String> a, List<String> b) {
    int c = a.get(0).compareTo(b.get(0));
    return c != 0 ? c : a.get(1).compareTo(b.get(1));
  }
}
