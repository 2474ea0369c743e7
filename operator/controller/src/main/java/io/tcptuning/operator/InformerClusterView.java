package io.tcptuning.operator;

import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.Cache;
import io.tcptuning.api.v1alpha1.TcpTuningNodeState;
import io.tcptuning.api.v1alpha1.TcpTuningPolicy;
import java.util.Collection;
import java.util.Optional;

/** A {@link ClusterView} over the operator's informer caches: no API calls. */
public final class InformerClusterView implements ClusterView {
  private final Cache<Node> nodes;
  private final Cache<TcpTuningNodeState> nodeStates;
  private final Cache<TcpTuningPolicy> policies;
  private final Cache<DaemonSet> daemonSets;

  public InformerClusterView(
      Cache<Node> nodes, Cache<TcpTuningNodeState> nodeStates, Cache<TcpTuningPolicy> policies, Cache<DaemonSet> daemonSets) {
    this.nodes = nodes;
    this.nodeStates = nodeStates;
    this.policies = policies;
    this.daemonSets = daemonSets;
  }

  @Override
  public Collection<Node> nodes() {
    return nodes.list().toList();
  }

  @Override
  public Collection<TcpTuningNodeState> nodeStates() {
    return nodeStates.list().toList();
  }

  @Override
  public Collection<TcpTuningPolicy> policies() {
    return policies.list().toList();
  }

  @Override
  public Optional<DaemonSet> daemonSet(String namespace, String name) {
    return daemonSets.get(new ResourceID(name, namespace));
  }
}
