package io.tcptuning.node.netns;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assumptions.assumeThat;

import io.tcptuning.node.NetNamespace;
import io.tcptuning.node.ProcFiles;
import io.tcptuning.testing.TestNamespace;
import io.tcptuning.testing.ThreadNamespaces;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Work inside pods' namespaces, against the real kernel: it lands where it was sent, never in the
 * node's namespace, never in a namespace that is gone or that a reused path now names, and no
 * thread is left outside home afterwards.
 */
class NetnsRunnerNamespaceTest {
  private static final Path FIN_TIMEOUT = Path.of("/proc/sys/net/ipv4/tcp_fin_timeout");

  private long home;
  private String hostFinTimeout;

  @BeforeAll
  static void root() {
    assumeThat(TestNamespace.canCreate()).as("namespace tests need root").isTrue();
  }

  @BeforeEach
  void rememberHome() throws IOException {
    home = NetNamespace.currentInode();
    hostFinTimeout = TestNamespace.hostSysctl("net.ipv4.tcp_fin_timeout");
  }

  @AfterEach
  void everyThreadIsHomeAndTheHostUntouched() throws IOException {
    assertThat(ThreadNamespaces.outside(home)).as("threads outside the home namespace").isEmpty();
    assertThat(TestNamespace.hostSysctl("net.ipv4.tcp_fin_timeout")).isEqualTo(hostFinTimeout);
  }

  @Test
  void writesInsideAPodNamespaceAndComesHome() throws Exception {
    try (TestNamespace ns = TestNamespace.create("run");
        NetnsRunner runner = NetnsRunner.forPods("test-pods")) {
      NetnsRef ref = find(new NetnsScanner().scan(), ns);
      long seen = runner.run(ref, r -> {
        Files.writeString(FIN_TIMEOUT, "33");
        return NetNamespace.currentInode();
      });
      assertThat(seen).isEqualTo(ref.inode());
      assertThat(ns.sysctl("net.ipv4.tcp_fin_timeout")).isEqualTo("33");
      // The same worker serves the next call, back at home in between.
      Thread worker = runner.workerThread();
      String again = runner.run(ref, r -> ProcFiles.read(FIN_TIMEOUT).strip());
      assertThat(again).isEqualTo("33");
      assertThat(runner.workerThread()).isSameAs(worker);
      assertThat(runner.workersStarted()).isEqualTo(1);
      assertThat(runner.workersRetired()).isZero();
    }
  }

  @Test
  void thePodRunnerRefusesTheNodesNamespace() throws Exception {
    try (NetnsRunner runner = NetnsRunner.forPods("test-pods")) {
      NetnsRef host = new NetnsScanner().scan().getFirst();
      assertThat(host.host()).isTrue();
      AtomicInteger ran = new AtomicInteger();
      assertThatThrownBy(() -> runner.run(host, r -> ran.incrementAndGet())).isInstanceOf(HostNamespaceRefusedException.class);
      // Not flagged as host, but it is home: still refused.
      NetnsRef disguised = new NetnsRef(home, Path.of("/proc/self/ns/net"), List.of(), List.of(), false);
      assertThatThrownBy(() -> runner.run(disguised, r -> ran.incrementAndGet())).isInstanceOf(HostNamespaceRefusedException.class);
      assertThat(runner.runInEach(List.of(host, disguised), r -> ran.incrementAndGet()))
          .extracting(NetnsRunner.Outcome::status)
          .containsExactly(NetnsRunner.Status.REFUSED, NetnsRunner.Status.REFUSED);
      assertThat(ran).hasValue(0);
    }
    try (NetnsRunner measuring = NetnsRunner.forAllNamespaces("test-all")) {
      NetnsRef host = new NetnsScanner().scan().getFirst();
      assertThat(whereItRuns(measuring, host)).isEqualTo(home);
    }
  }

  @Test
  void aNamespaceDeletedBetweenScanAndEntryIsGoneAndNothingRuns() throws Exception {
    try (TestNamespace alive = TestNamespace.create("alive");
        NetnsRunner runner = NetnsRunner.forPods("test-pods")) {
      NetnsRef doomed;
      NetnsRef kept;
      try (TestNamespace ns = TestNamespace.create("doomed")) {
        List<NetnsRef> scan = new NetnsScanner().scan();
        doomed = find(scan, ns);
        kept = find(scan, alive);
      }
      AtomicInteger wrote = new AtomicInteger();
      NetnsRunner.Task<Void> write = r -> {
        Files.writeString(FIN_TIMEOUT, "34");
        wrote.incrementAndGet();
        return null;
      };
      assertThatThrownBy(() -> runner.run(doomed, write))
          .isInstanceOf(NamespaceGoneException.class)
          .hasMessageContaining(doomed.label());
      assertThat(wrote).hasValue(0);
      var outcomes = runner.runInEach(List.of(doomed, kept), write);
      assertThat(outcomes).extracting(NetnsRunner.Outcome::status).containsExactly(NetnsRunner.Status.GONE, NetnsRunner.Status.DONE);
      assertThat(wrote).hasValue(1);
      assertThat(alive.sysctl("net.ipv4.tcp_fin_timeout")).isEqualTo("34");
    }
  }

