package io.tcptuning.bench;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.tcptuning.api.v1alpha1.TcpTuningNodeState;
import io.tcptuning.api.v1alpha1.TcpTuningPolicy;
import io.tcptuning.node.ProcFiles;
import io.tcptuning.operator.AgentDaemonSetFactory;
import io.tcptuning.packaging.AgentAotTraining;
import io.tcptuning.testing.TestNamespace;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * Agent footprint (issue "Performance"): runs the real {@code tcptune.jar agent} process against
 * an API server (over TLS with a token file and the CA, found as a pod finds it: fabric8's mock,
 * or a real kube-apiserver with {@code TCPTUNE_BENCH_API=kube-apiserver}, see {@link AgentBenchApi}),
 * tuning a namespace of its own, and prints for each JVM flag set the time
 * to its first node report, its RSS and its idle CPU at the default 15 s census interval, beside
 * the targets (RSS <= 80 MiB, CPU <= 5 millicores, first report <= 2 s) as ratios.
 *
 * <p>Run: {@code operator/bench/agent-footprint.sh [window-seconds]} (root, after
 * {@code ./mvnw package}). TCPTUNE_BENCH_FLAGSETS, TCPTUNE_BENCH_INSPECT and TCPTUNE_BENCH_LOG
 * (see below) help find where memory and start-up time go; TCPTUNE_BENCH_SCRAPE_SECONDS (default
 * 15, 0 = never) is how often /metrics is scraped.
 *
 * <p>Last run ({@code TCPTUNE_BENCH_ROUNDS=3}, 10 s window, /metrics scraped every 15 s; 2 cores,
 * load average 0.9 at the start, 0.3 at the end): first report (median), the agent's own CPU time
 * by then, RSS.
 * <pre>
 * image defaults                                                     2282 ms  3770 ms  178.2 MiB
 * agent flags, no AOT cache (-Xshare:off)                            1946 ms  2640 ms   90.3 MiB
 * agent flags + AOT cache trained against the API                    1019 ms  1530 ms   90.9 MiB
 * agent flags + AOT cache trained as the image is (stand-in API)      887 ms  1370 ms   91.9 MiB
 * </pre>
 */
public final class AgentFootprintBench {
  static final String NODE = AgentBenchApi.NODE;
  /** With fabric8, Jackson and micrometer in the agent (the hand-written stack's target was 64 MiB). */
  static final double TARGET_RSS_MIB = 80;

