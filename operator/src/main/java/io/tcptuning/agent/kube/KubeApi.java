package io.tcptuning.agent.kube;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.HttpURLConnection;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.Supplier;
import javax.net.ssl.HttpsURLConnection;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocketFactory;

/**
 * The node agent's Kubernetes API client: JSON over {@link HttpURLConnection}, nothing else. The
 * agent must stay under 64 MiB RSS, and a general client (fabric8 with Jackson databind and
 * java.net.http) costs about 30 MiB more than these few requests need.
 *
 * <p>Objects are maps as produced by the {@link JsonCodec}. Paths are built by the caller from
 * constants and names passed through {@link #encode}. Connections are kept alive: every body,
 * including error bodies, is read to the end.
 *
 * <p>Configuration: {@link #fromEnvironment} uses {@value #ENV_SERVER} (base URL such as
 * {@code https://10.0.0.1:6443}), {@value #ENV_TOKEN_FILE} and {@value #ENV_CA_FILE} when
 * {@value #ENV_SERVER} is set (for tests and running outside a pod), else the pod's service account
 * as {@link #inCluster} does.
 */
public final class KubeApi implements AutoCloseable {
  public static final String ENV_SERVER = "TCPTUNE_API_SERVER";
  public static final String ENV_TOKEN_FILE = "TCPTUNE_API_TOKEN_FILE";
  public static final String ENV_CA_FILE = "TCPTUNE_API_CA_FILE";
  public static final Path SERVICE_ACCOUNT_DIR = Path.of("/var/run/secrets/kubernetes.io/serviceaccount");
  /** Larger answers are refused: bounds the agent's memory whatever the server sends. */
  public static final int MAX_BODY_BYTES = 8 << 20;

  /**
   * Where and how to reach the API server.
   *
   * @param server base URL without a trailing slash, e.g. {@code https://10.96.0.1:443}
   * @param token the bearer token, asked for each request; null or empty sends none
   * @param tls trust for https; empty uses the JDK's default trust store
   */
  public record Config(URI server, Supplier<String> token, Optional<SSLContext> tls, Duration connectTimeout,
      Duration readTimeout) {
    public Config {
      Objects.requireNonNull(server, "server");
      Objects.requireNonNull(token, "token");
      Objects.requireNonNull(tls, "tls");
      String scheme = server.getScheme();
      if (!"https".equals(scheme) && !"http".equals(scheme)) {
        throw new IllegalArgumentException("API server URL must be http or https: " + server);
      }
    }

    /** Connect timeout 5 s, read timeout 10 s, default trust. */
    public static Config of(String server, Supplier<String> token) {
      String base = server.endsWith("/") ? server.substring(0, server.length() - 1) : server;
      return new Config(URI.create(base), token, Optional.empty(), Duration.ofSeconds(5), Duration.ofSeconds(10));
    }

    public Config withTls(SSLContext context) {
      return new Config(server, token, Optional.of(context), connectTimeout, readTimeout);
    }

    public Config withTimeouts(Duration connect, Duration read) {
      return new Config(server, token, tls, connect, read);
    }
  }

  private final Config config;
  private final JsonCodec json;
  /**
   * One factory for every request: the JDK reuses a kept-alive HTTPS connection only for the same
   * factory, so a factory per request would mean a TLS handshake per request.
   */
  private final SSLSocketFactory sockets;

  private KubeApi(Config config, JsonCodec json) {
    this.config = config;
    this.json = json;
    this.sockets = config.tls().map(SSLContext::getSocketFactory).orElse(null);
  }

  public static KubeApi create(Config config, JsonCodec json) {
    return new KubeApi(config, json);
  }

  /** The pod's service account: KUBERNETES_SERVICE_HOST/PORT, its token (re-read as it rotates) and CA. */
  public static KubeApi inCluster(JsonCodec json) throws IOException {
    return inCluster(System.getenv(), SERVICE_ACCOUNT_DIR, json);
  }

