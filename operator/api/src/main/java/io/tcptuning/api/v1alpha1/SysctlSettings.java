package io.tcptuning.api.v1alpha1;

import static io.tcptuning.api.v1alpha1.PolicyBounds.*;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.ValidationRule;

/**
 * The sysctls a policy may set. The set is closed: the agent writes only these files, whose
 * paths are fixed in code (the core module's {@code io.tcptuning.domain.Sysctl}).
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@ValidationRule(
    value =
        "!has(self.ipLocalPortRange) || !self.ipLocalPortRange.matches('"
            + PORT_RANGE_PATTERN
            + "') || (int(self.ipLocalPortRange.split(' ')[0]) >= "
            + PORT_RANGE_MIN
            + " && int(self.ipLocalPortRange.split(' ')[0]) < int(self.ipLocalPortRange.split(' ')[1])"
            + " && int(self.ipLocalPortRange.split(' ')[1]) <= "
            + PORT_RANGE_MAX
            + ")",
    message = "ipLocalPortRange must be \"min max\" with " + PORT_RANGE_ACCEPTED,
    fieldPath = ".ipLocalPortRange",
    reason = "FieldValueInvalid")
@ValidationRule(
    value =
        "!(has(self.tcpTwReuse) && self.tcpTwReuse != 0 && has(self.tcpTimestamps) && self.tcpTimestamps == 0)",
    message =
        "tcpTwReuse 1 or 2 needs tcpTimestamps 1: with timestamps off, TIME_WAIT reuse silently does nothing",
    fieldPath = ".tcpTwReuse",
    reason = "FieldValueForbidden")
public class SysctlSettings {

  @JsonPropertyDescription(
      "net.ipv4.tcp_tw_reuse: 0 off, 1 on, 2 loopback only (the kernel default). Lets an outgoing"
          + " connect() reuse a local port held in TIME_WAIT once 1 s has passed since its last"
          + " timestamp. Needs tcp_timestamps=1.")
  @Min(TW_REUSE_MIN)
  @Max(TW_REUSE_MAX)
  private Integer tcpTwReuse;

  @JsonPropertyDescription(
      "net.ipv4.tcp_timestamps: 1 on (the default), 0 off. Off disables tcp_tw_reuse and PAWS.")
  @Min(TIMESTAMPS_MIN)
  @Max(TIMESTAMPS_MAX)
  private Integer tcpTimestamps;

  @JsonPropertyDescription(
      "net.ipv4.ip_local_port_range as \"min max\", " + PORT_RANGE_ACCEPTED + " (default \"32768 60999\")."
          + " A wider range holds more TIME_WAIT sockets per destination. Prefer min and max of"
          + " different parity.")
  @Pattern(PORT_RANGE_PATTERN)
  private String ipLocalPortRange;

  @JsonPropertyDescription(
      "net.ipv4.tcp_fin_timeout, seconds (5..120, default 60): how long an orphaned socket stays in"
          + " FIN_WAIT_2. It does NOT shorten TIME_WAIT, which is fixed at 60 s.")
  @Min(FIN_TIMEOUT_MIN)
  @Max(FIN_TIMEOUT_MAX)
  private Integer tcpFinTimeout;

  @JsonPropertyDescription(
      "net.ipv4.tcp_max_tw_buckets (8000..1440000): past this many TIME_WAIT sockets the kernel"
          + " destroys them early and counts TCPTimeWaitOverflow.")
  @Min(MAX_TW_BUCKETS_MIN)
  @Max(MAX_TW_BUCKETS_MAX)
  private Integer tcpMaxTwBuckets;

  @JsonPropertyDescription(
      "net.core.somaxconn (4096..3240000): cap on the listen() backlog. Affects sockets that call"
          + " listen() after the change only.")
  @Min(SOMAXCONN_MIN)
  @Max(SOMAXCONN_MAX)
  private Integer somaxconn;

  @JsonPropertyDescription("net.ipv4.tcp_max_syn_backlog (128..3240000): SYN queue size.")
  @Min(MAX_SYN_BACKLOG_MIN)
  @Max(MAX_SYN_BACKLOG_MAX)
  private Integer tcpMaxSynBacklog;

  @JsonPropertyDescription(
      "net.ipv4.tcp_tw_recycle: accepted by the schema only so that the agents can explain the"
          + " refusal. Removed in Linux 4.12 and unsafe behind NAT: every agent refuses 1 on such"
          + " nodes, and where the kernel version is unknown.")
  @Min(TW_RECYCLE_MIN)
  @Max(TW_RECYCLE_MAX)
  private Integer tcpTwRecycle;

  public Integer getTcpTwReuse() {
    return tcpTwReuse;
  }

  public void setTcpTwReuse(Integer tcpTwReuse) {
    this.tcpTwReuse = tcpTwReuse;
  }

  public Integer getTcpTimestamps() {
    return tcpTimestamps;
  }

  public void setTcpTimestamps(Integer tcpTimestamps) {
    this.tcpTimestamps = tcpTimestamps;
  }

  public String getIpLocalPortRange() {
    return ipLocalPortRange;
  }

  public void setIpLocalPortRange(String ipLocalPortRange) {
    this.ipLocalPortRange = ipLocalPortRange;
  }

  public Integer getTcpFinTimeout() {
    return tcpFinTimeout;
  }

  public void setTcpFinTimeout(Integer tcpFinTimeout) {
    this.tcpFinTimeout = tcpFinTimeout;
  }

  public Integer getTcpMaxTwBuckets() {
    return tcpMaxTwBuckets;
  }

  public void setTcpMaxTwBuckets(Integer tcpMaxTwBuckets) {
    this.tcpMaxTwBuckets = tcpMaxTwBuckets;
  }

  public Integer getSomaxconn() {
    return somaxconn;
  }

  public void setSomaxconn(Integer somaxconn) {
    this.somaxconn = somaxconn;
  }

  public Integer getTcpMaxSynBacklog() {
    return tcpMaxSynBacklog;
  }

  public void setTcpMaxSynBacklog(Integer tcpMaxSynBacklog) {
    this.tcpMaxSynBacklog = tcpMaxSynBacklog;
  }

  public Integer getTcpTwRecycle() {
    return tcpTwRecycle;
  }

  public void setTcpTwRecycle(Integer tcpTwRecycle) {
    this.tcpTwRecycle = tcpTwRecycle;
  }
}
