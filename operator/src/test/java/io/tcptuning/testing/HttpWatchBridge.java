package io.tcptuning.testing;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.ListOptions;
import io.fabric8.kubernetes.api.model.ListOptionsBuilder;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.Watch;
import io.fabric8.kubernetes.client.Watcher;
import io.fabric8.kubernetes.client.WatcherException;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.SSLContext;

/**
 * An HTTP front for {@link MockApiServer} that streams watches the way a real API server does.
 * fabric8's mock serves watches only over websockets; clients that watch over plain HTTP (the
 * agent's own {@code KubeApi}) get here, for {@code watch=true}, a chunked response with one JSON
 * event per line, fed by a fabric8 watch on the mock with the same field selector. Every other
 * request is forwarded to the mock as it is (method, path and query, Content-Type, Accept,
 * Authorization, body) and its status and body returned.
 *
 * <p>It does not emulate: authentication (the Authorization header is recorded, never checked),
 * watching from a resourceVersion (the mock's watch starts at the moment it opens, so a change
 * between a client's LIST and its WATCH is missed: tests wait for {@link #watchesOpened()} before
 * changing anything), BOOKMARK events, label selectors on watches, and 410 Gone except when a test
 * calls {@link #expireWatches()}. {@code timeoutSeconds} is honoured.
 */
public final class HttpWatchBridge implements AutoCloseable {
  /** What the bridge saw of one request. */
  /**
   * @param clientPort the client's TCP port: requests with the same one came over one connection
   * @param nanoTime {@link System#nanoTime()} when the request arrived
   */
  public record SeenRequest(String method, String uri, String authorization, String userAgent, int clientPort, long nanoTime) {}

  private static final String END = "";

  private final MockApiServer mock;
  private final KubernetesClient client;
  private final Map<String, String> kindsByPlural = new HashMap<>();
  private final HttpClient forward = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
  private final List<SeenRequest> seen = new CopyOnWriteArrayList<>();
  private final Set<BlockingQueue<String>> openStreams = ConcurrentHashMap.newKeySet();
  private final AtomicInteger watchesOpened = new AtomicInteger();
  private final int port;
  /** Null: plain HTTP. */
  private final SSLContext tls;
  private HttpServer server;
  private ExecutorService executor;

  public HttpWatchBridge(MockApiServer mock) throws IOException {
    this(mock, null);
  }

  /** A bridge that serves HTTPS with the given server context, as the real API server does. */
  public HttpWatchBridge(MockApiServer mock, SSLContext tls) throws IOException {
    this.mock = mock;
    this.tls = tls;
    this.client = mock.newClient();
    for (CustomResourceDefinition crd : MockApiServer.crds()) {
      kindsByPlural.put(crd.getSpec().getNames().getPlural(), crd.getSpec().getNames().getKind());
    }
    this.server = bind(0);
    this.port = server.getAddress().getPort();
    startServer();
  }

  /** The base URL to give a client. */
  public String url() {
    return (tls == null ? "http" : "https") + "://127.0.0.1:" + port;
  }

  public List<SeenRequest> requests() {
    return List.copyOf(seen);
  }

  /** How many watch streams have been established with the mock so far. */
  public int watchesOpened() {
    return watchesOpened.get();
  }

  /** Ends every open watch with {@code ERROR 410 Gone}, as the API server does for a too-old version. */
  public void expireWatches() {
    String gone = "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\","
        + "\"reason\":\"Expired\",\"message\":\"too old resource version\",\"code\":410}}";
    for (BlockingQueue<String> q : openStreams) {
      q.add(gone);
      q.add(END);
    }
  }

  /** Stops answering and ends open watches; {@link #start()} listens on the same port again. */
  public synchronized void stop() {
    for (BlockingQueue<String> q : openStreams) {
      q.add(END);
    }
    server.stop(0);
    executor.shutdownNow();
  }

  public synchronized void start() throws IOException {
    server = bind(port);
    startServer();
  }

  @Override
  public void close() {
    stop();
    client.close();
  }

  private HttpServer bind(int port) throws IOException {
    InetSocketAddress address = new InetSocketAddress(InetAddress.getLoopbackAddress(), port);
    if (tls == null) {
      return HttpServer.create(address, 16);
    }
    HttpsServer https = HttpsServer.create(address, 16);
    https.setHttpsConfigurator(new HttpsConfigurator(tls));
    return https;
  }

  private void startServer() {
    // One thread per exchange: a watch holds its thread for as long as it streams.
    executor = Executors.newCachedThreadPool(r -> {
      Thread t = new Thread(r, "watch-bridge");
      t.setDaemon(true);
      return t;
    });
    server.setExecutor(executor);
    server.createContext("/", this::handle);
    server.start();
  }

