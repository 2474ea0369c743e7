package io.tcptuning.agent;

import io.tcptuning.api.v1alpha1.TcpTuningPolicy;
import io.tcptuning.domain.LabelSelectors;
import io.tcptuning.domain.PolicyArbiter;
import java.util.List;
import java.util.Map;

/**
 * Whether this agent's policy still wants its node: the question behind "apply or stay idle" at
 * start and "revert or keep" at shutdown. Pure.
 */
public enum PolicyVerdict {
  /** The policy selects this node and wins it: tune. */
  Tune,
  /** Another policy of higher precedence wins this node: write nothing. */
  Superseded,
  /** The policy no longer selects this node: give the node back. */
  NotSelected,
  /** The policy is being deleted: give the node back. */
  Deleting,
  /** The policy is gone: give the node back. */
  Gone;

  /** True when the node must be given back to its originals. */
  public boolean revert() {
    return this == NotSelected || this == Deleting || this == Gone;
  }

  /**
   * @param mine this agent's policy as the API server has it, or null when it is not found
   * @param all every policy in the cluster
   * @param nodeLabels this node's labels
   */
  public static PolicyVerdict of(TcpTuningPolicy mine, List<TcpTuningPolicy> all, Map<String, String> nodeLabels) {
    if (mine == null) {
      return Gone;
    }
    if (mine.getMetadata().getDeletionTimestamp() != null) {
      return Deleting;
    }
    if (!LabelSelectors.matches(mine.getSpec() == null ? null : mine.getSpec().getNodeSelector(), nodeLabels)) {
      return NotSelected;
    }
    var winner = PolicyArbiter.winner(nodeLabels, PolicyArbiter.candidatesOf(all));
    return winner.isPresent() && !winner.get().name().equals(mine.getMetadata().getName()) ? Superseded : Tune;
  }
}
