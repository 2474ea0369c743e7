package io.tcptuning.node.census;

import static org.assertj.core.api.Assertions.assertThat;

import io.tcptuning.domain.PortRange;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

class ProcNetTcpParserTest {
  private static final String TCP_HEADER = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n";
  private static final String TCP6_HEADER =
      "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n";

  static Path fixture(String name) {
    try {
      return Path.of(ProcNetTcpParserTest.class.getResource("/fixtures/census/" + name).toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  private static SocketTally parse(PortRange range, String... files) throws IOException {
    var tally = new SocketTally(range);
    var parser = new ProcNetTcpParser(tally);
    for (String content : files) {
      parser.parse(new ByteArrayInputStream(content.getBytes(StandardCharsets.US_ASCII)));
    }
    return tally;
  }

  private static Map<String, Long> destinations(SocketTally tally) {
    var out = new TreeMap<String, Long>();
    tally.top(1000).forEach(d -> out.put(d.address(), d.sockets()));
    return out;
  }

  @Test
  void filesCapturedFromARealNamespace() throws IOException {
    // Captured with ss alongside: 7 TIME_WAIT in tcp (2 server-side on listener 40000), 3 in
    // tcp6 (one IPv4-mapped to 127.0.0.1:7001, two to [::1]:7003).
    var tally = new SocketTally(PortRange.LINUX_DEFAULT);
    var parser = new ProcNetTcpParser(tally);
    parser.parse(fixture("namespace/net/tcp"));
    parser.parse(fixture("namespace/net/tcp6"));
    assertThat(tally.timeWait()).isEqualTo(10);
    assertThat(tally.sockets()).isEqualTo(11);
    assertThat(tally.listeningPorts()).containsExactly(40000);
    assertThat(destinations(tally)).containsExactly(Map.entry("127.0.0.1:7001", 4L), Map.entry("127.0.0.2:7001", 2L), Map.entry("[::1]:7003", 2L));
  }

  @Test
  void ipv6WordsAreByteSwappedNativeIntegers() throws IOException {
    // 2001:db8::1 port 443, from local [2001:db8::2]:40000, ESTABLISHED.
    String line = "   0: B80D0120000000000000000002000000:9C40 B80D0120000000000000000001000000:01BB 01 00000000:00000000 00:00000000 00000000  1000        0 4242 1\n";
    var tally = parse(PortRange.LINUX_DEFAULT, TCP6_HEADER + line);
    assertThat(destinations(tally)).containsExactly(Map.entry("[2001:db8::1]:443", 1L));
    assertThat(tally.timeWait()).isZero();
  }

  @Test
  void ipv4MappedIpv6FoldsIntoIpv4() throws IOException {
    String mapped = "   0: 0000000000000000FFFF00000100000A:9C40 0000000000000000FFFF00000A00000A:0050 06 00000000:00000000 03:00001000 00000000     0        0 0 3 0\n";
    String plain = "   0: 0100000A:9C41 0A00000A:0050 06 00000000:00000000 03:00001000 00000000     0        0 0 3 0\n";
    var tally = parse(PortRange.LINUX_DEFAULT, TCP_HEADER + plain, TCP6_HEADER + mapped);
    assertThat(destinations(tally)).containsExactly(Map.entry("10.0.0.10:80", 2L));
    assertThat(tally.timeWait()).isEqualTo(2);
  }

  @Test
  void localPortsOutsideTheRangeHoldNoEphemeralPort() throws IOException {
    // An sshd connection: local port 22, not ephemeral. Still a socket, not a destination.
    String ssh = "   0: 0F02000A:0016 0202000A:D431 01 00000000:00000000 02:000AF2B5 00000000     0        0 99 4 0\n";
    var tally = parse(PortRange.LINUX_DEFAULT, TCP_HEADER + ssh);
    assertThat(tally.sockets()).isEqualTo(1);
    assertThat(tally.destinations().size()).isZero();
  }

  @Test
  void malformedLinesAndTheHeaderAreSkipped() throws IOException {
    String content =
        TCP_HEADER
            + "garbage\n"
            + "   1: 0100007F:ZZZZ 0100007F:1B59 06 00000000:00000000 03:00001000 00000000     0        0 0 3 0\n"
            + "   2: 0100007F:9C40\n"
            + "   3: 0100007F:9C40 0100007F:1B59 06 00000000:00000000 03:00001000 00000000     0        0 0 3 0"; // no final newline
    var tally = parse(PortRange.LINUX_DEFAULT, content);
    assertThat(tally.sockets()).isEqualTo(1);
    assertThat(destinations(tally)).containsExactly(Map.entry("127.0.0.1:7001", 1L));
  }

  @Test
  void allOnesAddressIsNotMistakenForAnError() throws IOException {
    String line = "   0: 0100007F:9C40 FFFFFFFF:FFFF 02 00000000:00000000 01:00000100 00000000     0        0 7 1 0\n";
    var tally = parse(PortRange.LINUX_DEFAULT, TCP_HEADER + line);
    assertThat(destinations(tally)).containsExactly(Map.entry("255.255.255.255:65535", 1L));
  }

  @Test
  void manyLinesAcrossReadChunksAndTableGrowth() throws IOException {
    // 40,000 sockets to 4,000 destinations: crosses the 256 KiB read chunk and the initial
    // hash table size many times over.
    var sb = new StringBuilder(TCP_HEADER);
    for (int i = 0; i < 40_000; i++) {
      int dst = 0x0A000000 + (i % 4000); // 10.0.x.y in network order
      int localPort = 32768 + (i % 28000);
      sb.append(String.format("%4d: 0100007F:%04X %08X:1F90 06 00000000:00000000 03:00001000 00000000     0        0 0 3 0%n", i, localPort, Integer.reverseBytes(dst)));
    }
    var tally = parse(PortRange.LINUX_DEFAULT, sb.toString());
    assertThat(tally.timeWait()).isEqualTo(40_000);
    assertThat(tally.destinations().size()).isEqualTo(4000);
    assertThat(tally.top(3)).extracting(Destination::sockets).containsExactly(10L, 10L, 10L);
    assertThat(tally.destinations().count(DestinationTable.INET, 0, 0x0A000F9FL, 8080)).isEqualTo(10); // 10.0.15.159
  }
}
