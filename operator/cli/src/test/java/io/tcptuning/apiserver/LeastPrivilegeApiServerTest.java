package io.tcptuning.apiserver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.tcptuning.agent.NodeStateReporter;
import io.tcptuning.agent.NodeStatusFactory;
import io.tcptuning.api.v1alpha1.Conditions;
import io.tcptuning.api.v1alpha1.Mode;
import io.tcptuning.api.v1alpha1.NodePhase;
import io.tcptuning.api.v1alpha1.SysctlState;
import io.tcptuning.api.v1alpha1.TcpTuningNodeState;
import io.tcptuning.api.v1alpha1.TcpTuningNodeStateStatus;
import io.tcptuning.api.v1alpha1.TcpTuningNodeStateStatus.SysctlStatus;
import io.tcptuning.api.v1alpha1.TcpTuningNodeStateStatus.TimeWait;
import io.tcptuning.api.v1alpha1.TcpTuningPolicy;
import io.tcptuning.config.AgentContract;
import io.tcptuning.domain.NatVerdict;
import io.tcptuning.operator.OperatorConfig;
import io.tcptuning.operator.TcpTuningOperator;
import io.tcptuning.testing.ProjectPaths;

import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.api.model.apps.DaemonSetBuilder;
import io.fabric8.kubernetes.api.model.authentication.TokenRequest;
import io.fabric8.kubernetes.api.model.authentication.TokenRequestBuilder;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Least privilege, enforced by a real API server with RBAC and the ValidatingAdmissionPolicy of
 * {@code deploy/} (rendered from the chart): the agent's service account writes its own node's
 * TcpTuningNodeState and is refused another node's with the policy's message, reads no Secret and
 * changes no DaemonSet; the operator's service account runs a whole policy lifecycle (leader
 * election on, as the chart runs it) and the server's audit log shows not one 403 for it.
 *
 * <p>Identities: impersonation (the admin client sends Impersonate-User, -Group and -Extra, as a
 * pod's token would carry them), and once a real bound token from the TokenRequest API for a pod
 * on a node, to show that the server puts the node claim the policy relies on into it.
 */
class LeastPrivilegeApiServerTest {

  @RegisterExtension static final RealApiServer API = RealApiServer.withAuditLog();

  private static final String NS = "tcp-tuning-system";
  private static final String AGENT = "system:serviceaccount:" + NS + ":tcp-tuning-agent";
  private static final String OPERATOR = "system:serviceaccount:" + NS + ":tcp-tuning-operator";
  private static final String NODE_CLAIM = "authentication.kubernetes.io/node-name";
  private static final String VAP = "tcp-tuning-operator-agent-node-restriction";
  private static final String VAP_MESSAGE = "an agent may only write the TcpTuningNodeState named after its own node";

  @BeforeAll
  static void install() {
    API.installDeploy();
    for (String node : List.of("worker-1", "worker-2")) {
      node(node, "high-churn");
    }
    node("worker-3", "elsewhere");
  }

  private static void node(String name, String profile) {
    API.client().nodes().resource(new NodeBuilder().withNewMetadata().withName(name)
        .withLabels(Map.of("kubernetes.io/os", "linux", "tcptuning.io/profile", profile)).endMetadata().build()).create();
  }

  /** A client as a service account of the release namespace, optionally with the node claim of a bound pod token. */
  private static KubernetesClient as(String username, String node) {
    return API.client(b -> {
      ConfigBuilder c = b.withImpersonateUsername(username).withImpersonateGroups("system:serviceaccounts", "system:serviceaccounts:" + NS, "system:authenticated");
      // The header is Impersonate-Extra-<key> with the key percent-encoded; fabric8 7.5.2 sends the
      // key as given, and the JDK's HTTP client refuses a '/' in a header name, so encode it here.
      return node == null ? c : c.withImpersonateExtras(Map.of(NODE_CLAIM.replace("/", "%2F"), List.of(node)));
    });
  }

  private static TcpTuningNodeStateStatus report(String policy, long generation, NodePhase phase) {
    TimeWait tw = new TimeWait();
    tw.setTotal(100);
    tw.setPortRangeSize(28232);
    tw.setPressure(0.01);
    tw.setMaxDestinationPressure(0.01);
    SysctlState state = phase == NodePhase.Reverted ? SysctlState.Unchanged : SysctlState.Applied;
    return NodeStatusFactory.build(
        new NodeStatusFactory.Identity(policy, generation, Mode.Enforce), phase, "6.8.0", NatVerdict.none(List.of("test")), tw,
        List.of(new SysctlStatus("net.ipv4.tcp_tw_reuse", "2", "1", phase == NodePhase.Reverted ? "2" : "1", state, null, null)),
        null, List.of(), null, Instant.now());
  }

  /** Writes a node state as the agent does, with the agent's own writer, over {@code client}. */
  private static void write(KubernetesClient client, String nodeState, TcpTuningNodeStateStatus status) {
    new NodeStateReporter(() -> client, nodeState).write(status);
  }

  private static void assertRefusedByTheAdmissionPolicy(Runnable write) {
    assertThatThrownBy(write::run)
        .isInstanceOfSatisfying(KubernetesClientException.class, e -> {
          assertThat(e.getCode()).isEqualTo(403);
          assertThat(e.getMessage()).contains("ValidatingAdmissionPolicy '" + VAP + "'").contains(VAP_MESSAGE);
        });
  }

  private static void assertForbiddenByRbac(Runnable call) {
    assertThatThrownBy(call::run)
        .isInstanceOfSatisfying(KubernetesClientException.class, e -> {
          assertThat(e.getCode()).isEqualTo(403);
          assertThat(e.getMessage()).contains("User \"" + AGENT + "\" cannot");
        });
  }

  @Test
  void theAgentWritesItsOwnNodeStateAndIsRefusedAnothers() {
    try (KubernetesClient worker1 = as(AGENT, "worker-1");
        KubernetesClient noClaim = as(AGENT, null)) {
      write(worker1, "worker-1", report("p", 1, NodePhase.Applied));
      write(worker1, "worker-1", report("p", 2, NodePhase.Applied)); // the update path too
      TcpTuningNodeState mine = API.client().resources(TcpTuningNodeState.class).withName("worker-1").get();
      assertThat(mine.getStatus().getPolicyGeneration()).isEqualTo(2L);
      assertThat(mine.getMetadata().getOwnerReferences()).extracting(o -> o.getKind() + "/" + o.getName()).containsExactly("Node/worker-1");

      // Creating another node's state, and overwriting the status of one that exists.
      assertRefusedByTheAdmissionPolicy(() -> write(worker1, "worker-2", report("p", 1, NodePhase.Applied)));
      API.client().resources(TcpTuningNodeState.class).withName("worker-2").withTimeout(10, java.util.concurrent.TimeUnit.SECONDS).delete();
      TcpTuningNodeState other = new TcpTuningNodeState();
      other.setMetadata(new ObjectMetaBuilder().withName("worker-2").build());
      API.client().resources(TcpTuningNodeState.class).resource(other).create();
      assertRefusedByTheAdmissionPolicy(() -> write(worker1, "worker-2", report("p", 1, NodePhase.Applied)));
      assertThat(API.client().resources(TcpTuningNodeState.class).withName("worker-2").get().getStatus()).isNull();

      // An agent identity without the node claim (a token not bound to a pod) writes nothing.
      assertRefusedByTheAdmissionPolicy(() -> write(noClaim, "worker-1", report("p", 3, NodePhase.Applied)));
    } finally {
      API.client().resources(TcpTuningNodeState.class).withName("worker-2").delete();
    }
  }

  @Test
  void aBoundTokenFromTheTokenRequestApiCarriesTheNodeClaim() {
    Pod pod = API.client().pods().inNamespace(NS).resource(new PodBuilder()
        .withNewMetadata().withName("agent-on-worker-3").endMetadata()
        .withNewSpec().withNodeName("worker-3").withServiceAccountName("tcp-tuning-agent")
        .addNewContainer().withName("agent").withImage("tcptune:test").endContainer().endSpec().build()).create();
    TokenRequest request = API.client().serviceAccounts().inNamespace(NS).withName("tcp-tuning-agent").tokenRequest(new TokenRequestBuilder()
        .withNewSpec().withExpirationSeconds(600L)
        .withNewBoundObjectRef().withApiVersion("v1").withKind("Pod").withName(pod.getMetadata().getName()).withUid(pod.getMetadata().getUid()).endBoundObjectRef()
        .endSpec().build());
    Config tokenOnly = new ConfigBuilder(Config.empty())
        .withMasterUrl(API.config().getMasterUrl())
        .withCaCertFile(API.config().getCaCertFile())
        .withOauthToken(request.getStatus().getToken())
        .build();
    try (KubernetesClient agent = new KubernetesClientBuilder().withConfig(tokenOnly).build()) {
      var whoami = agent.authentication().v1().selfSubjectReviews().create(new io.fabric8.kubernetes.api.model.authentication.SelfSubjectReview());
      assertThat(whoami.getStatus().getUserInfo().getUsername()).isEqualTo(AGENT);
      assertThat(whoami.getStatus().getUserInfo().getExtra()).containsEntry(NODE_CLAIM, List.of("worker-3"));

      write(agent, "worker-3", report("p", 1, NodePhase.Applied));
      assertThat(API.client().resources(TcpTuningNodeState.class).withName("worker-3").get().getStatus().getPhase()).isEqualTo(NodePhase.Applied);
      assertRefusedByTheAdmissionPolicy(() -> write(agent, "worker-1", report("p", 9, NodePhase.Failed)));
    } finally {
      API.client().pods().inNamespace(NS).withName("agent-on-worker-3").withGracePeriod(0).delete();
      API.client().resources(TcpTuningNodeState.class).withName("worker-3").delete();
    }
  }

  @Test
  void theAgentReadsNoSecretAndChangesNoDaemonSet() {
    API.client().secrets().inNamespace(NS).resource(new SecretBuilder().withNewMetadata().withName("probe").endMetadata()
        .addToStringData("k", "v").build()).create();
    DaemonSet probe = API.client().apps().daemonSets().inNamespace(NS).resource(new DaemonSetBuilder()
        .withNewMetadata().withName("probe").endMetadata()
        .withNewSpec().withNewSelector().addToMatchLabels("app", "probe").endSelector()
        .withNewTemplate().withNewMetadata().addToLabels("app", "probe").endMetadata()
        .withNewSpec().addNewContainer().withName("c").withImage("x").endContainer().endSpec().endTemplate().endSpec().build()).create();
    try (KubernetesClient agent = as(AGENT, "worker-1")) {
      assertForbiddenByRbac(() -> agent.secrets().inNamespace(NS).withName("probe").get());
      assertForbiddenByRbac(() -> agent.secrets().inNamespace(NS).list());
      assertForbiddenByRbac(() -> agent.secrets().inAnyNamespace().list());
      assertForbiddenByRbac(() -> agent.apps().daemonSets().inNamespace(NS).withName("probe").edit(d -> {
        d.getSpec().getTemplate().getSpec().getContainers().getFirst().setImage("evil");
        return d;
      }));
      assertForbiddenByRbac(() -> agent.apps().daemonSets().inNamespace(NS).withName("probe").delete());
      assertForbiddenByRbac(() -> agent.apps().daemonSets().inNamespace(NS).resource(new DaemonSetBuilder(probe).editMetadata()
          .withName("evil").withResourceVersion(null).withUid(null).endMetadata().build()).create());
      // Nor does it touch policies or other nodes' states beyond what RBAC gives it.
      assertForbiddenByRbac(() -> agent.resources(TcpTuningPolicy.class).withName("anything").delete());
      assertForbiddenByRbac(() -> agent.resources(TcpTuningNodeState.class).list());
    } finally {
      API.client().secrets().inNamespace(NS).withName("probe").delete();
      API.client().apps().daemonSets().inNamespace(NS).withName("probe").delete();
    }
    assertThat(API.kubectl("auth", "can-i", "get", "secrets", "-n", NS, "--as=" + AGENT).stdout().strip()).isEqualTo("no");
    assertThat(API.kubectl("auth", "can-i", "patch", "daemonsets.apps", "-n", NS, "--as=" + AGENT).stdout().strip()).isEqualTo("no");
  }

  /**
   * Pods' network namespaces: the agent lists the pods of its node (field selector
   * spec.nodeName) and reads namespaces' labels, and may do nothing else with either. RBAC cannot
   * restrict a list to a field selector, so the grant lets it list every pod: shown here, and said
   * in README's threat model.
   */
  @Test
  void theAgentReadsPodsAndNamespacesAndWritesNeither() {
    Pod onWorker1 = API.client().pods().inNamespace(NS).resource(new PodBuilder()
        .withNewMetadata().withName("client-on-worker-1").addToLabels("tcptuning.io/tune", "true").endMetadata()
        .withNewSpec().withNodeName("worker-1").addNewContainer().withName("c").withImage("x").endContainer().endSpec().build()).create();
    API.client().pods().inNamespace(NS).resource(new PodBuilder()
        .withNewMetadata().withName("client-on-worker-2").endMetadata()
        .withNewSpec().withNodeName("worker-2").addNewContainer().withName("c").withImage("x").endContainer().endSpec().build()).create();
    try (KubernetesClient agent = as(AGENT, "worker-1")) {
      // What the agent does: its node's pods, in every namespace, and the namespaces' labels.
      var mine = agent.pods().inAnyNamespace().withField("spec.nodeName", "worker-1").list().getItems();
      assertThat(mine).extracting(p -> p.getMetadata().getName()).containsExactly("client-on-worker-1");
      assertThat(mine.getFirst().getMetadata().getUid()).isEqualTo(onWorker1.getMetadata().getUid());
      assertThat(mine.getFirst().getMetadata().getLabels()).containsEntry("tcptuning.io/tune", "true");
      assertThat(agent.namespaces().list().getItems()).extracting(n -> n.getMetadata().getName()).contains(NS, "default");
      // Informers only list and watch: a single read by name is refused.
      assertForbiddenByRbac(() -> agent.pods().inNamespace(NS).withName("client-on-worker-1").get());
      assertForbiddenByRbac(() -> agent.namespaces().withName(NS).get());
      var watch = agent.pods().inAnyNamespace().withField("spec.nodeName", "worker-1").watch(new io.fabric8.kubernetes.client.Watcher<Pod>() {
        @Override
        public void eventReceived(Action action, Pod resource) {}

        @Override
        public void onClose(io.fabric8.kubernetes.client.WatcherException cause) {}
      });
      watch.close();
      // RBAC cannot hold it to its node: the grant is for all pods.
      assertThat(agent.pods().inAnyNamespace().list().getItems()).extracting(p -> p.getMetadata().getName()).contains("client-on-worker-2");

      // Nothing it may write: pods, their subresources, namespaces.
      assertForbiddenByRbac(() -> agent.pods().inNamespace(NS).withName("client-on-worker-2").delete());
      assertForbiddenByRbac(() -> agent.pods().inNamespace(NS).withName("client-on-worker-1").edit(p -> {
        p.getMetadata().getLabels().put("tcptuning.io/tune", "false");
        return p;
      }));
      assertForbiddenByRbac(() -> agent.pods().inNamespace(NS).resource(new PodBuilder().withNewMetadata().withName("evil").endMetadata()
          .withNewSpec().withNodeName("worker-2").addNewContainer().withName("c").withImage("evil").endContainer().endSpec().build()).create());
      assertForbiddenByRbac(() -> agent.pods().inNamespace(NS).withName("client-on-worker-2").getLog());
      assertForbiddenByRbac(() -> agent.namespaces().withName(NS).edit(n -> {
        n.getMetadata().getLabels().put("pod-security.kubernetes.io/enforce", "restricted");
        return n;
      }));
    } finally {
      API.client().pods().inNamespace(NS).withName("client-on-worker-1").withGracePeriod(0).delete();
      API.client().pods().inNamespace(NS).withName("client-on-worker-2").withGracePeriod(0).delete();
    }
    // The whole set of new verbs, as the server's authorizer answers them.
    for (String allowed : List.of("list pods", "watch pods", "list namespaces", "watch namespaces")) {
      assertThat(canI(allowed)).as(allowed).isEqualTo("yes");
    }
    for (String denied : List.of("get pods", "get namespaces", "create pods", "update pods", "patch pods", "delete pods", "deletecollection pods", "get pods/log",
        "create pods/exec", "create pods/eviction", "create pods/portforward", "get pods/proxy", "update pods/status", "patch pods/ephemeralcontainers",
        "create namespaces", "update namespaces", "patch namespaces", "delete namespaces", "update namespaces/finalize",
        "list configmaps", "list serviceaccounts", "create serviceaccounts/token", "list nodes", "list endpoints")) {
      assertThat(canI(denied)).as(denied).isEqualTo("no");
    }
  }

  /** {@code kubectl auth can-i VERB RESOURCE[/SUBRESOURCE] -A} as the agent ("pods/log" is a subresource here, not a pod named log). */
  private static String canI(String verbAndResource) {
    String[] vr = verbAndResource.split(" ");
    String[] rs = vr[1].split("/");
    List<String> args = new java.util.ArrayList<>(List.of("auth", "can-i", vr[0], rs[0], "-A", "--as=" + AGENT));
    if (rs.length > 1) {
      args.add("--subresource=" + rs[1]);
    }
    return API.kubectl(args.toArray(String[]::new)).stdout().strip();
  }

  @Test
  void theOperatorsServiceAccountRunsAPolicyLifecycleWithoutA403() {
    Instant start = Instant.now();
    String policy = "high-churn-clients";
    KubernetesClient operatorClient = as(OPERATOR, null);
    TcpTuningOperator operator =
        TcpTuningOperator.create(operatorClient, OperatorConfig.fromEnv(Map.of(OperatorConfig.NAMESPACE, NS)), new SimpleMeterRegistry(), Clock.systemUTC());
    try (KubernetesClient worker1 = as(AGENT, "worker-1");
        KubernetesClient worker2 = as(AGENT, "worker-2")) {
      operator.start();
      await().atMost(Duration.ofSeconds(30)).until(operator::isLeading);
      assertThat(API.client().leases().inNamespace(NS).withName(TcpTuningOperator.LEASE_NAME).get().getSpec().getHolderIdentity()).isNotBlank();

      API.kubectl("apply", "-f", ProjectPaths.resolve("deploy/examples/high-churn-clients.yaml").toString()).assertSuccess();
      await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
        TcpTuningPolicy p = API.client().resources(TcpTuningPolicy.class).withName(policy).get();
        assertThat(p.getMetadata().getFinalizers()).contains("tcptuning.io/revert");
        assertThat(p.getStatus()).isNotNull();
        assertThat(p.getStatus().getNodes().getSelected()).isEqualTo(2);
        assertThat(generationOfDaemonSet(policy)).isEqualTo("1");
      });

      write(worker1, "worker-1", report(policy, 1, NodePhase.Applied));
      write(worker2, "worker-2", report(policy, 1, NodePhase.Applied));
      awaitReady(policy, 1, "2/2 nodes applied");

      // A spec change rolls through: new generation in the DaemonSet, Ready again once both report it.
      API.kubectl("patch", "ttp", policy, "--type=merge", "-p", "{\"spec\":{\"sysctls\":{\"tcpFinTimeout\":30}}}").assertSuccess();
      await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(generationOfDaemonSet(policy)).isEqualTo("2"));
      write(worker1, "worker-1", report(policy, 2, NodePhase.Applied));
      write(worker2, "worker-2", report(policy, 2, NodePhase.Applied));
      awaitReady(policy, 2, "2/2 nodes applied");

      // Deletion: the finalizer holds the policy until both agents report Reverted.
      API.kubectl("delete", "ttp", policy, "--wait=false").assertSuccess();
      await().atMost(Duration.ofSeconds(30)).ignoreExceptions().untilAsserted(() ->
          assertThat(Conditions.reason(API.client().resources(TcpTuningPolicy.class).withName(policy).get().getStatus().getConditions(), Conditions.READY))
              .contains("Reverting"));
      write(worker1, "worker-1", report(policy, 2, NodePhase.Reverted));
      assertThat(API.client().resources(TcpTuningPolicy.class).withName(policy).get()).as("held while worker-2 has not reverted").isNotNull();
      write(worker2, "worker-2", report(policy, 2, NodePhase.Reverted));
      await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
        assertThat(API.client().resources(TcpTuningPolicy.class).withName(policy).get()).isNull();
        assertThat(API.client().apps().daemonSets().inNamespace(NS).list().getItems()).isEmpty();
      });
    } finally {
      operator.stop();
      operatorClient.close();
    }

    List<Map<String, Object>> mine = API.auditEvents().stream().filter(e -> OPERATOR.equals(RealApiServer.auditUser(e))).toList();
    assertThat(mine).as("audit events of the operator's service account").hasSizeGreaterThan(20);
    // fabric8's LeaseLock renews with PATCH, which the chart's Role did not grant at first.
    assertThat(mine.stream().filter(e -> "leases".equals(RealApiServer.auditObjectRef(e, "resource")) && "patch".equals(e.get("verb")) && Objects.equals(200, RealApiServer.auditCode(e))))
        .as("lease renewals").isNotEmpty();
    assertThat(mine.stream().filter(e -> "events".equals(RealApiServer.auditObjectRef(e, "resource")) && "create".equals(e.get("verb")))).as("Events recorded").isNotEmpty();
    List<String> forbidden = mine.stream().filter(e -> Objects.equals(403, RealApiServer.auditCode(e)))
        .map(e -> e.get("verb") + " " + e.get("requestURI")).distinct().toList();
    assertThat(forbidden).as("requests of the operator refused since " + start).isEmpty();
  }

  private static void awaitReady(String policy, long generation, String message) {
    await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
      var status = API.client().resources(TcpTuningPolicy.class).withName(policy).get().getStatus();
      assertThat(status).isNotNull();
      assertThat(status.getObservedGeneration()).isEqualTo(generation);
      var ready = Conditions.find(status.getConditions(), Conditions.READY).orElseThrow();
      assertThat(ready.getStatus()).isEqualTo("True");
      assertThat(ready.getMessage()).isEqualTo(message);
    });
  }

  private static String generationOfDaemonSet(String policy) {
    return API.client().apps().daemonSets().inNamespace(NS).list().getItems().stream()
        .filter(d -> d.getMetadata().getName().contains(policy))
        .flatMap(d -> d.getSpec().getTemplate().getSpec().getContainers().stream())
        .flatMap(c -> c.getEnv().stream())
        .filter(e -> AgentContract.POLICY_GENERATION.equals(e.getName()))
        .map(e -> e.getValue())
        .findFirst().orElse(null);
  }
}
