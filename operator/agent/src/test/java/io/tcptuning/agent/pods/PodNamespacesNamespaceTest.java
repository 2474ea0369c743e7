package io.tcptuning.agent.pods;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.LabelSelectorBuilder;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.tcptuning.api.v1alpha1.Mode;
import io.tcptuning.api.v1alpha1.PodPressure;
import io.tcptuning.api.v1alpha1.PodRefusal;
import io.tcptuning.api.v1alpha1.SysctlSettings;
import io.tcptuning.api.v1alpha1.TcpTuningPolicySpec;
import io.tcptuning.domain.KernelVersion;
import io.tcptuning.domain.NatVerdict;
import io.tcptuning.domain.Sysctl;
import io.tcptuning.domain.TuningPlanner;
import io.tcptuning.node.KernelRelease;
import io.tcptuning.node.NetNamespace;
import io.tcptuning.node.netns.NetnsScanner;
import io.tcptuning.testing.JournalFiles;
import io.tcptuning.testing.MockApiServer;
import io.tcptuning.testing.TestNamespace;
import io.tcptuning.testing.TestPod;
import io.tcptuning.testing.ThreadNamespaces;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The pod loop in-process against the real kernel and fabric8's mock API server: "pods" are
 * named network namespaces with a process in a real cgroup carrying the pod's UID ({@link
 * TestPod}), the "node" a namespace of its own that a kernel thread lives in, as the agent's does.
 * Neither the node's namespace nor the host's may change.
 */
@Timeout(180)
class PodNamespacesNamespaceTest {
  static final String NODE = "pod-node";
  static final String POLICY = "client-pods";

  @TempDir Path stateDir;
  MockApiServer api;
  KubernetesClient client;
  TestNamespace node;
  ExecutorService kernel;
  NodePods nodePods;
  PodNamespaces loop;
  final List<TestPod> pods = new ArrayList<>();
  Map<Sysctl, String> hostBefore;
  Map<Sysctl, String> nodeBefore;

  @BeforeEach
  void setUp() throws Exception {
    assumeTrue(TestPod.canCreate(), "needs root and a writable cgroup v2 hierarchy at " + TestPod.CGROUP_ROOT);
    java.util.logging.Logger.getLogger("io.fabric8.mockwebserver").setLevel(java.util.logging.Level.WARNING);
    hostBefore = TestNamespace.hostSysctls();
    api = new MockApiServer();
    client = api.newClient();
    node = TestNamespace.create("podnode");
    node.setSysctl("net.ipv4.tcp_tw_reuse", "0");
    nodeBefore = node.sysctls();
    kernel = Executors.newSingleThreadExecutor(r -> Thread.ofPlatform().name("kernel").unstarted(() -> {
      try {
        NetNamespace.enter(node.path());
      } catch (IOException e) {
        throw new IllegalStateException(e);
      }
      r.run();
    }));
  }

  @AfterEach
  void tearDown() throws Exception {
    try {
      if (loop != null) {
        onKernel(() -> {
          loop.close();
          return null;
        });
      }
      if (nodePods != null) {
        nodePods.close();
      }
      for (TestPod p : pods) {
        p.close();
      }
      if (kernel != null) {
        kernel.shutdownNow();
      }
      if (node != null) {
        assertThat(node.sysctls()).as("the node's namespace is never written by the pod path").isEqualTo(nodeBefore);
        node.close();
      }
      if (client != null) {
        client.close();
        api.close();
      }
    } finally {
      if (hostBefore != null) {
        assertThat(TestNamespace.hostSysctls()).as("the host's namespace is untouched").isEqualTo(hostBefore);
      }
    }
  }

  <T> T onKernel(Callable<T> work) throws Exception {
    return kernel.submit(work).get(60, TimeUnit.SECONDS);
  }

