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
  void helpDescribesPressure() {
    assertThat(run("census", "--help")).isZero();
    assertThat(out.toString()).contains("--json").contains("--top").contains("ip_local_port_range");
  }
}
