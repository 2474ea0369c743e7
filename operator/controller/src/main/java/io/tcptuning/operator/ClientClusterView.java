package io.tcptuning.operator;

import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.tcptuning.api.v1alpha1.TcpTuningNodeState;
import io.tcptuning.api.v1alpha1.TcpTuningPolicy;
import java.util.Collection;
import java.util.Optional;

/** A {@link ClusterView} that lists from the API server on every call: for tests and tools. */
public final class ClientClusterView implements ClusterView {
  private final KubernetesClient client;

  public ClientClusterView(KubernetesClient client) {
    this.client = client;
  }

  @Override
  public Collection<Node> nodes() {
    return client.nodes().list().getItems();
  }

  @Override
  public Collection<TcpTuningNodeState> nodeStates() {
    return client.resources(TcpTuningNodeState.class).list().getItems();
  }

  @Override
  public Collection<TcpTuningPolicy> policies() {
    return client.resources(TcpTuningPolicy.class).list().getItems();
  }

  @Override
  public Optional<DaemonSet> daemonSet(String namespace, String name) {
    return Optional.ofNullable(client.apps().daemonSets().inNamespace(namespace).withName(name).get());
  }
}
