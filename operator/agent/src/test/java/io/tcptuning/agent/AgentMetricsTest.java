package io.tcptuning.agent;

import static org.assertj.core.api.Assertions.assertThat;

import io.tcptuning.api.v1alpha1.SysctlState;
import io.tcptuning.domain.Sysctl;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class AgentMetricsTest {
  /** A sample line of the text format: name, optional labels, a float. */
  private static final Pattern SAMPLE =
      Pattern.compile("^[a-z_]+(\\{([a-z]+=\"([^\"\\\\\\n]|\\\\[\\\\\"n])*\",?)+})? (NaN|[+-]Inf|-?[0-9]+\\.[0-9]+(E-?[0-9]+)?)$");

  @Test
  void everySeriesOfTheDashboardsAndAlertsIsExposedWithItsType() {
    AgentMetrics m = new AgentMetrics("node-1", "pol");
    m.census(12, 0.25, 0.5, 28232, Map.of("TCPTimeWaitOverflow", 3L, "ListenOverflows", 4L));
    m.sysctl(Sysctl.IP_LOCAL_PORT_RANGE, "1024\t65535", SysctlState.Applied);
    m.sysctl(Sysctl.TCP_TW_REUSE, "1", SysctlState.Refused);
    m.driftCorrected();

    String text = m.scrape();

    assertThat(text).contains(
        "# TYPE tcptuning_time_wait_sockets gauge\ntcptuning_time_wait_sockets{node=\"node-1\",policy=\"pol\"} 12.0\n",
        "tcptuning_time_wait_pressure{node=\"node-1\",policy=\"pol\"} 0.25\n",
        "tcptuning_time_wait_max_destination_pressure{node=\"node-1\",policy=\"pol\"} 0.5\n",
        "tcptuning_port_range_size{node=\"node-1\",policy=\"pol\"} 28232.0\n",
        "# TYPE tcptuning_tcpext_tcp_time_wait_overflow_total counter\n"
            + "tcptuning_tcpext_tcp_time_wait_overflow_total{node=\"node-1\",policy=\"pol\"} 3.0\n",
        "tcptuning_tcpext_listen_overflows_total{node=\"node-1\",policy=\"pol\"} 4.0\n",
        "tcptuning_tcpext_listen_drops_total{node=\"node-1\",policy=\"pol\"} 0.0\n",
        "tcptuning_sysctl_drift_total{node=\"node-1\",policy=\"pol\"} 1.0\n",
        "tcptuning_report_failures_total{node=\"node-1\",policy=\"pol\"} 0.0\n",
        "tcptuning_sysctl_value{node=\"node-1\",policy=\"pol\",sysctl=\"net.ipv4.ip_local_port_range\"} 64512.0\n",
        "tcptuning_sysctl_applied{node=\"node-1\",policy=\"pol\",sysctl=\"net.ipv4.ip_local_port_range\"} 1.0\n",
        "tcptuning_sysctl_applied{node=\"node-1\",policy=\"pol\",sysctl=\"net.ipv4.tcp_tw_reuse\"} 0.0\n");
    assertWellFormed(text);
  }

  @Test
  void sysctlSeriesAppearOnlyOnceKnownAndUnreadableValuesAreNaN() {
    AgentMetrics m = new AgentMetrics("n", "p");
    assertThat(m.scrape()).doesNotContain("tcptuning_sysctl_value");
    m.sysctl(Sysctl.TCP_FIN_TIMEOUT, null, SysctlState.Failed);
    assertThat(m.scrape()).contains("tcptuning_sysctl_value{node=\"n\",policy=\"p\",sysctl=\"net.ipv4.tcp_fin_timeout\"} NaN\n");
  }

  @Test
  void labelValuesAreEscaped() {
    // Node and policy names are DNS names in practice; the format must hold whatever comes.
    String text = new AgentMetrics("a\"b\\c\nd", "p").scrape();
    assertThat(text).contains("tcptuning_time_wait_sockets{node=\"a\\\"b\\\\c\\nd\",policy=\"p\"} 0.0\n");
    assertWellFormed(text);
  }

  private static void assertWellFormed(String text) {
    List<String> lines = text.lines().toList();
    for (String line : lines) {
      if (line.startsWith("# HELP ") || line.startsWith("# TYPE ")) {
        continue;
      }
      assertThat(line).matches(SAMPLE);
    }
    // Every family is typed once, and before its samples.
    assertThat(lines.stream().filter(l -> l.startsWith("# TYPE ")).map(l -> l.split(" ")[2]).distinct().count())
        .isEqualTo(lines.stream().filter(l -> l.startsWith("# TYPE ")).count());
  }

  @org.junit.jupiter.api.Test
  void podSeriesExistOnlyForPodsWithTimeWaitAndGoWithThem() {
    AgentMetrics m = new AgentMetrics("n", "p");
    m.pods(java.util.List.of(NodeStatusFactoryTest.podPressure("apps/client-1", 1200, 0.25), NodeStatusFactoryTest.podPressure("apps/idle", 0, 0)));
    String text = m.scrape();
    assertThat(text).contains("tcptuning_pod_time_wait_sockets{namespace=\"apps\",node=\"n\",pod=\"client-1\",policy=\"p\"} 1200.0\n");
    assertThat(text).contains("tcptuning_pod_max_destination_pressure{namespace=\"apps\",node=\"n\",pod=\"client-1\",policy=\"p\"} 0.25\n");
    assertThat(text).doesNotContain("pod=\"idle\"");
    m.pods(java.util.List.of(NodeStatusFactoryTest.podPressure("apps/client-2", 7, 0.01)));
    text = m.scrape();
    assertThat(text).doesNotContain("client-1").contains("pod=\"client-2\"");
    m.pods(java.util.List.of());
    assertThat(m.scrape()).doesNotContain("tcptuning_pod_time_wait_sockets{");
  }
}
