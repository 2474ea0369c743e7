package io.tcptuning.operator;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.tcptuning.api.v1alpha1.TcpTuningPolicyStatus;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Per-policy gauges: nodes by state ({@code tcptuning_policy_nodes{policy,state}}) and the worst
 * TIME_WAIT pressure ({@code tcptuning_policy_max_pressure{policy}}), plus a counter of status
 * writes. Tags stay low-cardinality: the policy name and a fixed set of states.
 */
public final class PolicyMetrics {
  public static final List<String> STATES = List.of("selected", "applied", "refused", "failed", "superseded", "pending");

  private final MeterRegistry registry;
  private final Map<String, PolicyGauges> byPolicy = new ConcurrentHashMap<>();

  private record PolicyGauges(Map<String, AtomicLong> nodes, AtomicLong pressureMillis, Counter writes, List<Meter> meters) {}

  public PolicyMetrics(MeterRegistry registry) {
    this.registry = registry;
  }

  public void update(String policy, TcpTuningPolicyStatus status) {
    PolicyGauges g = byPolicy.computeIfAbsent(policy, this::register);
    var n = status.getNodes();
    if (n != null) {
      g.nodes().get("selected").set(n.getSelected());
      g.nodes().get("applied").set(n.getApplied());
      g.nodes().get("refused").set(n.getRefused());
      g.nodes().get("failed").set(n.getFailed());
      g.nodes().get("superseded").set(n.getSuperseded());
      g.nodes().get("pending").set(n.getPending());
    }
    g.pressureMillis().set(status.getMaxPressure() == null ? 0 : Math.round(status.getMaxPressure() * 1000));
  }

  public void statusWritten(String policy) {
    byPolicy.computeIfAbsent(policy, this::register).writes().increment();
  }

  public void remove(String policy) {
    PolicyGauges g = byPolicy.remove(policy);
    if (g != null) {
      g.meters().forEach(registry::remove);
    }
  }

  private PolicyGauges register(String policy) {
    Map<String, AtomicLong> nodes = new ConcurrentHashMap<>();
    List<Meter> meters = new ArrayList<>();
    for (String state : STATES) {
      AtomicLong v = new AtomicLong();
      nodes.put(state, v);
      meters.add(
          Gauge.builder("tcptuning.policy.nodes", v, AtomicLong::get)
              .description("Nodes of a policy by state")
              .tags(Tags.of("policy", policy, "state", state))
              .register(registry));
    }
    AtomicLong pressure = new AtomicLong();
    meters.add(
        Gauge.builder("tcptuning.policy.max.pressure", pressure, p -> p.get() / 1000.0)
            .description("Worst TIME_WAIT pressure (sockets to the hottest destination / port range size) over the policy's nodes")
            .tags(Tags.of("policy", policy))
            .register(registry));
    Counter writes =
        Counter.builder("tcptuning.policy.status.writes").description("Status writes of a policy").tags(Tags.of("policy", policy)).register(registry);
    meters.add(writes);
    return new PolicyGauges(nodes, pressure, writes, meters);
  }
}
