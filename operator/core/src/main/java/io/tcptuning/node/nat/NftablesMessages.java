package io.tcptuning.node.nat;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED;

import io.tcptuning.node.NetlinkSocket;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * Reads the few nf_tables netlink attributes the NAT check needs from the payload of
 * {@code NFT_MSG_NEWTABLE}, {@code NFT_MSG_NEWCHAIN} and {@code NFT_MSG_NEWRULE} dump replies
 * ({@code struct nfgenmsg}, then {@code struct nlattr}s; see {@code linux/netfilter/nf_tables.h}),
 * and nothing else. Every read is checked against the bounds of the message and of the enclosing
 * attribute: a truncated or garbled message is an {@link IOException}, never an out-of-bounds
 * read; every walk advances by at least one attribute header, so none can loop.
 */
final class NftablesMessages {
  static final int NFNL_SUBSYS_NFTABLES = 10;
  static final short NFT_MSG_NEWTABLE = (short) (NFNL_SUBSYS_NFTABLES << 8);
  static final short NFT_MSG_GETTABLE = (short) (NFNL_SUBSYS_NFTABLES << 8 | 1);
  static final short NFT_MSG_NEWCHAIN = (short) (NFNL_SUBSYS_NFTABLES << 8 | 3);
  static final short NFT_MSG_GETCHAIN = (short) (NFNL_SUBSYS_NFTABLES << 8 | 4);
  static final short NFT_MSG_NEWRULE = (short) (NFNL_SUBSYS_NFTABLES << 8 | 6);
  static final short NFT_MSG_GETRULE = (short) (NFNL_SUBSYS_NFTABLES << 8 | 7);

  /** struct nfgenmsg: u8 family, u8 version, be16 resource id. */
  static final int NFGENMSG_LENGTH = 4;
  private static final int NLA_HEADER = 4;
  /** nla_type carries two flag bits (NLA_F_NESTED, NLA_F_NET_BYTEORDER) above the type. */
  private static final int NLA_TYPE_MASK = 0x3fff;
  /** Longer names are cut in evidence lines (the kernel's own limit is 256 bytes). */
  private static final int MAX_NAME = 256;

  private static final int NFTA_TABLE_NAME = 1;
  private static final int NFTA_CHAIN_TABLE = 1;
  private static final int NFTA_CHAIN_NAME = 3;
  private static final int NFTA_CHAIN_HOOK = 4;
  private static final int NFTA_CHAIN_TYPE = 7;
  private static final int NFTA_HOOK_HOOKNUM = 1;
  private static final int NFTA_RULE_TABLE = 1;
  private static final int NFTA_RULE_CHAIN = 2;
  private static final int NFTA_RULE_HANDLE = 3;
  private static final int NFTA_RULE_EXPRESSIONS = 4;
  private static final int NFTA_LIST_ELEM = 1;
  private static final int NFTA_EXPR_NAME = 1;
  private static final int NFTA_EXPR_DATA = 2;
  private static final int NFTA_NAT_TYPE = 1;
  private static final int NFT_NAT_DNAT = 1;
  private static final int NFTA_TARGET_NAME = 1;

