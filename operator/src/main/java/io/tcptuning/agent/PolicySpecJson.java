package io.tcptuning.agent;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.tcptuning.api.v1alpha1.TcpTuningPolicySpec;
import io.tcptuning.domain.PolicyValidator;
import io.tcptuning.domain.Violation;
import java.util.List;
import java.util.stream.Collectors;

/** The policy spec as the operator hands it to the agents: JSON, parsed strictly, validated. */
public final class PolicySpecJson {
  private static final ObjectMapper STRICT = JsonMapper.builder()
      .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
      .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
      .disable(MapperFeature.ALLOW_COERCION_OF_SCALARS)
      .build();

  private PolicySpecJson() {}

  public static String write(TcpTuningPolicySpec spec) {
    try {
      return STRICT.writeValueAsString(spec);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  /** @throws IllegalArgumentException naming the setting and every violation */
  public static TcpTuningPolicySpec parse(String setting, String json) {
    TcpTuningPolicySpec spec;
    try {
      spec = STRICT.readValue(json, TcpTuningPolicySpec.class);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException(setting + ": not a valid policy spec: " + e.getOriginalMessage());
    }
    List<Violation> violations = PolicyValidator.validate(spec);
    if (!violations.isEmpty()) {
      throw new IllegalArgumentException(
          setting + ": invalid policy spec: " + violations.stream().map(Violation::toString).collect(Collectors.joining("; ")));
    }
    return spec;
  }
}
