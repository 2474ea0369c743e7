package io.tcptuning.agent;

import static org.assertj.core.api.Assertions.assertThat;

import io.tcptuning.api.v1alpha1.Conditions;
import io.tcptuning.api.v1alpha1.Mode;
import io.tcptuning.api.v1alpha1.NodePhase;
import io.tcptuning.api.v1alpha1.SysctlState;
import io.tcptuning.api.v1alpha1.TcpTuningNodeStateStatus;
import io.tcptuning.api.v1alpha1.TcpTuningNodeStateStatus.SysctlStatus;
import io.tcptuning.api.v1alpha1.TcpTuningNodeStateStatus.TimeWait;
import io.tcptuning.domain.NatVerdict;
import java.time.Instant;
import java.util.List;
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
    return NodeStatusFactory.build(ID, phase, "6.18.44", NAT, t, s, null, prev, now);
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
}