  static TcpTuningPolicySpec spec(Mode mode) {
    SysctlSettings s = new SysctlSettings();
    s.setTcpTwReuse(1);
    s.setIpLocalPortRange("10240 65535");
    TcpTuningPolicySpec spec = new TcpTuningPolicySpec();
    spec.setSysctls(s);
    spec.setMode(mode);
    spec.setPodSelector(new LabelSelectorBuilder().withMatchLabels(Map.of("role", "client")).build());
    return spec;
  }

  TestPod pod(String name, Map<String, String> labels, String declaredSysctl) throws Exception {
    return pod(name, labels, declaredSysctl, NODE);
  }

  /** The pod in the API first (the API server gives it its UID), then its sandbox: as kubelet does. */
  TestPod pod(String name, Map<String, String> labels, String declaredSysctl, String nodeName) throws Exception {
    PodBuilder b = new PodBuilder().withNewMetadata().withName(name).withNamespace("apps").withLabels(labels).endMetadata()
        .withNewSpec().withNodeName(nodeName).endSpec();
    if (declaredSysctl != null) {
      b.editSpec().withNewSecurityContext().addNewSysctl(declaredSysctl.split("=")[0], declaredSysctl.split("=")[1]).endSecurityContext().endSpec();
    }
    Pod created = client.pods().inNamespace("apps").resource(b.build()).create();
    TestPod p = TestPod.start("pod-" + name, created.getMetadata().getUid());
    pods.add(p);
    p.namespace().setSysctl("net.ipv4.tcp_tw_reuse", "0");
    return p;
  }

  PodNamespaces start(Mode mode) throws Exception {
    return start(spec(mode));
  }

  PodNamespaces start(TcpTuningPolicySpec spec) throws Exception {
    nodePods = new NodePods(NODE, spec.getNamespaceSelector() != null, () -> {});
    nodePods.start(() -> client);
    await().atMost(Duration.ofSeconds(20)).until(nodePods::synced);
    KernelVersion kernelVersion = KernelRelease.read();
    loop = onKernel(() -> new PodNamespaces(POLICY, NODE, spec, TuningPlanner.desired(spec.getSysctls()),
        new PodNamespaces.NodeFacts(kernelVersion, new NatVerdict(true, List.of("test"))), nodePods, new PodJournals(stateDir),
        new NetnsScanner(), true));
    return loop;
  }

  /** Stops the loop and its informers, as an agent that exits; {@link #start} makes new ones. */
  void stop() throws Exception {
    onKernel(() -> {
      loop.close();
      return null;
    });
    nodePods.close();
  }

  /** The policy is deleted: the loop gives every tuned pod back. */
  void letGo() throws Exception {
    onKernel(() -> {
      loop.letGo("policy deleted");
      return null;
    });
  }

  PodNamespaces.Report census() throws Exception {
    return onKernel(() -> loop.census(true));
  }

  void rescan() throws Exception {
    onKernel(() -> {
      loop.rescan();
      return null;
    });
  }

  Path journalOf(TestPod p) {
    return stateDir.resolve("pods").resolve(p.uid() + "_" + p.inode()).resolve("originals-netns-" + p.inode() + ".journal");
  }

