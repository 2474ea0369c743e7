package io.tcptuning.node.census;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class SockstatTest {
  @Test
  void twFromTheTcpLine() {
    String s = "sockets: used 3\nTCP: inuse 1 orphan 0 tw 4300 alloc 23 mem 18\nUDP: inuse 0 mem 0\n";
    assertThat(Sockstat.timeWait(s)).hasValue(4300);
  }

  @Test
  void tcp6LineIsNotTheTcpLine() {
    // sockstat6 style content: no TIME_WAIT figure at all.
    assertThat(Sockstat.timeWait("TCP6: inuse 2\nUDP6: inuse 0\n")).isEmpty();
  }

  @Test
  void withoutTwThereIsNoFigure() {
    assertThat(Sockstat.timeWait("sockets: used 3\nTCP: inuse 1 orphan 0 alloc 23 mem 18\n")).isEmpty();
    assertThat(Sockstat.timeWait("")).isEmpty();
  }

  @Test
  void unparsableTwIsNoFigure() {
    assertThat(Sockstat.timeWait("TCP: inuse 1 orphan 0 tw lots alloc 23 mem 18\n")).isEmpty();
  }
}
