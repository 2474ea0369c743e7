import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;

/**
 * A stand-in API server for training the node agent's AOT cache where there is no cluster (a
 * Dockerfile build): HTTPS on loopback with the key given, answering the agent's own requests for
 * the node "aot-training" and the policy "aot-training" with canned objects, so that the training
 * run takes the paths a real start takes (the TLS handshake, reading a policy, a node and a pod
 * list, creating the node state and writing its status, the informers' watches) and the cache
 * holds them. Run with the source launcher of any JDK 25, not by the agent's own JVM, with the
 * jar on the class path for Jackson:
 *
 * <pre>java -cp tcptune.jar AotTrainingApi.java KEYSTORE.p12 PASSWORD PORT READY-FILE [METRICS-PORT]</pre>
 *
 * It writes READY-FILE once it listens and serves until it is killed. With METRICS-PORT it also
 * scrapes the agent's {@code /metrics} there every second, as Prometheus does, so that the
 * exposition path is in the cache too. Only for
 * {@code train-agent-aot.sh}; nothing else runs it, and it is not part of the jar.
 */
public final class AotTrainingApi {
  static final String POLICIES = "/apis/tcptuning.io/v1alpha1/tcptuningpolicies";
  static final String NODE_STATES = "/apis/tcptuning.io/v1alpha1/tcptuningnodestates";

  static final String POLICY = """
      {"apiVersion":"tcptuning.io/v1alpha1","kind":"TcpTuningPolicy",
       "metadata":{"name":"aot-training","uid":"6f1c1a52-0000-4000-8000-000000000001","resourceVersion":"2","generation":1,
                   "creationTimestamp":"2026-01-01T00:00:00Z"},
       "spec":{"mode":"DryRun","sysctls":{"tcpTwReuse":1,"tcpTimestamps":1,"ipLocalPortRange":"10240 65535"}}}""";

  static final String NODE = """
      {"apiVersion":"v1","kind":"Node",
       "metadata":{"name":"aot-training","uid":"6f1c1a52-0000-4000-8000-000000000002","resourceVersion":"3",
                   "labels":{"kubernetes.io/hostname":"aot-training","kubernetes.io/os":"linux"}},
       "spec":{"podCIDR":"10.244.0.0/24"},
       "status":{"nodeInfo":{"kernelVersion":"6.1.0","osImage":"Debian GNU/Linux 12 (bookworm)"},
                 "addresses":[{"type":"InternalIP","address":"10.0.0.1"}]}}""";

  static final String POD = """
      {"apiVersion":"v1","kind":"Pod",
       "metadata":{"name":"client-0","namespace":"default","uid":"6f1c1a52-0000-4000-8000-000000000003","resourceVersion":"4",
                   "labels":{"app":"client"}},
       "spec":{"nodeName":"aot-training","containers":[{"name":"client","image":"busybox"}],
               "securityContext":{"sysctls":[{"name":"net.ipv4.tcp_fin_timeout","value":"30"}]}},
       "status":{"phase":"Running","podIP":"10.244.0.5"}}""";

  static final String NOT_FOUND = """
      {"apiVersion":"v1","kind":"Status","status":"Failure","reason":"NotFound","code":404,"message":"not found"}""";