  @Test
  void tunesSelectedPodsLeavesOthersAndWhatPodsDeclareMeasuresThemAllAndGivesBack() throws Exception {
    TestPod client1 = pod("client-1", Map.of("role", "client"), null);
    TestPod server = pod("server-1", Map.of("role", "server"), null);
    TestPod own = pod("client-own-range", Map.of("role", "client"), "net.ipv4.ip_local_port_range=20000 30000");
    own.namespace().setSysctl("net.ipv4.ip_local_port_range", "20000 30000");
    // The API says this one runs on another node: not this agent's, whatever its labels.
    TestPod elsewhere = pod("client-elsewhere", Map.of("role", "client"), null, "other-node");
    String serverRange = server.namespace().sysctl("net.ipv4.ip_local_port_range");
    client1.timeWait(60);
    start(Mode.Enforce);

    PodNamespaces.Report r = census();

    assertThat(client1.namespace().sysctl("net.ipv4.tcp_tw_reuse")).isEqualTo("1");
    assertThat(client1.namespace().sysctl("net.ipv4.ip_local_port_range")).isEqualTo("10240 65535");
    assertThat(server.namespace().sysctl("net.ipv4.tcp_tw_reuse")).as("not selected: untouched").isEqualTo("0");
    assertThat(elsewhere.namespace().sysctl("net.ipv4.tcp_tw_reuse")).as("another node's pod: untouched").isEqualTo("0");
    assertThat(server.namespace().sysctl("net.ipv4.ip_local_port_range")).isEqualTo(serverRange);
    assertThat(own.namespace().sysctl("net.ipv4.tcp_tw_reuse")).isEqualTo("1");
    assertThat(own.namespace().sysctl("net.ipv4.ip_local_port_range")).as("the pod's own choice").isEqualTo("20000 30000");
    assertThat(r.counts()).isEqualTo(new io.tcptuning.api.v1alpha1.PodCounts(2, 2, 1, 0));
    assertThat(r.refusals()).containsExactly(new PodRefusal("apps/client-own-range", "net.ipv4.ip_local_port_range",
        PodNamespaces.POD_DECLARES_SYSCTL, "the pod sets net.ipv4.ip_local_port_range itself in securityContext.sysctls; left as the pod has it"));
    assertThat(r.namespaces()).isGreaterThanOrEqualTo(4);
    PodPressure worst = r.worst();
    assertThat(worst.getPod()).isEqualTo("apps/client-1");
    assertThat(worst.getTimeWait()).isGreaterThanOrEqualTo(60);
    assertThat(worst.getNetnsInode()).isEqualTo(client1.inode());
    assertThat(worst.getPortRangeSize()).isEqualTo(65535 - 10240 + 1);
    assertThat(r.top()).extracting(PodPressure::getPod).containsExactly("apps/client-1");
    assertThat(journalOf(client1)).exists();
    assertThat(Files.readString(journalOf(client1))).contains("sysctl net.ipv4.tcp_tw_reuse=0");
    assertThat(journalOf(server)).doesNotExist();
    assertThat(ThreadNamespaces.outside(((Number) Files.getAttribute(node.path(), "unix:ino")).longValue()).values()).as("no thread left in a pod's namespace")
        .doesNotContain(client1.inode(), server.inode(), own.inode());

    // Drift in a pod is put back at the next census.
    client1.namespace().setSysctl("net.ipv4.tcp_tw_reuse", "2");
    census();
    assertThat(client1.namespace().sysctl("net.ipv4.tcp_tw_reuse")).isEqualTo("1");

    // A new selected pod is tuned by the next rescan.
    TestPod client2 = pod("client-2", Map.of("role", "client"), null);
    await().atMost(Duration.ofSeconds(5)).until(() -> nodePods.pod(client2.uid()).isPresent());
    assertThat(onKernel(loop::waitingForPods)).as("a selected pod whose namespace is not found yet: scan every second").isTrue();
    rescan();
    assertThat(onKernel(loop::waitingForPods)).as("all found: no more scans every second").isFalse();
    assertThat(client2.namespace().sysctl("net.ipv4.tcp_tw_reuse")).isEqualTo("1");

    // Deselected while alive: given back to its originals, journal gone.
    Pod p = client.pods().inNamespace("apps").withName("client-2").get();
    p.getMetadata().setLabels(Map.of("role", "batch"));
    client.pods().inNamespace("apps").resource(p).update();
    await().atMost(Duration.ofSeconds(5)).until(() -> !nodePods.pod(client2.uid()).orElseThrow().labels().containsValue("client"));
    rescan();
    assertThat(client2.namespace().sysctl("net.ipv4.tcp_tw_reuse")).isEqualTo("0");
    assertThat(journalOf(client2)).doesNotExist();

    // A pod whose namespace goes away takes its journal with it.
    Path ownJournal = journalOf(own);
    assertThat(ownJournal).exists();
    own.close();
    rescan();
    assertThat(ownJournal).doesNotExist();
    assertThat(ownJournal.getParent()).doesNotExist();

    // The policy lets go: every tuned pod is given back.
    letGo();
    assertThat(client1.namespace().sysctl("net.ipv4.tcp_tw_reuse")).isEqualTo("0");
    assertThat(client1.namespace().sysctl("net.ipv4.ip_local_port_range")).isEqualTo("32768 60999");
    assertThat(stateDir.resolve("pods")).isEmptyDirectory();
  }