  public static void main(String[] args) throws Exception {
    Path jar = Path.of(args.length > 0 ? args[0] : "target/tcptune.jar").toAbsolutePath();
    int window = args.length > 1 ? Integer.parseInt(args[1]) : 60;
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    String loadStart = loadAverage();
    Map<String, List<String>> flagSets = new java.util.LinkedHashMap<>();
    flagSets.put("image defaults", List.of("-XX:+UseSerialGC", "-Xss512k", "-XX:MaxRAMPercentage=70", "--enable-native-access=ALL-UNNAMED"));
    flagSets.put("agent flags, no AOT cache (-Xshare:off)", agentFlags());
    // TCPTUNE_BENCH_FLAGSETS="name=flags|name=flags" measures other flag sets instead (to try levers);
    // {image-aot} in them stands for the cache trained as the image is (below).
    String custom = System.getenv("TCPTUNE_BENCH_FLAGSETS");
    if (custom != null && !custom.isBlank()) {
      flagSets.clear();
      for (String set : custom.split("\\|")) {
        String[] kv = set.split("=", 2);
        List<String> flags = new ArrayList<>(List.of(kv[1].strip().split("\\s+")));
        flags.add("--enable-native-access=ALL-UNNAMED");
        flagSets.put(kv[0].strip(), flags);
      }
    }
    Path aot = Files.createTempFile("tcptune-agent", ".aot");
    Files.delete(aot);
    Path imageAot = Files.createTempFile("tcptune-agent-image", ".aot");
    Files.delete(imageAot);
    List<String> rows = new ArrayList<>();
    // Over TLS with a token file, as in a pod: the TLS stack is part of what the agent costs.
    String apiDescription;
    try (AgentBenchApi api = AgentBenchApi.fromEnvironment(); TestNamespace ns = TestNamespace.create("bench-agent")) {
      apiDescription = api.describe();
      TcpTuningPolicy policy = api.createNodeAndPolicy();
      // A training run records the AOT cache (JEP 483/514) that the last flag set uses: a
      // faster start for more resident memory (an AOT cache needs class sharing on).
      List<String> training = new ArrayList<>(agentFlagsWithSharing());
      training.add("-XX:AOTCacheOutput=" + aot);
      run(java, training, jar, ns, api, policy, 5);
      if (Files.exists(aot)) {
        List<String> withAot = new ArrayList<>(agentFlagsWithSharing());
        withAot.add("-XX:AOTCache=" + aot);
        flagSets.put("agent flags + AOT cache trained against the API", withAot);
      }
      // What the image ships: the cache trained by the Dockerfile's own script against its
      // stand-in API server, in a throwaway namespace of its own (DryRun: it writes nothing anyway).
      if (trainAsTheImage(jar, imageAot)) {
        List<String> withAot = new ArrayList<>(agentFlagsWithSharing());
        withAot.add("-XX:AOTCache=" + imageAot);
        flagSets.put("agent flags + AOT cache trained as the image is (stand-in API)", withAot);
        flagSets.replaceAll((name, flags) -> flags.stream().map(f -> f.replace("{image-aot}", imageAot.toString())).toList());
      }
      // TCPTUNE_BENCH_ROUNDS=N (default 1): every flag set N times, interleaved, so that a load
      // that comes and goes (other builds on the machine) falls on all of them; medians printed.
      int rounds = Integer.parseInt(System.getenv().getOrDefault("TCPTUNE_BENCH_ROUNDS", "1"));
      Map<String, List<Result>> results = new java.util.LinkedHashMap<>();
      for (int round = 0; round < rounds; round++) {
        for (var e : flagSets.entrySet()) {
          results.computeIfAbsent(e.getKey(), k -> new ArrayList<>()).add(run(java, e.getValue(), jar, ns, api, policy, window));
        }
      }
      for (var e : results.entrySet()) {
        List<Result> rs = e.getValue();
        long first = (long) median(rs.stream().mapToDouble(Result::firstReportMs).toArray());
        long firstCpu = (long) median(rs.stream().mapToDouble(Result::firstReportCpuMs).toArray());
        double rss = median(rs.stream().mapToDouble(Result::rssMiB).toArray());
        double hwm = median(rs.stream().mapToDouble(Result::hwmMiB).toArray());
        double mcpu = median(rs.stream().mapToDouble(Result::millicores).toArray());
        rows.add("%-72s %8d %8d %10.1f %10.1f %10.2f %12.2f %10.2f   %s".formatted(e.getKey(), first, firstCpu, rss, hwm, mcpu,
            rss / TARGET_RSS_MIB, mcpu / 5.0, rs.size() > 1 ? rs.stream().map(r -> Long.toString(r.firstReportMs)).toList() : ""));
      }
    } finally {
      Files.deleteIfExists(aot);
      Files.deleteIfExists(imageAot);
    }
    System.out.printf("%nAgent footprint against the %s, %d s idle window at the default 15 s census interval, median of %s round(s) (targets: RSS %.0f MiB, 5 millicores, first report 2000 ms)%n",
        apiDescription, window, System.getenv().getOrDefault("TCPTUNE_BENCH_ROUNDS", "1"), TARGET_RSS_MIB);
    // Other processes on the machine slow the start-up: say how busy it was (1, 5, 15 min).
    System.out.printf("load average at start %s, at end %s%n", loadStart, loadAverage());
    System.out.printf("%-72s %8s %8s %10s %10s %10s %12s %10s   %s%n", "JVM flags", "1st rpt", "CPU ms", "RSS MiB", "peak MiB", "mCPU", "RSS/target", "CPU/target",
        "each 1st rpt");
    rows.forEach(System.out::println);
  }

  /**
   * Trains a cache as the Dockerfile does: {@code train-agent-aot.sh} (the same script, the same
   * JVM) in a network namespace made for it, against the script's stand-in API server on
   * loopback (run by this JDK, as the Dockerfile runs it by a JDK's). False, and why, if it fails.
   */
  static boolean trainAsTheImage(Path jar, Path cache) throws Exception {
    AgentAotTraining.Run run = AgentAotTraining.train(jar, cache);
    if (run.exit() != 0 || !Files.exists(cache)) {
      System.out.println("training as the image is failed:\n" + run.output());
      return false;
    }
    run.output().lines().filter(l -> l.startsWith("train-agent-aot:")).forEach(System.out::println);
    return true;
  }

  /** The agent's flags as the operator sets them: no AOT cache, no CDS archive (-Xshare:off). */
  static List<String> agentFlags() {
    List<String> flags = agentFlagsWithSharing();
    flags.add("-Xshare:off");
    return flags;
  }

  /** The operator's flags with class sharing on (an AOT cache needs it). */
  static List<String> agentFlagsWithSharing() {
    List<String> flags = new ArrayList<>(List.of(io.tcptuning.operator.AgentSettings.DEFAULT_JAVA_TOOL_OPTIONS.split(" ")));
    flags.removeIf(f -> f.startsWith("-XX:AOTCache=") || f.equals("-Xshare:off"));
    flags.add("--enable-native-access=ALL-UNNAMED");
    return flags;
  }

