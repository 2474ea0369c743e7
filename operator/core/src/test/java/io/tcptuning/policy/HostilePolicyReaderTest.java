package io.tcptuning.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.tcptuning.testing.HostilePolicyCorpus;
import io.tcptuning.domain.Violation;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The agent's own line of defence, independent of the CRD: the strict manifest reader rejects
 * every case of the hostile corpus with an error that names what is wrong, printed as clean
 * lines however hostile the value was.
 */
class HostilePolicyReaderTest {
  static List<HostilePolicyCorpus> corpus() {
    return HostilePolicyCorpus.all();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("corpus")
  void theReaderRejectsItNamingWhatIsWrong(HostilePolicyCorpus bad) {
    byte[] bytes = bad.content().getBytes(StandardCharsets.UTF_8);

    // Through read(InputStream), as the CLI reads a file: the size limit applies there.
    InvalidPolicyException e =
        catchThrowableOfType(InvalidPolicyException.class, () -> new PolicyReader().read(new ByteArrayInputStream(bytes), bad.name()));

    assertThat(e).as("%s must be rejected", bad.name()).isNotNull();
    // The violations only: the header line holds the file name, which must not count.
    assertThat(e.getMessage().lines().skip(1).toList()).as(bad.name()).anySatisfy(line -> assertThat(line).contains(bad.expect()));
    assertThat(e.violations()).as(bad.name()).isNotEmpty();
    assertPrintableLines(e);
  }

  /**
   * One header line plus exactly one line per violation, none with a control character: a NUL
   * or newline inside a hostile value is shown escaped, never passed through to a terminal or log.
   */
  static void assertPrintableLines(InvalidPolicyException e) {
    List<String> lines = e.getMessage().lines().toList();
    assertThat(lines).hasSize(1 + e.violations().size());
    assertThat(lines.getFirst()).startsWith("invalid policy ");
    for (String line : lines) {
      assertThat(line.codePoints().filter(Character::isISOControl).toArray()).as("control characters in %s", line).isEmpty();
    }
    assertThat(e.getMessage()).doesNotContain("\r").doesNotContain("\0").doesNotEndWith("\n");
    for (Violation v : e.violations()) {
      assertThat(v.field()).isNotBlank();
      assertThat(v.message()).isNotBlank();
    }
  }
}
