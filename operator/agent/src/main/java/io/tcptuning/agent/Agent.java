package io.tcptuning.agent;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.tcptuning.agent.pods.NodePods;
import io.tcptuning.agent.pods.PodJournals;
import io.tcptuning.agent.pods.PodNamespaces;
import io.tcptuning.api.v1alpha1.Mode;
import io.tcptuning.api.v1alpha1.NodePhase;
import io.tcptuning.api.v1alpha1.SysctlState;
import io.tcptuning.api.v1alpha1.TcpTuningNodeStateStatus;
import io.tcptuning.api.v1alpha1.TcpTuningNodeStateStatus.TimeWait;
import io.tcptuning.domain.Action;
import io.tcptuning.domain.KernelVersion;
import io.tcptuning.domain.NatVerdict;
import io.tcptuning.domain.Plan;
import io.tcptuning.domain.Sysctl;
import io.tcptuning.domain.TuningPlanner;
import io.tcptuning.metrics.MetricsHttpServer;
import io.tcptuning.node.ApplyResult;
import io.tcptuning.node.KernelRelease;
import io.tcptuning.node.NetNamespace;
import io.tcptuning.node.OriginalsJournal;
import io.tcptuning.node.ProcSysctls;
import io.tcptuning.node.RevertResult;
import io.tcptuning.node.SysctlApplier;
import io.tcptuning.node.SysctlOutcome;
import io.tcptuning.domain.TuningRequest;
import io.tcptuning.node.census.CensusReport;
import io.tcptuning.node.census.TimeWaitCensus;
import io.tcptuning.node.nat.NatDetector;
import io.tcptuning.node.netns.NetnsScanner;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node agent: applies its policy (or only plans it in DryRun), takes a TIME_WAIT census
 * every interval, puts back sysctls someone else changed, reports the node's state on a
 * material change or a slow heartbeat, gives the node back when the policy lets go of it, and
 * on a mere restart leaves the node tuned.
 *
 * <p>Every kernel read and write happens on one thread, {@code kernel}, which first enters the
 * configured network namespace when there is one; pods' namespaces are entered only by the
 * {@link PodNamespaces} runner's worker, started from that thread. API calls run on another
 * thread so that a slow or absent API server never delays the census or a drift correction.
 *
 * <p>Pods: the census covers every network namespace on the node, mapped to the node's pods
 * ({@link NodePods}); with a podSelector or namespaceSelector the selected pods' namespaces are
 * tuned too, looked for every second and on every change of the node's pods.
 */
