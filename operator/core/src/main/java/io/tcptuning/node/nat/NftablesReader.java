package io.tcptuning.node.nat;

import io.tcptuning.node.IoErrors;
import io.tcptuning.node.NetlinkException;
import io.tcptuning.node.NetlinkSocket;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * Reads the nftables rule set of the calling thread's network namespace as the NAT check needs
 * it: over NETLINK_NETFILTER (tables, then chains, then, only when no chain is a nat base chain,
 * rules), or, when the kernel refuses netlink (EPERM: nfnetlink wants CAP_NET_ADMIN over the
 * namespace) and {@code nft} is installed, through {@code nft -j list ruleset}.
 *
 * <p>As with {@code nft list ruleset}, asking may make the kernel load its nf_tables module
 * if it is not loaded yet (the request names its subsystem); nothing is ever written.
 */
@FunctionalInterface
interface NftablesReader {
  String NETLINK = "netlink";

  /**
   * The rule set, or {@link NftRuleset#unsupported} when the kernel has no nf_tables.
   *
   * @throws IOException when it cannot be read by any means (the message says why, in words)
   */
  NftRuleset read() throws IOException;

  /** Netlink first, {@code nft} when netlink is refused and nft can be found. */
  static NftablesReader system() {
    return () -> read(NftablesReader::overNetlink, () -> NftJsonRuleset.findNft(System.getenv("PATH")));
  }

  /** The decision between netlink and the fallback, with both as parameters for tests. */
  static NftRuleset read(NftablesReader netlink, Supplier<Optional<Path>> nft) throws IOException {
    String refusal;
    try {
      return netlink.read();
    } catch (NetlinkException e) {
      if (!e.refused()) {
        throw new IOException("nf_tables over netlink: " + e.getMessage());
      }
      refusal = "netlink refused: " + NetlinkException.describe(e.errno());
    } catch (LinkageError | UnsupportedOperationException | IllegalCallerException e) {
      refusal = "netlink out of reach: this JVM has no native access (--enable-native-access)";
    }
    Optional<Path> binary = nft.get();
    if (binary.isEmpty()) {
      throw new IOException(refusal + ", and nft is not installed");
    }
    try {
      return NftJsonRuleset.run(binary.get());
    } catch (IOException e) {
      throw new IOException(refusal + ", and " + IoErrors.reason(e));
    }
  }

  /** The rule set over NETLINK_NETFILTER; a dump the kernel flags as interrupted is asked again (up to 3 times). */
  static NftRuleset overNetlink() throws IOException {
    NetlinkSocket socket;
    try {
      socket = NetlinkSocket.open(NetlinkSocket.NETLINK_NETFILTER, "nf_tables");
    } catch (NetlinkException e) {
      if (e.errno() == NetlinkException.EPROTONOSUPPORT) {
        return NftRuleset.unsupported(NETLINK); // a kernel without nfnetlink
      }
      throw e;
    }
    try (socket; Arena arena = Arena.ofConfined()) {
      // struct nfgenmsg {NFPROTO_UNSPEC: every family, NFNETLINK_V0, res_id 0}.
      MemorySegment request = arena.allocate(NftablesMessages.NFGENMSG_LENGTH, 4);
      NftRuleset.Builder b = null;
      for (int attempt = 1; attempt <= 3; attempt++) {
        b = new NftRuleset.Builder();
        NetlinkSocket.Handler into = NftablesMessages.into(b);
        boolean consistent;
        try {
          consistent = socket.dump(NftablesMessages.NFT_MSG_GETTABLE, request, into);
        } catch (NetlinkException e) {
          if (e.errno() == NetlinkException.EOPNOTSUPP || e.errno() == NetlinkException.EINVAL) {
            return NftRuleset.unsupported(NETLINK); // nfnetlink without its nf_tables subsystem
          }
          throw e;
        }
        consistent &= socket.dump(NftablesMessages.NFT_MSG_GETCHAIN, request, into);
        if (b.natChains.isEmpty() && !b.tables.isEmpty()) {
          b.rulesInspected = true;
          consistent &= socket.dump(NftablesMessages.NFT_MSG_GETRULE, request, into);
        }
        if (consistent) {
          break;
        }
      }
      return b.build(NETLINK);
    }
  }
}
