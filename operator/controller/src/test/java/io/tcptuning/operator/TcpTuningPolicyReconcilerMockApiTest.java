package io.tcptuning.operator;

import static io.tcptuning.operator.Fixtures.labels;
import static io.tcptuning.operator.Fixtures.newPolicy;
import static io.tcptuning.operator.Fixtures.node;
import static io.tcptuning.operator.Fixtures.report;
import static io.tcptuning.operator.Fixtures.withPressure;
import static io.tcptuning.operator.Fixtures.withRefusal;
import static io.tcptuning.operator.MockApi.NAMESPACE;
import static io.tcptuning.operator.MockApi.createPolicy;
import static io.tcptuning.operator.MockApi.events;
import static io.tcptuning.operator.MockApi.rv;
import static io.tcptuning.operator.PolicyStatusAggregatorTest.condition;
import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.TolerationBuilder;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.DeleteControl;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.tcptuning.api.v1alpha1.NodePhase;
import io.tcptuning.api.v1alpha1.TcpTuningPolicy;
import io.tcptuning.api.v1alpha1.TcpTuningPolicyStatus.NodeCounts;
import io.tcptuning.api.v1alpha1.TcpTuningPolicyStatus.RefusalSummary;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The reconciler against the mock API server, called directly as the Flink operator's tests do:
 * every step is explicit and nothing depends on timing.
 */
@EnableKubernetesMockClient(crud = true)
class TcpTuningPolicyReconcilerMockApiTest {
  /** The reconciler reads the cluster through the view given to it; it does not use the context. */
  private static final Context<TcpTuningPolicy> NO_CONTEXT = null;

  KubernetesMockServer server;
  KubernetesClient client;

  private MockApi.TestClock clock;
  private OperatorConfig config;
  private SimpleMeterRegistry registry;
  private TcpTuningPolicyReconciler reconciler;

  @BeforeEach
  void setUp() {
    MockApi.registerCrds(client);
    clock = new MockApi.TestClock(Instant.now());
    config = Fixtures.config(NAMESPACE);
    reconciler = newReconciler(config);
  }

  private TcpTuningPolicyReconciler newReconciler(OperatorConfig c) {
    registry = new SimpleMeterRegistry();
    return new TcpTuningPolicyReconciler(client, c, clock, new PolicyMetrics(registry), ctx -> new ClientClusterView(client));
  }

  private UpdateControl<TcpTuningPolicy> reconcile(String name) {
    return reconcile(reconciler, name);
  }

  private UpdateControl<TcpTuningPolicy> reconcile(TcpTuningPolicyReconciler r, String name) {
    return r.reconcile(MockApi.policy(client, name), NO_CONTEXT);
  }

  private DeleteControl cleanup(String name) {
    return reconciler.cleanup(MockApi.policy(client, name), NO_CONTEXT);
  }

  private DaemonSet daemonSet(String policy) {
    return client.apps().daemonSets().inNamespace(NAMESPACE).withName("tcp-tuning-agent-" + policy).get();
  }

  /** Policy "web" on nodes w1 and w2, both reporting Applied for its generation, which is returned. */
  private long webAppliedOnTwoNodes() {
    nodes(node("w1"), node("w2"));
    createPolicy(client, newPolicy("web", 0, null), true);
    reconcile("web");
    long gen = MockApi.policy(client, "web").getMetadata().getGeneration();
    MockApi.report(client, report("w1", "web", gen, NodePhase.Applied));
    MockApi.report(client, report("w2", "web", gen, NodePhase.Applied));
    return gen;
  }

