package io.tcptuning.agent.pods;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.LabelSelectorBuilder;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.tcptuning.agent.NodeStateReporter;
import io.tcptuning.agent.views.PodView;
import io.tcptuning.api.v1alpha1.TcpTuningPolicySpec;
import io.tcptuning.domain.Sysctl;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

class PodSelectionTest {
  static final LabelSelector CLIENTS = new LabelSelectorBuilder().withMatchLabels(Map.of("role", "client")).build();
  static final LabelSelector EDGE = new LabelSelectorBuilder().addNewMatchExpression().withKey("tier").withOperator("In")
      .withValues("edge", "dmz").endMatchExpression().build();

  static TcpTuningPolicySpec spec(LabelSelector pods, LabelSelector namespaces) {
    TcpTuningPolicySpec s = new TcpTuningPolicySpec();
    s.setPodSelector(pods);
    s.setNamespaceSelector(namespaces);
    return s;
  }

  static PodInfo pod(String role, boolean hostNetwork) {
    return new PodInfo("0b7c7a9e-1111-4c2a-9d3e-123456789abc", "apps", "p", "n1", role == null ? Map.of() : Map.of("role", role), hostNetwork, Set.of(), false);
  }

  /**
   * Pod selector (none / clients) x namespace selector (none / edge) x pod labels x namespace
   * labels x hostNetwork: every combination and what it must give.
   */
  @ParameterizedTest(name = "podSel={0} nsSel={1} role={2} tier={3} hostNetwork={4} -> {5}")
  @CsvSource({
      // no selector at all: the node's namespace only, never a pod
      "none,    none, client, edge, false, false",
      "none,    none, ,       ,     false, false",
      // pod selector only: labels decide, namespaces do not matter
      "clients, none, client, ,     false, true",
      "clients, none, client, core, false, true",
      "clients, none, server, edge, false, false",
      "clients, none, ,       edge, false, false",
      "clients, none, client, edge, true,  false",
      // namespace selector only: every pod of a matching namespace
      "none,    edge, server, edge, false, true",
      "none,    edge, ,       dmz,  false, true",
      "none,    edge, client, core, false, false",
      "none,    edge, client, ,     false, false",
      "none,    edge, client, edge, true,  false",
      // both: both must match
      "clients, edge, client, edge, false, true",
      "clients, edge, server, edge, false, false",
      "clients, edge, client, core, false, false",
      "clients, edge, client, edge, true,  false",
  })
  void selection(String podSel, String nsSel, String role, String tier, boolean hostNetwork, boolean selected) {
    TcpTuningPolicySpec s = spec("clients".equals(podSel) ? CLIENTS : null, "edge".equals(nsSel) ? EDGE : null);
    Map<String, String> nsLabels = tier == null ? Map.of() : Map.of("tier", tier);
    assertThat(PodSelection.selects(s, pod(role, hostNetwork), nsLabels)).isEqualTo(selected);
  }

  @Test
  void anEmptySelectorSelectsEveryPodAndAnUnknownNamespaceNone() {
    assertThat(PodSelection.selects(spec(new LabelSelector(), null), pod(null, false), null)).isTrue();
    assertThat(PodSelection.selects(spec(null, EDGE), pod("client", false), null)).as("namespace labels not known").isFalse();
    assertThat(PodSelection.selects(spec(null, new LabelSelector()), pod("client", false), Map.of())).isTrue();
  }

  @Test
  void sysctlsThePodDeclaresAreReadInEitherSpelling() {
    // A pod as the API server sends it, read the way the agent reads it (its own view, by kind).
    var pod = new PodBuilder().withNewMetadata().withName("p").withNamespace("apps").withUid("0B7C7A9E-1111-4C2A-9D3E-123456789ABC").endMetadata()
        .withNewSpec().withNodeName("n1").withHostNetwork(false).withNewSecurityContext()
        .addNewSysctl("net.ipv4.ip_local_port_range", "20000 30000")
        .addNewSysctl("net/ipv4/tcp_fin_timeout", "30")
        .addNewSysctl("net.ipv4.ping_group_range", "0 0") // not ours
        .endSecurityContext().endSpec().build();
    PodView p = NodeStateReporter.serialization().unmarshal(Serialization.asJson(pod));
    PodInfo info = PodInfo.of(p);
    assertThat(info.declared()).containsExactlyInAnyOrder(Sysctl.IP_LOCAL_PORT_RANGE, Sysctl.TCP_FIN_TIMEOUT);
    assertThat(info.uid()).isEqualTo("0b7c7a9e-1111-4c2a-9d3e-123456789abc");
    assertThat(info.shown()).isEqualTo("apps/p");
    assertThat(info.hostNetwork()).isFalse();
  }

  @Test
  void journalKeysAreAPodUidAndAnInodeAndNothingElse() {
    assertThat(PodJournals.Key.parse("0b7c7a9e-1111-4c2a-9d3e-123456789abc_4026532246"))
        .contains(new PodJournals.Key("0b7c7a9e-1111-4c2a-9d3e-123456789abc", 4026532246L));
    assertThat(PodJournals.Key.parse("0123456789abcdef0123456789abcdef_12")).isPresent(); // a static pod's hash
    assertThat(PodJournals.Key.parse("../../etc_1")).isEmpty();
    assertThat(PodJournals.Key.parse("0b7c7a9e-1111-4c2a-9d3e-123456789abc_0")).isEmpty();
    assertThat(PodJournals.Key.parse("0b7c7a9e-1111-4c2a-9d3e-123456789abc")).isEmpty();
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> new PodJournals.Key("../x", 5)).isInstanceOf(IllegalArgumentException.class);
  }
}