  static KubeApi inCluster(Map<String, String> env, Path serviceAccountDir, JsonCodec json) throws IOException {
    String host = env.get("KUBERNETES_SERVICE_HOST");
    String port = env.getOrDefault("KUBERNETES_SERVICE_PORT", "443");
    if (host == null || host.isBlank()) {
      throw new IOException("KUBERNETES_SERVICE_HOST is not set: not running in a pod? Set " + ENV_SERVER + " instead");
    }
    // An IPv6 service address must be bracketed in a URL.
    String authority = host.contains(":") && !host.startsWith("[") ? "[" + host + "]" : host;
    Config config = Config.of("https://" + authority + ":" + port,
            new ServiceAccountToken(serviceAccountDir.resolve("token")))
        .withTls(PemTrust.sslContext(serviceAccountDir.resolve("ca.crt")));
    return new KubeApi(config, json);
  }

  /** {@value #ENV_SERVER} (+ optional token and CA files) when set, else {@link #inCluster}. */
  public static KubeApi fromEnvironment(Map<String, String> env, JsonCodec json) throws IOException {
    String server = env.get(ENV_SERVER);
    if (server == null || server.isBlank()) {
      return inCluster(env, SERVICE_ACCOUNT_DIR, json);
    }
    String tokenFile = env.get(ENV_TOKEN_FILE);
    Supplier<String> token = tokenFile == null || tokenFile.isBlank() ? () -> null : new ServiceAccountToken(Path.of(tokenFile));
    Config config = Config.of(server, token);
    String caFile = env.get(ENV_CA_FILE);
    if (caFile != null && !caFile.isBlank()) {
      config = config.withTls(PemTrust.sslContext(Path.of(caFile)));
    }
    return new KubeApi(config, json);
  }

  /** Encodes a name or query value for a URL (names are DNS subdomains; encoded all the same). */
  public static String encode(String value) {
    return URLEncoder.encode(value, StandardCharsets.UTF_8).replace("+", "%20");
  }

  /** The object at {@code path}, or empty when the server answers 404. */
  public Optional<Map<String, Object>> get(String path) throws IOException {
    Response r = send("GET", path, null);
    if (r.code == 404) {
      return Optional.empty();
    }
    return Optional.of(objectOrThrow("GET", path, r));
  }

  /** Creates; returns the object as stored. */
  public Map<String, Object> post(String path, Map<String, ?> body) throws IOException {
    return objectOrThrow("POST", path, send("POST", path, json.write(body)));
  }

  /**
   * Replaces; returns the object as stored. With {@code metadata.resourceVersion} in the body, a
   * stale version is refused with 409 Conflict. (HttpURLConnection cannot PATCH, so status updates
   * PUT the whole object to its {@code /status} path.)
   */
  public Map<String, Object> put(String path, Map<String, ?> body) throws IOException {
    return objectOrThrow("PUT", path, send("PUT", path, json.write(body)));
  }

  /**
   * Follows one object of a collection, as an informer would, on a new daemon thread started here
   * (on the caller's thread, so it lives in the caller's network namespace). {@code onChange} gets
   * the current object first (or empty when absent), then each new version, and empty when it is
   * deleted. Close the returned watch to stop.
   *
   * @param collectionPath e.g. {@code /apis/tcptuning.io/v1alpha1/tcptuningpolicies}
   */
  public ObjectWatch watchOne(String collectionPath, String name, Consumer<Optional<Map<String, Object>>> onChange) {
    return new ObjectWatch(this, collectionPath, name, onChange);
  }

  /** The base URL requests go to. */
  public URI server() {
    return config.server();
  }

  @Override
  public void close() {
    // Nothing to release: idle keep-alive connections belong to the JDK's shared cache.
  }

  JsonCodec json() {
    return json;
  }

  /** A GET whose body the caller streams (a watch) on {@code s}; a non-2xx answer is thrown. */
  void openStream(WatchStream s, String path, Duration readTimeout) throws IOException {
    SSLContext tls = null;
    if ("https".equals(config.server().getScheme())) {
      try {
        tls = config.tls().isPresent() ? config.tls().get() : SSLContext.getDefault();
      } catch (java.security.NoSuchAlgorithmException e) {
        throw new IOException("no default TLS context: " + e.getMessage(), e);
      }
    }
    s.open(config.server(), path, config.token().get(), tls, (int) config.connectTimeout().toMillis(),
        (int) readTimeout.toMillis());
    if (s.status() / 100 != 2) {
      throw failure("GET", path, s.status(), s.readErrorBody());
    }
  }

