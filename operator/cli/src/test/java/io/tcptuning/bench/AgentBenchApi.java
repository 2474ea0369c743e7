package io.tcptuning.bench;

import io.tcptuning.api.v1alpha1.TcpTuningNodeState;
import io.tcptuning.api.v1alpha1.TcpTuningPolicy;
import io.tcptuning.apiserver.RealApiServer;
import io.tcptuning.operator.OperatorConfig;
import io.tcptuning.testing.MockApiServer;
import io.tcptuning.testing.ProjectPaths;

import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.Watch;
import io.fabric8.kubernetes.client.Watcher;
import io.fabric8.kubernetes.client.WatcherException;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The API server the agent footprint benches run the real agent against, and how they see its
 * first report (its first status write) without taking CPU from it. {@code TCPTUNE_BENCH_API}
 * picks it:
 *
 * <ul>
 *   <li>{@code mock} (default): fabric8's mock server over TLS (HTTP/1.1), a token file and its CA;
 *   <li>{@code kube-apiserver}: a real kube-apiserver and etcd on loopback (binaries from
 *       {@code .ci/kube-binaries.sh}) with {@code deploy/} applied, the agent proving its identity
 *       with a service-account token bound to a Pod on its node as the kubelet gives it, over
 *       TLS with ALPN (HTTP/2 where the client offers it), as in a cluster.
 * </ul>
 */
interface AgentBenchApi extends AutoCloseable {
  String NODE = "bench-node";

  /** The choice TCPTUNE_BENCH_API names; the default is the mock. */
  static AgentBenchApi fromEnvironment() throws Exception {
    String api = System.getenv().getOrDefault("TCPTUNE_BENCH_API", "mock");
    return switch (api) {
      case "mock" -> new Mock();
      case "kube-apiserver" -> new KubeApiServer();
      default -> throw new IllegalArgumentException("TCPTUNE_BENCH_API must be mock or kube-apiserver, not " + api);
    };
  }

  /** What it is, for the bench's report. */
  String describe();

  /** A client with the admin's rights. */
  KubernetesClient client();

  /** The env the agent finds the server by, as in a pod. */
  Map<String, String> agentEnvironment();

  /**
   * Creates {@link #NODE}, labelled for {@code deploy/examples/high-churn-clients.yaml}, and that
   * policy, which the agents of the benches run for; returns the policy.
   */
  default TcpTuningPolicy createNodeAndPolicy() throws Exception {
    client().nodes().resource(new NodeBuilder().withNewMetadata().withName(NODE).withLabels(Map.of("tcptuning.io/profile", "high-churn"))
        .endMetadata().build()).create();
    TcpTuningPolicy policy = Serialization.unmarshal(Files.readString(ProjectPaths.resolve("deploy/examples/high-churn-clients.yaml")),
        TcpTuningPolicy.class);
    return client().resource(policy).create();
  }

  /** Forgets the reports seen so far (before an agent starts). */
  void forgetReports() throws Exception;

  /** Whether a status write of {@link #NODE}'s node state reached the server since {@link #forgetReports}. */
  boolean reported() throws Exception;

  @Override
  void close() throws Exception;

  /** fabric8's mock over TLS; a report is a PUT of the node state's status in its request record. */
  final class Mock implements AgentBenchApi {
    private final MockApiServer server = new MockApiServer(true);
    private final KubernetesClient client = server.newClient();
    private final Path token;

    Mock() throws Exception {
      token = Files.createTempFile("tcptune-bench", ".token");
      Files.writeString(token, "bench-token");
    }

    @Override
    public String describe() {
      return "fabric8 mock API server (TLS, HTTP/1.1)";
    }

    @Override
    public KubernetesClient client() {
      return client;
    }

    @Override
    public Map<String, String> agentEnvironment() {
      return server.podEnvironment(token);
    }

    @Override
    public void forgetReports() throws Exception {
      server.takeRequests();
    }

    @Override
    public boolean reported() throws Exception {
      return server.takeRequests().stream()
          .anyMatch(r -> r.getMethod().equals("PUT") && r.getPath().endsWith("/tcptuningnodestates/" + NODE + "/status"));
    }

    @Override
    public void close() throws Exception {
      client.close();
      server.close();
      Files.deleteIfExists(token);
    }
  }

  /**
   * A real kube-apiserver with {@code deploy/} applied (CRDs, RBAC, the admission policy); a
   * report is a watch event of the node state carrying a status.
   */
  final class KubeApiServer implements AgentBenchApi {
    private final RealApiServer server = new RealApiServer();
    private final AtomicBoolean reported = new AtomicBoolean();
    private final Map<String, String> agentEnvironment;
    private final Watch watch;

    KubeApiServer() throws Exception {
      server.start();
      try {
        server.installDeploy();
        // The agent's identity as the kubelet gives it: its service account's token, bound to a
        // Pod on its node (the admission policy lets it write only that node's state).
        String ns = OperatorConfig.DEFAULT_NAMESPACE;
        Pod pod = server.client().pods().inNamespace(ns).resource(new PodBuilder()
            .withNewMetadata().withName("tcp-tuning-agent-bench").endMetadata()
            .withNewSpec().withNodeName(NODE).withServiceAccountName(OperatorConfig.DEFAULT_AGENT_SERVICE_ACCOUNT)
            .addNewContainer().withName("agent").withImage("tcptune:bench").endContainer().endSpec().build()).create();
        agentEnvironment = server.podEnvironment(server.serviceAccountToken(ns, OperatorConfig.DEFAULT_AGENT_SERVICE_ACCOUNT, pod));
        watch = server.client().resources(TcpTuningNodeState.class).withName(NODE).watch(new Watcher<>() {
          @Override
          public void eventReceived(Action action, TcpTuningNodeState state) {
            if (action != Action.DELETED && state.getStatus() != null) {
              reported.set(true);
            }
          }

          @Override
          public void onClose(WatcherException cause) {
            System.err.println("bench: the watch of the node state closed: " + cause.getMessage());
          }
        });
      } catch (Exception | AssertionError e) {
        server.stop();
        throw e;
      }
    }

    @Override
    public String describe() {
      return "kube-apiserver v" + RealApiServer.VERSION + " (TLS, HTTP/2 offered, bound service-account token)";
    }

    @Override
    public KubernetesClient client() {
      return server.client();
    }

    @Override
    public Map<String, String> agentEnvironment() {
      return agentEnvironment;
    }

    @Override
    public void forgetReports() {
      reported.set(false);
    }

    @Override
    public boolean reported() {
      return reported.get();
    }

    @Override
    public void close() {
      watch.close();
      server.stop();
    }
  }
}
