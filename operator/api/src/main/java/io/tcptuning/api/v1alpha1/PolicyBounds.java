package io.tcptuning.api.v1alpha1;

/**
 * Accepted ranges of a policy, defined once: the CRD schema annotations and CEL rules of the
 * model, the validator and its messages all use these. The sysctl bounds follow the AKS custom
 * node configuration where it has one (see shared DOMAIN.md).
 */
public final class PolicyBounds {
  public static final int PRIORITY_MIN = -1000;
  public static final int PRIORITY_MAX = 1000;

  public static final int TW_REUSE_MIN = 0;
  public static final int TW_REUSE_MAX = 2;
  public static final int TIMESTAMPS_MIN = 0;
  public static final int TIMESTAMPS_MAX = 1;
  public static final int FIN_TIMEOUT_MIN = 5;
  public static final int FIN_TIMEOUT_MAX = 120;
  public static final int MAX_TW_BUCKETS_MIN = 8000;
  public static final int MAX_TW_BUCKETS_MAX = 1440000;
  public static final int SOMAXCONN_MIN = 4096;
  public static final int SOMAXCONN_MAX = 3240000;
  public static final int MAX_SYN_BACKLOG_MIN = 128;
  public static final int MAX_SYN_BACKLOG_MAX = 3240000;
  public static final int TW_RECYCLE_MIN = 0;
  public static final int TW_RECYCLE_MAX = 1;
  /** Lowest first ephemeral port: never hand out privileged ports. */
  public static final int PORT_RANGE_MIN = 1024;
  public static final int PORT_RANGE_MAX = 65535;

  /** Two decimal numbers separated by one space, as users write it in a manifest. */
  public static final String PORT_RANGE_PATTERN = "^[0-9]{1,5} [0-9]{1,5}$";
  /** What ip_local_port_range accepts, in the words of every message about it. */
  public static final String PORT_RANGE_ACCEPTED = PORT_RANGE_MIN + " <= min < max <= " + PORT_RANGE_MAX;
  /** rollout.maxUnavailable as a string: a percentage from 1% to 100%. */
  public static final String MAX_UNAVAILABLE_PERCENT_PATTERN = "^([1-9][0-9]?|100)%$";
  /** What rollout.maxUnavailable accepts, in the words of every message about it. */
  public static final String MAX_UNAVAILABLE_ACCEPTED = "an integer >= 1 or a percentage 1%..100%";

  private PolicyBounds() {}
}
