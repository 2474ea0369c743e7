package io.tcptuning.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** Argument handling of `tcptune census`; its output is checked in TimeWaitCensusNamespaceTest. */
class CensusCommandTest {
  private final StringWriter out = new StringWriter();
  private final StringWriter err = new StringWriter();

  private int run(String... args) {
    CommandLine cmd = Main.commandLine();
    cmd.setOut(new PrintWriter(out));
    cmd.setErr(new PrintWriter(err));
    return cmd.execute(args);
  }

  @Test
  void isASubcommandOfTheRoot() {
    assertThat(Main.commandLine().getSubcommands()).containsKey("census");
  }

  @Test
  void topOutOfRangeIsInvalidInputNamingTheOptionAndRange() {
    assertThat(run("census", "--top", "0")).isEqualTo(Main.EXIT_INVALID);
    assertThat(err.toString()).contains("--top").contains("1..1000");
    assertThat(out.toString()).isEmpty();
  }

  @Test
  void unknownSourceIsInvalidInputListingTheAcceptedOnes() {
    assertThat(run("census", "--source", "kmem")).isEqualTo(Main.EXIT_INVALID);
    assertThat(err.toString()).contains("--source").contains("auto, netlink, proc");
  }

  @Test
  void netnsThatIsNoNamespacePathIsInvalidInputListingTheAcceptedForms() {
    for (String bad : new String[] {"/etc/passwd", "run/netns/x", "/run/netns/", "/run/netns/../../etc/passwd", "/proc/1/ns/mnt", "/proc/x/ns/net", ""}) {
      out.getBuffer().setLength(0);
      err.getBuffer().setLength(0);
      assertThat(run("census", "--netns", bad)).as(bad).isEqualTo(Main.EXIT_INVALID);
      assertThat(err.toString()).as(bad).startsWith("tcptune census: --netns: ").contains("/run/netns/NAME").contains("/proc/PID/ns/net").doesNotContain("Exception");
      assertThat(err.toString().strip().lines()).as(bad).hasSize(1);
      assertThat(out.toString()).isEmpty();
    }
  }

  @Test
  void netnsAndAllNetnsTogetherAreInvalid() {
    assertThat(run("census", "--all-netns", "--netns", "/proc/self/ns/net")).isEqualTo(Main.EXIT_INVALID);
    assertThat(err.toString()).contains("--netns").contains("--all-netns");
  }

  @Test
  void aNamespaceThatDoesNotExistIsAFailureNamingIt() {
    assertThat(run("census", "--netns", "/run/netns/tcptune-no-such-namespace")).isEqualTo(Main.EXIT_FAILED);
    assertThat(err.toString().strip()).isEqualTo("tcptune census: --netns /run/netns/tcptune-no-such-namespace: no such network namespace (no such file)");
    assertThat(run("census", "--json", "--netns", "/proc/999999999/ns/net")).isEqualTo(Main.EXIT_FAILED);
    assertThat(out.toString()).contains("\"error\"").contains("no such network namespace");
  }

  @Test
  void ownNamespaceByPathNeedsNoPrivilege() {
    // Its own namespace: no setns, so this works for any user.
    assertThat(run("census", "--json", "--netns", "/proc/self/ns/net")).as(err.toString()).isZero();
    assertThat(out.toString()).contains("\"netns\"").contains("\"host\" : true").contains("\"total\"");
  }

  @Test
  void pidsAreShortened() {
    assertThat(CensusCommand.pids(java.util.List.of())).isEqualTo("-");
    assertThat(CensusCommand.pids(java.util.List.of(7))).isEqualTo("7");
    assertThat(CensusCommand.pids(java.util.List.of(1, 2, 3))).isEqualTo("1,2,3");
    assertThat(CensusCommand.pids(java.util.List.of(1, 2, 3, 4, 5))).isEqualTo("1,2,3 +2");
  }

  @Test
  void helpDescribesPressure() {
    assertThat(run("census", "--help")).isZero();
    assertThat(out.toString()).contains("--json").contains("--top").contains("ip_local_port_range").contains("--all-netns").contains("--netns");
  }
}
