package io.tcptuning.operator;

import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.tcptuning.api.v1alpha1.TcpTuningNodeState;
import io.tcptuning.api.v1alpha1.TcpTuningPolicy;
import java.util.Collection;
import java.util.Optional;

/**
 * What the reconciler reads of the cluster. In the operator it is served from the informers'
 * caches ({@link InformerClusterView}); tests that call {@code reconcile()} directly read the mock
 * API server ({@link ClientClusterView}).
 */
public interface ClusterView {
  Collection<Node> nodes();

  Collection<TcpTuningNodeState> nodeStates();

  Collection<TcpTuningPolicy> policies();

  Optional<DaemonSet> daemonSet(String namespace, String name);
}
