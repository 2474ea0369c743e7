package io.tcptuning.domain;

import io.tcptuning.testing.ProjectPaths;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.tcptuning.api.v1alpha1.Rollout;
import io.tcptuning.api.v1alpha1.SysctlSettings;
import io.tcptuning.api.v1alpha1.TcpTuningPolicy;
import io.tcptuning.api.v1alpha1.TcpTuningPolicySpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.BiConsumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

class PolicyValidatorTest {

  static TcpTuningPolicySpec specWith(BiConsumer<SysctlSettings, Integer> setter, int value) {
    SysctlSettings s = new SysctlSettings();
    setter.accept(s, value);
    TcpTuningPolicySpec spec = new TcpTuningPolicySpec();
    spec.setSysctls(s);
    return spec;
  }

  static Stream<Arguments> integerFields() {
    return Stream.of(
        Arguments.of("tcpTwReuse", (BiConsumer<SysctlSettings, Integer>) SysctlSettings::setTcpTwReuse, 0, 2),
        Arguments.of("tcpTimestamps", (BiConsumer<SysctlSettings, Integer>) SysctlSettings::setTcpTimestamps, 0, 1),
        Arguments.of("tcpFinTimeout", (BiConsumer<SysctlSettings, Integer>) SysctlSettings::setTcpFinTimeout, 5, 120),
        Arguments.of("tcpMaxTwBuckets", (BiConsumer<SysctlSettings, Integer>) SysctlSettings::setTcpMaxTwBuckets, 8000, 1440000),
        Arguments.of("somaxconn", (BiConsumer<SysctlSettings, Integer>) SysctlSettings::setSomaxconn, 4096, 3240000),
        Arguments.of("tcpMaxSynBacklog", (BiConsumer<SysctlSettings, Integer>) SysctlSettings::setTcpMaxSynBacklog, 128, 3240000),
        Arguments.of("tcpTwRecycle", (BiConsumer<SysctlSettings, Integer>) SysctlSettings::setTcpTwRecycle, 0, 1));
  }