  @Test
  void aFailedReconciliationShowsAsDegradedWithTheApisMessageAndKeepsTheCounts() {
    webAppliedOnTwoNodes();
    reconcile("web");
    var before = MockApi.policy(client, "web").getStatus();
    var failure = new io.fabric8.kubernetes.client.KubernetesClientException(
        "Failure executing: PATCH at: https://10.0.0.1/apis/apps/v1/daemonsets. Message: Forbidden.",
        new java.net.SocketTimeoutException("timed out after 10000 ms"));

    var control = reconciler.updateErrorStatus(MockApi.policy(client, "web"), NO_CONTEXT, failure);

    assertThat(control.isNoRetry()).as("JOSDK keeps retrying").isFalse();
    var after = MockApi.policy(client, "web").getStatus();
    var degraded = PolicyStatusAggregatorTest.condition(after, "Degraded");
    assertThat(degraded.getStatus()).isEqualTo("True");
    assertThat(degraded.getReason()).isEqualTo("ReconcileFailed");
    assertThat(degraded.getMessage()).isEqualTo("the operator cannot reconcile this policy and retries: timed out after 10000 ms")
        .doesNotContain("Exception");
    assertThat(after.getNodes()).isEqualTo(before.getNodes());
    assertThat(PolicyStatusAggregatorTest.condition(after, "Ready")).isEqualTo(PolicyStatusAggregatorTest.condition(before, "Ready"));
  }

  private void nodes(Node... nodes) {
    for (Node n : nodes) {
      client.resource(n).create();
    }
  }

  @Test
  void createdPolicyGetsAnOwnedPrivilegedReadOnlyDaemonSet() {
    TcpTuningPolicy created = createPolicy(client, newPolicy("web", 0, labels("role", "web")), true);
    reconcile("web");

    DaemonSet ds = daemonSet("web");
    assertThat(ds).isNotNull();
    assertThat(ds.getMetadata().getOwnerReferences()).singleElement().satisfies(o -> {
      assertThat(o.getUid()).isEqualTo(created.getMetadata().getUid()).isNotBlank();
      assertThat(o.getKind()).isEqualTo("TcpTuningPolicy");
    });
    var pod = ds.getSpec().getTemplate().getSpec();
    var c = pod.getContainers().getFirst();
    assertThat(c.getSecurityContext().getPrivileged()).isTrue();
    assertThat(c.getSecurityContext().getReadOnlyRootFilesystem()).isTrue();
    assertThat(pod.getHostNetwork()).isTrue();
    assertThat(pod.getPriorityClassName()).isEqualTo("system-node-critical");
    assertThat(c.getEnv()).anySatisfy(e -> {
      assertThat(e.getName()).isEqualTo("NODE_NAME");
      assertThat(e.getValueFrom().getFieldRef().getFieldPath()).isEqualTo("spec.nodeName");
    });
    assertThat(pod.getVolumes()).anySatisfy(v -> assertThat(v.getHostPath().getPath()).isEqualTo("/var/lib/tcp-tuning"));
    assertThat(c.getResources().getRequests().get("cpu").toString()).isEqualTo("20m");
    assertThat(c.getResources().getLimits().get("memory").toString()).isEqualTo("192Mi");
    assertThat(c.getReadinessProbe().getHttpGet().getPath()).isEqualTo("/readyz");
    assertThat(c.getLivenessProbe().getHttpGet().getPath()).isEqualTo("/healthz");
    assertThat(ds.getSpec().getUpdateStrategy().getRollingUpdate().getMaxUnavailable()).isEqualTo(new IntOrString("10%"));
    assertThat(pod.getTolerations()).containsExactly(new TolerationBuilder().withOperator("Exists").build());

    // The first status: no node yet.
    var status = MockApi.policy(client, "web").getStatus();
    assertThat(status.getObservedGeneration()).isEqualTo(created.getMetadata().getGeneration());
    assertThat(condition(status, "Ready").getReason()).isEqualTo("NoNodesSelected");
  }

