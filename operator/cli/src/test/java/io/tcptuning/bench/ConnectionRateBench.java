package io.tcptuning.bench;

import io.tcptuning.testing.ProjectPaths;

import io.tcptuning.cli.ShortConnectionLoad;
import io.tcptuning.testing.TestNamespace;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The project's outcome as a number (issue "Performance"): the highest rate of short connections
 * to one destination that runs for longer than TIME_WAIT (60 s) without a single errno 99, with
 * the kernel's default sysctls and after {@code tcptune apply -f high-churn-clients.yaml}.
 *
 * <p>Traffic is not loopback: {@code tcp_tw_reuse} defaults to 2, which reuses TIME_WAIT ports
 * for loopback only and would hide the problem on 127.0.0.1. Every probe gets two fresh
 * namespaces, client and server, joined by a veth pair holding 10.213.77.1/30 and .2/30, which
 * exist only there. Only the client namespace is tuned; the host namespace is never written.
 *
 * <p>The default ceiling is measured, not assumed: one probe offers more than the range can carry
 * and yields how many connections fit before the first errno 99 and when TIME_WAIT ports come
 * back, hence an estimate; a short search around the estimate then keeps the highest rate that
 * ran the whole probe (> 60 s) with zero errno 99. The tuned probe offers ten times that rate.
 * Every probe ends at its first errno 99: with the range full, each further connect() scans all
 * of it in vain (milliseconds of kernel CPU each), which would only slow the machine down.
 *
 * <p>TIME_WAIT lasts 60 s plus timer-wheel slack (up to 2 s at HZ=250), and the worst moment for
 * rate r is when r x (the longest lifetime) ports are held, first reached a few seconds after
 * 60 s: a probe of 75 s covers it.
 *
 * <p>Run: {@code operator/bench/connection-rate.sh} (root, after {@code ./mvnw package}).
 * Arguments: {@code [jar] [policy] [probe-seconds] [saturation-rate] [tuned-multiple]}.
 */
public final class ConnectionRateBench {
  static final String CLIENT_ADDRESS = "10.213.77.1";
  static final String SERVER_ADDRESS = "10.213.77.2";
  static final int PORT = 7070; // below both port ranges: never an ephemeral port
  static final int MAX_SEARCH_PROBES = 3;
  static final List<String> WATCHED = List.of("net.ipv4.tcp_tw_reuse", "net.ipv4.tcp_timestamps", "net.ipv4.ip_local_port_range");

  private static final Pattern SECOND = Pattern.compile("second=(\\d+) ok=(\\d+) eaddrnotavail=(\\d+) other=(\\d+)");
  private static final Pattern SUMMARY = Pattern.compile(
      "ok=(\\d+) eaddrnotavail=(\\d+) other=(\\d+) elapsedMs=(\\d+) maxLagMs=(\\d+) stoppedMs=(-?\\d+) first=(.*)");
  private static final Pattern FILL = Pattern.compile("fitted=(\\d+) backMs=(-?\\d+)");

  /** Everything still alive, for the shutdown hook: processes first, then their namespaces. */
  private static final Set<Process> PROCESSES = ConcurrentHashMap.newKeySet();
  private static final Set<TestNamespace> NAMESPACES = ConcurrentHashMap.newKeySet();

  /**
   * One run of the paced client against a fresh pair of namespaces. It ends at the first errno 99
   * ({@code stoppedMs}, else -1); a fill probe then also waits for ports to come back
   * ({@code backMs}, else -1).
   */
  record Probe(String configuration, int offered, int seconds, long ok, long eaddrnotavail, long other, long elapsedMs,
      long stoppedMs, long backMs, long timeWait, int[] okPerSecond, int[] eaddrnotavailPerSecond, String first) {
    double actualRate() {
      return (ok + eaddrnotavail + other) * 1000.0 / Math.max(1, elapsedMs);
    }

    double ranSeconds() {
      return stoppedMs >= 0 ? stoppedMs / 1000.0 : elapsedMs / 1000.0;
    }

    /** The client kept the schedule: it made the offered connections within 3 % of the time. */
    boolean keptPace() {
      return actualRate() >= offered * 0.97;
    }

    boolean sustained() {
      return eaddrnotavail == 0 && other == 0 && stoppedMs < 0 && seconds > 60 && keptPace();
    }

    int firstErrno99Second() {
      for (int s = 0; s < eaddrnotavailPerSecond.length; s++) {
        if (eaddrnotavailPerSecond[s] > 0) {
          return s;
        }
      }
      return -1;
    }

    String verdict() {
      if (eaddrnotavail > 0) {
        return "errno 99 at %.1f s, stopped".formatted(stoppedMs / 1000.0)
            + (backMs >= 0 ? "; ports back at %.1f s".formatted(backMs / 1000.0) : "");
      }
      if (other > 0) {
        return "other errors: " + first;
      }
      if (!keptPace()) {
        return "client behind (machine-limited)";
      }
      return seconds > 60 ? "sustained" : "too short to tell";
    }
  }

