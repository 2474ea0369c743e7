package io.tcptuning.operator;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.tcptuning.api.v1alpha1.Conditions;
import io.tcptuning.api.v1alpha1.TcpTuningPolicy;
import io.tcptuning.api.v1alpha1.TcpTuningPolicyStatus;
import java.net.HttpURLConnection;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes a policy's status: never when it is unchanged, at most once per debounce window, with
 * optimistic locking on the resourceVersion the status was computed from. Each write also tells
 * the {@link PolicyEventRecorder} what changed.
 */
public final class PolicyStatusWriter {
  private static final Logger LOG = LoggerFactory.getLogger(PolicyStatusWriter.class);

  /** What happened to a status. */
  public enum Kind {
    UNCHANGED,
    WRITTEN,
    /** Not written yet: the last write is too recent. Try again after {@link Outcome#retryAfter}. */
    DEFERRED,
    /** The policy changed meanwhile (HTTP 409); the next reconcile computes it afresh. */
    CONFLICT
  }

  public record Outcome(Kind kind, Duration retryAfter) {}

  private final KubernetesClient client;
  private final StatusDebouncer debouncer;
  private final PolicyEventRecorder events;
  private final AtomicLong writes = new AtomicLong();

  public PolicyStatusWriter(KubernetesClient client, StatusDebouncer debouncer, PolicyEventRecorder events) {
    this.client = client;
    this.debouncer = debouncer;
    this.events = events;
  }

  /**
   * @param policy the policy as read (its resourceVersion guards the write)
   * @param status the freshly computed status
   * @param now true to skip the debounce (the last word before a finalizer goes)
   */
  public Outcome write(TcpTuningPolicy policy, TcpTuningPolicyStatus status, boolean now) {
    String name = policy.getMetadata().getName();
    if (status.equals(policy.getStatus())) {
      return new Outcome(Kind.UNCHANGED, Duration.ZERO);
    }
    Duration wait = debouncer.waitFor(name);
    if (!now && !wait.isZero()) {
      return new Outcome(Kind.DEFERRED, wait);
    }
    TcpTuningPolicy update = new TcpTuningPolicy();
    update.setMetadata(
        new ObjectMetaBuilder()
            .withName(name)
            .withUid(policy.getMetadata().getUid())
            .withResourceVersion(policy.getMetadata().getResourceVersion())
            .build());
    update.setSpec(policy.getSpec());
    update.setStatus(status);
    try {
      client.resource(update).updateStatus();
    } catch (KubernetesClientException e) {
      if (e.getCode() == HttpURLConnection.HTTP_CONFLICT) {
        LOG.debug("policy={} status write conflicted; recomputing", name);
        return new Outcome(Kind.CONFLICT, Duration.ofMillis(500));
      }
      throw e;
    }
    debouncer.written(name);
    writes.incrementAndGet();
    LOG.info("policy={} status {}", name, summary(status));
    events.statusChanged(policy, policy.getStatus(), status);
    return new Outcome(Kind.WRITTEN, Duration.ZERO);
  }

  /** Status writes since start, for metrics and tests. */
  public long writes() {
    return writes.get();
  }

  private static String summary(TcpTuningPolicyStatus s) {
    String ready =
        Conditions.find(s.getConditions(), Conditions.READY).map(c -> "Ready=" + c.getStatus() + " " + c.getReason() + " (" + c.getMessage() + ")").orElse("");
    return (s.getNodes() == null ? "" : s.getNodes() + " ") + ready;
  }
}
