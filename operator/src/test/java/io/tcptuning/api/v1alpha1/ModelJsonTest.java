package io.tcptuning.api.v1alpha1;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.introspect.BeanPropertyDefinition;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.LabelSelectorRequirement;
import io.fabric8.kubernetes.api.model.Toleration;
import io.tcptuning.cli.PolicyManifestReader;
import io.tcptuning.domain.Violation;
import io.tcptuning.json.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;

class ModelJsonTest {
  private static final ObjectMapper JACKSON = JsonMapper.builder().build();

  // --- spec: the same result as the CLI's Jackson reader ---

  static List<Path> examples() throws Exception {
    try (Stream<Path> files = Files.list(Path.of("../deploy/examples"))) {
      return files.filter(f -> f.toString().endsWith(".yaml")).sorted().toList();
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("examples")
  void bindsEveryExampleAsTheManifestReaderDoes(Path example) throws Exception {
    TcpTuningPolicySpec expected = new PolicyManifestReader().read(example.toString()).getSpec();
    JsonNode manifest = new YAMLMapper().readTree(example.toFile());

    TcpTuningPolicySpec ours = ModelJson.spec(Json.parse(JACKSON.writeValueAsString(manifest.get("spec"))), "spec", true);

    assertThat(tree(ours)).isEqualTo(tree(expected));
  }

  @Test
  void bindsEveryFieldOfAFullSpec() throws Exception {
    String json =
        """
        {"nodeSelector": {"matchLabels": {"tcptuning.io/profile": "web"},
                          "matchExpressions": [{"key": "zone", "operator": "In", "values": ["a", "b"]}]},
         "priority": -7, "mode": "DryRun", "assumeNat": true,
         "sysctls": {"tcpTwReuse": 1, "tcpTimestamps": 1, "ipLocalPortRange": "10240 65535", "tcpFinTimeout": 30,
                     "tcpMaxTwBuckets": 200000, "somaxconn": 8192, "tcpMaxSynBacklog": 4096, "tcpTwRecycle": 0},
         "rollout": {"maxUnavailable": "25%"},
         "tolerations": [{"key": "k", "operator": "Equal", "value": "v", "effect": "NoExecute", "tolerationSeconds": 30},
                         {"operator": "Exists"}]}
        """;
    String manifest = "{\"apiVersion\":\"tcptuning.io/v1alpha1\",\"kind\":\"TcpTuningPolicy\",\"metadata\":{\"name\":\"full\"},\"spec\":" + json + "}";
    TcpTuningPolicySpec expected = new PolicyManifestReader().parse(manifest.getBytes(), "full").getSpec();

    TcpTuningPolicySpec ours = ModelJson.spec(Json.parse(json), "spec", true);

    assertThat(tree(ours)).isEqualTo(tree(expected));
    assertThat(ours.getTolerations().getFirst().getTolerationSeconds()).isEqualTo(30L);
    assertThat(ours.getNodeSelector().getMatchExpressions().getFirst().getValues()).containsExactly("a", "b");
    assertThat(ModelJson.spec(Json.parse("{\"rollout\":{\"maxUnavailable\":3}}"), "spec", true).getRollout().getMaxUnavailable().getIntVal()).isEqualTo(3);
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(
      delimiter = '|',
      value = {
        "{\"sysctls\":{\"tcpFinTimeout\":30.5}} | spec.sysctls.tcpFinTimeout: must be an integer, not the number 30.5; accepted 5..120",
        "{\"sysctls\":{\"tcpFinTimeout\":\"30\"}} | spec.sysctls.tcpFinTimeout: must be an integer, not the string \"30\"; accepted 5..120",
        "{\"sysctls\":{\"tcpTwReuse\":true}} | spec.sysctls.tcpTwReuse: must be an integer, not the boolean true; accepted 0..2",
        "{\"sysctls\":{\"tcpFinTimeout\":3}} | spec.sysctls.tcpFinTimeout: 3 is out of range; accepted 5..120",
        "{\"sysctls\":{\"somaxconn\":2147483648}} | spec.sysctls.somaxconn: 2147483648 is out of range; accepted 4096..3240000",
        "{\"sysctls\":{\"somaxconn\":99999999999999999999}} | spec.sysctls.somaxconn: 99999999999999999999 is out of range",
        "{\"sysctls\":{\"ipLocalPortRange\":1024}} | spec.sysctls.ipLocalPortRange: must be a string \"min max\" with 1024 <= min < max <= 65535, not the number 1024",
        "{\"sysctls\":{\"ipLocalPortRange\":\"2000 1000\"}} | spec.sysctls.ipLocalPortRange: must satisfy 1024 <= min < max <= 65535",
        "{\"sysctls\":{\"tcpTwReuse\":1,\"tcpTimestamps\":0}} | spec.sysctls.tcpTwReuse: tcpTwReuse 1 needs tcpTimestamps 1",
        "{\"sysctls\":{\"ipForward\":1}} | spec.sysctls.ipForward: unknown field; known here: ipLocalPortRange, somaxconn, tcpFinTimeout",
        "{\"sysctls\":[]} | spec.sysctls: must be an object, not a list",
        "{\"mode\":1} | spec.mode: must be one of Enforce, DryRun, not the number 1",
        "{\"mode\":\"enforce\"} | spec.mode: must be one of Enforce, DryRun (got \"enforce\")",
        "{\"assumeNat\":\"true\"} | spec.assumeNat: must be true or false, not the string \"true\"",
        "{\"priority\":1001} | spec.priority: 1001 is out of range; accepted -1000..1000",
        "{\"priority\":1.0} | spec.priority: must be an integer, not the number 1.0",
        "{\"rollout\":{\"maxUnavailable\":0}} | spec.rollout.maxUnavailable: 0 is out of range; accepted an integer >= 1 or a percentage 1%..100%",
        "{\"rollout\":{\"maxUnavailable\":1.5}} | spec.rollout.maxUnavailable: must be an integer >= 1 or a percentage 1%..100%, not the number 1.5",
        "{\"rollout\":{\"maxUnavailable\":\"0%\"}} | spec.rollout.maxUnavailable: must be an integer >= 1 or a percentage 1%..100% (got \"0%\")",
        "{\"rollout\":{\"surge\":1}} | spec.rollout.surge: unknown field; known here: maxUnavailable",
        "{\"nodeSelector\":{\"matchLabels\":{\"a\":1}}} | spec.nodeSelector.matchLabels.a: must be a string, not the number 1",
        "{\"nodeSelector\":{\"matchExpressions\":[{\"key\":\"a\",\"values\":\"b\"}]}} | spec.nodeSelector.matchExpressions[0].values: must be a list, not the string \"b\"",
        "{\"nodeSelector\":{\"matchExpressions\":[{\"key\":\"a\",\"op\":\"In\"}]}} | spec.nodeSelector.matchExpressions[0].op: unknown field",
        "{\"tolerations\":[null]} | spec.tolerations[0]: must not be null",
        "{\"tolerations\":[{\"tolerationSeconds\":\"5\"}]} | spec.tolerations[0].tolerationSeconds: must be an integer, not the string \"5\"",
        "{\"tolerations\":[{\"effect\":\"NoSchedule\",\"x\":1}]} | spec.tolerations[0].x: unknown field; known here: effect, key, operator, tolerationSeconds, value",
        "{\"selector\":{}} | spec.selector: unknown field; known here: assumeNat, mode, nodeSelector, priority, rollout, sysctls, tolerations",
        "[] | spec: must be an object, not a list",
        "null | spec: is required",
      })
  void strictModeRefusesNamingTheFieldAndWhatItAccepts(String json, String violation) throws Exception {
    ModelBindingException e = catchThrowableOfType(ModelBindingException.class, () -> ModelJson.spec(Json.parse(json), "spec", true));

    assertThat(e).as(json).isNotNull();
    assertThat(e.violations()).map(Violation::toString).anySatisfy(v -> assertThat(v).startsWith(violation));
  }

  @Test
  void listsEveryViolationAndNamesThemFromThePrefix() throws Exception {
    ModelBindingException e = catchThrowableOfType(ModelBindingException.class, () -> ModelJson.spec(
        Json.parse("{\"mode\":\"Now\",\"sysctls\":{\"tcpFinTimeout\":1,\"tcpTwReuse\":\"1\",\"x\":0}}"), "TCPTUNE_POLICY_SPEC", true));

    assertThat(e.violations()).map(Violation::field).containsExactlyInAnyOrder(
        "TCPTUNE_POLICY_SPEC.mode", "TCPTUNE_POLICY_SPEC.sysctls.x", "TCPTUNE_POLICY_SPEC.sysctls.tcpTwReuse", "TCPTUNE_POLICY_SPEC.sysctls.tcpFinTimeout");
  }

  @Test
  void lenientModeIgnoresUnknownFieldsAndRangesButNotTypes() throws Exception {
    TcpTuningPolicySpec spec = ModelJson.spec(
        Json.parse("{\"future\":1,\"sysctls\":{\"tcpFinTimeout\":3,\"newSysctl\":2},\"tolerations\":[{\"key\":\"k\",\"new\":true}]}"), "spec", false);
    assertThat(spec.getSysctls().getTcpFinTimeout()).isEqualTo(3);
    assertThat(spec.getTolerations()).extracting(Toleration::getKey).containsExactly("k");

    ModelBindingException e = catchThrowableOfType(ModelBindingException.class,
        () -> ModelJson.spec(Json.parse("{\"future\":1,\"sysctls\":{\"tcpFinTimeout\":30.5}}"), "spec", false));
    assertThat(e.violations()).map(Violation::toString).containsExactly("spec.sysctls.tcpFinTimeout: must be an integer, not the number 30.5; accepted 5..120");
  }

  /** Guards against drift: a field added to the spec's classes must be bound here too. */
  @Test
  void knowsEveryFieldTheModelHas() {
    assertThat(ModelJson.SPEC_FIELDS).containsExactlyInAnyOrderElementsOf(jacksonProperties(TcpTuningPolicySpec.class, false));
    assertThat(ModelJson.SYSCTL_FIELDS).containsExactlyInAnyOrderElementsOf(jacksonProperties(SysctlSettings.class, false));
    assertThat(ModelJson.ROLLOUT_FIELDS).containsExactlyInAnyOrderElementsOf(jacksonProperties(Rollout.class, false));
    assertThat(ModelJson.SELECTOR_FIELDS).containsExactlyInAnyOrderElementsOf(jacksonProperties(LabelSelector.class, false));
    assertThat(ModelJson.REQUIREMENT_FIELDS).containsExactlyInAnyOrderElementsOf(jacksonProperties(LabelSelectorRequirement.class, false));
    assertThat(ModelJson.TOLERATION_FIELDS).containsExactlyInAnyOrderElementsOf(jacksonProperties(Toleration.class, false));
  }

  // --- policy ---

  @Test
  void bindsAPolicyAsTheApiServerReturnsIt() throws Exception {
    @SuppressWarnings("unchecked")
    Map<String, Object> object = (Map<String, Object>) Json.parse(
        """
        {"apiVersion": "tcptuning.io/v1alpha1", "kind": "TcpTuningPolicy",
         "metadata": {"name": "p", "uid": "u-1", "generation": 3, "resourceVersion": "42",
                      "creationTimestamp": "2025-01-02T03:04:05Z", "deletionTimestamp": "2025-01-03T00:00:00Z",
                      "labels": {"a": "b"}, "annotations": {"c": "d"}, "finalizers": ["tcptuning.io/revert"],
                      "managedFields": [{"manager": "kubectl"}]},
         "spec": {"mode": "DryRun", "sysctls": {"tcpTwReuse": 1}},
         "status": {"observedGeneration": 2}}
        """);

    TcpTuningPolicy p = ModelJson.policy(object);

    assertThat(p.getMetadata().getName()).isEqualTo("p");
    assertThat(p.getMetadata().getUid()).isEqualTo("u-1");
    assertThat(p.getMetadata().getGeneration()).isEqualTo(3L);
    assertThat(p.getMetadata().getResourceVersion()).isEqualTo("42");
    assertThat(p.getMetadata().getCreationTimestamp()).isEqualTo("2025-01-02T03:04:05Z");
    assertThat(p.getMetadata().getDeletionTimestamp()).isEqualTo("2025-01-03T00:00:00Z");
    assertThat(p.getMetadata().getLabels()).isEqualTo(Map.of("a", "b"));
    assertThat(p.getMetadata().getAnnotations()).isEqualTo(Map.of("c", "d"));
    assertThat(p.getMetadata().getFinalizers()).containsExactly("tcptuning.io/revert");
    assertThat(p.getSpec().effectiveMode()).isEqualTo(Mode.DryRun);
    assertThat(p.getSpec().getSysctls().getTcpTwReuse()).isEqualTo(1);
    assertThat(p.getApiVersion()).isEqualTo("tcptuning.io/v1alpha1");
    assertThat(p.getKind()).isEqualTo("TcpTuningPolicy");
    // The same as fabric8 reads it (status aside, which is not bound).
    TcpTuningPolicy jackson = JACKSON.convertValue(object, TcpTuningPolicy.class);
    jackson.getMetadata().setManagedFields(null);
    jackson.setStatus(null);
    p.setStatus(null);
    assertThat(tree(p)).isEqualTo(tree(jackson));

    ModelBindingException e = catchThrowableOfType(ModelBindingException.class, () -> ModelJson.policy(Map.of("metadata", Map.of("generation", "3"))));
    assertThat(e.violations()).map(Violation::toString).containsExactly("metadata.generation: must be an integer, not the string \"3\"; accepted an integer");
  }

  // --- node state: exactly what Jackson writes ---

  static TcpTuningNodeStateStatus full() {
    TcpTuningNodeStateStatus s = new TcpTuningNodeStateStatus();
    s.setPolicy("high-churn");
    s.setPolicyGeneration(7L);
    s.setMode(Mode.Enforce);
    s.setPhase(NodePhase.Applied);
    s.setKernel("6.1.0-18-amd64");
    s.setNat(new TcpTuningNodeStateStatus.Nat(true, List.of("iptables nat table", "MASQUERADE \"rule\"\n")));
    TcpTuningNodeStateStatus.TimeWait tw = new TcpTuningNodeStateStatus.TimeWait();
    tw.setTotal(12345);
    tw.setPortRangeSize(28232);
    tw.setPressure(0.4372697648);
    tw.setMaxDestinationPressure(1.0);
    tw.setHottestDestination("10.0.0.1:443");
    tw.setHottestDestinationSockets(9000);
    tw.setMaxTwBucketsHeadroom(-5L);
    s.setTimeWait(tw);
    s.setSysctls(List.of(
        new TcpTuningNodeStateStatus.SysctlStatus("net.ipv4.tcp_tw_reuse", "2", "1", "1", SysctlState.Applied, "AsExpected", "written and verified"),
        new TcpTuningNodeStateStatus.SysctlStatus("net.ipv4.tcp_tw_recycle", null, "1", null, SysctlState.Refused, "KernelRemovedSysctl", "gone in 4.12")));
    Condition applied = Conditions.of("Applied", true, "AsExpected", "all applied", 7L, List.of(), Instant.parse("2025-01-02T03:04:05Z"));
    applied.setAdditionalProperty("extra", "kept");
    s.setConditions(List.of(applied, Conditions.of("Degraded", false, "AsExpected", "é \uD83D\uDE00", null, List.of(), Instant.EPOCH)));
    s.setLastReportTime("2025-01-02T03:04:05Z");
    return s;
  }

  static List<TcpTuningNodeStateStatus> statuses() {
    TcpTuningNodeStateStatus sparse = new TcpTuningNodeStateStatus();
    TcpTuningNodeStateStatus superseded = new TcpTuningNodeStateStatus();
    superseded.setPolicy("p");
    superseded.setPhase(NodePhase.Superseded);
    superseded.setNat(new TcpTuningNodeStateStatus.Nat(null, null));
    superseded.setTimeWait(new TcpTuningNodeStateStatus.TimeWait());
    superseded.setSysctls(List.of(new TcpTuningNodeStateStatus.SysctlStatus()));
    superseded.setConditions(List.of(new Condition()));
    return List.of(full(), sparse, superseded);
  }

  @ParameterizedTest
  @MethodSource("statuses")
  void writesANodeStatusExactlyAsJacksonDoes(TcpTuningNodeStateStatus status) throws Exception {
    String ours = Json.write(ModelJson.nodeStateStatus(status));

    assertThat(JACKSON.readTree(ours)).isEqualTo(JACKSON.readTree(JACKSON.writeValueAsString(status)));
    TcpTuningNodeStateStatus back = JACKSON.readValue(ours, TcpTuningNodeStateStatus.class);
    assertThat(back.getNat()).isEqualTo(status.getNat());
    assertThat(back.getTimeWait()).isEqualTo(status.getTimeWait());
    assertThat(back.getSysctls()).isEqualTo(status.getSysctls());
    assertThat(back.getConditions()).isEqualTo(status.getConditions());
    assertThat(tree(back)).isEqualTo(tree(status));
  }

  /**
   * Guards against drift: every property Jackson would serialize on the status and its nested
   * classes is written by hand too (for a fully populated status). Fails when a field is added
   * to the model but not to {@link ModelJson#nodeStateStatus}.
   */
  @Test
  void writesEveryPropertyTheStatusClassesHave() {
    Map<String, Object> ours = ModelJson.nodeStateStatus(full());
    assertThat(ours.keySet()).containsExactlyInAnyOrderElementsOf(jacksonProperties(TcpTuningNodeStateStatus.class, true));
    assertThat(child(ours, "nat").keySet()).containsExactlyInAnyOrderElementsOf(jacksonProperties(TcpTuningNodeStateStatus.Nat.class, true));
    assertThat(child(ours, "timeWait").keySet()).containsExactlyInAnyOrderElementsOf(jacksonProperties(TcpTuningNodeStateStatus.TimeWait.class, true));
    assertThat(first(ours, "sysctls").keySet()).containsExactlyInAnyOrderElementsOf(jacksonProperties(TcpTuningNodeStateStatus.SysctlStatus.class, true));
    Set<String> condition = new TreeSet<>(first(ours, "conditions").keySet());
    condition.remove("extra");
    assertThat(condition).containsExactlyInAnyOrderElementsOf(jacksonProperties(Condition.class, true));
  }

  @Test
  void theNodeStateToCreateIsOwnedByTheNode() throws Exception {
    Map<String, Object> owned = ModelJson.nodeState("w-1", Map.of("app.kubernetes.io/name", "tcp-tuning-agent"), "uid-9");
    assertThat(Json.write(owned)).isEqualTo(
        "{\"apiVersion\":\"tcptuning.io/v1alpha1\",\"kind\":\"TcpTuningNodeState\",\"metadata\":{\"name\":\"w-1\","
            + "\"labels\":{\"app.kubernetes.io/name\":\"tcp-tuning-agent\"},"
            + "\"ownerReferences\":[{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"name\":\"w-1\",\"uid\":\"uid-9\"}]}}");
    TcpTuningNodeState state = JACKSON.readValue(Json.write(owned), TcpTuningNodeState.class);
    assertThat(state.getMetadata().getOwnerReferences().getFirst().getUid()).isEqualTo("uid-9");

    assertThat(Json.write(ModelJson.nodeState("w-2", null, null)))
        .isEqualTo("{\"apiVersion\":\"tcptuning.io/v1alpha1\",\"kind\":\"TcpTuningNodeState\",\"metadata\":{\"name\":\"w-2\"}}");
  }

  private static Collection<String> jacksonProperties(Class<?> type, boolean serialization) {
    var config = serialization ? JACKSON.getSerializationConfig() : null;
    var description = serialization
        ? config.introspect(JACKSON.constructType(type))
        : JACKSON.getDeserializationConfig().introspect(JACKSON.constructType(type));
    List<String> names = new ArrayList<>();
    for (BeanPropertyDefinition p : description.findProperties()) {
      if (serialization ? p.couldSerialize() : p.couldDeserialize()) {
        names.add(p.getName());
      }
    }
    names.remove("additionalProperties");
    return names;
  }

  private static JsonNode tree(Object value) {
    return JACKSON.valueToTree(value);
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> child(Map<String, Object> m, String key) {
    return (Map<String, Object>) m.get(key);
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> first(Map<String, Object> m, String key) {
    return (Map<String, Object>) ((List<Object>) m.get(key)).getFirst();
  }
}
