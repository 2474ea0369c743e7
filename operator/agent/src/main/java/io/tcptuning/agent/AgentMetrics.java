package io.tcptuning.agent;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Tags;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.tcptuning.api.v1alpha1.SysctlState;
import io.tcptuning.domain.PortRange;
import io.tcptuning.domain.Sysctl;
import io.micrometer.core.instrument.Meter;
import io.tcptuning.api.v1alpha1.PodPressure;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The agent's Prometheus series, node_exporter style, tagged with node and policy only (never a
 * destination address: that would be one series per peer).
 */
public final class AgentMetrics {
  private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final AtomicLong timeWaitSockets = new AtomicLong();
  private final AtomicReference<Double> pressure = new AtomicReference<>(0.0);
  private final AtomicReference<Double> maxDestinationPressure = new AtomicReference<>(0.0);
  private final AtomicLong portRangeSize = new AtomicLong();
  private final AtomicLong timeWaitOverflow = new AtomicLong();
  private final AtomicLong listenOverflows = new AtomicLong();
  private final AtomicLong listenDrops = new AtomicLong();
  private final Map<Sysctl, AtomicReference<Double>> sysctlValue = new EnumMap<>(Sysctl.class);
  private final Map<Sysctl, AtomicReference<Double>> sysctlApplied = new EnumMap<>(Sysctl.class);
  /** Per pod (namespace/name): TIME_WAIT sockets and the hottest destination's pressure. */
  private final Map<String, PodGauges> podGauges = new HashMap<>();
  private final Counter drift;
  private final Counter reportFailures;
  private final Tags tags;

  public AgentMetrics(String node, String policy) {
    tags = Tags.of("node", node, "policy", policy);
    Gauge.builder("tcptuning.time.wait.sockets", timeWaitSockets, AtomicLong::get)
        .description("TIME_WAIT sockets in the node's network namespace").tags(tags).register(registry);
    Gauge.builder("tcptuning.time.wait.pressure", pressure, AtomicReference::get)
        .description("TIME_WAIT sockets / ephemeral port range size (an upper bound)").tags(tags).register(registry);
    Gauge.builder("tcptuning.time.wait.max.destination.pressure", maxDestinationPressure, AtomicReference::get)
        .description("Sockets holding an ephemeral port to the hottest destination / range size; 1 = errno 99").tags(tags).register(registry);
    Gauge.builder("tcptuning.port.range.size", portRangeSize, AtomicLong::get)
        .description("Size of net.ipv4.ip_local_port_range").tags(tags).register(registry);
    FunctionCounter.builder("tcptuning.tcpext.tcp.time.wait.overflow", timeWaitOverflow, AtomicLong::get)
        .description("TcpExt TCPTimeWaitOverflow: TIME_WAIT sockets destroyed early at tcp_max_tw_buckets").tags(tags).register(registry);
    FunctionCounter.builder("tcptuning.tcpext.listen.overflows", listenOverflows, AtomicLong::get)
        .description("TcpExt ListenOverflows: accept queue full").tags(tags).register(registry);
    FunctionCounter.builder("tcptuning.tcpext.listen.drops", listenDrops, AtomicLong::get)
        .description("TcpExt ListenDrops").tags(tags).register(registry);
    drift = Counter.builder("tcptuning.sysctl.drift").description("Tuned sysctls found changed by someone else and put back")
        .tags(tags).register(registry);
    reportFailures = Counter.builder("tcptuning.report.failures").description("Failed writes of the node's TcpTuningNodeState")
        .tags(tags).register(registry);
  }

  /** The Prometheus text exposition of every series. */
  public String scrape() {
    return registry.scrape();
  }

  public void census(long timeWait, double nodePressure, double maxDestPressure, int rangeSize, Map<String, Long> tcpExt) {
    timeWaitSockets.set(timeWait);
    pressure.set(nodePressure);
    maxDestinationPressure.set(maxDestPressure);
    portRangeSize.set(rangeSize);
    timeWaitOverflow.set(tcpExt.getOrDefault("TCPTimeWaitOverflow", 0L));
    listenOverflows.set(tcpExt.getOrDefault("ListenOverflows", 0L));
    listenDrops.set(tcpExt.getOrDefault("ListenDrops", 0L));
  }

  /** One gauge per tuned sysctl: its value (for ip_local_port_range, the range size) and whether it is in place. */
  public void sysctl(Sysctl sysctl, String actual, SysctlState state) {
    sysctlValue.computeIfAbsent(sysctl, s -> register("tcptuning.sysctl.value", s, "Current value (for ip_local_port_range: the range size)"))
        .set(numeric(sysctl, actual));
    sysctlApplied.computeIfAbsent(sysctl, s -> register("tcptuning.sysctl.applied", s, "1 when the policy's value is in place, else 0"))
        .set(state == SysctlState.Applied || state == SysctlState.Unchanged || state == SysctlState.Drifted ? 1.0 : 0.0);
  }

  private record PodGauges(AtomicLong timeWait, AtomicReference<Double> maxDestinationPressure, List<Meter> meters) {}

  /**
   * The pods of this node that hold TIME_WAIT sockets, as the last census found them: a series
   * pair per pod, tagged {@code namespace} and {@code pod}; a pod that went away or dropped to zero
   * loses its series, so there are never more than the node's pods.
   */
  public synchronized void pods(List<PodPressure> pods) {
    Set<String> now = new HashSet<>();
    for (PodPressure p : pods) {
      if (p.getTimeWait() <= 0 || p.getPod() == null) {
        continue;
      }
      now.add(p.getPod());
      PodGauges g = podGauges.computeIfAbsent(p.getPod(), this::registerPod);
      g.timeWait().set(p.getTimeWait());
      g.maxDestinationPressure().set(p.getMaxDestinationPressure());
    }
    for (var it = podGauges.entrySet().iterator(); it.hasNext(); ) {
      var e = it.next();
      if (!now.contains(e.getKey())) {
        e.getValue().meters().forEach(registry::remove);
        it.remove();
      }
    }
  }

  private PodGauges registerPod(String shown) {
    int slash = shown.indexOf('/');
    Tags podTags = tags.and("namespace", shown.substring(0, Math.max(0, slash)), "pod", shown.substring(slash + 1));
    AtomicLong tw = new AtomicLong();
    AtomicReference<Double> maxDest = new AtomicReference<>(0.0);
    Meter a = Gauge.builder("tcptuning.pod.time.wait.sockets", tw, AtomicLong::get)
        .description("TIME_WAIT sockets in a pod's network namespace (pods of this node with any)").tags(podTags).register(registry);
    Meter b = Gauge.builder("tcptuning.pod.max.destination.pressure", maxDest, AtomicReference::get)
        .description("Sockets holding an ephemeral port to the pod's hottest destination / its range size; 1 = errno 99")
        .tags(podTags).register(registry);
    return new PodGauges(tw, maxDest, List.of(a, b));
  }

  public void driftCorrected() {
    drift.increment();
  }

  public void reportFailed() {
    reportFailures.increment();
  }

  private AtomicReference<Double> register(String name, Sysctl s, String description) {
    AtomicReference<Double> ref = new AtomicReference<>(Double.NaN);
    Gauge.builder(name, ref, AtomicReference::get).description(description).tags(tags.and("sysctl", s.dottedName())).register(registry);
    return ref;
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
