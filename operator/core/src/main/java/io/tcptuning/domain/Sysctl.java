package io.tcptuning.domain;

import static io.tcptuning.api.v1alpha1.PolicyBounds.*;

import io.tcptuning.api.v1alpha1.SysctlSettings;
import java.util.Arrays;
import java.util.Optional;
import java.util.function.Function;

/**
 * The closed allowlist of sysctls this project reads and writes. Each file path is fixed here;
 * no path is ever built from user input.
 */
public enum Sysctl {
  TCP_TW_REUSE("net.ipv4.tcp_tw_reuse", "tcpTwReuse", TW_REUSE_MIN, TW_REUSE_MAX, SysctlSettings::getTcpTwReuse),
  TCP_TIMESTAMPS("net.ipv4.tcp_timestamps", "tcpTimestamps", TIMESTAMPS_MIN, TIMESTAMPS_MAX, SysctlSettings::getTcpTimestamps),
  IP_LOCAL_PORT_RANGE("net.ipv4.ip_local_port_range", "ipLocalPortRange", PORT_RANGE_MIN, PORT_RANGE_MAX, SysctlSettings::getIpLocalPortRange),
  TCP_FIN_TIMEOUT("net.ipv4.tcp_fin_timeout", "tcpFinTimeout", FIN_TIMEOUT_MIN, FIN_TIMEOUT_MAX, SysctlSettings::getTcpFinTimeout),
  TCP_MAX_TW_BUCKETS("net.ipv4.tcp_max_tw_buckets", "tcpMaxTwBuckets", MAX_TW_BUCKETS_MIN, MAX_TW_BUCKETS_MAX, SysctlSettings::getTcpMaxTwBuckets),
  SOMAXCONN("net.core.somaxconn", "somaxconn", SOMAXCONN_MIN, SOMAXCONN_MAX, SysctlSettings::getSomaxconn),
  TCP_MAX_SYN_BACKLOG("net.ipv4.tcp_max_syn_backlog", "tcpMaxSynBacklog", MAX_SYN_BACKLOG_MIN, MAX_SYN_BACKLOG_MAX, SysctlSettings::getTcpMaxSynBacklog),
  TCP_TW_RECYCLE("net.ipv4.tcp_tw_recycle", "tcpTwRecycle", TW_RECYCLE_MIN, TW_RECYCLE_MAX, SysctlSettings::getTcpTwRecycle);

  private final String dottedName;
  private final String field;
  private final int min;
  private final int max;
  private final Function<SysctlSettings, Object> getter;

  Sysctl(String dottedName, String field, int min, int max, Function<SysctlSettings, Object> getter) {
    this.dottedName = dottedName;
    this.field = field;
    this.min = min;
    this.max = max;
    this.getter = getter;
  }

  /** As under /proc/sys with dots: {@code net.ipv4.tcp_tw_reuse}. */
  public String dottedName() {
    return dottedName;
  }

  /** Relative to /proc/sys: {@code net/ipv4/tcp_tw_reuse}. A constant of this enum. */
  public String procPath() {
    return dottedName.replace('.', '/');
  }

  /** The field in {@code spec.sysctls}: {@code tcpTwReuse}. */
  public String field() {
    return field;
  }

  /** The manifest path of the field, for error messages: {@code spec.sysctls.tcpTwReuse}. */
  public String fieldPath() {
    return "spec.sysctls." + field;
  }

  /** Lowest accepted value (for the port range: the lowest port). */
  public int min() {
    return min;
  }

  /** Highest accepted value (for the port range: the highest port). */
  public int max() {
    return max;
  }

  /** The value this sysctl has in the settings, or null when absent. */
  public Object valueIn(SysctlSettings settings) {
    return settings == null ? null : getter.apply(settings);
  }

  /**
   * A kernel value made comparable: whitespace trimmed and runs of blanks or tabs collapsed to
   * one space ({@code "32768\t60999\n"} becomes {@code "32768 60999"}).
   */
  public static String canonical(String raw) {
    return raw == null ? null : raw.strip().replaceAll("\\s+", " ");
  }

  /**
   * Whether two kernel values of this sysctl are the same value, the one comparison every part
   * uses: canonical text, and for the port range the two ports ({@code "10240\t65535"} is {@code
   * "10240 65535"}). Two absent values are the same; an absent and a present one are not.
   */
  public boolean sameValue(String a, String b) {
    if (a == null || b == null) {
      return a == b;
    }
    if (this == IP_LOCAL_PORT_RANGE) {
      Optional<PortRange> ra = PortRange.parseKernel(a);
      return ra.isPresent() && ra.equals(PortRange.parseKernel(b));
    }
    return canonical(a).equals(canonical(b));
  }

  public static Optional<Sysctl> byDottedName(String dottedName) {
    return Arrays.stream(values()).filter(s -> s.dottedName.equals(dottedName)).findFirst();
  }

  public static Optional<Sysctl> byField(String field) {
    return Arrays.stream(values()).filter(s -> s.field.equals(field)).findFirst();
  }
}
