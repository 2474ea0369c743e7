package io.tcptuning.node.nat;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tcptuning.node.NetlinkSocket;
import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The nf_tables reply parser on datagrams captured from a real kernel (Linux 6.18, see the
 * comments and {@code capture.py} in {@code fixtures/nftables}), and on every truncation and
 * corruption of them: a malformed reply is an IOException, never another exception or a loop.
 */
class NftablesMessagesTest {
  private static final Pattern SECTION = Pattern.compile("^# (tables|chains|rules) \\(request seq (\\d+)\\)$");

  /** The reply datagrams of one dump request of a fixture. */
  record Dump(String what, int seq, List<byte[]> datagrams) {}

  static List<Dump> fixture(String name) throws IOException {
    List<Dump> dumps = new ArrayList<>();
    try (InputStream in = NftablesMessagesTest.class.getResourceAsStream("/fixtures/nftables/" + name)) {
      for (String line : new String(in.readAllBytes(), StandardCharsets.US_ASCII).split("\n")) {
        Matcher m = SECTION.matcher(line);
        if (m.matches()) {
          dumps.add(new Dump(m.group(1), Integer.parseInt(m.group(2)), new ArrayList<>()));
        } else if (!line.isBlank() && !line.startsWith("#")) {
          dumps.getLast().datagrams().add(HexFormat.of().parseHex(line.strip()));
        }
      }
    }
    return dumps;
  }

  /** Feeds a fixture's datagrams through the production walk and handler, as a socket would. */
  static NftRuleset replay(String name) throws IOException {
    var b = new NftRuleset.Builder();
    b.rulesInspected = true;
    for (Dump d : fixture(name)) {
      var walk = new NetlinkSocket.Walk(d.seq(), "nf_tables");
      boolean done = false;
      for (byte[] datagram : d.datagrams()) {
        done = walk.datagram(MemorySegment.ofArray(datagram), datagram.length, NftablesMessages.into(b));
      }
      assertThat(done).as("%s dump of %s ends with DONE", d.what(), name).isTrue();
    }
    return b.build("netlink");
  }

  @Test
  void anEmptyRuleSetHasNoTables() throws IOException {
    NftRuleset r = replay("empty.hex");
    assertThat(r.tables()).isEmpty();
    assertThat(r.natChains()).isEmpty();
    assertThat(r.natRules()).isEmpty();
  }

  @Test
  void aFilterTableWithAMasqueradeRuleInARegularChain() throws IOException {
    NftRuleset r = replay("filter-only.hex");
    assertThat(r.tables()).containsExactly(new NftRuleset.Table("inet", "filt"));
    assertThat(r.natChains()).isEmpty();
    assertThat(r.natRules()).containsExactly(new NftRuleset.NatRule("inet", "filt", "helper", 5, "masquerade"));
  }

  @Test
  void everyChainIsReadWithTypeAndHookOnlyForBaseChains() throws IOException {
    List<NftRuleset.Chain> chains = new ArrayList<>();
    Dump d = fixture("nat-chains.hex").get(1);
    assertThat(d.what()).isEqualTo("chains");
    var walk = new NetlinkSocket.Walk(d.seq(), "nf_tables");
    for (byte[] datagram : d.datagrams()) {
      walk.datagram(MemorySegment.ofArray(datagram), datagram.length, (type, m, off, len) -> {
        assertThat(type).isEqualTo(NftablesMessages.NFT_MSG_NEWCHAIN);
        chains.add(NftablesMessages.chain(m, off, len));
      });
    }
    assertThat(chains).containsExactly(
        new NftRuleset.Chain("inet", "filt", "fwd_chain", "filter", "forward"),
        new NftRuleset.Chain("inet", "filt", "helper", null, null),
        new NftRuleset.Chain("ip", "nat", "post", "nat", "postrouting"),
        new NftRuleset.Chain("ip6", "nat6", "pre", "nat", "prerouting"));
  }

