package io.tcptuning.agent;

import static org.assertj.core.api.Assertions.assertThat;

import io.tcptuning.api.v1alpha1.NodePhase;
import org.junit.jupiter.api.Test;

/** The one line a shutdown logs about the node it leaves: true for each state the run got to. */
class AgentShutdownSummaryTest {
  @Test
  void aNodeGivenBackIsNeverSaidToStayTuned() {
    assertThat(Agent.leftBehind(true, NodePhase.Reverted, "gave the node back (policy deleted): restored 2 sysctls", 0))
        .isEqualTo("the node was already given back to its original values");
    assertThat(Agent.leftBehind(true, NodePhase.Failed, "revert failed: permission denied", 0))
        .isEqualTo("giving the node back failed earlier (revert failed: permission denied); the node is left as it is");
    assertThat(Agent.leftBehind(true, NodePhase.Reverted, "gave the node back (policy deleted)", 1))
        .isEqualTo("the node was already given back to its original values, except 1 sysctl(s) changed by hand since apply, left as they are");
  }

  @Test
  void eachPhaseOfARunThatKeepsTheNode() {
    assertThat(Agent.leftBehind(false, NodePhase.Applied, null, 0)).isEqualTo("the node stays tuned");
    assertThat(Agent.leftBehind(false, NodePhase.Planned, null, 0)).isEqualTo("DryRun: this agent wrote nothing, the node keeps its own values");
    assertThat(Agent.leftBehind(false, NodePhase.Superseded, "another policy of higher precedence tunes this node", 0))
        .isEqualTo("another policy tunes this node; this agent wrote nothing");
    assertThat(Agent.leftBehind(false, NodePhase.Failed, "write net.ipv4.tcp_tw_reuse failed", 0))
        .isEqualTo("the last apply failed (write net.ipv4.tcp_tw_reuse failed); the node is left as it is");
    assertThat(Agent.leftBehind(false, null, null, 0)).isEqualTo("the node is left as it is");
    assertThat(Agent.leftBehind(false, NodePhase.Applied, null, 0)).doesNotContain("given back");
  }
}
