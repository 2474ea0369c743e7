package io.tcptuning.apiserver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.tcptuning.api.v1alpha1.Conditions;
import io.tcptuning.api.v1alpha1.NodePhase;
import io.tcptuning.api.v1alpha1.PodCounts;
import io.tcptuning.api.v1alpha1.PodPressure;
import io.tcptuning.api.v1alpha1.PodRefusal;
import io.tcptuning.api.v1alpha1.TcpTuningNodeStateStatus;
import io.tcptuning.api.v1alpha1.TcpTuningPolicySpec;
import io.tcptuning.config.AgentContract;
import io.tcptuning.domain.Sysctl;
import io.tcptuning.policy.PolicyReader;
import io.tcptuning.testing.TestPod;

import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import java.net.URI;
import java.net.URLDecoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Pod tuning end to end on a real API server: the real operator turns a policy with a podSelector
 * and a namespaceSelector into a DaemonSet, and the real agent, started from it with the agent
 * service account's bound token (so the server's RBAC decides what it may list and watch), finds
 * the pods of its node through a pod informer with the field selector {@code spec.nodeName} and
 * tunes the selected pods' network namespaces. See {@link TuningLoop} for the processes.
 *
 * <p>There is no kubelet: the Pods stay Pending, which is all the agent needs (it keys on UID).
 * Each Pod the server created gets a {@link TestPod}: a named network namespace with a process in
 * a real pod cgroup carrying that Pod's UID, as the server returned it. One Pod with the selected
 * labels is bound to another node, and its stand-in runs on this machine all the same, with more
 * TIME_WAIT than any other: the agent sees its namespace and its UID, and only the pod list (in
 * which the server, by the field selector, never gives the agent that pod) keeps it from being
 * measured as a pod, reported or tuned. NodePods checks spec.nodeName again on what it receives,
 * so the server's audit log is what shows that the field selector itself did the work: every pod
 * request of the agent carried {@code spec.nodeName=<its node>}.
 */
@Timeout(180)
class PodTuningLoopApiServerTest {

  @RegisterExtension static final RealApiServer API = RealApiServer.restartable();

  private static final String POLICY = "client-pods";
  private static final String NODE = "pod-node";
  private static final String OTHER_NODE = "other-node";
  private static final String AGENT_USER = "system:serviceaccount:" + TuningLoop.NS + ":tcp-tuning-agent";
  private static final Map<String, String> TUNE = Map.of("tcptuning.io/tune", "true");
  private static final Duration CONVERGE = Duration.ofSeconds(45);
  private static final String POLICY_YAML = """
      apiVersion: tcptuning.io/v1alpha1
      kind: TcpTuningPolicy
      metadata:
        name: client-pods
      spec:
        nodeSelector:
          matchLabels:
            tcptuning.io/profile: pods
        podSelector:
          matchLabels:
            tcptuning.io/tune: "true"
        namespaceSelector:
          matchLabels:
            tier: frontend
        mode: Enforce
        sysctls:
          tcpTwReuse: 1
          tcpTimestamps: 1
          ipLocalPortRange: "10240 65535"
      """;

  private static TuningLoop loop;
  private static TuningLoop.Node node;
  private static final List<TestPod> testPods = new ArrayList<>();

