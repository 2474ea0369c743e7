package io.tcptuning.testing;

import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.CustomResourceDefinitionContext;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.fabric8.mockwebserver.http.RecordedRequest;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;

/**
 * fabric8's mock API server in CRUD mode on loopback, with this project's CRDs registered
 * (status subresource included). It can be stopped and started again on the same port with the
 * same stored objects, to play an API server outage.
 */
public final class MockApiServer implements AutoCloseable {
  public static final List<String> CRD_FILES =
      List.of("tcptuningpolicies.tcptuning.io-v1.yaml", "tcptuningnodestates.tcptuning.io-v1.yaml");

  private final KubernetesCrudDispatcher dispatcher;
  private final int port;
  private final boolean https;
  private KubernetesMockServer server;
  private MockWebServer web;

  /** Plain HTTP, for in-process clients. */
  public MockApiServer() throws IOException {
    this(false);
  }

  /**
   * @param https serve TLS with a self-signed certificate for {@code localhost} ({@link #caPem()}),
   *     as a real API server does for a pod
   */
  public MockApiServer(boolean https) throws IOException {
    this.dispatcher = new KubernetesCrudDispatcher(crdContexts()) {
      @Override
      public io.fabric8.mockwebserver.http.MockResponse handleGet(String path) {
        return super.handleGet(withoutNodeNameSelector(path));
      }

      @Override
      public io.fabric8.mockwebserver.http.MockResponse handleWatch(String path) {
        return super.handleWatch(withoutNodeNameSelector(path));
      }
    };
    this.https = https;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      this.port = s.getLocalPort();
    }
    start();
  }

  private static final java.util.regex.Pattern NODE_NAME_SELECTOR = java.util.regex.Pattern.compile("fieldSelector=spec\\.nodeName(%3D|=)[^&]*&?");

  /**
   * The mock matches field selectors on metadata only and answers {@code spec.nodeName=X} with
   * nothing; a real API server filters pods by node. Here the selector is dropped and every pod
   * is returned, so what keeps other nodes' pods out is the agent's own check of spec.nodeName.
   */
  static String withoutNodeNameSelector(String path) {
    String out = NODE_NAME_SELECTOR.matcher(path).replaceAll("");
    return out.endsWith("?") || out.endsWith("&") ? out.substring(0, out.length() - 1) : out;
  }

  public synchronized void start() {
    web = new MockWebServer();
    server = new KubernetesMockServer(new Context(), web, new HashMap<>(), dispatcher, https);
    server.init(InetAddress.getLoopbackAddress(), port);
  }

  /** The PEM certificate the server presents over HTTPS: the CA a client must trust. */
  public Path caPem() {
    return Path.of(web.getSelfSignedCertificate().certificatePath());
  }

  /**
   * The environment a pod's process finds the API server by, as fabric8 reads it: the service
   * host and port, the service-account token file and the CA. No kubeconfig is consulted.
   */
  public java.util.Map<String, String> podEnvironment(Path tokenFile) {
    return PodEnvironment.of("localhost", port, tokenFile, caPem());
  }

  /** Every request received so far, oldest first, taken off the server's record. */
  public List<RecordedRequest> takeRequests() throws InterruptedException {
    List<RecordedRequest> out = new java.util.ArrayList<>();
    for (RecordedRequest r; (r = server.takeRequest(1, java.util.concurrent.TimeUnit.MILLISECONDS)) != null; ) {
      out.add(r);
    }
    return out;
  }

  /** Stops answering; stored objects are kept for {@link #start()}. */
  public synchronized void stop() {
    server.destroy();
  }

  /** The User-Agent of {@link #newClient()}, to tell the test's own requests from the agent's. */
  public static final String TEST_USER_AGENT = "tcptune-test";

  /** A new client of this server, for the test's own calls; the caller closes it. */
  public KubernetesClient newClient() {
    return server.createClient(b -> b.editOrNewConfig().withUserAgent(TEST_USER_AGENT).endConfig());
  }

  /** A new client of this server with the caller's settings (the agent's, say); the caller closes it. */
  public KubernetesClient newClient(java.util.function.UnaryOperator<io.fabric8.kubernetes.client.KubernetesClientBuilder> settings) {
    return server.createClient(b -> settings.apply(b));
  }

  /** How fabric8 reaches this server (URL, trust, namespace), for building a client of one's own. */
  public io.fabric8.kubernetes.client.Config clientConfig() {
    try (KubernetesClient c = newClient()) {
      return c.getConfiguration();
    }
  }

  public int port() {
    return port;
  }

  @Override
  public void close() {
    stop();
  }

  public static List<CustomResourceDefinition> crds() throws IOException {
    List<CustomResourceDefinition> out = new java.util.ArrayList<>();
    for (String f : CRD_FILES) {
      out.add(Serialization.unmarshal(Files.readString(ProjectPaths.resolve("crds").resolve(f)), CustomResourceDefinition.class));
    }
    return out;
  }

  private static List<CustomResourceDefinitionContext> crdContexts() throws IOException {
    return crds().stream().map(CustomResourceDefinitionContext::fromCrd).toList();
  }
}
