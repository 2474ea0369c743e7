package io.tcptuning.node.netns;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import io.tcptuning.node.NetNamespace;
import io.tcptuning.node.census.CensusReport;
import io.tcptuning.node.census.Destination;
import io.tcptuning.node.census.TimeWaitCensus;
import io.tcptuning.node.census.TimeWaitLoad;
import io.tcptuning.testing.TestNamespace;
import io.tcptuning.testing.ThreadNamespaces;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.Test;

/**
 * One census pass over several namespaces on one thread: TIME_WAIT sockets made inside a
 * namespace are counted there and nowhere else, each namespace's own port range is used, a
 * namespace deleted after the scan is reported as vanished, and the thread ends up at home.
 */
class AllNamespacesCensusNamespaceTest {

  @Test
  void eachNamespaceIsMeasuredInsideItself() throws Exception {
    assumeThat(TestNamespace.canCreate()).as("namespace tests need root").isTrue();
    long home = NetNamespace.currentInode();
    try (TestNamespace a = TestNamespace.create("census-a");
        TestNamespace b = TestNamespace.create("census-b");
        NetnsRunner runner = NetnsRunner.forAllNamespaces("test-census")) {
      a.setSysctl("net.ipv4.tcp_tw_reuse", "0");
      b.setSysctl("net.ipv4.tcp_tw_reuse", "0");
      a.setSysctl("net.ipv4.ip_local_port_range", "40000 40999");
      load(a, "inet:127.0.0.1:7001=300");
      load(b, "inet:127.0.0.1:7002=500", "inet6:[::1]:7003=100");

      NetnsRef refA;
      NetnsRef refB;
      NetnsRef refC;
      NetnsRef host;
      try (TestNamespace c = TestNamespace.create("census-c")) {
        List<NetnsRef> scan = new NetnsScanner().scan();
        host = scan.getFirst();
        refA = NetnsRunnerNamespaceTest.find(scan, a);
        refB = NetnsRunnerNamespaceTest.find(scan, b);
        refC = NetnsRunnerNamespaceTest.find(scan, c);
      }
      var census = new AllNamespacesCensus(runner, TimeWaitCensus.Source.NETLINK, 1000);
      awaitTimeWait(census, refA, 300);
      awaitTimeWait(census, refB, 600);

      AllNamespacesCensus.Pass pass = census.take(List.of(host, refA, refB, refC));

      assertThat(pass.namespaces()).extracting(AllNamespacesCensus.NamespaceCensus::status)
          .containsExactly(AllNamespacesCensus.Status.MEASURED, AllNamespacesCensus.Status.MEASURED, AllNamespacesCensus.Status.MEASURED, AllNamespacesCensus.Status.VANISHED);
      assertThat(pass.measured()).isEqualTo(3);
      assertThat(pass.vanished()).isEqualTo(1);
      assertThat(pass.failed()).isZero();
      assertThat(pass.namespaces().get(3).error()).contains(refC.label());

      var inA = pass.namespaces().get(1);
      CensusReport ra = inA.report();
      assertThat(ra.timeWaitTotal()).isEqualTo(300);
      assertThat(inA.sockstatTimeWait()).isEqualTo(300);
      assertThat(ra.portRange().size()).as("A's own range").isEqualTo(1000);
      assertThat(destinations(ra)).containsExactly(Map.entry("127.0.0.1:7001", 300L));
      assertThat(ra.maxDestinationPressure()).isCloseTo(0.3, Offset.offset(1e-9));
      assertThat(ra.pressure()).isCloseTo(0.3, Offset.offset(1e-9));

      CensusReport rb = pass.namespaces().get(2).report();
      assertThat(rb.timeWaitTotal()).isEqualTo(600);
      assertThat(rb.portRange().size()).as("B keeps the kernel default").isEqualTo(28232);
      assertThat(destinations(rb)).containsOnly(Map.entry("127.0.0.1:7002", 500L), Map.entry("[::1]:7003", 100L));

      CensusReport rh = pass.namespaces().getFirst().report();
      assertThat(destinations(rh)).doesNotContainKeys("127.0.0.1:7001", "127.0.0.1:7002", "[::1]:7003");

      System.out.printf("AllNamespacesCensus: %d namespaces (%d TIME_WAIT) in %.2f ms%n", pass.namespaces().size(), 900 + rh.timeWaitTotal(), pass.elapsedNanos() / 1e6);
      assertThat(runner.workersStarted()).as("one thread for the whole pass").isEqualTo(1);
      assertThat(ThreadNamespaces.outside(home)).isEmpty();
    }
  }

