package io.tcptuning.domain;

import java.util.Collections;
import java.util.EnumMap;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Everything a plan needs except the current values: the policy, what it wants, and what is known
 * of the machine. The applier reads the current values under the journal lock, after giving back
 * what an earlier owner or an earlier version of the policy had set, so that the plan it writes is
 * never made from stale values.
 *
 * @param policy owning policy name (a Kubernetes object name), recorded in the journal
 * @param desired canonical desired values, from {@link TuningPlanner#desired}
 * @param listeningPorts TCP ports something listens on, for the port-range warning
 */
public record TuningRequest(
    String policy,
    Map<Sysctl, String> desired,
    KernelVersion kernel,
    NatVerdict nat,
    boolean assumeNat,
    Set<Integer> listeningPorts) {
  private static final Pattern POLICY_NAME = Pattern.compile("^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$");

  public TuningRequest {
    if (!validPolicyName(policy)) {
      throw new IllegalArgumentException("policy name must be a Kubernetes object name, got " + policy);
    }
    Map<Sysctl, String> copy = new EnumMap<>(Sysctl.class);
    copy.putAll(desired);
    desired = Collections.unmodifiableMap(copy);
    listeningPorts = Set.copyOf(listeningPorts);
  }

  /** A Kubernetes object name (RFC 1123 subdomain), as policies and journal owners are. */
  public static boolean validPolicyName(String name) {
    return name != null && POLICY_NAME.matcher(name).matches();
  }

  /** The plan for these current values (canonical; a missing key has no file here). */
  public Plan planFor(Map<Sysctl, String> current) {
    return TuningPlanner.plan(this, current);
  }
}
