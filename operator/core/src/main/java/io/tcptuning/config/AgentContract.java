package io.tcptuning.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * The operator-to-agent contract: the environment the operator sets on every agent's pod and the
 * agent reads back. Names, defaults and accepted ranges live here once; the operator checks its
 * own settings with the same readers before it hands them on, so an agent never meets a value the
 * operator accepted and it refuses. Every error names the variable and what it accepts.
 */
public final class AgentContract {
  /** The node, from the downward API ({@code spec.nodeName}). */
  public static final String NODE_NAME = "NODE_NAME";
  public static final String POLICY_NAME = "TCPTUNE_POLICY_NAME";
  public static final String POLICY_GENERATION = "TCPTUNE_POLICY_GENERATION";
  /** The policy spec as JSON, written and read by {@code io.tcptuning.policy.PolicyReader}. */
  public static final String POLICY_SPEC = "TCPTUNE_POLICY_SPEC";
  public static final String STATE_DIR = "TCPTUNE_STATE_DIR";
  public static final String CENSUS_INTERVAL = "TCPTUNE_CENSUS_INTERVAL";
  public static final String HEARTBEAT_INTERVAL = "TCPTUNE_HEARTBEAT_INTERVAL";
  public static final String PORT = "TCPTUNE_AGENT_PORT";
  /** Optional: tune this network namespace (a path such as /run/netns/NAME) instead of the agent's own. */
  public static final String NETNS = "TCPTUNE_NETNS";

  public static final Path DEFAULT_STATE_DIR = Path.of("/var/lib/tcp-tuning");
  public static final Duration DEFAULT_CENSUS_INTERVAL = Duration.ofSeconds(15);
  public static final Duration DEFAULT_HEARTBEAT_INTERVAL = Duration.ofMinutes(5);
  public static final int DEFAULT_PORT = 9479;

  public static final Duration MIN_INTERVAL = Duration.ofSeconds(1);
  public static final Duration MAX_INTERVAL = Duration.ofHours(24);
  public static final int MIN_PORT = 1;
  public static final int MAX_PORT = 65535;

  /** A hostPath the operator mounts: absolute, plain characters, no {@code ..}, not {@code /}. */
  private static final Pattern ABSOLUTE_PATH = Pattern.compile("^/[A-Za-z0-9._/-]*$");

  private AgentContract() {}

  public static Path stateDir(Function<String, String> env) {
    String dir = value(env, STATE_DIR);
    if (dir == null) {
      return DEFAULT_STATE_DIR;
    }
    if (!ABSOLUTE_PATH.matcher(dir).matches() || dir.contains("..") || dir.equals("/")) {
      throw new IllegalArgumentException(
          STATE_DIR + " must be an absolute path of letters, digits, '.', '_', '-' and '/', without '..' (got \"" + dir + "\")");
    }
    return Path.of(dir);
  }

  public static Duration censusInterval(Function<String, String> env) {
    return interval(env, CENSUS_INTERVAL, DEFAULT_CENSUS_INTERVAL);
  }

  public static Duration heartbeatInterval(Function<String, String> env) {
    return interval(env, HEARTBEAT_INTERVAL, DEFAULT_HEARTBEAT_INTERVAL);
  }

  public static int port(Function<String, String> env) {
    String raw = value(env, PORT);
    if (raw == null) {
      return DEFAULT_PORT;
    }
    try {
      int port = Integer.parseInt(raw);
      if (port >= MIN_PORT && port <= MAX_PORT) {
        return port;
      }
    } catch (NumberFormatException ignored) {
      // fall through to the message
    }
    throw new IllegalArgumentException(PORT + " must be a port number " + MIN_PORT + ".." + MAX_PORT + " (got \"" + raw + "\")");
  }

  /** A duration as the agent reads it back ({@code 15s}, {@code 1500ms}). */
  public static String format(Duration d) {
    return Durations.human(d);
  }

  private static Duration interval(Function<String, String> env, String name, Duration dflt) {
    String raw = value(env, name);
    return raw == null ? dflt : Durations.parse(name, raw, MIN_INTERVAL, MAX_INTERVAL);
  }

  /** A variable's value, stripped; null when unset or blank. */
  public static String value(Function<String, String> env, String name) {
    String v = env.apply(name);
    return v == null || v.isBlank() ? null : v.strip();
  }
}
