package io.tcptuning.operator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class OperatorConfigTest {

  @Test
  void defaultsWhenNothingIsSet() {
    OperatorConfig c = OperatorConfig.fromEnv(Map.of());
    assertThat(c.namespace()).isEqualTo("tcp-tuning-system");
    assertThat(c.agentImage()).isEqualTo(OperatorConfig.DEFAULT_AGENT_IMAGE);
    assertThat(c.agentImagePullPolicy()).isEqualTo("IfNotPresent");
    assertThat(c.agentServiceAccount()).isEqualTo("tcp-tuning-agent");
    assertThat(c.statusDebounce()).isEqualTo(Duration.ofSeconds(2));
    assertThat(c.revertTimeout()).isEqualTo(Duration.ofSeconds(120));
    assertThat(c.leaderElection()).isTrue();
    assertThat(c.leaderElectionNamespace()).isEqualTo("tcp-tuning-system");
    assertThat(c.metricsPort()).isEqualTo(8080);
  }

  @Test
  void namespaceFallsBackToThePodsNamespaceAndTheLeaseFollowsIt() {
    OperatorConfig c = OperatorConfig.fromEnv(Map.of("POD_NAMESPACE", "ops"));
    assertThat(c.namespace()).isEqualTo("ops");
    assertThat(c.leaderElectionNamespace()).isEqualTo("ops");

    OperatorConfig d = OperatorConfig.fromEnv(Map.of("POD_NAMESPACE", "ops", "TCPTUNE_NAMESPACE", "tuning", "TCPTUNE_LEADER_ELECTION_NAMESPACE", "leases"));
    assertThat(d.namespace()).isEqualTo("tuning");
    assertThat(d.leaderElectionNamespace()).isEqualTo("leases");
  }

  @Test
  void everyVariableIsRead() {
    OperatorConfig c =
        OperatorConfig.fromEnv(
            Map.of(
                "TCPTUNE_AGENT_IMAGE", "registry.example/tcptune:1.2.3",
                "TCPTUNE_AGENT_IMAGE_PULL_POLICY", "Always",
                "TCPTUNE_AGENT_SERVICE_ACCOUNT", "agent-sa",
                "TCPTUNE_STATUS_DEBOUNCE", "500ms",
                "TCPTUNE_REVERT_TIMEOUT", "PT5M",
                "TCPTUNE_LEADER_ELECTION", "false",
                "TCPTUNE_METRICS_PORT", "9090"));
    assertThat(c.agentImage()).isEqualTo("registry.example/tcptune:1.2.3");
    assertThat(c.agentImagePullPolicy()).isEqualTo("Always");
    assertThat(c.agentServiceAccount()).isEqualTo("agent-sa");
    assertThat(c.statusDebounce()).isEqualTo(Duration.ofMillis(500));
    assertThat(c.revertTimeout()).isEqualTo(Duration.ofMinutes(5));
    assertThat(c.leaderElection()).isFalse();
    assertThat(c.metricsPort()).isEqualTo(9090);
  }

  @Test
  void blankMeansDefault() {
    assertThat(OperatorConfig.fromEnv(Map.of("TCPTUNE_STATUS_DEBOUNCE", "  ")).statusDebounce()).isEqualTo(Duration.ofSeconds(2));
  }

  @Test
  void badValuesNameTheVariableAndWhatItAccepts() {
    assertBad(Map.of("TCPTUNE_STATUS_DEBOUNCE", "soon"), "TCPTUNE_STATUS_DEBOUNCE", "2s");
    assertBad(Map.of("TCPTUNE_STATUS_DEBOUNCE", "11m"), "TCPTUNE_STATUS_DEBOUNCE", "between 0s and 600s");
    assertBad(Map.of("TCPTUNE_REVERT_TIMEOUT", "0s"), "TCPTUNE_REVERT_TIMEOUT", "between 1s and 86400s");
    assertBad(Map.of("TCPTUNE_LEADER_ELECTION", "yes"), "TCPTUNE_LEADER_ELECTION", "true or false");
    assertBad(Map.of("TCPTUNE_METRICS_PORT", "70000"), "TCPTUNE_METRICS_PORT", "0..65535");
    assertBad(Map.of("TCPTUNE_METRICS_PORT", "http"), "TCPTUNE_METRICS_PORT", "0..65535");
    assertBad(Map.of("TCPTUNE_AGENT_IMAGE_PULL_POLICY", "Sometimes"), "TCPTUNE_AGENT_IMAGE_PULL_POLICY", "Always, IfNotPresent or Never");
    assertBad(Map.of("TCPTUNE_NAMESPACE", "Tuning_System"), "TCPTUNE_NAMESPACE", "namespace name");
    assertBad(Map.of("TCPTUNE_LEADER_ELECTION_NAMESPACE", "-x"), "TCPTUNE_LEADER_ELECTION_NAMESPACE", "namespace name");
    assertBad(Map.of("TCPTUNE_AGENT_SERVICE_ACCOUNT", "Agent SA"), "TCPTUNE_AGENT_SERVICE_ACCOUNT", "DNS subdomain");
    assertBad(Map.of("TCPTUNE_AGENT_IMAGE", "a b"), "TCPTUNE_AGENT_IMAGE", "without spaces");
  }

  private static void assertBad(Map<String, String> env, String variable, String accepted) {
    assertThatThrownBy(() -> OperatorConfig.fromEnv(env))
        .isInstanceOf(OperatorConfig.InvalidConfigException.class)
        .hasMessageContaining(variable)
        .hasMessageContaining(accepted);
  }
}
