package io.tcptuning.operator;

import static io.tcptuning.operator.Fixtures.labels;
import static io.tcptuning.operator.Fixtures.node;
import static io.tcptuning.operator.Fixtures.policy;
import static io.tcptuning.operator.Fixtures.report;
import static io.tcptuning.operator.Fixtures.withPodRefusal;
import static io.tcptuning.operator.Fixtures.withPods;
import static io.tcptuning.operator.Fixtures.withPressure;
import static io.tcptuning.operator.Fixtures.withRefusal;
import static io.tcptuning.operator.Fixtures.withWorstPod;
import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.Node;
import io.tcptuning.api.v1alpha1.Conditions;
import io.tcptuning.api.v1alpha1.NodePhase;
import io.tcptuning.api.v1alpha1.PodCounts;
import io.tcptuning.api.v1alpha1.TcpTuningNodeState;
import io.tcptuning.api.v1alpha1.TcpTuningPolicy;
import io.tcptuning.api.v1alpha1.TcpTuningPolicyStatus;
import io.tcptuning.api.v1alpha1.TcpTuningPolicyStatus.NodeCounts;
import io.tcptuning.api.v1alpha1.TcpTuningPolicyStatus.RefusalSummary;
import io.tcptuning.domain.Violation;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class PolicyStatusAggregatorTest {
  private static final Instant T0 = Instant.parse("2025-06-01T10:00:00Z");

  private final TcpTuningPolicy web = policy("web", 0, labels("role", "web"));
  private final List<Node> nodes =
      List.of(node("w1", "role", "web"), node("w2", "role", "web"), node("w3", "role", "web"), node("w4", "role", "web"), node("w5", "role", "web"), node("db1", "role", "db"));

  private TcpTuningPolicyStatus aggregate(TcpTuningPolicy p, List<TcpTuningPolicy> all, List<TcpTuningNodeState> states, Instant now) {
    return PolicyStatusAggregator.aggregate(new PolicyStatusAggregator.Input(p, all, nodes, states, List.of(), Optional.empty(), now));
  }

  @Test
  void countsEachStateAndTheWorstPressure() {
    List<TcpTuningNodeState> states =
        List.of(
            withPressure(report("w1", "web", 1, NodePhase.Applied), 0.12),
            withPressure(report("w2", "web", 1, NodePhase.Applied), 0.734),
            withRefusal(withPressure(report("w3", "web", 1, NodePhase.Applied), 0.2), "net.ipv4.tcp_tw_recycle", "KernelRemovedSysctl"),
            report("w4", "web", 1, NodePhase.Failed),
            withPressure(report("db1", "other", 1, NodePhase.Applied), 0.99)); // not selected: ignored
    TcpTuningPolicyStatus s = aggregate(web, List.of(web), states, T0);

    assertThat(s.getObservedGeneration()).isEqualTo(1L);
    assertThat(s.getNodes()).isEqualTo(new NodeCounts(5, 3, 1, 1, 0, 1));
    assertThat(s.getMaxPressure()).isEqualTo(0.73);
    assertThat(s.getMaxPressureNode()).isEqualTo("w2");
    assertThat(s.getRefusals()).containsExactly(new RefusalSummary("net.ipv4.tcp_tw_recycle", "KernelRemovedSysctl", 1, List.of("w3")));
    assertThat(condition(s, "Ready")).satisfies(c -> {
      assertThat(c.getStatus()).isEqualTo("False");
      assertThat(c.getReason()).isEqualTo("NodesFailing");
      assertThat(c.getMessage()).isEqualTo("3/5 nodes applied, 1 failed");
    });
    assertThat(condition(s, "Progressing").getStatus()).isEqualTo("True");
    assertThat(condition(s, "Degraded")).satisfies(c -> {
      assertThat(c.getStatus()).isEqualTo("True");
      assertThat(c.getReason()).isEqualTo("SysctlWriteFailed");
      assertThat(c.getMessage()).contains("1/5 nodes failed").contains("1 nodes refused net.ipv4.tcp_tw_recycle (KernelRemovedSysctl)");
    });
  }

  private TcpTuningPolicy clients() {
    TcpTuningPolicy p = policy("web", 0, labels("role", "web"));
    p.getSpec().setPodSelector(labels("tcptuning.io/tune", "true"));
    return p;
  }

  @Test
  void podCountsAreTheSumOfTheNodesAndTheMessagesSayHowThePodsWent() {
    TcpTuningPolicy p = clients();
    List<TcpTuningNodeState> states = new ArrayList<>();
    for (String n : List.of("w1", "w2", "w3", "w4", "w5")) {
      states.add(withPods(report(n, "web", 1, NodePhase.Applied), 3, 2, 0, 0));
    }
    withPods(states.get(0), 4, 2, 2, 0); // w1: 4 selected, 2 refused
    withPodRefusal(states.get(0), "shop/client-1", "net.ipv4.ip_local_port_range", "PodDeclaresSysctl");
    withPodRefusal(states.get(0), "shop/client-2", "net.ipv4.ip_local_port_range", "PodDeclaresSysctl");
    // A report of another generation does not count: its selectors may have been different.
    states.add(withPods(report("db1", "other", 1, NodePhase.Applied), 100, 100, 0, 0));
    TcpTuningPolicyStatus s = aggregate(p, List.of(p), states, T0);

    assertThat(s.getPods()).isEqualTo(new PodCounts(16, 10, 2, 0));
    assertThat(condition(s, "Ready")).satisfies(c -> {
      assertThat(c.getStatus()).isEqualTo("True");
      assertThat(c.getMessage()).isEqualTo("5/5 nodes applied; 10/16 selected pods tuned, 2 refused");
    });
    // A pod setting the sysctl itself is its owner's choice: in refusals, but not Degraded.
    assertThat(s.getRefusals())
        .containsExactly(RefusalSummary.ofPods("net.ipv4.ip_local_port_range", "PodDeclaresSysctl", 1, List.of("w1"), 2, List.of("shop/client-1", "shop/client-2")));
    assertThat(s.getRefusals().getFirst().getPods()).isEqualTo(2);
    assertThat(condition(s, "Degraded").getStatus()).isEqualTo("False");
    assertThat(condition(s, "Degraded").getMessage()).isEqualTo("no node or selected pod failed or refused a sysctl");
    assertThat(s.getNodes().getRefused()).as("node counts are about the nodes' own namespaces").isZero();
  }

  @Test
  void unsafePodRefusalsAndPodFailuresAreDegradedAndBounded() {
    TcpTuningPolicy p = clients();
    List<TcpTuningNodeState> states = new ArrayList<>();
    for (String n : List.of("w1", "w2", "w3", "w4", "w5")) {
      // Each pod applied the rest and refused tcp_tw_recycle: tuned and refused.
      TcpTuningNodeState st = withPods(report(n, "web", 1, NodePhase.Applied), 5, 5, 5, 0);
      for (int i = 0; i < 5; i++) {
        withPodRefusal(st, "ns-" + n + "/pod-" + i, "net.ipv4.tcp_tw_recycle", "KernelRemovedSysctl");
      }
      states.add(st);
    }
    withPods(states.get(4), 5, 4, 5, 1);
    TcpTuningPolicyStatus s = aggregate(p, List.of(p), states, T0);

    assertThat(s.getPods()).isEqualTo(new PodCounts(25, 24, 25, 1));
    RefusalSummary r = s.getRefusals().getFirst();
    assertThat(r.getPods()).isEqualTo(25);
    assertThat(r.getNodes()).isEqualTo(5);
    assertThat(r.getExampleNodes()).containsExactly("w1", "w2", "w3");
    assertThat(r.getExamplePods()).hasSize(PolicyStatusAggregator.EXAMPLE_NODES);
    assertThat(condition(s, "Degraded")).satisfies(c -> {
      assertThat(c.getStatus()).isEqualTo("True");
      assertThat(c.getReason()).isEqualTo("PodsFailing");
      assertThat(c.getMessage()).isEqualTo(
          "1/25 selected pods failed to write or verify their sysctls; 25 pods refused net.ipv4.tcp_tw_recycle (KernelRemovedSysctl)");
    });
    assertThat(condition(s, "Ready").getMessage()).isEqualTo("5/5 nodes applied; 24/25 selected pods tuned, 25 refused, 1 failed");

    withPods(states.get(4), 5, 5, 5, 0);
    TcpTuningPolicyStatus refusedOnly = aggregate(p, List.of(p), states, T0);
    assertThat(condition(refusedOnly, "Degraded").getReason()).isEqualTo("KernelRemovedSysctl");
  }

  @Test
  void theWorstPodIsTheNodesWorstByPressureToItsHottestDestinationWithItsNode() {
    TcpTuningPolicy p = clients();
    List<TcpTuningNodeState> states =
        List.of(
            withWorstPod(withPods(withPressure(report("w1", "web", 1, NodePhase.Applied), 0.01), 1, 1, 0, 0), "shop/client-a", 0.35),
            withWorstPod(withPods(withPressure(report("w2", "web", 1, NodePhase.Applied), 0.02), 1, 1, 0, 0), "shop/client-b", 0.8712),
            withWorstPod(report("w3", "web", 1, NodePhase.Applied), "batch/loader", 0.5),
            withWorstPod(report("db1", "other", 1, NodePhase.Applied), "db/hot", 0.99)); // not a node of this policy
    TcpTuningPolicyStatus s = aggregate(p, List.of(p), states, T0);

    assertThat(s.getWorstPod()).satisfies(w -> {
      assertThat(w.getPod()).isEqualTo("shop/client-b");
      assertThat(w.getNode()).isEqualTo("w2");
      assertThat(w.getMaxDestinationPressure()).isEqualTo(0.87);
      assertThat(w.getPortRangeSize()).isEqualTo(28232);
      assertThat(w.getHottestDestination()).isEqualTo("10.96.0.10:443");
    });
    assertThat(s.getMaxPressure()).as("the nodes' own pressure is another figure").isEqualTo(0.02);
    // The node states are not changed by the aggregation (node is absent in a node's own report).
    assertThat(states.get(1).getStatus().getWorstPod().getNode()).isNull();

    // Without pod selectors there are no pod counts, but the worst pod is still measured.
    TcpTuningPolicyStatus nodeOnly = aggregate(web, List.of(web), states, T0);
    assertThat(nodeOnly.getPods()).isNull();
    assertThat(nodeOnly.getWorstPod().getPod()).isEqualTo("shop/client-b");
    assertThat(condition(nodeOnly, "Ready").getMessage()).doesNotContain("pods");

    // Ties go to the node name, so that the status does not flap between equal pods.
    List<TcpTuningNodeState> tie =
        List.of(withWorstPod(report("w4", "web", 1, NodePhase.Applied), "a/x", 0.5), withWorstPod(report("w2", "web", 1, NodePhase.Applied), "b/y", 0.5));
    assertThat(aggregate(p, List.of(p), tie, T0).getWorstPod().getNode()).isEqualTo("w2");
  }

  @Test
  void aPolicySelectingPodsWithNoReportsYetCountsZeroPods() {
    TcpTuningPolicy p = clients();
    TcpTuningPolicyStatus s = aggregate(p, List.of(p), List.of(), T0);
    assertThat(s.getPods()).isEqualTo(new PodCounts(0, 0, 0, 0));
    assertThat(condition(s, "Ready").getMessage()).isEqualTo("0/5 nodes applied, 5 pending; 0/0 selected pods tuned");
  }

  @Test
  void readyWhenEveryTunedNodeAppliedTheCurrentGeneration() {
    List<TcpTuningNodeState> states = new ArrayList<>();
    for (String n : List.of("w1", "w2", "w3", "w4", "w5")) {
      states.add(report(n, "web", 1, n.equals("w5") ? NodePhase.Planned : NodePhase.Applied));
    }
    TcpTuningPolicyStatus s = aggregate(web, List.of(web), states, T0);
    assertThat(s.getNodes()).isEqualTo(new NodeCounts(5, 5, 0, 0, 0, 0));
    assertThat(condition(s, "Ready")).satisfies(c -> {
      assertThat(c.getStatus()).isEqualTo("True");
      assertThat(c.getReason()).isEqualTo("AsExpected");
      assertThat(c.getMessage()).isEqualTo("5/5 nodes applied");
    });
    assertThat(condition(s, "Progressing").getStatus()).isEqualTo("False");
    assertThat(condition(s, "Degraded").getStatus()).isEqualTo("False");
    assertThat(s.getMaxPressure()).isNull();

    // A new generation: every report is now stale, so every node is pending again.
    TcpTuningPolicy gen2 = policy("web", 0, labels("role", "web"));
    gen2.getMetadata().setGeneration(2L);
    TcpTuningPolicyStatus s2 = aggregate(gen2, List.of(gen2), states, T0);
    assertThat(s2.getNodes()).isEqualTo(new NodeCounts(5, 0, 0, 0, 0, 5));
    assertThat(condition(s2, "Ready").getReason()).isEqualTo("RolloutInProgress");
    assertThat(condition(s2, "Ready").getMessage()).isEqualTo("0/5 nodes applied, 5 pending");
    assertThat(condition(s2, "Progressing").getStatus()).isEqualTo("True");
  }

  @Test
  void refusalsAreSummarisedBySysctlAndReasonWithThreeExampleNodes() {
    List<TcpTuningNodeState> states = new ArrayList<>();
    for (String n : List.of("w5", "w4", "w3", "w2", "w1")) {
      states.add(withRefusal(report(n, "web", 1, NodePhase.Applied), "net.ipv4.tcp_tw_recycle", n.equals("w1") ? "NatDetected" : "KernelRemovedSysctl"));
    }
    TcpTuningPolicyStatus s = aggregate(web, List.of(web), states, T0);
    assertThat(s.getRefusals())
        .containsExactly(
            new RefusalSummary("net.ipv4.tcp_tw_recycle", "KernelRemovedSysctl", 4, List.of("w2", "w3", "w4")),
            new RefusalSummary("net.ipv4.tcp_tw_recycle", "NatDetected", 1, List.of("w1")));
    assertThat(s.getNodes().getRefused()).isEqualTo(5);
    assertThat(s.getNodes().getApplied()).isEqualTo(5);
    assertThat(condition(s, "Ready").getStatus()).isEqualTo("True"); // refusing is the safe outcome
    assertThat(condition(s, "Degraded").getReason()).isEqualTo("RefusedOnNodes");

    List<TcpTuningNodeState> one = List.of(withRefusal(report("w1", "web", 1, NodePhase.Applied), "net.ipv4.tcp_tw_recycle", "KernelRemovedSysctl"));
    assertThat(condition(aggregate(web, List.of(web), one, T0), "Degraded").getReason()).isEqualTo("KernelRemovedSysctl");
  }

  @Test
  void overlappingPoliciesCountSupersededNodes() {
    TcpTuningPolicy all = policy("all", 0, null);
    TcpTuningPolicy high = policy("high", 10, labels("role", "web"));
    List<TcpTuningPolicy> policies = List.of(all, high);
    TcpTuningPolicyStatus low = aggregate(all, policies, List.of(report("db1", "all", 1, NodePhase.Applied)), T0);
    assertThat(low.getNodes()).isEqualTo(new NodeCounts(6, 1, 0, 0, 5, 0));
    assertThat(condition(low, "Ready").getMessage()).isEqualTo("1/1 nodes applied, 5 superseded");
    TcpTuningPolicyStatus hi = aggregate(high, policies, List.of(), T0);
    assertThat(hi.getNodes()).isEqualTo(new NodeCounts(5, 0, 0, 0, 0, 5));

    // A policy being deleted wins nothing: the lower one takes its nodes over.
    high.getMetadata().setDeletionTimestamp("2025-06-01T09:59:00Z");
    assertThat(aggregate(all, policies, List.of(), T0).getNodes().getSuperseded()).isZero();
  }

  @Test
  void nonLinuxNodesAreNotSelected() {
    TcpTuningPolicy p = policy("any", 0, null);
    Node win = node("win1");
    win.getMetadata().getLabels().put("kubernetes.io/os", "windows");
    var s = PolicyStatusAggregator.aggregate(new PolicyStatusAggregator.Input(p, List.of(p), List.of(win), List.of(), List.of(), Optional.empty(), T0));
    assertThat(s.getNodes().getSelected()).isZero();
    assertThat(condition(s, "Ready").getReason()).isEqualTo("NoNodesSelected");
  }

  @Test
  void invalidSpecSaysWhichFieldAndWhatIsAccepted() {
    var violations = List.of(new Violation("spec.sysctls.tcpFinTimeout", "3 is out of range; accepted 5..120"));
    var s = PolicyStatusAggregator.aggregate(new PolicyStatusAggregator.Input(web, List.of(web), nodes, List.of(), violations, Optional.empty(), T0));
    assertThat(condition(s, "Ready")).satisfies(c -> {
      assertThat(c.getStatus()).isEqualTo("False");
      assertThat(c.getReason()).isEqualTo("InvalidSpec");
      assertThat(c.getMessage()).isEqualTo("spec.sysctls.tcpFinTimeout: 3 is out of range; accepted 5..120");
    });
    assertThat(condition(s, "Progressing").getReason()).isEqualTo("InvalidSpec");
  }

  @Test
  void unchangedStatusIsNoUpdateAndTransitionTimesStayStable() {
    List<TcpTuningNodeState> states = List.of(report("w1", "web", 1, NodePhase.Applied));
    var first = aggregate(web, List.of(web), states, T0);
    assertThat(first).isNotEqualTo(web.getStatus());
    web.setStatus(first);

    var again = aggregate(web, List.of(web), states, T0.plusSeconds(3600));
    assertThat(again).as("nothing new: equal to what the policy has, so the writer skips it").isEqualTo(web.getStatus());

    // A count changes but Ready stays False: the message changes, the transition time does not.
    var more = aggregate(web, List.of(web), List.of(report("w1", "web", 1, NodePhase.Applied), report("w2", "web", 1, NodePhase.Applied)), T0.plusSeconds(60));
    assertThat(more).isNotEqualTo(web.getStatus());
    assertThat(condition(more, "Ready").getMessage()).isEqualTo("2/5 nodes applied, 3 pending");
    assertThat(condition(more, "Ready").getLastTransitionTime()).isEqualTo("2025-06-01T10:00:00Z");

    // Ready flips to True: now its transition time moves.
    List<TcpTuningNodeState> all = new ArrayList<>();
    for (String n : List.of("w1", "w2", "w3", "w4", "w5")) {
      all.add(report(n, "web", 1, NodePhase.Applied));
    }
    var ready = aggregate(web, List.of(web), all, T0.plusSeconds(120));
    assertThat(condition(ready, "Ready").getLastTransitionTime()).isEqualTo("2025-06-01T10:02:00Z");
    assertThat(condition(ready, "Degraded").getLastTransitionTime()).isEqualTo("2025-06-01T10:00:00Z");
  }

  @Test
  void revertProgressWaitsForEveryNodeThePolicyTunedThatStillExists() {
    List<TcpTuningNodeState> states =
        List.of(
            report("w1", "web", 1, NodePhase.Reverted),
            report("w2", "web", 1, NodePhase.Applied),
            report("w3", "web", 1, NodePhase.Superseded), // wrote nothing
            report("w4", "other", 1, NodePhase.Applied), // another policy's node
            report("gone", "web", 1, NodePhase.Applied)); // node deleted
    var p = PolicyStatusAggregator.revertProgress("web", nodes, states);
    assertThat(p.total()).isEqualTo(2);
    assertThat(p.reverted()).isEqualTo(1);
    assertThat(p.waiting()).containsExactly("w2");
    assertThat(p.message()).isEqualTo("1/2 nodes reverted");
    assertThat(p.done()).isFalse();
    assertThat(PolicyStatusAggregator.revertProgress("nobody", nodes, states).done()).isTrue();

    var s = PolicyStatusAggregator.reverting(web, p, false, T0);
    assertThat(condition(s, "Ready").getReason()).isEqualTo("Reverting");
    assertThat(condition(s, "Ready").getMessage()).isEqualTo("1/2 nodes reverted");
    var t = PolicyStatusAggregator.reverting(web, p, true, T0);
    assertThat(condition(t, "Ready").getReason()).isEqualTo("RevertTimedOut");
    assertThat(condition(t, "Ready").getMessage()).contains("w2");
  }

  @Test
  void revertingAndReconcileFailuresKeepThePodFiguresOfTheLastStatus() {
    TcpTuningPolicy p = clients();
    p.setStatus(aggregate(p, List.of(p),
        List.of(withWorstPod(withPods(report("w1", "web", 1, NodePhase.Applied), 2, 2, 0, 0), "shop/client-a", 0.4)), T0));
    var reverting = PolicyStatusAggregator.reverting(p, new PolicyStatusAggregator.RevertProgress(1, 0, List.of("w1")), false, T0);
    assertThat(reverting.getPods()).isEqualTo(new PodCounts(2, 2, 0, 0));
    assertThat(reverting.getWorstPod().getPod()).isEqualTo("shop/client-a");
    var failed = PolicyStatusAggregator.reconcileFailed(p, "the server is down", T0);
    assertThat(failed.getPods()).isEqualTo(new PodCounts(2, 2, 0, 0));
    assertThat(failed.getWorstPod().getNode()).isEqualTo("w1");
  }

  @Test
  void affinityNoteShowsAsDegradedWhenNothingWorseIs() {
    var s = PolicyStatusAggregator.aggregate(new PolicyStatusAggregator.Input(web, List.of(web), nodes, List.of(), List.of(), Optional.of("too many terms"), T0));
    assertThat(condition(s, "Degraded").getReason()).isEqualTo("AffinityTooComplex");
    assertThat(condition(s, "Degraded").getMessage()).isEqualTo("too many terms");
  }

  static Condition condition(TcpTuningPolicyStatus s, String type) {
    return Conditions.find(s.getConditions(), type).orElseThrow(() -> new AssertionError("no condition " + type + " in " + s.getConditions()));
  }
}
