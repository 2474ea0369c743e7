package io.tcptuning.apiserver;

import io.tcptuning.testing.PodEnvironment;
import io.tcptuning.testing.ProjectPaths;

import io.fabric8.kubeapitest.KubeAPIServer;
import io.fabric8.kubeapitest.KubeAPIServerConfigBuilder;
import io.fabric8.kubeapitest.cert.CertManager;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.authentication.TokenRequestBuilder;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * One real kube-apiserver and etcd (io.fabric8:kube-api-test) for a test class, on loopback, with
 * RBAC on and the admission plugins of a real cluster (ValidatingAdmissionPolicy included). Use as
 * {@code @RegisterExtension static final RealApiServer API = new RealApiServer();}: started before
 * the class's first test, stopped (processes, etcd data, certificates, kubeconfig) after its last.
 *
 * <p>The binaries are not downloaded: {@code .ci/kube-binaries.sh} builds them from source into
 * {@code $KUBE_API_TEST_DIR/k8s/1.34.4-linux-amd64/} (default {@code ~/.kubeapitest}). Each class
 * gets a fresh directory of its own that links to them, so the certificates kube-api-test writes
 * and the server's cert dir are never shared with another run.
 */
public final class RealApiServer implements BeforeAllCallback, AfterAllCallback {

  public static final String VERSION = "1.34.4";
  private static final List<String> BINARIES = List.of("kube-apiserver", "etcd", "kubectl");
  private static final long KUBECTL_TIMEOUT_SECONDS = 60;

  /** What a kubectl run printed and returned. */
  public record Kubectl(List<String> args, int exitCode, String stdout, String stderr) {
    public Kubectl assertSuccess() {
      if (exitCode != 0) {
        throw new AssertionError(this + " failed");
      }
      return this;
    }

    @Override
    public String toString() {
      return "kubectl " + String.join(" ", args) + " -> exit " + exitCode + "\nstdout:\n" + stdout + "stderr:\n" + stderr;
    }
  }

  private final boolean auditLog;
  private final boolean restartable;
  private Path dir;
  private KubeAPIServer server;
  /** In {@link #restartable} mode: etcd and kube-apiserver started here rather than by kube-api-test. */
  private Process etcd;
  private Process apiServer;
  private int etcdPort;
  private int apiServerPort;
  private Path kubeconfig;
  private Config config;
  private KubernetesClient client;
  private Thread shutdownHook;

  public RealApiServer() {
    this(false, false);
  }

  private RealApiServer(boolean auditLog, boolean restartable) {
    this.auditLog = auditLog;
    this.restartable = restartable;
  }

  /** A server that writes an audit log of every request (level Metadata), read with {@link #auditEvents}. */
  public static RealApiServer withAuditLog() {
    return new RealApiServer(true, false);
  }

  /**
   * A server whose kube-apiserver can be stopped and started again ({@link #stopApiServer},
   * {@link #startApiServer}) on the same port, certificates and etcd, to play an outage; with an
   * audit log. kube-api-test's {@code KubeAPIServer} stops etcd with the API server and picks a
   * new port on every start, so this mode starts both processes itself, with kube-api-test's
   * certificates and the flags of its {@code KubeAPIServerProcess} and {@code EtcdProcess}, all
   * on 127.0.0.1.
   */
  public static RealApiServer restartable() {
    return new RealApiServer(true, true);
  }

  /** The directory holding kube-apiserver, etcd and kubectl, as kube-api-test looks them up. */
  public static Path binaryDir() {
    String env = System.getenv(KubeAPIServerConfigBuilder.KUBE_API_TEST_DIR);
    Path base = env != null && !env.isBlank() ? Path.of(env) : Path.of(System.getProperty("user.home"), KubeAPIServerConfigBuilder.DIRECTORY_NAME);
    return base.resolve("k8s").resolve(VERSION + "-linux-amd64");
  }

  /** Fails, naming the script that builds them, when a binary is missing. */
  static Path requireBinaries() {
    return requireBinaries(binaryDir());
  }

