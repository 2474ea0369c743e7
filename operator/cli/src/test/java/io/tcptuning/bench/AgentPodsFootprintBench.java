package io.tcptuning.bench;

import io.fabric8.kubernetes.api.model.LabelSelectorBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.tcptuning.api.v1alpha1.TcpTuningNodeState;
import io.tcptuning.api.v1alpha1.TcpTuningNodeStateStatus;
import io.tcptuning.api.v1alpha1.TcpTuningPolicy;
import io.tcptuning.api.v1alpha1.TcpTuningPolicySpec;
import io.tcptuning.node.netns.NetnsScanner;
import io.tcptuning.policy.PolicyReader;
import io.tcptuning.testing.TestNamespace;
import io.tcptuning.testing.TestPod;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Agent idle CPU with pods (issue 12, "Performance": <= 10 millicores with 100 pod namespaces at
 * the default census interval). Starts 100 "pods" ({@link TestPod}: a named namespace with a
 * process in a real cgroup carrying the pod's UID, and the pod in the mock API server), then runs
 * the real {@code tcptune.jar agent} process (over TLS, a token file, its node a namespace of its
 * own) twice at the default 15 s census interval and measures its CPU over the window:
 *
 * <ul>
 *   <li>measuring only: a policy without pod selectors; every census finds, maps and measures the
 *       100 namespaces;
 *   <li>tuning pods: a podSelector that selects all 100; they are tuned at start, then the agent
 *       looks for new namespaces every second, checks the tuned ones for drift at every census
 *       and measures all of them.
 * </ul>
 *
 * Also prints, in this JVM, what one scan of the node's namespaces costs (the per-second work
 * while a policy selects pods).
 *
 * <p>Run: {@code operator/bench/agent-pods-footprint.sh [window-seconds] [pods]} (root).
 */
public final class AgentPodsFootprintBench {
  static final String NODE = AgentFootprintBench.NODE;

  public static void main(String[] args) throws Exception {
    Path jar = Path.of(args.length > 0 ? args[0] : "target/tcptune.jar").toAbsolutePath();
    int window = args.length > 1 ? Integer.parseInt(args[1]) : 60;
    int podCount = args.length > 2 ? Integer.parseInt(args[2]) : 100;
    if (!TestPod.canCreate()) {
      System.err.println("bench: needs root and a writable cgroup v2 hierarchy at " + TestPod.CGROUP_ROOT);
      System.exit(1);
    }
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    List<TestPod> pods = new ArrayList<>();
    List<String> rows = new ArrayList<>();
    String scanLine;
    // The mock only: its pods are bare objects (no containers, no service account), which a real
    // API server would refuse.
    try (AgentBenchApi api = new AgentBenchApi.Mock(); TestNamespace ns = TestNamespace.create("bench-podnode")) {
      KubernetesClient client = api.client();
      TcpTuningPolicy policy = api.createNodeAndPolicy();
      long t0 = System.nanoTime();
      for (int i = 0; i < podCount; i++) {
        Pod p = client.pods().inNamespace("bench").resource(new PodBuilder().withNewMetadata().withName("client-" + i).withNamespace("bench")
            .withLabels(Map.of("role", "client")).endMetadata().withNewSpec().withNodeName(NODE).endSpec().build()).create();
        pods.add(TestPod.start("bp" + i, p.getMetadata().getUid()));
      }
      System.err.printf("bench: %d pods started in %d ms%n", podCount, (System.nanoTime() - t0) / 1_000_000);
      scanLine = scanCost();

      TcpTuningPolicySpec measuring = agentSpec(policy.getSpec(), false);
      TcpTuningPolicySpec tuning = agentSpec(policy.getSpec(), true);
      for (var run : List.of(Map.entry("measuring only", measuring), Map.entry("tuning " + podCount + " pods", tuning))) {
        String spec = new PolicyReader().writeSpec(run.getValue());
        List<String> flags = new ArrayList<>(AgentFootprintBench.agentFlags());
        // TCPTUNE_BENCH_EXTRA_FLAGS="-Xlog:gc ..." adds JVM flags (with TCPTUNE_BENCH_LOG=file to keep the output).
        String extra = System.getenv("TCPTUNE_BENCH_EXTRA_FLAGS");
        if (extra != null && !extra.isBlank()) {
          flags.addAll(List.of(extra.strip().split("\\s+")));
        }
        AgentFootprintBench.Result r = AgentFootprintBench.run(java, flags, jar, ns, api, policy, window,
            Map.of("TCPTUNE_POLICY_SPEC", spec));
        TcpTuningNodeStateStatus s = client.resources(TcpTuningNodeState.class).withName(NODE).get().getStatus();
        rows.add("%-22s %8d %10.1f %10.2f %12.2f %11s %10s".formatted(run.getKey(), r.firstReportMs(), r.rssMiB(), r.millicores(),
            r.millicores() / 10.0, s.getNamespaces(), s.getPods() == null ? "-" : s.getPods().getTuned() + "/" + s.getPods().getSelected()));
      }
    } finally {
      for (TestPod p : pods) {
        p.close();
      }
    }
    System.out.printf("%nAgent with %d pod namespaces, %d s idle window at the default 15 s census interval (target: 10 millicores)%n", podCount, window);
    System.out.printf("%-22s %8s %10s %10s %12s %11s %10s%n", "policy", "1st rpt", "RSS MiB", "mCPU", "CPU/target", "namespaces", "tuned");
    rows.forEach(System.out::println);
    System.out.println(scanLine);
  }

  static TcpTuningPolicySpec agentSpec(TcpTuningPolicySpec spec, boolean selectPods) {
    TcpTuningPolicySpec agent = new TcpTuningPolicySpec();
    agent.setMode(spec.effectiveMode());
    agent.setSysctls(spec.getSysctls());
    if (selectPods) {
      agent.setPodSelector(new LabelSelectorBuilder().withMatchLabels(Map.of("role", "client")).build());
    }
    return agent;
  }

  /** One scan of the node's namespaces (/proc listing, a readlink per process, the bind mounts): the per-second work. */
  static String scanCost() throws Exception {
    NetnsScanner scanner = new NetnsScanner();
    int found = 0;
    for (int i = 0; i < 200; i++) {
      found = scanner.scan().size(); // warm-up
    }
    int rounds = 500;
    long cpu0 = cpuNanos();
    long t0 = System.nanoTime();
    for (int i = 0; i < rounds; i++) {
      scanner.scan();
    }
    double wallUs = (System.nanoTime() - t0) / 1e3 / rounds;
    double cpuUs = (cpuNanos() - cpu0) / 1e3 / rounds;
    int processes;
    try (var s = Files.list(Path.of("/proc"))) {
      processes = (int) s.filter(p -> p.getFileName().toString().chars().allMatch(Character::isDigit)).count();
    }
    return "one namespace scan (%d namespaces, %d processes): %.0f us wall, %.0f us CPU; at one a second %.2f millicores"
        .formatted(found, processes, wallUs, cpuUs, cpuUs / 1000.0);
  }

  private static long cpuNanos() {
    return java.lang.management.ManagementFactory.getThreadMXBean().getCurrentThreadCpuTime();
  }
}
