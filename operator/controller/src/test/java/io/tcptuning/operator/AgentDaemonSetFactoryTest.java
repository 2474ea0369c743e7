package io.tcptuning.operator;

import io.tcptuning.config.AgentContract;
import static io.tcptuning.operator.Fixtures.expr;
import static io.tcptuning.operator.Fixtures.labels;
import static io.tcptuning.operator.Fixtures.node;
import static io.tcptuning.operator.Fixtures.policy;
import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.LabelSelectorBuilder;
import io.fabric8.kubernetes.api.model.LabelSelectorRequirement;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeAffinity;
import io.fabric8.kubernetes.api.model.NodeSelectorRequirement;
import io.fabric8.kubernetes.api.model.NodeSelectorTerm;
import io.fabric8.kubernetes.api.model.TolerationBuilder;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.tcptuning.api.v1alpha1.Mode;
import io.tcptuning.api.v1alpha1.Rollout;
import io.tcptuning.api.v1alpha1.TcpTuningPolicy;
import io.tcptuning.domain.LabelSelectors;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class AgentDaemonSetFactoryTest {
  private final AgentDaemonSetFactory factory = new AgentDaemonSetFactory(Fixtures.config("tuning"));

  private DaemonSet build(TcpTuningPolicy p) {
    return factory.build(p, AgentNodeAffinity.of(p.getSpec().getNodeSelector(), List.of()).affinity());
  }

  @Test
  void agentSettingsFromTheChartReachTheAgents() {
    Map<String, String> env = Map.of(
        AgentSettings.PORT, "9555", AgentSettings.STATE_DIR, "/var/lib/tcptune-state",
        AgentSettings.CENSUS_INTERVAL, "30s", AgentSettings.HEARTBEAT_INTERVAL, "10m",
        AgentSettings.RESOURCES, "{\"requests\":{\"cpu\":\"10m\",\"memory\":\"80Mi\"},\"limits\":{\"memory\":\"160Mi\"}}",
        AgentSettings.JAVA_TOOL_OPTIONS, "-Xmx32m");
    var config = OperatorConfig.fromEnv(env);
    var ds = new AgentDaemonSetFactory(config).build(Fixtures.policy("p", 0, null), new io.fabric8.kubernetes.api.model.NodeAffinity());
    var pod = ds.getSpec().getTemplate().getSpec();
    var c = pod.getContainers().getFirst();
    Map<String, String> agentEnv = new java.util.HashMap<>();
    c.getEnv().stream().filter(e -> e.getValue() != null).forEach(e -> agentEnv.put(e.getName(), e.getValue()));
    assertThat(agentEnv).containsEntry("TCPTUNE_AGENT_PORT", "9555").containsEntry("TCPTUNE_STATE_DIR", "/var/lib/tcptune-state")
        .containsEntry("TCPTUNE_CENSUS_INTERVAL", "30s").containsEntry("TCPTUNE_HEARTBEAT_INTERVAL", "600s")
        .containsEntry("JAVA_TOOL_OPTIONS", "-Xmx32m");
    assertThat(c.getPorts().getFirst().getContainerPort()).isEqualTo(9555);
    assertThat(c.getReadinessProbe().getHttpGet().getPort().getIntVal()).isEqualTo(9555);
    assertThat(c.getLivenessProbe().getHttpGet().getPort().getIntVal()).isEqualTo(9555);
    assertThat(c.getVolumeMounts()).anySatisfy(m -> assertThat(m.getMountPath()).isEqualTo("/var/lib/tcptune-state"));
    assertThat(pod.getVolumes()).anySatisfy(v -> assertThat(v.getHostPath() == null ? null : v.getHostPath().getPath()).isEqualTo("/var/lib/tcptune-state"));
    assertThat(c.getResources().getLimits().get("memory").toString()).isEqualTo("160Mi");
    // The agent reads back exactly what the operator wrote, with the contract's readers.
    assertThat(AgentContract.port(agentEnv::get)).isEqualTo(9555);
    assertThat(AgentContract.heartbeatInterval(agentEnv::get)).isEqualTo(java.time.Duration.ofMinutes(10));
    assertThat(AgentContract.censusInterval(agentEnv::get)).isEqualTo(java.time.Duration.ofSeconds(30));
    assertThat(AgentContract.stateDir(agentEnv::get)).hasToString("/var/lib/tcptune-state");
  }

  @Test
  void badAgentSettingsNameTheVariable() {
    for (var bad : Map.of(AgentSettings.PORT, "0", AgentSettings.STATE_DIR, "../etc", AgentSettings.CENSUS_INTERVAL, "0s",
        AgentSettings.RESOURCES, "{not json").entrySet()) {
      org.assertj.core.api.Assertions.assertThatThrownBy(() -> OperatorConfig.fromEnv(Map.of(bad.getKey(), bad.getValue())))
          .as(bad.getKey()).isInstanceOf(OperatorConfig.InvalidConfigException.class).hasMessageStartingWith(bad.getKey());
    }
  }

  @Test
  void agentsRunOnLinuxNodesOnly() {
    DaemonSet ds = build(policy("web", 0, labels("role", "web")));
    assertThat(ds.getSpec().getTemplate().getSpec().getNodeSelector()).containsExactly(java.util.Map.entry("kubernetes.io/os", "linux"));
  }

  @Test
  void daemonSetCarriesTheSecuritySettingsAndTheContract() {
    TcpTuningPolicy p = policy("web", 0, labels("role", "web"));
    DaemonSet ds = build(p);
    assertThat(ds.getMetadata().getName()).isEqualTo("tcp-tuning-agent-web");
    assertThat(ds.getMetadata().getNamespace()).isEqualTo("tuning");
    assertThat(ds.getMetadata().getOwnerReferences()).singleElement().satisfies(o -> {
      assertThat(o.getKind()).isEqualTo("TcpTuningPolicy");
      assertThat(o.getApiVersion()).isEqualTo("tcptuning.io/v1alpha1");
      assertThat(o.getUid()).isEqualTo("uid-web");
      assertThat(o.getController()).isTrue();
    });
    var tmpl = ds.getSpec().getTemplate();
    assertThat(tmpl.getMetadata().getLabels()).containsEntry("app.kubernetes.io/name", "tcp-tuning-agent").containsEntry("tcptuning.io/policy", "web");
    assertThat(ds.getSpec().getSelector().getMatchLabels()).containsEntry("tcptuning.io/policy", "web");
    var pod = tmpl.getSpec();
    assertThat(pod.getHostNetwork()).isTrue();
    // Pods' network namespaces are found through /proc/<pid>/ns/net and /proc/<pid>/cgroup.
    assertThat(pod.getHostPID()).isTrue();
    assertThat(pod.getDnsPolicy()).isEqualTo("ClusterFirstWithHostNet");
    assertThat(pod.getPriorityClassName()).isEqualTo("system-node-critical");
    assertThat(pod.getServiceAccountName()).isEqualTo("tcp-tuning-agent");
    assertThat(pod.getTerminationGracePeriodSeconds()).isEqualTo(30L);
    var c = pod.getContainers().getFirst();
    assertThat(c.getImage()).isEqualTo("tcptune:test");
    assertThat(c.getSecurityContext().getPrivileged()).isTrue();
    assertThat(c.getSecurityContext().getReadOnlyRootFilesystem()).isTrue();
    assertThat(c.getResources().getRequests()).containsKeys("cpu", "memory");
    assertThat(c.getResources().getLimits().get("memory").toString()).isEqualTo("192Mi");
    assertThat(c.getReadinessProbe().getHttpGet().getPath()).isEqualTo("/readyz");
    assertThat(c.getReadinessProbe().getHttpGet().getPort().getIntVal()).isEqualTo(9479);
    assertThat(c.getLivenessProbe().getHttpGet().getPath()).isEqualTo("/healthz");
    EnvVar nodeName = c.getEnv().stream().filter(e -> e.getName().equals("NODE_NAME")).findFirst().orElseThrow();
    assertThat(nodeName.getValueFrom().getFieldRef().getFieldPath()).isEqualTo("spec.nodeName");
    assertThat(env(ds, "TCPTUNE_POLICY_NAME")).isEqualTo("web");
    assertThat(env(ds, "TCPTUNE_POLICY_GENERATION")).isEqualTo("1");
    assertThat(env(ds, "TCPTUNE_STATE_DIR")).isEqualTo("/var/lib/tcp-tuning");
    assertThat(env(ds, "TCPTUNE_AGENT_PORT")).isEqualTo("9479");
    Map<String, Object> spec = Serialization.unmarshal(env(ds, "TCPTUNE_POLICY_SPEC"), Map.class);
    assertThat(spec).containsOnlyKeys("mode", "sysctls");
    assertThat(spec.get("mode")).isEqualTo("Enforce");
    assertThat((Map<String, Object>) spec.get("sysctls")).containsEntry("tcpTwReuse", 1).containsEntry("ipLocalPortRange", "1024 65535");
    var state = pod.getVolumes().stream().filter(v -> v.getHostPath() != null).findFirst().orElseThrow();
    assertThat(state.getHostPath().getPath()).isEqualTo("/var/lib/tcp-tuning");
    assertThat(state.getHostPath().getType()).isEqualTo("DirectoryOrCreate");
    assertThat(c.getVolumeMounts()).anySatisfy(m -> {
      assertThat(m.getName()).isEqualTo(state.getName());
      assertThat(m.getMountPath()).isEqualTo("/var/lib/tcp-tuning");
    });
    assertThat(pod.getVolumes()).anySatisfy(v -> assertThat(v.getEmptyDir()).isNotNull());
    // /run/netns from the host, read-only, seeing bind mounts made after the agent started.
    var netns = pod.getVolumes().stream().filter(v -> v.getHostPath() != null && v.getHostPath().getPath().equals("/run/netns")).findFirst().orElseThrow();
    assertThat(c.getVolumeMounts()).filteredOn(m -> m.getName().equals(netns.getName())).singleElement().satisfies(m -> {
      assertThat(m.getMountPath()).isEqualTo("/run/netns");
      assertThat(m.getReadOnly()).isTrue();
      assertThat(m.getMountPropagation()).isEqualTo("HostToContainer");
    });
    // Every other mount is the state directory or scratch space: nothing else of the host's.
    assertThat(pod.getVolumes()).extracting(v -> v.getName()).containsExactlyInAnyOrder("state", "tmp", "netns");
    assertThat(c.getVolumeMounts()).anySatisfy(m -> assertThat(m.getMountPath()).isEqualTo("/tmp"));
    assertThat(ds.getSpec().getUpdateStrategy().getType()).isEqualTo("RollingUpdate");
    assertThat(ds.getSpec().getUpdateStrategy().getRollingUpdate().getMaxUnavailable()).isEqualTo(new IntOrString("10%"));
    // Absent tolerations: every taint tolerated.
    assertThat(pod.getTolerations()).containsExactly(new TolerationBuilder().withOperator("Exists").build());
  }

  @Test
  void rolloutAndTolerationsComeFromTheSpec() {
    TcpTuningPolicy p = policy("web", 0, null);
    Rollout r = new Rollout();
    r.setMaxUnavailable(new IntOrString(2));
    p.getSpec().setRollout(r);
    p.getSpec().setTolerations(List.of(new TolerationBuilder().withKey("dedicated").withOperator("Equal").withValue("edge").withEffect("NoSchedule").build()));
    DaemonSet ds = build(p);
    assertThat(ds.getSpec().getUpdateStrategy().getRollingUpdate().getMaxUnavailable()).isEqualTo(new IntOrString(2));
    assertThat(ds.getSpec().getTemplate().getSpec().getTolerations()).singleElement().satisfies(t -> assertThat(t.getKey()).isEqualTo("dedicated"));

    p.getSpec().setTolerations(List.of());
    assertThat(build(p).getSpec().getTemplate().getSpec().getTolerations()).isEmpty();
  }

  @Test
  void sameInputSameHashAndAgentChangesChangeThePodTemplate() {
    TcpTuningPolicy p = policy("web", 0, null);
    DaemonSet a = build(p);
    DaemonSet b = build(policy("web", 0, null));
    assertThat(AgentDaemonSetFactory.desiredHash(a)).isEqualTo(AgentDaemonSetFactory.desiredHash(b));
    String configHash = a.getSpec().getTemplate().getMetadata().getAnnotations().get(AgentDaemonSetFactory.CONFIG_HASH);

    TcpTuningPolicy changed = policy("web", 0, null);
    changed.getSpec().setMode(Mode.DryRun);
    changed.getMetadata().setGeneration(2L);
    DaemonSet c = build(changed);
    assertThat(AgentDaemonSetFactory.desiredHash(c)).isNotEqualTo(AgentDaemonSetFactory.desiredHash(a));
    assertThat(c.getSpec().getTemplate().getMetadata().getAnnotations().get(AgentDaemonSetFactory.CONFIG_HASH)).isNotEqualTo(configHash);
    assertThat(env(c, "TCPTUNE_POLICY_GENERATION")).isEqualTo("2");
  }

  @Test
  void podAndNamespaceSelectorsReachTheAgentInItsSpecAndRollThePods() throws Exception {
    TcpTuningPolicy p = policy("clients", 0, labels("role", "web"));
    String before = build(p).getSpec().getTemplate().getMetadata().getAnnotations().get(AgentDaemonSetFactory.CONFIG_HASH);
    p.getSpec().setPodSelector(labels("tcptuning.io/tune", "true"));
    p.getSpec().setNamespaceSelector(expr("team", "In", "payments"));
    DaemonSet ds = build(p);

    // The agent reads TCPTUNE_POLICY_SPEC with the one reader: the selectors arrive as written.
    var spec = new io.tcptuning.policy.PolicyReader().parseSpec(env(ds, "TCPTUNE_POLICY_SPEC"), "TCPTUNE_POLICY_SPEC");
    assertThat(spec.selectsPods()).isTrue();
    assertThat(spec.getPodSelector()).isEqualTo(labels("tcptuning.io/tune", "true"));
    assertThat(spec.getNamespaceSelector()).isEqualTo(expr("team", "In", "payments"));
    assertThat(spec.getNodeSelector()).as("the operator's business").isNull();
    assertThat(ds.getSpec().getTemplate().getMetadata().getAnnotations().get(AgentDaemonSetFactory.CONFIG_HASH)).isNotEqualTo(before);
  }

  // --- affinity ---

  @Test
  void ownSelectorBecomesRequiredAffinityOnLinuxNodes() {
    NodeAffinity a = AgentNodeAffinity.of(labels("role", "web"), List.of()).affinity();
    assertThat(terms(a)).containsExactly(List.of(req("kubernetes.io/os", "In", "linux"), req("role", "In", "web")));
  }

  @Test
  void eachOperatorIsNegated() {
    assertThat(terms(AgentNodeAffinity.of(null, List.of(labels("role", "db"))).affinity()))
        .containsExactly(List.of(req("kubernetes.io/os", "In", "linux"), req("role", "NotIn", "db")));
    assertThat(terms(AgentNodeAffinity.of(null, List.of(expr("zone", "In", "a", "b"))).affinity()))
        .containsExactly(List.of(req("kubernetes.io/os", "In", "linux"), req("zone", "NotIn", "a", "b")));
    assertThat(terms(AgentNodeAffinity.of(null, List.of(expr("zone", "NotIn", "a"))).affinity()))
        .containsExactly(List.of(req("kubernetes.io/os", "In", "linux"), req("zone", "In", "a")));
    assertThat(terms(AgentNodeAffinity.of(null, List.of(expr("gpu", "Exists"))).affinity()))
        .containsExactly(List.of(req("kubernetes.io/os", "In", "linux"), req("gpu", "DoesNotExist")));
    assertThat(terms(AgentNodeAffinity.of(null, List.of(expr("gpu", "DoesNotExist"))).affinity()))
        .containsExactly(List.of(req("kubernetes.io/os", "In", "linux"), req("gpu", "Exists")));
  }

  @Test
  void aSelectorWithTwoRequirementsIsExcludedByTwoAlternativeTerms() {
    // not(role=db AND zone=a) == role NotIn [db] OR zone NotIn [a]
    LabelSelector h = labels("role", "db", "zone", "a");
    assertThat(terms(AgentNodeAffinity.of(null, List.of(h)).affinity()))
        .containsExactly(
            List.of(req("kubernetes.io/os", "In", "linux"), req("role", "NotIn", "db")),
            List.of(req("kubernetes.io/os", "In", "linux"), req("zone", "NotIn", "a")));
  }

  @Test
  void disjointSelectorsOnOneKeyNeedNoExclusion() {
    // role=web already implies role NotIn [db]: one term, unchanged.
    assertThat(terms(AgentNodeAffinity.of(labels("role", "web"), List.of(labels("role", "db"))).affinity()))
        .containsExactly(List.of(req("kubernetes.io/os", "In", "linux"), req("role", "In", "web")));
  }

  @Test
  void aHigherPolicyWithTheSameSelectorLeavesNoNode() {
    var r = AgentNodeAffinity.of(labels("role", "web"), List.of(labels("role", "web")));
    assertThat(r.selectsNothing()).isTrue();
    assertThat(matchesAny(r.affinity(), node("n", "role", "web"))).isFalse();
  }

  @Test
  void aHigherPolicyWithAnEmptySelectorSupersedesEverything() {
    var r = AgentNodeAffinity.of(labels("role", "web"), List.of(new LabelSelector()));
    assertThat(r.selectsNothing()).isTrue();
    var nothing = terms(r.affinity());
    // A valid, self-contradictory term: no labelling of a node can make it match.
    assertThat(nothing).containsExactly(List.of(req("kubernetes.io/os", "In", "linux"), req("kubernetes.io/os", "DoesNotExist")));
    assertThat(AgentNodeAffinity.of(null, java.util.Collections.singletonList(null)).selectsNothing()).isTrue();
  }

  @Test
  void termExplosionIsCappedWithANote() {
    List<LabelSelector> higher = new ArrayList<>();
    for (int i = 0; i < 7; i++) {
      higher.add(labels("a" + i, "x", "b" + i, "y")); // 2 alternatives each: 2^7 = 128 terms
    }
    var r = AgentNodeAffinity.of(labels("role", "web"), higher);
    assertThat(r.note()).hasValueSatisfying(n -> assertThat(n).contains("more than 64 terms").contains("7 higher-priority policies"));
    assertThat(terms(r.affinity())).containsExactly(List.of(req("kubernetes.io/os", "In", "linux"), req("role", "In", "web")));
    assertThat(AgentNodeAffinity.of(labels("role", "web"), higher.subList(0, 6)).note()).isEmpty();
  }

  /** The affinity selects exactly: own selector, linux, and no higher selector; on random nodes. */
  @Test
  void affinityAgreesWithLabelSelectorsOnRandomNodes() {
    Random rnd = new Random(42);
    String[] keys = {"role", "zone", "gpu"};
    String[] values = {"a", "b", "c"};
    String[] ops = {"In", "NotIn", "Exists", "DoesNotExist"};
    for (int round = 0; round < 300; round++) {
      LabelSelector own = randomSelector(rnd, keys, values, ops);
      List<LabelSelector> higher = new ArrayList<>();
      int n = rnd.nextInt(4);
      for (int i = 0; i < n; i++) {
        higher.add(randomSelector(rnd, keys, values, ops));
      }
      var r = AgentNodeAffinity.of(own, higher);
      for (int k = 0; k < 30; k++) {
        Node node = randomNode(rnd, keys, values);
        var labels = node.getMetadata().getLabels();
        boolean expected =
            "linux".equals(labels.get("kubernetes.io/os"))
                && LabelSelectors.matches(own, labels)
                && higher.stream().noneMatch(h -> LabelSelectors.matches(h, labels));
        assertThat(matchesAny(r.affinity(), node))
            .as("own=%s higher=%s labels=%s", own, higher, labels)
            .isEqualTo(expected);
      }
    }
  }

  private static LabelSelector randomSelector(Random rnd, String[] keys, String[] values, String[] ops) {
    LabelSelectorBuilder b = new LabelSelectorBuilder();
    int n = rnd.nextInt(3);
    for (int i = 0; i < n; i++) {
      String op = ops[rnd.nextInt(ops.length)];
      String key = keys[rnd.nextInt(keys.length)];
      if (rnd.nextInt(4) == 0) {
        b.addToMatchLabels(key, values[rnd.nextInt(values.length)]);
      } else if (op.equals("In") || op.equals("NotIn")) {
        b.addToMatchExpressions(new LabelSelectorRequirement(key, op, List.of(values[rnd.nextInt(values.length)], values[rnd.nextInt(values.length)]).stream().distinct().toList()));
      } else {
        b.addToMatchExpressions(new LabelSelectorRequirement(key, op, null));
      }
    }
    return b.build();
  }

  private static Node randomNode(Random rnd, String[] keys, String[] values) {
    List<String> kv = new ArrayList<>();
    for (String k : keys) {
      if (rnd.nextBoolean()) {
        kv.add(k);
        kv.add(values[rnd.nextInt(values.length)]);
      }
    }
    Node n = node("n", kv.toArray(String[]::new));
    if (rnd.nextInt(10) == 0) {
      n.getMetadata().getLabels().put("kubernetes.io/os", "windows");
    }
    return n;
  }

  /** Node affinity evaluation as the scheduler does it: terms ORed, expressions ANDed. */
  static boolean matchesAny(NodeAffinity a, Node node) {
    var labels = node.getMetadata().getLabels();
    for (NodeSelectorTerm t : a.getRequiredDuringSchedulingIgnoredDuringExecution().getNodeSelectorTerms()) {
      boolean all = true;
      for (NodeSelectorRequirement r : t.getMatchExpressions()) {
        String v = labels.get(r.getKey());
        List<String> vals = r.getValues() == null ? List.of() : r.getValues();
        boolean ok =
            switch (r.getOperator()) {
              case "In" -> v != null && vals.contains(v);
              case "NotIn" -> v == null || !vals.contains(v);
              case "Exists" -> v != null;
              case "DoesNotExist" -> v == null;
              default -> throw new AssertionError(r.getOperator());
            };
        all &= ok;
      }
      if (all) {
        return true;
      }
    }
    return false;
  }

  private static List<List<NodeSelectorRequirement>> terms(NodeAffinity a) {
    return a.getRequiredDuringSchedulingIgnoredDuringExecution().getNodeSelectorTerms().stream().map(NodeSelectorTerm::getMatchExpressions).toList();
  }

  private static NodeSelectorRequirement req(String key, String op, String... values) {
    return new NodeSelectorRequirement(key, op, values.length == 0 ? null : List.of(values));
  }

  private static String env(DaemonSet ds, String name) {
    return ds.getSpec().getTemplate().getSpec().getContainers().getFirst().getEnv().stream()
        .filter(e -> e.getName().equals(name))
        .findFirst()
        .orElseThrow()
        .getValue();
  }
}
