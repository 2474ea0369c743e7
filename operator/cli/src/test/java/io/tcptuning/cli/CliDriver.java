package io.tcptuning.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import picocli.CommandLine;

/**
 * Test main that runs CLI commands in-process, one per line of standard input (arguments
 * separated by tabs), and answers each with one JSON line {@code {"exit":..,"out":..,"err":..}}.
 * Started once inside a test namespace, it saves a JVM start per command. Every command gets a
 * fresh {@link Main#commandLine()}; apply and revert keep nothing in memory between runs (the
 * journal on disk is their only state), so each call is what a fresh process would do.
 */
final class CliDriver {
  private CliDriver() {}

  public static void main(String[] args) throws IOException {
    ObjectMapper json = new ObjectMapper();
    var in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    String line;
    while ((line = in.readLine()) != null) {
      System.out.println(json.writeValueAsString(execute(line.split("\t"))));
      System.out.flush();
    }
  }

  /** Runs one command in this JVM; its exit code and what it printed. */
  static Map<String, Object> execute(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cmd = Main.commandLine();
    cmd.setOut(new PrintWriter(out, true));
    cmd.setErr(new PrintWriter(err, true));
    int exit = cmd.execute(args);
    Map<String, Object> r = new LinkedHashMap<>();
    r.put("exit", exit);
    r.put("out", out.toString());
    r.put("err", err.toString());
    return r;
  }
}
