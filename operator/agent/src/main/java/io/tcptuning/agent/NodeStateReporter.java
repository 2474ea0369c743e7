package io.tcptuning.agent;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.api.model.Status;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.api.model.KubernetesResourceList;
import io.fabric8.kubernetes.client.dsl.MixedOperation;
import io.fabric8.kubernetes.client.dsl.Resource;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.tcptuning.api.v1alpha1.TcpTuningNodeState;
import io.tcptuning.api.v1alpha1.TcpTuningNodeStateStatus;
import io.tcptuning.api.v1alpha1.TcpTuningPolicy;
import io.tcptuning.agent.views.NodeView;
import io.tcptuning.agent.views.PodView;
import io.tcptuning.kube.ClusterCaTrust;
import java.net.HttpURLConnection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * This node's only door to the API server, through fabric8's client: writes the node's {@code
 * TcpTuningNodeState} (named after the node, owned by the Node so it goes with it), and reads
 * what the agent must know of the policies. The client is created on first use, so a node with no
 * API server in reach still measures and tunes.
 */
public final class NodeStateReporter implements AutoCloseable {
  private final Supplier<KubernetesClient> clientFactory;
  private final String nodeName;
  private KubernetesClient client;
  /** The node state as the API server last returned it: its resourceVersion guards the next update. */
  private TcpTuningNodeState nodeState;

  public NodeStateReporter(Supplier<KubernetesClient> clientFactory, String nodeName) {
    this.clientFactory = clientFactory;
    this.nodeName = nodeName;
  }

  /**
   * The agent's client: configured as fabric8 configures itself (the pod's service account in a
   * cluster; {@code KUBERNETES_MASTER}, {@code KUBERNETES_CERTS_CA_FILE} and {@code
   * KUBERNETES_AUTH_SERVICEACCOUNT_TOKEN} or a kubeconfig elsewhere), with {@link #tuned} settings.
   */
  public static KubernetesClient newClient() {
    return newClient(new ConfigBuilder().build()); // configured as fabric8 configures itself
  }

  /** The agent's client for this configuration, with {@link #tuned} settings and the cluster CA alone trusted ({@link ClusterCaTrust}). */
  static KubernetesClient newClient(Config found) {
    return ClusterCaTrust.clientBuilder(tuned(found)).withKubernetesSerialization(serialization()).build();
  }

  /**
   * The agent's client settings: fail fast and let the agent's own backoff pace the retries, so
   * that a write during an API outage does not hold the reporting thread for minutes.
   */
  static Config tuned(Config config) {
    return new ConfigBuilder(config)
        .withRequestRetryBackoffLimit(1)
        .withRequestRetryBackoffInterval(500)
        .withConnectionTimeout(5_000)
        .withRequestTimeout(10_000)
        .build();
  }

  /**
   * No class-path scan of the ~600 Kubernetes model classes listed as services: the agent reads
   * typed resources only (about a second and 10 MiB of metaspace at start-up). But {@link Status}
   * must be known: a watch that expires (410 Gone, after an API server restart or an etcd
   * compaction) ends with an ERROR event holding a Status, and fabric8 recognises the 410 only
   * when that object parses as a Status. Parsed as a generic resource, the informer retried the
   * watch at the same expired resourceVersion forever, never listed again, and so never saw its
   * policy deleted (found on a real API server by ApiServerOutageApiServerTest).
   */
  public static KubernetesSerialization serialization() {
    KubernetesSerialization serialization = new KubernetesSerialization(new ObjectMapper(), false);
    serialization.registerKubernetesResource("v1", "Status", Status.class);
    // Watch events carry their object as a generic resource: parsed by kind, a pod must become
    // the agent's own small view, not fabric8's full Pod converted afterwards.
    serialization.registerKubernetesResource("v1", "Pod", PodView.class);
    return serialization;
  }

  /** The agent's one client, created on first use (the pod informers share it). */
  public synchronized KubernetesClient client() {
    if (client == null) {
      client = clientFactory.get();
    }
    return client;
  }

  private MixedOperation<TcpTuningNodeState, KubernetesResourceList<TcpTuningNodeState>, Resource<TcpTuningNodeState>> nodeStates() {
    return client().resources(TcpTuningNodeState.class);
  }