  static Path requireBinaries(Path bin) {
    List<String> missing = BINARIES.stream().filter(b -> !Files.isExecutable(bin.resolve(b))).toList();
    if (!missing.isEmpty()) {
      throw new IllegalStateException(
          "The *ApiServerTest classes need kube-apiserver, etcd and kubectl v" + VERSION + " in " + bin
              + " (missing: " + String.join(", ", missing) + "). Run .ci/kube-binaries.sh from the"
              + " repository root: it builds them from source (cold: ~15 min) and is cached afterwards.");
    }
    return bin;
  }

  @Override
  public void beforeAll(ExtensionContext context) throws Exception {
    start();
  }

  @Override
  public void afterAll(ExtensionContext context) {
    stop();
  }

  public void start() throws IOException {
    Path bin = requireBinaries();
    dir = Files.createTempDirectory("kube-api-test-");
    shutdownHook = new Thread(this::stopQuietly, "real-api-server-stop");
    Runtime.getRuntime().addShutdownHook(shutdownHook);
    if (restartable) {
      startOwnProcesses(bin);
      return;
    }
    Files.createDirectories(dir.resolve("k8s"));
    Files.createSymbolicLink(dir.resolve("k8s").resolve(bin.getFileName()), bin);
    KubeAPIServerConfigBuilder builder =
        KubeAPIServerConfigBuilder.anAPIServerConfig()
            .withTestDir(dir.toString())
            .withApiServerVersion(VERSION)
            .withOfflineMode(true)
            .withStartupTimeout(60_000)
            .withWaitForEtcdHealthCheckOnStartup(true)
            // kube-api-test passes no --bind-address: the server would listen on every interface.
            .withApiServerFlag("--bind-address", "127.0.0.1");
    if (auditLog) {
      Path policy = auditPolicy();
      builder.withApiServerFlag("--audit-policy-file", policy.toString()).withApiServerFlag("--audit-log-path", auditLogFile().toString());
    }
    server = new KubeAPIServer(builder.build());
    server.start();
    kubeconfig = dir.resolve("kubeconfig");
    Files.writeString(kubeconfig, server.getKubeConfigYaml());
    config = Config.fromKubeconfig(server.getKubeConfigYaml());
    client = new KubernetesClientBuilder().withConfig(config).build();
  }

  public void stop() {
    try {
      stopQuietly();
    } finally {
      if (shutdownHook != null) {
        try {
          Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalStateException shuttingDown) {
          // the hook runs anyway
        }
        shutdownHook = null;
      }
    }
  }

  private synchronized void stopQuietly() {
    if (client != null) {
      client.close();
      client = null;
    }
    if (server != null) {
      server.stop();
      server = null;
    }
    stopProcess(apiServer);
    apiServer = null;
    stopProcess(etcd);
    etcd = null;
    if (dir != null) {
      deleteTree(dir);
      dir = null;
    }
  }

  // ---- restartable mode -----------------------------------------------------------------------

  private void startOwnProcesses(Path bin) throws IOException {
    new CertManager(dir.toString()).createCertificatesIfNeeded();
    etcdPort = freePort();
    int peerPort = freePort();
    Path etcdData = Files.createDirectories(dir.resolve("etcd-data"));
    etcd = new ProcessBuilder(bin.resolve("etcd").toString(),
        "--data-dir", etcdData.toString(),
        "--listen-client-urls", "http://127.0.0.1:" + etcdPort,
        "--advertise-client-urls", "http://127.0.0.1:" + etcdPort,
        "--initial-cluster", "default=http://127.0.0.1:" + peerPort,
        "--initial-advertise-peer-urls", "http://127.0.0.1:" + peerPort,
        "--listen-peer-urls", "http://127.0.0.1:" + peerPort)
        .redirectErrorStream(true).redirectOutput(dir.resolve("etcd.log").toFile()).start();
    apiServerPort = freePort();
    String kubeconfigYaml = kubeconfigYaml();
    kubeconfig = dir.resolve("kubeconfig");
    Files.writeString(kubeconfig, kubeconfigYaml);
    config = Config.fromKubeconfig(kubeconfigYaml);
    client = new KubernetesClientBuilder().withConfig(config).build();
    startApiServer();
  }

