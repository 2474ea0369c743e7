package io.tcptuning.api;

import io.tcptuning.testing.ProjectPaths;

import static org.assertj.core.api.Assertions.assertThat;

import io.tcptuning.testing.CrdSchemaValidator;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;

/** The committed TcpTuningPolicy CRD rejects what it should, as the API server would apply it. */
class PolicyCrdSchemaTest {
  static CrdSchemaValidator crd;

  @BeforeAll
  static void load() throws IOException {
    crd = CrdSchemaValidator.forCrd("tcptuningpolicies.tcptuning.io-v1.yaml");
  }

  static String policy(String sysctlsYaml) {
    return """
        apiVersion: tcptuning.io/v1alpha1
        kind: TcpTuningPolicy
        metadata: {name: p}
        spec:
          sysctls:
        %s""".formatted(sysctlsYaml.indent(4));
  }

  static Stream<Path> examples() throws IOException {
    return Files.list(ProjectPaths.resolve("deploy/examples")).filter(p -> p.toString().endsWith(".yaml")).sorted();
  }

  @ParameterizedTest
  @MethodSource("examples")
  void theShippedExamplesAreAccepted(Path example) throws IOException {
    assertThat(crd.validate(Files.readString(example))).isEmpty();
  }

  @Test
  void aFullPolicyIsAccepted() throws IOException {
    String full = """
        apiVersion: tcptuning.io/v1alpha1
        kind: TcpTuningPolicy
        metadata: {name: full}
        spec:
          nodeSelector: {matchLabels: {tcptuning.io/profile: high-churn}}
          priority: 10
          mode: Enforce
          assumeNat: true
          sysctls:
            tcpTwReuse: 1
            tcpTimestamps: 1
            ipLocalPortRange: "10240 65535"
            tcpFinTimeout: 30
            tcpMaxTwBuckets: 262144
            somaxconn: 4096
            tcpMaxSynBacklog: 8192
            tcpTwRecycle: 0
          rollout: {maxUnavailable: "10%"}
          tolerations: [{operator: Exists}]
        """;
    assertThat(crd.validate(full)).isEmpty();
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', value = {
      "tcpTwReuse: 3                       | maximum",
      "tcpTwReuse: -1                      | minimum",
      "tcpTimestamps: 2                    | maximum",
      "tcpFinTimeout: 4                    | minimum",
      "tcpFinTimeout: 121                  | maximum",
      "tcpMaxTwBuckets: 7999               | minimum",
      "tcpMaxTwBuckets: 1440001            | maximum",
      "somaxconn: 128                      | minimum",
      "somaxconn: 3240001                  | maximum",
      "tcpMaxSynBacklog: 127               | minimum",
      "tcpTwRecycle: 2                     | maximum",
      "tcpFinTimeout: '30'                 | integer",
      "tcpFinTimeout: 30.5                 | integer",
      "tcpFinTimeout: 99999999999999999999 | maximum",
      "ipLocalPortRange: '1024'            | pattern",
      "ipLocalPortRange: 1024              | string expected",
      "ipLocalPortRange: '1023 65535'      | 1024 <= min < max <= 65535",
      "ipLocalPortRange: '65535 1024'      | 1024 <= min < max <= 65535",
      "ipLocalPortRange: '40000 40000'     | 1024 <= min < max <= 65535",
      "ipLocalPortRange: '1024 65536'      | 1024 <= min < max <= 65535",
      "ipLocalPortRange: '80 8080'         | 1024 <= min < max <= 65535",
      "ipLocalPortRange: \"1024 65535\\nnet.ipv4.ip_forward=1\" | pattern",
      "ipLocalPortRange: '1024\t65535'     | pattern",
      "tcpRmem: 4096                       | unknown field",
  })
  void rejectsOutOfRangeAndMalformedSysctls(String sysctl, String expected) throws IOException {
    assertThat(crd.validate(policy(sysctl))).as(sysctl).isNotEmpty().anySatisfy(e -> assertThat(e).contains(expected));
  }

  @Test
  void celRejectsReuseWithTimestampsOff() throws IOException {
    assertThat(crd.validate(policy("tcpTwReuse: 1\ntcpTimestamps: 0")))
        .singleElement().asString().contains("tcpTwReuse 1 or 2 needs tcpTimestamps 1");
    assertThat(crd.validate(policy("tcpTwReuse: 2\ntcpTimestamps: 0"))).hasSize(1);
    assertThat(crd.validate(policy("tcpTwReuse: 0\ntcpTimestamps: 0"))).isEmpty();
    assertThat(crd.validate(policy("tcpTwReuse: 1"))).isEmpty();
  }

  @ParameterizedTest
  @CsvSource({"'\"10%\"', true", "'\"100%\"', true", "1, true", "0, false", "'\"0%\"', false", "'\"101%\"', false", "'\"ten\"', false"})
  void celChecksMaxUnavailable(String value, boolean ok) throws IOException {
    String manifest = "apiVersion: tcptuning.io/v1alpha1\nkind: TcpTuningPolicy\nmetadata: {name: p}\nspec:\n  rollout: {maxUnavailable: " + value + "}\n";
    assertThat(crd.validate(manifest).isEmpty()).as(value).isEqualTo(ok);
  }

  @Test
  void rejectsUnknownModeAndOutOfRangePriority() throws IOException {
    String base = "apiVersion: tcptuning.io/v1alpha1\nkind: TcpTuningPolicy\nmetadata: {name: p}\nspec:\n";
    assertThat(crd.validate(base + "  mode: Audit\n")).isNotEmpty();
    assertThat(crd.validate(base + "  priority: 1001\n")).isNotEmpty();
    assertThat(crd.validate(base + "  nodeSelektor: {}\n")).singleElement().asString().contains("unknown field");
  }

  @Test
  void theStatusSubresourceAndPrinterColumnsAnswerIsItWorking() throws IOException {
    String yaml = Files.readString(ProjectPaths.resolve("crds/tcptuningpolicies.tcptuning.io-v1.yaml"));
    assertThat(yaml).contains("scope: \"Cluster\"").contains("status: {}").contains("- \"ttp\"");
    assertThat(yaml.indexOf("name: \"Selected\"")).isLessThan(yaml.indexOf("name: \"Applied\""));
    assertThat(yaml.indexOf("name: \"Ready\"")).isLessThan(yaml.indexOf("name: \"Age\""));
    String nodeStates = Files.readString(ProjectPaths.resolve("crds/tcptuningnodestates.tcptuning.io-v1.yaml"));
    assertThat(nodeStates).contains("scope: \"Cluster\"").contains("- \"ttns\"").contains("name: \"Kernel\"")
        .contains("name: \"Time-Wait\"").contains("name: \"Pressure\"");
  }

  @Test
  void committedCrdsMatchTheChartCopies() throws IOException {
    for (String f : new String[] {"tcptuningpolicies.tcptuning.io-v1.yaml", "tcptuningnodestates.tcptuning.io-v1.yaml"}) {
      assertThat(Files.readString(ProjectPaths.resolve("charts/tcp-tuning-operator/crds").resolve(f))).isEqualTo(Files.readString(ProjectPaths.resolve("crds").resolve(f)));
    }
  }
}