public final class Agent implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Agent.class);
  private static final int TOP_DESTINATIONS = 10;
  /**
   * How often pods' namespaces are looked for while a selected pod's namespace is awaited (new
   * pods are tuned within it); any change of the node's pods also triggers a look at once.
   */
  static final Duration POD_RESCAN = Duration.ofSeconds(1);

  private final AgentConfig config;
  private final NodeStateReporter reporter;
  private final AgentMetrics metrics;
  private final Clock clock;
  private final ScheduledExecutorService kernel;
  private final ExecutorService api;
  private final Backoff backoff = new Backoff(Duration.ofSeconds(1), Duration.ofMinutes(1));
  private final AtomicBoolean writeInFlight = new AtomicBoolean();
  /** A report came due while a write was in flight: report again once that write is done. */
  private final AtomicBoolean reportAgain = new AtomicBoolean();
  private final NodeStatusFactory.Identity identity;
  private final Map<Sysctl, String> desired;
  private final Future<PolicyVerdict> firstVerdict;
  private final NodePods nodePods;
  private final AtomicBoolean podRescanQueued = new AtomicBoolean();

  // Kernel-thread state.
  private ProcSysctls sysctls;
  private SysctlApplier applier;
  private TimeWaitCensus census;
  private KernelVersion kernelVersion;
  private NatVerdict nat;
  private List<SysctlLine> sysctlLines = List.of();
  /** The plan of the last apply in Enforce mode: what drift is measured against. */
  private Plan lastApplied;
  private String detail;
  /** Sysctls the last give-back left alone because someone changed them by hand, for the report. */
  private List<String> changedByHand = List.of();
  private CensusReport lastCensus;
  private boolean lettingGo;
  private PodNamespaces podNamespaces;
  private PodNamespaces.Report podReport;

  // Read by the HTTP thread and the API thread.
  private volatile NodePhase phase;
  private volatile boolean ready;
  private volatile TcpTuningNodeStateStatus lastWritten;
  private volatile Instant lastWriteAt = Instant.MIN;

  private MetricsHttpServer http;
  private AutoCloseable policyWatch;
  private volatile String shutdownSummary;

  public Agent(AgentConfig config, Supplier<KubernetesClient> clientFactory, Clock clock) {
    this.config = config;
    this.clock = clock;
    this.reporter = new NodeStateReporter(clientFactory, config.nodeName());
    // Started here, on the caller's thread: a thread inherits the network namespace of the
    // thread that creates it, and the API server is reached from the agent's own namespace.
    ThreadPoolExecutor apiPool = new ThreadPoolExecutor(1, 1, 0, TimeUnit.MILLISECONDS, new LinkedBlockingQueue<>(), r -> {
      Thread t = new Thread(r, "api");
      t.setDaemon(true);
      return t;
    });
    apiPool.prestartAllCoreThreads();
    this.api = apiPool;
    // Ask the API server at once: building the client and the first calls take longer than
    // everything else at start-up, and they overlap with the metrics registry and the kernel reads.
    this.firstVerdict = api.submit(() -> reporter.verdict(config.policyName()));
    api.execute(() -> {
      try {
        reporter.prepare(); // the node state object, so that the first report is one update
      } catch (RuntimeException e) {
        LOG.debug("policy={} node={} node state not read ahead ({}); the first report reads it", config.policyName(), config.nodeName(), rootMessage(e));
      }
    });
    this.metrics = new AgentMetrics(config.nodeName(), config.policyName());
    this.identity = new NodeStatusFactory.Identity(config.policyName(), config.policyGeneration(), config.policySpec().effectiveMode());
    this.desired = TuningPlanner.desired(config.policySpec().getSysctls());
    this.kernel = Executors.newSingleThreadScheduledExecutor(r -> kernelThread(r, "kernel"));
    this.nodePods = new NodePods(config.nodeName(), config.policySpec().getNamespaceSelector() != null, this::podsChanged);
  }

  /** A thread for kernel work: it enters the configured namespace before anything else. */
  private Thread kernelThread(Runnable work, String name) {
    return new Thread(() -> {
      config.netns().ifPresent(ns -> {
        try {
          NetNamespace.enter(ns);
        } catch (IOException e) {
          // Never fall through to tuning the agent's own namespace by mistake.
          throw new IllegalStateException("cannot enter network namespace " + ns + ": " + e.getMessage(), e);
        }
      });
      work.run();
    }, name);
  }

  /** Applies, reports, then runs the census loop and watches the policy. Returns once started. */
  public void start() throws Exception {
    http = new MetricsHttpServer(config.port(), metrics::scrape, () -> true, () -> ready);
    // The pod informers start from the API thread (the agent's own namespace) without waiting.
    api.execute(() -> {
      try {
        nodePods.start(reporter::client);
      } catch (RuntimeException e) {
        LOG.warn("policy={} node={} cannot follow the node's pods ({}); pods are measured but not named or tuned",
            config.policyName(), config.nodeName(), rootMessage(e));
      }
    });
    kernel.submit(() -> {
      initialize();
      return null;
    }).get(60, TimeUnit.SECONDS);
    long every = config.censusInterval().toMillis();
    kernel.scheduleWithFixedDelay(this::tickSafely, every, every, TimeUnit.MILLISECONDS);
    if (config.policySpec().selectsPods()) {
      kernel.scheduleWithFixedDelay(this::podRescanIfWaiting, POD_RESCAN.toMillis(), POD_RESCAN.toMillis(), TimeUnit.MILLISECONDS);
    }
    watchPolicy();
  }

  /** The HTTP port actually bound (the configured one, or an ephemeral one when it was 0). */
  public int port() {
    return http.port();
  }

  public NodePhase phase() {
    return phase;
  }

  public boolean ready() {
    return ready;
  }

  // ---- kernel thread -----------------------------------------------------------------------

  private void initialize() throws IOException {
    sysctls = new ProcSysctls();
    applier = new SysctlApplier(sysctls, new OriginalsJournal(config.stateDir()));
    census = TimeWaitCensus.forCurrentNamespace();
    kernelVersion = KernelRelease.read();
    nat = NatDetector.detect();
    PolicyVerdict verdict = verdictOrTune();
    LOG.info("policy={} node={} kernel={} nat={} verdict={} mode={}", config.policyName(), config.nodeName(),
        kernelVersion.release(), nat.detected(), verdict, identity.mode());
    lastCensus = census.take(TOP_DESTINATIONS);
    podNamespaces = new PodNamespaces(config.policyName(), config.nodeName(), config.policySpec(), desired,
        new PodNamespaces.NodeFacts(kernelVersion, nat), nodePods, new PodJournals(config.stateDir()), new NetnsScanner(),
        verdict == PolicyVerdict.Tune);
    if (verdict != PolicyVerdict.Superseded) {
      // A superseded agent leaves the journals to the policy that tunes the node.
      podsSafely("dropping stale pod journals", podNamespaces::dropStaleJournals);
    }
    if (verdict == PolicyVerdict.Superseded) {
      setPhase(NodePhase.Superseded, "another policy of higher precedence tunes this node");
      sysctlLines = List.of();
    } else if (verdict.revert()) {
      lettingGo = true; // never tune again in this run, not even after a failed revert
      String why = "policy " + verdict.name().toLowerCase(java.util.Locale.ROOT);
      giveBack(why);
      podsSafely("giving pods back", () -> podNamespaces.letGo(why));
    } else {
      applyPolicy();
    }
    lastCensus = census.take(TOP_DESTINATIONS); // the port range may just have changed
    podsSafely("pod census", () -> podReport = podNamespaces.census(true));
    report(true);
  }

  /** The API's view; if the API cannot be reached, trust the DaemonSet that put us here. */
  private PolicyVerdict verdictOrTune() {
    try {
      return firstVerdict.get(10, TimeUnit.SECONDS);
    } catch (Exception e) {
      LOG.warn("policy={} node={} cannot reach the API server to check the policy ({}); tuning as deployed",
          config.policyName(), config.nodeName(), rootMessage(e));
      return PolicyVerdict.Tune;
    }
  }

  private void applyPolicy() throws IOException {
    TuningRequest request = new TuningRequest(config.policyName(), desired, kernelVersion, nat,
        Boolean.TRUE.equals(config.policySpec().getAssumeNat()), listeningPorts());
    if (identity.mode() == Mode.DryRun) {
      // DryRun writes nothing of its own; a node this policy tuned before is given back first.
      RevertResult given = applier.revert(config.policyName());
      if (given.outcome() == RevertResult.Outcome.Reverted) {
        LOG.info("policy={} node={} DryRun: gave back {} sysctl(s) applied earlier", config.policyName(), config.nodeName(), given.sysctls().size());
      }
      Plan plan = request.planFor(sysctls.readAll());
      sysctlLines = SysctlLine.fromPlan(plan);
      plan.warnings().forEach(w -> LOG.warn("policy={} node={} {}", config.policyName(), config.nodeName(), w));
      setPhase(NodePhase.Planned, null);
      return;
    }
    ApplyResult result = applier.apply(request);
    Map<Sysctl, String> originals = applier.journaled().map(OriginalsJournal.Entries::originals).orElse(Map.of());
    sysctlLines = SysctlLine.fromApply(result, originals);
    lastApplied = result.plan();
    for (SysctlOutcome o : result.sysctls()) {
      if (o.status() == SysctlOutcome.Status.Applied) {
        LOG.info("policy={} node={} applied {} {}->{}", config.policyName(), config.nodeName(), o.sysctl().dottedName(), o.before(), o.after());
      } else if (o.status() == SysctlOutcome.Status.Refused) {
        LOG.warn("policy={} node={} refused {}={}: {}", config.policyName(), config.nodeName(), o.sysctl().dottedName(), o.target(), o.message());
      } else if (o.status() == SysctlOutcome.Status.RolledBack) {
        LOG.info("policy={} node={} rolled back {} to {}", config.policyName(), config.nodeName(), o.sysctl().dottedName(), o.after());
      }
    }
    result.plan().warnings().forEach(w -> LOG.warn("policy={} node={} {}", config.policyName(), config.nodeName(), w));
    if (result.succeeded()) {
      setPhase(NodePhase.Applied, null);
    } else {
      LOG.error("policy={} node={} apply failed, rolled back: {}", config.policyName(), config.nodeName(), result.failure().orElse(""));
      setPhase(NodePhase.Failed, result.failure().orElse("a write failed"));
    }
  }

  /**
   * Puts the journaled originals back. A sysctl someone changed by hand since the apply is left
   * as it is (never forced): logged, and named in the Reverted report with reason ChangedByHand.
   */
  private void giveBack(String why) throws IOException {
    RevertResult r = applier.revert(config.policyName());
    LOG.info("policy={} node={} {}: revert {} ({})", config.policyName(), config.nodeName(), why, r.outcome(), r.message());
    for (SysctlOutcome o : r.sysctls()) {
      switch (o.status()) {
        case Restored -> LOG.info("policy={} node={} restored {} {}->{}", config.policyName(), config.nodeName(), o.sysctl().dottedName(), o.before(), o.after());
        case ChangedByHand -> LOG.warn("policy={} node={} left {} alone: {}", config.policyName(), config.nodeName(), o.sysctl().dottedName(), o.message());
        case Missing, Failed -> LOG.warn("policy={} node={} could not restore {}: {}", config.policyName(), config.nodeName(), o.sysctl().dottedName(), o.message());
        default -> { }
      }
    }
    sysctlLines = List.of();
    changedByHand = r.sysctls().stream().filter(o -> o.status() == SysctlOutcome.Status.ChangedByHand)
        .map(o -> o.sysctl().dottedName() + ": " + o.message()).toList();
    if (r.succeeded()) {
      setPhase(NodePhase.Reverted, "gave the node back (" + why + "): " + r.message());
    } else {
      setPhase(NodePhase.Failed, "revert failed: " + r.message());
    }
  }

  private void tickSafely() {
    try {
      tick();
    } catch (Exception e) {
      LOG.error("policy={} node={} census/drift cycle failed: {}", config.policyName(), config.nodeName(), e.toString());
    }
  }

  private void tick() throws IOException {
    lastCensus = census.take(TOP_DESTINATIONS);
    if (!lettingGo && identity.mode() == Mode.Enforce) {
      if (phase == NodePhase.Failed) {
        applyPolicy(); // a failed write may have been transient
      } else if (phase == NodePhase.Applied) {
        correctDrift();
      }
    }
    podsSafely("pod census", () -> podReport = podNamespaces.census(true));
    report(false);
  }

  private interface PodWork {
    void run() throws IOException;
  }

  /** Pod work never stops the node's own census, tuning or report. */
  private void podsSafely(String what, PodWork work) {
    try {
      work.run();
    } catch (IOException | RuntimeException e) {
      LOG.error("policy={} node={} {} failed: {}", config.policyName(), config.nodeName(), what, e.toString());
    }
  }

  private void podRescanSafely() {
    if (podNamespaces != null && !lettingGo) {
      podsSafely("pod rescan", podNamespaces::rescan);
    }
  }

  /** Every second: a scan only while a selected pod's namespace is awaited. */
  private void podRescanIfWaiting() {
    if (podNamespaces != null && !lettingGo && podNamespaces.waitingForPods()) {
      podsSafely("pod rescan", podNamespaces::rescan);
    }
  }

  /** The node's pods changed (informer thread): look at the namespaces again soon, once. */
  private void podsChanged() {
    if (!config.policySpec().selectsPods() || !podRescanQueued.compareAndSet(false, true)) {
      return;
    }
    try {
      kernel.execute(() -> {
        podRescanQueued.set(false);
        podRescanSafely();
      });
    } catch (RejectedExecutionException e) {
      podRescanQueued.set(false); // shutting down
    }
  }

  /** Puts back what someone else changed; the applier says what drifted from the last apply's plan. */
  private void correctDrift() throws IOException {
    List<SysctlApplier.Drift> drifted = applier.detectDrift(lastApplied);
    if (drifted.isEmpty()) {
      return;
    }
    Map<Sysctl, String> found = new EnumMap<>(Sysctl.class);
    for (SysctlApplier.Drift d : drifted) {
      LOG.warn("policy={} node={} drift {} is {} (wanted {}); putting it back",
          config.policyName(), config.nodeName(), d.sysctl().dottedName(), d.actual(), d.desired());
      found.put(d.sysctl(), d.actual());
    }
    applyPolicy();
    List<SysctlLine> marked = new ArrayList<>();
    for (SysctlLine line : sysctlLines) {
      if (found.containsKey(line.sysctl()) && line.state() == SysctlState.Applied) {
        metrics.driftCorrected();
        marked.add(line.driftCorrected(found.get(line.sysctl())));
      } else {
        marked.add(line);
      }
    }
    sysctlLines = marked;
  }

  /** The policy is being deleted: give the node back once, then only measure. */
  private void letGo(String why) {
    if (lettingGo) {
      return;
    }
    lettingGo = true;
    try {
      giveBack(why);
      podsSafely("giving pods back", () -> podNamespaces.letGo(why));
      report(true);
    } catch (IOException e) {
      LOG.error("policy={} node={} revert failed: {}", config.policyName(), config.nodeName(), e.toString());
    }
  }

  private Set<Integer> listeningPorts() {
    return lastCensus == null ? Set.of() : lastCensus.listeningPorts();
  }

  private void setPhase(NodePhase p, String why) {
    phase = p;
    detail = why;
    ready = p != NodePhase.Failed;
  }

  // ---- reporting ---------------------------------------------------------------------------

  private void report(boolean force) {
    Instant now = clock.instant();
    TimeWait tw = NodeStatusFactory.timeWait(lastCensus);
    metrics.census(tw.getTotal(), tw.getPressure(), tw.getMaxDestinationPressure(), tw.getPortRangeSize(), lastCensus.tcpExt());
    for (SysctlLine line : sysctlLines) {
      metrics.sysctl(line.sysctl(), line.actual(), line.state());
    }
    if (podReport != null) {
      metrics.pods(podReport.pressures());
    }
    TcpTuningNodeStateStatus status = NodeStatusFactory.withPods(NodeStatusFactory.build(identity, phase, kernelVersion.release(), nat, tw,
        SysctlLine.toStatuses(sysctlLines), detail, changedByHand, lastWritten, now), podReport);
    boolean due = force || NodeStatusFactory.materiallyDifferent(lastWritten, status)
        || !now.isBefore(lastWriteAt.plus(config.heartbeatInterval()));
    if (!due || !backoff.ready(now)) {
      return;
    }
    if (!writeInFlight.compareAndSet(false, true)) {
      // Not dropped: a give-back's report must not be lost to the write before it (with a long
      // census interval nothing else would send it).
      reportAgain.set(true);
      return;
    }
    api.execute(() -> {
      try {
        reporter.write(status);
        lastWritten = status;
        lastWriteAt = now;
        backoff.succeeded();
      } catch (Exception e) {
        backoff.failed(clock.instant());
        metrics.reportFailed();
        LOG.warn("policy={} node={} cannot write node state ({}); retrying in {}s", config.policyName(), config.nodeName(),
            rootMessage(e), backoff.nextDelay().toSeconds());
      } finally {
        writeInFlight.set(false);
        if (reportAgain.getAndSet(false)) {
          try {
            kernel.execute(() -> report(true));
          } catch (RejectedExecutionException e) {
            // Shutting down: close() writes the last report itself.
          }
        }
      }
    });
  }

  // ---- the policy watch and shutdown -------------------------------------------------------

  /** Follows the policy from here on (on a thread of the agent's own namespace, created here). */
  private void watchPolicy() {
    try {
      policyWatch = reporter.watchPolicy(config.policyName(), policy -> {
        if (policy.isEmpty()) {
          kernel.execute(() -> letGo("policy deleted"));
        } else if (policy.get().getMetadata().getDeletionTimestamp() != null) {
          kernel.execute(() -> letGo("policy is being deleted"));
        }
      });
    } catch (Exception e) {
      LOG.warn("policy={} node={} cannot watch the policy yet ({}); will learn of deletion at shutdown",
          config.policyName(), config.nodeName(), rootMessage(e));
    }
  }

  /**
   * Stops. When the API server says the policy no longer wants this node (deleted, deselected,
   * superseded by another policy), gives the node back first; when it cannot be asked, keeps
   * the node as it is: a restart must never undo the tuning.
   */
  @Override
  public void close() {
    if (policyWatch != null) {
      try {
        policyWatch.close();
      } catch (Exception e) {
        LOG.debug("policy watch close: {}", e.toString());
      }
    }
    kernel.shutdown();
    try {
      kernel.awaitTermination(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    PolicyVerdict verdict = verdictAtShutdown();
    if (verdict != null && verdict.revert() && !lettingGo) {
      ExecutorService last = Executors.newSingleThreadExecutor(r -> kernelThread(r, "kernel-shutdown"));
      try {
        last.submit(() -> {
          giveBack("shutting down: " + verdict.name());
          if (podNamespaces != null) {
            podsSafely("giving pods back", () -> podNamespaces.letGo("shutting down: " + verdict.name()));
          }
          return null;
        }).get(15, TimeUnit.SECONDS);
        TcpTuningNodeStateStatus s = NodeStatusFactory.withPods(NodeStatusFactory.build(identity, phase, kernelVersion.release(), nat,
            NodeStatusFactory.timeWait(lastCensus), SysctlLine.toStatuses(sysctlLines), detail, changedByHand, lastWritten, clock.instant()), podReport);
        api.submit(() -> reporter.write(s)).get(5, TimeUnit.SECONDS);
      } catch (Exception e) {
        LOG.warn("policy={} node={} give-back at shutdown incomplete: {}", config.policyName(), config.nodeName(), rootMessage(e));
      } finally {
        last.shutdownNow();
      }
    } else if (verdict != null) {
      shutdownSummary = leftBehind(lettingGo, phase, detail, changedByHand.size());
      LOG.info("policy={} node={} shutting down ({}); {}", config.policyName(), config.nodeName(), verdict, shutdownSummary);
    }
    nodePods.close();
    if (podNamespaces != null) {
      podNamespaces.close();
    }
    api.shutdownNow();
    if (http != null) {
      http.close();
    }
    reporter.close();
  }

  /** What the last shutdown said it left on the node, for tests; null before one or when it gave the node back. */
  String shutdownSummary() {
    return shutdownSummary;
  }

  /**
   * What a shutdown that does not give the node back leaves on it, in words that are true for
   * the state this run got to. Pure.
   *
   * @param gaveBack this run already tried to give the node back (the policy let go of it)
   * @param leftByHand sysctls the give-back left alone because someone changed them by hand
   */
  static String leftBehind(boolean gaveBack, NodePhase phase, String detail, int leftByHand) {
    String why = detail == null || detail.isBlank() ? "" : " (" + detail + ")";
    if (gaveBack) {
      if (phase != NodePhase.Reverted) {
        return "giving the node back failed earlier" + why + "; the node is left as it is";
      }
      return leftByHand == 0
          ? "the node was already given back to its original values"
          : "the node was already given back to its original values, except " + leftByHand
              + " sysctl(s) changed by hand since apply, left as they are";
    }
    if (phase == null) {
      return "the node is left as it is";
    }
    return switch (phase) {
      case Applied -> "the node stays tuned";
      case Planned -> "DryRun: this agent wrote nothing, the node keeps its own values";
      case Superseded -> "another policy tunes this node; this agent wrote nothing";
      case Failed -> "the last apply failed" + why + "; the node is left as it is";
      default -> "the node is left as it is (" + phase + ")";
    };
  }

  private PolicyVerdict verdictAtShutdown() {
    try {
      return api.submit(() -> reporter.verdict(config.policyName())).get(5, TimeUnit.SECONDS);
    } catch (Exception e) {
      LOG.warn("policy={} node={} shutting down without reaching the API server ({}); leaving the node as it is",
          config.policyName(), config.nodeName(), rootMessage(e));
      return null;
    }
  }

  private static String rootMessage(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null) {
      t = t.getCause();
    }
    return t.getClass().getSimpleName() + ": " + t.getMessage();
  }
}
