package io.tcptuning.operator;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderCallbacks;
import io.javaoperatorsdk.operator.Operator;
import io.javaoperatorsdk.operator.api.config.LeaderElectionConfigurationBuilder;
import io.javaoperatorsdk.operator.monitoring.micrometer.MicrometerMetrics;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The JOSDK {@link Operator} with the policy reconciler, wired as the {@code operator} command runs
 * it and as the mock-API tests start it. Server-side apply is off: the operator writes its
 * DaemonSets with create/update and the status with optimistic locking.
 */
public final class TcpTuningOperator {
  public static final String LEASE_NAME = "tcp-tuning-operator";

  private final Operator operator;
  private final TcpTuningPolicyReconciler reconciler;
  private final AtomicBoolean leading;

  private TcpTuningOperator(Operator operator, TcpTuningPolicyReconciler reconciler, AtomicBoolean leading) {
    this.operator = operator;
    this.reconciler = reconciler;
    this.leading = leading;
  }

  public static TcpTuningOperator create(KubernetesClient client, OperatorConfig config, MeterRegistry registry, Clock clock) {
    AtomicBoolean leading = new AtomicBoolean(!config.leaderElection());
    Operator operator =
        new Operator(
            o -> {
              o.withKubernetesClient(client)
                  .withCloseClientOnStop(false)
                  .withSSABasedCreateUpdateMatchForDependentResources(false)
                  .withUseSSAToPatchPrimaryResource(false)
                  .checkingCRDAndValidateLocalModel(false)
                  .withMetrics(MicrometerMetrics.newMicrometerMetricsBuilder(registry).notCollectingMetricsPerResource().build())
                  .withReconciliationTerminationTimeout(Duration.ofSeconds(10));
              if (config.leaderElection()) {
                o.withLeaderElectionConfiguration(
                    LeaderElectionConfigurationBuilder.aLeaderElectionConfiguration(LEASE_NAME)
                        .withLeaseNamespace(config.leaderElectionNamespace())
                        .withLeaderCallbacks(new LeaderCallbacks(() -> leading.set(true), () -> leading.set(false), id -> {}))
                        .build());
              }
            });
    var reconciler = new TcpTuningPolicyReconciler(client, config, clock, new PolicyMetrics(registry));
    operator.register(reconciler);
    return new TcpTuningOperator(operator, reconciler, leading);
  }

  public void start() {
    operator.start();
  }

  public void stop() {
    operator.stop();
  }

  public TcpTuningPolicyReconciler reconciler() {
    return reconciler;
  }

  /** Started (a replica waiting for the lease counts as started). */
  public boolean isStarted() {
    return operator.getRuntimeInfo().isStarted();
  }

  /** Ready: started, and when leading, every informer is healthy. A standby replica is ready too. */
  public boolean isReady() {
    return isStarted() && (!leading.get() || operator.getRuntimeInfo().allEventSourcesAreHealthy());
  }
}
