package io.tcptuning.operator;

import io.tcptuning.config.Durations;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The operator's configuration, read once from environment variables. Every key has a documented
 * default; a bad value fails start-up with a message naming the variable and what it accepts.
 *
 * @param namespace TCPTUNE_NAMESPACE: where the agent DaemonSets go (the policies' Events go to default).
 *     Default: the pod's own namespace (POD_NAMESPACE), else {@code tcp-tuning-system}.
 * @param agentImage TCPTUNE_AGENT_IMAGE: the image of the agent pods (the same image runs the
 *     operator). Default {@link #DEFAULT_AGENT_IMAGE}.
 * @param agentImagePullPolicy TCPTUNE_AGENT_IMAGE_PULL_POLICY: Always, IfNotPresent (default) or
 *     Never.
 * @param agentServiceAccount TCPTUNE_AGENT_SERVICE_ACCOUNT: service account of the agent pods.
 *     Default {@code tcp-tuning-agent}.
 * @param statusDebounce TCPTUNE_STATUS_DEBOUNCE: at most one status write per policy per window.
 *     Default 2s.
 * @param revertTimeout TCPTUNE_REVERT_TIMEOUT: how long a deleted policy waits for its nodes to
 *     revert before the finalizer goes anyway. Default 120s.
 * @param leaderElection TCPTUNE_LEADER_ELECTION: true (default) or false.
 * @param leaderElectionNamespace TCPTUNE_LEADER_ELECTION_NAMESPACE: namespace of the Lease.
 *     Default: {@code namespace}.
 * @param metricsPort TCPTUNE_METRICS_PORT: port of /metrics, /healthz and /readyz. Default 8080;
 *     0 picks a free port (tests).
 * @param agent what is handed on to every agent: port, state dir, intervals, resources, JVM flags
 */
public record OperatorConfig(
    String namespace,
    String agentImage,
    String agentImagePullPolicy,
    String agentServiceAccount,
    Duration statusDebounce,
    Duration revertTimeout,
    boolean leaderElection,
    String leaderElectionNamespace,
    int metricsPort,
    AgentSettings agent) {

  public static final String NAMESPACE = "TCPTUNE_NAMESPACE";
  public static final String AGENT_IMAGE = "TCPTUNE_AGENT_IMAGE";
  public static final String AGENT_IMAGE_PULL_POLICY = "TCPTUNE_AGENT_IMAGE_PULL_POLICY";
  public static final String AGENT_SERVICE_ACCOUNT = "TCPTUNE_AGENT_SERVICE_ACCOUNT";
  public static final String STATUS_DEBOUNCE = "TCPTUNE_STATUS_DEBOUNCE";
  public static final String REVERT_TIMEOUT = "TCPTUNE_REVERT_TIMEOUT";
  public static final String LEADER_ELECTION = "TCPTUNE_LEADER_ELECTION";
  public static final String LEADER_ELECTION_NAMESPACE = "TCPTUNE_LEADER_ELECTION_NAMESPACE";
  public static final String METRICS_PORT = "TCPTUNE_METRICS_PORT";
  /** Set by the Deployment from the downward API; the default of TCPTUNE_NAMESPACE. */
  public static final String POD_NAMESPACE = "POD_NAMESPACE";

  public static final String DEFAULT_NAMESPACE = "tcp-tuning-system";
  public static final String DEFAULT_AGENT_IMAGE = "ghcr.io/tcptuning/tcp-tuning-operator:0.1.0";
  public static final String DEFAULT_PULL_POLICY = "IfNotPresent";
  public static final String DEFAULT_AGENT_SERVICE_ACCOUNT = "tcp-tuning-agent";
  public static final Duration DEFAULT_STATUS_DEBOUNCE = Duration.ofSeconds(2);
  public static final Duration DEFAULT_REVERT_TIMEOUT = Duration.ofSeconds(120);
  public static final int DEFAULT_METRICS_PORT = 8080;

  private static final Set<String> PULL_POLICIES = Set.of("Always", "IfNotPresent", "Never");
  // RFC 1123 label: what Kubernetes accepts as a namespace or service account name.
  private static final Pattern DNS_LABEL = Pattern.compile("^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$");
  private static final Pattern DNS_SUBDOMAIN =
      Pattern.compile("^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$");

  /** Thrown for a bad value; the message names the variable and what it accepts. */
  public static final class InvalidConfigException extends IllegalArgumentException {
    public InvalidConfigException(String message) {
      super(message);
    }
  }

  public static OperatorConfig fromEnv() {
    return fromEnv(System.getenv());
  }

  /** Reads the configuration from these variables (absent or blank means the default). */
  public static OperatorConfig fromEnv(Map<String, String> env) {
    String podNamespace = value(env, POD_NAMESPACE);
    String namespace =
        dnsLabel(NAMESPACE, or(value(env, NAMESPACE), or(podNamespace, DEFAULT_NAMESPACE)));
    String image = or(value(env, AGENT_IMAGE), DEFAULT_AGENT_IMAGE);
    if (image.chars().anyMatch(c -> c <= ' ')) {
      throw new InvalidConfigException(AGENT_IMAGE + " must be an image reference without spaces (got \"" + image + "\")");
    }
    String pullPolicy = or(value(env, AGENT_IMAGE_PULL_POLICY), DEFAULT_PULL_POLICY);
    if (!PULL_POLICIES.contains(pullPolicy)) {
      throw new InvalidConfigException(
          AGENT_IMAGE_PULL_POLICY + " must be Always, IfNotPresent or Never (got \"" + pullPolicy + "\")");
    }
    String serviceAccount = or(value(env, AGENT_SERVICE_ACCOUNT), DEFAULT_AGENT_SERVICE_ACCOUNT);
    if (!DNS_SUBDOMAIN.matcher(serviceAccount).matches() || serviceAccount.length() > 253) {
      throw new InvalidConfigException(
          AGENT_SERVICE_ACCOUNT + " must be a DNS subdomain name (lower case letters, digits, '-' and '.'; got \"" + serviceAccount + "\")");
    }
    Duration debounce = duration(env, STATUS_DEBOUNCE, DEFAULT_STATUS_DEBOUNCE, Duration.ZERO, Duration.ofMinutes(10));
    Duration revert = duration(env, REVERT_TIMEOUT, DEFAULT_REVERT_TIMEOUT, Duration.ofSeconds(1), Duration.ofHours(24));
    boolean leader = bool(env, LEADER_ELECTION, true);
    String leaseNamespace = dnsLabel(LEADER_ELECTION_NAMESPACE, or(value(env, LEADER_ELECTION_NAMESPACE), namespace));
    int port = port(env, METRICS_PORT, DEFAULT_METRICS_PORT);
    return new OperatorConfig(namespace, image, pullPolicy, serviceAccount, debounce, revert, leader, leaseNamespace, port, AgentSettings.fromEnv(env));
  }

  public OperatorConfig withStatusDebounce(Duration d) {
    return new OperatorConfig(namespace, agentImage, agentImagePullPolicy, agentServiceAccount, d, revertTimeout, leaderElection, leaderElectionNamespace, metricsPort, agent);
  }

  public OperatorConfig withRevertTimeout(Duration d) {
    return new OperatorConfig(namespace, agentImage, agentImagePullPolicy, agentServiceAccount, statusDebounce, d, leaderElection, leaderElectionNamespace, metricsPort, agent);
  }

  private static Duration duration(Map<String, String> env, String name, Duration dflt, Duration min, Duration max) {
    String raw = value(env, name);
    if (raw == null) {
      return dflt;
    }
    try {
      return Durations.parse(name, raw, min, max);
    } catch (IllegalArgumentException e) {
      throw new InvalidConfigException(e.getMessage());
    }
  }


  private static boolean bool(Map<String, String> env, String name, boolean dflt) {
    String raw = value(env, name);
    if (raw == null) {
      return dflt;
    }
    return switch (raw.toLowerCase(Locale.ROOT)) {
      case "true" -> true;
      case "false" -> false;
      default -> throw new InvalidConfigException(name + " must be true or false (got \"" + raw + "\")");
    };
  }

  private static int port(Map<String, String> env, String name, int dflt) {
    String raw = value(env, name);
    if (raw == null) {
      return dflt;
    }
    try {
      int p = Integer.parseInt(raw);
      if (p >= 0 && p <= 65535) {
        return p;
      }
    } catch (NumberFormatException e) {
      // fall through to the message below
    }
    throw new InvalidConfigException(name + " must be a port number 0..65535 (got \"" + raw + "\")");
  }

  private static String dnsLabel(String name, String value) {
    if (!DNS_LABEL.matcher(value).matches()) {
      throw new InvalidConfigException(
          name + " must be a namespace name: 1..63 lower case letters, digits and '-', starting and ending with a letter or digit (got \"" + value + "\")");
    }
    return value;
  }

  private static String value(Map<String, String> env, String name) {
    String v = env.get(name);
    return v == null || v.isBlank() ? null : v.strip();
  }

  private static String or(String v, String dflt) {
    return v == null ? dflt : v;
  }
}
