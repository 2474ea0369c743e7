package io.tcptuning.node.census;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tcptuning.domain.PortRange;
import io.tcptuning.node.census.TimeWaitCensus.Source;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The /proc source on fixture trees; the real kernel is TimeWaitCensusNamespaceTest's job. */
class TimeWaitCensusTest {
  @TempDir Path tmp;

  @Test
  void reportFromACapturedNamespace() {
    var r = new TimeWaitCensus(ProcNetTcpParserTest.fixture("namespace"), Source.PROC).take(10);
    assertThat(r.source()).isEqualTo("proc");
    assertThat(r.timeWaitTotal()).isEqualTo(10);
    assertThat(r.portRange()).isEqualTo(PortRange.LINUX_DEFAULT);
    assertThat(r.pressure()).isEqualTo(10.0 / 28232);
    assertThat(r.topDestinations())
        .containsExactly(
            new Destination("127.0.0.1:7001", 4, 4.0 / 28232), new Destination("127.0.0.2:7001", 2, 2.0 / 28232), new Destination("[::1]:7003", 2, 2.0 / 28232));
    assertThat(r.destinationCount()).isEqualTo(3);
    assertThat(r.maxDestinationPressure()).isEqualTo(4.0 / 28232);
    assertThat(r.maxTwBuckets()).isEqualTo(131072);
    assertThat(r.maxTwBucketsHeadroom()).isEqualTo(131062);
    assertThat(r.tcpExt()).containsOnlyKeys("TCPTimeWaitOverflow", "TWRecycled", "ListenOverflows", "ListenDrops");
    assertThat(r.listeningPorts()).isEqualTo(Set.of(40000));
    assertThat(new TimeWaitCensus(ProcNetTcpParserTest.fixture("namespace"), Source.PROC).timeWaitTotal()).isEqualTo(10);
  }

  @Test
  void wideRangeOldSockstatAndUnreadableExtras() {
    // Range 1024-65535, a sockstat without tw, garbage tcp_max_tw_buckets, no netstat.
    var census = new TimeWaitCensus(ProcNetTcpParserTest.fixture("wide-range"), Source.PROC);
    var r = census.take(1);
    assertThat(r.portRange()).isEqualTo(new PortRange(1024, 65535));
    assertThat(r.topDestinations()).containsExactly(new Destination("127.0.0.1:7001", 4, 4.0 / 64512));
    // The listener on 40000 is inside the range: its server-side TIME_WAIT is still no destination.
    assertThat(r.destinationCount()).isEqualTo(3);
    assertThat(r.maxTwBuckets()).isNull();
    assertThat(r.maxTwBucketsHeadroom()).isNull();
    assertThat(r.tcpExt()).isEmpty();
    // No tw in sockstat: the total comes from enumerating instead.
    assertThat(census.timeWaitTotal()).isEqualTo(10);
  }

  @Test
  void unreadablePortRangeNamesTheSysctl() {
    assertThatThrownBy(() -> new TimeWaitCensus(tmp, Source.PROC).take(10))
        .isInstanceOf(UncheckedIOException.class)
        .hasMessageContaining("net.ipv4.ip_local_port_range");
  }

  @Test
  void missingTcp6MeansNoIpv6() throws Exception {
    Files.createDirectories(tmp.resolve("sys/net/ipv4"));
    Files.writeString(tmp.resolve("sys/net/ipv4/ip_local_port_range"), "32768\t60999\n");
    Files.createDirectories(tmp.resolve("net"));
    Files.copy(ProcNetTcpParserTest.fixture("namespace/net/tcp"), tmp.resolve("net/tcp"));
    var r = new TimeWaitCensus(tmp, Source.PROC).take(10);
    assertThat(r.timeWaitTotal()).isEqualTo(7);
    assertThat(r.topDestinations()).extracting(Destination::address).containsExactly("127.0.0.1:7001", "127.0.0.2:7001");
  }

  @Test
  void emptyReportHasZeroPressure() {
    var r = new CensusReport("proc", 0, PortRange.LINUX_DEFAULT, 0, List.of(), 0, null, Map.of(), Set.of());
    assertThat(r.maxDestinationPressure()).isZero();
    assertThat(r.maxTwBucketsHeadroom()).isNull();
  }
}
