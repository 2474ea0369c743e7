package io.tcptuning.cli;

import io.tcptuning.testing.ProjectPaths;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tcptuning.domain.Sysctl;
import io.tcptuning.testing.TestNamespace;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The CLI against the real kernel, in a fresh network namespace per test: apply changes exactly
 * what the plan says, revert restores the starting values exactly, re-apply keeps the true
 * originals, bad input and kernel rejections leave everything as it was, and the host's own
 * sysctls never move.
 */
class ApplyRevertNamespaceTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** Every sysctl of the allowlist that exists on a 6.x kernel, plus tcp_tw_recycle (refused). */
  private static final String BROAD =
      """
      apiVersion: tcptuning.io/v1alpha1
      kind: TcpTuningPolicy
      metadata:
        name: broad
      spec:
        sysctls:
          tcpTwReuse: 1
          tcpTimestamps: 1
          ipLocalPortRange: "10240 65535"
          tcpFinTimeout: 30
          tcpMaxTwBuckets: 200000
          somaxconn: 8192
          tcpMaxSynBacklog: 4096
          tcpTwRecycle: 1
      """;

  @TempDir Path tmp;
  TestNamespace ns;
  Path stateDir;
  Map<Sysctl, String> hostBefore;

  @BeforeEach
  void setUp() throws Exception {
    assumeTrue(TestNamespace.canCreate(), "needs root for ip netns");
    hostBefore = TestNamespace.hostSysctls();
    ns = TestNamespace.create("apply");
    // Non-default starting values, so that "restored exactly" means something.
    ns.setSysctl("net.ipv4.tcp_tw_reuse", "0");
    ns.setSysctl("net.ipv4.ip_local_port_range", "40000 40999");
    ns.setSysctl("net.ipv4.tcp_fin_timeout", "45");
    ns.setSysctl("net.core.somaxconn", "5000");
    stateDir = tmp.resolve("state");
  }

  @AfterEach
  void tearDown() throws Exception {
    if (ns != null) {
      ns.close();
      assertThat(TestNamespace.hostSysctls()).as("host namespace sysctls").isEqualTo(hostBefore);
    }
  }

  private Path policy(String name, String text) throws IOException {
    Path p = tmp.resolve(name + ".yaml");
    Files.writeString(p, text);
    return p;
  }

  private TestNamespace.Result apply(Path policy, String... extra) throws Exception {
    String[] args = new String[4 + extra.length];
    args[0] = "apply";
    args[1] = "-f";
    args[2] = policy.toString();
    args[3] = "--state-dir=" + stateDir;
    System.arraycopy(extra, 0, args, 4, extra.length);
    return ns.cli(args);
  }

  private Path journal() {
    return stateDir.resolve("originals.journal");
  }

  @Test
  void applyChangesWhatThePlanSaysAndRevertRestoresTheStartingValuesExactly() throws Exception {
    Path broad = policy("broad", BROAD);
    Map<Sysctl, String> start = ns.sysctls();
    assertThat(start).doesNotContainKey(Sysctl.TCP_TW_RECYCLE).containsEntry(Sysctl.IP_LOCAL_PORT_RANGE, "40000 40999");

    // plan: reads what the kernel shows, writes nothing.
    var plan = ns.cli("plan", "-f", broad.toString(), "--json");
    assertThat(plan.exitCode()).as(plan.toString()).isZero();
    JsonNode planned = JSON.readTree(plan.stdout());
    assertThat(planned.get("policy").asText()).isEqualTo("broad");
    for (JsonNode line : planned.get("sysctls")) {
      Sysctl s = Sysctl.byDottedName(line.get("name").asText()).orElseThrow();
      assertThat(line.get("current").isNull() ? null : line.get("current").asText()).as(s.dottedName()).isEqualTo(start.get(s));
      String expected = s == Sysctl.TCP_TW_RECYCLE ? "Refuse" : s == Sysctl.TCP_TIMESTAMPS ? "Keep" : "Change";
      assertThat(line.get("action").asText()).as(s.dottedName()).isEqualTo(expected);
    }
    assertThat(ns.sysctls()).isEqualTo(start);

    // apply: every Change is in place, the refusal is reported, tcp_tw_recycle is not created.
    var applied = apply(broad);
    assertThat(applied.exitCode()).as(applied.toString()).isZero();
    assertThat(applied.stdout())
        .contains("policy=broad applied net.ipv4.tcp_tw_reuse 0->1")
        .contains("policy=broad applied net.ipv4.ip_local_port_range \"40000 40999\"->\"10240 65535\"")
        .contains("policy=broad refused net.ipv4.tcp_tw_recycle=1 (KernelRemovedSysctl)");
    Map<Sysctl, String> desired = new EnumMap<>(Sysctl.class);
    desired.putAll(Map.of(
        Sysctl.TCP_TW_REUSE, "1", Sysctl.TCP_TIMESTAMPS, "1", Sysctl.IP_LOCAL_PORT_RANGE, "10240 65535",
        Sysctl.TCP_FIN_TIMEOUT, "30", Sysctl.TCP_MAX_TW_BUCKETS, "200000", Sysctl.SOMAXCONN, "8192",
        Sysctl.TCP_MAX_SYN_BACKLOG, "4096"));
    assertThat(ns.sysctls()).isEqualTo(desired);
    assertThat(Files.readString(journal())).contains("owner broad\n", "sysctl net.ipv4.tcp_tw_reuse=0\n", "sysctl net.core.somaxconn=5000\n");
    byte[] journalBytes = Files.readAllBytes(journal());

    // apply again: idempotent, nothing written, the journal untouched.
    var again = apply(broad, "--json");
    assertThat(again.exitCode()).as(again.toString()).isZero();
    assertThat(JSON.readTree(again.stdout()).get("sysctls").findValuesAsText("status")).containsOnly("AlreadySet", "Refused");
    assertThat(Files.readAllBytes(journal())).isEqualTo(journalBytes);

    // Someone changes a tuned value; re-apply puts it back and still keeps the true original.
    ns.setSysctl("net.ipv4.tcp_tw_reuse", "2");
    var healed = apply(broad);
    assertThat(healed.exitCode()).as(healed.toString()).isZero();
    assertThat(healed.stdout()).contains("policy=broad applied net.ipv4.tcp_tw_reuse 2->1");
    assertThat(ns.sysctl(Sysctl.TCP_TW_REUSE.dottedName())).isEqualTo("1");
    assertThat(Files.readAllBytes(journal())).isEqualTo(journalBytes);

    // revert: exactly the starting values, journal gone; a second revert has nothing to do.
    var reverted = ns.cli("revert", "--state-dir=" + stateDir);
    assertThat(reverted.exitCode()).as(reverted.toString()).isZero();
    assertThat(reverted.stdout()).contains("policy=broad restored net.ipv4.tcp_tw_reuse 1->0");
    assertThat(ns.sysctls()).isEqualTo(start);
    assertThat(journal()).doesNotExist();
    var nothing = ns.cli("revert", "--state-dir=" + stateDir, "--json");
    assertThat(nothing.exitCode()).isZero();
    assertThat(JSON.readTree(nothing.stdout()).get("result").asText()).isEqualTo("NothingToRevert");
    assertThat(ns.sysctls()).isEqualTo(start);
  }

  @Test
  void anInvalidPolicyExitsTwoAndChangesNothing() throws Exception {
    Map<Sysctl, String> start = ns.sysctls();
    Map<String, String> bad = Map.of(
        "string-for-int", BROAD.replace("tcpTwReuse: 1", "tcpTwReuse: \"1\""),
        "injection", BROAD.replace("\"10240 65535\"", "\"1024 65535\\nnet.ipv4.ip_forward=1\""),
        "out-of-range", BROAD.replace("somaxconn: 8192", "somaxconn: 99999999999"));
    Map<String, String> field = Map.of(
        "string-for-int", "spec.sysctls.tcpTwReuse",
        "injection", "spec.sysctls.ipLocalPortRange",
        "out-of-range", "spec.sysctls.somaxconn");

    for (var e : bad.entrySet()) {
      var r = apply(policy(e.getKey(), e.getValue()));
      assertThat(r.exitCode()).as(e.getKey() + "\n" + r).isEqualTo(Main.EXIT_INVALID);
      assertThat(r.stderr()).as(e.getKey()).contains(field.get(e.getKey()));
      assertThat(ns.sysctls()).as(e.getKey()).isEqualTo(start);
      assertThat(journal()).doesNotExist();
    }
    var missing = ns.cli("apply", "--state-dir=" + stateDir);
    assertThat(missing.exitCode()).isEqualTo(Main.EXIT_INVALID);
    assertThat(missing.stderr()).contains("-f");
  }

  @Test
  void aValueTheKernelRejectsRollsBackTheRunExitsOneAndLeavesTheJournalAsItWas() throws Exception {
    // A first policy owns the node and has a journal.
    String fin = "apiVersion: tcptuning.io/v1alpha1\nkind: TcpTuningPolicy\nmetadata:\n  name: fin\nspec:\n  sysctls:\n    tcpFinTimeout: 30\n";
    var first = apply(policy("fin", fin));
    assertThat(first.exitCode()).as(first.toString()).isZero();
    assertThat(ns.sysctl(Sysctl.TCP_FIN_TIMEOUT.dottedName())).isEqualTo("30");
    byte[] journalBefore = Files.readAllBytes(journal());
    // The kernel refuses an ephemeral range that starts below the first unprivileged port.
    ns.setSysctl("net.ipv4.ip_unprivileged_port_start", "20000");
    Map<Sysctl, String> before = ns.sysctls();

    // Its next version asks for more, including a range the kernel will reject.
    var r = apply(policy("fin-v2", BROAD.replace("name: broad", "name: fin")));

    assertThat(r.exitCode()).as(r.toString()).isEqualTo(Main.EXIT_FAILED);
    assertThat(r.stdout())
        .contains("FAILED net.ipv4.ip_local_port_range=\"10240 65535\"")
        .contains("rolled back net.ipv4.tcp_tw_reuse to 0")
        .contains("rolled back everything this run wrote");
    assertThat(ns.sysctls()).isEqualTo(before);
    assertThat(Files.readAllBytes(journal())).isEqualTo(journalBefore);

    // The journal is still good: revert gives back the first policy's original.
    var reverted = ns.cli("revert", "--state-dir=" + stateDir, "--policy=fin");
    assertThat(reverted.exitCode()).as(reverted.toString()).isZero();
    assertThat(ns.sysctl(Sysctl.TCP_FIN_TIMEOUT.dottedName())).isEqualTo("45");
  }

  @Test
  void aHandoverGivesBackTheFirstPolicysValuesAndRevertEndsAtTheStart() throws Exception {
    Map<Sysctl, String> start = ns.sysctls();
    String a = "apiVersion: tcptuning.io/v1alpha1\nkind: TcpTuningPolicy\nmetadata:\n  name: policy-a\nspec:\n  sysctls:\n    tcpFinTimeout: 30\n    somaxconn: 8192\n";
    String b = "apiVersion: tcptuning.io/v1alpha1\nkind: TcpTuningPolicy\nmetadata:\n  name: policy-b\nspec:\n  sysctls:\n    somaxconn: 16384\n";
    assertThat(apply(policy("a", a)).exitCode()).isZero();

    var r = apply(policy("b", b));

    assertThat(r.exitCode()).as(r.toString()).isZero();
    assertThat(r.stdout()).contains("handing over from policy=policy-a", "restored net.ipv4.tcp_fin_timeout 30->45");
    assertThat(ns.sysctl(Sysctl.TCP_FIN_TIMEOUT.dottedName())).isEqualTo("45");
    assertThat(ns.sysctl(Sysctl.SOMAXCONN.dottedName())).isEqualTo("16384");
    assertThat(Files.readString(journal())).contains("owner policy-b\n", "sysctl net.core.somaxconn=5000\n").doesNotContain("tcp_fin_timeout");

    var notMine = ns.cli("revert", "--state-dir=" + stateDir, "--policy=policy-a");
    assertThat(notMine.exitCode()).isZero();
    assertThat(notMine.stdout()).contains("belongs to policy=policy-b");
    assertThat(ns.sysctl(Sysctl.SOMAXCONN.dottedName())).isEqualTo("16384");

    assertThat(ns.cli("revert", "--state-dir=" + stateDir).exitCode()).isZero();
    assertThat(ns.sysctls()).isEqualTo(start);
  }

  @Test
  void aCorruptJournalStopsApplyAndRevertWithExitOneAndNothingChanged() throws Exception {
    Path broad = policy("broad", BROAD);
    assertThat(apply(broad).exitCode()).isZero();
    Map<Sysctl, String> tuned = ns.sysctls();
    byte[] good = Files.readAllBytes(journal());
    byte[] corrupt = new String(good, java.nio.charset.StandardCharsets.US_ASCII).replace("tcp_tw_reuse=0", "tcp_tw_reuse=2").getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    Files.write(journal(), corrupt);

    var applied = apply(policy("other", BROAD.replace("name: broad", "name: other")));
    var reverted = ns.cli("revert", "--state-dir=" + stateDir);

    assertThat(applied.exitCode()).as(applied.toString()).isEqualTo(Main.EXIT_FAILED);
    assertThat(applied.stderr()).contains("is corrupt", "SHA-256");
    assertThat(reverted.exitCode()).as(reverted.toString()).isEqualTo(Main.EXIT_FAILED);
    assertThat(ns.sysctls()).isEqualTo(tuned);
    assertThat(Files.readAllBytes(journal())).isEqualTo(corrupt);
  }

  @Test
  void dryRunPlansAndWritesNothing() throws Exception {
    Map<Sysctl, String> start = ns.sysctls();

    var r = apply(ProjectPaths.resolve("deploy/examples/observe-only.yaml"));

    assertThat(r.exitCode()).as(r.toString()).isZero();
    assertThat(r.stdout()).contains("mode DryRun: planned only, nothing written").contains("net.ipv4.tcp_fin_timeout");
    assertThat(ns.sysctls()).isEqualTo(start);
    assertThat(journal()).doesNotExist();
  }

  @Test
  void revertLeavesAValueChangedByHandAfterApplyAloneExitsThreeAndForcePutsItBack() throws Exception {
    Map<Sysctl, String> start = ns.sysctls();
    assertThat(apply(policy("broad", BROAD)).exitCode()).isZero();
    // After the apply someone sets reuse by hand (original 0, applied 1); somaxconn goes back to its original.
    ns.setSysctl("net.ipv4.tcp_tw_reuse", "2");
    ns.setSysctl("net.core.somaxconn", "5000");

    var r = ns.cli("revert", "--state-dir=" + stateDir);

    assertThat(r.exitCode()).as(r.toString()).isEqualTo(Main.EXIT_CHANGED_BY_HAND);
    assertThat(r.stdout())
        .contains("policy=broad left net.ipv4.tcp_tw_reuse as it is: changed by hand since apply: applied 1, now 2 (original 0);"
            + " --force puts the original back")
        .contains("policy=broad restored net.ipv4.ip_local_port_range \"10240 65535\"->\"40000 40999\"")
        .contains("left 1 changed by hand since apply as they are (net.ipv4.tcp_tw_reuse)");
    Map<Sysctl, String> expected = new EnumMap<>(start);
    expected.put(Sysctl.TCP_TW_REUSE, "2");
    assertThat(ns.sysctls()).isEqualTo(expected);
    assertThat(Files.readString(journal())).contains("sysctl net.ipv4.tcp_tw_reuse=0\napplied net.ipv4.tcp_tw_reuse=1\n")
        .doesNotContain("somaxconn", "ip_local_port_range");

    // The same answer again, in JSON; forced, the original comes back and the journal goes.
    var again = ns.cli("revert", "--state-dir=" + stateDir, "--json");
    assertThat(again.exitCode()).isEqualTo(Main.EXIT_CHANGED_BY_HAND);
    JsonNode j = JSON.readTree(again.stdout());
    assertThat(j.get("result").asText()).isEqualTo("ChangedByHand");
    assertThat(j.get("sysctls").get(0).get("status").asText()).isEqualTo("ChangedByHand");
    assertThat(j.get("sysctls").get(0).get("after").asText()).isEqualTo("2");
    var forced = ns.cli("revert", "--state-dir=" + stateDir, "--force");
    assertThat(forced.exitCode()).as(forced.toString()).isZero();
    assertThat(forced.stdout()).contains("restored net.ipv4.tcp_tw_reuse 2->0");
    assertThat(ns.sysctls()).isEqualTo(start);
    assertThat(journal()).doesNotExist();
  }

  @Test
  void aJournalWrittenBeforeAppliedValuesWereRecordedStillRevertsEverything() throws Exception {
    Map<Sysctl, String> start = ns.sysctls();
    assertThat(apply(policy("broad", BROAD)).exitCode()).isZero();
    // The journal as the previous format wrote it: originals only.
    StringBuilder body = new StringBuilder("tcptune-originals 1\nowner broad\n");
    for (Sysctl s : Sysctl.values()) {
      if (s != Sysctl.TCP_TIMESTAMPS && s != Sysctl.TCP_TW_RECYCLE) {
        body.append("sysctl ").append(s.dottedName()).append('=').append(start.get(s)).append('\n');
      }
    }
    io.tcptuning.testing.JournalFiles.write(journal(), body.toString());
    ns.setSysctl("net.ipv4.tcp_tw_reuse", "2"); // by hand or not: no applied value to tell

    var r = ns.cli("revert", "--state-dir=" + stateDir);

    assertThat(r.exitCode()).as(r.toString()).isZero();
    assertThat(r.stdout()).contains("restored net.ipv4.tcp_tw_reuse 2->0");
    assertThat(ns.sysctls()).isEqualTo(start);
    assertThat(journal()).doesNotExist();
  }

  @Test
  void persistWritesASysctlDFileThatSysctlReadsAsTheAppliedValuesAndRevertRemovesIt() throws Exception {
    Path sysctlD = tmp.resolve("sysctl.d");
    Path file = sysctlD.resolve("90-tcptune-broad.conf");

    var r = apply(policy("broad", BROAD), "--persist", "--sysctl-dir=" + sysctlD);

    assertThat(r.exitCode()).as(r.toString()).isZero();
    assertThat(r.stdout()).contains("policy=broad persisted in " + file + ": set again at boot; tcptune revert --policy broad removes it")
        .doesNotContain("until reboot");
    Map<Sysctl, String> applied = ns.sysctls();
    String text = Files.readString(file);
    assertThat(text).startsWith("# Written by tcptune ").contains("for policy broad", "To undo: tcptune revert --policy broad")
        .doesNotContain("tcp_tw_recycle");
    assertThat(Files.readString(journal())).contains("\npersisted " + file + "\n");
    // What the boot would do: sysctl -p FILE, here in a second fresh namespace, sets exactly the applied values.
    try (TestNamespace boot = TestNamespace.create("boot")) {
      var loaded = boot.exec("sysctl", "-p", file.toString());
      assertThat(loaded.exitCode()).as(loaded.toString()).isZero();
      Map<Sysctl, String> after = boot.sysctls();
      for (Sysctl s : Sysctl.values()) {
        if (applied.containsKey(s)) {
          assertThat(after.get(s)).as(s.dottedName()).isEqualTo(applied.get(s));
        }
      }
    }

    var reverted = ns.cli("revert", "--state-dir=" + stateDir, "--policy=broad");
    assertThat(reverted.exitCode()).as(reverted.toString()).isZero();
    assertThat(reverted.stdout()).contains("policy=broad removed " + file);
    assertThat(file).doesNotExist();
    try (var left = Files.list(sysctlD)) {
      assertThat(left).isEmpty();
    }
  }

  @Test
  void withoutPersistApplySaysTheValuesLastUntilReboot() throws Exception {
    var r = apply(policy("broad", BROAD));
    assertThat(r.exitCode()).as(r.toString()).isZero();
    assertThat(r.stdout()).contains("policy=broad these values last until reboot (--persist keeps them across reboots)");
  }

}
