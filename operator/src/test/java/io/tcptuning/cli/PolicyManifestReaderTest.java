package io.tcptuning.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

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

class PolicyManifestReaderTest {
  static final Path EXAMPLES = Path.of("..", "deploy", "examples");
  final PolicyManifestReader reader = new PolicyManifestReader();

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

  static Stream<Arguments> badManifests() {
    return Stream.of(
        Arguments.of("out of range", withSysctls("tcpTwReuse: 3"), "spec.sysctls.tcpTwReuse", "0..2"),
        Arguments.of("negative", withSysctls("tcpFinTimeout: -5"), "spec.sysctls.tcpFinTimeout", "5..120"),
        Arguments.of("below minimum", withSysctls("tcpMaxTwBuckets: 100"), "spec.sysctls.tcpMaxTwBuckets", "8000..1440000"),
        Arguments.of("int overflow", withSysctls("tcpMaxTwBuckets: 99999999999"), "spec.sysctls.tcpMaxTwBuckets", "out of range"),
        Arguments.of("huge", withSysctls("somaxconn: 123456789012345678901234567890"), "spec.sysctls.somaxconn", "4096..3240000"),
        Arguments.of("string for int", withSysctls("tcpTwReuse: \"1\""), "spec.sysctls.tcpTwReuse", "must be an integer"),
        Arguments.of("fraction for int", withSysctls("tcpTwReuse: 1.0"), "spec.sysctls.tcpTwReuse", "must be an integer"),
        Arguments.of("boolean for int", withSysctls("tcpTimestamps: true"), "spec.sysctls.tcpTimestamps", "must be an integer"),
        Arguments.of("number for port range", withSysctls("ipLocalPortRange: 1024"), "spec.sysctls.ipLocalPortRange", "\"min max\""),
        Arguments.of("injection", withSysctls("ipLocalPortRange: \"1024 65535\\nnet.ipv4.ip_forward=1\""), "spec.sysctls.ipLocalPortRange", "\"min max\""),
        Arguments.of("reversed range", withSysctls("ipLocalPortRange: \"60000 40000\""), "spec.sysctls.ipLocalPortRange", "1024 <= min < max <= 65535"),
        Arguments.of("privileged range", withSysctls("ipLocalPortRange: \"80 65535\""), "spec.sysctls.ipLocalPortRange", "1024 <= min"),
        Arguments.of("range past 65535", withSysctls("ipLocalPortRange: \"1024 70000\""), "spec.sysctls.ipLocalPortRange", "max <= 65535"),
        Arguments.of("reuse without timestamps", withSysctls("tcpTwReuse: 1\ntcpTimestamps: 0"), "spec.sysctls.tcpTwReuse", "tcpTimestamps"),
        Arguments.of("priority", HEAD + "spec:\n  priority: 5000\n", "spec.priority", "-1000..1000"),
        Arguments.of("unknown sysctl", withSysctls("ipForward: 1"), "spec.sysctls.ipForward", "unknown field"),
        Arguments.of("unknown spec field", HEAD + "spec:\n  sysctl: {tcpTwReuse: 1}\n", "spec.sysctl", "unknown field"),
        Arguments.of("unknown top-level field", HEAD + "spec: {}\nextra: 1\n", "extra", "unknown field"),
        Arguments.of("unknown selector field", HEAD + "spec:\n  nodeSelector:\n    matchLabel: {a: b}\n", "spec.nodeSelector.matchLabel", "unknown field"),
        Arguments.of("unknown metadata field", HEAD + "  nmae: x\nspec: {}\n", "metadata.nmae", "unknown field"),
        Arguments.of("wrong mode", HEAD + "spec:\n  mode: enforce\n", "spec.mode", "Enforce, DryRun"),
        Arguments.of("wrong kind", HEAD.replace("kind: TcpTuningPolicy", "kind: ConfigMap") + "spec: {}\n", "kind", "TcpTuningPolicy"),
        Arguments.of("wrong apiVersion", HEAD.replace("v1alpha1", "v1") + "spec: {}\n", "apiVersion", "tcptuning.io/v1alpha1"),
        Arguments.of("missing apiVersion", HEAD.replace("apiVersion: tcptuning.io/v1alpha1\n", "") + "spec: {}\n", "apiVersion", "tcptuning.io/v1alpha1"),
        Arguments.of("missing spec", HEAD, "spec", "is required"),
        Arguments.of("null spec", HEAD + "spec:\n", "spec", "is required"),
        Arguments.of("missing name", HEAD.replace("  name: p\n", "  labels: {a: b}\n") + "spec: {}\n", "metadata.name", "Kubernetes object name"),
        Arguments.of("bad name", HEAD.replace("name: p", "name: \"p\\nq\"") + "spec: {}\n", "metadata.name", "Kubernetes object name"),
        Arguments.of("duplicate sysctl", withSysctls("tcpTwReuse: 1\ntcpTwReuse: 2"), "spec.sysctls.tcpTwReuse", "twice"),
        Arguments.of("duplicate top-level key", HEAD + "spec: {}\nspec: {}\n", "spec", "twice"),
        Arguments.of("duplicate JSON key", "{\"apiVersion\": \"tcptuning.io/v1alpha1\", \"kind\": \"TcpTuningPolicy\", \"kind\": \"TcpTuningPolicy\"}", "kind", "twice"),
        Arguments.of("anchor and alias", HEAD + "spec:\n  sysctls: &s {tcpTwReuse: 1}\n  x: *s\n", "spec.sysctls", "anchors and aliases"),
        Arguments.of("alias bomb", aliasBomb(), "a", "anchors and aliases"),
        Arguments.of("merge key", HEAD + "spec:\n  <<: {priority: 1}\n", "spec.<<", "unknown field"),
        Arguments.of("tag", withSysctls("tcpTwReuse: !!int \"1\""), "spec.sysctls.tcpTwReuse", "tags"),
        Arguments.of("deep nesting", HEAD + "spec:\n  x: " + "[".repeat(100) + "]".repeat(100) + "\n", "manifest", "deeper than 32"),
        Arguments.of("deep JSON nesting", "{\"a\":" + "[".repeat(5000) + "]".repeat(5000) + "}", "manifest", "deeper than 32"),
        Arguments.of("two documents", HEAD + "spec: {}\n---\n" + HEAD + "spec: {}\n", "manifest", "one policy per file"),
        Arguments.of("empty", "", "manifest", "is empty"),
        Arguments.of("a list", "- a\n- b\n", "manifest", "must be an object"),
        Arguments.of("broken syntax", HEAD + "spec: {sysctls: [\n", "spec.sysctls[0]", "not valid YAML/JSON"));
  }

