package io.tcptuning.domain;

import static io.tcptuning.domain.Sysctl.*;
import static org.assertj.core.api.Assertions.assertThat;

import io.tcptuning.api.v1alpha1.SysctlSettings;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

class TuningPlannerTest {
  static final KernelVersion MODERN = KernelVersion.parse("6.18.44-foo");
  static final KernelVersion OLD = KernelVersion.parse("4.9.0-19-amd64");
  static final KernelVersion RHEL7 = KernelVersion.parse("3.10.0-1160.el7.x86_64");
  static final NatVerdict NO_NAT = NatVerdict.none(List.of("no nat table"));
  static final NatVerdict NAT = NatVerdict.detected(List.of("iptables nat table present"));
  static final NatVerdict NAT_UNKNOWN = NatVerdict.unknown(List.of("/proc/net unreadable"));

  /** The Linux defaults of a modern kernel, every file present. */
  static Map<Sysctl, String> modernDefaults() {
    Map<Sysctl, String> m = new EnumMap<>(Sysctl.class);
    m.put(TCP_TW_REUSE, "2");
    m.put(TCP_TIMESTAMPS, "1");
    m.put(IP_LOCAL_PORT_RANGE, "32768 60999");
    m.put(TCP_FIN_TIMEOUT, "60");
    m.put(TCP_MAX_TW_BUCKETS, "262144");
    m.put(SOMAXCONN, "4096");
    m.put(TCP_MAX_SYN_BACKLOG, "1024");
    return m; // no tcp_tw_recycle: removed in 4.12
  }

  static Map<Sysctl, String> oldKernelDefaults() {
    Map<Sysctl, String> m = modernDefaults();
    m.put(TCP_TW_REUSE, "0");
    m.put(TCP_TW_RECYCLE, "0");
    return m;
  }

  static PlannedSysctl planOne(Sysctl s, String desired, Map<Sysctl, String> current, KernelVersion k, NatVerdict nat) {
    var plan = TuningPlanner.plan(new TuningRequest("test", Map.of(s, desired), k, nat, false, Set.of()), current);
    assertThat(plan.sysctls()).hasSize(1);
    return plan.sysctls().getFirst();
  }

  @Nested
  class TwRecycle {
    @ParameterizedTest
    @CsvSource({"6.18.44-foo", "4.12.0", "4.12", "5.4.0-150-generic", "10.0.1"})
    void refusedAsRemovedOnKernel412AndLater(String release) {
      var p = planOne(TCP_TW_RECYCLE, "1", modernDefaults(), KernelVersion.parse(release), NO_NAT);
      assertThat(p.action()).isEqualTo(Action.Refuse);
      assertThat(p.reason()).isEqualTo(TuningPlanner.KERNEL_REMOVED_SYSCTL);
      assertThat(p.message()).contains("removed in Linux 4.12");
    }

    @Test
    void zeroIsAlsoRefusedWhereTheSysctlNoLongerExists() {
      var p = planOne(TCP_TW_RECYCLE, "0", modernDefaults(), MODERN, NO_NAT);
      assertThat(p.action()).isEqualTo(Action.Refuse);
      assertThat(p.reason()).isEqualTo(TuningPlanner.KERNEL_REMOVED_SYSCTL);
    }

    @ParameterizedTest
    @CsvSource({"garbage", "''", "v4.9", "linux"})
    void refusedWhenTheKernelVersionIsUnknown(String release) {
      var p = planOne(TCP_TW_RECYCLE, "1", oldKernelDefaults(), KernelVersion.parse(release), NO_NAT);
      assertThat(p.action()).isEqualTo(Action.Refuse);
      assertThat(p.reason()).isEqualTo(TuningPlanner.KERNEL_VERSION_UNKNOWN);
    }

    @Test
    void refusedBehindNatOnOldKernels() {
      var p = planOne(TCP_TW_RECYCLE, "1", oldKernelDefaults(), OLD, NAT);
      assertThat(p.action()).isEqualTo(Action.Refuse);
      assertThat(p.reason()).isEqualTo(TuningPlanner.NAT_DETECTED);
      assertThat(p.message()).contains("iptables nat table present");
    }

    @Test
    void refusedWhenThePolicyAssumesNat() {
      var plan = TuningPlanner.plan(new TuningRequest("test", Map.of(TCP_TW_RECYCLE, "1"), OLD, NO_NAT, true, Set.of()), oldKernelDefaults());
      assertThat(plan.sysctls().getFirst().reason()).isEqualTo(TuningPlanner.NAT_DETECTED);
      assertThat(plan.sysctls().getFirst().message()).contains("assumeNat");
    }

