package io.tcptuning.node;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The shared walk over a dump's reply datagrams, on hand-built datagrams. */
class NetlinkSocketWalkTest {
  private static final int SEQ = 42;

  /** Builds a datagram of netlink messages: each {type, flags, seq, payload int...}. */
  private static final class Datagram {
    final ByteBuffer b = ByteBuffer.allocate(4096).order(ByteOrder.nativeOrder());

    Datagram message(int type, int flags, int seq, int... payload) {
      int len = 16 + 4 * payload.length;
      b.putInt(len).putShort((short) type).putShort((short) flags).putInt(seq).putInt(0);
      for (int p : payload) {
        b.putInt(p);
      }
      return this;
    }

    byte[] bytes() {
      byte[] out = new byte[b.position()];
      b.get(0, out);
      return out;
    }
  }

  private static List<String> walk(NetlinkSocket.Walk w, byte[] d) throws IOException {
    List<String> seen = new ArrayList<>();
    boolean done = w.datagram(MemorySegment.ofArray(d), d.length, (type, m, off, len) -> seen.add(type + "/" + len));
    if (done) {
      seen.add("DONE");
    }
    return seen;
  }

  @Test
  void handsOutDataMessagesOfItsSequenceUntilDone() throws IOException {
    byte[] d = new Datagram()
        .message(20, 2, SEQ, 1, 2)
        .message(20, 2, SEQ + 1, 9) // another request's reply: skipped
        .message(1, 0, SEQ) // NLMSG_NOOP
        .message(0x0a03, 2, SEQ, 7)
        .message(3, 2, SEQ, 0)
        .message(20, 2, SEQ, 1) // after DONE: never reached
        .bytes();
    assertThat(walk(new NetlinkSocket.Walk(SEQ, "test"), d)).containsExactly("20/8", "2563/4", "DONE");
  }

  @Test
  void aDumpCanSpanDatagrams() throws IOException {
    var w = new NetlinkSocket.Walk(SEQ, "test");
    assertThat(walk(w, new Datagram().message(20, 2, SEQ, 1).bytes())).containsExactly("20/4");
    assertThat(walk(w, new Datagram().message(3, 2, SEQ, 0).bytes())).containsExactly("DONE");
  }

  @Test
  void anInterruptedDumpIsSaidSo() throws IOException {
    var w = new NetlinkSocket.Walk(SEQ, "test");
    walk(w, new Datagram().message(20, 2 | 0x10, SEQ, 1).message(3, 2, SEQ, 0).bytes());
    assertThat(w.interrupted()).isTrue();
  }

  @Test
  void errorRepliesCarryTheirErrno() {
    byte[] eperm = new Datagram().message(2, 0, SEQ, -1).bytes();
    assertThatThrownBy(() -> walk(new NetlinkSocket.Walk(SEQ, "nf_tables"), eperm))
        .isInstanceOfSatisfying(NetlinkException.class, e -> {
          assertThat(e.errno()).isEqualTo(1);
          assertThat(e.refused()).isTrue();
        })
        .hasMessage("nf_tables request refused: errno 1 (EPERM, operation not permitted)");
    byte[] failedDump = new Datagram().message(3, 2, SEQ, -22).bytes();
    assertThatThrownBy(() -> walk(new NetlinkSocket.Walk(SEQ, "nf_tables"), failedDump))
        .isInstanceOfSatisfying(NetlinkException.class, e -> assertThat(e.refused()).isFalse())
        .hasMessage("nf_tables dump failed: errno 22 (EINVAL, invalid argument)");
    byte[] overrun = new Datagram().message(4, 0, SEQ).bytes();
    assertThatThrownBy(() -> walk(new NetlinkSocket.Walk(SEQ, "x"), overrun)).hasMessageContaining("overrun");
  }

  @Test
  void anAcknowledgementIsNoError() throws IOException {
    byte[] ack = new Datagram().message(2, 0x100, SEQ, 0).message(3, 2, SEQ, 0).bytes();
    assertThat(walk(new NetlinkSocket.Walk(SEQ, "x"), ack)).containsExactly("DONE");
  }

  @Test
  void lengthsThatLieAreMalformed() {
    byte[] d = new Datagram().message(20, 2, SEQ, 1, 2).bytes();
    byte[] tooShort = d.clone();
    ByteBuffer.wrap(tooShort).order(ByteOrder.nativeOrder()).putInt(0, 8);
    assertThatThrownBy(() -> walk(new NetlinkSocket.Walk(SEQ, "x"), tooShort)).isInstanceOf(IOException.class)
        .hasMessage("malformed x netlink message (length 8 at 0 of 24)");
    byte[] tooLong = d.clone();
    ByteBuffer.wrap(tooLong).order(ByteOrder.nativeOrder()).putInt(0, 25);
    assertThatThrownBy(() -> walk(new NetlinkSocket.Walk(SEQ, "x"), tooLong)).isInstanceOf(IOException.class);
    byte[] negative = d.clone();
    ByteBuffer.wrap(negative).order(ByteOrder.nativeOrder()).putInt(0, -16);
    assertThatThrownBy(() -> walk(new NetlinkSocket.Walk(SEQ, "x"), negative)).isInstanceOf(IOException.class)
        .hasMessageContaining("length 4294967280");
    assertThatThrownBy(() -> new NetlinkSocket.Walk(SEQ, "x").datagram(MemorySegment.ofArray(d), d.length + 1, (t, m, o, l) -> {}))
        .isInstanceOf(IOException.class);
  }

  @Test
  void aTrailingPartialHeaderIsIgnored() throws IOException {
    byte[] d = new Datagram().message(20, 2, SEQ, 1).bytes();
    byte[] withTail = java.util.Arrays.copyOf(d, d.length + 10);
    assertThat(walk(new NetlinkSocket.Walk(SEQ, "x"), withTail)).containsExactly("20/4");
  }
}
