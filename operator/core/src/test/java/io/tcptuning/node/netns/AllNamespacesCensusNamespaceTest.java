package io.tcptuning.node.netns;

import static io.tcptuning.node.census.TimeWaitCensus.Source.NETLINK;
import static io.tcptuning.node.netns.AllNamespacesCensus.Status.MEASURED;
import static io.tcptuning.node.netns.AllNamespacesCensus.Status.REFUSED;
import static io.tcptuning.node.netns.AllNamespacesCensus.Status.VANISHED;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assumptions.assumeThat;

import io.tcptuning.node.NetNamespace;
import io.tcptuning.node.census.CensusReport;
import io.tcptuning.node.census.Destination;
import io.tcptuning.node.census.TimeWaitLoad;
import io.tcptuning.testing.TestNamespace;
import io.tcptuning.testing.ThreadNamespaces;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * One census pass over several namespaces, on one worker thread and on several at once: TIME_WAIT
 * sockets made inside a namespace are counted there and nowhere else, each namespace's own port
 * range is used, results keep the order of the namespaces given, a namespace deleted after the
 * scan is reported as vanished, a pod runner refuses the node's namespace, and every thread ends
 * up at home.
 */
class AllNamespacesCensusNamespaceTest {
  /** The test JVM's own namespace, where every thread must be when no pass is running. */
  private long home;
  /** Every namespace the test made, deleted after it whatever happened (a deleted one is skipped). */
  private final Deque<TestNamespace> made = new ConcurrentLinkedDeque<>();
  /** The TIME_WAIT sockets loaded into each namespace, in the order they were loaded. */
  private final Map<TestNamespace, Long> loaded = new LinkedHashMap<>();

  @BeforeEach
  void needRoot() throws IOException {
    assumeThat(TestNamespace.canCreate()).as("namespace tests need root").isTrue();
    home = NetNamespace.currentInode();
  }

  @AfterEach
  void deleteNamespaces() throws IOException {
    IOException failed = null;
    for (TestNamespace ns; (ns = made.pollLast()) != null; ) {
      try {
        ns.close();
      } catch (IOException e) {
        if (failed == null) {
          failed = e;
        } else {
          failed.addSuppressed(e);
        }
      }
    }
    if (failed != null) {
      throw failed;
    }
  }