  private MixedOperation<TcpTuningPolicy, KubernetesResourceList<TcpTuningPolicy>, Resource<TcpTuningPolicy>> policies() {
    return client().resources(TcpTuningPolicy.class);
  }

  /**
   * Writes the status, creating the object first if needed. The update is guarded by the
   * object's resourceVersion; on a conflict or a vanished object it reads again and retries
   * once. Throws on any other API error.
   */
  public synchronized void write(TcpTuningNodeStateStatus status) {
    for (int attempt = 1; ; attempt++) {
      if (nodeState == null) {
        nodeState = readOrCreate();
      }
      nodeState.setStatus(status);
      try {
        nodeState = nodeStates().resource(nodeState).updateStatus();
        return;
      } catch (KubernetesClientException e) {
        nodeState = null;
        boolean stale = e.getCode() == HttpURLConnection.HTTP_CONFLICT || e.getCode() == HttpURLConnection.HTTP_NOT_FOUND;
        if (attempt >= 2 || !stale) {
          throw e;
        }
      }
    }
  }

  /**
   * Reads this node's state object, creating it if there is none, ahead of the first {@link
   * #write}: run while the kernel is still being read and tuned, it takes the read, the create
   * and their first-time costs (the client's JSON binding of the node state) off the path to the
   * first report, which is then one update. Failing here costs nothing: the write tries again.
   */
  public synchronized void prepare() {
    if (nodeState == null) {
      nodeState = readOrCreate();
    }
  }

  private TcpTuningNodeState readOrCreate() {
    TcpTuningNodeState existing = nodeStates().withName(nodeName).get();
    return existing != null ? existing : create();
  }

  private TcpTuningNodeState create() {
    TcpTuningNodeState fresh = new TcpTuningNodeState();
    var meta = new ObjectMetaBuilder().withName(nodeName).withLabels(Map.of("app.kubernetes.io/name", "tcp-tuning-agent"));
    NodeView node = client().resources(NodeView.class).withName(nodeName).get();
    if (node != null) {
      meta.withOwnerReferences(new OwnerReferenceBuilder()
          .withApiVersion("v1").withKind("Node").withName(nodeName).withUid(node.getMetadata().getUid()).build());
    }
    fresh.setMetadata(meta.build());
    try {
      return nodeStates().resource(fresh).create();
    } catch (KubernetesClientException e) {
      TcpTuningNodeState meanwhile = e.getCode() == HttpURLConnection.HTTP_CONFLICT ? nodeStates().withName(nodeName).get() : null;
      if (meanwhile == null) { // not created meanwhile by a previous run whose answer was lost
        throw e;
      }
      return meanwhile;
    }
  }

  /** What this agent's policy wants of this node, from the API server as it is now. */
  public PolicyVerdict verdict(String policyName) {
    TcpTuningPolicy mine = policies().withName(policyName).get();
    List<TcpTuningPolicy> all = policies().list().getItems();
    NodeView node = client().resources(NodeView.class).withName(nodeName).get();
    Map<String, String> labels = node == null || node.getMetadata().getLabels() == null ? Map.of() : node.getMetadata().getLabels();
    return PolicyVerdict.of(mine, all, labels);
  }

  /**
   * Follows the policy with an informer (fabric8 re-lists after a 410 Gone and reconnects after
   * an outage): calls back with the policy on every change, and with empty once it is gone.
   */
  public AutoCloseable watchPolicy(String policyName, Consumer<Optional<TcpTuningPolicy>> onChange) {
    SharedIndexInformer<TcpTuningPolicy> informer = policies().withName(policyName).inform(new ResourceEventHandler<>() {
      @Override
      public void onAdd(TcpTuningPolicy policy) {
        onChange.accept(Optional.of(policy));
      }

      @Override
      public void onUpdate(TcpTuningPolicy old, TcpTuningPolicy policy) {
        onChange.accept(Optional.of(policy));
      }

      @Override
      public void onDelete(TcpTuningPolicy policy, boolean deletedFinalStateUnknown) {
        onChange.accept(Optional.empty());
      }
    }, 0);
    return informer::close;
  }

  @Override
  public synchronized void close() {
    if (client != null) {
      client.close();
    }
  }
}