  @Test
  void natBaseChainsAndEveryKindOfNatStatement() throws IOException {
    NftRuleset r = replay("nat-chains.hex");
    assertThat(r.tables()).extracting(NftRuleset.Table::toString).containsExactly("inet filt", "ip nat", "ip6 nat6");
    assertThat(r.natChains()).containsExactly(
        new NftRuleset.Chain("ip", "nat", "post", "nat", "postrouting"),
        new NftRuleset.Chain("ip6", "nat6", "pre", "nat", "prerouting"));
    assertThat(r.natRules()).containsExactly(
        new NftRuleset.NatRule("inet", "filt", "helper", 5, "masquerade"),
        new NftRuleset.NatRule("ip", "nat", "post", 2, "snat"),
        new NftRuleset.NatRule("ip6", "nat6", "pre", 2, "redirect"));
  }

  @Test
  void iptablesNftKeepsMasqueradeAsAnXtablesTarget() throws IOException {
    NftRuleset r = replay("iptables-nft.hex");
    assertThat(r.tables()).containsExactly(new NftRuleset.Table("ip", "nat"));
    assertThat(r.natChains()).containsExactly(new NftRuleset.Chain("ip", "nat", "POSTROUTING", "nat", "postrouting"));
    assertThat(r.natRules()).containsExactly(new NftRuleset.NatRule("ip", "nat", "POSTROUTING", 2, "xt target MASQUERADE"));
  }

  @Test
  void everyTruncationOfEveryCapturedDatagramIsAnIOExceptionOrAShorterResult() throws IOException {
    int checked = 0;
    for (String name : List.of("filter-only.hex", "nat-chains.hex", "iptables-nft.hex")) {
      for (Dump d : fixture(name)) {
        for (byte[] datagram : d.datagrams()) {
          for (int n = 0; n < datagram.length; n++) {
            byte[] cut = java.util.Arrays.copyOf(datagram, n);
            survives(d.seq(), cut, n);
            // The datagram intact, but its last message claims fewer bytes than it holds.
            checked++;
          }
        }
      }
    }
    assertThat(checked).isGreaterThan(2000);
  }

  @Test
  void everyMessageWithAnyByteCorruptedIsAnIOExceptionOrAResult() throws IOException {
    int checked = 0;
    for (String name : List.of("nat-chains.hex", "iptables-nft.hex")) {
      for (Dump d : fixture(name)) {
        for (byte[] datagram : d.datagrams()) {
          for (int i = 0; i < datagram.length; i++) {
            for (byte value : new byte[] {0, (byte) 0xff, (byte) 0x03, (byte) 0x80}) {
              byte[] bad = datagram.clone();
              bad[i] = value;
              survives(d.seq(), bad, bad.length);
              checked++;
            }
          }
        }
      }
    }
    assertThat(checked).isGreaterThan(4000);
  }

  @Test
  void randomGarbageIsAnIOExceptionOrIgnored() {
    Random random = new Random(13);
    for (int i = 0; i < 20_000; i++) {
      byte[] garbage = new byte[random.nextInt(200)];
      random.nextBytes(garbage);
      if (garbage.length >= 16 && random.nextBoolean()) {
        // A plausible header (right length, an nf_tables type, our sequence) over garbage.
        ByteBuffer.wrap(garbage).order(ByteOrder.nativeOrder()).putInt(0, garbage.length)
            .putShort(4, (short) (0x0a00 | random.nextInt(8))).putInt(8, 7);
      }
      survives(7, garbage, garbage.length);
    }
  }

  /** The walk and the parser either succeed or throw IOException; anything else fails the test. */
  private static void survives(int seq, byte[] datagram, int n) {
    var b = new NftRuleset.Builder();
    try {
      new NetlinkSocket.Walk(seq, "nf_tables").datagram(MemorySegment.ofArray(datagram), n, NftablesMessages.into(b));
    } catch (IOException expected) {
      assertThat(expected.getMessage()).isNotBlank().doesNotContain("Exception");
    }
  }

