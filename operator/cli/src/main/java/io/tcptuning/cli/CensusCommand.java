package io.tcptuning.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.tcptuning.domain.KernelVersion;
import io.tcptuning.domain.NatVerdict;
import io.tcptuning.node.IoErrors;
import io.tcptuning.node.KernelRelease;
import io.tcptuning.node.census.CensusReport;
import io.tcptuning.node.census.Destination;
import io.tcptuning.node.census.TimeWaitCensus;
import io.tcptuning.node.nat.NatDetector;
import io.tcptuning.node.ProcNet;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code tcptune census}: TIME_WAIT pressure of this machine's current network namespace. */
@Command(
    name = "census",
    mixinStandardHelpOptions = true,
    description = {
      "Count TIME_WAIT sockets and ephemeral-port pressure per destination in the current network namespace.",
      "Read-only. Pressure = sockets holding an ephemeral port to one destination / ip_local_port_range size."
    })
public final class CensusCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(names = "--json", description = "Print JSON instead of a table.")
  boolean json;

  @Option(names = "--top", paramLabel = "N", defaultValue = "10", description = "How many destinations to list, 1..1000 (default: ${DEFAULT-VALUE}).")
  int top;

  @Option(
      names = "--source",
      paramLabel = "SOURCE",
      defaultValue = "auto",
      description = "Where sockets are enumerated from: auto (netlink, else /proc), netlink or proc (default: ${DEFAULT-VALUE}).")
  String source;

  @Override
  public Integer call() throws Exception {
    var errors = new ErrorOutput(spec.commandLine(), json);
    if (top < 1 || top > 1000) {
      return errors.fail(Main.EXIT_INVALID, "--top: " + top + " is out of range; accepted: 1..1000");
    }
    TimeWaitCensus.Source src;
    try {
      src = TimeWaitCensus.Source.valueOf(source.toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      return errors.fail(Main.EXIT_INVALID, "--source: '" + source + "' is not accepted; accepted: auto, netlink, proc");
    }
    CensusReport report;
    long sockstat;
    try {
      var census = new TimeWaitCensus(ProcNet.PROC, src);
      report = census.take(top);
      sockstat = census.timeWaitTotal();
    } catch (UncheckedIOException e) {
      return errors.fail(Main.EXIT_FAILED, "census failed: " + e.getMessage() + (e.getCause() == null ? "" : " (" + IoErrors.reason(e.getCause()) + ")"));
    }
    KernelVersion kernel = KernelRelease.read();
    NatVerdict nat = NatDetector.detect();
    PrintWriter out = spec.commandLine().getOut();
    if (json) {
      out.println(new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(toJson(kernel, report, sockstat, nat)));
    } else {
      printTable(out, kernel, report, nat);
    }
    out.flush();
    return 0;
  }

  static Map<String, Object> toJson(KernelVersion kernel, CensusReport r, long sockstat, NatVerdict nat) {
    var json = new LinkedHashMap<String, Object>();
    json.put("kernel", kernel.release().isEmpty() ? "unknown" : kernel.release());
    json.put("kernelVersion", kernel.shortVersion());
    json.put("source", r.source());
    var tw = new LinkedHashMap<String, Object>();
    tw.put("total", r.timeWaitTotal());
    // The O(1) figure the agent's fast path uses, read right after the enumeration.
    tw.put("sockstat", sockstat);
    tw.put("maxTwBuckets", r.maxTwBuckets());
    tw.put("maxTwBucketsHeadroom", r.maxTwBucketsHeadroom());
    json.put("timeWait", tw);
    var range = new LinkedHashMap<String, Object>();
    range.put("min", r.portRange().min());
    range.put("max", r.portRange().max());
    range.put("size", r.portRange().size());
    json.put("portRange", range);
    json.put("pressure", r.pressure());
    json.put("maxDestinationPressure", r.maxDestinationPressure());
    json.put("destinationCount", r.destinationCount());
    var destinations = new ArrayList<Map<String, Object>>();
    for (Destination d : r.topDestinations()) {
      var m = new LinkedHashMap<String, Object>();
      m.put("destination", d.address());
      m.put("sockets", d.sockets());
      m.put("pressure", d.pressure());
      destinations.add(m);
    }
    json.put("destinations", destinations);
    json.put("tcpExt", new TreeMap<>(r.tcpExt()));
    json.put("listeningPorts", r.listeningPorts().stream().sorted().toList());
    var natJson = new LinkedHashMap<String, Object>();
    natJson.put("detected", nat.detected());
    natJson.put("evidence", nat.evidence());
    json.put("nat", natJson);
    return json;
  }

  private static void printTable(PrintWriter out, KernelVersion kernel, CensusReport r, NatVerdict nat) {
    String fmt = "%-20s %s%n";
    out.printf(fmt, "Kernel", kernel.known() ? kernel.release() : "unknown (" + (kernel.release().isEmpty() ? "unreadable" : kernel.release()) + ")");
    out.printf(fmt, "Source", r.source().equals("netlink") ? "netlink (SOCK_DIAG, as ss)" : "/proc/net/tcp and tcp6");
    out.printf(fmt, "TIME_WAIT sockets", String.format(Locale.ROOT, "%,d", r.timeWaitTotal()));
    out.printf(fmt, "Ephemeral ports", String.format(Locale.ROOT, "%d-%d (%,d ports)", r.portRange().min(), r.portRange().max(), r.portRange().size()));
    out.printf(fmt, "Node pressure", ratio(r.pressure()) + "  (all TIME_WAIT / range, 1.0 = full: an upper bound)");
    if (r.topDestinations().isEmpty()) {
      out.printf(fmt, "Worst destination", "none (no socket holds an ephemeral port)");
    } else {
      Destination d = r.topDestinations().getFirst();
      out.printf(fmt, "Worst destination", ratio(d.pressure()) + String.format(Locale.ROOT, "  (%,d sockets to %s)", d.sockets(), d.address()));
    }
    out.printf(
        fmt,
        "tcp_max_tw_buckets",
        r.maxTwBuckets() == null ? "unreadable" : String.format(Locale.ROOT, "%,d (headroom %,d)", r.maxTwBuckets(), r.maxTwBucketsHeadroom()));
    List<String> counters = new ArrayList<>();
    new TreeMap<>(r.tcpExt()).forEach((k, v) -> counters.add(k + " " + v));
    out.printf(fmt, "TcpExt", counters.isEmpty() ? "unreadable" : String.join(", ", counters));
    List<Integer> ports = r.listeningPorts().stream().sorted().toList();
    String shown = ports.stream().limit(20).map(String::valueOf).reduce((a, b) -> a + ", " + b).orElse("none");
    out.printf(fmt, "Listening ports", ports.size() > 20 ? shown + String.format(Locale.ROOT, " ... (%d in all)", ports.size()) : shown);
    String verdict = nat.detected() == null ? "unknown" : nat.detected() ? "detected" : "not detected";
    out.printf(fmt, "NAT", verdict);
    for (String line : nat.evidence()) {
      out.printf(fmt, "", "- " + line);
    }
    out.println();
    out.printf(Locale.ROOT, "Top destinations (%d of %,d)%n", r.topDestinations().size(), r.destinationCount());
    int width = Math.max("DESTINATION".length(), r.topDestinations().stream().mapToInt(d -> d.address().length()).max().orElse(0));
    out.printf("  %-" + width + "s  %10s  %8s%n", "DESTINATION", "SOCKETS", "PRESSURE");
    for (Destination d : r.topDestinations()) {
      out.printf(Locale.ROOT, "  %-" + width + "s  %,10d  %8s%n", d.address(), d.sockets(), ratio(d.pressure()));
    }
  }

  /**
   * Pressure as the fraction status and metrics carry (1.0 = the port range is full), never as a
   * percentage: one unit wherever a user meets it.
   */
  static String ratio(double fraction) {
    return String.format(Locale.ROOT, "%.4f", fraction);
  }
}
