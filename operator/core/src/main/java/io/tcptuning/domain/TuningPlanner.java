package io.tcptuning.domain;

import io.tcptuning.api.v1alpha1.SysctlSettings;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The safety rules and the plan: for each sysctl a policy names, the current value, the desired
 * one, and Change, Keep or Refuse with the reason. Pure: the caller reads the kernel, the
 * planner decides, the caller writes only what says Change.
 */
public final class TuningPlanner {

  /** Reasons, one CamelCase word each. */
  public static final String ALREADY_SET = "AlreadySet";
  public static final String WILL_CHANGE = "WillChange";
  public static final String UNSUPPORTED = "Unsupported";
  public static final String KERNEL_REMOVED_SYSCTL = "KernelRemovedSysctl";
  public static final String KERNEL_VERSION_UNKNOWN = "KernelVersionUnknown";
  public static final String NAT_DETECTED = "NatDetected";
  public static final String NAT_UNKNOWN = "NatUnknown";
  public static final String TIMESTAMPS_DISABLED = "TimestampsDisabled";
  public static final String TW_REUSE_NEEDS_TIMESTAMPS = "TwReuseNeedsTimestamps";

  static final String FIN_TIMEOUT_NOTE =
      "note: tcp_fin_timeout bounds FIN_WAIT_2 only; it does not shorten TIME_WAIT, which stays 60 s";

  private TuningPlanner() {}

  /** The policy's sysctls as canonical strings, in allowlist order. Assumes a validated spec. */
  public static Map<Sysctl, String> desired(SysctlSettings settings) {
    Map<Sysctl, String> out = new EnumMap<>(Sysctl.class);
    for (Sysctl s : Sysctl.values()) {
      Object v = s.valueIn(settings);
      if (v != null) {
        String value = Sysctl.canonical(v.toString());
        // "01024 65535" passes the manifest pattern, but the kernel reads a leading 0 as octal.
        if (s == Sysctl.IP_LOCAL_PORT_RANGE) {
          value = PortRange.parseManifest(value).map(PortRange::toString).orElse(value);
        }
        out.put(s, value);
      }
    }
    return out;
  }

  /**
   * @param current canonical current values; a sysctl missing from the map has no file here
   */
  public static Plan plan(TuningRequest in, Map<Sysctl, String> current) {
    List<PlannedSysctl> lines = new ArrayList<>();
    List<String> warnings = new ArrayList<>();
    for (var e : in.desired().entrySet()) {
      lines.add(planOne(e.getKey(), e.getValue(), in, current));
    }
    portRangeWarnings(in, warnings);
    return new Plan(lines, warnings);
  }

  private static PlannedSysctl planOne(Sysctl s, String desired, TuningRequest in, Map<Sysctl, String> now) {
    String current = now.get(s);
    if (s == Sysctl.TCP_TW_RECYCLE) {
      var refusal = twRecycleRefusal(desired, current, in);
      if (refusal != null) {
        return refusal;
      }
    }
    if (current == null) {
      return refuse(s, null, desired, UNSUPPORTED,
          s.dottedName() + " does not exist on kernel " + in.kernel().release() + "; it is never created");
    }
    if (s == Sysctl.TCP_TW_REUSE && !"0".equals(desired)) {
      String timestamps = in.desired().getOrDefault(Sysctl.TCP_TIMESTAMPS, now.get(Sysctl.TCP_TIMESTAMPS));
      if ("0".equals(timestamps)) {
        return refuse(s, current, desired, TIMESTAMPS_DISABLED,
            "tcp_tw_reuse " + desired + " needs net.ipv4.tcp_timestamps=1 (it is 0): reuse would silently do nothing");
      }
    }
    if (s == Sysctl.TCP_TIMESTAMPS && "0".equals(desired)) {
      String reuse = in.desired().get(Sysctl.TCP_TW_REUSE);
      if (reuse != null && !"0".equals(reuse)) {
        return refuse(s, current, desired, TW_REUSE_NEEDS_TIMESTAMPS,
            "tcp_timestamps 0 would silently disable the tcp_tw_reuse " + reuse + " this policy asks for");
      }
    }
    String note = s == Sysctl.TCP_FIN_TIMEOUT ? "; " + FIN_TIMEOUT_NOTE : "";
    if (s.sameValue(current, desired)) {
      return new PlannedSysctl(s, current, desired, Action.Keep, ALREADY_SET, "already " + desired + note);
    }
    return new PlannedSysctl(s, current, desired, Action.Change, WILL_CHANGE, current + " -> " + desired + note);
  }

  /** tcp_tw_recycle: removed in 4.12, unsafe behind NAT, refused when either is unknown. */
  private static PlannedSysctl twRecycleRefusal(String desired, String current, TuningRequest in) {
    Sysctl s = Sysctl.TCP_TW_RECYCLE;
    if (in.kernel().atLeast(4, 12)) {
      return refuse(s, current, desired, KERNEL_REMOVED_SYSCTL,
          "tcp_tw_recycle was removed in Linux 4.12; this kernel is " + in.kernel().release());
    }
    if (!"1".equals(desired)) {
      return null;
    }
    if (!in.kernel().known()) {
      return refuse(s, current, desired, KERNEL_VERSION_UNKNOWN,
          "kernel version unknown (" + PolicyValidator.quote(in.kernel().release())
              + "); tcp_tw_recycle=1 is refused unless the kernel is known to be older than 4.12");
    }
    if (in.assumeNat() || Boolean.TRUE.equals(in.nat().detected())) {
      String evidence = in.assumeNat() ? "the policy sets assumeNat" : String.join("; ", in.nat().evidence());
      return refuse(s, current, desired, NAT_DETECTED,
          "tcp_tw_recycle=1 drops SYNs from clients behind NAT; NAT is in play here (" + evidence + ")");
    }
    if (in.nat().detected() == null) {
      return refuse(s, current, desired, NAT_UNKNOWN,
          "tcp_tw_recycle=1 is refused because NAT could not be ruled out on this node");
    }
    return null;
  }

  private static void portRangeWarnings(TuningRequest in, List<String> warnings) {
    String desired = in.desired().get(Sysctl.IP_LOCAL_PORT_RANGE);
    if (desired == null) {
      return;
    }
    PortRange.parseKernel(desired).ifPresent(r -> {
      if (r.sameParity()) {
        warnings.add("ip_local_port_range " + r + ": min and max have the same parity; the kernel prefers"
            + " different parity (connect() takes even ports first, bind() odd ones)");
      }
      Set<Integer> inside = new TreeSet<>();
      for (int port : in.listeningPorts()) {
        if (r.contains(port)) {
          inside.add(port);
        }
      }
      if (!inside.isEmpty()) {
        warnings.add("ip_local_port_range " + r + " covers ports something listens on: " + inside
            + "; consider net.ipv4.ip_local_reserved_ports");
      }
    });
  }

  private static PlannedSysctl refuse(Sysctl s, String current, String desired, String reason, String message) {
    return new PlannedSysctl(s, current, desired, Action.Refuse, reason, message);
  }
}
