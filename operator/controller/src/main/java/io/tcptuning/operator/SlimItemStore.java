package io.tcptuning.operator;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.client.informers.cache.BasicItemStore;
import io.fabric8.kubernetes.client.informers.cache.Cache;
import io.tcptuning.api.v1alpha1.TcpTuningNodeState;
import java.util.function.Consumer;

/**
 * An informer's item store that keeps only what the operator reads of each object, as client-go's
 * informer transform does: fabric8's {@link BasicItemStore} with every object trimmed, in place,
 * as the informer stores it. In place, because the informer hands the object it stored to the
 * event handlers: the event filters and mappers see the same trimmed object the cache holds (and
 * the previous version they compare it with is the trimmed one from the cache), so a filter that
 * compares labels still sees every label change and still drops a status-only update.
 *
 * <p>A kubelet's Node is tens of KB (status.images with up to 50 entries, conditions, addresses,
 * nodeInfo, capacity, managedFields, annotations); the operator reads its name and labels only
 * ({@link NodeAssignment}, {@link PolicyMappers}, {@link PolicyStatusAggregator}). README,
 * "Operator at 5,000 nodes".
 */
public final class SlimItemStore<R extends HasMetadata> extends BasicItemStore<R> {
  private final Consumer<R> trim;

  private SlimItemStore(Consumer<R> trim) {
    super(Cache::metaNamespaceKeyFunc);
    this.trim = trim;
  }

  /** Nodes: name, uid, resourceVersion, labels and the creation and deletion timestamps; no spec, no status. */
  public static SlimItemStore<Node> nodes() {
    return new SlimItemStore<>(SlimItemStore::trimNode);
  }

  /** Node reports: everything but managedFields (the status is what the policy status is built from). */
  public static SlimItemStore<TcpTuningNodeState> nodeStates() {
    return new SlimItemStore<>(s -> {
      if (s.getMetadata() != null) {
        s.getMetadata().setManagedFields(null);
      }
    });
  }

  @Override
  public R put(String key, R obj) {
    trim.accept(obj);
    return super.put(key, obj);
  }

  static void trimNode(Node node) {
    ObjectMeta m = node.getMetadata();
    if (m != null) {
      ObjectMeta slim = new ObjectMeta();
      slim.setName(m.getName());
      slim.setUid(m.getUid());
      slim.setResourceVersion(m.getResourceVersion());
      slim.setLabels(m.getLabels());
      slim.setCreationTimestamp(m.getCreationTimestamp());
      slim.setDeletionTimestamp(m.getDeletionTimestamp());
      node.setMetadata(slim);
    }
    node.setSpec(null);
    node.setStatus(null);
    node.getAdditionalProperties().clear();
  }
}
