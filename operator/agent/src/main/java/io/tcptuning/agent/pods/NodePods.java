package io.tcptuning.agent.pods;

import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import java.util.function.Supplier;
import io.tcptuning.agent.views.PodView;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The pods bound to this node, from a fabric8 informer on pods (read as {@link PodView}: only the
 * fields the agent uses) with the field selector {@code spec.nodeName=<node>} (and, for a policy with a namespaceSelector, an informer on namespaces for
 * their labels). Keyed by pod UID, the key the cgroup of a pod's processes carries. Every change
 * calls {@code onChange} (the agent then looks at the node's namespaces again); nothing here
 * touches the kernel.
 *
 * <p>The informers are started without waiting: a node with no API server in reach still measures
 * and tunes its own namespace, and pods are tuned once the pod list has arrived ({@link #synced}).
 */
public final class NodePods implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(NodePods.class);

  private final String nodeName;
  private final boolean namespaces;
  private final Runnable onChange;
  private final Map<String, PodInfo> byUid = new ConcurrentHashMap<>();
  private final Map<String, Map<String, String>> namespaceLabels = new ConcurrentHashMap<>();
  private SharedIndexInformer<PodView> podInformer;
  private SharedIndexInformer<Namespace> namespaceInformer;
  private volatile boolean closed;

  /**
   * @param watchNamespaces also follow namespaces' labels (the policy has a namespaceSelector)
   * @param onChange called on an informer thread after every change; must be quick
   */
  public NodePods(String nodeName, boolean watchNamespaces, Runnable onChange) {
    this.nodeName = nodeName;
    this.namespaces = watchNamespaces;
    this.onChange = onChange;
  }

  /** Starts the informers; returns at once. Call from a thread of the agent's own namespace. */
  public void start(Supplier<KubernetesClient> client) {
    KubernetesClient c = client.get();
    podInformer = c.resources(PodView.class).inAnyNamespace().withField("spec.nodeName", nodeName).runnableInformer(0);
    follow(podInformer, "pod", this::put, this::removePod);
    if (namespaces) {
      namespaceInformer = c.namespaces().runnableInformer(0);
      follow(namespaceInformer, "namespace", this::putNamespace, this::removeNamespace);
    }
  }

  /**
   * Keeps this object up to date from an informer (added and updated alike go to {@code put}) and
   * starts it without waiting; the end of its first list is a change too.
   */
  private <T> void follow(SharedIndexInformer<T> informer, String kind, Consumer<T> put, Consumer<T> remove) {
    informer.addEventHandler(new ResourceEventHandler<>() {
      @Override
      public void onAdd(T object) {
        put.accept(object);
      }

      @Override
      public void onUpdate(T old, T object) {
        put.accept(object);
      }

      @Override
      public void onDelete(T object, boolean deletedFinalStateUnknown) {
        remove.accept(object);
      }
    });
    // Keep retrying the first list through an outage instead of giving up.
    informer.exceptionHandler((started, t) -> true);
    informer.start().whenComplete((v, t) -> {
      if (t == null) {
        onChange.run();
      } else if (!closed) {
        LOG.warn("node={} {} informer failed to start: {}", nodeName, kind, t.getMessage());
      }
    });
  }

  private void put(PodView pod) {
    if (pod.getMetadata() == null || pod.getMetadata().getUid() == null) {
      return;
    }
    PodInfo info = PodInfo.of(pod);
    // The field selector does this on a real API server; checked again here all the same.
    if (!nodeName.equals(info.nodeName())) {
      byUid.remove(info.uid());
      return;
    }
    PodInfo before = byUid.put(info.uid(), info);
    if (!info.equals(before)) {
      onChange.run();
    }
  }

  private void removePod(PodView pod) {
    if (pod.getMetadata() != null && pod.getMetadata().getUid() != null) {
      byUid.remove(pod.getMetadata().getUid().toLowerCase(java.util.Locale.ROOT));
      onChange.run();
    }
  }

  private void putNamespace(Namespace ns) {
    Map<String, String> labels = ns.getMetadata().getLabels() == null ? Map.of() : Map.copyOf(ns.getMetadata().getLabels());
    Map<String, String> before = namespaceLabels.put(ns.getMetadata().getName(), labels);
    if (!labels.equals(before)) {
      onChange.run();
    }
  }

  private void removeNamespace(Namespace ns) {
    namespaceLabels.remove(ns.getMetadata().getName());
    onChange.run();
  }

  /** True once the pods (and, when followed, the namespaces) have been listed. */
  public boolean synced() {
    return podInformer != null && podInformer.hasSynced() && (!namespaces || (namespaceInformer != null && namespaceInformer.hasSynced()));
  }

  /** The pod with this UID on this node, if the API server has it. */
  public Optional<PodInfo> pod(String uid) {
    return Optional.ofNullable(byUid.get(uid));
  }

  /** The labels of a Kubernetes namespace, or null when unknown (not followed, or not listed). */
  public Map<String, String> namespaceLabels(String namespace) {
    return namespaceLabels.get(namespace);
  }

  /** The pods of this node the informer holds. */
  public java.util.Collection<PodInfo> all() {
    return byUid.values();
  }

  /** How many pods of this node the informer holds. */
  public int size() {
    return byUid.size();
  }

  @Override
  public void close() {
    closed = true;
    if (podInformer != null) {
      podInformer.close();
    }
    if (namespaceInformer != null) {
      namespaceInformer.close();
    }
  }
}
