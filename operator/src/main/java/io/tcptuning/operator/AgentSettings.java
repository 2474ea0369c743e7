package io.tcptuning.operator;

import io.fabric8.kubernetes.api.model.ResourceRequirements;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.tcptuning.config.Durations;
import java.time.Duration;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * What the operator hands on to every agent DaemonSet, from the chart's {@code agent.*} values
 * (the operator's environment). Absent variables take the defaults below, which match the
 * agent's own.
 *
 * @param port TCPTUNE_AGENT_PORT (9479): the agents' /metrics, /healthz, /readyz on the host network
 * @param stateDir TCPTUNE_STATE_DIR (/var/lib/tcp-tuning): the hostPath of the originals journal
 * @param censusInterval TCPTUNE_CENSUS_INTERVAL (15s)
 * @param heartbeatInterval TCPTUNE_HEARTBEAT_INTERVAL (5m)
 * @param resources TCPTUNE_AGENT_RESOURCES: a ResourceRequirements as JSON; null keeps the template's
 * @param javaToolOptions TCPTUNE_AGENT_JAVA_TOOL_OPTIONS: the agents' JVM flags, small-footprint by default
 */
public record AgentSettings(
    int port, String stateDir, Duration censusInterval, Duration heartbeatInterval, ResourceRequirements resources, String javaToolOptions) {

  public static final String PORT = "TCPTUNE_AGENT_PORT";
  public static final String STATE_DIR = "TCPTUNE_STATE_DIR";
  public static final String CENSUS_INTERVAL = "TCPTUNE_CENSUS_INTERVAL";
  public static final String HEARTBEAT_INTERVAL = "TCPTUNE_HEARTBEAT_INTERVAL";
  public static final String RESOURCES = "TCPTUNE_AGENT_RESOURCES";
  public static final String JAVA_TOOL_OPTIONS = "TCPTUNE_AGENT_JAVA_TOOL_OPTIONS";

  /**
   * The agent's JVM: serial GC; a heap that starts at 8 MiB, gives memory back and has a 1 MiB
   * young generation (the live set is about 7 MiB; the idle agent allocates little); C1 only;
   * compact object headers; freed native memory handed back every 5 s; no CDS archive (mapping
   * the JDK's costs more resident memory than loading the classes the agent uses). Each was
   * measured by AgentFootprintBench (README, "Performance").
   */
  public static final String DEFAULT_JAVA_TOOL_OPTIONS =
      "-XX:+UseSerialGC -Xms8m -Xmx40m -Xmn1m -XX:MinHeapFreeRatio=10 -XX:MaxHeapFreeRatio=20 -Xss256k -XX:TieredStopAtLevel=1"
          + " -XX:ReservedCodeCacheSize=16m -XX:MaxMetaspaceSize=96m -XX:+UseCompactObjectHeaders -XX:CICompilerCount=1"
          + " -XX:TrimNativeHeapInterval=5000 -Xshare:off";

  public static final AgentSettings DEFAULTS =
      new AgentSettings(9479, "/var/lib/tcp-tuning", Duration.ofSeconds(15), Duration.ofMinutes(5), null, DEFAULT_JAVA_TOOL_OPTIONS);

  private static final Pattern ABSOLUTE_PATH = Pattern.compile("^/[A-Za-z0-9._/-]*$");

  static AgentSettings fromEnv(Map<String, String> env) {
    int port = DEFAULTS.port;
    String rawPort = value(env, PORT);
    if (rawPort != null) {
      try {
        port = Integer.parseInt(rawPort);
      } catch (NumberFormatException e) {
        port = -1;
      }
      if (port < 1 || port > 65535) {
        throw new OperatorConfig.InvalidConfigException(PORT + " must be a port number 1..65535 (got \"" + rawPort + "\")");
      }
    }
    String stateDir = or(value(env, STATE_DIR), DEFAULTS.stateDir);
    if (!ABSOLUTE_PATH.matcher(stateDir).matches() || stateDir.contains("..") || stateDir.equals("/")) {
      throw new OperatorConfig.InvalidConfigException(
          STATE_DIR + " must be an absolute path of letters, digits, '.', '_', '-' and '/', without '..' (got \"" + stateDir + "\")");
    }
    Duration census = interval(env, CENSUS_INTERVAL, DEFAULTS.censusInterval);
    Duration heartbeat = interval(env, HEARTBEAT_INTERVAL, DEFAULTS.heartbeatInterval);
    ResourceRequirements resources = null;
    String rawResources = value(env, RESOURCES);
    if (rawResources != null && !rawResources.equals("{}") && !rawResources.equals("null")) {
      try {
        resources = Serialization.unmarshal(rawResources, ResourceRequirements.class);
      } catch (RuntimeException e) {
        throw new OperatorConfig.InvalidConfigException(RESOURCES + " must be a ResourceRequirements as JSON, e.g. "
            + "{\"requests\":{\"memory\":\"96Mi\"}} (got \"" + rawResources + "\")");
      }
    }
    String jvm = or(value(env, JAVA_TOOL_OPTIONS), DEFAULTS.javaToolOptions);
    return new AgentSettings(port, stateDir, census, heartbeat, resources, jvm);
  }

  private static Duration interval(Map<String, String> env, String name, Duration dflt) {
    String raw = value(env, name);
    if (raw == null) {
      return dflt;
    }
    try {
      return Durations.parse(name, raw, Duration.ofSeconds(1), Duration.ofHours(24));
    } catch (IllegalArgumentException e) {
      throw new OperatorConfig.InvalidConfigException(e.getMessage());
    }
  }

  /** As the agent reads it back (AgentConfig accepts these forms). */
  static String format(Duration d) {
    return d.toMillis() % 1000 == 0 ? d.toSeconds() + "s" : d.toMillis() + "ms";
  }

  private static String value(Map<String, String> env, String name) {
    String v = env.get(name);
    return v == null || v.isBlank() ? null : v.strip();
  }

  private static String or(String v, String dflt) {
    return v == null ? dflt : v;
  }
}