  static String aliasBomb() {
    StringBuilder b = new StringBuilder("a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n");
    for (char c = 'b'; c <= 'j'; c++) {
      char prev = (char) (c - 1);
      b.append(c).append(": &").append(c).append(" [");
      for (int i = 0; i < 9; i++) {
        b.append(i == 0 ? "" : ",").append('*').append(prev);
      }
      b.append("]\n");
    }
    return b.toString();
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

  @Test
  void reportsEveryNumberProblemAtOnce() {
    List<Violation> v = violations(withSysctls("tcpTwReuse: \"1\"\ntcpFinTimeout: 1.5\nsomaxconn: 99999999999"));
    assertThat(v).extracting(Violation::field)
        .containsExactlyInAnyOrder("spec.sysctls.tcpTwReuse", "spec.sysctls.tcpFinTimeout", "spec.sysctls.somaxconn");
  }

  @Test
  void refusesAFileLargerThanOneMebibyte() throws IOException {
    byte[] big = (HEAD + "spec: {}\n# " + "x".repeat(PolicyManifestReader.MAX_BYTES) + "\n").getBytes(StandardCharsets.UTF_8);
    InvalidPolicyException e =
        catchThrowableOfType(InvalidPolicyException.class, () -> reader.read(new java.io.ByteArrayInputStream(big), "big.yaml"));
    assertThat(e.violations()).singleElement().satisfies(v -> {
      assertThat(v.field()).isEqualTo("manifest");
      assertThat(v.message()).contains("larger than 1 MiB");
    });
  }

  @Test
  void aMissingFileIsInvalidInput() {
    InvalidPolicyException e = catchThrowableOfType(InvalidPolicyException.class, () -> reader.read("/nonexistent/policy.yaml"));
    assertThat(e.violations()).singleElement().extracting(Violation::field).isEqualTo("manifest");
  }
}