  /**
   * Starts kube-apiserver (again) on the same port, etcd and certificates, with {@code extraFlags}
   * added to this mode's flags (a later flag wins), and waits until it serves the default namespace.
   */
  public void startApiServer(String... extraFlags) {
    if (!restartable) {
      throw new IllegalStateException("only a restartable() server starts its kube-apiserver again");
    }
    if (apiServer != null && apiServer.isAlive()) {
      throw new IllegalStateException("kube-apiserver is running");
    }
    CertManager certs = new CertManager(dir.toString());
    List<String> command = new ArrayList<>(List.of(binaryDir().resolve("kube-apiserver").toString(),
        "--bind-address", "127.0.0.1",
        "--cert-dir", dir.toString(),
        "--secure-port", Integer.toString(apiServerPort),
        "--etcd-servers", "http://127.0.0.1:" + etcdPort,
        "--authorization-mode", "RBAC",
        "--service-account-issuer", "https://localhost",
        "--service-account-signing-key-file", certs.getAPIServerKeyPath(),
        "--service-account-key-file", certs.getAPIServerKeyPath(),
        "--disable-admission-plugins", "ServiceAccount",
        "--client-ca-file", certs.getClientCertPath(),
        "--service-cluster-ip-range", "10.0.0.0/24",
        "--allow-privileged",
        "--audit-policy-file", auditPolicy().toString(),
        "--audit-log-path", auditLogFile().toString()));
    command.addAll(List.of(extraFlags));
    try {
      apiServer = new ProcessBuilder(command).redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("kube-apiserver.log").toFile())).start();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (true) {
      if (!apiServer.isAlive()) {
        throw new IllegalStateException("kube-apiserver exited " + apiServer.exitValue() + "; see " + dir.resolve("kube-apiserver.log") + ":\n" + tail(dir.resolve("kube-apiserver.log")));
      }
      try {
        if ("ok".equals(client.raw("/readyz")) && client.namespaces().withName("default").get() != null) {
          return;
        }
      } catch (RuntimeException notYet) {
        // connection refused or not ready: poll again
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("kube-apiserver not ready in 60 s:\n" + tail(dir.resolve("kube-apiserver.log")));
      }
      try {
        Thread.sleep(200);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
    }
  }

  /** Kills kube-apiserver (SIGKILL, as a crashed or partitioned server); etcd and its data stay. */
  public void stopApiServer() {
    if (!restartable) {
      throw new IllegalStateException("only a restartable() server stops its kube-apiserver alone");
    }
    stopProcess(apiServer);
  }

  /** The port kube-apiserver serves HTTPS on, on 127.0.0.1 (the same across restarts in restartable mode). */
  public int apiServerPort() {
    return restartable ? apiServerPort : server == null ? -1 : Integer.parseInt(config.getMasterUrl().replaceAll(".*:([0-9]+)/?$", "$1"));
  }

