package io.tcptuning.bench;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.tcptuning.agent.AgentMetrics;
import io.tcptuning.agent.NodeStateReporter;
import io.tcptuning.agent.views.PodView;
import io.tcptuning.api.v1alpha1.NodePhase;
import io.tcptuning.api.v1alpha1.TcpTuningNodeState;
import io.tcptuning.api.v1alpha1.TcpTuningNodeStateStatus;
import io.tcptuning.api.v1alpha1.TcpTuningPolicy;
import io.tcptuning.cli.AgentCommand;
import io.tcptuning.metrics.MetricsHttpServer;
import io.tcptuning.node.KernelRelease;
import io.tcptuning.node.census.CensusReport;
import io.tcptuning.node.census.TimeWaitCensus;
import io.tcptuning.operator.AgentDaemonSetFactory;
import io.tcptuning.policy.PolicyReader;
import io.tcptuning.testing.TestNamespace;
import java.io.BufferedReader;
import java.io.FileInputStream;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import picocli.CommandLine;

/**
 * What each library costs the agent in resident memory: a ladder of processes with the agent's
 * JVM flags (no AOT cache, as the footprint bench's "no AOT cache" row), each doing what the one
 * below it did and one thing more, the way the agent does it, then idling; RSS and loaded classes
 * of each, and the real agent beside them. A rung's cost is its RSS minus the rung below: what
 * dropping that library alone could save at most (JDK machinery that several share, method
 * handles say, counts where it is first used).
 *
 * <p>Run: {@code operator/bench/agent-library-ladder.sh} (root). {@code TCPTUNE_BENCH_ROUNDS=N}
 * (default 3) runs every rung N times, interleaved; medians printed.
 */
public final class LibraryLadderBench {
  /** The rungs, bottom up; each child process climbs to one of them. */
  static final List<String> RUNGS = List.of(
      "JVM with the agent's flags, idle",
      "+ the node work: netlink census over FFM, /proc reads",
      "+ TLS: a handshake with the API server, trusting its CA alone (SSLSocket)",
      "+ the JDK's HTTP client: GET of the Node over HTTPS",
      "+ Jackson: the policy spec read and checked, a node state written",
      "+ fabric8's client: Node, policy, node state read, created, status written",
      "+ fabric8's informers (WebSocket watches): the policy, the node's pods",
      "+ micrometer: the agent's Prometheus series, served and scraped",
      "+ picocli: the agent command parsed");

  static final String READY = "ladder: ready";

