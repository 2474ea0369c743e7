package io.tcptuning.operator;

import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.LabelSelectorBuilder;
import io.fabric8.kubernetes.api.model.LabelSelectorRequirement;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.tcptuning.api.v1alpha1.Mode;
import io.tcptuning.api.v1alpha1.NodePhase;
import io.tcptuning.api.v1alpha1.PodCounts;
import io.tcptuning.api.v1alpha1.PodPressure;
import io.tcptuning.api.v1alpha1.PodRefusal;
import io.tcptuning.api.v1alpha1.SysctlSettings;
import io.tcptuning.api.v1alpha1.SysctlState;
import io.tcptuning.api.v1alpha1.TcpTuningNodeState;
import io.tcptuning.api.v1alpha1.TcpTuningNodeStateStatus;
import io.tcptuning.api.v1alpha1.TcpTuningNodeStateStatus.SysctlStatus;
import io.tcptuning.api.v1alpha1.TcpTuningNodeStateStatus.TimeWait;
import io.tcptuning.api.v1alpha1.TcpTuningPolicy;
import io.tcptuning.api.v1alpha1.TcpTuningPolicySpec;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Test objects: policies, nodes and node reports. */
final class Fixtures {
  private Fixtures() {}

  /** Operator configuration for tests: this namespace, no debounce, no leader election, any metrics port. */
  static OperatorConfig config(String namespace) {
    return new OperatorConfig(
        namespace, "tcptune:test", OperatorConfig.DEFAULT_PULL_POLICY, OperatorConfig.DEFAULT_AGENT_SERVICE_ACCOUNT,
        java.time.Duration.ZERO, OperatorConfig.DEFAULT_REVERT_TIMEOUT, false, namespace, 0, AgentSettings.DEFAULTS);
  }

  static TcpTuningPolicy policy(String name, int priority, LabelSelector selector) {
    TcpTuningPolicy p = new TcpTuningPolicy();
    p.setMetadata(new ObjectMetaBuilder().withName(name).withUid("uid-" + name).withGeneration(1L).withCreationTimestamp("2025-01-01T00:00:00Z").build());
    TcpTuningPolicySpec spec = new TcpTuningPolicySpec();
    spec.setPriority(priority);
    spec.setNodeSelector(selector);
    SysctlSettings s = new SysctlSettings();
    s.setTcpTwReuse(1);
    s.setIpLocalPortRange("1024 65535");
    spec.setSysctls(s);
    p.setSpec(spec);
    return p;
  }

  /** A policy as a user would create it (no uid, generation or timestamps). */
  static TcpTuningPolicy newPolicy(String name, int priority, LabelSelector selector) {
    TcpTuningPolicy p = policy(name, priority, selector);
    p.setMetadata(new ObjectMetaBuilder().withName(name).build());
    return p;
  }

  static LabelSelector labels(String... kv) {
    Map<String, String> m = new HashMap<>();
    for (int i = 0; i < kv.length; i += 2) {
      m.put(kv[i], kv[i + 1]);
    }
    return new LabelSelectorBuilder().withMatchLabels(m).build();
  }

  static LabelSelector expr(String key, String op, String... values) {
    return new LabelSelectorBuilder()
        .withMatchExpressions(new LabelSelectorRequirement(key, op, values.length == 0 ? null : List.of(values)))
        .build();
  }

  static Node node(String name, String... kv) {
    Map<String, String> m = new HashMap<>();
    m.put("kubernetes.io/os", "linux");
    for (int i = 0; i < kv.length; i += 2) {
      m.put(kv[i], kv[i + 1]);
    }
    return new NodeBuilder().withNewMetadata().withName(name).withLabels(m).endMetadata().build();
  }

  static TcpTuningNodeState report(String node, String policy, long generation, NodePhase phase) {
    TcpTuningNodeState s = new TcpTuningNodeState();
    s.setMetadata(new ObjectMetaBuilder().withName(node).build());
    TcpTuningNodeStateStatus st = new TcpTuningNodeStateStatus();
    st.setPolicy(policy);
    st.setPolicyGeneration(generation);
    st.setPhase(phase);
    st.setMode(Mode.Enforce);
    st.setKernel("6.1.0");
    st.setSysctls(new ArrayList<>(List.of(new SysctlStatus("net.ipv4.tcp_tw_reuse", "2", "1", "1", SysctlState.Applied, null, null))));
    s.setStatus(st);
    return s;
  }

  static TcpTuningNodeState withPressure(TcpTuningNodeState s, double pressure) {
    TimeWait tw = new TimeWait();
    tw.setTotal(Math.round(pressure * 28232));
    tw.setPortRangeSize(28232);
    tw.setPressure(pressure);
    tw.setMaxDestinationPressure(pressure);
    s.getStatus().setTimeWait(tw);
    return s;
  }

  /** The node's pod figures as an agent reports them: counts, its worst pod, pod refusals. */
  static TcpTuningNodeState withPods(TcpTuningNodeState s, int selected, int tuned, int refused, int failed) {
    s.getStatus().setPods(new PodCounts(selected, tuned, refused, failed));
    return s;
  }

  static TcpTuningNodeState withWorstPod(TcpTuningNodeState s, String pod, double maxDestinationPressure) {
    PodPressure p = new PodPressure();
    p.setPod(pod);
    p.setNetnsInode(4026532000L + pod.length());
    p.setTimeWait(Math.round(maxDestinationPressure * 28232));
    p.setPortRangeSize(28232);
    p.setPressure(maxDestinationPressure);
    p.setMaxDestinationPressure(maxDestinationPressure);
    p.setHottestDestination("10.96.0.10:443");
    s.getStatus().setWorstPod(p);
    s.getStatus().setTopPods(List.of(p));
    return s;
  }

  static TcpTuningNodeState withPodRefusal(TcpTuningNodeState s, String pod, String sysctl, String reason) {
    s.getStatus().getPodRefusals().add(new PodRefusal(pod, sysctl, reason, "refused in " + pod + ": " + reason));
    return s;
  }

  static TcpTuningNodeState withRefusal(TcpTuningNodeState s, String sysctl, String reason) {
    s.getStatus().getSysctls().add(new SysctlStatus(sysctl, "0", "1", "0", SysctlState.Refused, reason, "refused: " + reason));
    return s;
  }
}
