package io.tcptuning.node;

import static org.assertj.core.api.Assertions.assertThat;

import io.tcptuning.domain.Sysctl;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PersistedSysctlsTest {

  /**
   * The file as {@code sysctl -p FILE} (procps) reads it: blank lines and lines starting with '#'
   * or ';' are comments, otherwise {@code key = value} with the whitespace around both trimmed.
   */
  static Map<String, String> parse(String text) {
    Map<String, String> out = new LinkedHashMap<>();
    for (String raw : text.split("\n")) {
      String line = raw.strip();
      if (line.isEmpty() || line.startsWith("#") || line.startsWith(";")) {
        continue;
      }
      int eq = line.indexOf('=');
      assertThat(eq).as("a line sysctl -p can read: %s", line).isPositive();
      out.put(line.substring(0, eq).strip(), line.substring(eq + 1).strip());
    }
    return out;
  }

  @Test
  void theFileSaysWhoWroteItWhenAndHowToUndoItAndHoldsTheValuesInAllowlistOrder() {
    Map<Sysctl, String> values = Map.of(Sysctl.IP_LOCAL_PORT_RANGE, "10240 65535", Sysctl.TCP_TW_REUSE, "1");

    String text = PersistedSysctls.render("high-churn-clients", values, "tcptune 0.1.0", Instant.parse("2025-03-04T05:06:07.891Z"));

    assertThat(text).startsWith("# Written by tcptune 0.1.0 (tcptune apply --persist) at 2025-03-04T05:06:07Z for policy high-churn-clients.\n")
        .contains("To undo: tcptune revert --policy high-churn-clients")
        .endsWith("net.ipv4.tcp_tw_reuse = 1\nnet.ipv4.ip_local_port_range = 10240 65535\n");
    assertThat(parse(text)).containsExactly(
        Map.entry("net.ipv4.tcp_tw_reuse", "1"), Map.entry("net.ipv4.ip_local_port_range", "10240 65535"));
    assertThat(PersistedSysctls.fileName("high-churn-clients")).isEqualTo("90-tcptune-high-churn-clients.conf");
  }
}