  @Test
  void dryRunPlansAndWritesNothing() throws Exception {
    TestPod c = pod("client-dry", Map.of("role", "client"), null);
    start(Mode.DryRun);
    PodNamespaces.Report r = census();
    assertThat(c.namespace().sysctl("net.ipv4.tcp_tw_reuse")).isEqualTo("0");
    assertThat(r.counts()).isEqualTo(new io.tcptuning.api.v1alpha1.PodCounts(1, 1, 0, 0));
    assertThat(journalOf(c)).doesNotExist();
  }

  @Test
  void atStartJournalsOfPodsThatAreGoneAreDroppedAndLiveOnesKept() throws Exception {
    TestPod live = pod("client-live", Map.of("role", "client"), null);
    Path stale = stateDir.resolve("pods").resolve("0b7c7a9e-1111-4c2a-9d3e-123456789abc_4026599999");
    Files.createDirectories(stale);
    Files.writeString(stale.resolve("originals.journal"), "left by a pod that went away while the agent was down\n");
    // A live pod's journal under a reused inode but another pod's UID: not this namespace's.
    Path wrongUid = stateDir.resolve("pods").resolve("0b7c7a9e-2222-4c2a-9d3e-123456789abc_" + live.inode());
    Files.createDirectories(wrongUid);
    Files.writeString(wrongUid.resolve("originals.journal"), "x\n");
    start(Mode.Enforce);
    onKernel(() -> {
      loop.dropStaleJournals();
      return null;
    });
    assertThat(stale).doesNotExist();
    assertThat(wrongUid).doesNotExist();
    census();
    assertThat(journalOf(live)).exists();
    assertThat(live.namespace().sysctl("net.ipv4.tcp_tw_reuse")).isEqualTo("1");
  }

  @Test
  void aJournalWrittenForAnEarlierNamespaceUnderTheSameInodeIsNeverRestoredIntoThisOne() throws Exception {
    TestPod c = pod("client-recreated", Map.of("role", "client"), null);
    start(Mode.Enforce);
    census();
    Path journal = journalOf(c);
    assertThat(Files.readString(journal)).as("the journal records who the namespace is").contains("netns " + c.inode() + " ");
    // As if the pod's sandbox had been recreated under the same inode while the agent was down:
    // the journal on record names another namespace (another cookie) with other originals.
    stop();
    JournalFiles.rewrite(journal, l -> l.startsWith("sysctl net.ipv4.tcp_tw_reuse=") ? "sysctl net.ipv4.tcp_tw_reuse=2" : otherCookie(l));
    c.namespace().setSysctl("net.ipv4.tcp_tw_reuse", "0"); // the new namespace's own value
    start(Mode.Enforce);

    census(); // the new agent tunes it, from this namespace's own originals
    assertThat(c.namespace().sysctl("net.ipv4.tcp_tw_reuse")).isEqualTo("1");
    assertThat(Files.readString(journal)).contains("sysctl net.ipv4.tcp_tw_reuse=0").doesNotContain("netns " + c.inode() + " 1 ");
    letGo();
    assertThat(c.namespace().sysctl("net.ipv4.tcp_tw_reuse")).as("this namespace's original, not the earlier one's").isEqualTo("0");

    // A journal that names another namespace when the policy lets go: nothing restored from it.
    stop();
    start(Mode.Enforce);
    census();
    JournalFiles.rewrite(journal, PodNamespacesNamespaceTest::otherCookie);
    letGo();
    assertThat(c.namespace().sysctl("net.ipv4.tcp_tw_reuse")).as("left as it is").isEqualTo("1");
    assertThat(journal.getParent()).doesNotExist();
  }

