package io.tcptuning.node.netns;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assumptions.assumeThat;

import io.tcptuning.node.NetNamespace;
import io.tcptuning.node.census.CensusReport;
import io.tcptuning.node.census.Destination;
import io.tcptuning.node.census.TimeWaitCensus;
import io.tcptuning.node.census.TimeWaitLoad;
import io.tcptuning.testing.TestNamespace;
import io.tcptuning.testing.ThreadNamespaces;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.Test;

/**
 * One census pass over several namespaces, on one worker thread and on several at once: TIME_WAIT
 * sockets made inside a namespace are counted there and nowhere else, each namespace's own port
 * range is used, results keep the order of the namespaces given, a namespace deleted after the
 * scan is reported as vanished, a pod runner refuses the node's namespace, and every thread ends
 * up at home.
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

  /**
   * Three workers share five namespaces (the node's and four with different counts): each count
   * is the one made there, in the order given, whichever worker took it.
   */
  @Test
  void severalWorkersMeasureEachNamespaceAndKeepTheOrder() throws Exception {
    assumeThat(TestNamespace.canCreate()).as("namespace tests need root").isTrue();
    long home = NetNamespace.currentInode();
    List<NetnsRunner> runners;
    List<Thread> workerThreads;
    try (TestNamespace a = TestNamespace.create("par-a");
        TestNamespace b = TestNamespace.create("par-b");
        TestNamespace c = TestNamespace.create("par-c");
        TestNamespace d = TestNamespace.create("par-d");
        var census = AllNamespacesCensus.withWorkers("test-par", 3, TimeWaitCensus.Source.NETLINK, 10)) {
      runners = census.runners();
      Map<TestNamespace, Integer> made = Map.of(a, 100, b, 200, c, 300, d, 400);
      for (var e : made.entrySet()) {
        e.getKey().setSysctl("net.ipv4.tcp_tw_reuse", "0");
        load(e.getKey(), "inet:127.0.0.1:7001=" + e.getValue());
      }
      List<NetnsRef> scan = new NetnsScanner().scan();
      NetnsRef host = scan.getFirst();
      NetnsRef refA = NetnsRunnerNamespaceTest.find(scan, a);
      NetnsRef refB = NetnsRunnerNamespaceTest.find(scan, b);
      NetnsRef refC = NetnsRunnerNamespaceTest.find(scan, c);
      NetnsRef refD = NetnsRunnerNamespaceTest.find(scan, d);
      awaitTimeWait(census, refA, 100);
      awaitTimeWait(census, refB, 200);
      awaitTimeWait(census, refC, 300);
      awaitTimeWait(census, refD, 400);

      AllNamespacesCensus.Pass pass = census.take(List.of(refD, host, refB, refA, refC));

      assertThat(pass.workers()).isEqualTo(3);
      assertThat(pass.measured()).isEqualTo(5);
      assertThat(pass.namespaces()).extracting(n -> n.ref().inode())
          .containsExactly(refD.inode(), host.inode(), refB.inode(), refA.inode(), refC.inode());
      assertThat(pass.namespaces()).extracting(AllNamespacesCensus.NamespaceCensus::status).containsOnly(AllNamespacesCensus.Status.MEASURED);
      var pods = List.of(pass.namespaces().get(0), pass.namespaces().get(2), pass.namespaces().get(3), pass.namespaces().get(4));
      assertThat(pods).extracting(n -> n.report().timeWaitTotal()).containsExactly(400L, 200L, 100L, 300L);
      assertThat(pods).extracting(AllNamespacesCensus.NamespaceCensus::sockstatTimeWait).containsExactly(400L, 200L, 100L, 300L);
      assertThat(pods).extracting(n -> destinations(n.report())).containsExactly(
          Map.of("127.0.0.1:7001", 400L), Map.of("127.0.0.1:7001", 200L), Map.of("127.0.0.1:7001", 100L), Map.of("127.0.0.1:7001", 300L));
      assertThat(destinations(pass.namespaces().get(1).report())).doesNotContainKey("127.0.0.1:7001");
      assertThat(census.workerThreadIds()).as("one worker per runner").hasSize(3).doesNotHaveDuplicates();
      workerThreads = runners.stream().map(NetnsRunner::workerThread).toList();
      assertThat(ThreadNamespaces.outside(home)).isEmpty();
    }
    assertClosed(runners, workerThreads);
    assertThat(ThreadNamespaces.outside(home)).isEmpty();
  }

  /**
   * Two workers, each held inside the namespace it took first (so both are in a foreign
   * namespace at the same time) while the third namespace of the list is deleted: it is reported
   * vanished, not failed, and the one after it is measured exactly.
   */
  @Test
  void aNamespaceDeletedWhileTwoWorkersAreInsideOthersIsReportedVanished() throws Exception {
    assumeThat(TestNamespace.canCreate()).as("namespace tests need root").isTrue();
    long home = NetNamespace.currentInode();
    List<NetnsRunner> runners;
    List<Thread> workerThreads;
    try (TestNamespace a = TestNamespace.create("par2-a");
        TestNamespace b = TestNamespace.create("par2-b");
        TestNamespace c = TestNamespace.create("par2-c");
        var census = AllNamespacesCensus.withWorkers("test-par2", 2, TimeWaitCensus.Source.NETLINK, 10)) {
      runners = census.runners();
      for (TestNamespace ns : List.of(a, b, c)) {
        ns.setSysctl("net.ipv4.tcp_tw_reuse", "0");
      }
      load(a, "inet:127.0.0.1:7001=150");
      load(c, "inet6:[::1]:7003=250");
      TestNamespace gone = TestNamespace.create("par2-gone");
      NetnsRef refA;
      NetnsRef refB;
      NetnsRef refC;
      NetnsRef refGone;
      try {
        List<NetnsRef> scan = new NetnsScanner().scan();
        refA = NetnsRunnerNamespaceTest.find(scan, a);
        refB = NetnsRunnerNamespaceTest.find(scan, b);
        refC = NetnsRunnerNamespaceTest.find(scan, c);
        refGone = NetnsRunnerNamespaceTest.find(scan, gone);
      } catch (Throwable t) {
        gone.close();
        throw t;
      }
      awaitTimeWait(census, refA, 150);
      awaitTimeWait(census, refC, 250);

      // Each worker takes one of A and B first and waits there; nobody takes the third (gone)
      // until it has been deleted from home, with both workers still inside A and B.
      var bothInside = new java.util.concurrent.CountDownLatch(2);
      var deleted = new java.util.concurrent.CountDownLatch(1);
      census.afterEach = ref -> {
        if (ref.inode() == refA.inode() || ref.inode() == refB.inode()) {
          bothInside.countDown();
          try {
            assertThat(deleted.await(30, TimeUnit.SECONDS)).as("deleted").isTrue();
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        }
        return null;
      };
      var whileInside = new java.util.concurrent.atomic.AtomicReference<Map<String, Long>>();
      Thread deleter = Thread.ofPlatform().start(() -> {
        try {
          if (bothInside.await(30, TimeUnit.SECONDS)) {
            whileInside.set(ThreadNamespaces.outside(home));
          }
          gone.close();
        } catch (Exception e) {
          throw new IllegalStateException(e);
        } finally {
          deleted.countDown();
        }
      });
      AllNamespacesCensus.Pass pass;
      try {
        pass = census.take(List.of(refA, refB, refGone, refC));
      } finally {
        deleter.join();
        census.afterEach = null;
      }

      assertThat(whileInside.get()).as("both workers inside at once").isNotNull();
      assertThat(whileInside.get().values()).contains(refA.inode(), refB.inode());
      assertThat(pass.workers()).isEqualTo(2);
      assertThat(pass.namespaces()).extracting(AllNamespacesCensus.NamespaceCensus::status).containsExactly(
          AllNamespacesCensus.Status.MEASURED, AllNamespacesCensus.Status.MEASURED, AllNamespacesCensus.Status.VANISHED, AllNamespacesCensus.Status.MEASURED);
      assertThat(pass.vanished()).isEqualTo(1);
      assertThat(pass.failed()).isZero();
      assertThat(pass.namespaces().get(2).error()).contains(refGone.label());
      assertThat(pass.namespaces()).extracting(n -> n.measured() ? n.report().timeWaitTotal() : -1L).containsExactly(150L, 0L, -1L, 250L);
      assertThat(destinations(pass.namespaces().get(0).report())).containsExactly(Map.entry("127.0.0.1:7001", 150L));
      assertThat(destinations(pass.namespaces().get(3).report())).containsExactly(Map.entry("[::1]:7003", 250L));
      workerThreads = runners.stream().map(NetnsRunner::workerThread).toList();
      assertThat(workerThreads).doesNotContainNull();
    }
    assertClosed(runners, workerThreads);
    assertThat(ThreadNamespaces.outside(home)).isEmpty();
  }

  /** Pod runners, several of them, refuse the node's namespace and measure the rest. */
  @Test
  void podRunnersInParallelRefuseTheNodesNamespace() throws Exception {
    assumeThat(TestNamespace.canCreate()).as("namespace tests need root").isTrue();
    long home = NetNamespace.currentInode();
    try (TestNamespace a = TestNamespace.create("par3-a");
        TestNamespace b = TestNamespace.create("par3-b");
        NetnsRunner p1 = NetnsRunner.forPods("test-par3-1");
        NetnsRunner p2 = NetnsRunner.forPods("test-par3-2")) {
      List<NetnsRef> scan = new NetnsScanner().scan();
      NetnsRef host = scan.getFirst();
      assertThat(host.host()).isTrue();
      var census = new AllNamespacesCensus(List.of(p1, p2), TimeWaitCensus.Source.NETLINK, 10);
      AllNamespacesCensus.Pass pass = census.take(List.of(NetnsRunnerNamespaceTest.find(scan, a), host, NetnsRunnerNamespaceTest.find(scan, b)));

      assertThat(pass.namespaces()).extracting(AllNamespacesCensus.NamespaceCensus::status)
          .containsExactly(AllNamespacesCensus.Status.MEASURED, AllNamespacesCensus.Status.REFUSED, AllNamespacesCensus.Status.MEASURED);
      assertThat(pass.namespaces().get(1).report()).isNull();
      assertThat(pass.measured()).isEqualTo(2);
      assertThat(pass.failed()).isZero();
      census.close();
      assertThat(p1.workerThread()).as("a census closes only the runners it made").isNotNull();
      assertThat(ThreadNamespaces.outside(home)).isEmpty();
    }
    assertThat(ThreadNamespaces.outside(home)).isEmpty();
  }

  /** A runner that cannot work (closed, here) takes nothing: the others take its namespaces. */
  @Test
  void aRunnerThatCannotWorkLeavesItsNamespacesToTheOthers() throws Exception {
    assumeThat(TestNamespace.canCreate()).as("namespace tests need root").isTrue();
    long home = NetNamespace.currentInode();
    try (TestNamespace a = TestNamespace.create("par4-a");
        TestNamespace b = TestNamespace.create("par4-b");
        NetnsRunner open = NetnsRunner.forAllNamespaces("test-par4-open");
        NetnsRunner closed = NetnsRunner.forAllNamespaces("test-par4-closed")) {
      closed.close();
      List<NetnsRef> scan = new NetnsScanner().scan();
      List<NetnsRef> refs = List.of(NetnsRunnerNamespaceTest.find(scan, a), scan.getFirst(), NetnsRunnerNamespaceTest.find(scan, b));

      AllNamespacesCensus.Pass pass = new AllNamespacesCensus(List.of(closed, open), TimeWaitCensus.Source.NETLINK, 10).take(refs);

      assertThat(pass.measured()).isEqualTo(3);
      assertThat(pass.namespaces()).extracting(n -> n.ref().inode()).containsExactlyElementsOf(refs.stream().map(NetnsRef::inode).toList());
      assertThat(open.workersStarted()).isEqualTo(1);
      assertThatThrownBy(() -> new AllNamespacesCensus(closed, TimeWaitCensus.Source.NETLINK, 10).take(refs))
          .isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
      assertThat(ThreadNamespaces.outside(home)).isEmpty();
    }
  }

  /** Closed runners refuse work and their worker threads have ended. */
  private static void assertClosed(List<NetnsRunner> runners, List<Thread> workerThreads) throws InterruptedException {
    NetnsRef some = new NetnsRef(1, Path.of("/proc/1/ns/net"), List.of(1), List.of(), false);
    for (NetnsRunner r : runners) {
      assertThatThrownBy(() -> r.run(some, ref -> null)).isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
    }
    for (Thread t : workerThreads) {
      if (t != null) {
        t.join(TimeUnit.SECONDS.toMillis(10));
        assertThat(t.isAlive()).as(t.getName() + " ended").isFalse();
      }
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
