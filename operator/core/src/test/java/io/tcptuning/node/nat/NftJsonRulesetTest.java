package io.tcptuning.node.nat;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The nft fallback's parser on what nft 1.0.6 printed for the rule sets of the netlink fixtures. */
class NftJsonRulesetTest {
  @TempDir Path tmp;

  static String json(String name) throws IOException {
    try (InputStream in = NftJsonRulesetTest.class.getResourceAsStream("/fixtures/nftables/" + name)) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  @Test
  void readsTheSameRuleSetAsNetlink() throws IOException {
    NftRuleset r = NftJsonRuleset.parse(json("nat-chains.json"));
    assertThat(r.source()).isEqualTo("nft -j list ruleset");
    NftRuleset viaNetlink = NftablesMessagesTest.replay("nat-chains.hex");
    assertThat(r.tables()).isEqualTo(viaNetlink.tables());
    assertThat(r.natChains()).isEqualTo(viaNetlink.natChains());
    assertThat(r.natRules()).isEqualTo(viaNetlink.natRules());
  }

  @Test
  void iptablesNftTargetsAndAnEmptyRuleSet() throws IOException {
    NftRuleset r = NftJsonRuleset.parse(json("iptables-nft.json"));
    assertThat(r.natChains()).containsExactly(new NftRuleset.Chain("ip", "nat", "POSTROUTING", "nat", "postrouting"));
    assertThat(r.natRules()).containsExactly(new NftRuleset.NatRule("ip", "nat", "POSTROUTING", 2, "xt target MASQUERADE"));
    NftRuleset empty = NftJsonRuleset.parse(json("empty.json"));
    assertThat(empty.kernelSupport()).isTrue();
    assertThat(empty.tables()).isEmpty();
  }

  @Test
  void notJsonOrTheWrongShapeIsAClearIOException() {
    assertThatThrownBy(() -> NftJsonRuleset.parse("Error: syntax error")).isInstanceOf(IOException.class)
        .hasMessageStartingWith("nft -j list ruleset printed something other than JSON").hasMessageNotContaining("Exception");
    assertThatThrownBy(() -> NftJsonRuleset.parse("{\"nftables\": 3}")).hasMessageContaining("without an \"nftables\" array");
    assertThatThrownBy(() -> NftJsonRuleset.parse("")).hasMessageContaining("without an \"nftables\" array");
  }

  @Test
  void oddValuesDoNotBreakTheParser() throws IOException {
    NftRuleset r = NftJsonRuleset.parse("""
        {"nftables": [7, {"table": {"family": "ip", "name": {"x": 1}}}, {"chain": {"family": "ip", "table": "t", "name": "c\\u001b", "type": "nat", "hook": "postrouting"}},
         {"rule": {"family": "ip", "table": "t", "chain": "c", "expr": [1, {"xt": null}, {"xt": {"type": "match", "name": "MASQUERADE"}}, {"dnat": {"addr": "10.0.0.1"}}]}}]}""");
    assertThat(r.tables()).containsExactly(new NftRuleset.Table("ip", "?"));
    assertThat(r.natChains()).containsExactly(new NftRuleset.Chain("ip", "t", "c?", "nat", "postrouting"));
    assertThat(r.natRules()).containsExactly(new NftRuleset.NatRule("ip", "t", "c", -1, "dnat"));
  }

  @Test
  void findsNftOnPathOrInSbin() throws IOException {
    Path bin = Files.createDirectories(tmp.resolve("bin"));
    Path nft = Files.createFile(bin.resolve("nft"), PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
    assertThat(NftJsonRuleset.findNft(tmp.resolve("none") + ":" + bin)).contains(nft);
  }

  @Test
  void aFailingNftSaysWhatItPrinted() throws IOException {
    Path fake = tmp.resolve("nft");
    Files.writeString(fake, "#!/bin/sh\necho 'Error: Operation not permitted' >&2\nexit 1\n");
    fake.toFile().setExecutable(true);
    assertThatThrownBy(() -> NftJsonRuleset.run(fake)).isInstanceOf(IOException.class)
        .hasMessage("nft -j list ruleset exited 1: Error: Operation not permitted");
    Files.writeString(fake, "#!/bin/sh\n[ \"$*\" = '-j list ruleset' ] || exit 3\necho '{\"nftables\": [{\"table\": {\"family\": \"inet\", \"name\": \"t\"}}]}'\n");
    assertThat(NftJsonRuleset.run(fake).tables()).containsExactly(new NftRuleset.Table("inet", "t"));
  }
}
