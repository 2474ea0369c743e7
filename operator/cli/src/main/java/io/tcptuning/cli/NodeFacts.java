package io.tcptuning.cli;

import io.tcptuning.node.IoErrors;
import io.tcptuning.node.KernelRelease;
import io.tcptuning.domain.TuningRequest;

import io.tcptuning.domain.KernelVersion;
import io.tcptuning.domain.NatVerdict;
import io.tcptuning.domain.Sysctl;
import io.tcptuning.node.census.TimeWaitCensus;
import io.tcptuning.node.nat.NatDetector;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * What the plan needs to know about the calling thread's network namespace besides the sysctls:
 * the kernel, NAT, and the ports something listens on (for the port-range warning).
 *
 * @param listeningPortsProblem why the listening ports are unknown, when they are
 */
public record NodeFacts(KernelVersion kernel, NatVerdict nat, Set<Integer> listeningPorts, Optional<String> listeningPortsProblem) {
  public NodeFacts {
    listeningPorts = Set.copyOf(listeningPorts);
  }

  public static NodeFacts readCurrentNamespace() {
    KernelVersion kernel = KernelRelease.read();
    NatVerdict nat = NatDetector.detect();
    try {
      return new NodeFacts(kernel, nat, TimeWaitCensus.forCurrentNamespace().take(1).listeningPorts(), Optional.empty());
    } catch (RuntimeException e) {
      return new NodeFacts(kernel, nat, Set.of(), Optional.of("listening ports unknown (" + IoErrors.describe(e) + "); the port-range check against them was skipped"));
    }
  }

  /** The request for a policy's desired values on this namespace. */
  public TuningRequest request(String policy, Map<Sysctl, String> desired, boolean assumeNat) {
    return new TuningRequest(policy, desired, kernel, nat, assumeNat, listeningPorts);
  }

  /** Notes to print next to the plan's own warnings. */
  public List<String> notes() {
    return listeningPortsProblem.stream().toList();
  }
}
