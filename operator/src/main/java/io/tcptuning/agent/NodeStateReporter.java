package io.tcptuning.agent;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.tcptuning.api.v1alpha1.TcpTuningNodeState;
import io.tcptuning.api.v1alpha1.TcpTuningNodeStateStatus;
import io.tcptuning.api.v1alpha1.TcpTuningPolicy;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * This node's only door to the API server: writes the node's {@code TcpTuningNodeState} (named
 * after the node, owned by the Node so it goes with it), and reads what the agent must know of
 * the policies. The client is created on first use, so a node with no API server in reach still
 * measures and tunes.
 */
public final class NodeStateReporter implements AutoCloseable {
  private final Supplier<KubernetesClient> clientFactory;
  private final String nodeName;
  private KubernetesClient client;

  public NodeStateReporter(Supplier<KubernetesClient> clientFactory, String nodeName) {
    this.clientFactory = clientFactory;
    this.nodeName = nodeName;
  }

  /**
   * The agent's client settings: fail fast and let the agent's own backoff pace the retries, so
   * that a write during an API outage does not hold the reporting thread for minutes.
   */
  public static KubernetesClientBuilder tuned(KubernetesClientBuilder builder) {
    // Without a class-path search: the default serialization loads and inspects every one of the
    // ~600 Kubernetes model classes listed as services at start-up (about a second and 10 MiB of
    // metaspace), to map kinds it would only need for untyped reads. The agent reads typed
    // resources only; watch events are converted to the watched type all the same.
    return builder.withKubernetesSerialization(new KubernetesSerialization(new ObjectMapper(), false))
        .editOrNewConfig()
        .withRequestRetryBackoffLimit(1)
        .withRequestRetryBackoffInterval(500)
        .withConnectionTimeout(5_000)
        .withRequestTimeout(10_000)
        .endConfig();
  }

  synchronized KubernetesClient client() {
    if (client == null) {
      client = clientFactory.get();
    }
    return client;
  }

  /** Creates the object if needed, then writes its status. Throws on any API error. */
  public void write(TcpTuningNodeStateStatus status) {
    var states = client().resources(TcpTuningNodeState.class);
    if (states.withName(nodeName).get() == null) {
      TcpTuningNodeState fresh = new TcpTuningNodeState();
      var meta = new ObjectMetaBuilder().withName(nodeName).withLabels(Map.of("app.kubernetes.io/name", "tcp-tuning-agent"));
      Node node = client().nodes().withName(nodeName).get();
      if (node != null) {
        meta.withOwnerReferences(new OwnerReferenceBuilder()
            .withApiVersion("v1").withKind("Node").withName(nodeName).withUid(node.getMetadata().getUid()).build());
      }
      fresh.setMetadata(meta.build());
      states.resource(fresh).create();
    }
    states.withName(nodeName).editStatus(current -> {
      current.setStatus(status);
      return current;
    });
  }

  /** The policy, or null when it does not exist. */
  public TcpTuningPolicy policy(String name) {
    return client().resources(TcpTuningPolicy.class).withName(name).get();
  }

  public List<TcpTuningPolicy> policies() {
    return client().resources(TcpTuningPolicy.class).list().getItems();
  }

  /** This node's labels (empty when the Node object is not found). */
  public Map<String, String> nodeLabels() {
    Node node = client().nodes().withName(nodeName).get();
    return node == null || node.getMetadata().getLabels() == null ? Map.of() : node.getMetadata().getLabels();
  }

  /** What this agent's policy wants of this node, from the API server as it is now. */
  public PolicyVerdict verdict(String policyName) {
    return PolicyVerdict.of(policy(policyName), policies(), nodeLabels());
  }

  @Override
  public synchronized void close() {
    if (client != null) {
      client.close();
    }
  }
}
