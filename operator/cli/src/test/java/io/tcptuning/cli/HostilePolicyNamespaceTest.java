package io.tcptuning.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tcptuning.testing.HostilePolicyCorpus;
import io.tcptuning.domain.Sysctl;
import io.tcptuning.testing.TestNamespace;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The hostile corpus against the real CLI in a real network namespace: {@code plan} and
 * {@code apply} each exit 2 with a clear message for every case, and no sysctl of the namespace
 * moves, no journal appears, the host stays as it was. All cases run in one JVM inside one
 * namespace ({@link HostilePolicyRun}).
 */
class HostilePolicyNamespaceTest {
  /** Non-default starting values: a write of any default or policy value would show. */
  private static final Map<String, String> START = Map.of(
      "net.ipv4.tcp_tw_reuse", "0",
      "net.ipv4.tcp_timestamps", "0",
      "net.ipv4.ip_local_port_range", "40000 49999",
      "net.ipv4.tcp_fin_timeout", "45",
      "net.ipv4.tcp_max_tw_buckets", "100000",
      "net.core.somaxconn", "8192",
      "net.ipv4.tcp_max_syn_backlog", "2048");

  @TempDir Path tmp;

  @Test
  void everyHostileManifestExitsTwoWithAClearMessageAndChangesNothing() throws Exception {
    assumeTrue(TestNamespace.canCreate(), "needs root for ip netns");
    Map<Sysctl, String> hostBefore = TestNamespace.hostSysctls();
    List<HostilePolicyCorpus> corpus = HostilePolicyCorpus.all();
    // Neutral file names: the message names the file, and the expect text must not match that.
    List<String> args = new ArrayList<>(List.of(tmp.resolve("states").toString()));
    for (int i = 0; i < corpus.size(); i++) {
      Path f = tmp.resolve("policy-" + i + ".yaml");
      Files.writeString(f, corpus.get(i).content(), StandardCharsets.UTF_8);
      args.add(f.toString());
    }

    JsonNode report;
    Map<Sysctl, String> start;
    Map<Sysctl, String> end;
    try (TestNamespace ns = TestNamespace.create("rel-hostile")) {
      for (var e : START.entrySet()) {
        ns.setSysctl(e.getKey(), e.getValue());
      }
      start = ns.sysctls();
      var run = ns.java(HostilePolicyRun.class, args.toArray(String[]::new)).check();
      report = new ObjectMapper().readTree(run.stdout());
      end = ns.sysctls();
    }

    assertThat(TestNamespace.hostSysctls()).as("host namespace sysctls").isEqualTo(hostBefore);
    assertThat(dotted(start)).containsAllEntriesOf(START);
    assertThat(end).as("namespace sysctls after the whole corpus").isEqualTo(start);
    JsonNode cases = report.get("cases");
    assertThat(cases).hasSize(corpus.size());
    assertThat(json(report.get("start"))).isEqualTo(dotted(start));
    SoftAssertions soft = new SoftAssertions();
    for (int i = 0; i < corpus.size(); i++) {
      HostilePolicyCorpus bad = corpus.get(i);
      JsonNode c = cases.get(i);
      for (String command : List.of("plan", "apply")) {
        JsonNode r = c.get(command);
        String what = bad.name() + ": " + command;
        soft.assertThat(r.get("exit").asInt()).as(what + " exit code\n" + r.get("err").asText()).isEqualTo(Main.EXIT_INVALID);
        soft.assertThat(r.get("err").asText()).as(what + " stderr").contains(bad.expect());
        soft.assertThat(r.get("out").asText()).as(what + " stdout").isEmpty();
        for (String line : r.get("err").asText().lines().toList()) {
          soft.assertThat(line.codePoints().filter(Character::isISOControl).toArray()).as(what + " control characters in " + line).isEmpty();
        }
      }
      for (String snapshot : List.of("before", "afterPlan", "afterApply")) {
        soft.assertThat(json(c.get(snapshot))).as(bad.name() + " " + snapshot).isEqualTo(dotted(start));
      }
      soft.assertThat(tmp.resolve("states").resolve("state-" + i)).as(bad.name() + ": nothing created, no journal").doesNotExist();
    }
    soft.assertAll();
  }

  private static Map<String, String> dotted(Map<Sysctl, String> values) {
    return HostilePolicyRun.dotted(values);
  }

  private static Map<String, String> json(JsonNode object) {
    Map<String, String> m = new java.util.LinkedHashMap<>();
    object.properties().forEach(e -> m.put(e.getKey(), e.getValue().asText()));
    return m;
  }
}
