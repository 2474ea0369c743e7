package io.tcptuning.operator;

import io.fabric8.kubernetes.api.model.ResourceRequirements;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.tcptuning.config.AgentContract;
import java.time.Duration;
import java.util.Map;

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

  /** The agent's own variables: names, defaults and bounds are the contract's. */
  public static final String PORT = AgentContract.PORT;
  public static final String STATE_DIR = AgentContract.STATE_DIR;
  public static final String CENSUS_INTERVAL = AgentContract.CENSUS_INTERVAL;
  public static final String HEARTBEAT_INTERVAL = AgentContract.HEARTBEAT_INTERVAL;
  /** The operator's only: what it puts on the DaemonSets beyond the agent's variables. */
  public static final String RESOURCES = "TCPTUNE_AGENT_RESOURCES";
  public static final String JAVA_TOOL_OPTIONS = "TCPTUNE_AGENT_JAVA_TOOL_OPTIONS";

  /** Where the image keeps the agent's AOT cache (operator/cli/src/main/docker/Dockerfile trains it). */
  public static final String AOT_CACHE = "/app/tcptune-agent.aot";

  /**
   * The agent's JVM: serial GC; a heap that starts at 8 MiB, gives memory back and has a 1 MiB
   * young generation (the live set is about 7 MiB; the idle agent allocates little); C1 only;
   * compact object headers; freed native memory handed back every 5 s; the AOT cache the image
   * trains for the agent ({@link #AOT_CACHE}: the first report in half the time, for about 1 MiB;
   * where it is missing the JVM says so in three lines and runs without it). Each was measured by
   * AgentFootprintBench (README, "Performance").
   */
  public static final String DEFAULT_JAVA_TOOL_OPTIONS =
      "-XX:+UseSerialGC -Xms8m -Xmx40m -Xmn1m -XX:MinHeapFreeRatio=10 -XX:MaxHeapFreeRatio=20 -Xss256k -XX:TieredStopAtLevel=1"
          + " -XX:ReservedCodeCacheSize=16m -XX:MaxMetaspaceSize=96m -XX:+UseCompactObjectHeaders -XX:CICompilerCount=1"
          + " -XX:TrimNativeHeapInterval=5000 -XX:AOTCache=" + AgentSettings.AOT_CACHE;

  public static final AgentSettings DEFAULTS = new AgentSettings(AgentContract.DEFAULT_PORT, AgentContract.DEFAULT_STATE_DIR.toString(),
      AgentContract.DEFAULT_CENSUS_INTERVAL, AgentContract.DEFAULT_HEARTBEAT_INTERVAL, null, DEFAULT_JAVA_TOOL_OPTIONS);

  /** Read and checked with the agent's own readers, so that no agent refuses what the operator accepted. */
  static AgentSettings fromEnv(Map<String, String> env) {
    try {
      return new AgentSettings(AgentContract.port(env::get), AgentContract.stateDir(env::get).toString(),
          AgentContract.censusInterval(env::get), AgentContract.heartbeatInterval(env::get), resources(env),
          or(value(env, JAVA_TOOL_OPTIONS), DEFAULTS.javaToolOptions));
    } catch (IllegalArgumentException e) {
      throw new OperatorConfig.InvalidConfigException(e.getMessage());
    }
  }

  private static ResourceRequirements resources(Map<String, String> env) {
    String raw = value(env, RESOURCES);
    if (raw == null || raw.equals("{}") || raw.equals("null")) {
      return null;
    }
    try {
      return Serialization.unmarshal(raw, ResourceRequirements.class);
    } catch (RuntimeException e) {
      throw new IllegalArgumentException(RESOURCES + " must be a ResourceRequirements as JSON, e.g. "
          + "{\"requests\":{\"memory\":\"96Mi\"}} (got \"" + raw + "\")");
    }
  }

  private static String value(Map<String, String> env, String name) {
    return AgentContract.value(env::get, name);
  }

  private static String or(String v, String dflt) {
    return v == null ? dflt : v;
  }
}