  @ParameterizedTest
  @MethodSource("integerFields")
  void boundsAreInclusiveAndErrorsNameFieldAndRange(String field, BiConsumer<SysctlSettings, Integer> setter, int min, int max) {
    assertThat(PolicyValidator.validate(specWith(setter, min))).isEmpty();
    assertThat(PolicyValidator.validate(specWith(setter, max))).isEmpty();
    for (int bad : new int[] {min - 1, max + 1, Integer.MIN_VALUE, Integer.MAX_VALUE}) {
      List<Violation> v = PolicyValidator.validate(specWith(setter, bad));
      assertThat(v).as("%s=%d", field, bad).singleElement().satisfies(x -> {
        assertThat(x.field()).isEqualTo("spec.sysctls." + field);
        assertThat(x.message()).contains(String.valueOf(bad)).contains("accepted " + min + ".." + max);
      });
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"1024 65535", "10240 65535", "32768 60999", "1024 1025"})
  void goodPortRanges(String range) {
    SysctlSettings s = new SysctlSettings();
    s.setIpLocalPortRange(range);
    TcpTuningPolicySpec spec = new TcpTuningPolicySpec();
    spec.setSysctls(s);
    assertThat(PolicyValidator.validate(spec)).isEmpty();
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "1023 65535", "80 8080", "65535 1024", "40000 40000", "1024 65536", "99999 99999", "1024", "1024  65535",
      " 1024 65535", "1024 65535 ", "1024\t65535", "1024 65535\nnet.ipv4.ip_forward=1", "1024 65535\u0000", "a b",
      "-1 65535", "", "0x400 65535"})
  void badPortRangesNameTheFieldAndTheRule(String range) {
    SysctlSettings s = new SysctlSettings();
    s.setIpLocalPortRange(range);
    TcpTuningPolicySpec spec = new TcpTuningPolicySpec();
    spec.setSysctls(s);
    assertThat(PolicyValidator.validate(spec)).singleElement().satisfies(v -> {
      assertThat(v.field()).isEqualTo("spec.sysctls.ipLocalPortRange");
      assertThat(v.message()).contains("1024 <= min < max <= 65535").doesNotContain("\n").doesNotContain("\u0000");
    });
  }

  @Test
  void reuseWithTimestampsOffIsACrossFieldMistake() {
    SysctlSettings s = new SysctlSettings();
    s.setTcpTwReuse(1);
    s.setTcpTimestamps(0);
    TcpTuningPolicySpec spec = new TcpTuningPolicySpec();
    spec.setSysctls(s);
    assertThat(PolicyValidator.validate(spec)).singleElement().satisfies(v -> {
      assertThat(v.field()).isEqualTo("spec.sysctls.tcpTwReuse");
      assertThat(v.message()).contains("tcpTimestamps 1");
    });
    s.setTcpTwReuse(0);
    assertThat(PolicyValidator.validate(spec)).isEmpty();
  }

  @Test
  void priorityAndRollout() {
    TcpTuningPolicySpec spec = new TcpTuningPolicySpec();
    spec.setPriority(1001);
    Rollout r = new Rollout();
    r.setMaxUnavailable(new IntOrString("150%"));
    spec.setRollout(r);
    assertThat(PolicyValidator.validate(spec)).extracting(Violation::field)
        .containsExactly("spec.priority", "spec.rollout.maxUnavailable");
    spec.setPriority(-1000);
    for (Object ok : new Object[] {1, 50, "1%", "10%", "100%"}) {
      r.setMaxUnavailable(new IntOrString(ok));
      assertThat(PolicyValidator.validate(spec)).as("%s", ok).isEmpty();
    }
    for (Object bad : new Object[] {0, -1, "0%", "101%", "ten", "10", "10%\n"}) {
      r.setMaxUnavailable(new IntOrString(bad));
      assertThat(PolicyValidator.validate(spec)).as("%s", bad).extracting(Violation::field).containsExactly("spec.rollout.maxUnavailable");
    }
  }

  @Test
  void missingSpecAndEmptySpec() {
    assertThat(PolicyValidator.validate(null)).extracting(Violation::field).containsExactly("spec");
    assertThat(PolicyValidator.validate(new TcpTuningPolicySpec())).isEmpty();
  }

  @Test
  void everyViolationIsReportedNotJustTheFirst() {
    SysctlSettings s = new SysctlSettings();
    s.setTcpFinTimeout(1);
    s.setSomaxconn(10);
    s.setIpLocalPortRange("1 2");
    TcpTuningPolicySpec spec = new TcpTuningPolicySpec();
    spec.setSysctls(s);
    assertThat(PolicyValidator.validate(spec)).extracting(Violation::field).containsExactly(
        "spec.sysctls.ipLocalPortRange", "spec.sysctls.tcpFinTimeout", "spec.sysctls.somaxconn");
  }

  @Test
  void theShippedExamplesAreValid() throws IOException {
    try (Stream<Path> files = Files.list(ProjectPaths.resolve("deploy/examples"))) {
      List<Path> examples = files.filter(f -> f.toString().endsWith(".yaml")).toList();
      assertThat(examples).hasSizeGreaterThanOrEqualTo(3);
      for (Path f : examples) {
        TcpTuningPolicy p = Serialization.unmarshal(Files.readString(f), TcpTuningPolicy.class);
        assertThat(PolicyValidator.validate(p.getSpec())).as(f.toString()).isEmpty();
      }
    }
  }

  @Test
  void quoteEscapesControlCharactersAndTruncates() {
    assertThat(PolicyValidator.quote("a\nb\u0000\"")).isEqualTo("\"a\\u000ab\\u0000\\\"\"");
    assertThat(PolicyValidator.quote("x".repeat(100))).endsWith("...\"").hasSize(64 + 5);
    assertThat(PolicyValidator.quote(null)).isEqualTo("null");
  }
}
