package io.tcptuning.operator;

import static io.tcptuning.operator.Fixtures.labels;
import static io.tcptuning.operator.Fixtures.newPolicy;
import static io.tcptuning.operator.Fixtures.node;
import static io.tcptuning.operator.Fixtures.report;
import static io.tcptuning.operator.Fixtures.withPressure;

import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.tcptuning.api.v1alpha1.NodePhase;
import io.tcptuning.api.v1alpha1.TcpTuningNodeState;
import io.tcptuning.api.v1alpha1.TcpTuningPolicy;
import io.tcptuning.domain.PolicyArbiter;
import java.lang.management.ManagementFactory;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Not a test: a main that runs the real operator on the mock API server with 5000 Nodes (with a
 * kubelet's status unless {@link #NODES_ENV} says "bare") and 5000 node reports, for one policy
 * (with whole objects cached, then with the trimmed caches) and for three overlapping ones, and
 * prints how long the status takes to converge after the last report, how many status writes it
 * cost, and the operator's heap. Run it with {@code operator/bench/operator-scale.sh [nodes]}, which also runs it against a
 * real kube-apiserver ({@code io.tcptuning.apiserver.RealApiServerScaleBench}).
 */
public final class OperatorScaleBench {
  /** Where the operator runs and creates its DaemonSets (a real server needs it to exist). */
  public static final String NS = MockApi.NAMESPACE;
  private static final KubernetesSerialization JSON = new KubernetesSerialization();

  /** An API server with this project's CRDs in place, fresh for each run; closing it stops it. */
  public interface ApiServer extends AutoCloseable {
    KubernetesClient client();

    @Override
    void close();
  }

  public static void main(String[] args) throws Exception {
    int n = args.length > 0 ? Integer.parseInt(args[0]) : 5000;
    java.util.logging.Logger.getLogger("io.fabric8.mockwebserver").setLevel(java.util.logging.Level.WARNING);
    runAll("fabric8's mock API server", n, OperatorScaleBench::mockApiServer);
    System.exit(0);
  }

  /**
   * The Nodes the bench creates: "kubelet" (the default) carry what a kubelet writes ({@link
   * KubeletNodes}: 30 images, conditions, addresses, nodeInfo, capacity, annotations,
   * managedFields), "bare" only a name and labels (the figures before the caches were trimmed).
   */
  public static final String NODES_ENV = "TCPTUNE_BENCH_NODES";

  /**
   * Both scenarios, each on a fresh server from {@code servers}, and the one-policy scenario once
   * more with the operator caching whole objects ({@link TcpTuningPolicyReconciler#FULL_CACHES_PROPERTY}),
   * so that the heap with and without trimmed caches can be read side by side.
   */
  public static void runAll(String where, int n, java.util.function.Supplier<ApiServer> servers) throws Exception {
    System.setProperty("org.slf4j.simpleLogger.log.io.tcptuning", "warn");
    boolean kubelet = !"bare".equals(System.getenv(NODES_ENV));
    System.out.printf("%nOperator at scale against %s, %s nodes%n", where, kubelet ? "kubelet-like (" + KubeletNodes.IMAGES + " images, conditions, nodeInfo...)" : "bare (name and labels)");
    List<TcpTuningPolicy> one = List.of(newPolicy("all", 0, null));
    long whole = run("one policy, whole objects cached (before)", n, one, servers, kubelet, true);
    long trimmed = run("one policy, trimmed caches", n, one, servers, kubelet, false);
    long three = run(
        "three overlapping policies, trimmed caches",
        n,
        List.of(newPolicy("all", 0, null), newPolicy("zone-a", 5, labels("zone", "a")), newPolicy("web", 10, labels("role", "web"))),
        servers, kubelet, false);
    System.out.printf("%noperator heap after GC against %s, %d %s nodes: whole objects cached %d MiB, trimmed caches %d MiB (three policies: %d MiB)%n",
        where, n, kubelet ? "kubelet-like" : "bare", whole >> 20, trimmed >> 20, three >> 20);
  }

  static ApiServer mockApiServer() {
    KubernetesMockServer server = new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(), new KubernetesCrudDispatcher(List.of()), false);
    server.init();
    KubernetesClient client = server.createClient();
    MockApi.registerCrds(client);
    return new ApiServer() {
      @Override
      public KubernetesClient client() {
        return client;
      }

      @Override
      public void close() {
        client.close();
        server.destroy();
      }
    };
  }

  /** Returns the operator's heap after GC. */
  private static long run(String title, int n, List<TcpTuningPolicy> policies, java.util.function.Supplier<ApiServer> servers, boolean kubelet, boolean wholeCaches)
      throws Exception {
    ApiServer api = servers.get();
    KubernetesClient client = api.client();
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      // The bench keeps names and labels only; each kubelet-like node is built as it is created.
      List<Node> nodes = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        nodes.add(node(String.format("node-%05d", i), "zone", i % 2 == 0 ? "a" : "b", "role", i % 5 == 0 ? "web" : "batch"));
      }
      parallel(pool, nodes, node -> {
        if (!kubelet) {
          client.resource(node).create();
          return;
        }
        String[] kv = {"zone", node.getMetadata().getLabels().get("zone"), "role", node.getMetadata().getLabels().get("role")};
        Node full = KubeletNodes.node(node.getMetadata().getName(), kv);
        Node created = client.resource(full).create();
        if (created.getStatus() == null || created.getStatus().getImages().isEmpty()) {
          // A server that drops the status on create: written as the kubelet does, to the subresource.
          created.setStatus(full.getStatus());
          client.resource(created).updateStatus();
        }
      });
      if (kubelet) {
        var sample = client.nodes().withName(nodes.get(0).getMetadata().getName()).get();
        System.out.printf("%n(a node as the server returns it: %d bytes of JSON, %d images, %d managedFields entries)",
            JSON.asJson(sample).length(), sample.getStatus().getImages().size(), sample.getMetadata().getManagedFields().size());
      }
      System.out.printf("%n== %s, %d nodes ==%n", title, n);

      OperatorConfig config = Fixtures.config(NS).withStatusDebounce(OperatorConfig.DEFAULT_STATUS_DEBOUNCE);
      gc();
      long heapBefore = heapUsed();
      System.setProperty(TcpTuningPolicyReconciler.FULL_CACHES_PROPERTY, Boolean.toString(wholeCaches));
      TcpTuningOperator[] holder = {TcpTuningOperator.create(client, config, new SimpleMeterRegistry(), Clock.systemUTC())};
      TcpTuningOperator op = holder[0];
      op.start();
      System.clearProperty(TcpTuningPolicyReconciler.FULL_CACHES_PROPERTY);
      for (TcpTuningPolicy p : policies) {
        client.resource(p).create();
      }
      waitFor(() -> policies.stream().allMatch(p -> {
        var live = MockApi.policy(client, p.getMetadata().getName());
        return live.getStatus() != null && live.getStatus().getNodes() != null && live.getStatus().getNodes().getSelected() > 0;
      }));

      // Each node reports for the policy that wins it, as its agent would.
      Map<String, Long> generations = new HashMap<>();
      List<PolicyArbiter.Candidate> candidates = new ArrayList<>();
      for (TcpTuningPolicy p : policies) {
        var live = MockApi.policy(client, p.getMetadata().getName());
        generations.put(p.getMetadata().getName(), live.getMetadata().getGeneration());
        candidates.add(NodeAssignment.candidate(live));
      }
      Map<String, Integer> expected = new HashMap<>();
      List<TcpTuningNodeState> reports = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        Node node = nodes.get(i);
        String winner = PolicyArbiter.winner(node.getMetadata().getLabels(), candidates).orElseThrow().name();
        expected.merge(winner, 1, Integer::sum);
        reports.add(withPressure(report(node.getMetadata().getName(), winner, generations.get(winner), NodePhase.Applied), (i % 1000) / 1000.0));
      }
      long writesBefore = op.reconciler().statusWrites();
      long reportsStart = System.nanoTime();
      Map<String, TcpTuningNodeState> written = new java.util.concurrent.ConcurrentHashMap<>();
      parallel(pool, reports, r -> {
        TcpTuningNodeState fresh = new TcpTuningNodeState();
        fresh.getMetadata().setName(r.getMetadata().getName());
        TcpTuningNodeState created = client.resource(fresh).create();
        created.setStatus(r.getStatus());
        written.put(r.getMetadata().getName(), client.resource(created).updateStatus());
      });
      long lastReport = System.nanoTime();
      waitFor(() -> policies.stream().allMatch(p -> {
        var s = MockApi.policy(client, p.getMetadata().getName()).getStatus();
        String name = p.getMetadata().getName();
        return s.getNodes().getApplied() == expected.getOrDefault(name, 0) && s.getNodes().getPending() == 0;
      }));
      long converged = System.nanoTime();
      long writes = op.reconciler().statusWrites() - writesBefore;
      System.out.printf("reports written in      %6d ms (%d reports)%n", (lastReport - reportsStart) / 1_000_000, n);
      System.out.printf("last report -> converged %6d ms%n", (converged - lastReport) / 1_000_000);
      System.out.printf("status writes            %6d (over %d policies, debounce %s)%n", writes, policies.size(), config.statusDebounce());
      for (TcpTuningPolicy p : policies) {
        var s = MockApi.policy(client, p.getMetadata().getName()).getStatus();
        System.out.printf("  %-8s %s maxPressure=%s on %s%n", p.getMetadata().getName(), s.getNodes(), s.getMaxPressure(), s.getMaxPressureNode());
      }

      // A burst of pressure changes on every node: writes stay bounded by the window.
      double burstMax = (Math.min(n, 1000) - 1) / 1000.0 + 0.2; // the highest pressure after the burst
      long burstWritesBefore = op.reconciler().statusWrites();
      long burstStart = System.nanoTime();
      parallel(pool, reports, r -> {
        TcpTuningNodeState live = written.get(r.getMetadata().getName());
        live.getStatus().getTimeWait().setMaxDestinationPressure(live.getStatus().getTimeWait().getMaxDestinationPressure() + 0.2);
        client.resource(live).updateStatus();
      });
      long burstEnd = System.nanoTime();
      waitFor(() -> policies.stream().allMatch(p -> {
        var s = MockApi.policy(client, p.getMetadata().getName()).getStatus();
        return s.getMaxPressure() != null && s.getMaxPressure() >= burstMax - 0.001;
      }));
      System.out.printf("pressure burst: %d report updates in %d ms -> %d status writes%n",
          n, (burstEnd - burstStart) / 1_000_000, op.reconciler().statusWrites() - burstWritesBefore);

      System.out.printf("reconciles: %d%n", op.reconciler().reconciles());
      gc();
      long heapRunning = heapUsed();
      op.stop();
      // Drop every reference to the operator, so that what remains is the server's data (the mock's).
      holder[0] = null;
      op = null;
      written.clear();
      reports.clear();
      gc();
      long heapStopped = heapUsed();
      System.out.printf("heap after GC: before operator %d MiB, operator running %d MiB, operator gone %d MiB -> operator ~%d MiB%n",
          heapBefore >> 20, heapRunning >> 20, heapStopped >> 20, (heapRunning - heapStopped) >> 20);
      return heapRunning - heapStopped;
    } finally {
      pool.shutdownNow();
      api.close();
    }
  }

  private interface Action<T> {
    void run(T t) throws Exception;
  }

  private static <T> void parallel(ExecutorService pool, List<T> items, Action<T> action) throws Exception {
    List<Future<?>> fs = new ArrayList<>();
    int chunks = 4;
    int size = (items.size() + chunks - 1) / chunks;
    for (int c = 0; c < chunks; c++) {
      List<T> part = items.subList(Math.min(items.size(), c * size), Math.min(items.size(), (c + 1) * size));
      fs.add(pool.submit(() -> {
        for (T t : part) {
          action.run(t);
        }
        return null;
      }));
    }
    for (Future<?> f : fs) {
      f.get();
    }
  }

  private static void waitFor(java.util.function.BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofMinutes(10).toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("did not converge in 10 minutes");
      }
      Thread.sleep(50);
    }
  }

  private static void gc() throws InterruptedException {
    for (int i = 0; i < 3; i++) {
      System.gc();
      Thread.sleep(200);
    }
  }

  private static long heapUsed() {
    return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
  }
}