  public static void main(String[] args) throws Exception {
    Path jar = Path.of(args.length > 0 ? args[0] : "target/tcptune.jar").toAbsolutePath();
    Path policy = Path.of(args.length > 1 ? args[1] : ProjectPaths.resolve("deploy/examples/high-churn-clients.yaml").toString()).toAbsolutePath();
    int seconds = args.length > 2 ? Integer.parseInt(args[2]) : 75;
    int saturationRate = args.length > 3 ? Integer.parseInt(args[3]) : 1000;
    int multiple = args.length > 4 ? Integer.parseInt(args[4]) : 10;
    if (!Files.isRegularFile(jar) || !Files.isRegularFile(policy)) {
      throw new IllegalArgumentException("need the jar (" + jar + ") and the policy (" + policy + ")");
    }
    Map<String, String> hostBefore = hostSysctls();
    Thread hook = Thread.ofPlatform().unstarted(ConnectionRateBench::cleanUp);
    Runtime.getRuntime().addShutdownHook(hook);
    List<Probe> probes = new ArrayList<>();
    long t0 = System.nanoTime();
    try {
      System.out.printf("Connection rate bench, %s, %d CPUs, load average %s; %d s per probe, client %s -> server %s:%d over veth%n",
          Files.readString(Path.of("/proc/sys/kernel/osrelease")).strip(), Runtime.getRuntime().availableProcessors(),
          Files.readString(Path.of("/proc/loadavg")).split(" ")[0], seconds, CLIENT_ADDRESS, SERVER_ADDRESS, PORT);

      // 1. Saturate the default range: how many fit, and when do TIME_WAIT ports come back?
      Probe saturation = probe(null, jar, "fill", saturationRate, seconds + 30);
      probes.add(saturation);
      int estimate = estimate(saturation);

      // 2. A short search around the estimate; each probe lasts longer than TIME_WAIT.
      int best = 0;
      int failed = saturation.eaddrnotavail() > 0 ? saturationRate : Integer.MAX_VALUE;
      int rate = estimate;
      for (int i = 0; i < MAX_SEARCH_PROBES && rate > 0 && rate < failed; i++) {
        Probe p = probe(null, jar, "pace-until-errno99", rate, seconds);
        probes.add(p);
        if (p.sustained()) {
          best = Math.max(best, rate);
        } else if (p.eaddrnotavail() > 0) {
          failed = Math.min(failed, rate);
        } else {
          break; // the client, not the port range, was the limit: searching further says nothing
        }
        if (best > 0 && failed - best <= Math.max(10, best / 20)) {
          break; // bracketed within 5 %
        }
        rate = best > 0 ? Math.min(round10(best * 1.05), failed - 10) : round10(rate * 0.95);
      }

      // 3. The example policy, applied in the client namespace only, at `multiple` times that rate.
      Probe tuned = best > 0 ? probe(policy, jar, "pace-until-errno99", best * multiple, seconds) : null;
      if (tuned != null) {
        probes.add(tuned);
      }

      System.out.printf("%nTable (each probe: fresh client+server namespaces; TIME_WAIT counted with ss in the client namespace right after the client finished)%n");
      System.out.printf("%-50s %9s %8s %6s %10s %8s %5s %9s  %s%n", "configuration (client namespace)", "offered/s", "actual/s", "secs",
          "successes", "errno 99", "other", "TIME_WAIT", "verdict");
      for (Probe p : probes) {
        System.out.printf("%-50s %9d %8.0f %6.1f %10d %8d %5d %9d  %s%n", p.configuration(), p.offered(), p.actualRate(), p.ranSeconds(),
            p.ok(), p.eaddrnotavail(), p.other(), p.timeWait(), p.verdict());
      }
      System.out.printf("%nSuccesses / errno 99 per 5 s:%n");
      for (Probe p : probes) {
        System.out.printf("  %-30s %d/s: %s%n", p.configuration().replaceAll(" \\(.*", ""), p.offered(), timeline(p));
      }
      System.out.printf("%nDefault sustained rate (highest with zero errno 99 for %d s): %s%n", seconds,
          best > 0 ? best + "/s" + (failed < Integer.MAX_VALUE ? " (errno 99 at " + failed + "/s)" : "") : "not found");
      if (tuned != null) {
        System.out.printf("After apply of %s: %d/s offered, %s%n", policy.getFileName(), tuned.offered(), tuned.verdict());
        System.out.printf("Ratio: %s (target >= 10x)%n", tuned.sustained()
            ? "%.1fx (%d/s vs %d/s); the tuned ceiling is higher: this is the rate offered, not a limit found".formatted(
                (double) tuned.offered() / best, tuned.offered(), best)
            : "not shown: the tuned probe did not run clean at " + tuned.offered() + "/s");
      }
    } finally {
      cleanUp();
      Runtime.getRuntime().removeShutdownHook(hook);
      Map<String, String> hostAfter = hostSysctls();
      System.out.printf("Total %.0f s. Host namespace sysctls %s: %s%n", (System.nanoTime() - t0) / 1e9,
          hostAfter.equals(hostBefore) ? "unchanged" : "CHANGED (was " + hostBefore + ")", hostAfter);
    }
  }

