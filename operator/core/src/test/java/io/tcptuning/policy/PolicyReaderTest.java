package io.tcptuning.policy;

import io.tcptuning.testing.ProjectPaths;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.tcptuning.testing.HostilePolicyCorpus;
import io.tcptuning.api.v1alpha1.Mode;
import io.tcptuning.api.v1alpha1.TcpTuningPolicy;
import io.tcptuning.domain.Sysctl;
import io.tcptuning.domain.TuningPlanner;
import io.tcptuning.domain.Violation;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class PolicyReaderTest {
  static final Path EXAMPLES = ProjectPaths.resolve("deploy/examples");
  final PolicyReader reader = new PolicyReader();

  static final String HEAD = "apiVersion: tcptuning.io/v1alpha1\nkind: TcpTuningPolicy\nmetadata:\n  name: p\n";

  static String withSysctls(String sysctlLines) {
    return HEAD + "spec:\n  sysctls:\n" + sysctlLines.indent(4);
  }

  TcpTuningPolicy parse(String text) throws InvalidPolicyException {
    return reader.parse(text.getBytes(StandardCharsets.UTF_8), "test.yaml");
  }

  List<Violation> violations(String text) {
    InvalidPolicyException e = catchThrowableOfType(InvalidPolicyException.class, () -> parse(text));
    assertThat(e).as("expected the manifest to be rejected:\n%s", text).isNotNull();
    assertThat(e.getMessage()).startsWith("invalid policy test.yaml:");
    return e.violations();
  }

  static Stream<Path> examples() throws IOException {
    return Files.list(EXAMPLES).filter(p -> p.toString().endsWith(".yaml")).sorted();
  }

  @ParameterizedTest
  @MethodSource("examples")
  void readsEveryShippedExample(Path example) throws Exception {
    TcpTuningPolicy p = reader.read(example.toString());
    assertThat(p.getMetadata().getName()).isNotBlank();
    assertThat(p.getSpec().getSysctls()).isNotNull();
  }

  @Test
  void readsTheHighChurnExampleIntoTheDesiredValues() throws Exception {
    TcpTuningPolicy p = reader.read(EXAMPLES.resolve("high-churn-clients.yaml").toString());

    assertThat(p.getMetadata().getName()).isEqualTo("high-churn-clients");
    assertThat(p.getSpec().effectiveMode()).isEqualTo(Mode.Enforce);
    assertThat(TuningPlanner.desired(p.getSpec().getSysctls()))
        .containsExactly(
            java.util.Map.entry(Sysctl.TCP_TW_REUSE, "1"),
            java.util.Map.entry(Sysctl.TCP_TIMESTAMPS, "1"),
            java.util.Map.entry(Sysctl.IP_LOCAL_PORT_RANGE, "10240 65535"));
  }

  @Test
  void readsTheClientPodsExampleWithItsPodAndNamespaceSelectors() throws Exception {
    TcpTuningPolicy p = reader.read(EXAMPLES.resolve("client-pods.yaml").toString());

    assertThat(p.getSpec().selectsPods()).isTrue();
    assertThat(p.getSpec().getPodSelector().getMatchLabels()).containsExactly(java.util.Map.entry("tcptuning.io/tune", "true"));
    assertThat(p.getSpec().getNamespaceSelector().getMatchExpressions()).singleElement().satisfies(r -> {
      assertThat(r.getKey()).isEqualTo("kubernetes.io/metadata.name");
      assertThat(r.getOperator()).isEqualTo("NotIn");
      assertThat(r.getValues()).containsExactly("kube-system");
    });
    // The agent gets the spec as JSON (TCPTUNE_POLICY_SPEC) and reads back the same selectors.
    var spec = reader.parseSpec(reader.writeSpec(p.getSpec()), "TCPTUNE_POLICY_SPEC");
    assertThat(spec.getPodSelector()).isEqualTo(p.getSpec().getPodSelector());
    assertThat(spec.getNamespaceSelector()).isEqualTo(p.getSpec().getNamespaceSelector());
  }

  @Test
  void withoutPodOrNamespaceSelectorOnlyTheNodesNamespaceIsTuned() throws Exception {
    assertThat(parse(withSysctls("tcpTwReuse: 1")).getSpec().selectsPods()).isFalse();
    assertThat(parse(HEAD + "spec:\n  podSelector: {}\n  sysctls: {tcpTwReuse: 1}\n").getSpec().selectsPods())
        .as("an empty podSelector selects every pod").isTrue();
    assertThat(parse(HEAD + "spec:\n  namespaceSelector: {matchLabels: {team: payments}}\n  sysctls: {tcpTwReuse: 1}\n").getSpec().selectsPods()).isTrue();
  }

  @Test
  void badPodAndNamespaceSelectorsAreNamedAllAtOnce() {
    List<Violation> v =
        violations(
            HEAD
                + "spec:\n  podSelector:\n    matchLabels: {\"tune me\": \"true\"}\n    matchExpressions:\n      - {key: app, operator: Gt, values: [\"1\"], extra: 1}\n"
                + "  namespaceSelector: {matchExpressions: [{key: team, operator: In}]}\n  sysctls: {tcpTwReuse: 1}\n");
    assertThat(v)
        .extracting(Violation::field)
        .containsExactly(
            "spec.podSelector.matchExpressions[0].extra",
            "spec.podSelector.matchLabels",
            "spec.podSelector.matchExpressions[0].operator",
            "spec.namespaceSelector.matchExpressions[0].values");
    assertThat(v.get(1).message()).startsWith("\"tune me\" is not a valid label key; accepted [prefix/]name");
  }

  @Test
  void readsJsonToo() throws Exception {
    String json =
        """
        {"apiVersion": "tcptuning.io/v1alpha1", "kind": "TcpTuningPolicy", "metadata": {"name": "j"},
         "spec": {"mode": "DryRun", "sysctls": {"tcpFinTimeout": 30, "ipLocalPortRange": "1024 65535"}}}
        """;
    TcpTuningPolicy p = parse(json);
    assertThat(p.getSpec().effectiveMode()).isEqualTo(Mode.DryRun);
    assertThat(p.getSpec().getSysctls().getTcpFinTimeout()).isEqualTo(30);
  }

  @Test
  void readsStandardInputForDash() throws Exception {
    var stdin = System.in;
    try {
      System.setIn(new java.io.ByteArrayInputStream(withSysctls("tcpTwReuse: 1").getBytes(StandardCharsets.UTF_8)));
      assertThat(reader.read("-").getSpec().getSysctls().getTcpTwReuse()).isEqualTo(1);
    } finally {
      System.setIn(stdin);
    }
  }

  @Test
  void aLeadingZeroInThePortRangeIsReadAsDecimalNotOctal() throws Exception {
    TcpTuningPolicy p = parse(withSysctls("ipLocalPortRange: \"01024 65535\""));
    assertThat(TuningPlanner.desired(p.getSpec().getSysctls())).containsEntry(Sysctl.IP_LOCAL_PORT_RANGE, "1024 65535");
  }

  /**
   * Bad manifests not in the hostile corpus. Those that are (out-of-range values, injection,
   * unknown fields, wrong kind, duplicates, aliases, nesting, ...) are asserted in
   * {@link #rejectsCorpusCasesNamingTheFieldAndWhatIsAccepted}.
   */
  static Stream<Arguments> badManifests() {
    return Stream.of(
        Arguments.of("int overflow", withSysctls("tcpMaxTwBuckets: 99999999999"), "spec.sysctls.tcpMaxTwBuckets", "out of range"),
        Arguments.of("fraction for int", withSysctls("tcpTwReuse: 1.0"), "spec.sysctls.tcpTwReuse", "must be an integer"),
        Arguments.of("unknown top-level field", HEAD + "spec: {}\nextra: 1\n", "extra", "unknown field"),
        Arguments.of("unknown selector field", HEAD + "spec:\n  nodeSelector:\n    matchLabel: {a: b}\n", "spec.nodeSelector.matchLabel", "unknown field"),
        Arguments.of("unknown metadata field", HEAD + "  nmae: x\nspec: {}\n", "metadata.nmae", "unknown field"),
        Arguments.of("wrong mode", HEAD + "spec:\n  mode: enforce\n", "spec.mode", "Enforce, DryRun"),
        Arguments.of("object for list", HEAD + "spec:\n  tolerations: {operator: Exists}\n", "spec.tolerations", "must be a list, not an object"),
        Arguments.of("list for boolean", HEAD + "spec:\n  assumeNat: [true]\n", "spec.assumeNat", "must be true or false, not a list"),
        Arguments.of("null spec", HEAD + "spec:\n", "spec", "is required"),
        Arguments.of("missing name", HEAD.replace("  name: p\n", "  labels: {a: b}\n") + "spec: {}\n", "metadata.name", "Kubernetes object name"),
        Arguments.of("bad name", HEAD.replace("name: p", "name: \"p\\nq\"") + "spec: {}\n", "metadata.name", "Kubernetes object name"),
        Arguments.of("duplicate JSON key", "{\"apiVersion\": \"tcptuning.io/v1alpha1\", \"kind\": \"TcpTuningPolicy\", \"kind\": \"TcpTuningPolicy\"}", "kind", "twice"),
        Arguments.of("anchor and alias", HEAD + "spec:\n  sysctls: &s {tcpTwReuse: 1}\n  x: *s\n", "spec.sysctls", "anchors and aliases"),
        Arguments.of("merge key", HEAD + "spec:\n  <<: {priority: 1}\n", "spec.<<", "unknown field"),
        Arguments.of("tag", withSysctls("tcpTwReuse: !!int \"1\""), "spec.sysctls.tcpTwReuse", "tags"),
        Arguments.of("deep JSON nesting", "{\"a\":" + "[".repeat(5000) + "]".repeat(5000) + "}", "manifest", "deeper than 32"));
  }

  /**
   * Hostile corpus cases with more to say than their {@code # expect:} line: the exact field and
   * the accepted range or the reason.
   */
  static Stream<Arguments> corpusCases() {
    return Stream.of(
        Arguments.of("01-tw-reuse-too-high.yaml", "spec.sysctls.tcpTwReuse", "0..2"),
        Arguments.of("07-fin-timeout-negative.yaml", "spec.sysctls.tcpFinTimeout", "5..120"),
        Arguments.of("08-max-tw-buckets-too-low.yaml", "spec.sysctls.tcpMaxTwBuckets", "8000..1440000"),
        Arguments.of("15-int-overflow-int64.yaml", "spec.sysctls.somaxconn", "4096..3240000"),
        Arguments.of("19-string-for-int.yaml", "spec.sysctls.tcpTwReuse", "must be an integer"),
        Arguments.of("21-bool-for-int.yaml", "spec.sysctls.tcpTimestamps", "must be an integer"),
        Arguments.of("24-port-range-reversed.yaml", "spec.sysctls.ipLocalPortRange", "1024 <= min < max <= 65535"),
        Arguments.of("25-port-range-privileged.yaml", "spec.sysctls.ipLocalPortRange", "1024 <= min"),
        Arguments.of("26-port-range-above-65535.yaml", "spec.sysctls.ipLocalPortRange", "max <= 65535"),
        Arguments.of("30-port-range-newline-injection.yaml", "spec.sysctls.ipLocalPortRange", "\"min max\""),
        Arguments.of("36-port-range-number.yaml", "spec.sysctls.ipLocalPortRange", "\"min max\""),
        Arguments.of("37-reuse-without-timestamps.yaml", "spec.sysctls.tcpTwReuse", "tcpTimestamps"),
        Arguments.of("38-unknown-sysctl-field.yaml", "spec.sysctls.tcpRmem", "unknown field"),
        Arguments.of("41-unknown-spec-field.yaml", "spec.nodeSelektor", "unknown field"),
        Arguments.of("43-priority-out-of-range.yaml", "spec.priority", "-1000..1000"),
        Arguments.of("46-sysctls-not-a-map.yaml", "spec.sysctls", "must be an object, not a list"),
        Arguments.of("47-wrong-kind.yaml", "kind", "TcpTuningPolicy"),
        Arguments.of("48-wrong-api-version.yaml", "apiVersion", "tcptuning.io/v1alpha1"),
        Arguments.of("49-missing-api-version.yaml", "apiVersion", "tcptuning.io/v1alpha1"),
        Arguments.of("50-missing-spec.yaml", "spec", "is required"),
        Arguments.of("51-empty-document.yaml", "manifest", "is empty"),
        Arguments.of("52-not-a-map.yaml", "manifest", "must be an object"),
        Arguments.of("53-duplicate-key.yaml", "spec.sysctls.tcpTwReuse", "twice"),
        Arguments.of("54-duplicate-spec.yaml", "spec", "twice"),
        Arguments.of("55-two-documents.yaml", "manifest", "one policy per file"),
        Arguments.of("56-invalid-yaml.yaml", "spec.sysctls[0]", "not valid YAML/JSON"),
        Arguments.of("57-alias-bomb.yaml", "x.a", "anchors and aliases"),
        Arguments.of("59-deeply-nested.yaml", "manifest", "deeper than 32"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("badManifests")
  void rejectsNamingTheFieldAndWhatIsAccepted(String what, String manifest, String field, String explanation) {
    List<Violation> violations = violations(manifest);
    assertThat(violations)
        .as(what)
        .anySatisfy(v -> {
          assertThat(v.field()).isEqualTo(field);
          assertThat(v.message()).contains(explanation);
        });
    assertThat(violations).allSatisfy(v -> assertThat(v.toString()).doesNotContain("\n"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("corpusCases")
  void rejectsCorpusCasesNamingTheFieldAndWhatIsAccepted(String corpusFile, String field, String explanation) {
    rejectsNamingTheFieldAndWhatIsAccepted(corpusFile, HostilePolicyCorpus.named(corpusFile).content(), field, explanation);
  }

  @Test
  void reportsEveryNumberProblemAtOnce() {
    List<Violation> v = violations(withSysctls("tcpTwReuse: \"1\"\ntcpFinTimeout: 1.5\nsomaxconn: 99999999999"));
    assertThat(v).extracting(Violation::field)
        .containsExactlyInAnyOrder("spec.sysctls.tcpTwReuse", "spec.sysctls.tcpFinTimeout", "spec.sysctls.somaxconn");
  }

  @Test
  void refusesAFileLargerThanOneMebibyte() throws IOException {
    byte[] big = (HEAD + "spec: {}\n# " + "x".repeat(PolicyReader.MAX_BYTES) + "\n").getBytes(StandardCharsets.UTF_8);
    InvalidPolicyException e =
        catchThrowableOfType(InvalidPolicyException.class, () -> reader.read(new java.io.ByteArrayInputStream(big), "big.yaml"));
    assertThat(e.violations()).singleElement().satisfies(v -> {
      assertThat(v.field()).isEqualTo("manifest");
      assertThat(v.message()).contains("larger than 1 MiB");
    });
  }

  @Test
  void aMissingFileIsInvalidInputSaidInOneLine() {
    InvalidPolicyException e = catchThrowableOfType(InvalidPolicyException.class, () -> reader.read("/nonexistent/policy.yaml"));
    assertThat(e.summary()).isEqualTo("no such file: /nonexistent/policy.yaml");
    assertThat(e.getMessage()).isEqualTo(e.summary());
    assertThat(e.violations()).isEmpty();
  }

  @Test
  void aTabInIndentationIsNamedWithItsOwnLine() throws Exception {
    // snakeyaml itself says "while scanning for the next token" at line 6, the line before.
    String text = HEAD + "spec:\n  sysctls:\n\ttcpTwReuse: 1\n";
    assertThat(text.lines().toList().get(6)).startsWith("\t");
    assertThat(violations(text)).singleElement().isEqualTo(new Violation("manifest", "line 7: a tab character; YAML indents with spaces"));
    // After spaces too, and on a comment line, which snakeyaml refuses as well.
    assertThat(violations(HEAD + "spec:\n  sysctls:\n  \t  tcpTwReuse: 1\n")).singleElement().asString().contains("line 7: a tab");
    assertThat(violations(HEAD + "spec:\n  sysctls:\n    tcpTwReuse: 1\n\t# a comment\n")).singleElement().asString().contains("line 8: a tab");
    // A tab that indents nothing is not refused: before a trailing comment.
    assertThat(parse(HEAD + "spec:\n  sysctls:\n    tcpTwReuse: 1\t# a comment\n").getSpec().getSysctls().getTcpTwReuse()).isEqualTo(1);
  }
}