    @Test
    void refusedWhenNatCannotBeRuledOut() {
      var p = planOne(TCP_TW_RECYCLE, "1", oldKernelDefaults(), RHEL7, NAT_UNKNOWN);
      assertThat(p.action()).isEqualTo(Action.Refuse);
      assertThat(p.reason()).isEqualTo(TuningPlanner.NAT_UNKNOWN);
    }

    @Test
    void allowedOnlyOnAKnownOldKernelWithNatRuledOut() {
      var p = planOne(TCP_TW_RECYCLE, "1", oldKernelDefaults(), OLD, NO_NAT);
      assertThat(p.action()).isEqualTo(Action.Change);
      assertThat(p.current()).isEqualTo("0");
    }

    @Test
    void turningItOffOnAnOldKernelIsAlwaysFine() {
      Map<Sysctl, String> current = oldKernelDefaults();
      current.put(TCP_TW_RECYCLE, "1");
      var p = planOne(TCP_TW_RECYCLE, "0", current, OLD, NAT);
      assertThat(p.action()).isEqualTo(Action.Change);
    }
  }

  @Nested
  class TwReuseAndTimestamps {
    @ParameterizedTest
    @CsvSource({"1", "2"})
    void reuseRefusedWhenTimestampsAreOffAndThePolicyLeavesThemAlone(String reuse) {
      Map<Sysctl, String> current = modernDefaults();
      current.put(TCP_TIMESTAMPS, "0");
      var p = planOne(TCP_TW_REUSE, reuse, current, MODERN, NO_NAT);
      assertThat(p.action()).isEqualTo(Action.Refuse);
      assertThat(p.reason()).isEqualTo(TuningPlanner.TIMESTAMPS_DISABLED);
      assertThat(p.message()).contains("tcp_timestamps=1");
    }

    @Test
    void reuseAllowedWhenThePolicyAlsoTurnsTimestampsOn() {
      Map<Sysctl, String> current = modernDefaults();
      current.put(TCP_TIMESTAMPS, "0");
      var plan = TuningPlanner.plan(new TuningRequest("test", Map.of(TCP_TW_REUSE, "1", TCP_TIMESTAMPS, "1"), MODERN, NO_NAT, false, Set.of()), current);
      assertThat(plan.sysctls()).extracting(PlannedSysctl::action).containsExactly(Action.Change, Action.Change);
    }

    @Test
    void reuseZeroNeedsNoTimestamps() {
      Map<Sysctl, String> current = modernDefaults();
      current.put(TCP_TIMESTAMPS, "0");
      assertThat(planOne(TCP_TW_REUSE, "0", current, MODERN, NO_NAT).action()).isEqualTo(Action.Change);
    }

    @Test
    void timestampsOffRefusedWhenThePolicyWantsReuse() {
      var plan = TuningPlanner.plan(new TuningRequest("test", Map.of(TCP_TW_REUSE, "1", TCP_TIMESTAMPS, "0"), MODERN, NO_NAT, false, Set.of()), modernDefaults());
      assertThat(plan.refusals()).extracting(PlannedSysctl::reason)
          .containsExactly(TuningPlanner.TIMESTAMPS_DISABLED, TuningPlanner.TW_REUSE_NEEDS_TIMESTAMPS);
      assertThat(plan.changes()).isEmpty();
    }
  }

  @ParameterizedTest
  @EnumSource(value = Sysctl.class, names = "TCP_TW_RECYCLE", mode = EnumSource.Mode.EXCLUDE)
  void aMissingFileIsRefusedAsUnsupportedNeverCreated(Sysctl s) {
    Map<Sysctl, String> current = modernDefaults();
    current.remove(s);
    String desired = s == IP_LOCAL_PORT_RANGE ? "10240 65535" : String.valueOf(s.min());
    var p = planOne(s, desired, current, MODERN, NO_NAT);
    assertThat(p.action()).isEqualTo(Action.Refuse);
    assertThat(p.reason()).isEqualTo(TuningPlanner.UNSUPPORTED);
    assertThat(p.current()).isNull();
    assertThat(p.message()).contains(s.dottedName()).contains("never created");
  }