  /**
   * Connections that fitted before the first errno 99, over the time until the first TIME_WAIT
   * port came back (both counted from the first connection), rounded down to 10/s. Ports expire
   * in timer-wheel batches, so later ones may live a little longer: this is only where the search
   * starts, not a result.
   */
  static int estimate(Probe p) {
    if (p.stoppedMs() < 0) {
      System.out.printf("  no errno 99 at %d/s: the default ceiling is above the saturation rate%n", p.offered());
      return round10(p.offered());
    }
    if (p.backMs() < 0) {
      throw new IllegalStateException("no TIME_WAIT port came back within " + p.seconds() + " s of the first connection");
    }
    int estimate = round10(p.ok() * 1000.0 / p.backMs());
    System.out.printf("  fill: %d connections fitted before errno 99 at %.1f s; the first TIME_WAIT port came back at %.1f s;"
        + " estimate %d / %.1f s -> %d/s%n", p.ok(), p.stoppedMs() / 1000.0, p.backMs() / 1000.0, p.ok(), p.backMs() / 1000.0, estimate);
    return estimate;
  }

  /** One probe: namespaces, server, optional policy, paced client, TIME_WAIT count, clean-up. */
  static Probe probe(Path policy, Path jar, String mode, int rate, int seconds) throws Exception {
    TestNamespace client = track(TestNamespace.create("rate-client"));
    Process server = null;
    try {
      TestNamespace serverNs = track(TestNamespace.create("rate-server"));
      try {
        guardNotHost(client);
        guardNotHost(serverNs);
        // Kernel defaults here, as a real host has them (TestNamespace turns RFC 1337 on for tests).
        client.setSysctl("net.ipv4.tcp_rfc1337", "0");
        serverNs.setSysctl("net.ipv4.tcp_rfc1337", "0");
        client.exec("ip", "link", "add", "rate0", "type", "veth", "peer", "name", "rate1", "netns", serverNs.name()).check();
        client.exec("ip", "addr", "add", CLIENT_ADDRESS + "/30", "dev", "rate0").check();
        client.exec("ip", "link", "set", "rate0", "up").check();
        serverNs.exec("ip", "addr", "add", SERVER_ADDRESS + "/30", "dev", "rate1").check();
        serverNs.exec("ip", "link", "set", "rate1", "up").check();
        server = start(serverNs, "serve", Integer.toString(PORT), SERVER_ADDRESS);
        String ready = new String(server.getInputStream().readNBytes(("listening " + PORT).length()), StandardCharsets.UTF_8);
        if (!ready.equals("listening " + PORT)) {
          throw new IllegalStateException("server did not start: " + ready);
        }
        String configuration = "default";
        if (policy != null) {
          Path state = Files.createTempDirectory("tcptune-rate-state");
          var applied = client.exec(javaBin(), "-jar", jar.toString(), "apply", "-f", policy.toString(), "--state-dir", state.toString());
          if (applied.exitCode() != 0) {
            throw new IllegalStateException("apply failed: " + applied.stderr() + applied.stdout());
          }
          configuration = policy.getFileName().toString().replace(".yaml", "");
        }
        configuration += " (" + describe(client) + ")";
        System.out.printf("probe: %-52s %d/s for %d s ...%n", configuration, rate, seconds);

        Process load = start(client, mode, SERVER_ADDRESS, Integer.toString(PORT), Integer.toString(rate), Integer.toString(seconds));
        String out = new String(load.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        int exit = load.waitFor();
        PROCESSES.remove(load);
        long timeWait = client.exec("ss", "-Htan", "state", "time-wait").check().stdout().lines().count();
        Probe p = parse(configuration, rate, seconds, out, exit, timeWait);
        System.out.printf("       %d ok, %d errno 99, %d other, %.0f/s actual, %d TIME_WAIT: %s%n", p.ok(), p.eaddrnotavail(), p.other(),
            p.actualRate(), p.timeWait(), p.verdict());
        return p;
      } finally {
        stop(server);
        close(serverNs);
      }
    } finally {
      close(client);
    }
  }

  static Probe parse(String configuration, int rate, int seconds, String out, int exit, long timeWait) {
    int[] ok = new int[seconds];
    int[] e99 = new int[seconds];
    Matcher summary = null;
    long backMs = -1;
    for (String line : out.split("\n")) {
      Matcher m = SECOND.matcher(line);
      if (m.matches()) {
        ok[Integer.parseInt(m.group(1))] = Integer.parseInt(m.group(2));
        e99[Integer.parseInt(m.group(1))] = Integer.parseInt(m.group(3));
      } else if ((m = SUMMARY.matcher(line)).matches()) {
        summary = m;
      } else if ((m = FILL.matcher(line)).matches()) {
        backMs = Long.parseLong(m.group(2));
      }
    }
    if (exit != 0 || summary == null) {
      throw new IllegalStateException("load generator exited " + exit + ":\n" + out);
    }
    return new Probe(configuration, rate, seconds, Long.parseLong(summary.group(1)), Long.parseLong(summary.group(2)),
        Long.parseLong(summary.group(3)), Long.parseLong(summary.group(4)), Long.parseLong(summary.group(6)), backMs, timeWait, ok, e99,
        summary.group(7));
  }

  static String timeline(Probe p) {
    int end = p.seconds();
    while (end > 0 && p.okPerSecond()[end - 1] == 0 && p.eaddrnotavailPerSecond()[end - 1] == 0) {
      end--; // a stopped probe: nothing was attempted past this second
    }
    StringBuilder sb = new StringBuilder();
    for (int s = 0; s < end; s += 5) {
      long ok = 0;
      long e = 0;
      for (int i = s; i < Math.min(s + 5, end); i++) {
        ok += p.okPerSecond()[i];
        e += p.eaddrnotavailPerSecond()[i];
      }
      sb.append(ok).append(e > 0 ? "/" + e : "").append(' ');
    }
    return sb.toString().strip();
  }

  static String describe(TestNamespace ns) throws IOException, InterruptedException {
    return "tw_reuse " + ns.sysctl("net.ipv4.tcp_tw_reuse") + ", ts " + ns.sysctl("net.ipv4.tcp_timestamps") + ", range "
        + ns.sysctl("net.ipv4.ip_local_port_range");
  }

  /** Every write in this bench rests on this: the namespace really is not the host's. */
  static void guardNotHost(TestNamespace ns) throws IOException, InterruptedException {
    String inside = ns.exec("readlink", "/proc/self/ns/net").check().stdout().strip();
    if (inside.equals(Files.readSymbolicLink(Path.of("/proc/self/ns/net")).toString())) {
      throw new IllegalStateException("ip netns exec " + ns.name() + " did not enter a new namespace");
    }
  }

  /** The load generator in its own JVM inside {@code ns}; only test classes, no dependencies. */
  static Process start(TestNamespace ns, String... args) throws Exception {
    // exec:java runs us inside Maven's JVM, whose java.class.path is not the test class path.
    String classes = Path.of(ShortConnectionLoad.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
    List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", ns.name(), javaBin(), "-XX:+UseSerialGC", "-cp", classes,
        ShortConnectionLoad.class.getName()));
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    PROCESSES.add(p);
    return p;
  }

  static String javaBin() {
    return Path.of(System.getProperty("java.home"), "bin", "java").toString();
  }

  static TestNamespace track(TestNamespace ns) {
    NAMESPACES.add(ns);
    return ns;
  }

  static void stop(Process p) throws InterruptedException {
    if (p != null) {
      p.destroyForcibly().waitFor();
      PROCESSES.remove(p);
    }
  }

  static void close(TestNamespace ns) throws IOException {
    if (NAMESPACES.remove(ns)) {
      ns.close();
    }
  }

  /** Kills what runs in our namespaces (a process keeps its namespace alive), then deletes them. */
  static void cleanUp() {
    for (Process p : List.copyOf(PROCESSES)) {
      try {
        stop(p);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    for (TestNamespace ns : List.copyOf(NAMESPACES)) {
      try {
        close(ns);
      } catch (IOException e) {
        System.err.println("could not delete namespace " + ns.name() + ": " + e);
      }
    }
  }

  static Map<String, String> hostSysctls() throws IOException {
    Map<String, String> m = new LinkedHashMap<>();
    for (String s : WATCHED) {
      m.put(s, TestNamespace.hostSysctl(s));
    }
    return m;
  }

  static int round10(double rate) {
    return (int) (rate / 10) * 10;
  }
}
