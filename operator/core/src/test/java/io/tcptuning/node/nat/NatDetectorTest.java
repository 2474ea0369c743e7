package io.tcptuning.node.nat;

import static org.assertj.core.api.Assertions.assertThat;

import io.tcptuning.domain.NatVerdict;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NatDetectorTest {
  @TempDir Path tmp;

  private static Path fixture(String name) {
    try {
      return Path.of(NatDetectorTest.class.getResource("/fixtures/nat/" + name).toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  private static NatVerdict inspect(Path root) {
    return new NatDetector(root, Map.<String, String>of()::get).inspect();
  }

  @Test
  void legacyNatTableIsEvidence() {
    var v = inspect(fixture("nat-table"));
    assertThat(v.detected()).isTrue();
    assertThat(v.evidence()).containsExactly("iptables (legacy) nat table present (/proc/net/ip_tables_names)");
  }

  @Test
  void masqueradeModuleIsEvidenceAndSaidToBeHostWide() {
    var v = inspect(fixture("masquerade-module"));
    assertThat(v.detected()).isTrue();
    assertThat(v.evidence()).hasSize(1);
    assertThat(v.evidence().getFirst()).contains("nf_nat", "nft_chain_nat", "xt_MASQUERADE").contains("host-wide");
  }

  @Test
  void conntrackEntryWithRewrittenReplyIsEvidence() {
    var v = inspect(fixture("conntrack-nat"));
    assertThat(v.detected()).isTrue();
    assertThat(v.evidence())
        .containsExactly(
            "conntrack entry rewritten by NAT: tcp 10.0.2.15:48372 -> 10.96.0.1:443, reply from 10.0.2.20:6443 to 10.0.2.15:48372 (/proc/net/nf_conntrack)");
  }

  @Test
  void nothingFoundIsFalseAndListsWhatWasChecked() {
    var v = inspect(fixture("nothing"));
    assertThat(v.detected()).isFalse();
    assertThat(v.possiblyNat()).isFalse();
    assertThat(v.evidence())
        .anyMatch(s -> s.contains("ip_tables_names"))
        .anyMatch(s -> s.contains("ip6_tables_names"))
        .anyMatch(s -> s.contains("/proc/modules"))
        .anyMatch(s -> s.contains("4 conntrack entries"))
        .anyMatch(s -> s.contains("KUBERNETES_SERVICE_HOST unset"));
  }

  @Test
  void kubernetesPodIsEvidence() {
    var v = new NatDetector(fixture("nothing"), Map.of("KUBERNETES_SERVICE_HOST", "10.96.0.1")::get).inspect();
    assertThat(v.detected()).isTrue();
    assertThat(v.evidence()).singleElement().asString().contains("KUBERNETES_SERVICE_HOST=10.96.0.1");
  }

  @Test
  void unreadableSourceWithoutEvidenceIsUnknown() throws IOException {
    Path net = Files.createDirectories(tmp.resolve("net"));
    Files.writeString(net.resolve("ip6_tables_names"), "filter\n");
    Files.writeString(net.resolve("nf_conntrack"), "");
    Files.writeString(tmp.resolve("modules"), "");
    // A directory where a file should be: reading fails even as root (file modes would not).
    Files.createDirectories(net.resolve("ip_tables_names"));
    var v = inspect(tmp);
    assertThat(v.detected()).isNull();
    assertThat(v.possiblyNat()).isTrue();
    assertThat(v.evidence().getFirst()).startsWith("cannot read /proc/net/ip_tables_names: ").doesNotContain("Exception");
  }

  @Test
  void evidenceWinsOverAnUnreadableSource() throws IOException {
    Path net = Files.createDirectories(tmp.resolve("net"));
    Files.writeString(net.resolve("ip_tables_names"), "nat\n");
    Files.createDirectories(net.resolve("nf_conntrack"));
    assertThat(inspect(tmp).detected()).isTrue();
  }

  @Test
  void missingProcIsUnknown() {
    assertThat(inspect(tmp.resolve("no-such-proc")).detected()).isNull();
  }

  @Test
  void mirroredConntrackLinesAreNotNat() {
    assertThat(ConntrackLine.describeIfTranslated(
            "ipv4     2 icmp     1 29 src=10.0.2.15 dst=10.0.2.2 type=8 code=0 id=7 src=10.0.2.2 dst=10.0.2.15 type=0 code=0 id=7 mark=0 use=2"))
        .isNull();
    assertThat(ConntrackLine.describeIfTranslated("garbage")).isNull();
    // Source NAT (masquerade): the reply goes to the node's address, not the pod's.
    assertThat(ConntrackLine.describeIfTranslated(
            "ipv6     10 tcp      6 117 TIME_WAIT src=fd00::5 dst=2001:db8::1 sport=40000 dport=443 src=2001:db8::1 dst=2001:db8::ff sport=443 dport=61000 [ASSURED] use=1"))
        .isEqualTo("tcp [fd00::5]:40000 -> [2001:db8::1]:443, reply from [2001:db8::1]:443 to [2001:db8::ff]:61000");
  }
}
