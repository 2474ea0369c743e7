package io.tcptuning.agent;

import io.tcptuning.agent.kube.JsonCodec;
import io.tcptuning.agent.kube.KubeApi;
import io.tcptuning.agent.kube.KubeApiException;
import io.tcptuning.agent.kube.ObjectWatch;
import io.tcptuning.api.v1alpha1.ModelBindingException;
import io.tcptuning.api.v1alpha1.ModelJson;
import io.tcptuning.api.v1alpha1.TcpTuningNodeStateStatus;
import io.tcptuning.api.v1alpha1.TcpTuningPolicy;
import io.tcptuning.domain.Violation;
import io.tcptuning.json.Json;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.Supplier;
import java.util.stream.Collectors;

/**
 * This node's only door to the API server: writes the node's {@code TcpTuningNodeState} (named
 * after the node, owned by the Node so it goes with it), and reads what the agent must know of
 * the policies. Plain HTTP and JSON trees ({@link KubeApi}), no Kubernetes client library: the
 * agent runs on every node and must stay small. The connection is set up on first use, so a node
 * with no API server in reach still measures and tunes.
 */
public final class NodeStateReporter implements AutoCloseable {
  static final String POLICIES = "/apis/" + TcpTuningPolicy.GROUP + "/" + TcpTuningPolicy.VERSION + "/tcptuningpolicies";
  static final String NODE_STATES = "/apis/" + TcpTuningPolicy.GROUP + "/" + TcpTuningPolicy.VERSION + "/tcptuningnodestates";
  static final String NODES = "/api/v1/nodes";

  /** The agent's JSON for {@link KubeApi}: the project's own small reader and writer. */
  public static final JsonCodec JSON = new JsonCodec() {
    @Override
    public Object parse(byte[] json) throws IOException {
      return Json.parse(json);
    }

    @Override
    public byte[] write(Object value) {
      return Json.write(value).getBytes(StandardCharsets.UTF_8);
    }
  };

  private final Supplier<KubeApi> apiFactory;
  private final String nodeName;
  private KubeApi api;
  /** The node state as the API server last returned it (its resourceVersion guards the next update); null when unknown. */
  private Map<String, Object> nodeState;

  public NodeStateReporter(Supplier<KubeApi> apiFactory, String nodeName) {
    this.apiFactory = apiFactory;
    this.nodeName = nodeName;
  }

  synchronized KubeApi api() {
    if (api == null) {
      api = apiFactory.get();
    }
    return api;
  }

  /**
   * Writes the status, creating the object first if needed. An update is guarded by the
   * object's resourceVersion; on a conflict or a vanished object it reads again and retries
   * once. Throws on any other API error.
   */
  public synchronized void write(TcpTuningNodeStateStatus status) throws IOException {
    Map<String, Object> statusJson = ModelJson.nodeStateStatus(status);
    for (int attempt = 1; ; attempt++) {
      if (nodeState == null) {
        Optional<Map<String, Object>> existing = api().get(nodeStatePath());
        nodeState = existing.isPresent() ? existing.get() : create();
      }
      Map<String, Object> body = new LinkedHashMap<>(nodeState);
      body.put("status", statusJson);
      try {
        nodeState = api().put(nodeStatePath() + "/status", body);
        return;
      } catch (KubeApiException e) {
        nodeState = null;
        if (attempt >= 2 || (e.code() != 409 && e.code() != 404)) {
          throw e;
        }
      }
    }
  }

  private Map<String, Object> create() throws IOException {
    String uid = api().get(nodePath()).map(n -> metadata(n).get("uid")).map(String::valueOf).orElse(null);
    try {
      return api().post(NODE_STATES, ModelJson.nodeState(nodeName, Map.of("app.kubernetes.io/name", "tcp-tuning-agent"), uid));
    } catch (KubeApiException e) {
      if (e.code() == 409) { // created meanwhile (a previous run whose answer was lost)
        return api().get(nodeStatePath()).orElseThrow(() -> e);
      }
      throw e;
    }
  }

  private String nodeStatePath() {
    return NODE_STATES + "/" + KubeApi.encode(nodeName);
  }

  private String nodePath() {
    return NODES + "/" + KubeApi.encode(nodeName);
  }

  /** The policy, or null when it does not exist. */
  public TcpTuningPolicy policy(String name) throws IOException {
    Optional<Map<String, Object>> object = api().get(POLICIES + "/" + KubeApi.encode(name));
    return object.isPresent() ? toPolicy(object.get()) : null;
  }

  public List<TcpTuningPolicy> policies() throws IOException {
    List<TcpTuningPolicy> out = new ArrayList<>();
    Map<String, Object> list = api().get(POLICIES).orElse(Map.of());
    if (list.get("items") instanceof List<?> items) {
      for (Object item : items) {
        if (!(item instanceof Map<?, ?> m)) {
          throw new IOException("unreadable TcpTuningPolicy list from the API server: an item is not an object");
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> object = (Map<String, Object>) m;
        out.add(toPolicy(object));
      }
    }
    return out;
  }

  /** This node's labels (empty when the Node object is not found). */
  public Map<String, String> nodeLabels() throws IOException {
    Map<String, String> labels = new LinkedHashMap<>();
    api().get(nodePath()).map(n -> metadata(n).get("labels")).ifPresent(l -> {
      if (l instanceof Map<?, ?> m) {
        m.forEach((k, v) -> {
          if (k instanceof String key && v instanceof String value) {
            labels.put(key, value);
          }
        });
      }
    });
    return labels;
  }

  /** What this agent's policy wants of this node, from the API server as it is now. */
  public PolicyVerdict verdict(String policyName) throws IOException {
    return PolicyVerdict.of(policy(policyName), policies(), nodeLabels());
  }

  /** Follows the policy: called with it on every change, and with empty once it is gone. */
  public ObjectWatch watchPolicy(String policyName, Consumer<Optional<TcpTuningPolicy>> onChange) {
    return api().watchOne(POLICIES, policyName, object -> {
      try {
        onChange.accept(object.isPresent() ? Optional.of(toPolicy(object.get())) : Optional.empty());
      } catch (IOException e) {
        throw new IllegalStateException(e.getMessage(), e);
      }
    });
  }

  /** A policy from the API server (schema-checked there): bound leniently; a shape it cannot bind is an API error. */
  private static TcpTuningPolicy toPolicy(Map<String, Object> object) throws IOException {
    try {
      return ModelJson.policy(object);
    } catch (ModelBindingException e) {
      throw new IOException("unreadable TcpTuningPolicy from the API server: "
          + e.violations().stream().map(Violation::toString).collect(Collectors.joining("; ")), e);
    }
  }

  private static Map<?, ?> metadata(Map<String, Object> object) {
    return object.get("metadata") instanceof Map<?, ?> m ? m : Map.of();
  }

  @Override
  public synchronized void close() {
    if (api != null) {
      api.close();
    }
  }
}
