package io.tcptuning.node.nat;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tcptuning.domain.NatVerdict;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
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

  /** What a node without nftables tables shows. */
  static final NftablesReader NO_TABLES = () -> new NftRuleset.Builder().build("netlink");

  private static NatVerdict inspect(Path root) {
    return new NatDetector(root, Map.<String, String>of()::get, NO_TABLES).inspect();
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
    var v = new NatDetector(fixture("nothing"), Map.of("KUBERNETES_SERVICE_HOST", "10.96.0.1")::get, NO_TABLES).inspect();
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

  private static NatVerdict withNftables(NftablesReader reader) {
    return new NatDetector(fixture("nothing"), Map.<String, String>of()::get, reader).inspect();
  }

  @Test
  void nftablesNatChainsAreEvidenceNamedAsNftNamesThem() {
    var chains = new java.util.ArrayList<NftRuleset.Chain>();
    for (String hook : List.of("prerouting", "output", "postrouting", "input", "prerouting")) {
      chains.add(new NftRuleset.Chain("inet", "kube-proxy", "nat-" + hook, "nat", hook));
    }
    var v = withNftables(() -> new NftRuleset("netlink", true, List.of(new NftRuleset.Table("inet", "kube-proxy")), chains, List.of(), false));
    assertThat(v.detected()).isTrue();
    assertThat(v.evidence()).containsExactly(
        "nftables table inet kube-proxy: chain nat-prerouting type nat hook prerouting (netlink)",
        "nftables table inet kube-proxy: chain nat-output type nat hook output (netlink)",
        "nftables table inet kube-proxy: chain nat-postrouting type nat hook postrouting (netlink)",
        "nftables: 2 more nat chains (netlink)");
  }

  @Test
  void nftablesNatRulesAreEvidenceWhenNoChainIsANatChain() throws IOException {
    var v = withNftables(() -> NftablesMessagesTest.replay("filter-only.hex"));
    assertThat(v.detected()).isTrue();
    assertThat(v.evidence()).containsExactly("nftables table inet filt: chain helper has a masquerade rule (handle 5) (netlink)");
  }

  @Test
  void nftablesWithoutNatSaysWhatItLookedAt() {
    var tables = List.of(new NftRuleset.Table("inet", "filter"), new NftRuleset.Table("ip", "mangle"), new NftRuleset.Table("ip6", "raw"));
    var v = withNftables(() -> new NftRuleset("nft -j list ruleset", true, tables, List.of(), List.of(), true));
    assertThat(v.detected()).isFalse();
    assertThat(v.evidence()).contains("nftables: no nat chain and no NAT rule in 3 tables (inet filter, ip mangle, ip6 raw) (nft -j list ruleset)");
    assertThat(withNftables(() -> new NftRuleset.Builder().build("netlink")).evidence()).contains("nftables: no tables (netlink)");
    assertThat(withNftables(() -> NftRuleset.unsupported("netlink")).evidence()).contains("no nftables in this kernel (netlink)");
    assertThat(withNftables(() -> NftRuleset.unsupported("netlink")).detected()).isFalse();
  }

  @Test
  void anUnreadableRuleSetMakesTheVerdictUnknownUnlessSomethingElseShowsNat() {
    NftablesReader refused = () -> {
      throw new IOException("netlink refused: errno 1 (EPERM, operation not permitted), and nft is not installed");
    };
    var v = withNftables(refused);
    assertThat(v.detected()).isNull();
    assertThat(v.evidence().getFirst())
        .isEqualTo("cannot read the nftables rule set: netlink refused: errno 1 (EPERM, operation not permitted), and nft is not installed");
    assertThat(new NatDetector(fixture("nat-table"), Map.<String, String>of()::get, refused).inspect().detected()).isTrue();
    NftablesReader broken = () -> {
      throw new IllegalStateException("parser bug");
    };
    assertThat(withNftables(broken).evidence().getFirst()).isEqualTo("cannot read the nftables rule set: parser bug");
  }

  @Test
  void netlinkRefusedFallsBackToNftOnlyWhenRefusedAndInstalled() throws IOException {
    NftablesReader eperm = () -> {
      throw new io.tcptuning.node.NetlinkException("nf_tables request refused", 1);
    };
    assertThatThrownBy(() -> NftablesReader.read(eperm, java.util.Optional::empty)).isInstanceOf(IOException.class)
        .hasMessage("netlink refused: errno 1 (EPERM, operation not permitted), and nft is not installed");
    Path fake = tmp.resolve("nft");
    Files.writeString(fake, "#!/bin/sh\necho '{\"nftables\": [{\"chain\": {\"family\": \"ip\", \"table\": \"nat\", \"name\": \"POSTROUTING\", \"type\": \"nat\", \"hook\": \"postrouting\"}}]}'\n");
    fake.toFile().setExecutable(true);
    NftRuleset viaNft = NftablesReader.read(eperm, () -> java.util.Optional.of(fake));
    assertThat(viaNft.source()).isEqualTo("nft -j list ruleset");
    assertThat(viaNft.natChains()).hasSize(1);
    // Refused for another reason than permission: no fallback, the netlink error is the answer.
    NftablesReader einval = () -> {
      throw new io.tcptuning.node.NetlinkException("nf_tables dump failed", 22);
    };
    assertThatThrownBy(() -> NftablesReader.read(einval, () -> java.util.Optional.of(fake)))
        .hasMessage("nf_tables over netlink: nf_tables dump failed: errno 22 (EINVAL, invalid argument)");
    // A JVM without native access cannot use netlink at all: nft is asked instead.
    NftablesReader noNative = () -> {
      throw new UnsatisfiedLinkError("libc has no socket");
    };
    assertThat(NftablesReader.read(noNative, () -> java.util.Optional.of(fake)).natChains()).hasSize(1);
  }
}