  /** Reads a JSON object from an HTTP body already read into memory. */
  @SuppressWarnings("unchecked")
  Map<String, Object> parseObject(byte[] body) throws IOException {
    if (body.length == 0) {
      return new LinkedHashMap<>();
    }
    Object value = json.parse(body);
    if (!(value instanceof Map)) {
      throw new IOException("expected a JSON object from the API server, got " + (value == null ? "null" : value.getClass().getSimpleName()));
    }
    return (Map<String, Object>) value;
  }

  private record Response(int code, byte[] body) {}

  private Response send(String method, String path, byte[] body) throws IOException {
    HttpURLConnection c = open(method, path, config.readTimeout());
    try {
      if (body != null) {
        c.setDoOutput(true);
        c.setRequestProperty("Content-Type", "application/json");
        c.setFixedLengthStreamingMode(body.length);
        try (OutputStream out = c.getOutputStream()) {
          out.write(body);
        }
      }
      int code = c.getResponseCode();
      return new Response(code, readBody(c, code));
    } catch (IOException | RuntimeException e) {
      c.disconnect();
      throw e;
    }
  }

  private HttpURLConnection open(String method, String path, Duration readTimeout) throws IOException {
    if (!path.startsWith("/")) {
      throw new IllegalArgumentException("API path must start with /: " + path);
    }
    HttpURLConnection c = (HttpURLConnection) URI.create(config.server() + path).toURL().openConnection();
    if (c instanceof HttpsURLConnection https && sockets != null) {
      // Only the trust changes; the default hostname verification stays on.
      https.setSSLSocketFactory(sockets);
    }
    c.setRequestMethod(method);
    c.setConnectTimeout((int) config.connectTimeout().toMillis());
    c.setReadTimeout((int) readTimeout.toMillis());
    c.setUseCaches(false);
    c.setInstanceFollowRedirects(false);
    c.setRequestProperty("Accept", "application/json");
    c.setRequestProperty("User-Agent", "tcptune-agent");
    String token = config.token().get();
    if (token != null && !token.isEmpty()) {
      c.setRequestProperty("Authorization", "Bearer " + token);
    }
    return c;
  }

  /** The whole body (so the connection can be reused), at most {@link #MAX_BODY_BYTES}. */
  private static byte[] readBody(HttpURLConnection c, int code) throws IOException {
    InputStream in = code >= 400 ? c.getErrorStream() : c.getInputStream();
    if (in == null) {
      return new byte[0];
    }
    try (in) {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      byte[] buf = new byte[8192];
      for (int n; (n = in.read(buf)) >= 0; ) {
        if (out.size() + n > MAX_BODY_BYTES) {
          c.disconnect();
          throw new IOException(c.getRequestMethod() + " " + c.getURL().getPath() + ": response larger than " + MAX_BODY_BYTES + " bytes");
        }
        out.write(buf, 0, n);
      }
      return out.toByteArray();
    }
  }

  private Map<String, Object> objectOrThrow(String method, String path, Response r) throws IOException {
    if (r.code / 100 != 2) {
      throw failure(method, path, r.code, r.body);
    }
    return parseObject(r.body);
  }

  /** The error, with reason and message when the body is a Status object. */
  private KubeApiException failure(String method, String path, int code, byte[] body) {
    String reason = "";
    String message = "";
    try {
      Map<String, Object> status = parseObject(body);
      if ("Status".equals(status.get("kind"))) {
        reason = status.get("reason") instanceof String s ? s : "";
        message = status.get("message") instanceof String s ? s : "";
      }
    } catch (IOException | RuntimeException notStatus) {
      // Not JSON (a proxy's HTML page, say): the code alone has to do.
    }
    return new KubeApiException(method, path, code, reason, message);
  }
}
