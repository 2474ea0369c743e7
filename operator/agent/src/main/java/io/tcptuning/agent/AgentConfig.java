package io.tcptuning.agent;

import static io.tcptuning.config.AgentContract.NETNS;
import static io.tcptuning.config.AgentContract.NODE_NAME;
import static io.tcptuning.config.AgentContract.POLICY_GENERATION;
import static io.tcptuning.config.AgentContract.POLICY_NAME;
import static io.tcptuning.config.AgentContract.POLICY_SPEC;

import io.tcptuning.api.v1alpha1.TcpTuningPolicySpec;
import io.tcptuning.config.AgentContract;
import io.tcptuning.domain.Violation;
import io.tcptuning.policy.InvalidPolicyException;
import io.tcptuning.policy.PolicyReader;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * The agent's configuration, from the environment the operator's DaemonSet sets; names, defaults
 * and bounds are the {@link AgentContract}'s.
 *
 * @param nodeName {@code NODE_NAME} (downward API), required
 * @param policyName {@code TCPTUNE_POLICY_NAME}, required
 * @param policyGeneration {@code TCPTUNE_POLICY_GENERATION}, default 0
 * @param policySpec {@code TCPTUNE_POLICY_SPEC}: the policy spec as JSON, read by the one policy reader
 * @param stateDir {@code TCPTUNE_STATE_DIR}, default /var/lib/tcp-tuning (a hostPath)
 * @param censusInterval {@code TCPTUNE_CENSUS_INTERVAL}, default 15s
 * @param heartbeatInterval {@code TCPTUNE_HEARTBEAT_INTERVAL}, default 5m: report even when nothing changed
 * @param port {@code TCPTUNE_AGENT_PORT}, default 9479: /metrics, /healthz, /readyz (0 in tests: any free port)
 * @param netns {@code TCPTUNE_NETNS}: tune this network namespace (a path such as
 *     /run/netns/NAME) instead of the agent's own; empty by default
 */
public record AgentConfig(
    String nodeName,
    String policyName,
    long policyGeneration,
    TcpTuningPolicySpec policySpec,
    Path stateDir,
    Duration censusInterval,
    Duration heartbeatInterval,
    int port,
    Optional<Path> netns) {

  public static AgentConfig fromEnv(Function<String, String> env) {
    String node = required(env, NODE_NAME);
    String policy = required(env, POLICY_NAME);
    long generation = generation(env);
    TcpTuningPolicySpec spec = policySpec(required(env, POLICY_SPEC));
    Optional<Path> netns = Optional.ofNullable(AgentContract.value(env, NETNS)).map(Path::of);
    return new AgentConfig(node, policy, generation, spec, AgentContract.stateDir(env), AgentContract.censusInterval(env),
        AgentContract.heartbeatInterval(env), AgentContract.port(env), netns);
  }

  /** The spec through the one policy reader, its violations in one line (the agent's log). */
  private static TcpTuningPolicySpec policySpec(String json) {
    try {
      return new PolicyReader().parseSpec(json, POLICY_SPEC);
    } catch (InvalidPolicyException e) {
      throw new IllegalArgumentException(POLICY_SPEC + ": not a valid policy spec: "
          + e.violations().stream().map(Violation::toString).collect(Collectors.joining("; ")));
    }
  }

  private static String required(Function<String, String> env, String name) {
    String v = AgentContract.value(env, name);
    if (v == null) {
      throw new IllegalArgumentException(name + " is required");
    }
    return v;
  }

  private static long generation(Function<String, String> env) {
    String v = AgentContract.value(env, POLICY_GENERATION);
    if (v == null) {
      return 0;
    }
    try {
      long n = Long.parseLong(v);
      if (n >= 0) {
        return n;
      }
    } catch (NumberFormatException ignored) {
      // fall through to the message
    }
    throw new IllegalArgumentException(POLICY_GENERATION + ": \"" + v + "\" must be an integer >= 0");
  }
}