  @Test
  void specChangeRollsThePodTemplateAndAnUnchangedSpecRewritesNothing() {
    createPolicy(client, newPolicy("web", 0, null), true);
    reconcile("web");
    DaemonSet first = daemonSet("web");
    String policyRv = rv(MockApi.policy(client, "web"));

    reconcile("web");
    reconcile(newReconciler(config), "web"); // also a fresh instance, as after a restart
    assertThat(rv(daemonSet("web"))).isEqualTo(rv(first));
    assertThat(rv(MockApi.policy(client, "web"))).isEqualTo(policyRv);

    client.resources(TcpTuningPolicy.class).withName("web").edit(p -> {
      p.getSpec().getSysctls().setTcpFinTimeout(30);
      return p;
    });
    TcpTuningPolicy changed = MockApi.policy(client, "web");
    assertThat(changed.getMetadata().getGeneration()).isEqualTo(2L);
    reconcile("web");

    DaemonSet second = daemonSet("web");
    assertThat(rv(second)).isNotEqualTo(rv(first));
    String hashBefore = first.getSpec().getTemplate().getMetadata().getAnnotations().get(AgentDaemonSetFactory.CONFIG_HASH);
    String hashAfter = second.getSpec().getTemplate().getMetadata().getAnnotations().get(AgentDaemonSetFactory.CONFIG_HASH);
    assertThat(hashAfter).isNotEqualTo(hashBefore);
    assertThat(env(second, "TCPTUNE_POLICY_GENERATION")).isEqualTo("2");
    assertThat(env(second, "TCPTUNE_POLICY_SPEC")).contains("\"tcpFinTimeout\":30");
    assertThat(env(first, "TCPTUNE_POLICY_SPEC")).doesNotContain("tcpFinTimeout");
    assertThat(MockApi.policy(client, "web").getStatus().getObservedGeneration()).isEqualTo(2L);
  }

  @Test
  void nodeReportsRollUpIntoCountsPressureRefusalsAndConditions() {
    nodes(node("w1", "role", "web"), node("w2", "role", "web"), node("w3", "role", "web"), node("w4", "role", "web"), node("w5", "role", "web"), node("db1", "role", "db"));
    createPolicy(client, newPolicy("web", 0, labels("role", "web")), true);
    long gen = MockApi.policy(client, "web").getMetadata().getGeneration();
    MockApi.report(client, withPressure(report("w1", "web", gen, NodePhase.Applied), 0.21));
    MockApi.report(client, withPressure(report("w2", "web", gen, NodePhase.Applied), 0.87));
    MockApi.report(client, withRefusal(report("w3", "web", gen, NodePhase.Applied), "net.ipv4.tcp_tw_recycle", "KernelRemovedSysctl"));
    MockApi.report(client, report("w4", "web", gen, NodePhase.Failed));
    MockApi.report(client, withPressure(report("db1", "db", 1, NodePhase.Applied), 0.99));
    reconcile("web");

    var s = MockApi.policy(client, "web").getStatus();
    assertThat(s.getNodes()).isEqualTo(new NodeCounts(5, 3, 1, 1, 0, 1));
    assertThat(s.getMaxPressure()).isEqualTo(0.87);
    assertThat(s.getMaxPressureNode()).isEqualTo("w2");
    assertThat(s.getRefusals()).containsExactly(new RefusalSummary("net.ipv4.tcp_tw_recycle", "KernelRemovedSysctl", 1, List.of("w3")));
    assertThat(condition(s, "Ready").getStatus()).isEqualTo("False");
    assertThat(condition(s, "Ready").getReason()).isEqualTo("NodesFailing");
    assertThat(condition(s, "Ready").getMessage()).isEqualTo("3/5 nodes applied, 1 failed");
    assertThat(condition(s, "Progressing").getStatus()).isEqualTo("True");
    assertThat(condition(s, "Degraded").getStatus()).isEqualTo("True");
    assertThat(condition(s, "Degraded").getReason()).isEqualTo("SysctlWriteFailed");
    // News told once, as Events: the failure and the refusal.
    assertThat(events(client, "SysctlWriteFailed")).hasSize(1);
    assertThat(events(client, "KernelRemovedSysctl")).singleElement().satisfies(e -> {
      assertThat(e.getType()).isEqualTo("Warning");
      assertThat(e.getInvolvedObject().getName()).isEqualTo("web");
      assertThat(e.getMessage()).contains("net.ipv4.tcp_tw_recycle refused on 1 nodes (w3)");
    });
    assertThat(registry.get("tcptuning.policy.nodes").tags("policy", "web", "state", "failed").gauge().value()).isEqualTo(1.0);

    // Everything applies: Ready, not Progressing, not Degraded; no new Events.
    for (String n : List.of("w1", "w2", "w3", "w4", "w5")) {
      MockApi.report(client, report(n, "web", gen, NodePhase.Applied));
    }
    reconcile("web");
    var ready = MockApi.policy(client, "web").getStatus();
    assertThat(ready.getNodes()).isEqualTo(new NodeCounts(5, 5, 0, 0, 0, 0));
    assertThat(condition(ready, "Ready").getStatus()).isEqualTo("True");
    assertThat(condition(ready, "Ready").getMessage()).isEqualTo("5/5 nodes applied");
    assertThat(condition(ready, "Progressing").getStatus()).isEqualTo("False");
    assertThat(condition(ready, "Degraded").getStatus()).isEqualTo("False");
    assertThat(events(client, "SysctlWriteFailed")).hasSize(1);
  }

