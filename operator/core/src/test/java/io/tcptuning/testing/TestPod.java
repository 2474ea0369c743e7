package io.tcptuning.testing;

import io.tcptuning.node.NetNamespace;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * A stand-in for a pod on this machine: a named network namespace ({@link TestNamespace}) with a
 * process in it ({@code sleep}, as a pod's pause process) that lives in a real cgroup whose path
 * carries the pod's UID the way kubelet's systemd driver names it:
 * {@code /kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod<uid with _>.slice/cri-containerd-<id>.scope}
 * under the cgroup v2 hierarchy. The process is moved into the cgroup before it enters the
 * namespace, so whoever finds the namespace finds the pod UID in {@code /proc/PID/cgroup}.
 *
 * <p>Closing kills the process, removes the cgroups it created (bottom up; shared parents only when
 * empty) and deletes the namespace.
 */
public final class TestPod implements AutoCloseable {
  /** Where the cgroup v2 hierarchy is mounted on this machine (hybrid: v1 controllers elsewhere). */
  public static final Path CGROUP_ROOT = Path.of("/sys/fs/cgroup/unified");
  private static final Path KUBEPODS = CGROUP_ROOT.resolve("kubepods.slice");
  private static final Path BESTEFFORT = KUBEPODS.resolve("kubepods-besteffort.slice");

  private final String uid;
  private final TestNamespace ns;
  private final Path podSlice;
  private final Path scope;
  private final Process process;
  private final long inode;
  private final boolean ownsNamespace;
  private boolean closed;

  private TestPod(String uid, TestNamespace ns, Path podSlice, Path scope, Process process, long inode, boolean ownsNamespace) {
    this.uid = uid;
    this.ns = ns;
    this.podSlice = podSlice;
    this.scope = scope;
    this.process = process;
    this.inode = inode;
    this.ownsNamespace = ownsNamespace;
  }

  /**
   * True when this process can create namespaces and cgroups here (root, and a writable cgroup v2
   * hierarchy at {@link #CGROUP_ROOT}); tests skip otherwise.
   */
  public static boolean canCreate() {
    if (!TestNamespace.canCreate() || !Files.isDirectory(CGROUP_ROOT)) {
      return false;
    }
    Path probe = CGROUP_ROOT.resolve("tcptune-probe-" + UUID.randomUUID());
    try {
      Files.createDirectory(probe);
      Files.delete(probe);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  /** A pod with a fresh UID. */
  public static TestPod start(String prefix) throws IOException, InterruptedException {
    return start(prefix, UUID.randomUUID().toString());
  }

  public static TestPod start(String prefix, String uid) throws IOException, InterruptedException {
    TestNamespace ns = TestNamespace.create(prefix);
    try {
      return start(ns, uid, true);
    } catch (IOException | InterruptedException | RuntimeException e) {
      ns.close();
      throw e;
    }
  }

  /**
   * A pod process in a namespace that already exists and stays when the pod closes (the node's,
   * say: a pod's process that is found in the node's namespace must never make it a pod's).
   */
  public static TestPod joining(TestNamespace ns, String uid) throws IOException, InterruptedException {
    return start(ns, uid, false);
  }

  private static TestPod start(TestNamespace ns, String uid, boolean ownsNamespace) throws IOException, InterruptedException {
    Path podSlice = BESTEFFORT.resolve("kubepods-besteffort-pod" + uid.replace('-', '_') + ".slice");
    String containerId = UUID.randomUUID().toString().replace("-", "") + UUID.randomUUID().toString().replace("-", "");
    Path scope = podSlice.resolve("cri-containerd-" + containerId + ".scope");
    Process p = null;
    try {
      Files.createDirectories(scope);
      long inode = ((Number) Files.getAttribute(ns.path(), "unix:ino")).longValue();
      // Into the cgroup first, then into the namespace: the process is never seen in one without the other.
      p = new ProcessBuilder("sh", "-c", "echo $$ > \"$1/cgroup.procs\" && exec ip netns exec \"$2\" sleep 600", "sh",
          scope.toString(), ns.name()).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
      Path link = Path.of("/proc", Long.toString(p.pid()), "ns", "net");
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (true) {
        if (!p.isAlive()) {
          throw new IOException("the pod process exited at once (cgroup " + scope + ", netns " + ns.name() + ")");
        }
        try {
          if (NetNamespace.linkInode(link) == inode) {
            break;
          }
        } catch (IOException e) {
          // not there yet
        }
        if (System.nanoTime() > deadline) {
          throw new IOException("the pod process did not enter netns " + ns.name());
        }
        Thread.sleep(5);
      }
      String cgroup = Files.readString(Path.of("/proc", Long.toString(p.pid()), "cgroup"));
      if (!cgroup.contains(scope.getFileName().toString())) {
        throw new IOException("the pod process is not in its cgroup: " + cgroup.strip());
      }
      return new TestPod(uid, ns, podSlice, scope, p, inode, ownsNamespace);
    } catch (IOException | InterruptedException | RuntimeException e) {
      cleanUp(p, scope, podSlice);
      throw e;
    }
  }

  public String uid() {
    return uid;
  }

  public TestNamespace namespace() {
    return ns;
  }

  /** The pod's process (its "pause"). */
  public long pid() {
    return process.pid();
  }

  /** The network namespace's inode. */
  public long inode() {
    return inode;
  }

  public Path scope() {
    return scope;
  }

  /**
   * Leaves {@code n} TIME_WAIT sockets in the pod's namespace: short connections to a listener
   * on its loopback, each closed by the client first (so TIME_WAIT lands on the client side, as
   * with real clients). They last the kernel's 60 s.
   */
  public void timeWait(int n) throws Exception {
    ns.inside(() -> {
      java.net.InetAddress lo = java.net.InetAddress.getLoopbackAddress();
      try (java.net.ServerSocket server = new java.net.ServerSocket(0, 512, lo)) {
        for (int i = 0; i < n; i++) {
          try (java.net.Socket c = new java.net.Socket()) {
            c.connect(new java.net.InetSocketAddress(lo, server.getLocalPort()));
            try (java.net.Socket accepted = server.accept()) {
              c.close();
              accepted.getInputStream().read(); // sees the client's FIN, then closes second
            }
          }
        }
      }
      return null;
    });
  }

  /** Ends the pod: the process is killed, its cgroups and its namespace removed. */
  @Override
  public void close() throws IOException {
    if (closed) {
      return;
    }
    closed = true;
    try {
      cleanUp(process, scope, podSlice);
    } finally {
      if (ownsNamespace) {
        ns.close();
      }
    }
  }

  private static void cleanUp(Process p, Path scope, Path podSlice) throws IOException {
    if (p != null) {
      p.destroyForcibly();
      try {
        p.waitFor(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    // A cgroup can be removed once its last process has gone; the kernel may need a moment.
    for (Path dir : List.of(scope, podSlice, BESTEFFORT, KUBEPODS)) {
      rmdir(dir, dir == scope || dir == podSlice);
    }
  }

  private static void rmdir(Path dir, boolean ours) throws IOException {
    for (int attempt = 0; attempt < 50; attempt++) {
      try {
        Files.deleteIfExists(dir);
        return;
      } catch (java.nio.file.DirectoryNotEmptyException e) {
        return; // shared parent still holding other pods' cgroups
      } catch (java.nio.file.FileSystemException e) {
        if (!ours) {
          return; // busy: another test's pod lives there
        }
        try {
          Thread.sleep(20);
        } catch (InterruptedException ie) {
          Thread.currentThread().interrupt();
          throw e;
        }
      }
    }
    throw new IOException("cannot remove cgroup " + dir);
  }

  @Override
  public String toString() {
    return "TestPod{uid=" + uid.toLowerCase(Locale.ROOT) + ", netns=" + ns.name() + ", pid=" + process.pid() + "}";
  }
}
