package io.tcptuning.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.tcptuning.node.census.TimeWaitLoad;
import io.tcptuning.testing.ProjectPaths;
import io.tcptuning.testing.TestNamespace;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * README's CLI transcripts are run for real, in a throwaway namespace with a few TIME_WAIT
 * sockets: every {@code $ operator/cli/target/tcptune ...} command in README's {@code text}
 * blocks runs, and its output must have the shape README shows (the same labelled lines and
 * table headers in the same order, the same sysctl rows with the same actions). Figures differ
 * from machine to machine; the shape must not drift from what a reader is told to expect.
 */
class ReadmeExamplesNamespaceTest {
  private static final String LAUNCHER = "operator/cli/target/tcptune ";
  private static final Pattern COMMAND = Pattern.compile("^\\$ " + Pattern.quote(LAUNCHER) + "(.+)$");

  static TestNamespace ns;

  @BeforeAll
  static void namespaceWithTimeWait() throws Exception {
    assumeTrue(TestNamespace.canCreate(), "needs root for ip netns");
    ns = TestNamespace.create("readme");
    ns.setSysctl("net.ipv4.tcp_rfc1337", "1");
    // Three destinations, as README's census shows them.
    ns.java(TimeWaitLoad.class, "inet:127.0.0.1:7001=10", "inet:127.0.0.1:7002=2", "inet:127.0.0.1:7003=1").check();
  }

  @AfterAll
  static void deleteNamespace() throws Exception {
    if (ns != null) {
      ns.close();
    }
  }

  /** One command of a README transcript and the output README shows for it. */
  record Example(String args, List<String> shown) {}

  static List<Example> examples() throws Exception {
    List<Example> out = new ArrayList<>();
    List<String> lines = Files.readAllLines(ProjectPaths.resolve("README.md"));
    boolean inText = false;
    Example current = null;
    for (String line : lines) {
      if (line.startsWith("```")) {
        inText = !inText && line.equals("```text");
        current = null;
        continue;
      }
      if (!inText) {
        continue;
      }
      Matcher m = COMMAND.matcher(line);
      if (m.matches()) {
        current = new Example(m.group(1), new ArrayList<>());
        out.add(current);
      } else if (line.startsWith("$ ")) {
        current = null; // another tool's command (kubectl)
      } else if (current != null) {
        current.shown().add(line);
      }
    }
    return out;
  }

  @Test
  void readmeShowsCensusAndPlanTranscripts() throws Exception {
    assertThat(examples()).extracting(Example::args)
        .contains("census --top 3", "plan -f deploy/examples/high-churn-clients.yaml", "plan -f deploy/examples/legacy-tw-recycle.yaml");
  }

  @Test
  void everyCliTranscriptInReadmeHasTheShapeOfTheRealOutput() throws Exception {
    for (Example example : examples()) {
      String[] args = Arrays.stream(example.args().split(" "))
          .map(a -> a.startsWith("deploy/") ? ProjectPaths.resolve(a).toString() : a)
          .toArray(String[]::new);
      TestNamespace.Result run = ns.cli(args);
      assertThat(run.exitCode()).as("tcptune %s: %s", example.args(), run).isZero();
      List<String> actual = run.stdout().lines().toList();
      assertThat(shape(actual)).as("shape of `tcptune %s`, README vs real output", example.args()).isEqualTo(shape(example.shown()));
    }
  }

  /**
   * What must not drift: the label of each labelled line (text before a run of two spaces), table
   * headers, the first column and the action of each sysctl row, section titles; values, counts and
   * addresses are left out. Lines README elides for length (NAT evidence, listening ports) are
   * indented continuation lines and count once.
   */
  static List<String> shape(List<String> lines) {
    List<String> out = new ArrayList<>();
    for (String raw : lines) {
      String line = raw.stripTrailing();
      if (line.isBlank() || line.startsWith("warning:") || line.matches("^\\s+- .*")) {
        continue; // warnings depend on the machine's listeners; evidence lines on its NAT setup
      }
      if (line.startsWith("policy ")) {
        out.add("policy line");
      } else if (line.matches("^\\s*[A-Z][A-Z-]+(\\s{2,}[A-Z][A-Z-]+)+\\s*$")) {
        out.add("header: " + line.strip().replaceAll("\\s+", " "));
      } else if (line.startsWith("net.")) {
        String[] cells = line.split("\\s{2,}");
        String action = Arrays.stream(cells).filter(c -> c.matches("Change|Keep|Refuse")).findFirst().orElse("?");
        out.add("row: " + cells[0] + " " + action);
      } else if (line.startsWith("  ")) {
        out.add("table row");
      } else if (line.startsWith("Top destinations")) {
        out.add("section: Top destinations");
      } else {
        String[] parts = line.split("\\s{2,}", 2);
        out.add("label: " + parts[0]);
      }
    }
    // Consecutive table rows count once: README shows three destinations, a machine may show fewer.
    List<String> collapsed = new ArrayList<>();
    for (String s : out) {
      if (!(s.equals("table row") && !collapsed.isEmpty() && collapsed.getLast().equals("table row"))) {
        collapsed.add(s);
      }
    }
    return collapsed;
  }
}