  @Test
  void podReportsRollUpIntoPodCountsTheWorstPodAndPodRefusals() {
    nodes(node("w1"), node("w2"), node("w3"));
    TcpTuningPolicy clients = newPolicy("clients", 0, null);
    clients.getSpec().setPodSelector(labels("tcptuning.io/tune", "true"));
    createPolicy(client, clients, true);
    reconcile("clients");
    // The agents get the selector in their spec.
    assertThat(env(daemonSet("clients"), "TCPTUNE_POLICY_SPEC")).contains("\"podSelector\":{\"matchLabels\":{\"tcptuning.io/tune\":\"true\"}}");

    long gen = MockApi.policy(client, "clients").getMetadata().getGeneration();
    MockApi.report(client, Fixtures.withWorstPod(Fixtures.withPods(report("w1", "clients", gen, NodePhase.Applied), 5, 5, 0, 0), "shop/client-a", 0.31));
    MockApi.report(client, Fixtures.withPodRefusal(Fixtures.withPodRefusal(
        Fixtures.withWorstPod(Fixtures.withPods(report("w2", "clients", gen, NodePhase.Applied), 5, 3, 2, 0), "shop/client-b", 0.8249),
        "shop/client-b", "net.ipv4.ip_local_port_range", "PodDeclaresSysctl"), "shop/client-c", "net.ipv4.ip_local_port_range", "PodDeclaresSysctl"));
    MockApi.report(client, Fixtures.withPods(report("w3", "clients", gen, NodePhase.Applied), 4, 4, 0, 0));
    reconcile("clients");

    var s = MockApi.policy(client, "clients").getStatus();
    assertThat(s.getPods()).isEqualTo(new io.tcptuning.api.v1alpha1.PodCounts(14, 12, 2, 0));
    assertThat(s.getWorstPod().getPod()).isEqualTo("shop/client-b");
    assertThat(s.getWorstPod().getNode()).isEqualTo("w2");
    assertThat(s.getWorstPod().getMaxDestinationPressure()).isEqualTo(0.82);
    assertThat(s.getRefusals()).containsExactly(
        RefusalSummary.ofPods("net.ipv4.ip_local_port_range", "PodDeclaresSysctl", 1, List.of("w2"), 2, List.of("shop/client-b", "shop/client-c")));
    assertThat(condition(s, "Ready").getMessage()).isEqualTo("3/3 nodes applied; 12/14 selected pods tuned, 2 refused");
    assertThat(condition(s, "Degraded").getStatus()).isEqualTo("False");
    // Told once, as a Normal Event: the pods' owners chose these values.
    assertThat(events(client, "PodDeclaresSysctl")).singleElement().satisfies(e -> {
      assertThat(e.getType()).isEqualTo("Normal");
      assertThat(e.getMessage()).isEqualTo(
          "net.ipv4.ip_local_port_range not written in 2 selected pods (shop/client-b, shop/client-c) on 1 nodes (w2): PodDeclaresSysctl");
    });
    reconcile("clients");
    assertThat(events(client, "PodDeclaresSysctl")).hasSize(1);

    // The status as stored round-trips the pod figures (what kubectl's printer columns read).
    var stored = client.genericKubernetesResources("tcptuning.io/v1alpha1", "TcpTuningPolicy").withName("clients").get();
    @SuppressWarnings("unchecked")
    Map<String, Object> status = (Map<String, Object>) stored.getAdditionalProperties().get("status");
    assertThat(status).containsKeys("pods", "worstPod");
    assertThat((Map<String, Object>) status.get("worstPod")).containsEntry("node", "w2").containsEntry("pod", "shop/client-b");
  }

