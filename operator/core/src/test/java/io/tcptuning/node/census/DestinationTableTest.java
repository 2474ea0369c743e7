package io.tcptuning.node.census;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class DestinationTableTest {
  private static String v6(String hex) {
    return DestinationTable.ipv6(Long.parseUnsignedLong(hex.substring(0, 16), 16), Long.parseUnsignedLong(hex.substring(16), 16));
  }

  @Test
  void ipv6TextFollowsRfc5952() {
    assertThat(v6("00000000000000000000000000000001")).isEqualTo("::1");
    assertThat(v6("00000000000000000000000000000000")).isEqualTo("::");
    assertThat(v6("20010db8000000000000000000000001")).isEqualTo("2001:db8::1");
    assertThat(v6("fe800000000000000001000200030004")).isEqualTo("fe80::1:2:3:4");
    // A single zero group is not compressed; of two equal runs the first is.
    assertThat(v6("20010db8000000010001000100010001")).isEqualTo("2001:db8:0:1:1:1:1:1");
    assertThat(v6("00010000000000010000000000010001")).isEqualTo("1::1:0:0:1:1");
    // The longest run wins over an earlier, shorter one.
    assertThat(v6("00010000000000010000000000000000")).isEqualTo("1:0:0:1::");
  }

  @Test
  void addressesWithPorts() {
    assertThat(DestinationTable.format(DestinationTable.INET, 0, 0x7F000001L, 7001)).isEqualTo("127.0.0.1:7001");
    assertThat(DestinationTable.format(DestinationTable.INET, 0, 0xFFFFFFFFL, 65535)).isEqualTo("255.255.255.255:65535");
    assertThat(DestinationTable.format(DestinationTable.INET6, 0, 1, 443)).isEqualTo("[::1]:443");
  }

  @Test
  void familyAndPortSeparateDestinations() {
    var t = new DestinationTable();
    t.add(DestinationTable.INET, 0, 1, 80);
    t.add(DestinationTable.INET6, 0, 1, 80); // ::1 is not 0.0.0.1
    t.add(DestinationTable.INET, 0, 1, 81);
    t.add(DestinationTable.INET, 0, 1, 80);
    assertThat(t.size()).isEqualTo(3);
    assertThat(t.count(DestinationTable.INET, 0, 1, 80)).isEqualTo(2);
    assertThat(t.count(DestinationTable.INET6, 0, 1, 80)).isEqualTo(1);
    assertThat(t.count(DestinationTable.INET, 0, 2, 80)).isZero();
  }

  @Test
  void topIsDescendingWithPressurePerRangeSize() {
    var t = new DestinationTable();
    for (int d = 1; d <= 200; d++) {
      for (int k = 0; k < d; k++) {
        t.add(DestinationTable.INET, 0, d, 443);
      }
    }
    var top = t.top(3, 1000);
    assertThat(top).extracting(Destination::address).containsExactly("0.0.0.200:443", "0.0.0.199:443", "0.0.0.198:443");
    assertThat(top.getFirst().pressure()).isEqualTo(0.2);
    assertThat(t.top(500, 1000)).hasSize(200);
    assertThat(new DestinationTable().top(5, 1000)).isEmpty();
  }

  @Test
  void tiesAreOrderedByAddress() {
    var t = new DestinationTable();
    t.add(DestinationTable.INET, 0, 0x0A000002L, 80);
    t.add(DestinationTable.INET, 0, 0x0A000001L, 80);
    assertThat(t.top(2, 100)).extracting(Destination::address).containsExactly("10.0.0.1:80", "10.0.0.2:80");
  }
}
