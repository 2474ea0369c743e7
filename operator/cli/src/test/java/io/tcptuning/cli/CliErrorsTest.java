package io.tcptuning.cli;

import static io.tcptuning.cli.NodeCommandsTest.run;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tcptuning.cli.NodeCommandsTest.Run;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * What a user sees when a command fails, in-process and without writing anything: one line that
 * says what to do on stderr (or a JSON error object on stdout with --json, same exit code), and
 * never a Java class name.
 */
class CliErrorsTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path tmp;

  @Test
  void aMissingPolicyFileIsOneLineSayingSo() {
    Path missing = tmp.resolve("nope.yaml");
    Run plan = run("plan", "-f", missing.toString());
    assertThat(plan.exit()).isEqualTo(Main.EXIT_INVALID);
    assertThat(plan.err()).isEqualTo("tcptune plan: no such file: " + missing + System.lineSeparator());
    assertThat(plan.out()).isEmpty();

    Run apply = run("apply", "-f", missing.toString(), "--state-dir=" + tmp.resolve("state"));
    assertThat(apply.exit()).isEqualTo(Main.EXIT_INVALID);
    assertThat(apply.err()).isEqualTo("tcptune apply: no such file: " + missing + System.lineSeparator());
    assertThat(apply.out()).isEmpty();
    assertThat(tmp.resolve("state")).doesNotExist();
  }

  @Test
  void aTabInYamlIndentationIsNamedOnItsOwnLine() throws Exception {
    Path tabbed = tmp.resolve("tabbed.yaml");
    Files.writeString(tabbed, "apiVersion: tcptuning.io/v1alpha1\nkind: TcpTuningPolicy\nmetadata:\n  name: p\nspec:\n  sysctls:\n\ttcpTwReuse: 1\n");

    Run r = run("plan", "-f", tabbed.toString());

    assertThat(r.exit()).isEqualTo(Main.EXIT_INVALID);
    assertThat(r.err()).contains("line 7: a tab character; YAML indents with spaces").doesNotContain("scanning");
  }

  @Test
  void withJsonEveryFailureIsAnErrorObjectOnStdoutWithTheSameExitCode() throws Exception {
    Path bad = tmp.resolve("bad.yaml");
    Files.writeString(bad, "apiVersion: tcptuning.io/v1alpha1\nkind: TcpTuningPolicy\nmetadata: {name: p}\nspec:\n  sysctls: {tcpTwReuse: \"1\"}\n");
    Path missing = tmp.resolve("nope.yaml");
    String[][] failures = {
      {"plan", "-f", bad.toString()},
      {"plan", "-f", missing.toString()},
      {"apply", "-f", missing.toString(), "--state-dir=" + tmp.resolve("state")},
      {"census", "--top", "0"},
      {"census", "--source", "magic"},
      {"census", "--top", "many"}, // refused by picocli itself
      {"revert", "--policy=Not_A_Name", "--state-dir=" + tmp.resolve("state")},
    };
    for (String[] args : failures) {
      Run text = run(args);
      String[] withJson = java.util.Arrays.copyOf(args, args.length + 1);
      withJson[args.length] = "--json";
      Run json = run(withJson);

      String what = String.join(" ", withJson);
      assertThat(text.exit()).as(what).isEqualTo(Main.EXIT_INVALID);
      assertThat(json.exit()).as(what).isEqualTo(text.exit());
      assertThat(json.err()).as(what).isEmpty();
      JsonNode error = JSON.readTree(json.out()).get("error");
      assertThat(error).as(what + ": " + json.out()).isNotNull();
      assertThat(error.get("message").asText()).as(what).isNotBlank().doesNotContain("Exception");
      assertThat(error.get("violations").isArray()).as(what).isTrue();
    }

    JsonNode invalid = JSON.readTree(run("plan", "-f", bad.toString(), "--json").out()).get("error");
    assertThat(invalid.get("message").asText()).isEqualTo("invalid policy " + bad);
    assertThat(invalid.get("violations")).singleElement().satisfies(v -> {
      assertThat(v.get("field").asText()).isEqualTo("spec.sysctls.tcpTwReuse");
      assertThat(v.get("message").asText()).contains("must be an integer", "0..2");
    });
    JsonNode noFile = JSON.readTree(run("plan", "-f", missing.toString(), "--json").out()).get("error");
    assertThat(noFile.get("message").asText()).isEqualTo("no such file: " + missing);
    assertThat(noFile.get("violations")).isEmpty();
  }

  /** Stands for any command whose failure escapes it. */
  @Command(name = "boom")
  static final class Boom implements Callable<Integer> {
    @Option(names = "--json")
    boolean json;

    @Override
    public Integer call() throws Exception {
      throw new RuntimeException(new AccessDeniedException("/var/lib/tcp-tuning/originals.lock"));
    }
  }

  @Test
  void anExceptionThatEscapesACommandIsOneLineAndExitOne() throws Exception {
    Run text = runBoom("boom");
    assertThat(text.exit()).isEqualTo(Main.EXIT_FAILED);
    assertThat(text.err()).isEqualTo("tcptune boom: permission denied: /var/lib/tcp-tuning/originals.lock" + System.lineSeparator());
    assertThat(text.out()).isEmpty();

    Run json = runBoom("boom", "--json");
    assertThat(json.exit()).isEqualTo(Main.EXIT_FAILED);
    assertThat(json.err()).isEmpty();
    assertThat(JSON.readTree(json.out()).at("/error/message").asText()).isEqualTo("permission denied: /var/lib/tcp-tuning/originals.lock");
  }

  private static Run runBoom(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cmd = new CommandLine(new Main());
    cmd.addSubcommand(new Boom());
    Main.withErrorHandlers(cmd);
    cmd.setOut(new PrintWriter(out, true));
    cmd.setErr(new PrintWriter(err, true));
    return new Run(cmd.execute(args), out.toString(), err.toString());
  }
}