  @Test
  void overlappingPoliciesTheLowerCountsSupersededAndItsAgentsStayAway() {
    Node[] all = {node("w1", "role", "web"), node("w2", "role", "web"), node("d1", "role", "db"), node("d2")};
    nodes(all);
    createPolicy(client, newPolicy("everything", 0, null), true);
    createPolicy(client, newPolicy("web-first", 10, labels("role", "web")), true);
    reconcile("everything");
    reconcile("web-first");

    var low = MockApi.policy(client, "everything").getStatus();
    assertThat(low.getNodes().getSelected()).isEqualTo(4);
    assertThat(low.getNodes().getSuperseded()).isEqualTo(2);
    assertThat(low.getNodes().getPending()).isEqualTo(2);
    var high = MockApi.policy(client, "web-first").getStatus();
    assertThat(high.getNodes().getSuperseded()).isZero();
    assertThat(high.getNodes().getPending()).isEqualTo(2);

    var lowAffinity = daemonSet("everything").getSpec().getTemplate().getSpec().getAffinity().getNodeAffinity();
    var highAffinity = daemonSet("web-first").getSpec().getTemplate().getSpec().getAffinity().getNodeAffinity();
    Set<String> lowNodes = new HashSet<>();
    Set<String> highNodes = new HashSet<>();
    for (Node n : all) {
      if (AgentDaemonSetFactoryTest.matchesAny(lowAffinity, n)) {
        lowNodes.add(n.getMetadata().getName());
      }
      if (AgentDaemonSetFactoryTest.matchesAny(highAffinity, n)) {
        highNodes.add(n.getMetadata().getName());
      }
    }
    assertThat(lowNodes).containsExactlyInAnyOrder("d1", "d2");
    assertThat(highNodes).containsExactlyInAnyOrder("w1", "w2");

    // The higher policy goes away (being deleted): the lower one's agents take the web nodes over.
    client.resources(TcpTuningPolicy.class).withName("web-first").delete();
    reconcile("everything");
    var taken = daemonSet("everything").getSpec().getTemplate().getSpec().getAffinity().getNodeAffinity();
    for (Node n : all) {
      assertThat(AgentDaemonSetFactoryTest.matchesAny(taken, n)).isTrue();
    }
    assertThat(MockApi.policy(client, "everything").getStatus().getNodes().getSuperseded()).isZero();
  }

  @Test
  void invalidSpecIsReportedAndTheDaemonSetIsLeftExactlyAsItWas() {
    createPolicy(client, newPolicy("web", 0, null), true);
    reconcile("web");
    DaemonSet before = daemonSet("web");

    // The mock does not enforce the CRD schema, like an old CRD or a hand-edited object would not.
    client.resources(TcpTuningPolicy.class).withName("web").edit(p -> {
      p.getSpec().getSysctls().setTcpFinTimeout(3);
      return p;
    });
    reconcile("web");
    reconcile("web");

    var s = MockApi.policy(client, "web").getStatus();
    assertThat(s.getObservedGeneration()).isEqualTo(2L);
    assertThat(condition(s, "Ready")).satisfies(c -> {
      assertThat(c.getStatus()).isEqualTo("False");
      assertThat(c.getReason()).isEqualTo("InvalidSpec");
      assertThat(c.getMessage()).contains("spec.sysctls.tcpFinTimeout").contains("5..120");
    });
    DaemonSet after = daemonSet("web");
    assertThat(rv(after)).isEqualTo(rv(before));
    assertThat(after.getSpec()).isEqualTo(before.getSpec());
    assertThat(events(client, "InvalidSpec")).singleElement().satisfies(e -> {
      assertThat(e.getType()).isEqualTo("Warning");
      assertThat(e.getMessage()).contains("spec.sysctls.tcpFinTimeout");
    });
  }

