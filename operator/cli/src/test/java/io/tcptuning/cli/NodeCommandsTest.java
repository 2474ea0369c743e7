package io.tcptuning.cli;

import io.tcptuning.testing.ProjectPaths;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The node commands in-process, for what needs no namespace: reading-only plans, input errors
 * and an empty state directory. Nothing here can write a sysctl (writes are tested in
 * ApplyRevertNamespaceTest, inside a namespace).
 */
class NodeCommandsTest {
  @TempDir Path tmp;

  record Run(int exit, String out, String err) {}

  static Run run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    var cmd = Main.commandLine();
    cmd.setOut(new PrintWriter(out, true));
    cmd.setErr(new PrintWriter(err, true));
    int exit = cmd.execute(args);
    return new Run(exit, out.toString(), err.toString());
  }

  @Test
  void helpListsTheNodeCommands() {
    Run r = run("--help");
    assertThat(r.exit()).isZero();
    assertThat(r.out()).contains("plan", "apply", "revert");
  }

  @Test
  void planReadsThisMachineAndPrintsEveryLineAsJson() throws Exception {
    Run r = run("plan", "-f", ProjectPaths.resolve("deploy/examples/high-churn-clients.yaml").toString(), "--json");

    assertThat(r.exit()).as(r.err()).isZero();
    JsonNode plan = new ObjectMapper().readTree(r.out());
    assertThat(plan.get("policy").asText()).isEqualTo("high-churn-clients");
    assertThat(plan.get("kernel").asText()).isNotBlank();
    assertThat(plan.get("sysctls").findValuesAsText("name"))
        .containsExactly("net.ipv4.tcp_tw_reuse", "net.ipv4.tcp_timestamps", "net.ipv4.ip_local_port_range");
    assertThat(plan.get("sysctls").findValuesAsText("action")).allMatch(a -> a.equals("Change") || a.equals("Keep"));
    assertThat(plan.get("sysctls").findValuesAsText("desired")).containsExactly("1", "1", "10240 65535");
  }

  @Test
  void planRefusesTcpTwRecycleOnThisKernel() {
    Run r = run("plan", "-f", ProjectPaths.resolve("deploy/examples/legacy-tw-recycle.yaml").toString());
    assertThat(r.exit()).as(r.err()).isZero();
    assertThat(r.out()).containsPattern("net.ipv4.tcp_tw_recycle\\s+\\(missing\\)\\s+1\\s+Refuse\\s+KernelRemovedSysctl");
  }

  @Test
  void invalidInputExitsTwoNamingTheField() throws Exception {
    Path bad = tmp.resolve("bad.yaml");
    Files.writeString(bad, "apiVersion: tcptuning.io/v1alpha1\nkind: TcpTuningPolicy\nmetadata: {name: p}\nspec:\n  sysctls: {tcpTwReuse: \"1\"}\n");

    Run plan = run("plan", "-f", bad.toString());
    assertThat(plan.exit()).isEqualTo(Main.EXIT_INVALID);
    assertThat(plan.err()).contains("spec.sysctls.tcpTwReuse", "must be an integer", "0..2");
    assertThat(plan.out()).isEmpty();

    assertThat(run("plan").exit()).isEqualTo(Main.EXIT_INVALID);
    Run revert = run("revert", "--state-dir=" + tmp, "--policy=Not_A_Name");
    assertThat(revert.exit()).isEqualTo(Main.EXIT_INVALID);
    assertThat(revert.err()).contains("--policy");
  }

  @Test
  void revertWithNoJournalSaysWhereItLookedAndHasNothingToDo() {
    Run r = run("revert", "--state-dir=" + tmp.resolve("empty"));
    assertThat(r.exit()).as(r.err()).isZero();
    assertThat(r.out()).contains("no journal at " + tmp.resolve("empty").resolve("originals.journal") + ": nothing to revert");
  }

  @Test
  void aNetnsPathOfAnotherShapeExitsTwoNamingTheOptionAndWhatIsAccepted() {
    String policy = ProjectPaths.resolve("deploy/examples/high-churn-clients.yaml").toString();
    for (String bad : new String[] {"/etc/passwd", "/run/netns/", "/run/netns/a/b", "/run/netns/..", "/proc/self/ns/net", "relative"}) {
      for (Run r : new Run[] {
          run("plan", "-f", policy, "--netns", bad),
          run("apply", "-f", policy, "--state-dir=" + tmp.resolve("state"), "--netns", bad),
          run("revert", "--state-dir=" + tmp.resolve("state"), "--netns", bad)}) {
        assertThat(r.exit()).as(bad + ": " + r.err()).isEqualTo(Main.EXIT_INVALID);
        assertThat(r.err()).as(bad).contains("--netns: expected /run/netns/NAME or /proc/PID/ns/net, got \"" + bad + "\"")
            .doesNotContain("Exception");
        assertThat(r.err().lines()).as(bad).hasSize(1);
      }
    }
    assertThat(tmp.resolve("state")).doesNotExist();
  }

  @Test
  void aNetnsThatIsNotThereExitsOneAndTouchesNothing() {
    String policy = ProjectPaths.resolve("deploy/examples/high-churn-clients.yaml").toString();
    for (Run r : new Run[] {
        run("plan", "-f", policy, "--netns", "/run/netns/tcptune-not-there"),
        run("apply", "-f", policy, "--state-dir=" + tmp.resolve("state"), "--netns", "/run/netns/tcptune-not-there"),
        run("revert", "--state-dir=" + tmp.resolve("state"), "--netns", "/proc/999999999/ns/net")}) {
      assertThat(r.exit()).as(r.err()).isEqualTo(Main.EXIT_FAILED);
      assertThat(r.err()).containsPattern("cannot enter --netns /(run/netns/tcptune-not-there|proc/999999999/ns/net): no such namespace");
    }
    assertThat(tmp.resolve("state")).doesNotExist();
  }

  @Test
  void theNamespaceThisCommandRunsInIsNoNetnsTarget() {
    Run r = run("plan", "-f", ProjectPaths.resolve("deploy/examples/high-churn-clients.yaml").toString(),
        "--netns", "/proc/" + ProcessHandle.current().pid() + "/ns/net");
    assertThat(r.exit()).isEqualTo(Main.EXIT_INVALID);
    assertThat(r.err()).contains("the namespace this command runs in: leave --netns out");
  }

  @Test
  void persistWithNetnsOrABadSysctlDirExitsTwoBeforeAnything() {
    String policy = ProjectPaths.resolve("deploy/examples/high-churn-clients.yaml").toString();
    Run both = run("apply", "-f", policy, "--state-dir=" + tmp.resolve("state"), "--persist", "--netns", "/run/netns/x");
    assertThat(both.exit()).isEqualTo(Main.EXIT_INVALID);
    assertThat(both.err()).contains("--persist: cannot be combined with --netns");
    Run dir = run("apply", "-f", policy, "--state-dir=" + tmp.resolve("state"), "--persist", "--sysctl-dir", tmp.resolve("a b").toString());
    assertThat(dir.exit()).isEqualTo(Main.EXIT_INVALID);
    assertThat(dir.err()).contains("--sysctl-dir");
    assertThat(tmp.resolve("state")).doesNotExist();
  }
}
