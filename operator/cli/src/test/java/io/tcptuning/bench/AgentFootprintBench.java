package io.tcptuning.bench;

import io.tcptuning.testing.ProjectPaths;

import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.tcptuning.api.v1alpha1.TcpTuningNodeState;
import io.tcptuning.api.v1alpha1.TcpTuningPolicy;
import io.tcptuning.node.ProcFiles;
import io.tcptuning.operator.AgentDaemonSetFactory;
import io.tcptuning.testing.MockApiServer;
import io.tcptuning.testing.TestNamespace;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Agent footprint (issue "Performance"): runs the real {@code tcptune.jar agent} process against
 * the mock API server (over TLS with a token file and the CA, found as a pod finds it), tuning a namespace of its own, and prints for each JVM flag set the time
 * to its first node report, its RSS and its idle CPU at the default 15 s census interval, beside
 * the targets (RSS <= 80 MiB, CPU <= 5 millicores, first report <= 2 s) as ratios.
 *
 * <p>Run: {@code operator/bench/agent-footprint.sh [window-seconds]} (root, after
 * {@code ./mvnw package}). TCPTUNE_BENCH_FLAGSETS, TCPTUNE_BENCH_INSPECT and TCPTUNE_BENCH_LOG
 * (see below) help find where memory and start-up time go.
 *
 * <p>Last run (2 cores shared with the mock API server and the bridge):
 * <pre>
 * Agent footprint, 30 s idle window at the default 15 s census interval (targets: RSS 64 MiB, 5 millicores, first report 2000 ms)
 * JVM flags                   1st rpt    RSS MiB   peak MiB       mCPU   RSS/target CPU/target
 * image defaults                 1237      112.5      112.5       2.00         1.76       0.40
 * agent flags                    1113       62.1       66.2       1.67         0.97       0.33
 * agent flags + AOT cache         846       64.8       70.7       1.33         1.01       0.27
 * </pre>
 * The run before: agent flags 1206 ms, 62.3 MiB, 2.0 mCPU. What is left is mostly the JVM itself
 * (libjvm.so ~20 MiB resident), the JDK's TLS and FFM classes, and a ~7 MiB heap.
 */
public final class AgentFootprintBench {
  static final String NODE = "bench-node";
  /** With fabric8, Jackson and micrometer in the agent (the hand-written stack's target was 64 MiB). */
  static final double TARGET_RSS_MIB = 80;

  public static void main(String[] args) throws Exception {
    Path jar = Path.of(args.length > 0 ? args[0] : "target/tcptune.jar").toAbsolutePath();
    int window = args.length > 1 ? Integer.parseInt(args[1]) : 60;
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Map<String, List<String>> flagSets = new java.util.LinkedHashMap<>();
    flagSets.put("image defaults", List.of("-XX:+UseSerialGC", "-Xss512k", "-XX:MaxRAMPercentage=70", "--enable-native-access=ALL-UNNAMED"));
    flagSets.put("agent flags", agentFlags());
    // TCPTUNE_BENCH_FLAGSETS="name=flags|name=flags" measures other flag sets instead (to try levers).
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
    List<String> rows = new ArrayList<>();
    // Over TLS with a token file, as in a pod: the TLS stack is part of what the agent costs.
    Path token = Files.createTempFile("tcptune-bench", ".token");
    Files.writeString(token, "bench-token");
    try (MockApiServer api = new MockApiServer(true); KubernetesClient client = api.newClient();
        TestNamespace ns = TestNamespace.create("bench-agent")) {
      AgentFootprintBench.api = api;
      apiEnvironment = api.podEnvironment(token);
      client.nodes().resource(new NodeBuilder().withNewMetadata().withName(NODE).withLabels(Map.of("tcptuning.io/profile", "high-churn")).endMetadata().build()).create();
      TcpTuningPolicy policy = Serialization.unmarshal(Files.readString(ProjectPaths.resolve("deploy/examples/high-churn-clients.yaml")), TcpTuningPolicy.class);
      client.resource(policy).create();
      // A training run records the AOT cache (JEP 483/514) that the last flag set uses: a
      // faster start for more resident memory (an AOT cache needs class sharing on).
      List<String> training = new ArrayList<>(agentFlagsWithSharing());
      training.add("-XX:AOTCacheOutput=" + aot);
      run(java, training, jar, ns, client, policy, 5);
      if (Files.exists(aot)) {
        List<String> withAot = new ArrayList<>(agentFlagsWithSharing());
        withAot.add("-XX:AOTCache=" + aot);
        flagSets.put("agent flags + AOT cache", withAot);
      }
      for (var e : flagSets.entrySet()) {
        Result r = run(java, e.getValue(), jar, ns, client, policy, window);
        rows.add("%-26s %8d %10.1f %10.1f %10.2f %12.2f %10.2f".formatted(e.getKey(), r.firstReportMs,
            r.rssMiB, r.hwmMiB, r.millicores, r.rssMiB / TARGET_RSS_MIB, r.millicores / 5.0));
      }
    } finally {
      Files.deleteIfExists(aot);
      Files.deleteIfExists(token);
    }
    System.out.printf("%nAgent footprint, %d s idle window at the default 15 s census interval (targets: RSS %.0f MiB, 5 millicores, first report 2000 ms)%n", window, TARGET_RSS_MIB);
    System.out.printf("%-26s %8s %10s %10s %10s %12s %10s%n", "JVM flags", "1st rpt", "RSS MiB", "peak MiB", "mCPU", "RSS/target", "CPU/target");
    rows.forEach(System.out::println);
  }

