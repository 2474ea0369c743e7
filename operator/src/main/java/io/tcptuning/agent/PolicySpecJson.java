package io.tcptuning.agent;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.tcptuning.api.v1alpha1.TcpTuningPolicy;
import io.tcptuning.api.v1alpha1.TcpTuningPolicySpec;
import io.tcptuning.cli.InvalidPolicyException;
import io.tcptuning.cli.PolicyManifestReader;
import io.tcptuning.domain.Violation;
import java.nio.charset.StandardCharsets;
import java.util.stream.Collectors;

/**
 * The policy spec as the operator hands it to the agents: JSON, read by the same strict reader
 * as a manifest on the command line, so both refuse exactly the same input.
 */
public final class PolicySpecJson {
  private static final ObjectMapper WRITER = JsonMapper.builder().build();

  private PolicySpecJson() {}

  public static String write(TcpTuningPolicySpec spec) {
    try {
      return WRITER.writeValueAsString(spec);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * @param setting the environment variable, for the message
   * @param policyName the policy the spec belongs to
   * @throws IllegalArgumentException naming the setting and every violation
   */
  public static TcpTuningPolicySpec parse(String setting, String policyName, String json) {
    String manifest = "{\"apiVersion\":\"" + PolicyManifestReader.API_VERSION + "\",\"kind\":\"" + PolicyManifestReader.KIND
        + "\",\"metadata\":{\"name\":" + quoteJson(policyName) + "},\"spec\":" + json + "}";
    try {
      TcpTuningPolicy policy = new PolicyManifestReader().parse(manifest.getBytes(StandardCharsets.UTF_8), setting);
      return policy.getSpec();
    } catch (InvalidPolicyException e) {
      throw new IllegalArgumentException(setting + ": not a valid policy spec: "
          + e.violations().stream().map(Violation::toString).collect(Collectors.joining("; ")));
    }
  }

  private static String quoteJson(String s) {
    try {
      return WRITER.writeValueAsString(s);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }
}