  @ParameterizedTest
  @EnumSource(value = Sysctl.class, names = "TCP_TW_RECYCLE", mode = EnumSource.Mode.EXCLUDE)
  void changeWhenDifferentKeepWhenEqual(Sysctl s) {
    Map<Sysctl, String> current = modernDefaults();
    String other = s == IP_LOCAL_PORT_RANGE ? "10240 65535"
        : String.valueOf(current.get(s).equals(String.valueOf(s.max())) ? s.min() : s.max());
    var change = planOne(s, other, current, MODERN, NO_NAT);
    assertThat(change.action()).isEqualTo(Action.Change);
    assertThat(change.reason()).isEqualTo(TuningPlanner.WILL_CHANGE);
    assertThat(change.message()).startsWith(current.get(s) + " -> " + other);

    var keep = planOne(s, current.get(s), current, MODERN, NO_NAT);
    assertThat(keep.action()).isEqualTo(Action.Keep);
    assertThat(keep.reason()).isEqualTo(TuningPlanner.ALREADY_SET);
  }

  @Test
  void portRangeComparesAsNumbersWhateverTheWhitespace() {
    Map<Sysctl, String> current = modernDefaults();
    current.put(IP_LOCAL_PORT_RANGE, Sysctl.canonical("10240\t65535\n"));
    assertThat(planOne(IP_LOCAL_PORT_RANGE, "10240 65535", current, MODERN, NO_NAT).action()).isEqualTo(Action.Keep);
  }

  @Test
  void finTimeoutCarriesTheNoteThatItDoesNotShortenTimeWait() {
    var change = planOne(TCP_FIN_TIMEOUT, "30", modernDefaults(), MODERN, NO_NAT);
    assertThat(change.message()).contains("FIN_WAIT_2").contains("does not shorten TIME_WAIT");
    var keep = planOne(TCP_FIN_TIMEOUT, "60", modernDefaults(), MODERN, NO_NAT);
    assertThat(keep.message()).contains("does not shorten TIME_WAIT");
  }

  @Test
  void portRangeWarnings() {
    var sameParity = TuningPlanner.plan(new TuningRequest("test", Map.of(IP_LOCAL_PORT_RANGE, "10240 65534"), MODERN, NO_NAT, false, Set.of()), modernDefaults());
    assertThat(sameParity.warnings()).singleElement().asString().contains("same parity");

    var listening = TuningPlanner.plan(new TuningRequest("test", Map.of(IP_LOCAL_PORT_RANGE, "10240 65535"), MODERN, NO_NAT, false, Set.of(22, 8080, 30000, 70000)), modernDefaults());
    assertThat(listening.warnings()).singleElement().asString().contains("[30000]").doesNotContain("8080");

    var clean = TuningPlanner.plan(new TuningRequest("test", Map.of(IP_LOCAL_PORT_RANGE, "10240 65535"), MODERN, NO_NAT, false, Set.of(8080)), modernDefaults());
    assertThat(clean.warnings()).isEmpty();
  }

  @Test
  void desiredTakesOnlyWhatThePolicyNamesInAllowlistOrder() {
    SysctlSettings s = new SysctlSettings();
    s.setIpLocalPortRange("10240 65535");
    s.setTcpTwReuse(1);
    s.setSomaxconn(8192);
    assertThat(TuningPlanner.desired(s)).containsExactly(
        Map.entry(TCP_TW_REUSE, "1"), Map.entry(IP_LOCAL_PORT_RANGE, "10240 65535"), Map.entry(SOMAXCONN, "8192"));
    assertThat(TuningPlanner.desired(new SysctlSettings())).isEmpty();
    assertThat(TuningPlanner.desired(null)).isEmpty();
  }

  @Test
  void theHighChurnExampleOnADefaultModernNode() {
    SysctlSettings s = new SysctlSettings();
    s.setTcpTwReuse(1);
    s.setTcpTimestamps(1);
    s.setIpLocalPortRange("10240 65535");
    var plan = TuningPlanner.plan(new TuningRequest("test", TuningPlanner.desired(s), MODERN, NAT, false, Set.of()), modernDefaults());
    assertThat(plan.sysctls()).extracting(p -> p.sysctl() + " " + p.action())
        .containsExactly("TCP_TW_REUSE Change", "TCP_TIMESTAMPS Keep", "IP_LOCAL_PORT_RANGE Change");
    assertThat(plan.warnings()).isEmpty();
  }
}
