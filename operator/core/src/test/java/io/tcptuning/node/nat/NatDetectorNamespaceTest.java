package io.tcptuning.node.nat;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.tcptuning.domain.NatVerdict;
import io.tcptuning.node.NetNamespace;
import io.tcptuning.node.NetlinkException;
import io.tcptuning.node.ProcNet;
import io.tcptuning.testing.TestNamespace;
import io.tcptuning.testing.ThreadNamespaces;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The NAT verdict against the real kernel's nftables, in throwaway namespaces: rules are added
 * with {@code ip netns exec NS nft ...}, the verdict is taken on a thread that entered the
 * namespace with setns(2), as the agent and the CLI take it. The host's rule set is compared
 * before and after: it is never touched.
 */
class NatDetectorNamespaceTest {
  static Optional<Path> nft;
  static String hostRuleset;

  TestNamespace ns;

  @BeforeAll
  static void hostRulesetBefore() throws Exception {
    assumeTrue(TestNamespace.canCreate(), "needs root for ip netns");
    nft = NftJsonRuleset.findNft(System.getenv("PATH"));
    hostRuleset = nft.isPresent() ? hostNft().stdout() : null;
  }

  @AfterAll
  static void hostRulesetUntouched() throws Exception {
    // The nft fallback runs on a thread inside a namespace: nothing it starts may stay there
    // (a virtual thread would leave the JVM's carrier threads in that namespace for good).
    assertThat(ThreadNamespaces.outside(NetNamespace.currentInode())).as("threads left in a test namespace").isEmpty();
    if (hostRuleset != null) {
      assertThat(hostNft().stdout()).as("the host's nftables rule set").isEqualTo(hostRuleset);
    }
  }

  private static TestNamespace.Result hostNft() throws Exception {
    Process p = new ProcessBuilder(nft.orElseThrow().toString(), "list", "ruleset").redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    return new TestNamespace.Result(List.of("nft", "list", "ruleset"), p.waitFor(), out, "");
  }

  @BeforeEach
  void namespace() throws Exception {
    ns = TestNamespace.create("nat");
  }

  @AfterEach
  void deleteNamespace() throws Exception {
    if (ns != null) {
      ns.close();
    }
  }

  private NatVerdict verdictInside() throws Exception {
    return ns.inside(() -> new NatDetector(ProcNet.PROC).inspect());
  }

  private void nft(String... args) throws Exception {
    List<String> cmd = new java.util.ArrayList<>(List.of(nft.orElseThrow().toString()));
    cmd.addAll(List.of(args));
    ns.exec(cmd.toArray(String[]::new)).check();
  }

  private static List<String> nftablesLines(NatVerdict v) {
    return v.evidence().stream().filter(l -> l.startsWith("nftables") || l.contains("nftables rule set")).toList();
  }

  @Test
  void aFreshNamespaceHasNoNftablesNat() throws Exception {
    NatVerdict v = verdictInside();
    assertThat(nftablesLines(v)).containsExactly("nftables: no tables (netlink)");
    // Whatever else this machine shows (modules are host-wide), nftables is not why.
    if (Boolean.TRUE.equals(v.detected())) {
      assertThat(v.evidence()).noneMatch(l -> l.startsWith("nftables table"));
    }
  }

  @Test
  void aNatBaseChainIsDetected() throws Exception {
    assumeTrue(nft.isPresent(), "needs nft (apt-get install nftables)");
    nft("add", "table", "ip", "nat");
    nft("add", "chain", "ip", "nat", "post", "{ type nat hook postrouting priority 100; }");
    NatVerdict v = verdictInside();
    assertThat(v.detected()).isTrue();
    assertThat(nftablesLines(v)).containsExactly("nftables table ip nat: chain post type nat hook postrouting (netlink)");
  }

