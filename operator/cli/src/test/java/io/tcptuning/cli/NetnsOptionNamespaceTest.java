package io.tcptuning.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tcptuning.domain.Sysctl;
import io.tcptuning.node.NetNamespace;
import io.tcptuning.testing.TestNamespace;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code plan}, {@code apply} and {@code revert} with {@code --netns}, run from the host's
 * namespace against named namespaces standing in for pods: each namespace has a journal of its
 * own, reverting one leaves the others tuned, a namespace that went away (or whose name now
 * holds another namespace) is said and its journal kept, and the host's sysctls never move.
 */
class NetnsOptionNamespaceTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String CHURN =
      "apiVersion: tcptuning.io/v1alpha1\nkind: TcpTuningPolicy\nmetadata:\n  name: churn\nspec:\n  sysctls:\n"
          + "    tcpTwReuse: 1\n    ipLocalPortRange: \"10240 65535\"\n    tcpFinTimeout: 30\n";

  @TempDir Path tmp;
  Path stateDir;
  Path policy;
  Map<Sysctl, String> hostBefore;
  final List<TestNamespace> namespaces = new ArrayList<>();

  @BeforeEach
  void setUp() throws Exception {
    assumeTrue(TestNamespace.canCreate(), "needs root for ip netns");
    hostBefore = TestNamespace.hostSysctls();
    stateDir = tmp.resolve("state");
    policy = tmp.resolve("churn.yaml");
    Files.writeString(policy, CHURN);
  }

  @AfterEach
  void tearDown() throws Exception {
    for (TestNamespace ns : namespaces) {
      ns.close();
    }
    if (hostBefore != null) {
      assertThat(TestNamespace.hostSysctls()).as("host namespace sysctls").isEqualTo(hostBefore);
    }
  }

  private TestNamespace namespace(String prefix, String reuse, String range) throws Exception {
    TestNamespace ns = TestNamespace.create(prefix);
    namespaces.add(ns);
    ns.setSysctl("net.ipv4.tcp_tw_reuse", reuse);
    ns.setSysctl("net.ipv4.ip_local_port_range", range);
    return ns;
  }

  record Run(int exit, String out, String err) {
    @Override
    public String toString() {
      return "exit " + exit + "\n--- stdout\n" + out + "--- stderr\n" + err;
    }
  }

  /** The command in this JVM, in the host's namespace: only --netns takes it elsewhere. */
  private static Run cli(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    var cmd = Main.commandLine();
    cmd.setOut(new PrintWriter(out, true));
    cmd.setErr(new PrintWriter(err, true));
    int exit = cmd.execute(args);
    return new Run(exit, out.toString(), err.toString());
  }

  @Test
  void applyInTwoNamespacesThenRevertingOneLeavesTheOtherTunedAndTheHostUntouched() throws Exception {
    TestNamespace a = namespace("netns-a", "0", "40000 40999");
    TestNamespace b = namespace("netns-b", "2", "30000 50999");
    Map<Sysctl, String> startA = a.sysctls();
    Map<Sysctl, String> startB = b.sysctls();
    long inodeA = NetNamespace.inode(a.path());
    long inodeB = NetNamespace.inode(b.path());

    // plan reads the namespace it is pointed at, not the host.
    Run plan = cli("plan", "-f", policy.toString(), "--netns", a.path().toString(), "--json");
    assertThat(plan.exit()).as(plan.toString()).isZero();
    JsonNode planned = JSON.readTree(plan.out());
    assertThat(planned.get("netns").get("inode").asLong()).isEqualTo(inodeA);
    assertThat(planned.get("sysctls").get(0).get("current").asText()).isEqualTo("0");
    assertThat(planned.get("sysctls").get(1).get("current").asText()).isEqualTo("40000 40999");

    Run applyA = cli("apply", "-f", policy.toString(), "--state-dir=" + stateDir, "--netns", a.path().toString());
    Run applyB = cli("apply", "-f", policy.toString(), "--state-dir=" + stateDir, "--netns", b.path().toString());

    assertThat(applyA.exit()).as(applyA.toString()).isZero();
    assertThat(applyB.exit()).as(applyB.toString()).isZero();
    assertThat(applyA.out()).startsWith("network namespace net:[" + inodeA + "] (" + a.path() + ")\n")
        .contains("policy=churn applied net.ipv4.tcp_tw_reuse 0->1", "these values last as long as the namespace");
    assertThat(applyB.out()).contains("policy=churn applied net.ipv4.tcp_tw_reuse 2->1");
    Map<Sysctl, String> tuned = Map.of(Sysctl.TCP_TW_REUSE, "1", Sysctl.IP_LOCAL_PORT_RANGE, "10240 65535", Sysctl.TCP_FIN_TIMEOUT, "30");
    assertThat(a.sysctls()).containsAllEntriesOf(tuned);
    assertThat(b.sysctls()).containsAllEntriesOf(tuned);
    assertThat(TestNamespace.hostSysctls()).isEqualTo(hostBefore);
    // One journal per namespace, keyed by inode, recording who the namespace is; none for the host.
    Path journalA = stateDir.resolve("originals-netns-" + inodeA + ".journal");
    Path journalB = stateDir.resolve("originals-netns-" + inodeB + ".journal");
    assertThat(Files.readString(journalA)).contains("\nnetns " + inodeA + " ", " " + a.path() + "\n", "sysctl net.ipv4.tcp_tw_reuse=0\n");
    assertThat(Files.readString(journalB)).contains("\nnetns " + inodeB + " ", "sysctl net.ipv4.tcp_tw_reuse=2\n");
    assertThat(stateDir.resolve("originals.journal")).doesNotExist();
    byte[] journalBBytes = Files.readAllBytes(journalB);

    Run revertA = cli("revert", "--state-dir=" + stateDir, "--netns", a.path().toString());

    assertThat(revertA.exit()).as(revertA.toString()).isZero();
    assertThat(revertA.out()).contains("policy=churn restored net.ipv4.tcp_tw_reuse 1->0");
    assertThat(a.sysctls()).isEqualTo(startA);
    assertThat(b.sysctls()).containsAllEntriesOf(tuned);
    assertThat(journalA).doesNotExist();
    assertThat(Files.readAllBytes(journalB)).isEqualTo(journalBBytes);
    assertThat(TestNamespace.hostSysctls()).isEqualTo(hostBefore);

    // A revert of the host's own namespace has nothing to do, and says which namespaces still have journals.
    Run host = cli("revert", "--state-dir=" + stateDir);
    assertThat(host.exit()).as(host.toString()).isZero();
    assertThat(host.out()).contains("no journal at " + stateDir.resolve("originals.journal"),
        "journals of other network namespaces are left as they are", "net:[" + inodeB + "] (" + b.path() + ")");
    assertThat(b.sysctls()).containsAllEntriesOf(tuned);

    // The same namespace reached through a process in it is the same namespace, with the same journal.
    Process sleeper = b.builder(List.of("sleep", "60")).start();
    try {
      Run revertB = cli("revert", "--state-dir=" + stateDir, "--netns", "/proc/" + sleeper.pid() + "/ns/net", "--json");
      assertThat(revertB.exit()).as(revertB.toString()).isZero();
      assertThat(JSON.readTree(revertB.out()).get("result").asText()).isEqualTo("Reverted");
    } finally {
      sleeper.destroyForcibly().waitFor();
    }
    assertThat(b.sysctls()).isEqualTo(startB);
    assertThat(journalB).doesNotExist();
    assertThat(TestNamespace.hostSysctls()).isEqualTo(hostBefore);
  }

  @Test
  void aHandChangeInOneNamespaceIsLeftAloneUnlessForced() throws Exception {
    TestNamespace a = namespace("netns-hand", "0", "40000 40999");
    Map<Sysctl, String> start = a.sysctls();
    assertThat(cli("apply", "-f", policy.toString(), "--state-dir=" + stateDir, "--netns", a.path().toString()).exit()).isZero();
    a.setSysctl("net.ipv4.tcp_fin_timeout", "50");

    Run r = cli("revert", "--state-dir=" + stateDir, "--netns", a.path().toString());

    assertThat(r.exit()).as(r.toString()).isEqualTo(Main.EXIT_CHANGED_BY_HAND);
    assertThat(r.out()).contains("left net.ipv4.tcp_fin_timeout as it is: changed by hand since apply: applied 30, now 50 (original 60)");
    assertThat(a.sysctl("net.ipv4.tcp_fin_timeout")).isEqualTo("50");
    assertThat(a.sysctl("net.ipv4.tcp_tw_reuse")).isEqualTo("0");

    Run forced = cli("revert", "--state-dir=" + stateDir, "--netns", a.path().toString(), "--force");
    assertThat(forced.exit()).as(forced.toString()).isZero();
    assertThat(a.sysctls()).isEqualTo(start);
  }

  @Test
  void aNamespaceThatWentAwayOrWasReplacedIsSaidItsJournalKeptAndNothingWritten() throws Exception {
    TestNamespace a = namespace("netns-gone", "0", "40000 40999");
    String name = a.name();
    Path path = a.path();
    assertThat(cli("apply", "-f", policy.toString(), "--state-dir=" + stateDir, "--netns", path.toString()).exit()).isZero();
    Path journal;
    try (var files = Files.list(stateDir)) {
      journal = files.filter(p -> p.getFileName().toString().startsWith("originals-netns-")).findFirst().orElseThrow();
    }
    byte[] journalBytes = Files.readAllBytes(journal);

    // Gone: nothing at the path any more.
    a.close();
    namespaces.remove(a);
    Run gone = cli("revert", "--state-dir=" + stateDir, "--netns", path.toString());
    assertThat(gone.exit()).as(gone.toString()).isEqualTo(Main.EXIT_FAILED);
    assertThat(gone.err()).contains("the journal " + journal, "nothing is at " + path + " any more", "gone or was replaced",
        "Nothing reverted; the journal is kept");
    assertThat(Files.readAllBytes(journal)).isEqualTo(journalBytes);

    // Replaced: a new namespace under the same name, from kernel defaults. The kernel may even give
    // it the old inode (it reuses them); either way it is not the journal's namespace.
    Thread.sleep(1500);
    TestNamespace again = TestNamespace.createNamed(name);
    namespaces.add(again);
    Map<Sysctl, String> fresh = again.sysctls();
    boolean sameInode = journal.getFileName().toString().equals("originals-netns-" + NetNamespace.inode(path) + ".journal");
    Run replaced = cli("revert", "--state-dir=" + stateDir, "--netns", path.toString());
    Run reapplied = cli("apply", "-f", policy.toString(), "--state-dir=" + stateDir, "--netns", path.toString());

    assertThat(replaced.exit()).as(replaced.toString()).isEqualTo(Main.EXIT_FAILED);
    assertThat(replaced.err()).contains(journal.toString(), "gone or was replaced");
    assertThat(Files.readAllBytes(journal)).isEqualTo(journalBytes);
    if (sameInode) {
      // Its stale journal is in the way: apply refuses rather than take another namespace's originals.
      assertThat(reapplied.exit()).as(reapplied.toString()).isEqualTo(Main.EXIT_FAILED);
      assertThat(reapplied.err()).contains("gone or was replaced");
      assertThat(again.sysctls()).isEqualTo(fresh);
    } else {
      assertThat(reapplied.exit()).as(reapplied.toString()).isZero();
      assertThat(again.sysctl("net.ipv4.tcp_tw_reuse")).isEqualTo("1");
      Run revert = cli("revert", "--state-dir=" + stateDir, "--netns", path.toString());
      assertThat(revert.exit()).as(revert.toString()).isZero();
      assertThat(again.sysctls()).isEqualTo(fresh);
    }
    System.out.printf("netns: the re-created namespace %s the old inode%n", sameInode ? "got" : "did not get");
    assertThat(Files.readAllBytes(journal)).isEqualTo(journalBytes);
  }

  @Test
  void aPathThatNowHoldsAnotherNamespaceIsSaidAndTheNewNamespaceCanStillBeTunedAndReverted() throws Exception {
    TestNamespace a = namespace("netns-old", "0", "40000 40999");
    TestNamespace b = namespace("netns-new", "2", "30000 50999");
    Map<Sysctl, String> startB = b.sysctls();
    Path path = a.path();
    // A process keeps the first namespace alive, so its inode cannot go to anyone else.
    Process holder = a.builder(List.of("sleep", "120")).start();
    try {
      assertThat(cli("apply", "-f", policy.toString(), "--state-dir=" + stateDir, "--netns", path.toString()).exit()).isZero();
      Path journalA = stateDir.resolve("originals-netns-" + NetNamespace.inode(path) + ".journal");
      byte[] journalABytes = Files.readAllBytes(journalA);
      // The name now holds the second namespace: unmount the first, bind the second in its place.
      TestNamespace.runChecked(List.of("umount", path.toString()));
      TestNamespace.runChecked(List.of("mount", "--bind", b.path().toString(), path.toString()));
      try {
        long inodeB = NetNamespace.inode(b.path());
        assertThat(NetNamespace.inode(path)).isEqualTo(inodeB);

        Run replaced = cli("revert", "--state-dir=" + stateDir, "--netns", path.toString());
        assertThat(replaced.exit()).as(replaced.toString()).isEqualTo(Main.EXIT_FAILED);
        assertThat(replaced.err()).contains("the journal " + journalA, path + " is net:[" + inodeB + "] now, another namespace",
            "gone or was replaced");
        assertThat(b.sysctls()).isEqualTo(startB);

        // The namespace there now is tuned and reverted through the same path, with a journal of its own.
        Run applied = cli("apply", "-f", policy.toString(), "--state-dir=" + stateDir, "--netns", path.toString());
        assertThat(applied.exit()).as(applied.toString()).isZero();
        assertThat(b.sysctl("net.ipv4.tcp_tw_reuse")).isEqualTo("1");
        Run reverted = cli("revert", "--state-dir=" + stateDir, "--netns", path.toString());
        assertThat(reverted.exit()).as(reverted.toString()).isZero();
        assertThat(b.sysctls()).isEqualTo(startB);
        assertThat(stateDir.resolve("originals-netns-" + inodeB + ".journal")).doesNotExist();
        assertThat(Files.readAllBytes(journalA)).as("the first namespace's journal is kept").isEqualTo(journalABytes);
      } finally {
        TestNamespace.runChecked(List.of("umount", path.toString()));
      }
    } finally {
      holder.destroyForcibly().waitFor();
    }
  }
}
