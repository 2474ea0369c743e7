package io.tcptuning.node.census;

import static org.assertj.core.api.Assertions.assertThat;

import io.tcptuning.node.ProcFiles;
import java.io.IOException;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class NetstatCountersTest {
  @Test
  void tcpExtCountersOfARealNamespace() throws IOException {
    String netstat = ProcFiles.read(ProcNetTcpParserTest.fixture("namespace/net/netstat"));
    assertThat(NetstatCounters.read(netstat, "TcpExt", NetstatCounters.CENSUS_TCP_EXT))
        .containsOnlyKeys("TCPTimeWaitOverflow", "TWRecycled", "ListenOverflows", "ListenDrops")
        .containsEntry("ListenOverflows", 0L);
    // The TW counter (TIME_WAIT entered) is 10 in that capture, as many as the sockets.
    assertThat(NetstatCounters.read(netstat, "TcpExt", Set.of("TW"))).isEqualTo(Map.of("TW", 10L));
  }

  @Test
  void valuesPairWithTheirNamesAndOtherGroupsAreIgnored() {
    String netstat =
        "TcpExt: ListenOverflows ListenDrops TCPTimeWaitOverflow\n"
            + "TcpExt: 17 19 3\n"
            + "IpExt: ListenOverflows InOctets\n"
            + "IpExt: 999 12345\n";
    assertThat(NetstatCounters.read(netstat, "TcpExt", NetstatCounters.CENSUS_TCP_EXT))
        .isEqualTo(Map.of("ListenOverflows", 17L, "ListenDrops", 19L, "TCPTimeWaitOverflow", 3L));
  }

  @Test
  void countersAKernelLacksAreAbsentNotZero() {
    // Older kernels: no TWRecycled after tcp_tw_recycle's removal, fewer columns than names.
    String netstat = "TcpExt: ListenOverflows ListenDrops\nTcpExt: 5\n";
    assertThat(NetstatCounters.read(netstat, "TcpExt", NetstatCounters.CENSUS_TCP_EXT)).isEqualTo(Map.of("ListenOverflows", 5L));
    assertThat(NetstatCounters.read("", "TcpExt", NetstatCounters.CENSUS_TCP_EXT)).isEmpty();
  }
}