  private void handle(HttpExchange ex) throws IOException {
    try (ex) {
      seen.add(new SeenRequest(ex.getRequestMethod(), ex.getRequestURI().toString(),
          ex.getRequestHeaders().getFirst("Authorization"), ex.getRequestHeaders().getFirst("User-Agent"),
          ex.getRemoteAddress().getPort(), System.nanoTime()));
      Map<String, String> query = query(ex.getRequestURI().getRawQuery());
      if ("true".equals(query.get("watch"))) {
        streamWatch(ex, query);
      } else {
        forward(ex);
      }
    }
  }

  private void forward(HttpExchange ex) throws IOException {
    byte[] body;
    try (InputStream in = ex.getRequestBody()) {
      body = in.readAllBytes();
    }
    HttpRequest.Builder req = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + mock.port() + ex.getRequestURI()))
        .method(ex.getRequestMethod(), body.length == 0 ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(body));
    for (String h : List.of("Content-Type", "Accept", "Authorization")) {
      String v = ex.getRequestHeaders().getFirst(h);
      if (v != null) {
        req.header(h, v);
      }
    }
    HttpResponse<byte[]> resp;
    try {
      resp = forward.send(req.build(), HttpResponse.BodyHandlers.ofByteArray());
    } catch (IOException e) {
      reply(ex, 503, "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\",\"reason\":\"ServiceUnavailable\","
          + "\"message\":\"mock API server unreachable\",\"code\":503}");
      return;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException(e);
    }
    resp.headers().firstValue("Content-Type").ifPresent(v -> ex.getResponseHeaders().set("Content-Type", v));
    byte[] out = resp.body();
    ex.sendResponseHeaders(resp.statusCode(), out.length == 0 ? -1 : out.length);
    if (out.length > 0) {
      ex.getResponseBody().write(out);
    }
  }

  private void streamWatch(HttpExchange ex, Map<String, String> query) throws IOException {
    BlockingQueue<String> events = new LinkedBlockingQueue<>();
    ListOptions options = new ListOptionsBuilder()
        .withFieldSelector(query.get("fieldSelector"))
        .withResourceVersion(query.get("resourceVersion"))
        .build();
    Watch watch;
    try {
      watch = client.genericKubernetesResources(context(ex.getRequestURI().getPath())).watch(options, new Watcher<>() {
        @Override
        public void eventReceived(Action action, GenericKubernetesResource resource) {
          events.add(client.getKubernetesSerialization().asJson(Map.of("type", action.name(), "object", resource)));
        }

        @Override
        public void onClose(WatcherException cause) {
          events.add(END);
        }
      });
    } catch (RuntimeException e) {
      reply(ex, 503, "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\",\"reason\":\"ServiceUnavailable\","
          + "\"message\":\"cannot watch the mock: " + e.getClass().getSimpleName() + "\",\"code\":503}");
      return;
    }
    openStreams.add(events);
    watchesOpened.incrementAndGet();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(Long.parseLong(query.getOrDefault("timeoutSeconds", "1800")));
    try {
      ex.getResponseHeaders().set("Content-Type", "application/json");
      ex.sendResponseHeaders(200, 0); // chunked
      OutputStream out = ex.getResponseBody();
      for (String line; (line = events.poll(deadline - System.nanoTime(), TimeUnit.NANOSECONDS)) != null && !line.equals(END); ) {
        out.write((line + "\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      openStreams.remove(events);
      watch.close();
    }
  }

  /** {@code /apis/<group>/<version>/<plural>} or {@code /api/v1/<plural>}, optionally namespaced. */
  private ResourceDefinitionContext context(String path) {
    String[] p = path.substring(1).split("/");
    boolean core = p[0].equals("api");
    int at = core ? 2 : 3;
    boolean namespaced = p.length > at + 1 && p[at].equals("namespaces");
    String plural = p[namespaced ? at + 2 : at];
    String kind = kindsByPlural.getOrDefault(plural,
        Character.toUpperCase(plural.charAt(0)) + plural.substring(1, plural.length() - 1));
    return new ResourceDefinitionContext.Builder()
        .withGroup(core ? "" : p[1])
        .withVersion(core ? p[1] : p[2])
        .withPlural(plural)
        .withKind(kind)
        .withNamespaced(namespaced)
        .build();
  }

  private static void reply(HttpExchange ex, int code, String json) throws IOException {
    byte[] out = json.getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().set("Content-Type", "application/json");
    ex.sendResponseHeaders(code, out.length);
    ex.getResponseBody().write(out);
  }

  private static Map<String, String> query(String raw) {
    Map<String, String> out = new HashMap<>();
    if (raw != null) {
      for (String pair : raw.split("&")) {
        int eq = pair.indexOf('=');
        String k = eq < 0 ? pair : pair.substring(0, eq);
        String v = eq < 0 ? "" : pair.substring(eq + 1);
        out.put(URLDecoder.decode(k, StandardCharsets.UTF_8), URLDecoder.decode(v, StandardCharsets.UTF_8));
      }
    }
    return out;
  }
}
