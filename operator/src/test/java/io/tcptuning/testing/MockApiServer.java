package io.tcptuning.testing;

import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.CustomResourceDefinitionContext;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
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
  private KubernetesMockServer server;

  public MockApiServer() throws IOException {
    this.dispatcher = new KubernetesCrudDispatcher(crdContexts());
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      this.port = s.getLocalPort();
    }
    start();
  }

  public synchronized void start() {
    server = new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(), dispatcher, false);
    server.init(InetAddress.getLoopbackAddress(), port);
  }

  /** Stops answering; stored objects are kept for {@link #start()}. */
  public synchronized void stop() {
    server.destroy();
  }

  /** A new client of this server; the caller closes it. */
  public KubernetesClient newClient() {
    return server.createClient();
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
      out.add(Serialization.unmarshal(Files.readString(Path.of("..", "crds", f)), CustomResourceDefinition.class));
    }
    return out;
  }

  private static List<CustomResourceDefinitionContext> crdContexts() throws IOException {
    return crds().stream().map(CustomResourceDefinitionContext::fromCrd).toList();
  }
}