  @Test
  void eachNamespaceIsMeasuredInsideItself() throws Exception {
    TestNamespace a = withTimeWait("census-a");
    a.setSysctl("net.ipv4.ip_local_port_range", "40000 40999");
    load(a, "inet:127.0.0.1:7001=300");
    TestNamespace b = withTimeWait("census-b", "inet:127.0.0.1:7002=500", "inet6:[::1]:7003=100");
    TestNamespace c = namespace("census-c");
    Scan scan = Scan.now();
    NetnsRef refC = scan.of(c);
    delete(c);
    try (NetnsRunner runner = NetnsRunner.forAllNamespaces("test-census")) {
      var census = new AllNamespacesCensus(runner, NETLINK, 1000);
      awaitLoaded(census, scan);

      AllNamespacesCensus.Pass pass = census.take(List.of(scan.host(), scan.of(a), scan.of(b), refC));

      assertStatuses(pass, MEASURED, MEASURED, MEASURED, VANISHED);
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
      assertAllThreadsAtHome();
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
    TestNamespace a = withTimeWait("pass-a", "inet:127.0.0.1:7001=400");
    TestNamespace b = withTimeWait("pass-b", "inet:127.0.0.2:7002=150", "inet6:[::1]:7003=50");
    TestNamespace gone = namespace("pass-gone");
    Scan scan = Scan.now();
    NetnsRef refA = scan.of(a);
    NetnsRef refB = scan.of(b);
    try (NetnsRunner runner = NetnsRunner.forAllNamespaces("test-pass")) {
      var census = new AllNamespacesCensus(runner, NETLINK, 10);
      awaitLoaded(census, scan);

      // Deleted while the worker waits in A, after A's census and before it moves on.
      AllNamespacesCensus.Pass pass = takeDeletingMidPass(census, List.of(refA, scan.of(gone), refB), gone, refA).pass();

      assertStatuses(pass, MEASURED, VANISHED, MEASURED);
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
      assertAllThreadsAtHome();
    }
  }

  /**
   * Three workers share five namespaces (the node's and four with different counts): each count
   * is the one made there, in the order given, whichever worker took it.
   */
  @Test
  void severalWorkersMeasureEachNamespaceAndKeepTheOrder() throws Exception {
    TestNamespace a = withTimeWait("par-a", "inet:127.0.0.1:7001=100");
    TestNamespace b = withTimeWait("par-b", "inet:127.0.0.1:7001=200");
    TestNamespace c = withTimeWait("par-c", "inet:127.0.0.1:7001=300");
    TestNamespace d = withTimeWait("par-d", "inet:127.0.0.1:7001=400");
    Scan scan = Scan.now();
    NetnsRef host = scan.host();
    List<NetnsRunner> runners;
    List<Thread> workerThreads;
    try (var census = AllNamespacesCensus.withWorkers("test-par", 3, NETLINK, 10)) {
      runners = census.runners();
      awaitLoaded(census, scan);

      AllNamespacesCensus.Pass pass = census.take(List.of(scan.of(d), host, scan.of(b), scan.of(a), scan.of(c)));

      assertThat(pass.workers()).isEqualTo(3);
      assertThat(pass.measured()).isEqualTo(5);
      assertThat(pass.namespaces()).extracting(n -> n.ref().inode())
          .containsExactly(scan.of(d).inode(), host.inode(), scan.of(b).inode(), scan.of(a).inode(), scan.of(c).inode());
      assertStatuses(pass, MEASURED, MEASURED, MEASURED, MEASURED, MEASURED);
      var pods = List.of(pass.namespaces().get(0), pass.namespaces().get(2), pass.namespaces().get(3), pass.namespaces().get(4));
      assertThat(pods).extracting(n -> n.report().timeWaitTotal()).containsExactly(400L, 200L, 100L, 300L);
      assertThat(pods).extracting(AllNamespacesCensus.NamespaceCensus::sockstatTimeWait).containsExactly(400L, 200L, 100L, 300L);
      assertThat(pods).extracting(n -> destinations(n.report())).containsExactly(
          Map.of("127.0.0.1:7001", 400L), Map.of("127.0.0.1:7001", 200L), Map.of("127.0.0.1:7001", 100L), Map.of("127.0.0.1:7001", 300L));
      assertThat(destinations(pass.namespaces().get(1).report())).doesNotContainKey("127.0.0.1:7001");
      assertThat(census.workerThreadIds()).as("one worker per runner").hasSize(3).doesNotHaveDuplicates();
      workerThreads = runners.stream().map(NetnsRunner::workerThread).toList();
      assertAllThreadsAtHome();
    }
    assertClosedAndAllThreadsAtHome(runners, workerThreads);
  }

  /**
   * Two workers, each held inside the namespace it took first (so both are in a foreign
   * namespace at the same time) while the third namespace of the list is deleted: it is reported
   * vanished, not failed, and the one after it is measured exactly.
   */
  @Test
  void aNamespaceDeletedWhileTwoWorkersAreInsideOthersIsReportedVanished() throws Exception {
    TestNamespace a = withTimeWait("par2-a", "inet:127.0.0.1:7001=150");
    TestNamespace b = withTimeWait("par2-b");
    TestNamespace c = withTimeWait("par2-c", "inet6:[::1]:7003=250");
    TestNamespace gone = namespace("par2-gone");
    Scan scan = Scan.now();
    NetnsRef refA = scan.of(a);
    NetnsRef refB = scan.of(b);
    NetnsRef refGone = scan.of(gone);
    List<NetnsRunner> runners;
    List<Thread> workerThreads;
    try (var census = AllNamespacesCensus.withWorkers("test-par2", 2, NETLINK, 10)) {
      runners = census.runners();
      awaitLoaded(census, scan);

      // Each worker takes one of A and B first and waits there; nobody takes the third (gone)
      // until it has been deleted, with both workers still inside A and B.
      MidPass mid = takeDeletingMidPass(census, List.of(refA, refB, refGone, scan.of(c)), gone, refA, refB);
      AllNamespacesCensus.Pass pass = mid.pass();

      assertThat(mid.threadsOutside()).as("both workers inside at once").isNotNull();
      assertThat(mid.threadsOutside().values()).contains(refA.inode(), refB.inode());
      assertThat(pass.workers()).isEqualTo(2);
      assertStatuses(pass, MEASURED, MEASURED, VANISHED, MEASURED);
      assertThat(pass.vanished()).isEqualTo(1);
      assertThat(pass.failed()).isZero();
      assertThat(pass.namespaces().get(2).error()).contains(refGone.label());
      assertThat(pass.namespaces()).extracting(n -> n.measured() ? n.report().timeWaitTotal() : -1L).containsExactly(150L, 0L, -1L, 250L);
      assertThat(destinations(pass.namespaces().get(0).report())).containsExactly(Map.entry("127.0.0.1:7001", 150L));
      assertThat(destinations(pass.namespaces().get(3).report())).containsExactly(Map.entry("[::1]:7003", 250L));
      workerThreads = runners.stream().map(NetnsRunner::workerThread).toList();
      assertThat(workerThreads).doesNotContainNull();
    }
    assertClosedAndAllThreadsAtHome(runners, workerThreads);
  }

  /** Pod runners, several of them, refuse the node's namespace and measure the rest. */
  @Test
  void podRunnersInParallelRefuseTheNodesNamespace() throws Exception {
    TestNamespace a = namespace("par3-a");
    TestNamespace b = namespace("par3-b");
    Scan scan = Scan.now();
    assertThat(scan.host().host()).isTrue();
    try (NetnsRunner p1 = NetnsRunner.forPods("test-par3-1");
        NetnsRunner p2 = NetnsRunner.forPods("test-par3-2")) {
      var census = new AllNamespacesCensus(List.of(p1, p2), NETLINK, 10);
      AllNamespacesCensus.Pass pass = census.take(List.of(scan.of(a), scan.host(), scan.of(b)));

      assertStatuses(pass, MEASURED, REFUSED, MEASURED);
      assertThat(pass.namespaces().get(1).report()).isNull();
      assertThat(pass.measured()).isEqualTo(2);
      assertThat(pass.failed()).isZero();
      census.close();
      assertThat(p1.workerThread()).as("a census closes only the runners it made").isNotNull();
      assertAllThreadsAtHome();
    }
    assertAllThreadsAtHome();
  }

  /** A runner that cannot work (closed, here) takes nothing: the others take its namespaces. */
  @Test
  void aRunnerThatCannotWorkLeavesItsNamespacesToTheOthers() throws Exception {
    TestNamespace a = namespace("par4-a");
    TestNamespace b = namespace("par4-b");
    Scan scan = Scan.now();
    List<NetnsRef> refs = List.of(scan.of(a), scan.host(), scan.of(b));
    try (NetnsRunner open = NetnsRunner.forAllNamespaces("test-par4-open");
        NetnsRunner closed = NetnsRunner.forAllNamespaces("test-par4-closed")) {
      closed.close();

      AllNamespacesCensus.Pass pass = new AllNamespacesCensus(List.of(closed, open), NETLINK, 10).take(refs);

      assertThat(pass.measured()).isEqualTo(3);
      assertThat(pass.namespaces()).extracting(n -> n.ref().inode()).containsExactlyElementsOf(refs.stream().map(NetnsRef::inode).toList());
      assertThat(open.workersStarted()).isEqualTo(1);
      assertThatThrownBy(() -> new AllNamespacesCensus(closed, NETLINK, 10).take(refs))
          .isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
      assertAllThreadsAtHome();
    }
  }

  // ---- the namespaces of a test ------------------------------------------------------------

  /** A namespace of this test, deleted after it. */
  private TestNamespace namespace(String prefix) throws IOException, InterruptedException {
    TestNamespace ns = TestNamespace.create(prefix);
    made.add(ns);
    return ns;
  }

  /** Deletes a namespace of this test now (from home). */
  private void delete(TestNamespace ns) throws IOException {
    made.remove(ns);
    ns.close();
  }

  /**
   * A namespace of this test with tcp_tw_reuse off (no new connection takes over a TIME_WAIT
   * socket's port) and the TIME_WAIT sockets of {@code specs} made in it (see {@link #load}).
   */
  private TestNamespace withTimeWait(String prefix, String... specs) throws Exception {
    TestNamespace ns = namespace(prefix);
    ns.setSysctl("net.ipv4.tcp_tw_reuse", "0");
    if (specs.length > 0) {
      load(ns, specs);
    }
    return ns;
  }

  /** Makes the TIME_WAIT sockets of {@link TimeWaitLoad} specs (FAMILY:HOST:PORT=COUNT) inside. */
  private void load(TestNamespace ns, String... specs) throws Exception {
    String out = ns.exec(TestNamespace.javaCommand(List.of(), TimeWaitLoad.class, specs).toArray(String[]::new)).check().stdout();
    assertThat(out).contains("failed 0");
    long sockets = Arrays.stream(specs).mapToLong(s -> Long.parseLong(s.substring(s.lastIndexOf('=') + 1))).sum();
    loaded.merge(ns, sockets, Long::sum);
  }

  /** One scan of the node's namespaces: the node's own first, then the rest. */
  private record Scan(List<NetnsRef> all) {
    static Scan now() throws IOException {
      return new Scan(new NetnsScanner().scan());
    }

    NetnsRef host() {
      return all.getFirst();
    }

    /** The scan's reference to a namespace of the test (which must still exist). */
    NetnsRef of(TestNamespace ns) throws IOException {
      return NetnsRunnerNamespaceTest.find(all, ns);
    }
  }

  /** Waits until each namespace loaded so far holds all its TIME_WAIT sockets. */
  private void awaitLoaded(AllNamespacesCensus census, Scan scan) throws Exception {
    for (var e : loaded.entrySet()) {
      awaitTimeWait(census, scan.of(e.getKey()), e.getValue());
    }
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

  // ---- a pass during which a namespace is deleted -------------------------------------------

  /** A pass, and where the threads outside home were while every held worker waited (null if they never all did). */
  private record MidPass(AllNamespacesCensus.Pass pass, Map<String, Long> threadsOutside) {}

  /**
   * Takes a pass over {@code order} in which {@code gone} is deleted while a worker waits in each
   * of {@code holdIn}, after its census and before it moves on. The namespace is deleted from
   * home: a process started on a worker would leave threads inside.
   */
  private MidPass takeDeletingMidPass(AllNamespacesCensus census, List<NetnsRef> order, TestNamespace gone, NetnsRef... holdIn)
      throws IOException, InterruptedException {
    Set<Long> held = Arrays.stream(holdIn).map(NetnsRef::inode).collect(Collectors.toSet());
    var allHeld = new CountDownLatch(held.size());
    var deleted = new CountDownLatch(1);
    census.afterEach = ref -> {
      if (held.contains(ref.inode())) {
        allHeld.countDown();
        try {
          assertThat(deleted.await(30, TimeUnit.SECONDS)).as("deleted").isTrue();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      return null;
    };
    var threadsOutside = new AtomicReference<Map<String, Long>>();
    Thread deleter = Thread.ofPlatform().start(() -> {
      try {
        if (allHeld.await(30, TimeUnit.SECONDS)) {
          threadsOutside.set(ThreadNamespaces.outside(home));
        }
        delete(gone);
      } catch (Exception e) {
        throw new IllegalStateException(e);
      } finally {
        deleted.countDown();
      }
    });
    AllNamespacesCensus.Pass pass;
    try {
      pass = census.take(order);
    } finally {
      // A pass that failed before every worker was held: the deleter deletes at once all the same.
      while (allHeld.getCount() > 0) {
        allHeld.countDown();
      }
      deleter.join();
      census.afterEach = null;
    }
    return new MidPass(pass, threadsOutside.get());
  }

  // ---- assertions ----------------------------------------------------------------------------

  private static void assertStatuses(AllNamespacesCensus.Pass pass, AllNamespacesCensus.Status... statuses) {
    assertThat(pass.namespaces()).extracting(AllNamespacesCensus.NamespaceCensus::status).containsExactly(statuses);
  }

  /** No thread of this JVM is in a namespace other than home. */
  private void assertAllThreadsAtHome() throws IOException {
    assertThat(ThreadNamespaces.outside(home)).isEmpty();
  }

  /** Closed runners refuse work, their worker threads have ended, and every thread is at home. */
  private void assertClosedAndAllThreadsAtHome(List<NetnsRunner> runners, List<Thread> workerThreads) throws InterruptedException, IOException {
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
    assertAllThreadsAtHome();
  }

  private static Map<String, Long> destinations(CensusReport r) {
    return r.topDestinations().stream().collect(Collectors.toMap(Destination::address, Destination::sockets));
  }
}