  /**
   * The netlink sockets of a pass, one per namespace, share one receive buffer: a namespace that
   * disappears between two others (deleted while the worker is still in the one before it)
   * leaves the next one measured exactly, with nothing of the first one's sockets in it, and
   * the same census object serves a second pass.
   */
  @Test
  void aNamespaceThatVanishesMidPassLeavesTheNextMeasuredExactly() throws Exception {
    assumeThat(TestNamespace.canCreate()).as("namespace tests need root").isTrue();
    long home = NetNamespace.currentInode();
    try (TestNamespace a = TestNamespace.create("pass-a");
        TestNamespace b = TestNamespace.create("pass-b");
        NetnsRunner runner = NetnsRunner.forAllNamespaces("test-pass")) {
      a.setSysctl("net.ipv4.tcp_tw_reuse", "0");
      b.setSysctl("net.ipv4.tcp_tw_reuse", "0");
      load(a, "inet:127.0.0.1:7001=400");
      load(b, "inet:127.0.0.2:7002=150", "inet6:[::1]:7003=50");
      TestNamespace gone = TestNamespace.create("pass-gone");
      NetnsRef refA;
      NetnsRef refB;
      NetnsRef refGone;
      try {
        List<NetnsRef> scan = new NetnsScanner().scan();
        refA = NetnsRunnerNamespaceTest.find(scan, a);
        refB = NetnsRunnerNamespaceTest.find(scan, b);
        refGone = NetnsRunnerNamespaceTest.find(scan, gone);
      } catch (Throwable t) {
        gone.close();
        throw t;
      }
      var census = new AllNamespacesCensus(runner, TimeWaitCensus.Source.NETLINK, 10);
      awaitTimeWait(census, refA, 400);
      awaitTimeWait(census, refB, 200);

      // The namespace is deleted from home (a process started on the worker would leave threads
      // in A), while the worker waits in A, after A's census and before it moves on.
      var afterA = new java.util.concurrent.CountDownLatch(1);
      var deleted = new java.util.concurrent.CountDownLatch(1);
      census.afterEach = ref -> {
        if (ref.inode() == refA.inode()) {
          afterA.countDown();
          try {
            assertThat(deleted.await(30, TimeUnit.SECONDS)).as("deleted").isTrue();
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        }
        return null;
      };
      Thread deleter = Thread.ofPlatform().start(() -> {
        try {
          if (afterA.await(30, TimeUnit.SECONDS)) {
            gone.close();
          }
        } catch (Exception e) {
          throw new IllegalStateException(e);
        } finally {
          deleted.countDown();
        }
      });
      AllNamespacesCensus.Pass pass;
      try {
        pass = census.take(List.of(refA, refGone, refB));
      } finally {
        afterA.countDown(); // the pass failed before A's end: the deleter still deletes it
        deleter.join();
        census.afterEach = null;
      }

      assertThat(pass.namespaces()).extracting(AllNamespacesCensus.NamespaceCensus::status)
          .containsExactly(AllNamespacesCensus.Status.MEASURED, AllNamespacesCensus.Status.VANISHED, AllNamespacesCensus.Status.MEASURED);
      assertThat(pass.measured()).isEqualTo(2);
      assertThat(pass.vanished()).isEqualTo(1);
      CensusReport ra = pass.namespaces().get(0).report();
      assertThat(ra.timeWaitTotal()).isEqualTo(400);
      assertThat(destinations(ra)).containsExactly(Map.entry("127.0.0.1:7001", 400L));
      assertThat(ra.tcpExt()).as("not read in a pass").isEmpty();
      var inB = pass.namespaces().get(2);
      assertThat(inB.report().timeWaitTotal()).isEqualTo(200);
      assertThat(inB.sockstatTimeWait()).isEqualTo(200);
      assertThat(destinations(inB.report())).containsOnly(Map.entry("127.0.0.2:7002", 150L), Map.entry("[::1]:7003", 50L));

      AllNamespacesCensus.Pass again = census.take(List.of(refB, refA));
      assertThat(again.namespaces()).extracting(n -> n.report().timeWaitTotal()).containsExactly(200L, 400L);
      assertThat(destinations(again.namespaces().get(1).report())).containsExactly(Map.entry("127.0.0.1:7001", 400L));
      assertThat(runner.workersStarted()).isEqualTo(1);
      assertThat(ThreadNamespaces.outside(home)).isEmpty();
    }
  }

  private static Map<String, Long> destinations(CensusReport r) {
    return r.topDestinations().stream().collect(Collectors.toMap(Destination::address, Destination::sockets));
  }

  private static void load(TestNamespace ns, String... specs) throws Exception {
    String out = ns.exec(TestNamespace.javaCommand(List.of(), TimeWaitLoad.class, specs).toArray(String[]::new)).check().stdout();
    assertThat(out).contains("failed 0");
  }

  /** Client sockets reach TIME_WAIT a moment after the generator returns. */
  private static void awaitTimeWait(AllNamespacesCensus census, NetnsRef ref, long expected) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    long seen = -1;
    while (System.nanoTime() < deadline) {
      var one = census.take(List.of(ref)).namespaces().getFirst();
      seen = one.measured() ? one.report().timeWaitTotal() : -1;
      if (seen == expected) {
        return;
      }
      Thread.sleep(50);
    }
    throw new AssertionError(ref.label() + " holds " + seen + " TIME_WAIT sockets, expected " + expected);
  }
}
