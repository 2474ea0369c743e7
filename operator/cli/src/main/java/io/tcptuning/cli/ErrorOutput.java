package io.tcptuning.cli;

import io.tcptuning.domain.Violation;
import io.tcptuning.policy.InvalidPolicyException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine;

/**
 * How a command says it failed: {@code tcptune plan: MESSAGE} on stderr (each violation on a line
 * of its own below it), or, with {@code --json}, an error object on stdout that a script can parse
 * whatever went wrong: {@code {"error": {"message": ..., "violations": [{"field": ..., "message": ...}]}}}.
 * The exit code is the same either way.
 */
final class ErrorOutput {
  private final CommandLine command;
  private final boolean json;

  ErrorOutput(CommandLine command, boolean json) {
    this.command = command;
    this.json = json;
  }

  int fail(int exitCode, String message) {
    return fail(exitCode, message, List.of());
  }

  int invalidPolicy(InvalidPolicyException e) {
    return fail(Main.EXIT_INVALID, e.summary(), e.violations());
  }

  int fail(int exitCode, String message, List<Violation> violations) {
    if (json) {
      Map<String, Object> error = new LinkedHashMap<>();
      error.put("message", message);
      error.put("violations", violations.stream().map(ErrorOutput::violation).toList());
      var out = command.getOut();
      NodeCommandOutput.json(out, Map.of("error", error));
      out.flush();
    } else {
      var err = command.getErr();
      err.println(command.getCommandSpec().qualifiedName() + ": " + message + (violations.isEmpty() ? "" : ":"));
      violations.forEach(v -> err.println("  " + v));
      err.flush();
    }
    return exitCode;
  }

  private static Map<String, Object> violation(Violation v) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("field", v.field());
    m.put("message", v.message());
    return m;
  }
}
