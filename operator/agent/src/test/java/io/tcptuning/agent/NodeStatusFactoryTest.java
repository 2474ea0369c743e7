package io.tcptuning.agent;

import static org.assertj.core.api.Assertions.assertThat;

import io.tcptuning.agent.pods.PodNamespaces;
import io.tcptuning.api.v1alpha1.PodCounts;
import io.tcptuning.api.v1alpha1.PodPressure;
import io.tcptuning.api.v1alpha1.PodRefusal;
import io.tcptuning.api.v1alpha1.Conditions;
import io.tcptuning.api.v1alpha1.Mode;
import io.tcptuning.api.v1alpha1.NodePhase;
import io.tcptuning.api.v1alpha1.SysctlState;
import io.tcptuning.api.v1alpha1.TcpTuningNodeStateStatus;
import io.tcptuning.api.v1alpha1.TcpTuningNodeStateStatus.SysctlStatus;
import io.tcptuning.api.v1alpha1.TcpTuningNodeStateStatus.TimeWait;
import io.tcptuning.api.v1alpha1.TimeWaitFigures;
import io.tcptuning.domain.NatVerdict;
import io.tcptuning.domain.PortRange;
import io.tcptuning.node.census.CensusReport;
import io.tcptuning.node.census.Destination;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class NodeStatusFactoryTest {
  static final NodeStatusFactory.Identity ID = new NodeStatusFactory.Identity("high-churn", 3, Mode.Enforce);
  static final NatVerdict NAT = NatVerdict.detected(List.of("running in a Kubernetes pod"));
  static final Instant T0 = Instant.parse("2026-11-22T10:00:00Z");

  static TimeWait tw(long total, double pressure, double maxDest) {
    TimeWait t = new TimeWait();
    t.setTotal(total);
    t.setPortRangeSize(28232);
    t.setPressure(pressure);
    t.setMaxDestinationPressure(maxDest);
    t.setHottestDestination("10.0.0.1:443");
    return t;
  }

  static List<SysctlStatus> sysctls(SysctlState... states) {
    return java.util.stream.IntStream.range(0, states.length)
        .mapToObj(i -> new SysctlStatus("net.ipv4.s" + i, "0", "1", "1", states[i],
            states[i] == SysctlState.Refused ? "KernelRemovedSysctl" : "WillChange", "m" + i))
        .toList();
  }

  static TcpTuningNodeStateStatus build(NodePhase phase, TimeWait t, List<SysctlStatus> s, TcpTuningNodeStateStatus prev, Instant now) {
    return NodeStatusFactory.build(ID, phase, "6.18.44", NAT, t, s, null, List.of(), prev, now);
  }

  @Test
  void appliedWithARefusalIsAppliedAndDegraded() {
    var s = build(NodePhase.Applied, tw(100, 0.01, 0.005), sysctls(SysctlState.Applied, SysctlState.Unchanged, SysctlState.Refused), null, T0);
    assertThat(Conditions.find(s.getConditions(), "Applied")).get().satisfies(c -> {
      assertThat(c.getStatus()).isEqualTo("True");
      assertThat(c.getMessage()).isEqualTo("1 applied, 1 unchanged, 1 refused");
      assertThat(c.getLastTransitionTime()).isEqualTo("2026-11-22T10:00:00Z");
    });
    assertThat(Conditions.find(s.getConditions(), "Degraded")).get().satisfies(c -> {
      assertThat(c.getStatus()).isEqualTo("True");
      assertThat(c.getReason()).isEqualTo("KernelRemovedSysctl");
      assertThat(c.getMessage()).contains("net.ipv4.s2: m2");
    });
    assertThat(s.getNat().getDetected()).isTrue();
    assertThat(s.getPolicyGeneration()).isEqualTo(3);
  }

  @Test
  void phasesMapToConditions() {
    assertThat(reason(NodePhase.Planned, "Applied")).isEqualTo("False/DryRun");
    assertThat(reason(NodePhase.Failed, "Applied")).isEqualTo("False/SysctlWriteFailed");
    assertThat(reason(NodePhase.Failed, "Degraded")).isEqualTo("True/SysctlWriteFailed");
    assertThat(reason(NodePhase.Superseded, "Applied")).isEqualTo("False/Superseded");
    assertThat(reason(NodePhase.Superseded, "Degraded")).isEqualTo("False/AsExpected");
    assertThat(reason(NodePhase.Reverted, "Applied")).isEqualTo("False/Reverted");
    assertThat(reason(NodePhase.Applied, "Degraded")).isEqualTo("False/AsExpected");
  }

  static String reason(NodePhase phase, String type) {
    var c = Conditions.find(build(phase, tw(0, 0, 0), sysctls(SysctlState.Applied), null, T0).getConditions(), type).orElseThrow();
    return c.getStatus() + "/" + c.getReason();
  }

  @Test
  void transitionTimesStayUnlessTheStatusFlips() {
    var first = build(NodePhase.Applied, tw(100, 0.01, 0.01), sysctls(SysctlState.Applied), null, T0);
    var same = build(NodePhase.Applied, tw(120, 0.01, 0.01), sysctls(SysctlState.Applied), first, T0.plusSeconds(60));
    assertThat(same.getConditions()).isEqualTo(first.getConditions());
    var failed = build(NodePhase.Failed, tw(120, 0.01, 0.01), sysctls(SysctlState.Failed), same, T0.plusSeconds(120));
    assertThat(Conditions.find(failed.getConditions(), "Applied").orElseThrow().getLastTransitionTime()).isEqualTo("2026-11-22T10:02:00Z");
  }

  @Test
  void materialChangesOnlyForWhatMatters() {
    var a = build(NodePhase.Applied, tw(1000, 0.035, 0.02), sysctls(SysctlState.Applied), null, T0);
    assertThat(NodeStatusFactory.materiallyDifferent(null, a)).isTrue();
    // More sockets, same story: no write until the heartbeat.
    var noise = build(NodePhase.Applied, tw(1200, 0.042, 0.03), sysctls(SysctlState.Applied), a, T0.plusSeconds(15));
    assertThat(NodeStatusFactory.materiallyDifferent(a, noise)).isFalse();
    var hot = build(NodePhase.Applied, tw(5000, 0.18, 0.09), sysctls(SysctlState.Applied), a, T0.plusSeconds(30));
    assertThat(NodeStatusFactory.materiallyDifferent(a, hot)).isTrue();
    var drifted = build(NodePhase.Applied, tw(1000, 0.035, 0.02), sysctls(SysctlState.Drifted), a, T0.plusSeconds(45));
    assertThat(NodeStatusFactory.materiallyDifferent(a, drifted)).isTrue();
    var reverted = build(NodePhase.Reverted, tw(1000, 0.035, 0.02), sysctls(SysctlState.Applied), a, T0.plusSeconds(45));
    assertThat(NodeStatusFactory.materiallyDifferent(a, reverted)).isTrue();
  }

  @Test
  void aRevertThatLeftAHandChangeAloneIsRevertedAndDegradedChangedByHand() {
    var plain = NodeStatusFactory.build(ID, NodePhase.Reverted, "6.18.44", NAT, tw(1, 0, 0), List.of(), "gave the node back", List.of(), null, T0);
    assertThat(Conditions.find(plain.getConditions(), "Degraded")).get().satisfies(c -> assertThat(c.getStatus()).isEqualTo("False"));

    var s = NodeStatusFactory.build(ID, NodePhase.Reverted, "6.18.44", NAT, tw(1, 0, 0), List.of(), "gave the node back",
        List.of("net.ipv4.tcp_tw_reuse: changed by hand since apply: applied 1, now 2 (original 0)"), null, T0);

    assertThat(Conditions.find(s.getConditions(), "Applied")).get().satisfies(c -> {
      assertThat(c.getStatus()).isEqualTo("False");
      assertThat(c.getReason()).isEqualTo("Reverted");
    });
    assertThat(Conditions.find(s.getConditions(), "Degraded")).get().satisfies(c -> {
      assertThat(c.getStatus()).isEqualTo("True");
      assertThat(c.getReason()).isEqualTo(NodeStatusFactory.CHANGED_BY_HAND);
      assertThat(c.getMessage()).endsWith("net.ipv4.tcp_tw_reuse: changed by hand since apply: applied 1, now 2 (original 0)");
    });
    assertThat(NodeStatusFactory.materiallyDifferent(plain, s)).isTrue();
  }

  static PodPressure podPressure(String pod, long tw, double maxDest) {
    var p = new PodPressure();
    p.setPod(pod);
    p.setTimeWait(tw);
    p.setPortRangeSize(28232);
    p.setPressure((double) tw / 28232);
    p.setMaxDestinationPressure(maxDest);
    return p;
  }

  static TcpTuningNodeStateStatus withPods(TcpTuningNodeStateStatus s, int namespaces, List<PodPressure> pods,
      PodCounts counts, List<PodRefusal> refusals) {
    return NodeStatusFactory.withPods(s, new PodNamespaces.Report(namespaces, pods, counts, refusals));
  }

  @Test
  void podFiguresWriteOnlyWhenTheyMatter() {
    var counts = new PodCounts(3, 3, 0, 0);
    var base = withPods(build(NodePhase.Applied, tw(10, 0.01, 0.01), sysctls(SysctlState.Applied), null, T0), 5,
        List.of(podPressure("apps/a", 500, 0.30), podPressure("apps/b", 20, 0.01)), counts, List.of());
    assertThat(base.getWorstPod().getPod()).isEqualTo("apps/a");
    assertThat(base.getTopPods()).hasSize(2);
    assertThat(base.getNamespaces()).isEqualTo(5);
    // Noise: socket counts, namespaces, the tail of the top list, a small pressure move.
    var noise = withPods(build(NodePhase.Applied, tw(10, 0.01, 0.01), sysctls(SysctlState.Applied), base, T0.plusSeconds(15)), 9,
        List.of(podPressure("apps/a", 600, 0.32), podPressure("apps/c", 40, 0.02)), counts, List.of());
    assertThat(NodeStatusFactory.materiallyDifferent(base, noise)).isFalse();
    // The worst pod's pressure moves by a step.
    var hotter = withPods(build(NodePhase.Applied, tw(10, 0.01, 0.01), sysctls(SysctlState.Applied), base, T0.plusSeconds(15)), 5,
        List.of(podPressure("apps/a", 900, 0.36)), counts, List.of());
    assertThat(NodeStatusFactory.materiallyDifferent(base, hotter)).isTrue();
    // Another pod becomes the worst at a pressure that matters.
    var other = withPods(build(NodePhase.Applied, tw(10, 0.01, 0.01), sysctls(SysctlState.Applied), base, T0.plusSeconds(15)), 5,
        List.of(podPressure("apps/b", 900, 0.31), podPressure("apps/a", 500, 0.30)), counts, List.of());
    assertThat(NodeStatusFactory.materiallyDifferent(base, other)).isTrue();
    // ... but not when every pod is nearly idle.
    var idleA = withPods(build(NodePhase.Applied, tw(10, 0.01, 0.01), sysctls(SysctlState.Applied), null, T0), 5,
        List.of(podPressure("apps/a", 5, 0.001)), counts, List.of());
    var idleB = withPods(build(NodePhase.Applied, tw(10, 0.01, 0.01), sysctls(SysctlState.Applied), idleA, T0.plusSeconds(15)), 5,
        List.of(podPressure("apps/b", 6, 0.002)), counts, List.of());
    assertThat(NodeStatusFactory.materiallyDifferent(idleA, idleB)).isFalse();
    // How the selected pods' tuning went is always news.
    var failed = withPods(build(NodePhase.Applied, tw(10, 0.01, 0.01), sysctls(SysctlState.Applied), base, T0.plusSeconds(15)), 5,
        List.of(podPressure("apps/a", 500, 0.30)), new PodCounts(3, 2, 0, 1), List.of());
    assertThat(NodeStatusFactory.materiallyDifferent(base, failed)).isTrue();
    var refused = withPods(build(NodePhase.Applied, tw(10, 0.01, 0.01), sysctls(SysctlState.Applied), base, T0.plusSeconds(15)), 5,
        List.of(podPressure("apps/a", 500, 0.30)), counts,
        List.of(new PodRefusal("apps/a", "net.ipv4.ip_local_port_range", "PodDeclaresSysctl", "m")));
    assertThat(NodeStatusFactory.materiallyDifferent(base, refused)).isTrue();
  }

  /** One census gives the node's and a pod's report the same figures, pressures to four decimals. */
  @Test
  void aCensusGivesTheNodeAndAPodTheSameFigures() {
    var census = new CensusReport("netlink", 1500, PortRange.LINUX_DEFAULT, 1500.0 / 28232,
        List.of(new Destination("10.0.0.1:443", 1000, 1000.0 / 28232), new Destination("10.0.0.2:80", 500, 500.0 / 28232)),
        2, 262144L, Map.of(), Set.of());

    TimeWait node = NodeStatusFactory.timeWait(census);
    PodPressure pod = NodeStatusFactory.podPressure(census, "apps/a", 4026532000L);

    assertThat(node.getTotal()).isEqualTo(1500);
    assertThat(node.getHottestDestinationSockets()).isEqualTo(1000);
    assertThat(node.getMaxTwBucketsHeadroom()).isEqualTo(262144L - 1500);
    assertThat(pod.getTimeWait()).isEqualTo(1500);
    assertThat(pod.getPod()).isEqualTo("apps/a");
    assertThat(pod.getNetnsInode()).isEqualTo(4026532000L);
    assertThat(pod.getNode()).isNull();
    for (TimeWaitFigures f : List.<TimeWaitFigures>of(node, pod)) {
      assertThat(f.getPortRangeSize()).isEqualTo(28232);
      assertThat(f.getPressure()).isEqualTo(0.0531);
      assertThat(f.getMaxDestinationPressure()).isEqualTo(0.0354);
      assertThat(f.getHottestDestination()).isEqualTo("10.0.0.1:443");
    }

    var idle = new CensusReport("netlink", 0, new PortRange(40000, 40999), 0, List.of(), 0, null, Map.of(), Set.of());
    TimeWait idleNode = NodeStatusFactory.timeWait(idle);
    PodPressure idlePod = NodeStatusFactory.podPressure(idle, "apps/b", 4026532001L);
    assertThat(idleNode.getHottestDestinationSockets()).isZero();
    assertThat(idleNode.getMaxTwBucketsHeadroom()).isNull();
    for (TimeWaitFigures f : List.<TimeWaitFigures>of(idleNode, idlePod)) {
      assertThat(f.getPortRangeSize()).isEqualTo(1000);
      assertThat(f.getMaxDestinationPressure()).isZero();
      assertThat(f.getHottestDestination()).isNull();
    }
  }
}
