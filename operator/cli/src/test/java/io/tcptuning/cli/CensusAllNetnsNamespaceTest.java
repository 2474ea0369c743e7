package io.tcptuning.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tcptuning.node.NetNamespace;
import io.tcptuning.node.census.TimeWaitLoad;
import io.tcptuning.testing.TestNamespace;
import io.tcptuning.testing.ThreadNamespaces;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code tcptune census --all-netns} and {@code --netns PATH} against real namespaces: a "pod"
 * namespace with a process in it and 300 TIME_WAIT sockets in a 1,000-port range, an idle one,
 * and the node's own. The pod is named through a cgroup file and a /var/log/pods directory
 * (fixtures: the test's process is in no real pod). Run in-process, so that no thread may be left
 * outside home afterwards.
 */
class CensusAllNetnsNamespaceTest {
  private static final String UID = "6f1a2b3c-4d5e-4f70-8192-a3b4c5d6e7f8";
  private static final ObjectMapper JSON = new ObjectMapper();

  private static TestNamespace pod;
  private static TestNamespace idle;
  private static Process podProcess;
  private static long home;

  @TempDir static Path fixtures;

  @BeforeAll
  static void namespaces() throws Exception {
    assumeThat(TestNamespace.canCreate()).as("namespace tests need root").isTrue();
    home = NetNamespace.currentInode();
    pod = TestNamespace.create("allns-pod");
    idle = TestNamespace.create("allns-idle");
    pod.setSysctl("net.ipv4.tcp_tw_reuse", "0");
    pod.setSysctl("net.ipv4.ip_local_port_range", "40000 40999");
    podProcess = pod.builder(List.of("sleep", "600")).start();
    String made = pod.exec(TestNamespace.javaCommand(List.of(), TimeWaitLoad.class, "inet:127.0.0.1:7001=300").toArray(String[]::new)).check().stdout();
    assertThat(made).contains("created 300 failed 0");
    // The "pod": its process's cgroup names the pod UID, kubelet's log directory its name.
    Path proc = fixtures.resolve("proc");
    Files.createDirectories(proc.resolve(Long.toString(podProcess.pid())));
    Files.writeString(proc.resolve(podProcess.pid() + "/cgroup"),
        "0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + UID.replace('-', '_') + ".slice/cri-containerd-0f9e8d7c.scope\n");
    Files.createDirectories(fixtures.resolve("pods/shop_checkout-7d9f8b-x2x4q_" + UID));
    awaitTimeWait(300);
  }

  @AfterAll
  static void cleanUp() throws Exception {
    if (podProcess != null) {
      podProcess.destroy();
      podProcess.waitFor(10, TimeUnit.SECONDS);
    }
    for (TestNamespace ns : new TestNamespace[] {pod, idle}) {
      if (ns != null) {
        ns.close();
      }
    }
    if (home != 0) {
      assertThat(ThreadNamespaces.outside(home)).isEmpty();
    }
  }

  @Test
  void jsonHasOneItemPerNamespaceWithInodePidsPodAndTheCensus() throws Exception {
    Run r = census("--all-netns", "--json", "--top", "5");
    assertThat(r.exit()).as(r.err()).isZero();
    JsonNode json = JSON.readTree(r.out());
    JsonNode items = json.get("namespaces");
    assertThat(items.size()).isEqualTo(json.get("summary").get("namespaces").asInt()).isGreaterThanOrEqualTo(3);
    assertThat(json.get("summary").get("workers").asInt()).as("one per CPU, up to 4")
        .isEqualTo(Math.min(Math.min(Runtime.getRuntime().availableProcessors(), items.size()), 4));

    JsonNode host = items.get(0);
    assertThat(host.get("host").asBoolean()).isTrue();
    assertThat(host.get("inode").asLong()).isEqualTo(statInode("/proc/self/ns/net"));
    assertThat(host.get("pod").isNull()).isTrue();
    assertThat(host.get("timeWait").has("total")).isTrue();

    JsonNode p = item(items, statInode("/proc/" + podProcess.pid() + "/ns/net"));
    assertThat(p.get("host").asBoolean()).isFalse();
    assertThat(p.get("status").asText()).isEqualTo("measured");
    assertThat(p.get("pids")).extracting(JsonNode::asLong).containsExactly(podProcess.pid());
    assertThat(p.get("bindMounts").get(0).asText()).isEqualTo(pod.path().toString());
    assertThat(p.get("pod").get("namespace").asText()).isEqualTo("shop");
    assertThat(p.get("pod").get("name").asText()).isEqualTo("checkout-7d9f8b-x2x4q");
    assertThat(p.get("pod").get("uid").asText()).isEqualTo(UID);
    assertThat(p.get("timeWait").get("total").asLong()).isEqualTo(300);
    assertThat(p.get("timeWait").get("sockstat").asLong()).isEqualTo(300);
    assertThat(p.get("portRange").get("size").asInt()).isEqualTo(1000);
    assertThat(p.get("pressure").asDouble()).isEqualTo(0.3);
    assertThat(p.get("maxDestinationPressure").asDouble()).isEqualTo(0.3);
    assertThat(p.get("destinations").get(0).get("destination").asText()).isEqualTo("127.0.0.1:7001");
    assertThat(p.get("destinations").get(0).get("sockets").asLong()).isEqualTo(300);
    assertThat(p.has("tcpExt")).as("the pass does not read TcpExt counters per namespace").isFalse();

    JsonNode i = item(items, statInode(idle.path().toString()));
    assertThat(i.get("pids").size()).isZero();
    assertThat(i.get("timeWait").get("total").asLong()).isZero();
    assertThat(i.get("portRange").get("size").asInt()).as("a new namespace starts from kernel defaults").isEqualTo(28232);

    // Nothing of the pod's sockets anywhere else.
    for (JsonNode other : items) {
      if (other != p) {
        assertThat(other.get("destinations").findValuesAsText("destination")).doesNotContain("127.0.0.1:7001");
      }
    }
  }

  @Test
  void theTableShowsTheWorstPodFirstAfterTheNode() throws Exception {
    Run r = census("--all-netns");
    assertThat(r.exit()).as(r.err()).isZero();
    List<String> lines = r.out().lines().toList();
    int header = lines.indexOf(lines.stream().filter(l -> l.startsWith("INODE")).findFirst().orElseThrow());
    assertThat(lines.get(header)).contains("PIDS", "POD", "TIME_WAIT", "PORTS", "PRESSURE", "WORST-DEST");
    assertThat(lines.get(header + 1)).contains("(node)");
    // 300 sockets of a 1,000-port range: the worst of the namespaces this test made.
    String podRow = lines.stream().filter(l -> l.contains("shop/checkout-7d9f8b-x2x4q")).findFirst().orElseThrow();
    assertThat(podRow).contains(Long.toString(podProcess.pid())).contains(" 300 ").contains("1,000").contains("0.3000").contains("127.0.0.1:7001");
    assertThat(lines.indexOf(podRow)).isLessThan(lines.indexOf(lines.stream().filter(l -> l.contains("netns " + idle.name())).findFirst().orElseThrow()));
    assertThat(r.out()).doesNotContain("Exception");
  }

  @Test
  void netnsTakesTheCensusInsideThatNamespace() throws Exception {
    for (String path : new String[] {pod.path().toString(), "/proc/" + podProcess.pid() + "/ns/net"}) {
      Run r = census("--netns", path, "--json");
      assertThat(r.exit()).as(r.err()).isZero();
      JsonNode json = JSON.readTree(r.out());
      assertThat(json.get("netns").get("inode").asLong()).isEqualTo(statInode(path));
      assertThat(json.get("netns").get("host").asBoolean()).isFalse();
      assertThat(json.get("timeWait").get("total").asLong()).isEqualTo(300);
      assertThat(json.get("portRange").get("size").asInt()).isEqualTo(1000);
      assertThat(json.get("maxDestinationPressure").asDouble()).isEqualTo(0.3);
    }
    Run table = census("--netns", pod.path().toString(), "--top", "1");
    assertThat(table.out()).contains("Network namespace    " + pod.path()).contains("TIME_WAIT sockets    300").contains("Worst destination    0.3000");
  }

  @Test
  void aNamespaceThatIsGoneIsAFailureNotATrace() throws Exception {
    String path;
    try (TestNamespace gone = TestNamespace.create("allns-gone")) {
      path = gone.path().toString();
    }
    Run r = census("--netns", path);
    assertThat(r.exit()).isEqualTo(Main.EXIT_FAILED);
    assertThat(r.err().strip()).isEqualTo("tcptune census: --netns " + path + ": no such network namespace (no such file)");
  }

  private record Run(int exit, String out, String err) {}

  private static Run census(String... args) {
    var command = new CensusCommand();
    command.podLogs = fixtures.resolve("pods");
    command.cgroupProcRoot = fixtures.resolve("proc");
    CommandLine cmd = new CommandLine(command);
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    cmd.setOut(new PrintWriter(out, true));
    cmd.setErr(new PrintWriter(err, true));
    cmd.setCommandName("tcptune census");
    int exit = cmd.execute(args);
    return new Run(exit, out.toString(), err.toString());
  }

  private static JsonNode item(JsonNode items, long inode) {
    List<Long> seen = new ArrayList<>();
    for (JsonNode i : items) {
      if (i.get("inode").asLong() == inode) {
        return i;
      }
      seen.add(i.get("inode").asLong());
    }
    throw new AssertionError("net:[" + inode + "] not among " + seen);
  }

  private static long statInode(String path) throws IOException, InterruptedException {
    Process p = new ProcessBuilder("stat", "-L", "-c", "%i", path).start();
    String out = new String(p.getInputStream().readAllBytes()).strip();
    assertThat(p.waitFor()).isZero();
    return Long.parseLong(out);
  }

  private static void awaitTimeWait(long expected) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    String seen = "";
    while (System.nanoTime() < deadline) {
      seen = pod.exec("sh", "-c", "ss -Htan state time-wait | wc -l").check().stdout().strip();
      if (seen.equals(Long.toString(expected))) {
        return;
      }
      Thread.sleep(50);
    }
    throw new AssertionError("the pod namespace holds " + seen + " TIME_WAIT sockets, expected " + expected);
  }
}
