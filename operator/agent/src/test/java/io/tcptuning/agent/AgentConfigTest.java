package io.tcptuning.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tcptuning.api.v1alpha1.Mode;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class AgentConfigTest {
  static Map<String, String> env() {
    Map<String, String> env = new HashMap<>();
    env.put("NODE_NAME", "worker-3");
    env.put("TCPTUNE_POLICY_NAME", "high-churn");
    env.put("TCPTUNE_POLICY_SPEC", "{\"mode\":\"DryRun\",\"sysctls\":{\"tcpTwReuse\":1,\"ipLocalPortRange\":\"10240 65535\"}}");
    return env;
  }

  @Test
  void defaults() {
    AgentConfig c = AgentConfig.fromEnv(env()::get);
    assertThat(c.nodeName()).isEqualTo("worker-3");
    assertThat(c.policySpec().effectiveMode()).isEqualTo(Mode.DryRun);
    assertThat(c.policySpec().getSysctls().getIpLocalPortRange()).isEqualTo("10240 65535");
    assertThat(c.policyGeneration()).isZero();
    assertThat(c.stateDir()).isEqualTo(Path.of("/var/lib/tcp-tuning"));
    assertThat(c.censusInterval()).isEqualTo(Duration.ofSeconds(15));
    assertThat(c.heartbeatInterval()).isEqualTo(Duration.ofMinutes(5));
    assertThat(c.port()).isEqualTo(9479);
    assertThat(c.netns()).isEmpty();
  }

  @Test
  void everySettingIsNamedInItsError() {
    assertError(Map.of("NODE_NAME", ""), "NODE_NAME is required");
    assertError(Map.of("TCPTUNE_POLICY_GENERATION", "-1"), "TCPTUNE_POLICY_GENERATION");
    assertError(Map.of("TCPTUNE_AGENT_PORT", "70000"), "TCPTUNE_AGENT_PORT must be a port number 1..65535 (got \"70000\")");
    assertError(Map.of("TCPTUNE_STATE_DIR", "../etc"), "TCPTUNE_STATE_DIR must be an absolute path");
    assertError(Map.of("TCPTUNE_CENSUS_INTERVAL", "100ms"), "TCPTUNE_CENSUS_INTERVAL must be between 1s and 86400s");
    assertError(Map.of("TCPTUNE_CENSUS_INTERVAL", "soon"), "TCPTUNE_CENSUS_INTERVAL");
    assertError(Map.of("TCPTUNE_HEARTBEAT_INTERVAL", "0s"), "TCPTUNE_HEARTBEAT_INTERVAL");
    assertError(Map.of("TCPTUNE_POLICY_SPEC", "{\"sysctls\":{\"tcpFinTimeout\":3}}"), "spec.sysctls.tcpFinTimeout: 3 is out of range; accepted 5..120");
    assertError(Map.of("TCPTUNE_POLICY_SPEC", "{\"sysctls\":{\"tcpTwReuse\":\"1\"}}"), "TCPTUNE_POLICY_SPEC: not a valid policy spec");
    assertError(Map.of("TCPTUNE_POLICY_SPEC", "{\"sysctls\":{\"ipForward\":1}}"), "ipForward");
    // Read by the same strict reader as a CLI manifest: a float is not silently truncated.
    assertError(Map.of("TCPTUNE_POLICY_SPEC", "{\"sysctls\":{\"tcpFinTimeout\":30.5}}"), "spec.sysctls.tcpFinTimeout");
    assertError(Map.of("TCPTUNE_POLICY_SPEC", "{\"sysctls\":{\"tcpTwReuse\":1}} , \"x\": 1"), "TCPTUNE_POLICY_SPEC: not a valid policy spec");
  }

  static void assertError(Map<String, String> override, String message) {
    Map<String, String> env = env();
    env.putAll(override);
    assertThatThrownBy(() -> AgentConfig.fromEnv(env::get)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining(message);
  }
}
