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
import io.tcptuning.node.netns.AllNamespacesCensus;
import io.tcptuning.node.netns.NamespaceEntryException;
import io.tcptuning.node.netns.NamespaceGoneException;
import io.tcptuning.node.netns.NetnsPath;
import io.tcptuning.node.netns.NetnsRef;
import io.tcptuning.node.netns.NetnsRunner;
import io.tcptuning.node.netns.NetnsScanner;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code tcptune census}: TIME_WAIT pressure of this machine's current network namespace, of
 * another one ({@code --netns}), or of every one on the machine ({@code --all-netns}).
 */
@Command(
    name = "census",
    mixinStandardHelpOptions = true,
    description = {
      "Count TIME_WAIT sockets and ephemeral-port pressure per destination in the current network namespace (or --netns PATH, or every one with --all-netns).",
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

  @Option(
      names = "--all-netns",
      description = {
        "Take the census in every network namespace on this machine (pods' included; needs root): one row per namespace with its inode, PIDs and pod when known."
      })
  boolean allNetns;

  @Option(
      names = "--netns",
      paramLabel = "PATH",
      description = "Take the census inside this network namespace: /run/netns/NAME, /var/run/netns/NAME or /proc/PID/ns/net (needs root).")
  String netns;

  /** Where kubelet keeps pods' log directories ({@code <namespace>_<name>_<uid>}); tests point it elsewhere. */
  Path podLogs = PodDirectory.POD_LOGS;

  /** Where processes' cgroup files are read for their pod UID; tests point it elsewhere. */
  Path cgroupProcRoot = NetnsScanner.PROC;

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
    if (allNetns && netns != null) {
      return errors.fail(Main.EXIT_INVALID, "--netns and --all-netns: give one or the other");
    }
    if (allNetns) {
      return allNamespaces(errors, src);
    }
    Taken taken;
    NetnsRef ref = null;
    if (netns != null) {
      Optional<String> problem = NetnsPath.problem(netns);
      if (problem.isPresent()) {
        return errors.fail(Main.EXIT_INVALID, "--netns: " + problem.get());
      }
      try {
        ref = NetnsPath.resolve(netns);
      } catch (NoSuchFileException e) {
        return errors.fail(Main.EXIT_FAILED, "--netns " + netns + ": no such network namespace (no such file)");
      } catch (AccessDeniedException e) {
        return errors.fail(Main.EXIT_FAILED, "--netns " + netns + ": permission denied; entering another network namespace needs root");
      } catch (IOException e) {
        return errors.fail(Main.EXIT_FAILED, "--netns " + netns + ": not a network namespace (" + IoErrors.reason(e) + "); accepted: " + NetnsPath.ACCEPTED);
      }
      try (NetnsRunner runner = NetnsRunner.forAllNamespaces("census")) {
        TimeWaitCensus.Source inside = src;
        taken = runner.run(ref, r -> take(inside, top));
      } catch (NamespaceGoneException e) {
        return errors.fail(Main.EXIT_FAILED, "--netns " + netns + ": the namespace went away before the census could be taken");
      } catch (NamespaceEntryException e) {
        return errors.fail(Main.EXIT_FAILED, "--netns " + netns + ": cannot enter it: " + IoErrors.reason(e));
      } catch (UncheckedIOException e) {
        return censusFailed(errors, e);
      } catch (IOException e) {
        return errors.fail(Main.EXIT_FAILED, "--netns " + netns + ": " + IoErrors.describe(e));
      }
    } else {
      try {
        taken = take(src, top);
      } catch (UncheckedIOException e) {
        return censusFailed(errors, e);
      }
    }
    KernelVersion kernel = KernelRelease.read();
    PrintWriter out = spec.commandLine().getOut();
    if (json) {
      Map<String, Object> j = toJson(kernel, taken.report(), taken.sockstat(), taken.nat());
      if (ref != null) {
        var where = new LinkedHashMap<String, Object>();
        where.put("path", netns);
        where.put("inode", ref.inode());
        where.put("host", ref.host());
        j.put("netns", where);
      }
      out.println(new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(j));
    } else {
      if (ref != null) {
        out.printf("%-20s %s%n", "Network namespace", netns + " (net:[" + ref.inode() + "]" + (ref.host() ? ", this process's own" : "") + ")");
      }
      printTable(out, kernel, taken.report(), taken.nat());
    }
    out.flush();
    return 0;
  }

  /** A census of the calling thread's namespace, with its NAT verdict (iptables tables are per namespace). */
  private record Taken(CensusReport report, long sockstat, NatVerdict nat) {}

  private static Taken take(TimeWaitCensus.Source src, int top) {
    var census = new TimeWaitCensus(ProcNet.PROC, src);
    CensusReport report = census.take(top);
    long sockstat = census.timeWaitTotal();
    return new Taken(report, sockstat, NatDetector.detect());
  }

  private static int censusFailed(ErrorOutput errors, UncheckedIOException e) {
    return errors.fail(Main.EXIT_FAILED, "census failed: " + e.getMessage() + (e.getCause() == null ? "" : " (" + IoErrors.reason(e.getCause()) + ")"));
  }

  /**
   * {@code --all-netns}: every namespace on the machine, a few worker threads (one per CPU, up to
   * {@link AllNamespacesCensus#MAX_DEFAULT_WORKERS}) moving through them at once.
   */
  private int allNamespaces(ErrorOutput errors, TimeWaitCensus.Source src) throws IOException {
    List<NetnsRef> refs;
    AllNamespacesCensus.Pass pass;
    try {
      refs = new NetnsScanner().scan();
    } catch (IOException e) {
      return errors.fail(Main.EXIT_FAILED, "cannot list the network namespaces: " + IoErrors.describe(e));
    }
    try (var census = AllNamespacesCensus.withWorkers("census", AllNamespacesCensus.defaultWorkers(refs.size()), src, top)) {
      pass = census.take(refs);
    } catch (IOException e) {
      return errors.fail(Main.EXIT_FAILED, "census failed: " + IoErrors.describe(e));
    }
    PodDirectory pods = PodDirectory.read(cgroupProcRoot, podLogs);
    List<Row> rows = new ArrayList<>();
    for (var ns : pass.namespaces()) {
      rows.add(new Row(ns, pods.pod(ns.ref()).orElse(null)));
    }
    rows.sort(ROW_ORDER);
    KernelVersion kernel = KernelRelease.read();
    PrintWriter out = spec.commandLine().getOut();
    if (json) {
      out.println(new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(allJson(kernel, pass, rows)));
    } else {
      printAllTable(out, kernel, pass, rows);
    }
    out.flush();
    if (pass.failed() > 0) {
      boolean notRoot = !isRoot();
      spec.commandLine().getErr().println(spec.commandLine().getCommandSpec().qualifiedName() + ": " + pass.failed() + " of " + pass.namespaces().size()
          + " network namespaces could not be measured" + (notRoot ? " (entering another network namespace needs root)" : ""));
      spec.commandLine().getErr().flush();
      return Main.EXIT_FAILED;
    }
    return 0;
  }

  private static boolean isRoot() {
    try {
      return ((Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid")) == 0;
    } catch (IOException | RuntimeException e) {
      return false;
    }
  }

  private record Row(AllNamespacesCensus.NamespaceCensus ns, PodDirectory.Pod pod) {
    double worst() {
      return ns.measured() ? ns.report().maxDestinationPressure() : -1;
    }

    long timeWait() {
      return ns.measured() ? ns.report().timeWaitTotal() : -1;
    }
  }

  /** The node's own first, then the worst destination pressure, TIME_WAIT, inode. */
  private static final Comparator<Row> ROW_ORDER =
      Comparator.comparing((Row r) -> !r.ns().ref().host())
          .thenComparing(Comparator.comparingDouble(Row::worst).reversed())
          .thenComparing(Comparator.comparingLong(Row::timeWait).reversed())
          .thenComparingLong(r -> r.ns().ref().inode());

  static Map<String, Object> allJson(KernelVersion kernel, AllNamespacesCensus.Pass pass, List<Row> rows) {
    var json = new LinkedHashMap<String, Object>();
    json.put("kernel", kernel.release().isEmpty() ? "unknown" : kernel.release());
    json.put("kernelVersion", kernel.shortVersion());
    var summary = new LinkedHashMap<String, Object>();
    summary.put("namespaces", pass.namespaces().size());
    summary.put("measured", pass.measured());
    summary.put("vanished", pass.vanished());
    summary.put("failed", pass.failed());
    summary.put("elapsedMillis", Math.round(pass.elapsedNanos() / 1e4) / 100.0);
    summary.put("workers", pass.workers());
    json.put("summary", summary);
    var list = new ArrayList<Map<String, Object>>();
    for (Row row : rows) {
      var ns = row.ns();
      var m = new LinkedHashMap<String, Object>();
      m.put("inode", ns.ref().inode());
      m.put("host", ns.ref().host());
      m.put("pids", ns.ref().pids());
      m.put("bindMounts", ns.ref().bindMounts().stream().map(Path::toString).toList());
      if (row.pod() != null) {
        var pod = new LinkedHashMap<String, Object>();
        pod.put("namespace", row.pod().namespace());
        pod.put("name", row.pod().name());
        pod.put("uid", row.pod().uid());
        m.put("pod", pod);
      } else {
        m.put("pod", null);
      }
      m.put("status", ns.status().name().toLowerCase(Locale.ROOT));
      if (ns.measured()) {
        m.putAll(namespaceJson(ns.report(), ns.sockstatTimeWait()));
        // The pass does not read each namespace's TcpExt counters; --netns PATH shows them.
        m.remove("tcpExt");
      } else {
        m.put("error", ns.error());
      }
      list.add(m);
    }
    json.put("namespaces", list);
    return json;
  }

  private static void printAllTable(PrintWriter out, KernelVersion kernel, AllNamespacesCensus.Pass pass, List<Row> rows) {
    String fmt = "%-20s %s%n";
    out.printf(fmt, "Kernel", kernel.known() ? kernel.release() : "unknown (" + (kernel.release().isEmpty() ? "unreadable" : kernel.release()) + ")");
    out.printf(fmt, "Network namespaces", String.format(Locale.ROOT, "%d measured, %d vanished during the pass, %d failed (one pass: %.1f ms)",
        pass.measured(), pass.vanished(), pass.failed(), pass.elapsedNanos() / 1e6));
    out.printf(fmt, "Pressure", "TIME_WAIT / port range and worst destination / port range; 1.0 = full");
    out.println();
    List<String[]> cells = new ArrayList<>();
    cells.add(new String[] {"INODE", "PIDS", "POD", "TIME_WAIT", "PORTS", "PRESSURE", "WORST-DEST", "DESTINATION"});
    for (Row row : rows) {
      var ns = row.ns();
      String who = ns.ref().host() ? "(node)" : row.pod() != null ? row.pod().shown()
          : ns.ref().bindMounts().isEmpty() ? "-" : "netns " + ns.ref().bindMounts().getFirst().getFileName();
      if (ns.measured()) {
        CensusReport r = ns.report();
        cells.add(new String[] {
          Long.toString(ns.ref().inode()), pids(ns.ref().pids()), who, String.format(Locale.ROOT, "%,d", r.timeWaitTotal()),
          String.format(Locale.ROOT, "%,d", r.portRange().size()), ratio(r.pressure()), ratio(r.maxDestinationPressure()),
          r.topDestinations().isEmpty() ? "-" : r.topDestinations().getFirst().address()
        });
      } else {
        cells.add(new String[] {
          Long.toString(ns.ref().inode()), pids(ns.ref().pids()), who, "-", "-", "-", "-", ns.status().name().toLowerCase(Locale.ROOT) + ": " + ns.error()
        });
      }
    }
    int[] width = new int[cells.getFirst().length];
    for (String[] line : cells) {
      for (int i = 0; i < line.length - 1; i++) {
        width[i] = Math.max(width[i], line[i].length());
      }
    }
    boolean[] right = {false, false, false, true, true, true, true, false};
    for (String[] line : cells) {
      StringBuilder b = new StringBuilder();
      for (int i = 0; i < line.length; i++) {
        if (i > 0) {
          b.append("  ");
        }
        if (i == line.length - 1) {
          b.append(line[i]);
        } else {
          b.append(String.format("%" + (right[i] ? "" : "-") + width[i] + "s", line[i]));
        }
      }
      out.println(b.toString().stripTrailing());
    }
  }

  /** At most three PIDs, then how many more: {@code 1203,1250,1301 +12}. */
  static String pids(List<Integer> pids) {
    if (pids.isEmpty()) {
      return "-";
    }
    String shown = pids.stream().limit(3).map(String::valueOf).reduce((a, b) -> a + "," + b).orElse("");
    return pids.size() > 3 ? shown + " +" + (pids.size() - 3) : shown;
  }

  static Map<String, Object> toJson(KernelVersion kernel, CensusReport r, long sockstat, NatVerdict nat) {
    var json = new LinkedHashMap<String, Object>();
    json.put("kernel", kernel.release().isEmpty() ? "unknown" : kernel.release());
    json.put("kernelVersion", kernel.shortVersion());
    json.putAll(namespaceJson(r, sockstat));
    var natJson = new LinkedHashMap<String, Object>();
    natJson.put("detected", nat.detected());
    natJson.put("evidence", nat.evidence());
    json.put("nat", natJson);
    return json;
  }

  /** The census of one namespace, as {@code census --json} and each item of {@code census --all-netns --json} carry it. */
  static Map<String, Object> namespaceJson(CensusReport r, long sockstat) {
    var json = new LinkedHashMap<String, Object>();
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