  @BeforeAll
  static void install() throws Exception {
    assumeTrue(TestPod.canCreate(), "needs root and a writable cgroup v2 hierarchy at " + TestPod.CGROUP_ROOT);
    loop = new TuningLoop(API, Map.of(AgentContract.CENSUS_INTERVAL, "2s"));
    loop.install();
    node = loop.addNode(NODE, Map.of("tcptuning.io/profile", "pods"), Map.of("net.ipv4.tcp_tw_reuse", "0"));
    // The other node is not the policy's: no agent runs for it, and none is needed for what is shown.
    API.client().nodes().resource(new NodeBuilder().withNewMetadata().withName(OTHER_NODE)
        .withLabels(Map.of("kubernetes.io/os", "linux", "tcptuning.io/profile", "elsewhere")).endMetadata().build()).create();
    for (var ns : Map.of("shop", "frontend", "batch", "backend").entrySet()) {
      API.client().namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(ns.getKey()).withLabels(Map.of("tier", ns.getValue()))
          .endMetadata().build()).create();
    }
    loop.startOperator();
  }

  /** Stops the processes, then removes every stand-in, each on its own, whatever failed before; then checks that nothing is left. */
  @AfterAll
  static void cleanUp() throws Exception {
    List<String> leftovers = new ArrayList<>();
    AssertionError failed = new AssertionError("cleanup failed");
    if (loop != null) {
      try {
        loop.close();
      } catch (RuntimeException | AssertionError e) {
        failed.addSuppressed(e);
      }
      if (node != null && Files.exists(node.ns.path())) {
        leftovers.add("netns of " + NODE);
      }
    }
    for (TestPod p : testPods) {
      try {
        p.close();
      } catch (Exception e) {
        failed.addSuppressed(e);
      }
      if (Files.exists(p.scope()) || Files.exists(p.scope().getParent())) {
        leftovers.add("cgroup of " + p);
      }
      if (Files.exists(p.namespace().path())) {
        leftovers.add("netns of " + p);
      }
    }
    assertThat(leftovers).as("left behind").isEmpty();
    if (failed.getSuppressed().length > 0) {
      throw failed;
    }
  }

  /** A Pod in the API (Pending forever: no kubelet) and its stand-in on this machine, with the server's UID. */
  private static TestPod pod(String namespace, String name, String nodeName, Map<String, String> labels, String declaredRange) throws Exception {
    PodBuilder b = new PodBuilder().withNewMetadata().withName(name).withNamespace(namespace).withLabels(labels).endMetadata()
        .withNewSpec().withNodeName(nodeName).addNewContainer().withName("app").withImage("example.org/app:1").endContainer().endSpec();
    if (declaredRange != null) {
      b.editSpec().withNewSecurityContext().addNewSysctl("net.ipv4.ip_local_port_range", declaredRange).endSecurityContext().endSpec();
    }
    Pod created = API.client().pods().inNamespace(namespace).resource(b.build()).create();
    TestPod p = TestPod.start("pl-" + name, created.getMetadata().getUid());
    testPods.add(p);
    p.namespace().setSysctl("net.ipv4.tcp_tw_reuse", "0"); // an original that differs from the kernel's default
    return p;
  }

  private static TcpTuningNodeStateStatus nodeStatus() {
    var s = loop.nodeState(NODE);
    return s == null ? null : s.getStatus();
  }

  @Test
  void theAgentFindsItsNodesPodsThroughTheFieldSelectorTunesTheSelectedOnesAndGivesThemBack() throws Exception {
    long t0 = System.nanoTime();
    Map<Sysctl, String> nodeBefore = node.sysctls();
    TestPod client = pod("shop", "client-1", NODE, TUNE, null);
    TestPod server = pod("shop", "server-1", NODE, Map.of("app", "server"), null);
    TestPod ownRange = pod("shop", "client-own-range", NODE, TUNE, "20000 30001");
    ownRange.namespace().setSysctl("net.ipv4.ip_local_port_range", "20000 30001");
    TestPod batch = pod("batch", "client-b", NODE, TUNE, null);
    TestPod elsewhere = pod("shop", "client-elsewhere", OTHER_NODE, TUNE, null);
    Map<String, Map<Sysctl, String>> before = new LinkedHashMap<>();
    for (TestPod p : testPods) {
      before.put(p.uid(), p.namespace().sysctls());
    }

    // 1. The policy, as a user applies it; the operator carries both selectors into the agents' spec.
    API.kubectlWithInput(POLICY_YAML, "apply", "-f", "-").assertSuccess();
    await().atMost(CONVERGE).untilAsserted(() -> assertThat(loop.daemonSet(POLICY)).isNotNull());
    String specJson = WholeLoopApiServerTest.env(loop.daemonSet(POLICY), AgentContract.POLICY_SPEC);
    TcpTuningPolicySpec agentSpec = new PolicyReader().parseSpec(specJson, AgentContract.POLICY_SPEC);
    assertThat(agentSpec.getPodSelector().getMatchLabels()).as(specJson).isEqualTo(TUNE);
    assertThat(agentSpec.getNamespaceSelector().getMatchLabels()).as(specJson).isEqualTo(Map.of("tier", "frontend"));

    loop.startAgent(node, POLICY);

    // 2. Selected (pod label and namespace label): tuned. Declaring its port range: the rest tuned,
    // that one left to the pod. Not selected by label, by namespace, or on another node: untouched.
    await().atMost(CONVERGE).pollInterval(Duration.ofMillis(250)).untilAsserted(() -> {
      TcpTuningNodeStateStatus s = nodeStatus();
      assertThat(s).isNotNull();
      assertThat(s.getPhase()).isEqualTo(NodePhase.Applied);
      assertThat(s.getPods()).as("pods of " + NODE).isEqualTo(new PodCounts(2, 2, 1, 0));
    });
    long tunedAt = System.nanoTime();
    assertThat(nodeStatus().getPodRefusals()).extracting(PodRefusal::getPod, PodRefusal::getSysctl, PodRefusal::getReason)
        .containsExactly(tuple("shop/client-own-range", "net.ipv4.ip_local_port_range", "PodDeclaresSysctl"));

    assertThat(client.namespace().sysctl("net.ipv4.tcp_tw_reuse")).isEqualTo("1");
    assertThat(client.namespace().sysctl("net.ipv4.ip_local_port_range")).isEqualTo("10240 65535");
    assertThat(ownRange.namespace().sysctl("net.ipv4.tcp_tw_reuse")).isEqualTo("1");
    assertThat(ownRange.namespace().sysctl("net.ipv4.ip_local_port_range")).as("the pod's own choice").isEqualTo("20000 30001");
    for (TestPod p : List.of(server, batch, elsewhere)) {
      assertThat(p.namespace().sysctls()).as("not selected: " + p).isEqualTo(before.get(p.uid()));
    }
    // The node's own namespace is tuned too; the host's (the agent's own) never.
    assertThat(node.sysctl("net.ipv4.tcp_tw_reuse")).isEqualTo("1");
    loop.assertHostUntouched();

    // TIME_WAIT (it lasts 60 s): the pod on the other node holds the most, so it would be the
    // worst pod if the agent ever took it for one of its own. It is measured, as every namespace
    // on the node is, but it is no pod of this node's. client-1's 4,000 sockets to one destination
    // are 7% of its tuned range: over the 5% step that makes a new worst pod news at once (below
    // it, the news would wait for the heartbeat).
    long twStart = System.nanoTime();
    elsewhere.timeWait(6000);
    client.timeWait(4000);
    long twMs = (System.nanoTime() - twStart) / 1_000_000;
    await().atMost(CONVERGE).pollInterval(Duration.ofMillis(250)).untilAsserted(() -> {
      TcpTuningNodeStateStatus s = nodeStatus();
      assertThat(s.getWorstPod()).isNotNull();
      assertThat(s.getWorstPod().getPod()).isEqualTo("shop/client-1");
      assertThat(s.getWorstPod().getNetnsInode()).isEqualTo(client.inode());
      // The report that made it news may have been taken while the 4,000 were still being made.
      assertThat(s.getWorstPod().getTimeWait()).isBetween(2765L, 4000L);
      assertThat(s.getWorstPod().getPortRangeSize()).as("the tuned range").isEqualTo(55296);
      assertThat(s.getWorstPod().getMaxDestinationPressure()).as("up to 4,000 of 55,296 ports to one destination").isBetween(0.05, 0.0724);
      assertThat(s.getTopPods()).extracting(PodPressure::getPod).containsExactly("shop/client-1");
      assertThat(s.getNamespaces()).as("the node's, the five stand-ins' (and whatever else runs on this machine)").isGreaterThanOrEqualTo(6);
      String metrics = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.agentPort + "/metrics")).build(),
          HttpResponse.BodyHandlers.ofString()).body();
      assertThat(metrics).containsPattern("tcptuning_pod_time_wait_sockets\\{namespace=\"shop\",node=\"" + NODE
          + "\",pod=\"client-1\",policy=\"" + POLICY + "\"\\} [34][0-9]{3}\\.0\n");
      assertThat(metrics).as("the other node's pod, in TIME_WAIT on this machine").doesNotContain("client-elsewhere");
    });

    // 3. The policy's status rolls the node's pods up; kubectl shows the worst pod on both objects.
    await().atMost(CONVERGE).untilAsserted(() -> {
      var status = loop.policy(POLICY).getStatus();
      assertThat(status.getPods()).isEqualTo(new PodCounts(2, 2, 1, 0));
      assertThat(status.getWorstPod()).isNotNull();
      assertThat(status.getWorstPod().getPod()).isEqualTo("shop/client-1");
      assertThat(status.getWorstPod().getNode()).isEqualTo(NODE);
      var ready = Conditions.find(status.getConditions(), Conditions.READY).orElseThrow();
      assertThat(ready.getStatus()).as(ready.getMessage()).isEqualTo("True");
      assertThat(ready.getMessage()).isEqualTo("1/1 nodes applied; 2/2 selected pods tuned, 1 refused");
      assertThat(Conditions.find(status.getConditions(), Conditions.DEGRADED).orElseThrow().getStatus())
          .as("a sysctl a pod sets itself is its owner's choice, not a degradation").isEqualTo("False");
    });
    assertThat(column(API.kubectl("get", "ttns", NODE).assertSuccess().stdout(), "WORST-POD")).isEqualTo("shop/client-1");
    String wide = API.kubectl("get", "ttp", POLICY, "-o", "wide").assertSuccess().stdout();
    assertThat(column(wide, "WORST-POD")).isEqualTo("shop/client-1");
    assertThat(column(wide, "PODS-TUNED")).isEqualTo("2");

    // 4. The namespace informer (RBAC: list/watch namespaces) follows labels: batch joins, then leaves.
    API.kubectl("label", "namespace", "batch", "tier=frontend", "--overwrite").assertSuccess();
    await().atMost(CONVERGE).pollInterval(Duration.ofMillis(250)).untilAsserted(() -> {
      assertThat(batch.namespace().sysctl("net.ipv4.tcp_tw_reuse")).isEqualTo("1");
      assertThat(nodeStatus().getPods()).isEqualTo(new PodCounts(3, 3, 1, 0));
    });
    assertThat(batch.namespace().sysctl("net.ipv4.ip_local_port_range")).isEqualTo("10240 65535");
    API.kubectl("label", "namespace", "batch", "tier=backend", "--overwrite").assertSuccess();
    await().atMost(CONVERGE).pollInterval(Duration.ofMillis(250)).untilAsserted(() -> {
      assertThat(batch.namespace().sysctls()).as("batch/client-b, deselected while alive").isEqualTo(before.get(batch.uid()));
      assertThat(nodeStatus().getPods()).isEqualTo(new PodCounts(2, 2, 1, 0));
    });
    assertThat(elsewhere.namespace().sysctls()).as("the other node's pod").isEqualTo(before.get(elsewhere.uid()));

    // 5. Deletion: the agent gives every selected pod its originals back, and the node too.
    API.kubectl("delete", "ttp", POLICY, "--wait=false").assertSuccess();
    await().atMost(CONVERGE).pollInterval(Duration.ofMillis(250)).untilAsserted(() -> {
      for (TestPod p : testPods) {
        assertThat(p.namespace().sysctls()).as("after the policy's deletion: " + p).isEqualTo(before.get(p.uid()));
      }
      assertThat(node.sysctls()).isEqualTo(nodeBefore);
    });
    await().atMost(CONVERGE).untilAsserted(() -> {
      assertThat(nodeStatus().getPhase()).isEqualTo(NodePhase.Reverted);
      assertThat(loop.policy(POLICY)).as("the policy, once its node reverted").isNull();
      assertThat(API.client().apps().daemonSets().inNamespace(TuningLoop.NS).list().getItems()).as("DaemonSets").isEmpty();
    });
    try (var journals = Files.list(node.stateDir.resolve("pods"))) {
      assertThat(journals.toList()).as("pod journals left").isEmpty();
    }
    loop.stopAgent(node);

    String log = loop.agentLog(node);
    assertThat(log).contains("pod=shop/client-1 applied net.ipv4.tcp_tw_reuse 0->1");
    assertThat(log).contains("pod=batch/client-b restored net.ipv4.tcp_tw_reuse 1->0 (pod no longer selected)");
    assertThat(log).contains("pod=shop/client-1 restored net.ipv4.tcp_tw_reuse 1->0");
    assertThat(log).as("the other node's pod, by name or UID").doesNotContain("client-elsewhere").doesNotContain(elsewhere.uid());
    assertThat(log).as("no error and no Java exception name in the agent's log").doesNotContain(" ERROR ").doesNotContain("Exception:");

    // 6. What the agent asked the server for pods: only its node's, by field selector, and never refused.
    List<Map<String, Object>> agentEvents = API.auditEvents().stream().filter(e -> AGENT_USER.equals(RealApiServer.auditUser(e))).toList();
    List<Map<String, Object>> podRequests = agentEvents.stream().filter(e -> "pods".equals(RealApiServer.auditObjectRef(e, "resource"))).toList();
    assertThat(podRequests).extracting(e -> e.get("verb")).contains("list", "watch").containsOnly("list", "watch");
    assertThat(podRequests).extracting(e -> fieldSelector(e)).as("field selectors of the agent's pod requests").containsOnly("spec.nodeName=" + NODE);
    assertThat(agentEvents.stream().filter(e -> "namespaces".equals(RealApiServer.auditObjectRef(e, "resource"))).map(e -> e.get("verb"))).contains("list", "watch");
    assertThat(agentEvents).filteredOn(e -> Objects.equals(403, RealApiServer.auditCode(e))).as("requests of the agent the server refused").isEmpty();
    System.out.printf("pods tuned %d ms after the test began; 10,000 TIME_WAIT made in %d ms; whole test %d ms%n",
        (tunedAt - t0) / 1_000_000, twMs, (System.nanoTime() - t0) / 1_000_000);
  }

  /** The value under {@code header} in kubectl's one-row table output (columns start where their headers do). */
  static String column(String table, String header) {
    String[] lines = table.split("\n");
    assertThat(lines).as(table).hasSize(2);
    int start = (" " + lines[0] + " ").indexOf(" " + header + " ");
    assertThat(start).as(header + " in\n" + table).isNotNegative();
    int end = lines[0].indexOf(' ', start + header.length());
    while (end >= 0 && end < lines[0].length() && lines[0].charAt(end) == ' ') {
      end++;
    }
    String row = lines[1] + " ".repeat(Math.max(0, lines[0].length() - lines[1].length()));
    return (end < 0 || end >= lines[0].length() ? row.substring(start) : row.substring(start, end)).strip();
  }

  private static String fieldSelector(Map<String, Object> event) {
    String uri = (String) event.get("requestURI");
    int q = uri.indexOf('?');
    if (q >= 0) {
      for (String param : uri.substring(q + 1).split("&")) {
        if (param.startsWith("fieldSelector=")) {
          return URLDecoder.decode(param.substring("fieldSelector=".length()), StandardCharsets.UTF_8);
        }
      }
    }
    return null;
  }
}
