package io.tcptuning.cli;

import io.tcptuning.agent.Agent;
import io.tcptuning.agent.AgentConfig;
import io.tcptuning.agent.NodeStateReporter;
import java.time.Clock;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;

/** {@code tcptune agent}: the DaemonSet process. Configured by environment variables only. */
@Command(
    name = "agent",
    mixinStandardHelpOptions = true,
    description = {
      "Run the node agent (the DaemonSet process): apply the policy given in the environment,",
      "take a TIME_WAIT census every interval, correct drift, report the node's TcpTuningNodeState,",
      "serve /metrics, /healthz and /readyz, and give the node back when the policy lets go of it.",
      "Environment: NODE_NAME, TCPTUNE_POLICY_NAME, TCPTUNE_POLICY_SPEC (required);",
      "TCPTUNE_POLICY_GENERATION, TCPTUNE_STATE_DIR (/var/lib/tcp-tuning), TCPTUNE_CENSUS_INTERVAL (15s),",
      "TCPTUNE_HEARTBEAT_INTERVAL (5m), TCPTUNE_AGENT_PORT (9479), TCPTUNE_NETNS (optional).",
      "The API server: the pod's service account (KUBERNETES_SERVICE_HOST/PORT, token, CA), or",
      "KUBERNETES_MASTER with KUBERNETES_CERTS_CA_FILE and KUBERNETES_AUTH_SERVICEACCOUNT_TOKEN, or a kubeconfig."
    })
public final class AgentCommand implements Callable<Integer> {

  @Override
  public Integer call() throws Exception {
    AgentConfig config;
    try {
      config = AgentConfig.fromEnv(System::getenv);
    } catch (IllegalArgumentException e) {
      System.err.println("tcptune agent: " + e.getMessage());
      return Main.EXIT_INVALID;
    }
    Agent agent = new Agent(config, NodeStateReporter::newClient, Clock.systemUTC());
    CountDownLatch stopped = new CountDownLatch(1);
    // SIGTERM: stop; the agent decides from the API whether this is a restart or a goodbye.
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      agent.close();
      stopped.countDown();
    }, "shutdown"));
    agent.start();
    stopped.await();
    return 0;
  }
}
