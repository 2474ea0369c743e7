package io.tcptuning.operator;

import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.javaoperatorsdk.operator.api.config.informer.InformerEventSourceConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Cleaner;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.DeleteControl;
import io.javaoperatorsdk.operator.api.reconciler.ErrorStatusUpdateControl;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;
import io.tcptuning.api.v1alpha1.TcpTuningNodeState;
import io.tcptuning.api.v1alpha1.TcpTuningPolicy;
import io.tcptuning.domain.LabelSelectors;
import io.tcptuning.domain.PolicyArbiter;
import io.tcptuning.domain.PolicyArbiter.Candidate;
import io.tcptuning.domain.PolicyValidator;
import io.tcptuning.domain.Violation;
import java.net.HttpURLConnection;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reconciles a {@link TcpTuningPolicy}: validates it, keeps its agent DaemonSet as desired
 * (rewritten only when the desired object changes), and rolls the nodes' reports up into its
 * status, written at most once per debounce window. On deletion it waits for the agents to revert
 * their nodes, up to TCPTUNE_REVERT_TIMEOUT, before the finalizer goes.
 */
@ControllerConfiguration(name = TcpTuningPolicyReconciler.NAME, finalizerName = TcpTuningPolicyReconciler.FINALIZER)
public class TcpTuningPolicyReconciler implements Reconciler<TcpTuningPolicy>, Cleaner<TcpTuningPolicy> {
  private static final Logger LOG = LoggerFactory.getLogger(TcpTuningPolicyReconciler.class);

  public static final String NAME = "tcptuningpolicy";
  public static final String FINALIZER = "tcptuning.io/revert";
  /** How often a deleted policy looks again at its nodes' revert (node report events come sooner). */
  public static final Duration REVERT_POLL = Duration.ofSeconds(2);
  /** Longest policy name: it is a label value on the agent pods. */
  public static final int MAX_NAME_LENGTH = 63;

  static final String NODES = "nodes";
  static final String NODE_STATES = "node-states";
  static final String DAEMON_SETS = "agent-daemonsets";
  static final String OTHER_POLICIES = "other-policies";
  /**
   * For the scale bench only: "true" caches whole Nodes and node reports, as before {@link
   * SlimItemStore}, so that both heaps can be printed from one run.
   */
  public static final String FULL_CACHES_PROPERTY = "tcptune.bench.fullCaches";

  private final KubernetesClient client;
  private final OperatorConfig config;
  private final Clock clock;
  private final AgentDaemonSetFactory factory;
  private final PolicyStatusWriter statusWriter;
  private final PolicyEventRecorder events;
  private final StatusDebouncer debouncer;
  private final PolicyMetrics metrics;
  private final Function<Context<TcpTuningPolicy>, ClusterView> views;

  private final AtomicLong reconciles = new AtomicLong();

  private volatile InformerEventSource<Node, TcpTuningPolicy> nodeSource;
  private volatile InformerEventSource<TcpTuningNodeState, TcpTuningPolicy> nodeStateSource;
  private volatile InformerEventSource<DaemonSet, TcpTuningPolicy> daemonSetSource;

  /** For the operator: reads the cluster from the informers it registers. */
  public TcpTuningPolicyReconciler(KubernetesClient client, OperatorConfig config, Clock clock, PolicyMetrics metrics) {
    this(client, config, clock, metrics, null);
  }

  /**
   * @param views how to read the cluster for a reconcile; null for the informer caches
   */
  public TcpTuningPolicyReconciler(
      KubernetesClient client, OperatorConfig config, Clock clock, PolicyMetrics metrics, Function<Context<TcpTuningPolicy>, ClusterView> views) {
    this.client = client;
    this.config = config;
    this.clock = clock;
    this.metrics = metrics;
    this.factory = new AgentDaemonSetFactory(config);
    this.debouncer = new StatusDebouncer(config.statusDebounce(), clock);
    this.events = new PolicyEventRecorder(client, clock);
    this.statusWriter = new PolicyStatusWriter(client, debouncer, events);
    this.views = views != null ? views : this::informerView;
  }