  /** The agent's flags, as the operator sets them in the DaemonSet's JAVA_TOOL_OPTIONS. */
  static List<String> agentFlags() {
    List<String> flags = new ArrayList<>(List.of(io.tcptuning.operator.AgentSettings.DEFAULT_JAVA_TOOL_OPTIONS.split(" ")));
    flags.add("--enable-native-access=ALL-UNNAMED");
    return flags;
  }

  static List<String> agentFlagsWithSharing() {
    List<String> flags = agentFlags();
    flags.remove("-Xshare:off");
    return flags;
  }

  record Result(long firstReportMs, double rssMiB, double hwmMiB, double millicores) {}

  /** Where the agents find the API server: service host and port, its CA and a token file. */
  static Map<String, String> apiEnvironment;
  static MockApiServer api;

  static Result run(String java, List<String> flags, Path jar, TestNamespace ns, KubernetesClient client,
      TcpTuningPolicy policy, int windowSeconds) throws Exception {
    return run(java, flags, jar, ns, client, policy, windowSeconds, Map.of());
  }

  /** As above, with variables that override the agent's environment (another TCPTUNE_POLICY_SPEC, say). */
  static Result run(String java, List<String> flags, Path jar, TestNamespace ns, KubernetesClient client,
      TcpTuningPolicy policy, int windowSeconds, Map<String, String> envOverrides) throws Exception {
    client.resources(TcpTuningNodeState.class).withName(NODE).delete();
    while (client.resources(TcpTuningNodeState.class).withName(NODE).get() != null) {
      Thread.sleep(20);
    }
    Path state = Files.createTempDirectory("tcptune-bench-state");
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
    // TCPTUNE_BENCH_LOG=file keeps the agents' output (appended), e.g. to see where start-up time goes.
    String log = System.getenv("TCPTUNE_BENCH_LOG");
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
        .redirectOutput(log == null ? ProcessBuilder.Redirect.DISCARD : ProcessBuilder.Redirect.appendTo(new java.io.File(log)));
    pb.environment().putAll(apiEnvironment);
    pb.environment().putAll(env);
    pb.environment().putAll(Map.of(
        "NODE_NAME", NODE, "TCPTUNE_POLICY_NAME", policy.getMetadata().getName(),
        "TCPTUNE_POLICY_SPEC", AgentDaemonSetFactory.agentSpecJson(policy.getSpec()), "TCPTUNE_STATE_DIR", state.toString(),
        "TCPTUNE_AGENT_PORT", Integer.toString(freePort()), "TCPTUNE_NETNS", ns.path().toString()));
    pb.environment().putAll(envOverrides);
    api.takeRequests();
    long t0 = System.nanoTime();
    Process p = pb.start();
    try {
      // The first report is the agent's first status write reaching the API server, read from
      // the mock's own record every 10 ms: polling the API server would take CPU from the agent.
      long firstReport = -1;
      while (firstReport < 0 && System.nanoTime() - t0 < 60_000_000_000L) {
        for (var r : api.takeRequests()) {
          if (r.getMethod().equals("PUT") && r.getPath().endsWith("/tcptuningnodestates/" + NODE + "/status")) {
            firstReport = (System.nanoTime() - t0) / 1_000_000;
            break;
          }
        }
        Thread.sleep(10);
      }
      Thread.sleep(5_000); // let start-up settle before measuring idle
      long ticks0 = cpuTicks(p.pid());
      long w0 = System.nanoTime();
      Thread.sleep(windowSeconds * 1000L);
      long ticks1 = cpuTicks(p.pid());
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
      return new Result(firstReport, statusKb(p.pid(), "VmRSS") / 1024.0, statusKb(p.pid(), "VmHWM") / 1024.0, millicores);
    } finally {
      p.destroy();
      p.waitFor();
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