  @Test
  void deletionKeepsTheFinalizerUntilEveryTunedNodeReportsReverted() {
    nodes(node("w1"), node("w2"), node("w3"));
    createPolicy(client, newPolicy("web", 0, null), true);
    reconcile("web");
    long gen = MockApi.policy(client, "web").getMetadata().getGeneration();
    MockApi.report(client, report("w1", "web", gen, NodePhase.Applied));
    MockApi.report(client, report("w2", "web", gen, NodePhase.Applied));
    // w3 never reported: nothing to wait for there.

    client.resources(TcpTuningPolicy.class).withName("web").delete();
    assertThat(MockApi.policy(client, "web").getMetadata().getDeletionTimestamp()).isNotNull();

    DeleteControl first = cleanup("web");
    assertThat(first.isRemoveFinalizer()).isFalse();
    assertThat(first.getScheduleDelay()).isPresent();
    var s = MockApi.policy(client, "web").getStatus();
    assertThat(condition(s, "Ready").getReason()).isEqualTo("Reverting");
    assertThat(condition(s, "Ready").getMessage()).isEqualTo("0/2 nodes reverted");
    assertThat(events(client, "RevertStarted")).hasSize(1);
    assertThat(daemonSet("web")).as("the agents must stay to revert").isNotNull();

    MockApi.report(client, report("w1", "web", gen, NodePhase.Reverted));
    assertThat(cleanup("web").isRemoveFinalizer()).isFalse();
    assertThat(condition(MockApi.policy(client, "web").getStatus(), "Ready").getMessage()).isEqualTo("1/2 nodes reverted");

    MockApi.report(client, report("w2", "web", gen, NodePhase.Reverted));
    assertThat(cleanup("web").isRemoveFinalizer()).isTrue();
    assertThat(daemonSet("web")).isNull();
    assertThat(events(client, "RevertFinished")).singleElement().satisfies(e -> assertThat(e.getMessage()).isEqualTo("all 2 nodes reverted"));
    assertThat(events(client, "RevertStarted")).hasSize(1);
  }

  @Test
  void deletionGivesUpAfterTheRevertTimeout() {
    nodes(node("w1"));
    createPolicy(client, newPolicy("web", 0, null), true);
    reconcile("web");
    long gen = MockApi.policy(client, "web").getMetadata().getGeneration();
    MockApi.report(client, report("w1", "web", gen, NodePhase.Applied));
    client.resources(TcpTuningPolicy.class).withName("web").delete();
    // The mock stamps deletion with the wall clock; the test clock starts from it.
    clock = new MockApi.TestClock(Instant.parse(MockApi.policy(client, "web").getMetadata().getDeletionTimestamp()));
    reconciler = newReconciler(config.withRevertTimeout(Duration.ofSeconds(30)));

    DeleteControl waiting = cleanup("web");
    assertThat(waiting.isRemoveFinalizer()).isFalse();
    clock.advance(Duration.ofSeconds(29));
    assertThat(cleanup("web").isRemoveFinalizer()).isFalse();
    assertThat(events(client, "RevertTimedOut")).isEmpty();

    clock.advance(Duration.ofSeconds(2));
    assertThat(cleanup("web").isRemoveFinalizer()).isTrue();
    assertThat(events(client, "RevertTimedOut")).singleElement().satisfies(e -> {
      assertThat(e.getType()).isEqualTo("Warning");
      assertThat(e.getMessage()).contains("0/1 nodes reverted").contains("w1");
    });
    assertThat(condition(MockApi.policy(client, "web").getStatus(), "Ready").getReason()).isEqualTo("RevertTimedOut");
    assertThat(daemonSet("web")).isNull();
  }