  @Test
  void aPathThatNowNamesAnotherNamespaceIsGoneAndNothingRuns() throws Exception {
    try (TestNamespace a = TestNamespace.create("was");
        TestNamespace b = TestNamespace.create("now");
        NetnsRunner runner = NetnsRunner.forPods("test-pods")) {
      List<NetnsRef> scan = new NetnsScanner().scan();
      NetnsRef refA = find(scan, a);
      // As if A's process had exited and its PID (or name) now led to B.
      NetnsRef reused = new NetnsRef(refA.inode(), b.path(), List.of(), List.of(b.path()), false);
      AtomicInteger ran = new AtomicInteger();
      assertThatThrownBy(() -> runner.run(reused, r -> {
        Files.writeString(FIN_TIMEOUT, "35");
        return ran.incrementAndGet();
      })).isInstanceOf(NamespaceGoneException.class);
      assertThat(ran).hasValue(0);
      assertThat(b.sysctl("net.ipv4.tcp_fin_timeout")).isEqualTo("60");
      assertThat(a.sysctl("net.ipv4.tcp_fin_timeout")).isEqualTo("60");
    }
  }

  @Test
  void aStaleEntryFallsBackToAnotherPathToTheSameNamespace() throws Exception {
    Process sleeper = null;
    try (TestNamespace ns = TestNamespace.create("fallback");
        NetnsRunner runner = NetnsRunner.forPods("test-pods")) {
      sleeper = ns.builder(List.of("sleep", "600")).start();
      NetnsScannerNamespaceTest.awaitNamespaceOtherThan(sleeper.pid(), home);
      NetnsRef ref = find(new NetnsScanner().scan(), ns);
      NetnsRef staleEntry = new NetnsRef(ref.inode(), Path.of("/run/netns/tcptune-no-such-name"), ref.pids(), List.of(), false);
      assertThat(whereItRuns(runner, staleEntry)).isEqualTo(ref.inode());
    } finally {
      if (sleeper != null) {
        sleeper.destroy();
        sleeper.waitFor(10, TimeUnit.SECONDS);
      }
    }
  }

  @Test
  void aWorkerThatCannotGetHomeIsRetiredAndReplaced() throws Exception {
    try (TestNamespace pod = TestNamespace.create("pod");
        TestNamespace elsewhere = TestNamespace.create("elsewhere");
        NetnsRunner runner = NetnsRunner.forPods("test-pods")) {
      NetnsRef ref = find(new NetnsScanner().scan(), pod);
      assertThat(whereItRuns(runner, ref)).isEqualTo(ref.inode());
      Thread first = runner.workerThread();
      // The way home now leads elsewhere: the worker ends up in a foreign namespace.
      runner.returnHomeDetour = elsewhere.path();
      assertThat(whereItRuns(runner, ref)).as("the task itself ran").isEqualTo(ref.inode());
      assertThat(runner.workersRetired()).isEqualTo(1);
      first.join(TimeUnit.SECONDS.toMillis(10));
      assertThat(first.isAlive()).as("a retired worker ends").isFalse();
      runner.returnHomeDetour = null;
      assertThat(whereItRuns(runner, ref)).isEqualTo(ref.inode());
      assertThat(runner.workerThread()).isNotSameAs(first);
      assertThat(runner.workersStarted()).isEqualTo(2);
    }
  }

  @Test
  void aWorkerIsStartedOnlyFromHome() throws Exception {
    try (TestNamespace pod = TestNamespace.create("pod");
        TestNamespace elsewhere = TestNamespace.create("elsewhere");
        NetnsRunner runner = NetnsRunner.forPods("test-pods")) {
      NetnsRef ref = find(new NetnsScanner().scan(), pod);
      String error = elsewhere.inside(() -> {
        try {
          runner.run(ref, r -> 1);
          return "ran";
        } catch (IOException e) {
          return e.getMessage();
        }
      });
      assertThat(error).contains("cannot start a namespace worker");
      assertThat(runner.workersStarted()).isZero();
    }
  }

  private static long whereItRuns(NetnsRunner runner, NetnsRef ref) throws IOException {
    return runner.run(ref, r -> NetNamespace.currentInode());
  }

  static NetnsRef find(List<NetnsRef> refs, TestNamespace ns) throws IOException {
    long ino = ((Number) Files.getAttribute(ns.path(), "unix:ino")).longValue();
    return refs.stream().filter(r -> r.inode() == ino).findFirst().orElseThrow(() -> new AssertionError(ns.name() + " not found in " + refs));
  }
}