  public static void main(String[] args) throws Exception {
    Path jar = Path.of(args.length > 0 ? args[0] : "target/tcptune.jar").toAbsolutePath();
    Path testClasses = Path.of(LibraryLadderBench.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    int rounds = Integer.parseInt(System.getenv().getOrDefault("TCPTUNE_BENCH_ROUNDS", "3"));
    String loadStart = AgentFootprintBench.loadAverage();
    Map<String, List<double[]>> results = new LinkedHashMap<>(); // name -> [rss MiB, anon MiB, classes]
    try (AgentBenchApi api = new AgentBenchApi.Mock(); TestNamespace ns = TestNamespace.create("bench-ladder")) {
      KubernetesClient client = api.client();
      TcpTuningPolicy policy = api.createNodeAndPolicy();
      Map<String, String> env = new LinkedHashMap<>(api.agentEnvironment());
      env.put("NODE_NAME", AgentBenchApi.NODE);
      env.put("TCPTUNE_POLICY_NAME", policy.getMetadata().getName());
      env.put("TCPTUNE_POLICY_SPEC", AgentDaemonSetFactory.agentSpecJson(policy.getSpec()));
      for (int round = 0; round < rounds; round++) {
        for (int rung = 0; rung < RUNGS.size(); rung++) {
          client.resources(TcpTuningNodeState.class).withName(AgentBenchApi.NODE).delete();
          results.computeIfAbsent(RUNGS.get(rung), k -> new ArrayList<>()).add(climb(java, jar, testClasses, rung, env));
        }
        // The peer: the real agent, tuning a namespace, as the footprint bench runs it.
        AgentFootprintBench.Result agent = AgentFootprintBench.run(java, AgentFootprintBench.agentFlags(), jar, ns, api, policy, 10);
        results.computeIfAbsent("the agent (tcptune agent, the same flags)", k -> new ArrayList<>())
            .add(new double[] {agent.rssMiB(), Double.NaN, Double.NaN});
      }
    }
    System.out.printf("%nWhat each library costs the agent: RSS of a process that climbs to each rung, 10 s after it got there;"
        + " agent flags, no AOT cache (-Xshare:off); median of %d round(s) (target RSS %.0f MiB)%n", rounds, AgentFootprintBench.TARGET_RSS_MIB);
    System.out.printf("load average at start %s, at end %s%n", loadStart, AgentFootprintBench.loadAverage());
    System.out.printf("%-78s %9s %9s %9s %9s%n", "rung", "RSS MiB", "+MiB", "anon MiB", "classes");
    double below = Double.NaN;
    for (var e : results.entrySet()) {
      double rss = median(e.getValue(), 0);
      double anon = median(e.getValue(), 1);
      double classes = median(e.getValue(), 2);
      System.out.printf("%-78s %9.1f %9s %9s %9s%n", e.getKey(), rss, Double.isNaN(below) ? "" : "%+.1f".formatted(rss - below),
          Double.isNaN(anon) ? "" : "%.1f".formatted(anon), Double.isNaN(classes) ? "" : "%.0f".formatted(classes));
      below = rss;
    }
  }

  /** Starts a process that climbs to {@code rung}, waits until it is there and 10 s more; its RSS, anonymous RSS and loaded classes. */
  static double[] climb(String java, Path jar, Path testClasses, int rung, Map<String, String> env) throws Exception {
    List<String> cmd = new ArrayList<>(List.of(java));
    cmd.addAll(AgentFootprintBench.agentFlags());
    cmd.addAll(List.of("-cp", jar + ":" + testClasses, Rung.class.getName(), Integer.toString(rung)));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    pb.environment().putAll(env);
    Process p = pb.start();
    try {
      CompletableFuture<String> ready = CompletableFuture.supplyAsync(() -> {
        var out = new StringBuilder();
        try (var lines = new BufferedReader(new InputStreamReader(p.getInputStream()))) {
          for (String line; (line = lines.readLine()) != null; ) {
            if (line.equals(READY)) {
              return null;
            }
            out.append(line).append('\n');
          }
        } catch (java.io.IOException e) {
          out.append(e.getMessage());
        }
        return out.toString();
      });
      String failed;
      try {
        failed = ready.get(60, TimeUnit.SECONDS);
      } catch (TimeoutException e) {
        // Not there in a minute: a rung that failed while a client's non-daemon thread keeps
        // its process alive, or a hung call. Ended, it says what it printed.
        p.destroy();
        failed = "(not ready after 60 s)\n" + ready.get(10, TimeUnit.SECONDS);
      }
      if (failed != null) {
        throw new IllegalStateException("rung " + rung + " (" + RUNGS.get(rung) + ") failed:\n" + failed);
      }
      Thread.sleep(10_000);
      double rss = AgentFootprintBench.statusKb(p.pid(), "VmRSS") / 1024.0;
      double anon = AgentFootprintBench.statusKb(p.pid(), "RssAnon") / 1024.0;
      return new double[] {rss, anon, loadedClasses(p.pid())};
    } finally {
      p.destroy();
      p.waitFor();
    }
  }

  /** Classes loaded by the process, from its performance counters ({@code jstat -class}, which does not attach). */
  static double loadedClasses(long pid) throws Exception {
    Process jstat = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "jstat").toString(), "-class", Long.toString(pid))
        .redirectErrorStream(true).start();
    List<String> lines = new String(jstat.getInputStream().readAllBytes()).lines().toList();
    jstat.waitFor();
    return lines.size() == 2 ? Double.parseDouble(lines.get(1).trim().split("\\s+")[0]) : Double.NaN;
  }

  static double median(List<double[]> runs, int column) {
    return AgentFootprintBench.median(runs.stream().mapToDouble(r -> r[column]).toArray());
  }

  /**
   * One process of the ladder: does what rungs 0..N of {@link #RUNGS} name, in order, as the
   * agent does it (its own classes where it has them), prints {@link #READY} and idles.
   */
  public static final class Rung {
    /** What the rungs made, kept reachable while the process idles, as the agent keeps its own. */
    private static final List<Object> KEPT = new ArrayList<>();

    public static void main(String[] args) throws Exception {
      int top = Integer.parseInt(args[0]);
      String node = System.getenv("NODE_NAME");
      String policyName = System.getenv("TCPTUNE_POLICY_NAME");
      for (int rung = 1; rung <= top; rung++) {
        switch (rung) {
          case 1 -> {
            CensusReport census = TimeWaitCensus.forCurrentNamespace().take(10);
            KEPT.add(census);
            KEPT.add(KernelRelease.read());
          }
          case 2 -> KEPT.add(handshake());
          case 3 -> KEPT.add(getNode(node));
          case 4 -> {
            PolicyReader reader = new PolicyReader();
            KEPT.add(reader.parseSpec(System.getenv("TCPTUNE_POLICY_SPEC"), "TCPTUNE_POLICY_SPEC"));
            KEPT.add(NodeStateReporter.serialization().asJson(status()));
          }
          case 5 -> {
            NodeStateReporter reporter = new NodeStateReporter(NodeStateReporter::newClient, node);
            KEPT.add(reporter);
            KEPT.add(reporter.verdict(policyName));
            reporter.prepare();
            reporter.write(status());
          }
          case 6 -> {
            NodeStateReporter reporter = (NodeStateReporter) KEPT.stream().filter(NodeStateReporter.class::isInstance).findFirst().orElseThrow();
            CompletableFuture<Object> seen = new CompletableFuture<>();
            KEPT.add(reporter.watchPolicy(policyName, seen::complete));
            seen.get(30, TimeUnit.SECONDS);
            var pods = reporter.client().resources(PodView.class).inAnyNamespace().withField("spec.nodeName", node).inform();
            KEPT.add(pods);
          }
          case 7 -> {
            AgentMetrics metrics = new AgentMetrics(node, policyName);
            MetricsHttpServer server = new MetricsHttpServer(0, metrics::scrape, () -> true, () -> true);
            KEPT.add(metrics);
            KEPT.add(server);
            try (HttpClient http = HttpClient.newHttpClient()) {
              String body = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/metrics")).build(),
                  HttpResponse.BodyHandlers.ofString()).body();
              if (!body.contains("tcptuning_time_wait_sockets")) {
                throw new IllegalStateException("no agent series in /metrics");
              }
            }
          }
          case 8 -> KEPT.add(new CommandLine(new AgentCommand()).parseArgs());
          default -> throw new IllegalArgumentException("no rung " + rung);
        }
      }
      System.out.println(READY);
      Thread.sleep(Long.MAX_VALUE);
    }

    private static TcpTuningNodeStateStatus status() {
      TcpTuningNodeStateStatus status = new TcpTuningNodeStateStatus();
      status.setPolicy(System.getenv("TCPTUNE_POLICY_NAME"));
      status.setPhase(NodePhase.Planned);
      return status;
    }

    /**
     * A TLS context that trusts the cluster CA alone, as the agent's client does ({@code
     * ClusterCaTrust}, not called here: it reads the CA with fabric8's classes, which the rungs
     * below fabric8's must not load).
     */
    private static SSLContext clusterTls() throws Exception {
      KeyStore trusted = KeyStore.getInstance("PKCS12");
      trusted.load(null, null);
      try (InputStream ca = new FileInputStream(System.getenv("KUBERNETES_CERTS_CA_FILE"))) {
        int i = 0;
        for (var cert : CertificateFactory.getInstance("X.509").generateCertificates(ca)) {
          trusted.setCertificateEntry("ca" + i++, cert);
        }
      }
      TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(trusted);
      SSLContext tls = SSLContext.getInstance("TLS");
      tls.init(null, tmf.getTrustManagers(), null);
      return tls;
    }

    /** A TLS session with the API server over a plain {@link SSLSocket}, the host name checked as HTTPS does. */
    private static SSLSocket handshake() throws Exception {
      SSLSocket socket = (SSLSocket) clusterTls().getSocketFactory()
          .createSocket(System.getenv("KUBERNETES_SERVICE_HOST"), Integer.parseInt(System.getenv("KUBERNETES_SERVICE_PORT")));
      SSLParameters params = socket.getSSLParameters();
      params.setEndpointIdentificationAlgorithm("HTTPS");
      socket.setSSLParameters(params);
      socket.startHandshake();
      return socket;
    }

    /** The Node over HTTPS with the JDK's HTTP client, trusting the cluster CA and sending the token, as a pod would. */
    private static String getNode(String node) throws Exception {
      String token = Files.readString(Path.of(System.getenv("KUBERNETES_AUTH_SERVICEACCOUNT_TOKEN"))).strip();
      URI uri = URI.create("https://" + System.getenv("KUBERNETES_SERVICE_HOST") + ":" + System.getenv("KUBERNETES_SERVICE_PORT")
          + "/api/v1/nodes/" + node);
      HttpClient http = HttpClient.newBuilder().sslContext(clusterTls()).build();
      HttpResponse<String> response = http.send(HttpRequest.newBuilder(uri).header("Authorization", "Bearer " + token).build(),
          HttpResponse.BodyHandlers.ofString());
      if (response.statusCode() != 200) {
        throw new IllegalStateException("GET " + uri + ": " + response.statusCode());
      }
      KEPT.add(http);
      return response.body();
    }
  }
}
