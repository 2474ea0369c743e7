package io.tcptuning.apiserver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.tcptuning.api.v1alpha1.Conditions;
import io.tcptuning.api.v1alpha1.NodePhase;
import io.tcptuning.api.v1alpha1.TcpTuningNodeState;
import io.tcptuning.api.v1alpha1.TcpTuningPolicy;
import io.tcptuning.config.AgentContract;
import io.tcptuning.domain.Sysctl;
import io.tcptuning.operator.AgentDaemonSetFactory;
import io.tcptuning.testing.TestNamespace;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

/**
 * The whole loop on a real API server, with no kubelet: {@code deploy/} applied (RBAC and the
 * admission policy included), the operator as a {@code tcptune operator} process started from
 * {@code deploy/}'s Deployment as the kubelet would start it, and one {@code tcptune agent} process
 * per "node", started from the operator's DaemonSet pod template as the kubelet would start it on
 * that node. Each node is a Node object plus a network namespace of its own ({@link TestNamespace})
 * that its agent tunes ({@code TCPTUNE_NETNS}); the agents stay in the host's namespace only to
 * reach the API server on 127.0.0.1 and never write a sysctl there.
 *
 * <p>Identities are real bound service-account tokens from the TokenRequest API, read by fabric8
 * from a token file as in a pod, over TLS with the server's CA: the operator's service account for
 * the operator; for each agent, the agent's service account bound to a Pod object on its node, so
 * that the token carries the node-name claim that the ValidatingAdmissionPolicy checks.
 */
final class TuningLoop implements AutoCloseable {
  static final String NS = "tcp-tuning-system";
  static final String OPERATOR_DEPLOYMENT = "tcp-tuning-operator";
  /** The image's entrypoint (operator/cli/src/main/docker/Dockerfile) without {@code -jar}. */
  private static final List<String> ENTRYPOINT_FLAGS =
      List.of("-XX:+UseSerialGC", "-Xss512k", "-XX:MaxRAMPercentage=70", "-XX:+ExitOnOutOfMemoryError", "--enable-native-access=ALL-UNNAMED");

  /** A node: the Node object's name, its network namespace, and its agent while one runs. */
  static final class Node {
    final String name;
    final TestNamespace ns;
    final Path stateDir;
    Process agent;
    Path agentLog;
    /** The agent's HTTP port (metrics, health) while one runs. */
    int agentPort;
    String podName;
    int agentStarts;

    Node(String name, TestNamespace ns, Path stateDir) {
      this.name = name;
      this.ns = ns;
      this.stateDir = stateDir;
    }

    Map<Sysctl, String> sysctls() throws IOException, InterruptedException {
      return ns.sysctls();
    }

    String sysctl(String dotted) throws IOException, InterruptedException {
      return ns.sysctl(dotted);
    }
  }

  private final RealApiServer api;
  private final Path dir;
  private final Map<String, Node> nodes = new LinkedHashMap<>();
  private final Map<String, String> operatorEnvOverrides;
  private final Map<Sysctl, String> hostBefore;
  private volatile Process operator;
  private volatile boolean stopping;
  private final AtomicInteger operatorStarts = new AtomicInteger();
  private Thread operatorSupervisor;

  /**
   * @param operatorEnvOverrides set on the operator on top of deploy/'s Deployment env (e.g. a
   *     short census interval that the operator then puts into every agent DaemonSet)
   */
  TuningLoop(RealApiServer api, Map<String, String> operatorEnvOverrides) throws IOException {
    this.api = api;
    this.operatorEnvOverrides = operatorEnvOverrides;
    this.dir = Files.createTempDirectory("tcptune-loop-");
    this.hostBefore = TestNamespace.hostSysctls();
  }

  /** The host namespace's sysctls are what they were when this loop was made: nothing here may write them. */
  void assertHostUntouched() throws IOException {
    assertThat(TestNamespace.hostSysctls()).as("the host namespace's sysctls").isEqualTo(hostBefore);
  }

