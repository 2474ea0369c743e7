package io.tcptuning.cli;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.tcptuning.metrics.MetricsHttpServer;
import io.tcptuning.operator.OperatorConfig;
import io.tcptuning.operator.TcpTuningOperator;
import java.time.Clock;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;

/** {@code tcptune operator}: runs the operator until SIGTERM. Configured by environment variables. */
@Command(
    name = "operator",
    mixinStandardHelpOptions = true,
    description = {
      "Run the operator: one agent DaemonSet per TcpTuningPolicy, node reports rolled up into the policy's status.",
      "",
      "Environment (defaults in brackets):",
      "  TCPTUNE_NAMESPACE                  where agent DaemonSets go [POD_NAMESPACE, else tcp-tuning-system]",
      "  TCPTUNE_AGENT_IMAGE                agent image [" + OperatorConfig.DEFAULT_AGENT_IMAGE + "]",
      "  TCPTUNE_AGENT_IMAGE_PULL_POLICY    Always|IfNotPresent|Never [IfNotPresent]",
      "  TCPTUNE_AGENT_SERVICE_ACCOUNT      agent service account [tcp-tuning-agent]",
      "  TCPTUNE_STATUS_DEBOUNCE            at most one status write per policy per window [2s]",
      "  TCPTUNE_REVERT_TIMEOUT             wait for nodes to revert on deletion [120s]",
      "  TCPTUNE_LEADER_ELECTION            true|false [true]",
      "  TCPTUNE_LEADER_ELECTION_NAMESPACE  namespace of the Lease [TCPTUNE_NAMESPACE]",
      "  TCPTUNE_METRICS_PORT               /metrics, /healthz, /readyz [8080]"
    })
public final class OperatorCommand implements Callable<Integer> {
  private static final Logger LOG = LoggerFactory.getLogger(OperatorCommand.class);

  @Override
  public Integer call() throws Exception {
    OperatorConfig config;
    try {
      config = OperatorConfig.fromEnv();
    } catch (OperatorConfig.InvalidConfigException e) {
      System.err.println("tcptune operator: " + e.getMessage());
      return Main.EXIT_INVALID;
    }
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    new JvmMemoryMetrics().bindTo(registry);
    new JvmGcMetrics().bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);

    KubernetesClient client = new KubernetesClientBuilder().build();
    TcpTuningOperator operator = TcpTuningOperator.create(client, config, registry, Clock.systemUTC());
    MetricsHttpServer http = new MetricsHttpServer(config.metricsPort(), registry::scrape, operator::isStarted, operator::isReady);
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  LOG.info("stopping: SIGTERM");
                  try {
                    operator.stop();
                  } finally {
                    http.close();
                    client.close();
                    stopped.countDown();
                  }
                },
                "shutdown"));
    LOG.info(
        "starting: namespace={} image={} debounce={} revertTimeout={} leaderElection={} metricsPort={}",
        config.namespace(), config.agentImage(), config.statusDebounce(), config.revertTimeout(), config.leaderElection(), http.port());
    operator.start();
    stopped.await();
    return 0;
  }
}
