package io.tcptuning.operator;

import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.EventBuilder;
import io.fabric8.kubernetes.api.model.ObjectReferenceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.tcptuning.api.v1alpha1.Conditions;
import io.tcptuning.api.v1alpha1.TcpTuningPolicy;
import io.tcptuning.api.v1alpha1.TcpTuningPolicyStatus;
import io.tcptuning.api.v1alpha1.TcpTuningPolicyStatus.RefusalSummary;
import java.time.Clock;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Kubernetes Events about a policy, derived from the change between its written statuses so that
 * each news is told once (and again only after it went away), also across operator restarts. The
 * policy is cluster scoped, so its Events go to the {@code default} namespace, as the kubelet's
 * Events about Nodes do: the API server refuses an Event whose involved object has no namespace
 * in any other namespace ("involvedObject.namespace: does not match event.namespace"), and
 * {@code kubectl describe} finds them there.
 */
public final class PolicyEventRecorder {
  private static final Logger LOG = LoggerFactory.getLogger(PolicyEventRecorder.class);
  public static final String NORMAL = "Normal";
  public static final String WARNING = "Warning";
  public static final String REVERT_STARTED = "RevertStarted";
  public static final String REVERT_FINISHED = "RevertFinished";
  public static final String REVERT_TIMED_OUT = "RevertTimedOut";
  public static final String COMPONENT = "tcp-tuning-operator";
  /** Where the API server accepts Events about cluster-scoped objects (besides no namespace at all). */
  public static final String EVENT_NAMESPACE = "default";

  private final KubernetesClient client;
  private final Clock clock;
  private final AtomicLong sequence = new AtomicLong();

  public PolicyEventRecorder(KubernetesClient client, Clock clock) {
    this.client = client;
    this.clock = clock;
  }

  /** Tells what is new in {@code now} compared with {@code before} (null before the first status). */
  public void statusChanged(TcpTuningPolicy policy, TcpTuningPolicyStatus before, TcpTuningPolicyStatus now) {
    String readyBefore = before == null ? null : Conditions.reason(before.getConditions(), Conditions.READY).orElse(null);
    String messageBefore = before == null ? null : Conditions.find(before.getConditions(), Conditions.READY).map(c -> c.getMessage()).orElse(null);
    var ready = Conditions.find(now.getConditions(), Conditions.READY);
    String readyNow = ready.map(c -> c.getReason()).orElse(null);
    String messageNow = ready.map(c -> c.getMessage()).orElse(null);

    if (PolicyStatusAggregator.REASON_INVALID_SPEC.equals(readyNow)
        && !(Objects.equals(readyBefore, readyNow) && Objects.equals(messageBefore, messageNow))) {
      emit(policy, WARNING, PolicyStatusAggregator.REASON_INVALID_SPEC, messageNow);
    }
    if (PolicyStatusAggregator.REASON_REVERTING.equals(readyNow) && !Objects.equals(readyBefore, readyNow)) {
      emit(policy, NORMAL, REVERT_STARTED, "agents are reverting the nodes to their original values: " + messageNow);
    }
    int failedBefore = before == null || before.getNodes() == null ? 0 : before.getNodes().getFailed();
    int failedNow = now.getNodes() == null ? 0 : now.getNodes().getFailed();
    if (failedNow > 0 && failedBefore == 0) {
      String msg = Conditions.find(now.getConditions(), Conditions.DEGRADED).map(c -> c.getMessage()).orElse(failedNow + " nodes failed");
      emit(policy, WARNING, PolicyStatusAggregator.REASON_WRITE_FAILED, msg);
    }
    Set<List<String>> known = new HashSet<>();
    if (before != null) {
      for (RefusalSummary r : before.getRefusals()) {
        known.add(refusalKey(r));
      }
    }
    for (RefusalSummary r : now.getRefusals()) {
      if (known.contains(refusalKey(r))) {
        continue;
      }
      String nodes = r.getNodes() + " nodes (" + String.join(", ", r.getExampleNodes()) + (r.getNodes() > r.getExampleNodes().size() ? ", ..." : "") + ")";
      if (r.getPods() == null) {
        emit(policy, WARNING, r.getReason(), r.getSysctl() + " refused on " + nodes + ": " + r.getReason());
      } else {
        // A sysctl a pod sets itself is its owner's choice: news, not a warning.
        String type = PolicyStatusAggregator.POD_DECLARES_SYSCTL.equals(r.getReason()) ? NORMAL : WARNING;
        List<String> pods = r.getExamplePods() == null ? List.of() : r.getExamplePods();
        emit(policy, type, r.getReason(), r.getSysctl() + " not written in " + r.getPods() + " selected pods ("
            + String.join(", ", pods) + (r.getPods() > pods.size() ? ", ..." : "") + ") on " + nodes + ": " + r.getReason());
      }
    }
  }

  private static List<String> refusalKey(RefusalSummary r) {
    return List.of(String.valueOf(r.getSysctl()), String.valueOf(r.getReason()), r.getPods() == null ? "nodes" : "pods");
  }

  /** Creates one Event; a failure is logged and otherwise ignored (Events are best effort). */
  public void emit(TcpTuningPolicy policy, String type, String reason, String message) {
    String name = policy.getMetadata().getName();
    LOG.info("policy={} event {} {}: {}", name, type, reason, message);
    String ts = DateTimeFormatter.ISO_INSTANT.format(clock.instant().truncatedTo(ChronoUnit.SECONDS));
    String prefix = name.length() > 200 ? name.substring(0, 200) : name;
    Event event =
        new EventBuilder()
            .withNewMetadata()
            .withName(prefix + "." + Long.toHexString(clock.millis()) + Long.toHexString(sequence.incrementAndGet()))
            .withNamespace(EVENT_NAMESPACE)
            .endMetadata()
            .withInvolvedObject(
                new ObjectReferenceBuilder()
                    .withApiVersion(policy.getApiVersion())
                    .withKind(policy.getKind())
                    .withName(name)
                    .withUid(policy.getMetadata().getUid())
                    .withResourceVersion(policy.getMetadata().getResourceVersion())
                    .build())
            .withType(type)
            .withReason(reason)
            .withMessage(message == null ? "" : message.length() > 1024 ? message.substring(0, 1021) + "..." : message)
            .withFirstTimestamp(ts)
            .withLastTimestamp(ts)
            .withCount(1)
            .withNewSource()
            .withComponent(COMPONENT)
            .endSource()
            .withReportingComponent("tcptuning.io/operator")
            .build();
    try {
      client.v1().events().inNamespace(EVENT_NAMESPACE).resource(event).create();
    } catch (KubernetesClientException e) {
      LOG.warn("policy={} could not record event {}: {}", name, reason, e.getMessage());
    }
  }
}