  public static void main(String[] args) throws Exception {
    KeyStore keys = KeyStore.getInstance("PKCS12");
    char[] password = args[1].toCharArray();
    try (InputStream in = new FileInputStream(args[0])) {
      keys.load(in, password);
    }
    KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    kmf.init(keys, password);
    SSLContext tls = SSLContext.getInstance("TLS");
    tls.init(kmf.getKeyManagers(), null, null);
    HttpsServer server = HttpsServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), Integer.parseInt(args[2])), 0);
    server.setHttpsConfigurator(new HttpsConfigurator(tls));
    server.setExecutor(Executors.newCachedThreadPool()); // a watch holds its exchange open
    server.createContext("/", AotTrainingApi::answer);
    server.start();
    Files.writeString(Path.of(args[3]), "listening\n");
    if (args.length > 4) {
      scrapeEverySecond(URI.create("http://127.0.0.1:" + Integer.parseInt(args[4]) + "/metrics"));
    }
  }

  /** Prints "SCRAPE /metrics STATUS" for each answer (the agent listens a moment after it starts). */
  static void scrapeEverySecond(URI metrics) {
    HttpClient http = HttpClient.newHttpClient();
    Executors.newSingleThreadScheduledExecutor().scheduleWithFixedDelay(() -> {
      try {
        HttpResponse<Void> response = http.send(HttpRequest.newBuilder(metrics).timeout(Duration.ofSeconds(2)).build(),
            HttpResponse.BodyHandlers.discarding());
        System.out.println("SCRAPE /metrics " + response.statusCode());
      } catch (IOException e) {
        // not listening yet
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }, 1, 1, TimeUnit.SECONDS);
  }

  static void answer(HttpExchange exchange) throws IOException {
    try (exchange) {
      String method = exchange.getRequestMethod();
      String path = exchange.getRequestURI().getPath();
      String query = exchange.getRequestURI().getQuery() == null ? "" : exchange.getRequestURI().getQuery();
      byte[] body = exchange.getRequestBody().readAllBytes();
      System.out.println(method + " " + path + (query.isEmpty() ? "" : "?" + query)); // what the training exercised
      if (query.contains("watch=true")) {
        watch(exchange);
      } else if (method.equals("GET") && path.equals(POLICIES + "/aot-training")) {
        send(exchange, 200, POLICY);
      } else if (method.equals("GET") && path.equals(POLICIES)) {
        send(exchange, 200, list("TcpTuningPolicyList", "tcptuning.io/v1alpha1", POLICY));
      } else if (method.equals("GET") && path.equals("/api/v1/nodes/aot-training")) {
        send(exchange, 200, NODE);
      } else if (method.equals("GET") && path.equals("/api/v1/pods")) {
        send(exchange, 200, list("PodList", "v1", POD));
      } else if (method.equals("GET") && path.equals("/api/v1/namespaces")) {
        send(exchange, 200, list("NamespaceList", "v1", "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"default\",\"resourceVersion\":\"5\"}}"));
      } else if (method.equals("GET") && path.startsWith(NODE_STATES + "/")) {
        String stored = nodeState;
        send(exchange, stored == null ? 404 : 200, stored == null ? NOT_FOUND : stored); // none at first: the agent creates it
      } else if ((method.equals("POST") && path.equals(NODE_STATES)) || (method.equals("PUT") && path.startsWith(NODE_STATES + "/"))) {
        nodeState = stored(body);
        send(exchange, method.equals("POST") ? 201 : 200, nodeState);
      } else {
        send(exchange, 404, NOT_FOUND);
      }
    }
  }

  /** The node state as the agent last wrote it. */
  static volatile String nodeState;
  static int resourceVersion = 10;
  static final ObjectMapper JSON = new ObjectMapper();

  /** What the agent sent, as an API server stores it: with a new resourceVersion (the next update is guarded by it). */
  static synchronized String stored(byte[] body) throws IOException {
    ObjectNode object = (ObjectNode) JSON.readTree(body);
    object.withObjectProperty("metadata").put("resourceVersion", Integer.toString(++resourceVersion));
    return JSON.writeValueAsString(object);
  }

  static String list(String kind, String apiVersion, String item) {
    return "{\"apiVersion\":\"" + apiVersion + "\",\"kind\":\"" + kind + "\",\"metadata\":{\"resourceVersion\":\"9\"},\"items\":[" + item + "]}";
  }

  /** A watch with no news: open, streaming nothing, until the training ends. */
  static void watch(HttpExchange exchange) throws IOException {
    exchange.getResponseHeaders().set("Content-Type", "application/json");
    exchange.sendResponseHeaders(200, 0);
    exchange.getResponseBody().flush();
    try {
      Thread.sleep(120_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  static void send(HttpExchange exchange, int code, String json) throws IOException {
    byte[] bytes = json.getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().set("Content-Type", "application/json");
    exchange.sendResponseHeaders(code, bytes.length);
    exchange.getResponseBody().write(bytes);
  }
}
