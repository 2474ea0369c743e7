package io.tcptuning.node.census;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assumptions.assumeThat;

import io.tcptuning.domain.PortRange;
import io.tcptuning.node.NetlinkSocket;
import io.tcptuning.testing.TestNamespace;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Netlink sockets opened one after the other in one {@link NetlinkSocket.Memory}, as a census
 * pass does (one socket per namespace, one set of buffers): never two at a time, and a dump that
 * failed halfway leaves nothing behind for the next socket, which counts every socket again.
 */
class NetlinkMemoryNamespaceTest {

  @Test
  void socketsTakeTurnsInOneMemoryAndAnAbortedDumpLeavesNothingBehind() throws Exception {
    assumeThat(TestNamespace.canCreate()).as("namespace tests need root").isTrue();
    try (TestNamespace ns = TestNamespace.create("nlmem")) {
      ns.setSysctl("net.ipv4.tcp_tw_reuse", "0");
      String out = ns.exec(TestNamespace.javaCommand(List.of(), TimeWaitLoad.class, "inet:127.0.0.1:7001=700", "inet6:[::1]:7002=300").toArray(String[]::new)).check().stdout();
      assertThat(out).contains("failed 0");
      ns.inside(() -> {
        awaitTimeWait(1000);
        var memory = NetlinkSocket.Memory.reusable();

        SocketTally first = new SocketTally(PortRange.LINUX_DEFAULT);
        NetlinkSockDiag a = NetlinkSockDiag.open(memory);
        assertThat(memory.inUse()).isTrue();
        assertThatThrownBy(() -> NetlinkSockDiag.open(memory)).isInstanceOf(IllegalStateException.class).hasMessageContaining("in use");
        a.collect(first);
        a.close();
        assertThat(memory.inUse()).isFalse();
        assertThat(first.timeWait()).isEqualTo(1000);
        NetlinkSockDiag b = NetlinkSockDiag.open(memory);
        a.close(); // again: must not take the memory away from b
        assertThat(memory.inUse()).isTrue();
        b.close();
        assertThat(memory.inUse()).isFalse();

        // A dump abandoned after its first message: the kernel still has replies queued on that
        // socket, and the buffer holds the first datagram.
        int[] seen = {0};
        try (NetlinkSocket socket = NetlinkSocket.open(NetlinkSocket.NETLINK_SOCK_DIAG, "sock_diag", memory)) {
          // struct inet_diag_req_v2: AF_INET, IPPROTO_TCP, no extensions, every state.
          MemorySegment request = socket.payload(56);
          request.set(ValueLayout.JAVA_BYTE, 0, (byte) 2);
          request.set(ValueLayout.JAVA_BYTE, 1, (byte) 6);
          request.set(ValueLayout.JAVA_INT, 4, NetlinkSockDiag.ALL_STATES);
          assertThatThrownBy(() -> socket.dump((short) 20, request, (type, buffer, offset, length) -> {
            seen[0]++;
            throw new IOException("stop");
          })).hasMessage("stop");
        }
        assertThat(seen[0]).isEqualTo(1);
        assertThat(memory.inUse()).isFalse();

        for (int i = 0; i < 3; i++) {
          SocketTally again = new SocketTally(PortRange.LINUX_DEFAULT);
          try (NetlinkSockDiag diag = NetlinkSockDiag.open(memory)) {
            diag.collect(again);
          }
          assertThat(again.timeWait()).isEqualTo(1000);
          assertThat(again.destinations().count(DestinationTable.INET, 0, 0x7f000001L, 7001)).isEqualTo(700);
          assertThat(again.destinations().count(DestinationTable.INET6, 0, 1, 7002)).isEqualTo(300);
          assertThat(again.destinations().size()).isEqualTo(2);
        }
        return null;
      });
    }
  }

  /** The last client sockets reach TIME_WAIT a moment after the generator returns. */
  private static void awaitTimeWait(long expected) throws IOException, InterruptedException {
    var census = new TimeWaitCensus(io.tcptuning.node.ProcNet.PROC, TimeWaitCensus.Source.NETLINK);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    // Counted as the dump counts them: sockstat counts a TIME_WAIT socket a moment before the
    // kernel hashes it where a dump finds it (seen once: sockstat 1000, the dump 999).
    long seen;
    while ((seen = census.take(1).timeWaitTotal()) != expected) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("TIME_WAIT sockets: " + seen + ", expected " + expected);
      }
      Thread.sleep(50);
    }
  }
}
