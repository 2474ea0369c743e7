package io.tcptuning.operator;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderCallbacks;
import io.javaoperatorsdk.operator.Operator;
import io.javaoperatorsdk.operator.api.config.LeaderElectionConfiguration;
import io.javaoperatorsdk.operator.api.config.LeaderElectionConfigurationBuilder;
import io.javaoperatorsdk.operator.monitoring.micrometer.MicrometerMetrics;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The JOSDK {@link Operator} with the policy reconciler, wired as the {@code operator} command runs
 * it and as the mock-API tests start it. Server-side apply is off: the operator writes its
 * DaemonSets with create/update and the status with optimistic locking.
 */
public final class TcpTuningOperator {
  private static final Logger LOG = LoggerFactory.getLogger(TcpTuningOperator.class);
  public static final String LEASE_NAME = "tcp-tuning-operator";

  private final Operator operator;
  private final TcpTuningPolicyReconciler reconciler;
  private final AtomicBoolean leading;
  private final AtomicBoolean stopping;

  private TcpTuningOperator(Operator operator, TcpTuningPolicyReconciler reconciler, AtomicBoolean leading, AtomicBoolean stopping) {
    this.operator = operator;
    this.reconciler = reconciler;
    this.leading = leading;
    this.stopping = stopping;
  }

  /** Lease timings; production uses JOSDK's defaults and exits when it loses the lease. */
  record LeaseTimings(Duration leaseDuration, Duration renewDeadline, Duration retryPeriod, boolean exitOnStopLeading) {
    static final LeaseTimings DEFAULT =
        new LeaseTimings(
            LeaderElectionConfiguration.LEASE_DURATION_DEFAULT_VALUE,
            LeaderElectionConfiguration.RENEW_DEADLINE_DEFAULT_VALUE,
            LeaderElectionConfiguration.RETRY_PERIOD_DEFAULT_VALUE,
            true);
  }

  public static TcpTuningOperator create(KubernetesClient client, OperatorConfig config, MeterRegistry registry, Clock clock) {
    return create(client, config, registry, clock, LeaseTimings.DEFAULT);
  }

  static TcpTuningOperator create(KubernetesClient client, OperatorConfig config, MeterRegistry registry, Clock clock, LeaseTimings lease) {
    AtomicBoolean leading = new AtomicBoolean(!config.leaderElection());
    AtomicBoolean stopping = new AtomicBoolean();
    Operator operator =
        new Operator(
            o -> {
              o.withKubernetesClient(client)
                  .withCloseClientOnStop(false)
                  .withUseSSAToPatchPrimaryResource(false)
                  .checkingCRDAndValidateLocalModel(false)
                  .withMetrics(MicrometerMetrics.newMicrometerMetricsBuilder(registry).notCollectingMetricsPerResource().build())
                  .withReconciliationTerminationTimeout(Duration.ofSeconds(10));
              if (config.leaderElection()) {
                o.withLeaderElectionConfiguration(
                    LeaderElectionConfigurationBuilder.aLeaderElectionConfiguration(LEASE_NAME)
                        .withLeaseNamespace(config.leaderElectionNamespace())
                        .withLeaseDuration(lease.leaseDuration())
                        .withRenewDeadline(lease.renewDeadline())
                        .withRetryPeriod(lease.retryPeriod())
                        // JOSDK would call System.exit from the thread that cancels the election,
                        // which is our shutdown hook on SIGTERM: that blocks forever. lostLease()
                        // exits instead, and only when the lease is lost while running.
                        .withExitOnStopLeading(false)
                        .withLeaderCallbacks(new LeaderCallbacks(() -> leading.set(true), () -> lostLease(leading, stopping, lease), id -> {}))
                        .build());
              }
            });
    var reconciler = new TcpTuningPolicyReconciler(client, config, clock, new PolicyMetrics(registry));
    operator.register(reconciler);
    return new TcpTuningOperator(operator, reconciler, leading, stopping);
  }

  /**
   * A replica that lost the lease while running exits (and restarts as a standby) rather than
   * reconcile alongside the new leader. The exit runs on its own thread: this callback holds the
   * elector's lock, which the shutdown hook's stop() needs.
   */
  private static void lostLease(AtomicBoolean leading, AtomicBoolean stopping, LeaseTimings lease) {
    leading.set(false);
    if (!stopping.get() && lease.exitOnStopLeading()) {
      LOG.error("lost the leader lease; exiting");
      Thread exit = new Thread(() -> System.exit(1), "lost-lease-exit");
      exit.setDaemon(false);
      exit.start();
    }
  }

  public void start() {
    operator.start();
  }

  public void stop() {
    stopping.set(true);
    operator.stop();
  }

  public TcpTuningPolicyReconciler reconciler() {
    return reconciler;
  }

  /** Started (a replica waiting for the lease counts as started). */
  public boolean isStarted() {
    return operator.getRuntimeInfo().isStarted();
  }

  /** Holds the lease (always true without leader election). */
  public boolean isLeading() {
    return leading.get();
  }

  /** Ready: started, and when leading, every informer is healthy. A standby replica is ready too. */
  public boolean isReady() {
    return isStarted() && (!leading.get() || operator.getRuntimeInfo().allEventSourcesAreHealthy());
  }
}
