package io.tcptuning.agent;

import io.tcptuning.api.v1alpha1.TcpTuningPolicySpec;
import io.tcptuning.config.Durations;
import io.tcptuning.policy.InvalidPolicyException;
import io.tcptuning.policy.PolicyReader;
import io.tcptuning.domain.Violation;
import java.util.stream.Collectors;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.function.Function;

/**
 * The agent's configuration, from the environment the operator's DaemonSet sets.
 *
 * @param nodeName {@code NODE_NAME} (downward API), required
 * @param policyName {@code TCPTUNE_POLICY_NAME}, required
 * @param policyGeneration {@code TCPTUNE_POLICY_GENERATION}, default 0
 * @param policySpec {@code TCPTUNE_POLICY_SPEC}: the policy spec as JSON, validated
 * @param stateDir {@code TCPTUNE_STATE_DIR}, default /var/lib/tcp-tuning (a hostPath)
 * @param censusInterval {@code TCPTUNE_CENSUS_INTERVAL}, default 15s
 * @param heartbeatInterval {@code TCPTUNE_HEARTBEAT_INTERVAL}, default 5m: report even when nothing changed
 * @param port {@code TCPTUNE_AGENT_PORT}, default 9479: /metrics, /healthz, /readyz
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

  static final Duration MIN_INTERVAL = Duration.ofMillis(100);
  static final Duration MAX_INTERVAL = Duration.ofHours(24);

  public static AgentConfig fromEnv(Function<String, String> env) {
    String node = required(env, "NODE_NAME");
    String policy = required(env, "TCPTUNE_POLICY_NAME");
    long generation = parseLong(env, "TCPTUNE_POLICY_GENERATION", 0, 0, Long.MAX_VALUE);
    TcpTuningPolicySpec spec = policySpec(required(env, "TCPTUNE_POLICY_SPEC"));
    Path stateDir = Path.of(orDefault(env, "TCPTUNE_STATE_DIR", "/var/lib/tcp-tuning"));
    Duration census = Durations.parse("TCPTUNE_CENSUS_INTERVAL", orDefault(env, "TCPTUNE_CENSUS_INTERVAL", "15s"), MIN_INTERVAL, MAX_INTERVAL);
    Duration heartbeat = Durations.parse("TCPTUNE_HEARTBEAT_INTERVAL", orDefault(env, "TCPTUNE_HEARTBEAT_INTERVAL", "5m"), MIN_INTERVAL, MAX_INTERVAL);
    int port = (int) parseLong(env, "TCPTUNE_AGENT_PORT", 9479, 0, 65535);
    Optional<Path> netns = Optional.ofNullable(env.apply("TCPTUNE_NETNS")).filter(s -> !s.isBlank()).map(Path::of);
    return new AgentConfig(node, policy, generation, spec, stateDir, census, heartbeat, port, netns);
  }

  /** The spec through the one policy reader, its violations in one line (the agent's log). */
  private static TcpTuningPolicySpec policySpec(String json) {
    try {
      return new PolicyReader().parseSpec(json, "TCPTUNE_POLICY_SPEC");
    } catch (InvalidPolicyException e) {
      throw new IllegalArgumentException("TCPTUNE_POLICY_SPEC: not a valid policy spec: "
          + e.violations().stream().map(Violation::toString).collect(Collectors.joining("; ")));
    }
  }

  private static String required(Function<String, String> env, String name) {
    String v = env.apply(name);
    if (v == null || v.isBlank()) {
      throw new IllegalArgumentException(name + " is required");
    }
    return v.strip();
  }

  private static String orDefault(Function<String, String> env, String name, String def) {
    String v = env.apply(name);
    return v == null || v.isBlank() ? def : v.strip();
  }

  private static long parseLong(Function<String, String> env, String name, long def, long min, long max) {
    String v = env.apply(name);
    if (v == null || v.isBlank()) {
      return def;
    }
    try {
      long n = Long.parseLong(v.strip());
      if (n >= min && n <= max) {
        return n;
      }
    } catch (NumberFormatException ignored) {
      // fall through to the message
    }
    throw new IllegalArgumentException(name + ": \"" + v + "\" must be an integer in " + min + ".." + max);
  }
}