  @Test
  void aRestartedOperatorRewritesNothing() {
    nodes(node("w1"), node("w2"));
    createPolicy(client, newPolicy("web", 0, null), true);
    reconcile("web");
    long gen = MockApi.policy(client, "web").getMetadata().getGeneration();
    MockApi.report(client, withPressure(report("w1", "web", gen, NodePhase.Applied), 0.4));
    MockApi.report(client, report("w2", "web", gen, NodePhase.Applied));
    reconcile("web");
    TcpTuningPolicy converged = MockApi.policy(client, "web");
    assertThat(condition(converged.getStatus(), "Ready").getStatus()).isEqualTo("True");
    String dsRv = rv(daemonSet("web"));

    clock.advance(Duration.ofMinutes(10));
    TcpTuningPolicyReconciler restarted = newReconciler(config);
    for (int i = 0; i < 3; i++) {
      assertThat(reconcile(restarted, "web").getScheduleDelay()).isEmpty();
    }
    TcpTuningPolicy after = MockApi.policy(client, "web");
    assertThat(rv(after)).isEqualTo(rv(converged));
    assertThat(after.getStatus()).isEqualTo(converged.getStatus());
    assertThat(condition(after.getStatus(), "Ready").getLastTransitionTime()).isEqualTo(condition(converged.getStatus(), "Ready").getLastTransitionTime());
    assertThat(restarted.statusWrites()).isZero();
    assertThat(client.apps().daemonSets().inNamespace(NAMESPACE).list().getItems()).hasSize(1);
    assertThat(rv(daemonSet("web"))).isEqualTo(dsRv);
  }

  @Test
  void anOperatorRestartedMidRolloutKeepsOneDaemonSetAndConverges() {
    long gen1 = webAppliedOnTwoNodes();
    reconcile("web");

    // A spec change starts a rollout; one node has the new generation, then the operator restarts.
    client.resources(TcpTuningPolicy.class).withName("web").edit(p -> {
      p.getSpec().getSysctls().setTcpFinTimeout(30);
      return p;
    });
    reconcile("web");
    long gen2 = MockApi.policy(client, "web").getMetadata().getGeneration();
    assertThat(gen2).isGreaterThan(gen1);
    MockApi.report(client, report("w1", "web", gen2, NodePhase.Applied));
    String rolledRv = rv(daemonSet("web"));

    clock.advance(Duration.ofSeconds(5));
    TcpTuningPolicyReconciler restarted = newReconciler(config);
    reconcile(restarted, "web");
    assertThat(client.apps().daemonSets().inNamespace(NAMESPACE).list().getItems()).hasSize(1);
    assertThat(rv(daemonSet("web"))).as("the restarted operator does not rewrite the rolled DaemonSet").isEqualTo(rolledRv);
    var midway = MockApi.policy(client, "web").getStatus();
    assertThat(midway.getNodes().getPending()).isEqualTo(1);
    assertThat(condition(midway, "Progressing").getStatus()).isEqualTo("True");

    MockApi.report(client, report("w2", "web", gen2, NodePhase.Applied));
    clock.advance(Duration.ofSeconds(5));
    reconcile(restarted, "web");
    var done = MockApi.policy(client, "web").getStatus();
    assertThat(done.getObservedGeneration()).isEqualTo(gen2);
    assertThat(done.getNodes().getApplied()).isEqualTo(2);
    assertThat(condition(done, "Ready").getStatus()).isEqualTo("True");
    assertThat(client.apps().daemonSets().inNamespace(NAMESPACE).list().getItems()).hasSize(1);
  }