  @Override
  public List<EventSource<?, TcpTuningPolicy>> prepareEventSources(EventSourceContext<TcpTuningPolicy> context) {
    var policies = context.getPrimaryCache();
    boolean slim = !Boolean.getBoolean(FULL_CACHES_PROPERTY);
    var nodes = InformerEventSourceConfiguration.from(Node.class, TcpTuningPolicy.class);
    var states = InformerEventSourceConfiguration.from(TcpTuningNodeState.class, TcpTuningPolicy.class);
    if (slim) {
      // Only the names, labels and reports are read: a kubelet's Node is tens of KB otherwise.
      nodes.withItemStore(SlimItemStore.nodes());
      states.withItemStore(SlimItemStore.nodeStates());
    }
    nodeSource =
        new InformerEventSource<>(
            nodes
                .withName(NODES)
                .withSecondaryToPrimaryMapper(PolicyMappers.nodes(policies))
                .withOnUpdateFilter(PolicyMappers::labelsChanged)
                .build(),
            context);
    nodeStateSource =
        new InformerEventSource<>(
            states
                .withName(NODE_STATES)
                .withSecondaryToPrimaryMapper(PolicyMappers.nodeStates(policies, () -> nodeSource))
                .withOnUpdateFilter(PolicyMappers::reportChanged)
                .build(),
            context);
    daemonSetSource =
        new InformerEventSource<>(
            InformerEventSourceConfiguration.from(DaemonSet.class, TcpTuningPolicy.class)
                .withName(DAEMON_SETS)
                .withNamespaces(config.namespace())
                .withLabelSelector(AgentDaemonSetFactory.APP_LABEL + "=" + AgentDaemonSetFactory.APP)
                .withSecondaryToPrimaryMapper(PolicyMappers.daemonSets())
                .withOnUpdateFilter(PolicyMappers::daemonSetChanged)
                .build(),
            context);
    var otherPolicies =
        new InformerEventSource<>(
            InformerEventSourceConfiguration.from(TcpTuningPolicy.class, TcpTuningPolicy.class)
                .withName(OTHER_POLICIES)
                .withSecondaryToPrimaryMapper(PolicyMappers.otherPolicies(policies))
                .withOnUpdateFilter(PolicyMappers::specOrDeletionChanged)
                .build(),
            context);
    return List.of(nodeSource, nodeStateSource, daemonSetSource, otherPolicies);
  }

  @Override
  public UpdateControl<TcpTuningPolicy> reconcile(TcpTuningPolicy policy, Context<TcpTuningPolicy> context) {
    reconciles.incrementAndGet();
    String name = policy.getMetadata().getName();
    ClusterView view = views.apply(context);
    Collection<TcpTuningPolicy> policies = view.policies();
    List<Violation> violations = validate(policy);

    Optional<String> affinityNote = Optional.empty();
    if (violations.isEmpty()) {
      AgentNodeAffinity.Result affinity = AgentNodeAffinity.of(policy.getSpec().getNodeSelector(), higherSelectors(policy, policies));
      affinityNote = affinity.note();
      ensureDaemonSet(view, factory.build(policy, affinity.affinity()));
    } else {
      // The agents keep running the last valid spec: the DaemonSet is left exactly as it is.
      LOG.warn("policy={} invalid spec, agent DaemonSet left as is: {}", name, violations);
    }

    var status =
        PolicyStatusAggregator.aggregate(
            new PolicyStatusAggregator.Input(policy, policies, view.nodes(), view.nodeStates(), violations, affinityNote, clock.instant()));
    metrics.update(name, status);
    return afterWrite(name, statusWriter.write(policy, status, false));
  }

  /**
   * A failed reconciliation (an API call refused or timed out) shows as Degraded on the policy
   * while JOSDK retries with its backoff; the message is the API's, never a Java class name.
   */
  @Override
  public ErrorStatusUpdateControl<TcpTuningPolicy> updateErrorStatus(TcpTuningPolicy policy, Context<TcpTuningPolicy> context, Exception e) {
    String name = policy.getMetadata().getName();
    String problem = problem(e);
    LOG.warn("policy={} reconcile failed, retrying: {}", name, problem);
    try {
      statusWriter.write(policy, PolicyStatusAggregator.reconcileFailed(policy, problem, clock.instant()), true);
    } catch (KubernetesClientException written) {
      LOG.debug("policy={} Degraded status not written: {}", name, written.getMessage());
    }
    return ErrorStatusUpdateControl.defaultErrorProcessing();
  }

