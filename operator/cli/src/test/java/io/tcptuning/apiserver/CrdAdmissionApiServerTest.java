package io.tcptuning.apiserver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tcptuning.testing.HostilePolicyCorpus;
import io.tcptuning.testing.ProjectPaths;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.StatusCause;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinitionCondition;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.FieldValidateable.Validation;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * What the API server decides at admission, with the generated CRDs installed in a real
 * kube-apiserver: the CRDs are structural and their CEL rules compile within the cost budget
 * (the server refuses the CRD otherwise), the examples apply with the real kubectl, and the
 * hostile corpus is refused where the schema or CEL is meant to catch it, by kubectl and by
 * fabric8, with a message naming the field. Where the server names a field differently from the
 * corpus's {@code expect} line, the server's real path is asserted and the difference is listed
 * below.
 */
class CrdAdmissionApiServerTest {

  @RegisterExtension static final RealApiServer API = new RealApiServer();

  private static final String POLICIES = "tcptuningpolicies.tcptuning.io";

  /**
   * Marked {@code crd-rejects: true} (the in-process schema validator reads {@code 1e6} as a
   * double and rejects it), but the real server takes an integral JSON number with an exponent as
   * the integer 1000000, which is in range: accepted. Asserted in {@link #anIntegralExponentIsAnInteger}.
   */
  private static final String EXPONENT = "18-exponent-for-int.yaml";

  @BeforeAll
  static void installCrds() {
    API.installCrds();
  }

  @Test
  void theGeneratedCrdsAreAcceptedStructuralAndEstablished() {
    for (Path file : RealApiServer.crdFiles()) {
      String name = Serialization.unmarshal(RealApiServer.read(file), CustomResourceDefinition.class).getMetadata().getName();
      CustomResourceDefinition crd = API.client().apiextensions().v1().customResourceDefinitions().withName(name).get();
      assertThat(crd).as(file.toString()).isNotNull();
      Map<String, String> conditions =
          crd.getStatus().getConditions().stream()
              .collect(java.util.stream.Collectors.toMap(CustomResourceDefinitionCondition::getType, CustomResourceDefinitionCondition::getStatus));
      assertThat(conditions).as(name + " conditions").containsEntry("Established", "True").containsEntry("NamesAccepted", "True");
      // The server sets NonStructuralSchema=True for a schema it cannot prune or default with.
      assertThat(conditions).as(name + " conditions").doesNotContainKey("NonStructuralSchema");
      assertThat(API.kubectl("get", "crd", name, "-o", "name").assertSuccess().stdout().strip())
          .isEqualTo("customresourcedefinition.apiextensions.k8s.io/" + name);
    }
    // The CEL rules are compiled (and their cost estimated) when the CRD is written: a rule over
    // budget or that does not compile fails the create above. Both still run:
    RealApiServer.Kubectl cel =
        API.kubectlWithInput(
            """
            apiVersion: tcptuning.io/v1alpha1
            kind: TcpTuningPolicy
            metadata: {name: cel-runs}
            spec:
              sysctls: {ipLocalPortRange: "2000 1999", tcpTwReuse: 1, tcpTimestamps: 0}
              rollout: {maxUnavailable: "0%"}
            """,
            "apply", "-f", "-");
    assertThat(cel.exitCode()).as(cel.toString()).isNotZero();
    assertThat(cel.stderr())
        .contains("spec.sysctls.ipLocalPortRange: Invalid value")
        .contains("ipLocalPortRange must be \"min max\" with 1024 <= min < max <= 65535")
        .contains("spec.sysctls.tcpTwReuse: Forbidden: tcpTwReuse 1 or 2 needs tcpTimestamps 1")
        .contains("spec.rollout.maxUnavailable")
        .contains("rollout.maxUnavailable must be an integer >= 1 or a percentage 1%..100%");
  }