  @Test
  void anOperatorRestartedMidDeletionKeepsTheFinalizerUntilTheNodesReverted() {
    long gen = webAppliedOnTwoNodes();
    client.resources(TcpTuningPolicy.class).withName("web").delete();
    assertThat(cleanup("web").isRemoveFinalizer()).isFalse();
    MockApi.report(client, report("w1", "web", gen, NodePhase.Reverted));

    TcpTuningPolicyReconciler restarted = newReconciler(config);
    DeleteControl afterRestart = restarted.cleanup(MockApi.policy(client, "web"), NO_CONTEXT);
    assertThat(afterRestart.isRemoveFinalizer()).as("the finalizer is not lost with the operator").isFalse();
    assertThat(MockApi.policy(client, "web").getMetadata().getFinalizers()).contains("tcptuning.io/revert");
    assertThat(condition(MockApi.policy(client, "web").getStatus(), "Ready").getMessage()).isEqualTo("1/2 nodes reverted");
    assertThat(client.apps().daemonSets().inNamespace(NAMESPACE).list().getItems()).hasSize(1);

    MockApi.report(client, report("w2", "web", gen, NodePhase.Reverted));
    assertThat(restarted.cleanup(MockApi.policy(client, "web"), NO_CONTEXT).isRemoveFinalizer()).isTrue();
    assertThat(daemonSet("web")).isNull();
    assertThat(events(client, "RevertStarted")).as("told once, across the restart").hasSize(1);
  }

  @Test
  void aBurstOfNodeReportsCostsOneStatusWritePerDebounceWindow() {
    List<String> names = List.of("n0", "n1", "n2", "n3", "n4", "n5", "n6", "n7", "n8", "n9");
    for (String n : names) {
      nodes(node(n));
    }
    reconciler = newReconciler(config.withStatusDebounce(Duration.ofSeconds(2)));
    createPolicy(client, newPolicy("web", 0, null), true);
    reconcile("web"); // first status: written at once
    assertThat(reconciler.statusWrites()).isEqualTo(1);
    long gen = MockApi.policy(client, "web").getMetadata().getGeneration();

    Set<String> policyVersions = new HashSet<>();
    policyVersions.add(rv(MockApi.policy(client, "web")));
    int reports = 0;
    for (int round = 0; round < 5; round++) {
      for (String n : names) {
        MockApi.report(client, withPressure(report(n, "web", gen, NodePhase.Applied), 0.05 * (round + 1)));
        reports++;
        UpdateControl<TcpTuningPolicy> c = reconcile("web");
        // Inside the window: nothing written, come back when it ends.
        assertThat(c.getScheduleDelay()).hasValueSatisfying(d -> assertThat(d).isBetween(1L, 2001L));
        policyVersions.add(rv(MockApi.policy(client, "web")));
      }
      clock.advance(Duration.ofMillis(300));
    }
    assertThat(reports).isEqualTo(50);
    assertThat(reconciler.statusWrites()).isEqualTo(1);
    assertThat(policyVersions).hasSize(1);

    clock.advance(Duration.ofSeconds(1)); // the window (2s) is over
    assertThat(reconcile("web").getScheduleDelay()).isEmpty();
    assertThat(reconciler.statusWrites()).isEqualTo(2);
    var s = MockApi.policy(client, "web").getStatus();
    assertThat(s.getNodes().getApplied()).isEqualTo(10);
    assertThat(s.getMaxPressure()).isEqualTo(0.25);
    // Nothing changed since: no further write, however often it runs.
    clock.advance(Duration.ofSeconds(5));
    reconcile("web");
    assertThat(reconciler.statusWrites()).isEqualTo(2);
    assertThat(registry.get("tcptuning.policy.status.writes").tags("policy", "web").counter().count()).isEqualTo(2.0);
  }

  private static String env(DaemonSet ds, String name) {
    Map<String, String> env = new java.util.HashMap<>();
    ds.getSpec().getTemplate().getSpec().getContainers().getFirst().getEnv().forEach(e -> env.put(e.getName(), e.getValue()));
    return env.get(name);
  }
}
