package io.tcptuning.node.netns;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import io.tcptuning.testing.TestNamespace;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The scan against the real kernel: a named namespace ({@code ip netns add}) with a process in
 * it, a namespace held only by a bind mount, and one held only by a process ({@code unshare -n}),
 * each found once with the inode {@code stat -L -c %i} prints.
 */
class NetnsScannerNamespaceTest {

  @BeforeAll
  static void root() {
    assumeThat(TestNamespace.canCreate()).as("namespace tests need root").isTrue();
  }

  @Test
  void findsNamedAndProcessHeldNamespacesWithTheirInodesAndPids() throws Exception {
    Process named = null;
    Process unshared = null;
    try (TestNamespace withProcess = TestNamespace.create("scan");
        TestNamespace empty = TestNamespace.create("scan-empty")) {
      named = withProcess.builder(List.of("sleep", "600")).start();
      unshared = new ProcessBuilder("unshare", "-n", "sleep", "600").start();
      long unsharedPid = unshared.pid();
      long host = statInode("/proc/self/ns/net");
      awaitNamespaceOtherThan(unsharedPid, host);
      awaitNamespaceOtherThan(named.pid(), host);

      List<NetnsRef> refs = new NetnsScanner().scan();

      assertThat(refs.getFirst().host()).isTrue();
      assertThat(refs.getFirst().inode()).isEqualTo(host);
      assertThat(refs.getFirst().pids()).contains((int) ProcessHandle.current().pid());
      assertThat(refs).filteredOn(NetnsRef::host).hasSize(1);
      assertThat(refs).extracting(NetnsRef::inode).doesNotHaveDuplicates();

      NetnsRef a = find(refs, statInode(withProcess.path().toString()));
      assertThat(a.inode()).isEqualTo(statInode("/proc/" + named.pid() + "/ns/net"));
      assertThat(a.pids()).containsExactly((int) named.pid());
      // /var/run is a link to /run here: the bind mount is listed once, and it is the way in.
      assertThat(a.bindMounts()).containsExactly(withProcess.path());
      assertThat(a.entry()).isEqualTo(withProcess.path());
      assertThat(a.host()).isFalse();

      NetnsRef b = find(refs, statInode(empty.path().toString()));
      assertThat(b.pids()).isEmpty();
      assertThat(b.entry()).isEqualTo(empty.path());

      NetnsRef c = find(refs, statInode("/proc/" + unsharedPid + "/ns/net"));
      assertThat(c.pids()).containsExactly((int) unsharedPid);
      assertThat(c.bindMounts()).isEmpty();
      assertThat(c.entry()).isEqualTo(Path.of("/proc/" + unsharedPid + "/ns/net"));

      // Once the process is gone, so is its namespace.
      unshared.destroy();
      unshared.waitFor(10, TimeUnit.SECONDS);
      assertThat(new NetnsScanner().scan()).extracting(NetnsRef::inode).doesNotContain(c.inode()).contains(a.inode(), b.inode());
    } finally {
      for (Process p : new Process[] {named, unshared}) {
        if (p != null) {
          p.destroy();
          p.waitFor(10, TimeUnit.SECONDS);
        }
      }
    }
  }

  @Test
  void aScanIsCheap() throws Exception {
    var scanner = new NetnsScanner();
    int processes = 0;
    for (int i = 0; i < 200; i++) {
      processes = scanner.scan().stream().mapToInt(r -> r.pids().size()).sum();
    }
    int rounds = 500;
    long start = System.nanoTime();
    for (int i = 0; i < rounds; i++) {
      scanner.scan();
    }
    double micros = (System.nanoTime() - start) / 1e3 / rounds;
    System.out.printf("NetnsScanner.scan(): %.0f us per scan over %d processes (%.1f us per process)%n", micros, processes, micros / Math.max(1, processes));
    // One readlink per process, ~4-8 us on a 2-core VM (more when it is busy): a bound that only
    // a scan doing real work per process (a stat, an open, a file read) would break.
    assertThat(micros / Math.max(1, processes)).isLessThan(200.0);
  }

  private static NetnsRef find(List<NetnsRef> refs, long inode) {
    return refs.stream().filter(r -> r.inode() == inode).findFirst().orElseThrow(() -> new AssertionError("net:[" + inode + "] not found in " + refs));
  }

  static long statInode(String path) throws IOException, InterruptedException {
    Process p = new ProcessBuilder("stat", "-L", "-c", "%i", path).start();
    String out = new String(p.getInputStream().readAllBytes()).strip();
    assertThat(p.waitFor()).as("stat " + path).isZero();
    return Long.parseLong(out);
  }

  /** unshare and ip netns exec exec their command once the namespace is set up: wait for it. */
  static void awaitNamespaceOtherThan(long pid, long host) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (System.nanoTime() < deadline) {
      try {
        String target = Files.readSymbolicLink(Path.of("/proc/" + pid + "/ns/net")).toString();
        String comm = Files.readString(Path.of("/proc/" + pid + "/comm")).strip();
        if (!target.equals("net:[" + host + "]") && comm.equals("sleep")) {
          return;
        }
      } catch (IOException e) {
        // not there yet
      }
      Thread.sleep(10);
    }
    throw new AssertionError("process " + pid + " never left the host's namespace");
  }
}
