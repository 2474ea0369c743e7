package io.tcptuning.agent;

import io.tcptuning.api.v1alpha1.SysctlState;
import io.tcptuning.domain.PortRange;
import io.tcptuning.domain.Sysctl;
import io.tcptuning.metrics.PrometheusText;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The agent's Prometheus series, node_exporter style, labelled with node and policy only (never a
 * destination address: that would be one series per peer). Written out by hand: a metrics
 * registry would cost the agent, which runs on every node, more memory than this whole class.
 * Updated from the kernel and API threads, read by the HTTP thread; every method is synchronized.
 */
public final class AgentMetrics {
  private final Map<String, String> labels;
  private long timeWaitSockets;
  private double pressure;
  private double maxDestinationPressure;
  private long portRangeSize;
  private long timeWaitOverflow;
  private long listenOverflows;
  private long listenDrops;
  private long drift;
  private long reportFailures;
  private final Map<Sysctl, Double> sysctlValue = new EnumMap<>(Sysctl.class);
  private final Map<Sysctl, Double> sysctlApplied = new EnumMap<>(Sysctl.class);

  public AgentMetrics(String node, String policy) {
    Map<String, String> l = new LinkedHashMap<>();
    l.put("node", node);
    l.put("policy", policy);
    labels = l;
  }

  public synchronized void census(long timeWait, double nodePressure, double maxDestPressure, int rangeSize, Map<String, Long> tcpExt) {
    timeWaitSockets = timeWait;
    pressure = nodePressure;
    maxDestinationPressure = maxDestPressure;
    portRangeSize = rangeSize;
    timeWaitOverflow = tcpExt.getOrDefault("TCPTimeWaitOverflow", 0L);
    listenOverflows = tcpExt.getOrDefault("ListenOverflows", 0L);
    listenDrops = tcpExt.getOrDefault("ListenDrops", 0L);
  }

  /** One pair of series per tuned sysctl: its value (for ip_local_port_range, the range size) and whether it is in place. */
  public synchronized void sysctl(Sysctl sysctl, String actual, SysctlState state) {
    sysctlValue.put(sysctl, numeric(sysctl, actual));
    sysctlApplied.put(sysctl, state == SysctlState.Applied || state == SysctlState.Unchanged || state == SysctlState.Drifted ? 1.0 : 0.0);
  }

  public synchronized void driftCorrected() {
    drift++;
  }

  public synchronized void reportFailed() {
    reportFailures++;
  }

  /** The Prometheus text exposition of every series. */
  public synchronized String scrape() {
    PrometheusText t = new PrometheusText();
    one(t, "tcptuning_time_wait_sockets", "gauge", "TIME_WAIT sockets in the node's network namespace", timeWaitSockets);
    one(t, "tcptuning_time_wait_pressure", "gauge", "TIME_WAIT sockets / ephemeral port range size (an upper bound)", pressure);
    one(t, "tcptuning_time_wait_max_destination_pressure", "gauge",
        "Sockets holding an ephemeral port to the hottest destination / range size; 1 = errno 99", maxDestinationPressure);
    one(t, "tcptuning_port_range_size", "gauge", "Size of net.ipv4.ip_local_port_range", portRangeSize);
    one(t, "tcptuning_tcpext_tcp_time_wait_overflow_total", "counter",
        "TcpExt TCPTimeWaitOverflow: TIME_WAIT sockets destroyed early at tcp_max_tw_buckets", timeWaitOverflow);
    one(t, "tcptuning_tcpext_listen_overflows_total", "counter", "TcpExt ListenOverflows: accept queue full", listenOverflows);
    one(t, "tcptuning_tcpext_listen_drops_total", "counter", "TcpExt ListenDrops", listenDrops);
    one(t, "tcptuning_sysctl_drift_total", "counter", "Tuned sysctls found changed by someone else and put back", drift);
    one(t, "tcptuning_report_failures_total", "counter", "Failed writes of the node's TcpTuningNodeState", reportFailures);
    perSysctl(t, "tcptuning_sysctl_value", "Current value (for ip_local_port_range: the range size)", sysctlValue);
    perSysctl(t, "tcptuning_sysctl_applied", "1 when the policy's value is in place, else 0", sysctlApplied);
    return t.toString();
  }

  private void one(PrometheusText t, String name, String type, String help, double value) {
    t.family(name, type, help).sample(name, labels, value);
  }

  private void perSysctl(PrometheusText t, String name, String help, Map<Sysctl, Double> values) {
    if (values.isEmpty()) {
      return;
    }
    t.family(name, "gauge", help);
    values.forEach((sysctl, value) -> {
      Map<String, String> l = new LinkedHashMap<>(labels);
      l.put("sysctl", sysctl.dottedName());
      t.sample(name, l, value);
    });
  }

  static double numeric(Sysctl s, String value) {
    if (value == null) {
      return Double.NaN;
    }
    if (s == Sysctl.IP_LOCAL_PORT_RANGE) {
      return PortRange.parseKernel(value).map(r -> (double) r.size()).orElse(Double.NaN);
    }
    try {
      return Double.parseDouble(value.strip());
    } catch (NumberFormatException e) {
      return Double.NaN;
    }
  }
}