  @Test
  void attributesOfLengthZeroOrPastTheirBlockAreMalformedNotLooped() {
    // nfgenmsg, then an attribute header claiming 0 bytes: a naive walk would never advance.
    byte[] zero = {2, 0, 0, 0, 0, 0, 1, 0};
    assertThatThrownBy(() -> NftablesMessages.table(MemorySegment.ofArray(zero), 0, zero.length))
        .isInstanceOf(IOException.class).hasMessageContaining("malformed nf_tables message: attribute of length 0");
    byte[] past = {2, 0, 0, 0, 40, 0, 1, 0, 'n', 'a', 't', 0};
    assertThatThrownBy(() -> NftablesMessages.table(MemorySegment.ofArray(past), 0, past.length))
        .isInstanceOf(IOException.class).hasMessageContaining("attribute of length 40");
    byte[] noName = {2, 0, 0, 0, 8, 0, 3, 0, 0, 0, 0, 1};
    assertThatThrownBy(() -> NftablesMessages.table(MemorySegment.ofArray(noName), 0, noName.length))
        .isInstanceOf(IOException.class).hasMessage("malformed nf_tables message: table without a name");
    assertThatThrownBy(() -> NftablesMessages.chain(MemorySegment.ofArray(new byte[3]), 0, 3))
        .isInstanceOf(IOException.class).hasMessageContaining("shorter than struct nfgenmsg");
    // A payload that claims to run past the message.
    assertThatThrownBy(() -> NftablesMessages.chain(MemorySegment.ofArray(new byte[8]), 4, 8))
        .isInstanceOf(IOException.class);
  }

  @Test
  void aShortHookNumberIsMalformed() {
    // chain "c" of table "t" with a hook whose NFTA_HOOK_HOOKNUM holds 2 bytes instead of 4.
    byte[] m = {2, 0, 0, 0, 6, 0, 1, 0, 't', 0, 0, 0, 6, 0, 3, 0, 'c', 0, 0, 0, 12, 0, 4, (byte) 0x80, 6, 0, 1, 0, 0, 4, 0, 0};
    assertThatThrownBy(() -> NftablesMessages.chain(MemorySegment.ofArray(m), 0, m.length))
        .isInstanceOf(IOException.class).hasMessageContaining("where a u32 belongs");
  }

  @Test
  void namesAreCutAndControlCharactersShown() {
    byte[] raw = "ab\u001b[31mc\u0000ignored".getBytes(StandardCharsets.UTF_8);
    assertThat(NftablesMessages.string(MemorySegment.ofArray(raw), 0, raw.length)).isEqualTo("ab?[31mc");
    byte[] unterminated = "nat".getBytes(StandardCharsets.UTF_8);
    assertThat(NftablesMessages.string(MemorySegment.ofArray(unterminated), 0, 3)).isEqualTo("nat");
    byte[] huge = new byte[1000];
    java.util.Arrays.fill(huge, (byte) 'x');
    assertThat(NftablesMessages.string(MemorySegment.ofArray(huge), 0, huge.length)).hasSize(256);
  }

  @Test
  void hookNamesFollowTheFamily() {
    assertThat(NftablesMessages.hookName(2, 4)).isEqualTo("postrouting");
    assertThat(NftablesMessages.hookName(1, 0)).isEqualTo("prerouting");
    assertThat(NftablesMessages.hookName(5, 0)).isEqualTo("ingress");
    assertThat(NftablesMessages.hookName(3, 1)).isEqualTo("output");
    assertThat(NftablesMessages.hookName(2, 99)).isEqualTo("hook-99");
    assertThat(NftablesMessages.hookName(2, -1)).isEqualTo("hook-4294967295");
    assertThat(NftablesMessages.familyName(10)).isEqualTo("ip6");
    assertThat(NftablesMessages.familyName(42)).isEqualTo("family-42");
  }
}