  /** The innermost message of a failure, for people. */
  static String problem(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null && t.getCause() != t) {
      t = t.getCause();
    }
    String message = t.getMessage() == null || t.getMessage().isBlank() ? e.getMessage() : t.getMessage();
    return message == null || message.isBlank() ? "no detail given" : message.strip().lines().findFirst().orElse("");
  }

  @Override
  public DeleteControl cleanup(TcpTuningPolicy policy, Context<TcpTuningPolicy> context) {
    String name = policy.getMetadata().getName();
    ClusterView view = views.apply(context);
    var progress = PolicyStatusAggregator.revertProgress(name, view.nodes(), view.nodeStates());
    if (progress.done()) {
      if (progress.total() > 0) {
        events.emit(policy, PolicyEventRecorder.NORMAL, PolicyEventRecorder.REVERT_FINISHED, "all " + progress.total() + " nodes reverted");
      }
      LOG.info("policy={} {}; removing finalizer", name, progress.message());
      return finish(policy);
    }
    Duration elapsed = Duration.between(deletedAt(policy), clock.instant());
    if (elapsed.compareTo(config.revertTimeout()) >= 0) {
      var status = PolicyStatusAggregator.reverting(policy, progress, true, clock.instant());
      try {
        statusWriter.write(policy, status, true);
      } catch (KubernetesClientException e) {
        LOG.debug("policy={} last status not written: {}", name, e.getMessage());
      }
      events.emit(
          policy, PolicyEventRecorder.WARNING, PolicyEventRecorder.REVERT_TIMED_OUT,
          progress.message() + " after " + config.revertTimeout().toSeconds() + "s; not reverted: "
              + String.join(", ", progress.waiting().stream().limit(10).toList()) + (progress.waiting().size() > 10 ? ", ..." : "")
              + "; removing the finalizer anyway");
      LOG.warn("policy={} revert timed out ({}); removing finalizer", name, progress.message());
      return finish(policy);
    }
    var status = PolicyStatusAggregator.reverting(policy, progress, false, clock.instant());
    var outcome = statusWriter.write(policy, status, false);
    if (outcome.kind() == PolicyStatusWriter.Kind.WRITTEN) {
      metrics.statusWritten(name);
    }
    Duration left = config.revertTimeout().minus(elapsed);
    Duration next = min(REVERT_POLL, left);
    if (outcome.kind() == PolicyStatusWriter.Kind.DEFERRED) {
      next = min(next, outcome.retryAfter());
    }
    return DeleteControl.noFinalizerRemoval().rescheduleAfter(next.toMillis() + 1);
  }

  /** Status writes since start. */
  public long statusWrites() {
    return statusWriter.writes();
  }

  /** Reconciliations (not clean-ups) since start. */
  public long reconciles() {
    return reconciles.get();
  }

  private UpdateControl<TcpTuningPolicy> afterWrite(String name, PolicyStatusWriter.Outcome outcome) {
    return switch (outcome.kind()) {
      case WRITTEN -> {
        metrics.statusWritten(name);
        yield UpdateControl.noUpdate();
      }
      case UNCHANGED -> UpdateControl.noUpdate();
      // Come back when the window is over; events meanwhile only recompute.
      case DEFERRED, CONFLICT -> UpdateControl.<TcpTuningPolicy>noUpdate().rescheduleAfter(outcome.retryAfter().toMillis() + 1);
    };
  }

  private DeleteControl finish(TcpTuningPolicy policy) {
    String name = policy.getMetadata().getName();
    // The owner reference would let the garbage collector do it; deleting now is quicker and also
    // works where nobody collects garbage.
    client.apps().daemonSets().inNamespace(config.namespace()).withName(AgentDaemonSetFactory.name(name)).delete();
    debouncer.forget(name);
    metrics.remove(name);
    return DeleteControl.defaultDelete();
  }

  /** Creates the DaemonSet, or rewrites it when the desired one differs; otherwise leaves it alone. */
  private void ensureDaemonSet(ClusterView view, DaemonSet desired) {
    String ns = desired.getMetadata().getNamespace();
    String dsName = desired.getMetadata().getName();
    Optional<DaemonSet> existing = view.daemonSet(ns, dsName);
    if (existing.isEmpty()) {
      try {
        client.apps().daemonSets().inNamespace(ns).resource(desired).create();
        LOG.info("policy={} created DaemonSet {}/{}", desired.getMetadata().getLabels().get(AgentDaemonSetFactory.POLICY_LABEL), ns, dsName);
        return;
      } catch (KubernetesClientException e) {
        if (e.getCode() != HttpURLConnection.HTTP_CONFLICT) {
          throw e;
        }
        // The cache had not seen it yet.
        existing = Optional.ofNullable(client.apps().daemonSets().inNamespace(ns).withName(dsName).get());
        if (existing.isEmpty()) {
          throw e;
        }
      }
    }
    String want = AgentDaemonSetFactory.desiredHash(desired);
    if (want.equals(AgentDaemonSetFactory.desiredHash(existing.get()))) {
      return;
    }
    desired.getMetadata().setResourceVersion(existing.get().getMetadata().getResourceVersion());
    client.apps().daemonSets().inNamespace(ns).resource(desired).update();
    LOG.info("policy={} updated DaemonSet {}/{} (hash {})", desired.getMetadata().getLabels().get(AgentDaemonSetFactory.POLICY_LABEL), ns, dsName, want);
  }

  /** The selectors of the live policies that take precedence over this one, winner first. */
  static List<LabelSelector> higherSelectors(TcpTuningPolicy policy, Collection<TcpTuningPolicy> policies) {
    Candidate self = NodeAssignment.candidate(policy);
    List<Candidate> higher = new ArrayList<>();
    for (Candidate c : NodeAssignment.candidates(policies, self.name())) {
      // A selector the API server would reject in a node affinity cannot go into ours. That
      // policy is InvalidSpec; where it still has agents, they see the arbitration themselves
      // and stand by as Superseded.
      if (PolicyArbiter.outranks(c, self) && LabelSelectors.validate("spec.nodeSelector", c.selector()).isEmpty()) {
        higher.add(c);
      }
    }
    higher.sort(PolicyArbiter.PRECEDENCE);
    return higher.stream().map(Candidate::selector).toList();
  }

  static List<Violation> validate(TcpTuningPolicy policy) {
    // The selectors too: a DaemonSet whose node affinity the API server would refuse would be
    // retried forever.
    List<Violation> out = new ArrayList<>(PolicyValidator.validate(policy.getSpec()));
    String name = policy.getMetadata().getName();
    if (name.length() > MAX_NAME_LENGTH) {
      out.add(0, new Violation("metadata.name", "is " + name.length() + " characters long; accepted at most " + MAX_NAME_LENGTH + " (it labels the agent pods)"));
    }
    return out;
  }

  private Instant deletedAt(TcpTuningPolicy policy) {
    String ts = policy.getMetadata().getDeletionTimestamp();
    try {
      return ts == null ? clock.instant() : Instant.parse(ts);
    } catch (DateTimeParseException e) {
      return clock.instant();
    }
  }

  /** The operator's cached copy of a node, as its informer holds it (tests). */
  public Optional<Node> cachedNode(String name) {
    return nodeSource.get(new ResourceID(name));
  }

  /** The operator's cached copy of a node report (tests). */
  public Optional<TcpTuningNodeState> cachedNodeState(String name) {
    return nodeStateSource.get(new ResourceID(name));
  }

  private ClusterView informerView(Context<TcpTuningPolicy> context) {
    return new InformerClusterView(nodeSource, nodeStateSource, context.getPrimaryCache(), daemonSetSource);
  }

  private static Duration min(Duration a, Duration b) {
    Duration m = a.compareTo(b) <= 0 ? a : b;
    return m.isNegative() ? Duration.ZERO : m;
  }
}