  /** A journal's {@code netns} line naming the same inode with cookie 1: another namespace. */
  static String otherCookie(String line) {
    return line.startsWith("netns ") ? line.replaceFirst("^netns (\\d+) (\\d+) ", "netns $1 1 ") : line;
  }

  @Test
  void aJournalFromBeforeNamespaceIdentitiesIsStillRestored() throws Exception {
    TestPod c = pod("client-legacy", Map.of("role", "client"), null);
    // Written by the previous version: originals.journal, no netns line (format 2).
    Path dir = Files.createDirectories(stateDir.resolve("pods").resolve(c.uid() + "_" + c.inode()));
    String legacy = "tcptune-originals 2\nowner " + POLICY + "\nsysctl net.ipv4.tcp_tw_reuse=0\napplied net.ipv4.tcp_tw_reuse=1\n";
    JournalFiles.write(dir.resolve("originals.journal"), legacy);
    c.namespace().setSysctl("net.ipv4.tcp_tw_reuse", "1");
    start(Mode.Enforce);
    census();
    assertThat(dir.resolve("originals-netns-" + c.inode() + ".journal")).doesNotExist();
    letGo();
    assertThat(c.namespace().sysctl("net.ipv4.tcp_tw_reuse")).isEqualTo("0");
    assertThat(dir).doesNotExist();
  }

  @Test
  void namespaceSelectorNeedsTheNamespaceLabels() throws Exception {
    client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName("apps").withLabels(Map.of("tier", "edge")).endMetadata().build()).create();
    TestPod c = pod("in-edge", Map.of("role", "client"), null);
    TcpTuningPolicySpec spec = spec(Mode.Enforce);
    spec.setNamespaceSelector(new LabelSelectorBuilder().withMatchLabels(Map.of("tier", "edge")).build());
    start(spec);
    census();
    assertThat(c.namespace().sysctl("net.ipv4.tcp_tw_reuse")).isEqualTo("1");
    var ns = client.namespaces().withName("apps").get();
    ns.getMetadata().setLabels(Map.of("tier", "core"));
    client.namespaces().resource(ns).update();
    await().atMost(Duration.ofSeconds(5)).until(() -> Map.of("tier", "core").equals(nodePods.namespaceLabels("apps")));
    rescan();
    assertThat(c.namespace().sysctl("net.ipv4.tcp_tw_reuse")).as("namespace deselected: given back").isEqualTo("0");
  }

  @Test
  void aSelectedPodWhoseProcessIsFoundInTheNodesNamespaceNeverMakesItAPodsNamespace() throws Exception {
    // As if a hostNetwork pod were not marked so: its process, in a pod cgroup, lives in the node's namespace.
    Pod created = client.pods().inNamespace("apps").resource(new PodBuilder().withNewMetadata().withName("looks-like-a-client")
        .withNamespace("apps").withLabels(Map.of("role", "client")).endMetadata().withNewSpec().withNodeName(NODE).endSpec().build()).create();
    TestPod inNode = TestPod.joining(node, created.getMetadata().getUid());
    pods.add(inNode);
    start(Mode.Enforce);
    PodNamespaces.Report r = census();
    assertThat(r.counts()).isEqualTo(new io.tcptuning.api.v1alpha1.PodCounts(0, 0, 0, 0));
    assertThat(onKernel(loop::waitingForPods)).as("its namespace is never taken for the pod's").isTrue();
    assertThat(node.sysctl("net.ipv4.tcp_tw_reuse")).isEqualTo("0");
    assertThat(stateDir.resolve("pods")).doesNotExist();
  }
}
