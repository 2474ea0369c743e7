package io.tcptuning.cli;

import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.tcptuning.kube.ClusterCaTrust;
import io.tcptuning.metrics.MetricsHttpServer;
import io.tcptuning.node.IoErrors;
import io.tcptuning.operator.OperatorConfig;
import io.tcptuning.operator.TcpTuningOperator;
import java.net.UnknownHostException;
import java.nio.channels.UnresolvedAddressException;
import java.security.cert.CertPathBuilderException;
import java.security.cert.CertPathValidatorException;
import java.time.Clock;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Pattern;
import javax.net.ssl.SSLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import sun.misc.Signal;
import sun.misc.SignalHandler;

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
  /** Connect and answer timeout of the reachability check. */
  private static final int PROBE_TIMEOUT_MS = 5_000;
  /** {@code javax.net.ssl.SSLException: } and the like, as a wrapped cause's message repeats it. */
  private static final Pattern CLASS_NAME = Pattern.compile("\\b(?:[a-z][a-z0-9_]*\\.)+[A-Z]\\w*(?:Exception|Error): ?");

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

    Config clientConfig = new ConfigBuilder().build(); // what KubernetesClientBuilder uses by default
    Optional<String> unreachable = unreachable(clientConfig);
    if (unreachable.isPresent()) {
      System.err.println("tcptune operator: " + unreachable.get());
      return Main.EXIT_FAILED;
    }
    KubernetesClient client = newClient(clientConfig);
    TcpTuningOperator operator = TcpTuningOperator.create(client, config, registry, Clock.systemUTC());
    MetricsHttpServer http = new MetricsHttpServer(config.metricsPort(), registry::scrape, operator::isStarted, operator::isReady);
    CountDownLatch stopped = new CountDownLatch(1);
    AtomicReference<String> signal = new AtomicReference<>();
    remember("TERM", signal);
    remember("INT", signal);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  // The hook also runs when the JVM exits for another reason (a failed start).
                  LOG.info(signal.get() == null ? "stopping" : "stopping: " + signal.get() + " received");
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

  /**
   * The operator's client: the CA its configuration names alone trusted, as the agent's
   * ({@link ClusterCaTrust}), so that no public CA in the JVM's {@code cacerts} can vouch for a
   * host posing as the API server.
   */
  static KubernetesClient newClient(Config config) {
    return ClusterCaTrust.clientBuilder(config).build();
  }

  /**
   * Why the API server cannot be reached, asked once (GET /version) with short timeouts and no
   * retries before anything starts: JOSDK would otherwise retry for about 20 s and print every
   * informer's stack trace. A server that answers, even 401 or 403, is reachable. The probe trusts
   * what {@link #newClient} trusts: a server the client would refuse is unreachable.
   */
  static Optional<String> unreachable(Config config) {
    Config probe = new ConfigBuilder(config)
        .withConnectionTimeout(PROBE_TIMEOUT_MS)
        .withRequestTimeout(PROBE_TIMEOUT_MS)
        .withRequestRetryBackoffLimit(0)
        .build();
    KubernetesClientBuilder builder;
    try {
      builder = ClusterCaTrust.clientBuilder(probe);
    } catch (KubernetesClientException e) {
      return Optional.of(e.getMessage()); // cannot read the cluster CA /path: no such file
    }
    try (KubernetesClient client = builder.build()) {
      client.getKubernetesVersion();
      return Optional.empty();
    } catch (KubernetesClientException e) {
      if (e.getCode() > 0) {
        return Optional.empty();
      }
      return Optional.of("cannot reach the Kubernetes API server at " + config.getMasterUrl() + " (" + why(e, config)
          + "); it comes from the pod's service account, KUBERNETES_MASTER or the kubeconfig (KUBECONFIG, ~/.kube/config)");
    }
  }

  /**
   * An unknown host or a TLS failure anywhere in the causes, else the first cause that says
   * something; a refused connection says nothing at every level.
   */
  private static String why(KubernetesClientException e, Config config) {
    for (Throwable t = e.getCause(); t != null; t = t.getCause()) {
      if (t instanceof UnresolvedAddressException || t instanceof UnknownHostException) {
        return "unknown host";
      }
      if (t instanceof SSLException) {
        return "TLS: " + tls(t, ClusterCaTrust.trusted(config));
      }
    }
    for (Throwable t = e.getCause(); t != null; t = t.getCause()) {
      if (t.getMessage() != null && !t.getMessage().isBlank()) {
        return IoErrors.reason(t);
      }
    }
    return "cannot connect";
  }

  /**
   * A TLS failure in words, saying what the client trusts. The JDK's messages name classes ({@code
   * PKIX path building failed: sun.security.provider.certpath.SunCertPathBuilderException: ...});
   * the innermost cause says what happened.
   */
  private static String tls(Throwable failure, String trusted) {
    Throwable inner = failure;
    while (inner.getCause() != null && inner.getCause() != inner) {
      inner = inner.getCause();
      // No chain from the server's certificate to a trusted one, or one to a CA of the same name
      // that did not sign it.
      if (inner instanceof CertPathBuilderException
          || inner instanceof CertPathValidatorException v && v.getReason() == CertPathValidatorException.BasicReason.INVALID_SIGNATURE) {
        return "the server's certificate is not signed by " + trusted;
      }
    }
    return CLASS_NAME.matcher(IoErrors.reason(inner)).replaceAll("").strip() + "; trusting " + trusted;
  }

  /** Notes which signal asked the JVM to stop, then lets the JVM's own handler stop it (exit 128+n, shutdown hooks). */
  private static void remember(String name, AtomicReference<String> received) {
    SignalHandler[] jvm = new SignalHandler[1];
    jvm[0] = Signal.handle(new Signal(name), s -> {
      received.set("SIG" + s.getName());
      jvm[0].handle(s);
    });
  }
}