  private static final ValueLayout.OfInt BE_INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
  private static final ValueLayout.OfLong BE_LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);

  private NftablesMessages() {}

  /** A dump handler that adds the tables, nat base chains and NAT rules it is handed to {@code b}. */
  static NetlinkSocket.Handler into(NftRuleset.Builder b) {
    return (type, m, off, len) -> {
      switch (type) {
        case NFT_MSG_NEWTABLE -> b.tables.add(table(m, off, len));
        case NFT_MSG_NEWCHAIN -> b.chain(chain(m, off, len));
        case NFT_MSG_NEWRULE -> {
          NftRuleset.NatRule r = natRule(m, off, len);
          if (r != null) {
            b.natRules.add(r);
          }
        }
        default -> {}
      }
    };
  }

  /** The table a NEWTABLE payload describes. */
  static NftRuleset.Table table(MemorySegment m, long off, int len) throws IOException {
    String family = family(m, off, len);
    String[] name = {null};
    attributes(m, off + NFGENMSG_LENGTH, off + len, (type, a, alen) -> {
      if (type == NFTA_TABLE_NAME) {
        name[0] = string(m, a, alen);
      }
    });
    return new NftRuleset.Table(family, required(name[0], "table", "name"));
  }

  /** The chain a NEWCHAIN payload describes: type and hook only for base chains. */
  static NftRuleset.Chain chain(MemorySegment m, long off, int len) throws IOException {
    int familyNumber = familyNumber(m, off, len);
    String[] s = new String[3]; // table, name, type
    int[] hook = {-1};
    attributes(m, off + NFGENMSG_LENGTH, off + len, (type, a, alen) -> {
      switch (type) {
        case NFTA_CHAIN_TABLE -> s[0] = string(m, a, alen);
        case NFTA_CHAIN_NAME -> s[1] = string(m, a, alen);
        case NFTA_CHAIN_TYPE -> s[2] = string(m, a, alen);
        case NFTA_CHAIN_HOOK -> attributes(m, a, a + alen, (htype, h, hlen) -> {
          if (htype == NFTA_HOOK_HOOKNUM) {
            hook[0] = u32(m, h, hlen);
          }
        });
        default -> {}
      }
    });
    return new NftRuleset.Chain(
        familyName(familyNumber),
        required(s[0], "chain", "table"),
        required(s[1], "chain", "name"),
        s[2],
        hook[0] < 0 ? null : hookName(familyNumber, hook[0]));
  }

  /** The rule a NEWRULE payload describes when one of its statements translates, else null. */
  static NftRuleset.NatRule natRule(MemorySegment m, long off, int len) throws IOException {
    String family = family(m, off, len);
    String[] s = new String[3]; // table, chain, statement
    long[] handle = {-1};
    attributes(m, off + NFGENMSG_LENGTH, off + len, (type, a, alen) -> {
      switch (type) {
        case NFTA_RULE_TABLE -> s[0] = string(m, a, alen);
        case NFTA_RULE_CHAIN -> s[1] = string(m, a, alen);
        case NFTA_RULE_HANDLE -> handle[0] = u64(m, a, alen);
        case NFTA_RULE_EXPRESSIONS -> attributes(m, a, a + alen, (etype, e, elen) -> {
          if (etype == NFTA_LIST_ELEM && s[2] == null) {
            s[2] = natStatement(m, e, elen);
          }
        });
        default -> {}
      }
    });
    if (s[2] == null) {
      return null;
    }
    return new NftRuleset.NatRule(family, required(s[0], "rule", "table"), required(s[1], "rule", "chain"), handle[0], s[2]);
  }

  /** nft's word for an expression that translates (masq, nat, redir, an xt NAT target), else null. */
  private static String natStatement(MemorySegment m, long off, int len) throws IOException {
    String[] name = {null};
    long[] data = {-1, 0};
    attributes(m, off, off + len, (type, a, alen) -> {
      if (type == NFTA_EXPR_NAME) {
        name[0] = string(m, a, alen);
      } else if (type == NFTA_EXPR_DATA) {
        data[0] = a;
        data[1] = alen;
      }
    });
    if (name[0] == null) {
      return null;
    }
    return switch (name[0]) {
      case "masq" -> "masquerade";
      case "redir" -> "redirect";
      case "nat" -> {
        int[] natType = {-1};
        if (data[0] >= 0) {
          attributes(m, data[0], data[0] + data[1], (type, a, alen) -> {
            if (type == NFTA_NAT_TYPE) {
              natType[0] = u32(m, a, alen);
            }
          });
        }
        yield natType[0] == NFT_NAT_DNAT ? "dnat" : natType[0] == 0 ? "snat" : "nat";
      }
      case "target" -> {
        // iptables-nft keeps some targets as xtables extensions: "xt target MASQUERADE" in nft.
        String[] target = {null};
        if (data[0] >= 0) {
          attributes(m, data[0], data[0] + data[1], (type, a, alen) -> {
            if (type == NFTA_TARGET_NAME) {
              target[0] = string(m, a, alen);
            }
          });
        }
        yield target[0] != null && NftJsonRuleset.XT_NAT_TARGETS.contains(target[0]) ? "xt target " + target[0] : null;
      }
      default -> null;
    };
  }

  // ---- attributes --------------------------------------------------------------------------

  @FunctionalInterface
  interface AttributeVisitor {
    void attribute(int type, long payloadOffset, int payloadLength) throws IOException;
  }

  /** Visits the attributes in {@code [start, end)} of {@code m}, in order. */
  static void attributes(MemorySegment m, long start, long end, AttributeVisitor visitor) throws IOException {
    if (start < 0 || end > m.byteSize() || start > end) {
      throw malformed("attribute block " + start + ".." + end + " outside a message of " + m.byteSize() + " bytes");
    }
    long a = start;
    while (end - a >= NLA_HEADER) {
      int len = Short.toUnsignedInt(m.get(JAVA_SHORT_UNALIGNED, a));
      int type = Short.toUnsignedInt(m.get(JAVA_SHORT_UNALIGNED, a + 2)) & NLA_TYPE_MASK;
      if (len < NLA_HEADER || len > end - a) {
        throw malformed("attribute of length " + len + " at " + (a - start) + " of a " + (end - start) + "-byte block");
      }
      visitor.attribute(type, a + NLA_HEADER, len - NLA_HEADER);
      a += (len + 3L) & ~3L;
    }
  }

  /** A NUL-terminated string attribute (the NUL may be missing), with control characters shown as '?'. */
  static String string(MemorySegment m, long off, int len) {
    int n = 0;
    while (n < len && m.get(JAVA_BYTE, off + n) != 0) {
      n++;
    }
    byte[] bytes = new byte[Math.min(n, MAX_NAME)];
    MemorySegment.copy(m, JAVA_BYTE, off, bytes, 0, bytes.length);
    StringBuilder out = new StringBuilder(bytes.length);
    new String(bytes, StandardCharsets.UTF_8).codePoints().forEach(c -> out.appendCodePoint(Character.isISOControl(c) ? '?' : c));
    return out.toString();
  }

  private static int u32(MemorySegment m, long off, int len) throws IOException {
    if (len < 4) {
      throw malformed("a " + len + "-byte attribute where a u32 belongs");
    }
    return m.get(BE_INT, off);
  }

  private static long u64(MemorySegment m, long off, int len) throws IOException {
    if (len < 8) {
      throw malformed("a " + len + "-byte attribute where a u64 belongs");
    }
    return m.get(BE_LONG, off);
  }

  private static int familyNumber(MemorySegment m, long off, int len) throws IOException {
    if (len < NFGENMSG_LENGTH || off < 0 || off + len > m.byteSize()) {
      throw malformed("a " + len + "-byte payload, shorter than struct nfgenmsg or past the message");
    }
    return m.get(JAVA_BYTE, off) & 0xff;
  }

  private static String family(MemorySegment m, long off, int len) throws IOException {
    return familyName(familyNumber(m, off, len));
  }

  private static String required(String value, String object, String attribute) throws IOException {
    if (value == null) {
      throw malformed(object + " without a " + attribute);
    }
    return value;
  }

  private static IOException malformed(String what) {
    return new IOException("malformed nf_tables message: " + what);
  }

  /** nft's name of an NFPROTO_* family. */
  static String familyName(int family) {
    return switch (family) {
      case 1 -> "inet";
      case 2 -> "ip";
      case 3 -> "arp";
      case 5 -> "netdev";
      case 7 -> "bridge";
      case 10 -> "ip6";
      default -> "family-" + family;
    };
  }

  /** nft's name of a hook number, which depends on the family. */
  static String hookName(int family, int hook) {
    String[] names = switch (family) {
      case 3 -> new String[] {"input", "output", "forward"};
      case 5 -> new String[] {"ingress", "egress"};
      default -> new String[] {"prerouting", "input", "forward", "output", "postrouting", "ingress"};
    };
    return hook >= 0 && hook < names.length ? names[hook] : "hook-" + Integer.toUnsignedString(hook);
  }
}