  @Test
  void podAndNamespaceSelectorsAreAdmittedAndABadOneIsRefusedNamingEachField() {
    RealApiServer.Kubectl good =
        API.kubectlWithInput(
            """
            apiVersion: tcptuning.io/v1alpha1
            kind: TcpTuningPolicy
            metadata: {name: pods-ok}
            spec:
              podSelector:
                matchLabels: {tcptuning.io/tune: "true", app.kubernetes.io/name: checkout}
                matchExpressions: [{key: tier, operator: NotIn, values: [db]}]
              namespaceSelector:
                matchExpressions: [{key: team, operator: Exists}]
              sysctls: {tcpTwReuse: 1}
            """,
            "apply", "-f", "-");
    try {
      assertThat(good.exitCode()).as(good.toString()).isZero();
      assertThat(API.kubectl("get", "ttp", "pods-ok", "-o", "jsonpath={.spec.podSelector.matchLabels.tcptuning\\.io/tune} {.spec.namespaceSelector.matchExpressions[0].operator}")
          .assertSuccess().stdout()).isEqualTo("true Exists");
    } finally {
      API.kubectl("delete", "ttp", "pods-ok", "--ignore-not-found").assertSuccess();
    }

    // The schema (patterns, the operator enum) first: the server checks CEL rules only on an
    // object that passed it, so the CEL-only mistakes (a bad key in matchLabels, In without
    // values) are shown in a second manifest.
    RealApiServer.Kubectl schema =
        API.kubectlWithInput(
            """
            apiVersion: tcptuning.io/v1alpha1
            kind: TcpTuningPolicy
            metadata: {name: pods-bad}
            spec:
              podSelector:
                matchExpressions: [{key: app, operator: Gt, values: ["3"]}]
              namespaceSelector:
                matchLabels: {team: "-payments-"}
              sysctls: {tcpTwReuse: 1}
            """,
            "apply", "-f", "-");
    assertThat(schema.exitCode()).as(schema.toString()).isNotZero();
    assertThat(schema.stderr())
        .contains("is invalid")
        .contains("spec.podSelector.matchExpressions[0].operator: Unsupported value: \"Gt\"")
        .contains("spec.namespaceSelector.matchLabels.team: Invalid value: \"-payments-\"");
    RealApiServer.Kubectl cel =
        API.kubectlWithInput(
            """
            apiVersion: tcptuning.io/v1alpha1
            kind: TcpTuningPolicy
            metadata: {name: pods-bad}
            spec:
              podSelector:
                matchLabels: {"tune me": "true"}
              namespaceSelector:
                matchExpressions: [{key: team, operator: In}]
              sysctls: {tcpTwReuse: 1}
            """,
            "apply", "-f", "-");
    assertThat(cel.exitCode()).as(cel.toString()).isNotZero();
    // Every field named as the policy reader names them (HostilePolicyReaderTest, LabelSelectorsTest).
    assertThat(cel.stderr())
        .contains("spec.podSelector.matchLabels: Invalid value")
        .contains("matchLabels keys must be label keys: [prefix/]name")
        .contains("spec.namespaceSelector.matchExpressions[0].values: Invalid value")
        .contains("values must be non-empty for the operators In and NotIn");
    assertThat(API.kubectl("get", "ttp", "pods-bad", "--ignore-not-found").assertSuccess().stdout()).isEmpty();
  }

