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

  /**
   * A label key: an optional prefix (a lower-case DNS subdomain) and '/', then a name of 1..63
   * characters of [A-Za-z0-9-_.] that starts and ends alphanumeric. Written without backslashes so
   * that it reads the same in Java, in the CRD's pattern and inside a CEL string.
   */
  public static final String LABEL_KEY_PATTERN =
      "^([a-z0-9]([-a-z0-9]*[a-z0-9])?([.][a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$";
  public static final int LABEL_KEY_PREFIX_MAX_LENGTH = 253;
  public static final int LABEL_KEY_MAX_LENGTH = LABEL_KEY_PREFIX_MAX_LENGTH + 1 + 63;
  /** A label value: empty, or 1..63 characters of [A-Za-z0-9-_.] starting and ending alphanumeric. */
  public static final String LABEL_VALUE_PATTERN = "^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$";
  public static final int LABEL_VALUE_MAX_LENGTH = 63;
  /** What a label key accepts, in the words of every message about it. */
  public static final String LABEL_KEY_ACCEPTED =
      "[prefix/]name, name 1..63 characters of [A-Za-z0-9-_.] starting and ending alphanumeric, prefix a lower-case DNS subdomain of at most "
          + LABEL_KEY_PREFIX_MAX_LENGTH + " characters";
  /** What a label value accepts, in the words of every message about it. */
  public static final String LABEL_VALUE_ACCEPTED = "0..63 characters of [A-Za-z0-9-_.] starting and ending alphanumeric";
  /**
   * Bounds of a selector (Kubernetes sets none; these bound the cost of the CRD's CEL rules and
   * are far above what a node, pod or namespace selector needs).
   */
  public static final int SELECTOR_MAX_LABELS = 64;
  public static final int SELECTOR_MAX_EXPRESSIONS = 64;
  public static final int SELECTOR_MAX_VALUES = 256;

  private PolicyBounds() {}
}