  @Test
  void aTableWithoutNatIsNamedAndNotEvidence() throws Exception {
    assumeTrue(nft.isPresent(), "needs nft (apt-get install nftables)");
    nft("add", "table", "inet", "fw");
    nft("add", "chain", "inet", "fw", "in", "{ type filter hook input priority 0; }");
    nft("add", "rule", "inet", "fw", "in", "tcp", "dport", "22", "accept");
    assertThat(nftablesLines(verdictInside())).containsExactly("nftables: no nat chain and no NAT rule in 1 table (inet fw) (netlink)");
  }

  @Test
  void aMasqueradeRuleOutsideANatChainIsDetected() throws Exception {
    assumeTrue(nft.isPresent(), "needs nft (apt-get install nftables)");
    nft("add", "table", "inet", "filt");
    nft("add", "chain", "inet", "filt", "forward_chain", "{ type filter hook forward priority 0; }");
    // The kernel itself refuses NAT statements in a filter base chain (EOPNOTSUPP) ...
    assertThat(ns.exec(nft.get().toString(), "add", "rule", "inet", "filt", "forward_chain", "masquerade").exitCode()).isNotZero();
    // ... but takes them in a regular chain of the same table, to be jumped to from a nat chain.
    nft("add", "chain", "inet", "filt", "helper");
    nft("add", "rule", "inet", "filt", "helper", "ip", "saddr", "10.0.0.0/8", "masquerade");
    NatVerdict v = verdictInside();
    assertThat(v.detected()).isTrue();
    assertThat(nftablesLines(v)).singleElement().asString()
        .matches("nftables table inet filt: chain helper has a masquerade rule \\(handle \\d+\\) \\(netlink\\)");
  }

  @Test
  void iptablesNftMasqueradeIsDetectedThoughTheLegacyTablesShowNothing() throws Exception {
    Path iptablesNft = Path.of("/usr/sbin/iptables-nft");
    assumeTrue(Files.isExecutable(iptablesNft), "needs iptables-nft (apt-get install iptables)");
    ns.exec(iptablesNft.toString(), "-t", "nat", "-A", "POSTROUTING", "-s", "10.0.0.0/8", "-j", "MASQUERADE").check();
    NatVerdict v = verdictInside();
    assertThat(v.detected()).isTrue();
    assertThat(nftablesLines(v)).containsExactly("nftables table ip nat: chain POSTROUTING type nat hook postrouting (netlink)");
    assertThat(v.evidence()).noneMatch(l -> l.startsWith("iptables (legacy) nat table present"));
  }

  @Test
  void theNftFallbackListsTheCallingThreadsNamespaceToo() throws Exception {
    assumeTrue(nft.isPresent(), "needs nft (apt-get install nftables)");
    nft("add", "table", "ip", "nat");
    nft("add", "chain", "ip", "nat", "post", "{ type nat hook postrouting priority 100; }");
    nft("add", "rule", "ip", "nat", "post", "masquerade");
    NftablesReader eperm = () -> {
      throw new NetlinkException("nf_tables request refused", NetlinkException.EPERM);
    };
    // nft runs as a child of the thread that entered the namespace, so it lists that namespace.
    NftRuleset viaNft = ns.inside(() -> NftablesReader.read(eperm, () -> nft));
    NftRuleset viaNetlink = ns.inside(NftablesReader::overNetlink);
    assertThat(viaNft.source()).isEqualTo("nft -j list ruleset");
    assertThat(viaNft.natChains()).containsExactly(new NftRuleset.Chain("ip", "nat", "post", "nat", "postrouting")).isEqualTo(viaNetlink.natChains());
    assertThat(viaNft.tables()).isEqualTo(viaNetlink.tables());
  }

  @Test
  void anotherNamespacesRulesDoNotLeakIn() throws Exception {
    assumeTrue(nft.isPresent(), "needs nft (apt-get install nftables)");
    nft("add", "table", "ip", "nat");
    nft("add", "chain", "ip", "nat", "post", "{ type nat hook postrouting priority 100; }");
    try (TestNamespace other = TestNamespace.create("nat-other")) {
      NatVerdict there = other.inside(() -> new NatDetector(ProcNet.PROC).inspect());
      assertThat(nftablesLines(there)).containsExactly("nftables: no tables (netlink)");
    }
  }
}