  static List<Path> examples() throws IOException {
    try (Stream<Path> files = Files.list(ProjectPaths.resolve("deploy/examples"))) {
      return files.filter(f -> f.toString().endsWith(".yaml")).sorted().toList();
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("examples")
  void everyExampleAppliesWithKubectl(Path example) {
    GenericKubernetesResource local = Serialization.unmarshal(RealApiServer.read(example), GenericKubernetesResource.class);
    String name = local.getMetadata().getName();
    RealApiServer.Kubectl apply = API.kubectl("apply", "-f", example.toString()).assertSuccess();
    assertThat(apply.stdout()).contains("tcptuningpolicy.tcptuning.io/" + name + " created");
    try {
      // Stored as written, with the schema's defaults filled in by the server.
      String mode = API.kubectl("get", "ttp", name, "-o", "jsonpath={.spec.mode}").assertSuccess().stdout();
      Object written = ((Map<?, ?>) local.getAdditionalProperties().get("spec")).get("mode");
      assertThat(mode).isEqualTo(written != null ? written : "Enforce");
      assertThat(API.kubectl("get", "ttp", name, "-o", "jsonpath={.spec.priority}").assertSuccess().stdout()).matches("-?[0-9]+");
    } finally {
      API.kubectl("delete", "-f", example.toString()).assertSuccess();
    }
  }

  static List<HostilePolicyCorpus> schemaCases() {
    return HostilePolicyCorpus.all().stream().filter(HostilePolicyCorpus::crdRejects).filter(c -> !c.name().equals(EXPONENT)).toList();
  }

  @Test
  void theSchemaCorpusIsLargeEnough() {
    assertThat(schemaCases()).hasSizeGreaterThanOrEqualTo(40);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("schemaCases")
  void kubectlApplyIsRefusedNamingTheField(HostilePolicyCorpus bad) {
    RealApiServer.Kubectl apply = API.kubectl("apply", "-f", API.tempFile(bad.name(), bad.content()).toString());
    try {
      assertThat(apply.exitCode()).as(apply.toString()).isNotZero();
      assertThat(apply.stdout()).as(apply.toString()).doesNotContain("created");
      if (unknownField(bad)) {
        // kubectl asks for fieldValidation=Strict: the server's decoder names the unknown field.
        assertThat(apply.stderr()).as(apply.toString()).contains("strict decoding error: unknown field \"" + corpusPath(bad) + "\"");
      } else {
        assertThat(apply.stderr()).as(apply.toString()).contains("is invalid").contains(corpusPath(bad) + ": ");
      }
    } finally {
      if (apply.exitCode() == 0) {
        API.kubectl("delete", "ttp", "--all");
      }
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("schemaCases")
  void fabric8CreateIsRefusedNamingTheField(HostilePolicyCorpus bad) {
    GenericKubernetesResource policy = Serialization.unmarshal(bad.content(), GenericKubernetesResource.class);
    assertThatThrownBy(() -> API.client().resource(policy).fieldValidation(Validation.STRICT).create())
        .as(bad.name())
        .isInstanceOfSatisfying(
            KubernetesClientException.class,
            e -> {
              if (unknownField(bad)) {
                assertThat(e.getCode()).isEqualTo(400);
                assertThat(e.getStatus().getMessage()).contains("strict decoding error: unknown field \"" + corpusPath(bad) + "\"");
              } else {
                assertThat(e.getCode()).isEqualTo(422);
                assertThat(e.getStatus().getDetails().getCauses()).extracting(StatusCause::getField).contains(corpusPath(bad));
              }
            });
  }

  /**
   * Without {@code fieldValidation=Strict} (fabric8's default; kubectl always asks for Strict) the
   * server does not refuse an unknown field: it prunes it and only warns. A misspelt
   * {@code nodeSelektor} then selects every node, so whatever writes policies through a client
   * library must ask for Strict; every other schema case is refused either way.
   */
  @ParameterizedTest(name = "{0}")
  @MethodSource("schemaCases")
  void withoutStrictFieldValidationUnknownFieldsArePrunedNotRefused(HostilePolicyCorpus bad) {
    GenericKubernetesResource policy = Serialization.unmarshal(bad.content(), GenericKubernetesResource.class);
    if (!unknownField(bad)) {
      assertThatThrownBy(() -> API.client().resource(policy).create()).as(bad.name()).isInstanceOf(KubernetesClientException.class);
      return;
    }
    GenericKubernetesResource stored = API.client().resource(policy).create();
    try {
      String field = corpusPath(bad).substring("spec.".length());
      @SuppressWarnings("unchecked")
      Map<String, Object> spec = (Map<String, Object>) stored.getAdditionalProperties().get("spec");
      boolean inSysctls = field.startsWith("sysctls.");
      @SuppressWarnings("unchecked")
      Map<String, Object> parent = inSysctls ? (Map<String, Object>) spec.get("sysctls") : spec;
      String key = inSysctls ? field.substring("sysctls.".length()) : field;
      assertThat(parent).as(bad.name() + " stored spec " + spec).isNotNull().doesNotContainKey(key);
    } finally {
      API.client().resource(stored).delete();
    }
  }

  @Test
  void anIntegralExponentIsAnInteger() {
    HostilePolicyCorpus exponent = HostilePolicyCorpus.named(EXPONENT);
    assertThat(exponent.crdRejects()).as("the corpus still marks it crd-rejects: true").isTrue();
    RealApiServer.Kubectl apply = API.kubectl("apply", "-f", API.tempFile(EXPONENT, exponent.content()).toString());
    try {
      assertThat(apply.exitCode()).as(apply.toString()).isZero();
      assertThat(API.kubectl("get", "ttp", "hostile", "-o", "jsonpath={.spec.sysctls.tcpMaxTwBuckets}").assertSuccess().stdout())
          .isEqualTo("1000000");
    } finally {
      API.kubectl("delete", "ttp", "hostile", "--ignore-not-found").assertSuccess();
    }
  }

  /**
   * The cases marked {@code crd-rejects: false}: what the real kubectl and server do with them.
   * Those accepted here reach the operator and the agents, whose policy reader refuses them (the
   * corpus's {@code expect}); those refused are refused before or beside the schema, for the
   * reason given.
   */
  record OperatorCase(String file, boolean accepted, String evidence, String why) {}

  static final List<OperatorCase> OPERATOR_ONLY =
      List.of(
          new OperatorCase("47-wrong-kind.yaml", false, "no matches for kind \"Deployment\" in version \"tcptuning.io/v1alpha1\"", "kubectl finds no such resource (no schema involved)"),
          new OperatorCase("48-wrong-api-version.yaml", false, "no matches for kind \"TcpTuningPolicy\" in version \"tcptuning.io/v1\"", "kubectl finds no such version"),
          new OperatorCase("49-missing-api-version.yaml", false, "apiVersion not set", "kubectl's client-side check"),
          new OperatorCase("50-missing-spec.yaml", true, "tcptuningpolicy.tcptuning.io/x created", "spec is not required by the CRD: only the operator refuses it"),
          new OperatorCase("51-empty-document.yaml", false, "no objects passed to apply", "kubectl: nothing to send"),
          new OperatorCase("52-not-a-map.yaml", false, "invalid object to validate", "kubectl's client-side check"),
          new OperatorCase("53-duplicate-key.yaml", true, "tcptuningpolicy.tcptuning.io/hostile created", "kubectl's YAML to JSON keeps one of the duplicate keys; the server never sees two"),
          new OperatorCase("54-duplicate-spec.yaml", true, "tcptuningpolicy.tcptuning.io/hostile created", "as 53, for the whole spec"),
          new OperatorCase("55-two-documents.yaml", true, "tcptuningpolicy.tcptuning.io/hostile configured", "kubectl applies both documents, the second over the first"),
          new OperatorCase("56-invalid-yaml.yaml", false, "error converting YAML to JSON", "kubectl cannot parse it"),
          new OperatorCase("57-alias-bomb.yaml", false, "excessive aliasing", "kubectl's YAML parser limits alias expansion"),
          new OperatorCase("58-alias-in-sysctls.yaml", false, "strict decoding error: unknown field \"base\"", "refused for the extra top-level field holding the anchor, not for the alias (see aliasesInsideTheSchemaAreAccepted)"),
          new OperatorCase("59-deeply-nested.yaml", false, "strict decoding error: unknown field \"spec.nodeSelector.a\"", "refused by strict field validation: nodeSelector has no field a (the depth itself is not checked)"),
          new OperatorCase("generated-multi-megabyte", false, "Request entity too large: limit is 3145728", "the server's 3 MiB request limit, not the schema"));

  @Test
  void everyOperatorOnlyCaseIsListed() {
    assertThat(OPERATOR_ONLY).extracting(OperatorCase::file)
        .containsExactlyInAnyOrderElementsOf(HostilePolicyCorpus.all().stream().filter(c -> !c.crdRejects()).map(HostilePolicyCorpus::name).toList());
  }

  static List<OperatorCase> operatorOnly() {
    return OPERATOR_ONLY;
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("operatorOnly")
  void operatorOnlyCasesGetPastTheSchemaOrAreRefusedForAnotherReason(OperatorCase expected) {
    HostilePolicyCorpus bad = HostilePolicyCorpus.all().stream().filter(c -> c.name().equals(expected.file())).findFirst().orElseThrow();
    RealApiServer.Kubectl apply = API.kubectl("apply", "-f", API.tempFile(bad.name().endsWith(".yaml") ? bad.name() : bad.name() + ".yaml", bad.content()).toString());
    try {
      if (expected.accepted()) {
        assertThat(apply.exitCode()).as(expected.why() + "\n" + apply).isZero();
        assertThat(apply.stdout()).contains(expected.evidence());
      } else {
        assertThat(apply.exitCode()).as(expected.why() + "\n" + apply).isNotZero();
        assertThat(apply.stderr()).as(apply.toString()).contains(expected.evidence()).doesNotContain("is invalid");
      }
    } finally {
      API.kubectl("delete", "ttp", "--all").assertSuccess();
    }
  }

  @Test
  void duplicateKeysReachTheServerAsTheirLastValue() {
    HostilePolicyCorpus dup = HostilePolicyCorpus.named("53-duplicate-key.yaml");
    HostilePolicyCorpus dupSpec = HostilePolicyCorpus.named("54-duplicate-spec.yaml");
    try {
      API.kubectl("apply", "-f", API.tempFile(dup.name(), dup.content()).toString()).assertSuccess();
      assertThat(API.kubectl("get", "ttp", "hostile", "-o", "jsonpath={.spec.sysctls.tcpTwReuse}").assertSuccess().stdout()).isEqualTo("0");
      API.kubectl("delete", "ttp", "hostile").assertSuccess();
      API.kubectl("apply", "-f", API.tempFile(dupSpec.name(), dupSpec.content()).toString()).assertSuccess();
      assertThat(API.kubectl("get", "ttp", "hostile", "-o", "jsonpath={.spec.mode} {.spec.sysctls.tcpTwReuse}").assertSuccess().stdout())
          .isEqualTo("Enforce 1");
    } finally {
      API.kubectl("delete", "ttp", "--all").assertSuccess();
    }
  }

  @Test
  void aliasesInsideTheSchemaAreAccepted() {
    RealApiServer.Kubectl apply =
        API.kubectlWithInput(
            """
            apiVersion: tcptuning.io/v1alpha1
            kind: TcpTuningPolicy
            metadata: {name: alias}
            spec:
              sysctls: {tcpTwReuse: &v 1, tcpTimestamps: *v}
            """,
            "apply", "-f", "-");
    try {
      assertThat(apply.exitCode()).as(apply.toString()).isZero();
      assertThat(API.kubectl("get", "ttp", "alias", "-o", "jsonpath={.spec.sysctls.tcpTimestamps}").assertSuccess().stdout()).isEqualTo("1");
    } finally {
      API.kubectl("delete", "ttp", "--all").assertSuccess();
    }
  }

  private static boolean unknownField(HostilePolicyCorpus c) {
    return c.expect().endsWith(": unknown field");
  }

  /**
   * The field path of the corpus's expect line, which the server names too (the two cross-field CEL
   * rules sit on {@code spec.sysctls} and carry a {@code fieldPath} to the field they are about).
   * {@code spec.sysctls.tcpRmem: unknown field} -> {@code spec.sysctls.tcpRmem}.
   */
  private static String corpusPath(HostilePolicyCorpus c) {
    int colon = c.expect().indexOf(": ");
    return colon < 0 ? c.expect() : c.expect().substring(0, colon);
  }
}
