package io.tcptuning.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.tcptuning.domain.Sysctl;
import io.tcptuning.node.ProcSysctls;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Test main for {@link HostilePolicyNamespaceTest}, run once inside its namespace: for every
 * manifest given, {@code plan -f FILE} and {@code apply -f FILE --state-dir DIR} in-process, each
 * with its exit code, stdout and stderr, and every allowlisted sysctl read before and after each
 * command. One JVM for the whole corpus keeps the test to seconds. Prints a JSON report.
 *
 * <p>Usage: {@code HostilePolicyRun STATE_ROOT FILE...}; apply of the n-th file (from 0) uses
 * {@code STATE_ROOT/state-n}.
 */
final class HostilePolicyRun {
  private HostilePolicyRun() {}

  public static void main(String[] args) throws IOException {
    Path stateRoot = Path.of(args[0]);
    ProcSysctls proc = new ProcSysctls();
    Map<String, Object> report = new LinkedHashMap<>();
    report.put("start", snapshot(proc));
    List<Map<String, Object>> cases = new ArrayList<>();
    for (int i = 1; i < args.length; i++) {
      String file = args[i];
      Map<String, Object> c = new LinkedHashMap<>();
      c.put("file", file);
      c.put("before", snapshot(proc));
      c.put("plan", CliDriver.execute("plan", "-f", file));
      c.put("afterPlan", snapshot(proc));
      c.put("apply", CliDriver.execute("apply", "-f", file, "--state-dir", stateRoot.resolve("state-" + (i - 1)).toString()));
      c.put("afterApply", snapshot(proc));
      cases.add(c);
    }
    report.put("cases", cases);
    System.out.println(new ObjectMapper().writeValueAsString(report));
  }

  /** Dotted name to canonical value, for every allowlisted sysctl that exists here. */
  private static Map<String, String> snapshot(ProcSysctls proc) throws IOException {
    return dotted(proc.readAll());
  }

  static Map<String, String> dotted(Map<Sysctl, String> values) {
    Map<String, String> m = new LinkedHashMap<>();
    values.forEach((s, v) -> m.put(s.dottedName(), v));
    return m;
  }
}
