package io.tcptuning.node.census;

import io.tcptuning.node.ProcNet;
import io.tcptuning.node.census.TimeWaitCensus.Source;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.function.LongSupplier;
import java.util.regex.Pattern;

/**
 * The census benchmark, run by {@code operator/bench/census-bench.sh} INSIDE a throwaway
 * namespace full of TIME_WAIT sockets. Times, on the same sockets: our netlink census and /proc
 * fallback (warm, in-process, median), the sockstat total alone, {@code ss | wc -l},
 * {@code netstat | grep | wc -l}, and optionally a cold CLI process (median of 3, JVM start included); then
 * prints one row. Counts must agree exactly with ss; sockstat's tw before and after tells whether
 * a socket expired during the measurement (the row is then flagged).
 *
 * <pre>CensusBench --label 100k --runs 7 [--cold CMD...]</pre>
 */
public final class CensusBench {
  private static final Pattern TOTAL = Pattern.compile("\"total\"\\s*:\\s*(\\d+)");

  private record Timing(long count, double medianMicros) {}

  public static void main(String[] args) throws Exception {
    String label = "?";
    int runs = 7;
    List<String> cold = List.of();
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--label" -> label = args[++i];
        case "--runs" -> runs = Integer.parseInt(args[++i]);
        case "--cold" -> {
          cold = List.of(Arrays.copyOfRange(args, i + 1, args.length));
          i = args.length;
        }
        case "--header" -> {
          header();
          return;
        }
        default -> throw new IllegalArgumentException("unknown argument " + args[i]);
      }
    }
    var netlinkCensus = new TimeWaitCensus(ProcNet.PROC, Source.NETLINK);
    var procCensus = new TimeWaitCensus(ProcNet.PROC, Source.PROC);
    long before = netlinkCensus.timeWaitTotal();

    // Warm-up: let the JIT compile the parse loops before anything is timed.
    for (int i = 0; i < 3; i++) {
      netlinkCensus.take(10);
      procCensus.take(10);
    }
    // Cheapest first, so the comparisons that matter finish long before the oldest sockets'
    // 60 s are up; after each measurement sockstat tells whether a socket expired meanwhile.
    var expired = new ArrayList<String>();
    Timing netlink = time(runs + 4, () -> netlinkCensus.take(10).timeWaitTotal());
    check(before, netlinkCensus, "netlink", expired);
    Timing sockstat = time(Math.max(runs, 101), netlinkCensus::timeWaitTotal);
    Timing ss = time(runs, () -> shellCount("ss -tan state time-wait | wc -l") - 1);
    check(before, netlinkCensus, "ss", expired);
    Timing proc = time(runs + 4, () -> procCensus.take(10).timeWaitTotal());
    check(before, netlinkCensus, "proc", expired);
    List<String> coldCommand = cold;
    Timing coldRun = cold.isEmpty() ? null : time(3, () -> coldTotal(coldCommand));
    check(before, netlinkCensus, "cold", expired);
    Timing netstat = time(Math.min(runs, 3), () -> shellCount("netstat -ant | grep TIME_WAIT | wc -l"));
    check(before, netlinkCensus, "netstat", expired);

    var mismatches = new ArrayList<String>();
    compare("netlink", netlink, ss, expired, mismatches);
    compare("proc", proc, ss, expired, mismatches);
    compare("sockstat", sockstat, ss, expired, mismatches);
    compare("netstat", netstat, ss, expired, mismatches);
    if (coldRun != null) {
      compare("cold", coldRun, ss, expired, mismatches);
    }
    String verdict = mismatches.isEmpty() ? "counts match ss" : "MISMATCH " + String.join(" ", mismatches);
    if (!expired.isEmpty()) {
      verdict += "; sockets expired during: " + String.join(", ", expired) + " (not compared)";
    }
    System.out.printf(
        Locale.ROOT,
        "%-6s %9d | %9.2f %9.2f %9.1f | %9.2f %10.2f %9s | %8.1fx %8.1fx %8s | %s%n",
        label,
        ss.count(),
        netlink.medianMicros() / 1000,
        proc.medianMicros() / 1000,
        sockstat.medianMicros(),
        ss.medianMicros() / 1000,
        netstat.medianMicros() / 1000,
        coldRun == null ? "-" : String.format(Locale.ROOT, "%.0f", coldRun.medianMicros() / 1000),
        ss.medianMicros() / netlink.medianMicros(),
        netstat.medianMicros() / netlink.medianMicros(),
        coldRun == null ? "-" : String.format(Locale.ROOT, "%.2fx", ss.medianMicros() / coldRun.medianMicros()),
        verdict);
  }

  /** Notes {@code what} as tainted when sockstat's count moved away from {@code before}. */
  private static void check(long before, TimeWaitCensus census, String what, List<String> expired) {
    if (!expired.isEmpty() || census.timeWaitTotal() != before) {
      expired.add(what);
    }
  }

  private static void compare(String what, Timing t, Timing ss, List<String> expired, List<String> mismatches) {
    if (!expired.contains(what) && !expired.contains("ss") && t.count() != ss.count()) {
      mismatches.add(what + "=" + t.count() + "/ss=" + ss.count());
    }
  }

  private static void header() {
    System.out.printf(
        Locale.ROOT,
        "%-6s %9s | %9s %9s %9s | %9s %10s %9s | %9s %9s %8s | %s%n",
        "size", "TIME_WAIT", "netlink", "proc", "sockstat", "ss|wc", "netstat|wc", "cold cli", "ss/ours", "netstat/", "ss/cli", "check");
    System.out.printf(
        Locale.ROOT,
        "%-6s %9s | %9s %9s %9s | %9s %10s %9s | %9s %9s %8s |%n",
        "", "(ss)", "ms", "ms", "us", "ms", "ms", "ms", "", "ours", "");
  }

  private static Timing time(int runs, LongSupplier work) {
    long[] micros = new long[runs];
    long count = -1;
    for (int i = 0; i < runs; i++) {
      long t0 = System.nanoTime();
      long c = work.getAsLong();
      micros[i] = (System.nanoTime() - t0) / 1000;
      if (count >= 0 && c != count) {
        count = -2; // counts moved between runs: reported as a mismatch
      } else if (count != -2) {
        count = c;
      }
    }
    Arrays.sort(micros);
    double median = runs % 2 == 1 ? micros[runs / 2] : (micros[runs / 2 - 1] + micros[runs / 2]) / 2.0;
    return new Timing(count, median);
  }

  private static long shellCount(String pipeline) {
    try {
      Process p = new ProcessBuilder("sh", "-c", pipeline).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
      p.waitFor();
      return Long.parseLong(out);
    } catch (IOException | InterruptedException | NumberFormatException e) {
      throw new IllegalStateException(pipeline + ": " + e, e);
    }
  }

  private static long coldTotal(List<String> command) {
    try {
      Process p = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      p.waitFor();
      var m = TOTAL.matcher(out);
      if (!m.find()) {
        throw new IllegalStateException("no total in the output of " + command + ": " + out);
      }
      return Long.parseLong(m.group(1));
    } catch (IOException | InterruptedException e) {
      throw new IllegalStateException(e);
    }
  }
}
