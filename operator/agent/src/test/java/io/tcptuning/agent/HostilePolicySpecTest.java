package io.tcptuning.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.tcptuning.testing.HostilePolicyCorpus;
import io.tcptuning.policy.InvalidPolicyException;
import io.tcptuning.policy.PolicyReader;
import io.tcptuning.domain.Violation;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * No weaker second parser: the hostile corpus through the agent's configuration. Wherever the
 * manifest reader refuses a policy because of its spec, the agent refuses that spec (as JSON, as
 * the operator hands it over) too, naming the same fields. An earlier copy of the agent's reader
 * silently truncated 30.5 to 30.
 */
class HostilePolicySpecTest {
  private static final ObjectMapper JSON = JsonMapper.builder().build();
  private static final YAMLMapper YAML =
      new YAMLMapper(YAMLFactory.builder().enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build());

  static List<HostilePolicyCorpus> corpus() {
    return HostilePolicyCorpus.all();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("corpus")
  void theAgentRefusesEverySpecTheManifestReaderRefuses(HostilePolicyCorpus bad) {
    Optional<String> spec = specAsJson(bad);
    List<String> specFields = specFieldsRefusedByTheReader(bad);
    if (spec.isEmpty() || specFields.isEmpty()) {
      return; // refused for the file as a whole (syntax, size, kind...): nothing reaches the agent
    }

    IllegalArgumentException e =
        catchThrowableOfType(IllegalArgumentException.class, () -> AgentConfig.fromEnv(Map.of(
            "NODE_NAME", "worker-1", "TCPTUNE_POLICY_NAME", "hostile", "TCPTUNE_POLICY_SPEC", spec.get())::get));

    assertThat(e).as("%s: the agent accepted %s", bad.name(), spec.get()).isNotNull();
    assertThat(e.getMessage()).startsWith("TCPTUNE_POLICY_SPEC: not a valid policy spec: ");
    for (String field : specFields) {
      assertThat(e.getMessage()).as(bad.name()).contains(field + ": ");
    }
    assertThat(e.getMessage().codePoints().filter(Character::isISOControl).toArray()).as("control characters in %s", e.getMessage()).isEmpty();
  }

  /** Not vacuous: most of the corpus is about the spec and reaches the comparison. */
  @Test
  void mostOfTheCorpusIsCompared() {
    long compared = corpus().stream().filter(c -> specAsJson(c).isPresent() && !specFieldsRefusedByTheReader(c).isEmpty()).count();
    assertThat(compared).isGreaterThanOrEqualTo(40);
  }

  private static Optional<String> specAsJson(HostilePolicyCorpus c) {
    try {
      JsonNode tree = YAML.readTree(c.content());
      JsonNode spec = tree == null ? null : tree.get("spec");
      return spec == null || spec.isNull() ? Optional.empty() : Optional.of(JSON.writeValueAsString(spec));
    } catch (Exception e) {
      return Optional.empty(); // not a tree (invalid YAML, duplicate keys, aliases): see the reader's own tests
    }
  }

  private static List<String> specFieldsRefusedByTheReader(HostilePolicyCorpus c) {
    try {
      new PolicyReader().parse(c.content().getBytes(StandardCharsets.UTF_8), c.name());
      return List.of();
    } catch (InvalidPolicyException e) {
      return e.violations().stream()
          .map(Violation::field)
          .filter(f -> f.equals("spec") || f.startsWith("spec.") || f.startsWith("spec["))
          .toList();
    }
  }
}