  /** Applies deploy/ as a user would, and waits for the CRDs. */
  void install() {
    api.installDeploy();
  }

  /** A Node object with labels and a network namespace of its own (given {@code initial} sysctls). */
  Node addNode(String name, Map<String, String> labels, Map<String, String> initial) throws IOException, InterruptedException {
    Map<String, String> all = new LinkedHashMap<>(Map.of("kubernetes.io/os", "linux", "kubernetes.io/hostname", name));
    all.putAll(labels);
    api.client().nodes().resource(new NodeBuilder().withNewMetadata().withName(name).withLabels(all).endMetadata().build()).create();
    TestNamespace ns = TestNamespace.create(name);
    Node node = new Node(name, ns, Files.createDirectories(dir.resolve("state-" + name)));
    nodes.put(name, node);
    for (var e : initial.entrySet()) {
      ns.setSysctl(e.getKey(), e.getValue());
    }
    return node;
  }

  List<Node> nodes() {
    return List.copyOf(nodes.values());
  }

  // ---- the operator --------------------------------------------------------------------------

  /**
   * Starts {@code tcptune operator} with the plain env values of deploy/'s Deployment, a free
   * metrics port and the operator service account's token, and restarts it whenever it exits, as
   * the kubelet would (restartPolicy Always), until {@link #close}.
   */
  void startOperator() throws IOException {
    var deployment = api.client().apps().deployments().inNamespace(NS).withName(OPERATOR_DEPLOYMENT).get();
    assertThat(deployment).as("deploy/'s operator Deployment").isNotNull();
    Container container = deployment.getSpec().getTemplate().getSpec().getContainers().getFirst();
    Map<String, String> env = plainEnv(container.getEnv());
    env.put("POD_NAMESPACE", NS); // downward API
    env.put("TCPTUNE_METRICS_PORT", Integer.toString(freePort()));
    env.putAll(operatorEnvOverrides);
    Path token = api.serviceAccountToken(NS, deployment.getSpec().getTemplate().getSpec().getServiceAccountName(), null);
    env.putAll(api.podEnvironment(token));
    List<String> args = container.getArgs();
    Path log = dir.resolve("operator.log");
    startOperatorProcess(env, args, log);
    operatorSupervisor = Thread.ofVirtual().name("operator-kubelet").start(() -> {
      while (!stopping) {
        try {
          Process p = operator;
          int code = p.waitFor();
          if (stopping) {
            return;
          }
          appendLine(log, "### operator exited " + code + "; restarting it as the kubelet would");
          Thread.sleep(1000);
          if (!stopping) {
            startOperatorProcess(env, args, log);
          }
        } catch (InterruptedException e) {
          return;
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      }
    });
  }

  private synchronized void startOperatorProcess(Map<String, String> env, List<String> args, Path log) throws IOException {
    List<String> cmd = javaCommand(args);
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
    pb.environment().putAll(env);
    operator = pb.start();
    operatorStarts.incrementAndGet();
  }

  /** How many times the operator process was started (1 = never restarted). */
  int operatorStarts() {
    return operatorStarts.get();
  }

  Path operatorLog() {
    return dir.resolve("operator.log");
  }

  // ---- the agents ----------------------------------------------------------------------------

  /** The operator's DaemonSet for {@code policy}, as the server has it. */
  DaemonSet daemonSet(String policy) {
    return api.client().apps().daemonSets().inNamespace(NS).withName(AgentDaemonSetFactory.name(policy)).get();
  }

  /**
   * Starts the agent of {@code policy}'s DaemonSet on {@code node} as the kubelet would: a Pod
   * object bound to the node, a token for the pod's service account bound to that Pod, the
   * container's plain env values, NODE_NAME from the downward API, and the node's specifics
   * (its namespace, a free port, a temp state dir standing in for the hostPath).
   */
  void startAgent(Node node, String policy) throws IOException {
    assertThat(node.agent == null || !node.agent.isAlive()).as("agent already running on " + node.name).isTrue();
    DaemonSet ds = daemonSet(policy);
    assertThat(ds).as("DaemonSet of " + policy).isNotNull();
    var podSpec = ds.getSpec().getTemplate().getSpec();
    Container container = podSpec.getContainers().getFirst();
    node.podName = ds.getMetadata().getName() + "-" + node.name + "-" + (++node.agentStarts);
    Pod pod = api.client().pods().inNamespace(NS).resource(new PodBuilder()
        .withNewMetadata().withName(node.podName).withLabels(ds.getSpec().getTemplate().getMetadata().getLabels()).endMetadata()
        .withNewSpec().withNodeName(node.name).withServiceAccountName(podSpec.getServiceAccountName())
        .addNewContainer().withName(container.getName()).withImage(container.getImage()).endContainer().endSpec().build()).create();
    Path token = api.serviceAccountToken(NS, podSpec.getServiceAccountName(), pod);

    Map<String, String> env = plainEnv(container.getEnv());
    assertThat(container.getEnv()).as("NODE_NAME comes from the downward API")
        .anySatisfy(e -> {
          assertThat(e.getName()).isEqualTo(AgentContract.NODE_NAME);
          assertThat(e.getValueFrom().getFieldRef().getFieldPath()).isEqualTo("spec.nodeName");
        });
    env.put(AgentContract.NODE_NAME, node.name);
    env.put(AgentContract.NETNS, node.ns.path().toString());
    node.agentPort = freePort();
    env.put(AgentContract.PORT, Integer.toString(node.agentPort));
    env.put(AgentContract.STATE_DIR, node.stateDir.toString());
    env.putAll(api.podEnvironment(token));

    node.agentLog = dir.resolve("agent-" + node.podName + ".log");
    List<String> cmd = javaCommand(container.getArgs());
    // Observation only: the informer's reflector says when a watch expired (410 Gone) and it re-listed.
    cmd.add(cmd.size() - container.getArgs().size() - 1, "-Dorg.slf4j.simpleLogger.log.io.fabric8.kubernetes.client.informers.impl.cache.Reflector=debug");
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(node.agentLog.toFile());
    pb.environment().putAll(env);
    node.agent = pb.start();
  }

  /** SIGTERM, as the kubelet sends on a rollout or when the DaemonSet goes; then the Pod object goes too. */
  void stopAgent(Node node) throws InterruptedException {
    if (node.agent == null) {
      return;
    }
    node.agent.destroy();
    boolean exited = node.agent.waitFor(30, TimeUnit.SECONDS);
    if (!exited) {
      node.agent.destroyForcibly().waitFor();
    }
    api.client().pods().inNamespace(NS).withName(node.podName).withGracePeriod(0).delete();
    assertThat(exited).as("agent on " + node.name + " exits on SIGTERM\n" + agentLog(node)).isTrue();
  }

  String agentLog(Node node) {
    try {
      return node.agentLog == null ? "" : Files.readString(node.agentLog);
    } catch (IOException e) {
      return "(" + e + ")";
    }
  }

  String operatorLogText() {
    try {
      return Files.readString(operatorLog());
    } catch (IOException e) {
      return "(" + e + ")";
    }
  }

  // ---- what the server says ------------------------------------------------------------------

  TcpTuningPolicy policy(String name) {
    return api.client().resources(TcpTuningPolicy.class).withName(name).get();
  }

  TcpTuningNodeState nodeState(String node) {
    return api.client().resources(TcpTuningNodeState.class).withName(node).get();
  }

  /** Waits until the policy is Ready with {@code message} for {@code generation}, and every node reports {@code phase} for it. */
  void awaitReady(String policy, long generation, String message, Duration atMost) {
    await().atMost(atMost).pollInterval(Duration.ofMillis(250)).untilAsserted(() -> {
      for (Node node : nodes.values()) {
        TcpTuningNodeState s = nodeState(node.name);
        assertThat(s).as("node state of " + node.name).isNotNull();
        assertThat(s.getStatus()).as("node state status of " + node.name).isNotNull();
        assertThat(s.getStatus().getPhase()).as(node.name + " phase").isEqualTo(NodePhase.Applied);
        assertThat(s.getStatus().getPolicyGeneration()).as(node.name + " policy generation").isEqualTo(generation);
      }
      var status = policy(policy).getStatus();
      assertThat(status).isNotNull();
      assertThat(status.getObservedGeneration()).isEqualTo(generation);
      var ready = Conditions.find(status.getConditions(), Conditions.READY).orElseThrow();
      assertThat(ready.getStatus()).as(ready.getMessage()).isEqualTo("True");
      assertThat(ready.getMessage()).isEqualTo(message);
      assertThat(status.getNodes().getSelected()).isEqualTo(nodes.size());
      assertThat(status.getNodes().getApplied()).isEqualTo(nodes.size());
      assertThat(status.getNodes().getFailed()).isZero();
      assertThat(status.getNodes().getPending()).isZero();
    });
  }

  // ---- plumbing ------------------------------------------------------------------------------

  /** The env vars with a plain value; those from the downward API (valueFrom) are the caller's to fill. */
  private static Map<String, String> plainEnv(List<EnvVar> env) {
    Map<String, String> out = new LinkedHashMap<>();
    for (EnvVar e : env) {
      if (e.getValueFrom() == null) {
        out.put(e.getName(), e.getValue() == null ? "" : e.getValue());
      }
    }
    return out;
  }

  /** The image's entrypoint with the test class path instead of {@code -jar /app/tcptune.jar}, then the container's args. */
  private static List<String> javaCommand(List<String> args) {
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
    cmd.addAll(ENTRYPOINT_FLAGS);
    cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), TestNamespace.CLI_MAIN));
    cmd.addAll(args);
    return cmd;
  }

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  private static void appendLine(Path file, String line) throws IOException {
    Files.writeString(file, line + "\n", java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
  }

  /**
   * Stops every agent and the operator, deletes every namespace and the temp directory, whatever
   * failed before; then checks that the host namespace's sysctls are as they were.
   */
  @Override
  public void close() {
    stopping = true;
    List<Throwable> failures = new ArrayList<>();
    for (Node node : nodes.values()) {
      if (node.agent != null) {
        node.agent.destroy();
        try {
          if (!node.agent.waitFor(20, TimeUnit.SECONDS)) {
            node.agent.destroyForcibly().waitFor();
          }
        } catch (InterruptedException e) {
          node.agent.destroyForcibly();
          Thread.currentThread().interrupt();
        }
      }
    }
    if (operatorSupervisor != null) {
      operatorSupervisor.interrupt();
    }
    Process p = operator;
    if (p != null) {
      p.destroy();
      try {
        if (!p.waitFor(20, TimeUnit.SECONDS)) {
          p.destroyForcibly().waitFor();
        }
      } catch (InterruptedException e) {
        p.destroyForcibly();
        Thread.currentThread().interrupt();
      }
    }
    for (Node node : nodes.values()) {
      try {
        node.ns.close();
      } catch (IOException | RuntimeException e) {
        failures.add(e);
      }
    }
    if (Boolean.getBoolean("tcptune.keepLoopDir")) {
      System.err.println("TuningLoop: kept " + dir);
    } else {
      try (Stream<Path> walk = Files.walk(dir)) {
        for (Path f : walk.sorted(Comparator.reverseOrder()).toList()) {
          Files.deleteIfExists(f);
        }
      } catch (IOException e) {
        failures.add(e);
      }
    }
    try {
      assertHostUntouched();
    } catch (IOException | AssertionError e) {
      failures.add(e);
    }
    if (!failures.isEmpty()) {
      AssertionError e = new AssertionError("cleanup failed");
      failures.forEach(e::addSuppressed);
      throw e;
    }
  }
}