  private Path auditPolicy() {
    Path policy = dir.resolve("audit-policy.yaml");
    if (!Files.exists(policy)) {
      try {
        Files.writeString(policy, AUDIT_POLICY);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return policy;
  }

  private String kubeconfigYaml() {
    CertManager certs = new CertManager(dir.toString());
    return String.join("\n",
        "apiVersion: v1",
        "kind: Config",
        "clusters:",
        "- name: real",
        "  cluster:",
        "    certificate-authority: " + certs.getAPIServerCertPath(),
        "    server: https://127.0.0.1:" + apiServerPort,
        "users:",
        "- name: admin",
        "  user:",
        "    client-certificate: " + certs.getClientCertPath(),
        "    client-key: " + certs.getClientKeyPath(),
        "contexts:",
        "- name: real",
        "  context: {cluster: real, user: admin}",
        "current-context: real",
        "");
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  private static void stopProcess(Process p) {
    if (p == null) {
      return;
    }
    p.destroyForcibly();
    try {
      p.waitFor(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static String tail(Path log) {
    try {
      List<String> lines = Files.readAllLines(log);
      return String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
    } catch (IOException e) {
      return "(no log: " + e.getMessage() + ")";
    }
  }

  /** The CA file a client must trust: the API server's self-signed certificate. */
  public Path caFile() {
    return Path.of(new CertManager(dir.toString()).getAPIServerCertPath());
  }

  /** The env a process in a pod finds this server by ({@link PodEnvironment}), with a token file of {@link #serviceAccountToken}. */
  public Map<String, String> podEnvironment(Path tokenFile) {
    return PodEnvironment.of("127.0.0.1", apiServerPort(), tokenFile, caFile());
  }

  /**
   * A token for {@code serviceAccount} from the TokenRequest API, bound to {@code pod} when given
   * (so that it carries the pod's node name, as a kubelet's projected token does), in a file of
   * this server's directory as a pod's projected volume has it.
   */
  public Path serviceAccountToken(String namespace, String serviceAccount, Pod pod) {
    var spec = new TokenRequestBuilder().withNewSpec().withExpirationSeconds(3600L);
    if (pod != null) {
      spec.withNewBoundObjectRef().withApiVersion("v1").withKind("Pod").withName(pod.getMetadata().getName()).withUid(pod.getMetadata().getUid())
          .endBoundObjectRef();
    }
    var request = client.serviceAccounts().inNamespace(namespace).withName(serviceAccount).tokenRequest(spec.endSpec().build());
    return tempFile("token-" + serviceAccount, request.getStatus().getToken());
  }

  /** Applies {@code deploy/} as a user would ({@code kubectl apply -f}), and waits for its CRDs to be served. */
  public void installDeploy() {
    kubectl("apply", "-f", ProjectPaths.deploy().toString()).assertSuccess();
    kubectl("wait", "--for=condition=Established", "--timeout=30s", "crd/tcptuningpolicies.tcptuning.io", "crd/tcptuningnodestates.tcptuning.io")
        .assertSuccess();
  }

  /** A client with the admin's identity (a client certificate in group system:masters). */
  public KubernetesClient client() {
    return client;
  }

  /** A new client from the admin's configuration changed by {@code adjust}, e.g. to impersonate. Close it. */
  public KubernetesClient client(UnaryOperator<ConfigBuilder> adjust) {
    return new KubernetesClientBuilder().withConfig(adjust.apply(new ConfigBuilder(config)).build()).build();
  }

  /** The admin's configuration (server URL, CA, client certificate). */
  public Config config() {
    return config;
  }

  private static final String AUDIT_POLICY = "apiVersion: audit.k8s.io/v1\nkind: Policy\nomitStages: [RequestReceived]\nrules:\n- level: Metadata\n";

  private Path auditLogFile() {
    return dir.resolve("audit.log");
  }

  /** The audit events logged so far (JSON objects, one per request stage), when started {@link #withAuditLog}. */
  public List<Map<String, Object>> auditEvents() {
    if (!auditLog) {
      throw new IllegalStateException("this server was not started withAuditLog()");
    }
    try (Stream<String> lines = Files.lines(auditLogFile())) {
      return lines.filter(l -> !l.isBlank()).map(RealApiServer::jsonObject).toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The user an audited request acted as: the impersonated one when there is one. */
  public static String auditUser(Map<String, Object> event) {
    Object impersonated = event.get("impersonatedUser");
    Object user = impersonated != null ? impersonated : event.get("user");
    return user instanceof Map<?, ?> m ? (String) m.get("username") : null;
  }

  /** A field of an audited request's objectRef ({@code resource}, {@code name}, ...), or null. */
  public static Object auditObjectRef(Map<String, Object> event, String field) {
    return event.get("objectRef") instanceof Map<?, ?> m ? m.get(field) : null;
  }

  /** The HTTP status an audited request got, or null when the event has none (yet). */
  public static Integer auditCode(Map<String, Object> event) {
    return event.get("responseStatus") instanceof Map<?, ?> m && m.get("code") instanceof Number n ? n.intValue() : null;
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> jsonObject(String json) {
    return Serialization.unmarshal(json, Map.class);
  }

  /** The admin's kubeconfig, for {@code kubectl --kubeconfig} and friends. */
  public Path kubeconfig() {
    return kubeconfig;
  }

  /** A fresh file in this server's directory (deleted with it). */
  public Path tempFile(String name, String content) {
    try {
      Path file = Files.createTempFile(dir, "", "-" + name);
      Files.writeString(file, content);
      return file;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Runs the real kubectl against this server as the admin. */
  public Kubectl kubectl(String... args) {
    return kubectlWithInput(null, args);
  }

  /** Runs the real kubectl with {@code stdin} on its standard input (for {@code -f -}). */
  public Kubectl kubectlWithInput(String stdin, String... args) {
    List<String> command = new ArrayList<>();
    command.add(binaryDir().resolve("kubectl").toString());
    command.add("--kubeconfig=" + kubeconfig);
    command.add("--cache-dir=" + dir.resolve("kubectl-cache"));
    command.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(command);
    pb.environment().put("KUBECONFIG", kubeconfig.toString());
    pb.environment().put("HOME", dir.toString());
    pb.environment().remove("KUBECTL_EXTERNAL_DIFF");
    try {
      Process p = pb.start();
      CompletableFuture<String> out = drain(p.getInputStream());
      CompletableFuture<String> err = drain(p.getErrorStream());
      try (OutputStream in = p.getOutputStream()) {
        if (stdin != null) {
          in.write(stdin.getBytes(StandardCharsets.UTF_8));
        }
      }
      if (!p.waitFor(KUBECTL_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
        p.destroyForcibly().waitFor();
        throw new AssertionError("kubectl " + String.join(" ", args) + " did not finish in " + KUBECTL_TIMEOUT_SECONDS + " s");
      }
      return new Kubectl(List.of(args), p.exitValue(), out.join(), err.join());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted while running kubectl", e);
    }
  }

  /**
   * Creates the generated CRDs (the chart's copies, which the build keeps equal to {@code crds/})
   * and waits until the server reports each Established.
   */
  public List<CustomResourceDefinition> installCrds() {
    List<CustomResourceDefinition> created = new ArrayList<>();
    for (Path file : crdFiles()) {
      CustomResourceDefinition crd = Serialization.unmarshal(read(file), CustomResourceDefinition.class);
      created.add(client.resource(crd).create());
    }
    for (CustomResourceDefinition crd : created) {
      client
          .apiextensions()
          .v1()
          .customResourceDefinitions()
          .withName(crd.getMetadata().getName())
          .waitUntilCondition(RealApiServer::established, 30, TimeUnit.SECONDS);
    }
    return created;
  }

  public static boolean established(CustomResourceDefinition crd) {
    return crd != null
        && crd.getStatus() != null
        && crd.getStatus().getConditions() != null // a status without conditions comes first, now and then
        && crd.getStatus().getConditions().stream().anyMatch(c -> "Established".equals(c.getType()) && "True".equals(c.getStatus()));
  }

  public static List<Path> crdFiles() {
    try (Stream<Path> files = Files.list(ProjectPaths.resolve("crds"))) {
      return files.filter(f -> f.toString().endsWith(".yaml")).sorted().toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static String read(Path file) {
    try {
      return Files.readString(file);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Reads a process's stream to the end on a thread of its own (the common pool may have one). */
  private static CompletableFuture<String> drain(InputStream stream) {
    CompletableFuture<String> text = new CompletableFuture<>();
    Thread.ofVirtual()
        .start(
            () -> {
              try (stream) {
                ByteArrayOutputStream buf = new ByteArrayOutputStream();
                stream.transferTo(buf);
                text.complete(buf.toString(StandardCharsets.UTF_8));
              } catch (IOException e) {
                text.completeExceptionally(e);
              }
            });
    return text;
  }

  private static void deleteTree(Path root) {
    try (Stream<Path> walk = Files.walk(root)) {
      // Links are deleted, never followed: k8s/<version> points at the shared binaries.
      for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot delete " + root, e);
    }
  }
}
