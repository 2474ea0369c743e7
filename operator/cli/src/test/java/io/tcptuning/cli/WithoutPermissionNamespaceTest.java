package io.tcptuning.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.tcptuning.domain.Sysctl;
import io.tcptuning.testing.ProjectPaths;
import io.tcptuning.testing.TestNamespace;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * apply and revert run by an ordinary user (uid 65534, nobody) in a throwaway network namespace:
 * they stop before touching anything, with one line on stderr saying what is needed, and exit 1;
 * the namespace's sysctls and the state directory are as they were. Holding CAP_NET_ADMIN (and a
 * writable state directory) is enough, as that line says.
 */
class WithoutPermissionNamespaceTest {
  private static final String NOBODY = "65534";
  private static final Path POLICY = ProjectPaths.resolve("deploy/examples/high-churn-clients.yaml");

  /** Root's home is 0700: nobody reads the Maven repository's jars through hard links here. */
  @TempDir static Path classes;

  static String classPath;

  @TempDir Path tmp;
  TestNamespace ns;
  Map<Sysctl, String> hostBefore;
  Map<Sysctl, String> start;

  @BeforeAll
  static void classPathForNobody() throws IOException {
    assumeTrue(TestNamespace.canCreate(), "needs root for ip netns and setpriv");
    openToAll(classes);
    List<String> entries = new ArrayList<>();
    for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
      Path p = Path.of(entry);
      if (Files.isRegularFile(p)) {
        Path link = classes.resolve(entries.size() + "-" + p.getFileName());
        Files.createLink(link, p);
        p = link;
      }
      entries.add(p.toString());
    }
    classPath = String.join(File.pathSeparator, entries);
  }

  @BeforeEach
  void setUp() throws Exception {
    hostBefore = TestNamespace.hostSysctls();
    ns = TestNamespace.create("nobody");
    ns.setSysctl("net.ipv4.tcp_tw_reuse", "0");
    start = ns.sysctls();
    openToAll(tmp);
  }

  @AfterEach
  void tearDown() throws Exception {
    if (ns != null) {
      ns.close();
      assertThat(TestNamespace.hostSysctls()).as("host namespace sysctls").isEqualTo(hostBefore);
    }
  }

  @Test
  void applyAsNobodyStopsBeforeTouchingAnythingAndSaysWhatIsNeeded() throws Exception {
    // A state directory nobody could use (its parent is root's), then one nobody owns.
    Path rootOwned = tmp.resolve("state");
    var denied = asNobody(List.of(), "apply", "-f", POLICY.toString(), "--state-dir=" + rootOwned);

    assertThat(denied.exitCode()).as(denied.toString()).isEqualTo(Main.EXIT_FAILED);
    assertThat(denied.stdout()).isEmpty();
    assertThat(denied.stderr().lines().toList()).as(denied.toString()).singleElement().asString()
        .startsWith("tcptune apply: cannot write /proc/sys/net/ipv4/tcp_tw_reuse (permission denied)")
        .contains("cannot create the state directory " + rootOwned)
        .contains("needs root or CAP_NET_ADMIN over this network namespace, and a writable state directory (" + rootOwned + ")")
        .endsWith("nothing was changed")
        .doesNotContain("Exception", "ROLLBACK");
    assertThat(rootOwned).doesNotExist();
    assertThat(ns.sysctls()).isEqualTo(start);

    Path own = ownedByNobody(tmp.resolve("own"));
    var json = asNobody(List.of(), "apply", "-f", POLICY.toString(), "--state-dir=" + own, "--json");

    assertThat(json.exitCode()).as(json.toString()).isEqualTo(Main.EXIT_FAILED);
    assertThat(json.stderr()).isEmpty();
    assertThat(json.stdout()).contains("\"message\" : \"cannot write /proc/sys/net/ipv4/tcp_tw_reuse (permission denied); needs root");
    try (var left = Files.list(own)) {
      assertThat(left).as("no journal, no lock file").isEmpty();
    }
    assertThat(ns.sysctls()).isEqualTo(start);
  }

  @Test
  void revertAsNobodyLeavesTheTunedValuesAndTheJournalAlone() throws Exception {
    Path own = ownedByNobody(tmp.resolve("own"));
    var applied = ns.cli("apply", "-f", POLICY.toString(), "--state-dir=" + own);
    assertThat(applied.exitCode()).as(applied.toString()).isZero();
    Map<Sysctl, String> tuned = ns.sysctls();
    assertThat(tuned).isNotEqualTo(start);
    byte[] journal = Files.readAllBytes(own.resolve("originals.journal"));

    var denied = asNobody(List.of(), "revert", "--state-dir=" + own);

    assertThat(denied.exitCode()).as(denied.toString()).isEqualTo(Main.EXIT_FAILED);
    assertThat(denied.stdout()).isEmpty();
    assertThat(denied.stderr().lines().toList()).as(denied.toString()).singleElement().asString()
        .startsWith("tcptune revert: cannot write /proc/sys/net/ipv4/")
        .contains("needs root or CAP_NET_ADMIN over this network namespace, and a writable state directory (" + own + ")")
        .doesNotContain("Exception");
    assertThat(ns.sysctls()).isEqualTo(tuned);
    assertThat(Files.readAllBytes(own.resolve("originals.journal"))).isEqualTo(journal);
  }

  @Test
  void capNetAdminOverTheNamespaceIsEnoughWithoutRoot() throws Exception {
    // Files.isWritable (access(2)) would say no here: it drops capabilities for a non-root uid.
    Path own = ownedByNobody(tmp.resolve("own"));
    List<String> netAdmin = List.of("--inh-caps=+net_admin", "--ambient-caps=+net_admin");

    var applied = asNobody(netAdmin, "apply", "-f", POLICY.toString(), "--state-dir=" + own);
    assertThat(applied.exitCode()).as(applied.toString()).isZero();
    assertThat(ns.sysctl("net.ipv4.tcp_tw_reuse")).isEqualTo("1");
    assertThat(own.resolve("originals.journal")).exists();

    var reverted = asNobody(netAdmin, "revert", "--state-dir=" + own);
    assertThat(reverted.exitCode()).as(reverted.toString()).isZero();
    assertThat(ns.sysctls()).isEqualTo(start);
  }

  /** {@code tcptune ARGS} as uid and gid 65534 with no groups, inside the namespace. */
  private TestNamespace.Result asNobody(List<String> capabilities, String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of("setpriv", "--reuid=" + NOBODY, "--regid=" + NOBODY, "--clear-groups"));
    cmd.addAll(capabilities);
    cmd.addAll(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "--enable-native-access=ALL-UNNAMED", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-XX:-UsePerfData",
        "-cp", classPath, TestNamespace.CLI_MAIN));
    cmd.addAll(List.of(args));
    return ns.exec(cmd.toArray(String[]::new));
  }

  private static Path ownedByNobody(Path dir) throws IOException {
    Files.createDirectories(dir);
    Files.setAttribute(dir, "unix:uid", Integer.parseInt(NOBODY));
    return dir;
  }

  /** JUnit makes temporary directories 0700; nobody must get through them. */
  private static void openToAll(Path dir) throws IOException {
    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
  }
}
