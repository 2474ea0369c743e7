package io.tcptuning.agent;

import io.tcptuning.api.v1alpha1.ModelBindingException;
import io.tcptuning.api.v1alpha1.ModelJson;
import io.tcptuning.api.v1alpha1.TcpTuningPolicySpec;
import io.tcptuning.domain.Violation;
import io.tcptuning.json.Json;
import io.tcptuning.json.JsonException;
import java.util.List;
import java.util.stream.Collectors;

/**
 * The policy spec as the operator hands it to the agents (JSON, written by {@link
 * io.tcptuning.operator.AgentDaemonSetFactory#agentSpecJson}), read as strictly as the CLI reads
 * a manifest: no unknown fields, no coercion, the CRD's ranges. Without Jackson, which the agent
 * does not load. A test runs the hostile-policy corpus through both readers to keep them agreeing.
 */
public final class PolicySpecJson {
  private PolicySpecJson() {}

  /**
   * @param setting the environment variable, for the message
   * @throws IllegalArgumentException starting with the setting, listing every violation as
   *     {@code field: message}
   */
  public static TcpTuningPolicySpec parse(String setting, String json) {
    List<Violation> violations;
    try {
      return ModelJson.spec(Json.parse(json), "spec", true);
    } catch (JsonException e) {
      // "$" is the spec itself here: say it in manifest words.
      String field = e.path().equals("$") ? "spec" : "spec" + (e.path().startsWith("[") ? "" : ".") + e.path();
      violations = List.of(new Violation(field, e.problem() + " (at character " + e.offset() + ")"));
    } catch (ModelBindingException e) {
      violations = e.violations();
    }
    throw new IllegalArgumentException(
        setting + ": not a valid policy spec: " + violations.stream().map(Violation::toString).collect(Collectors.joining("; ")));
  }
}