  static String loadAverage() throws java.io.IOException {
    String[] f = Files.readString(Path.of("/proc/loadavg")).split(" ");
    return f[0] + " " + f[1] + " " + f[2];
  }

  static double median(double[] values) {
    double[] v = values.clone();
    java.util.Arrays.sort(v);
    return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
  }

  record Result(long firstReportMs, long firstReportCpuMs, double rssMiB, double hwmMiB, double millicores) {}

  static Result run(String java, List<String> flags, Path jar, TestNamespace ns, AgentBenchApi api,
      TcpTuningPolicy policy, int windowSeconds) throws Exception {
    return run(java, flags, jar, ns, api, policy, windowSeconds, Map.of());
  }

  /** As above, with variables that override the agent's environment (another TCPTUNE_POLICY_SPEC, say). */
  static Result run(String java, List<String> flags, Path jar, TestNamespace ns, AgentBenchApi api,
      TcpTuningPolicy policy, int windowSeconds, Map<String, String> envOverrides) throws Exception {
    KubernetesClient client = api.client();
    client.resources(TcpTuningNodeState.class).withName(NODE).delete();
    while (client.resources(TcpTuningNodeState.class).withName(NODE).get() != null) {
      Thread.sleep(20);
    }
    Path state = Files.createTempDirectory("tcptune-bench-state");
    int port = freePort();
    List<String> cmd = new ArrayList<>(List.of(java));
    Map<String, String> env = new java.util.HashMap<>();
    for (String flag : flags) {
      if (flag.startsWith("env:")) { // NAME=VALUE for the agent's environment, e.g. env:MALLOC_ARENA_MAX=2
        String[] kv = flag.substring(4).split("=", 2);
        env.put(kv[0], kv[1]);
      } else {
        cmd.add(flag);
      }
    }
    cmd.addAll(List.of("-jar", jar.toString(), "agent"));
    // TCPTUNE_BENCH_LOG=file keeps the agents' output (appended), e.g. to see where start-up time goes;
    // else to a file of this run's, shown if the agent exits.
    String log = System.getenv("TCPTUNE_BENCH_LOG");
    Path output = log != null ? Path.of(log) : Files.createTempFile("tcptune-bench-agent", ".out");
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(output.toFile()));
    pb.environment().putAll(api.agentEnvironment());
    pb.environment().putAll(env);
    pb.environment().putAll(Map.of(
        "NODE_NAME", NODE, "TCPTUNE_POLICY_NAME", policy.getMetadata().getName(),
        "TCPTUNE_POLICY_SPEC", AgentDaemonSetFactory.agentSpecJson(policy.getSpec()), "TCPTUNE_STATE_DIR", state.toString(),
        "TCPTUNE_AGENT_PORT", Integer.toString(port), "TCPTUNE_NETNS", ns.path().toString()));
    pb.environment().putAll(envOverrides);
    api.forgetReports();
    long t0 = System.nanoTime();
    Process p = pb.start();
    try {
      // The first report is the agent's first status write reaching the API server, looked for
      // every 10 ms in what the bench's side already saw (the mock's record, a watch): polling
      // the API server would take CPU from the agent.
      long firstReport = -1;
      long firstReportCpuMs = -1; // the agent's own CPU time by then: what a cache saves, whatever else the machine runs
      while (firstReport < 0 && p.isAlive() && System.nanoTime() - t0 < 60_000_000_000L) {
        if (api.reported()) {
          firstReport = (System.nanoTime() - t0) / 1_000_000;
          firstReportCpuMs = cpuTicks(p.pid()) * 10;
        }
        Thread.sleep(10);
      }
      requireAlive(p, output, "before its first report");
      // Prometheus scrapes /metrics all along: a steady agent is a scraped one (the scrape's
      // classes, buffers and CPU are part of what it costs).
      Scraper scraper = Scraper.start(port);
      long ticks0;
      long ticks1;
      long w0;
      try {
        Thread.sleep(5_000); // let start-up settle before measuring idle
        requireAlive(p, output, "after its first report");
        ticks0 = cpuTicks(p.pid());
        w0 = System.nanoTime();
        Thread.sleep(windowSeconds * 1000L);
        requireAlive(p, output, "in the idle window");
        ticks1 = cpuTicks(p.pid());
      } finally {
        scraper.stop();
      }
      double seconds = (System.nanoTime() - w0) / 1e9;
      double millicores = (ticks1 - ticks0) / 100.0 / seconds * 1000;
      // TCPTUNE_BENCH_INSPECT="shell command": run with $PID set to the agent's pid, e.g. jcmd $PID VM.native_memory summary.
      String inspect = System.getenv("TCPTUNE_BENCH_INSPECT");
      if (inspect != null && !inspect.isBlank()) {
        var sh = new ProcessBuilder("sh", "-c", inspect).redirectErrorStream(true);
        sh.environment().put("PID", Long.toString(p.pid()));
        sh.environment().put("PATH", Path.of(System.getProperty("java.home"), "bin") + ":" + System.getenv("PATH"));
        System.out.println(new String(sh.start().getInputStream().readAllBytes()));
      }
      if (scraper.failures() > 0) {
        System.out.println("bench: " + scraper.failures() + " of " + scraper.scrapes() + " scrapes of the agent's /metrics failed");
      }
      return new Result(firstReport, firstReportCpuMs, statusKb(p.pid(), "VmRSS") / 1024.0, statusKb(p.pid(), "VmHWM") / 1024.0, millicores);
    } finally {
      p.destroy();
      p.waitFor();
      if (log == null) {
        Files.delete(output);
      }
      try (var files = Files.walk(state)) { // the agent's journal of this run, in the bench's own namespace
        files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
      }
    }
  }

  /** Fails, with the end of the agent's output, when the agent is no longer running. */
  static void requireAlive(Process agent, Path output, String when) throws java.io.IOException {
    if (!agent.isAlive()) {
      List<String> lines = Files.readAllLines(output);
      throw new IllegalStateException("the agent exited " + when + " with status " + agent.exitValue() + "; the end of its output ("
          + output + "):\n" + String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size())));
    }
  }

  /**
   * Scrapes the agent's /metrics every TCPTUNE_BENCH_SCRAPE_SECONDS (default 15, a common
   * Prometheus interval; 0 = never), the first at once, as Prometheus would from another host.
   */
  static final class Scraper {
    private final java.util.concurrent.ScheduledExecutorService timer = java.util.concurrent.Executors.newSingleThreadScheduledExecutor(
        Thread.ofPlatform().daemon().name("scraper").factory()); // never what keeps a failed bench from exiting
    private final java.util.concurrent.atomic.AtomicInteger scrapes = new java.util.concurrent.atomic.AtomicInteger();
    private final java.util.concurrent.atomic.AtomicInteger failures = new java.util.concurrent.atomic.AtomicInteger();

    static Scraper start(int port) {
      Scraper scraper = new Scraper();
      long every = Long.parseLong(System.getenv().getOrDefault("TCPTUNE_BENCH_SCRAPE_SECONDS", "15"));
      if (every > 0) {
        java.net.URI metrics = java.net.URI.create("http://127.0.0.1:" + port + "/metrics");
        scraper.timer.scheduleAtFixedRate(() -> scraper.scrape(metrics), 0, every, java.util.concurrent.TimeUnit.SECONDS);
      }
      return scraper;
    }

    private void scrape(java.net.URI metrics) {
      scrapes.incrementAndGet();
      try (var http = java.net.http.HttpClient.newHttpClient()) {
        var response = http.send(java.net.http.HttpRequest.newBuilder(metrics).timeout(java.time.Duration.ofSeconds(5)).build(),
            java.net.http.HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() != 200 || !response.body().contains("tcptuning_time_wait_sockets")) {
          failures.incrementAndGet();
        }
      } catch (Exception e) {
        failures.incrementAndGet();
      }
    }

    int scrapes() {
      return scrapes.get();
    }

    int failures() {
      return failures.get();
    }

    /** Stops scraping; a scrape under way is let finish (interrupted, it would count as failed). */
    void stop() throws InterruptedException {
      timer.shutdown();
      if (!timer.awaitTermination(10, java.util.concurrent.TimeUnit.SECONDS)) {
        timer.shutdownNow();
      }
    }
  }

  static int freePort() throws java.io.IOException {
    try (var s = new java.net.ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  /** utime + stime of the whole process, in clock ticks (USER_HZ = 100 on Linux). */
  static long cpuTicks(long pid) throws Exception {
    String stat = ProcFiles.read(Path.of("/proc", Long.toString(pid), "stat"));
    String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    return Long.parseLong(f[11]) + Long.parseLong(f[12]);
  }

  static long statusKb(long pid, String key) throws Exception {
    for (String line : ProcFiles.read(Path.of("/proc", Long.toString(pid), "status")).split("\n")) {
      if (line.startsWith(key + ":")) {
        return Long.parseLong(line.replaceAll("[^0-9]", ""));
      }
    }
    return -1;
  }
}
