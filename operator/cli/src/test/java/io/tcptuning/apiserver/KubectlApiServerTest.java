package io.tcptuning.apiserver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.tcptuning.agent.NodeStateReporter;
import io.tcptuning.agent.NodeStatusFactory;
import io.tcptuning.api.v1alpha1.Mode;
import io.tcptuning.api.v1alpha1.NodePhase;
import io.tcptuning.api.v1alpha1.PodCounts;
import io.tcptuning.api.v1alpha1.PodPressure;
import io.tcptuning.api.v1alpha1.PodRefusal;
import io.tcptuning.api.v1alpha1.SysctlState;
import io.tcptuning.api.v1alpha1.TcpTuningNodeStateStatus.SysctlStatus;
import io.tcptuning.api.v1alpha1.TcpTuningNodeStateStatus.TimeWait;
import io.tcptuning.api.v1alpha1.TcpTuningPolicy;
import io.tcptuning.domain.NatVerdict;
import io.tcptuning.operator.AgentSettings;
import io.tcptuning.operator.OperatorConfig;
import io.tcptuning.operator.TcpTuningOperator;
import io.tcptuning.testing.ProjectPaths;

import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.JSONSchemaProps;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * What users type, answered by a real API server: the real operator (in process, leader election
 * on, as the chart runs it) reconciles the example policies, node states are written through the
 * status subresource by the agent's own {@link NodeStateReporter}, and the real kubectl prints
 * README's columns, waits for Ready and explains the schema.
 */
class KubectlApiServerTest {

  @RegisterExtension static final RealApiServer API = new RealApiServer();

  private static final String NAMESPACE = "tcp-tuning-system";
  private static TcpTuningOperator operator;

  @BeforeAll
  static void installAndStartTheOperator() {
    API.installCrds();
    API.client().namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(NAMESPACE).endMetadata().build()).create();
    node("worker-1", "high-churn");
    node("worker-7", "legacy");
    OperatorConfig config =
        new OperatorConfig(
            NAMESPACE, "tcptune:test", OperatorConfig.DEFAULT_PULL_POLICY, OperatorConfig.DEFAULT_AGENT_SERVICE_ACCOUNT,
            Duration.ZERO, OperatorConfig.DEFAULT_REVERT_TIMEOUT, true, NAMESPACE, 0, AgentSettings.DEFAULTS);
    operator = TcpTuningOperator.create(API.client(), config, new SimpleMeterRegistry(), Clock.systemUTC());
    operator.start();
    await().atMost(Duration.ofSeconds(30)).until(operator::isLeading);
  }

  @AfterAll
  static void stopTheOperator() {
    if (operator != null) {
      operator.stop();
    }
  }

  private static void node(String name, String profile) {
    API.client()
        .nodes()
        .resource(
            new NodeBuilder()
                .withNewMetadata()
                .withName(name)
                .withLabels(Map.of("kubernetes.io/os", "linux", "tcptuning.io/profile", profile))
                .endMetadata()
                .build())
        .create();
  }

  @Test
  void kubectlExplainDocumentsEverySysctl() {
    CustomResourceDefinition crd =
        Serialization.unmarshal(RealApiServer.read(ProjectPaths.resolve("crds/tcptuningpolicies.tcptuning.io-v1.yaml")), CustomResourceDefinition.class);
    JSONSchemaProps sysctls = crd.getSpec().getVersions().getFirst().getSchema().getOpenAPIV3Schema().getProperties().get("spec").getProperties().get("sysctls");
    assertThat(sysctls.getProperties()).hasSizeGreaterThanOrEqualTo(8);

    RealApiServer.Kubectl explain = API.kubectl("explain", "tcptuningpolicy.spec.sysctls").assertSuccess();
    String text = oneLine(explain.stdout());
    assertThat(text).contains("GROUP: tcptuning.io").contains("KIND: TcpTuningPolicy").contains("VERSION: v1alpha1");
    assertThat(text).contains(oneLine(sysctls.getDescription()));
    sysctls.getProperties().forEach((field, schema) -> {
      assertThat(text).as(field).contains(field + " <" + schema.getType());
      assertThat(text).as(field + " description").contains(oneLine(schema.getDescription()));
    });
    // One level down, each field is explained on its own too.
    RealApiServer.Kubectl one = API.kubectl("explain", "ttp.spec.sysctls.tcpFinTimeout").assertSuccess();
    assertThat(oneLine(one.stdout())).contains("FIELD: tcpFinTimeout <integer>").contains("It does NOT shorten TIME_WAIT");
  }

  @Test
  void kubectlGetPrintsReadmesColumnsAndWaitReturnsOnceReady() {
    API.kubectl("apply", "-f", ProjectPaths.resolve("deploy/examples/high-churn-clients.yaml").toString()).assertSuccess();
    API.kubectl("apply", "-f", ProjectPaths.resolve("deploy/examples/legacy-tw-recycle.yaml").toString()).assertSuccess();

    // The operator takes them over: finalizer, an agent DaemonSet each, a status with one selected node pending.
    await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
      assertThat(API.client().apps().daemonSets().inNamespace(NAMESPACE).list().getItems()).hasSize(2);
      for (String name : List.of("high-churn-clients", "legacy-tw-recycle")) {
        TcpTuningPolicy p = API.client().resources(TcpTuningPolicy.class).withName(name).get();
        assertThat(p.getMetadata().getFinalizers()).contains("tcptuning.io/revert");
        assertThat(p.getStatus()).isNotNull();
        assertThat(p.getStatus().getNodes().getSelected()).isEqualTo(1);
        assertThat(p.getStatus().getNodes().getPending()).isEqualTo(1);
      }
    });
    RealApiServer.Kubectl notYet = API.kubectl("wait", "--for=condition=Ready", "ttp/high-churn-clients", "--timeout=1s");
    assertThat(notYet.exitCode()).as("Ready before any node reported\n" + notYet).isNotZero();

    // The agents report, through the status subresource, with the agent's own writer.
    report("worker-1", "high-churn-clients", 23110, 0.41, List.of(
        new SysctlStatus("net.ipv4.tcp_tw_reuse", "2", "1", "1", SysctlState.Applied, null, null),
        new SysctlStatus("net.ipv4.ip_local_port_range", "32768 60999", "10240 65535", "10240 65535", SysctlState.Applied, null, null)));
    report("worker-7", "legacy-tw-recycle", 310, 0.01, List.of(
        new SysctlStatus("net.ipv4.tcp_tw_reuse", "2", "1", "1", SysctlState.Applied, null, null),
        new SysctlStatus("net.ipv4.tcp_tw_recycle", null, "1", null, SysctlState.Refused, "KernelRemovedSysctl", "removed in Linux 4.12")));

    for (String name : List.of("high-churn-clients", "legacy-tw-recycle")) {
      RealApiServer.Kubectl wait = API.kubectl("wait", "--for=condition=Ready", "ttp/" + name, "--timeout=30s");
      assertThat(wait.exitCode()).as(wait.toString()).isZero();
      assertThat(wait.stdout().strip()).isEqualTo("tcptuningpolicy.tcptuning.io/" + name + " condition met");
    }

    // The operator debounces and may write once more after Ready: wait for the final counts.
    await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
        assertThat(API.kubectl("get", "ttp", "legacy-tw-recycle", "-o", "jsonpath={.status.nodes.refused}").assertSuccess().stdout()).isEqualTo("1"));

    // The refusal is told in an Event that the real server accepts and kubectl describe shows.
    await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
        assertThat(oneLine(API.kubectl("describe", "ttp", "legacy-tw-recycle").assertSuccess().stdout()))
            .contains("Warning KernelRemovedSysctl")
            .contains("net.ipv4.tcp_tw_recycle refused on 1 nodes (worker-7): KernelRemovedSysctl"));

    // By name: another test adds a policy and a node state of its own to this server.
    List<List<String>> ttp = table(API.kubectl("get", "ttp", "high-churn-clients", "legacy-tw-recycle").assertSuccess().stdout());
    assertThat(ttp.getFirst()).containsExactly("NAME", "MODE", "SELECTED", "APPLIED", "REFUSED", "FAILED", "MAX-PRESSURE", "READY", "AGE");
    assertThat(ttp).hasSize(3);
    assertThat(ttp.get(1).subList(0, 8)).containsExactly("high-churn-clients", "Enforce", "1", "1", "0", "0", "0.41", "True");
    assertThat(ttp.get(2).subList(0, 8)).containsExactly("legacy-tw-recycle", "Enforce", "1", "1", "1", "0", "0.01", "True");
    assertThat(ttp.get(1).get(8)).matches("[0-9]+s");

    List<List<String>> ttns = columns(API.kubectl("get", "ttns", "worker-1", "worker-7").assertSuccess().stdout());
    assertThat(ttns.getFirst()).containsExactly("NAME", "POLICY", "PHASE", "KERNEL", "TIME-WAIT", "PRESSURE", "WORST-POD", "POD-PRESSURE", "APPLIED", "AGE");
    assertThat(ttns).hasSize(3);
    // No pod holds TIME_WAIT sockets on these nodes: the pod columns are empty.
    assertThat(ttns.get(1).subList(0, 9)).containsExactly("worker-1", "high-churn-clients", "Applied", "6.8.0-1017-aws", "23110", "0.41", "", "", "True");
    assertThat(ttns.get(2).subList(0, 9)).containsExactly("worker-7", "legacy-tw-recycle", "Applied", "6.8.0-1017-aws", "310", "0.01", "", "", "True");
  }

  @Test
  void podColumnsShowTheWorstPodItsPressureAndThePodsTuned() {
    node("worker-9", "client-pods");
    API.kubectlWithInput(
            """
            apiVersion: tcptuning.io/v1alpha1
            kind: TcpTuningPolicy
            metadata: {name: pod-clients}
            spec:
              nodeSelector: {matchLabels: {tcptuning.io/profile: client-pods}}
              podSelector: {matchLabels: {tcptuning.io/tune: "true"}}
              namespaceSelector:
                matchExpressions: [{key: kubernetes.io/metadata.name, operator: NotIn, values: [kube-system]}]
              sysctls: {tcpTwReuse: 1, tcpTimestamps: 1}
            """,
            "apply", "-f", "-")
        .assertSuccess();
    await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
      TcpTuningPolicy p = API.client().resources(TcpTuningPolicy.class).withName("pod-clients").get();
      assertThat(p.getStatus()).isNotNull();
      assertThat(p.getStatus().getNodes().getSelected()).isEqualTo(1);
      assertThat(p.getStatus().getPods()).as("selects pods, none reported yet").isEqualTo(new PodCounts(0, 0, 0, 0));
    });

    // The agent's report as the agent engineer's code fills it: namespaces counted, the top pods,
    // the worst pod, pod counts and pod refusals. Written here directly, through the status subresource.
    TcpTuningPolicy p = API.client().resources(TcpTuningPolicy.class).withName("pod-clients").get();
    TimeWait tw = new TimeWait();
    tw.setTotal(310);
    tw.setPortRangeSize(28232);
    tw.setPressure(0.011);
    tw.setMaxDestinationPressure(0.011);
    var status =
        NodeStatusFactory.build(
            new NodeStatusFactory.Identity("pod-clients", p.getMetadata().getGeneration(), Mode.Enforce),
            NodePhase.Applied, "6.8.0-1017-aws", NatVerdict.none(List.of("iptables nat table")), tw,
            List.of(new SysctlStatus("net.ipv4.tcp_tw_reuse", "2", "1", "1", SysctlState.Applied, null, null)), null, List.of(), null, Instant.now());
    PodPressure worst = new PodPressure();
    worst.setPod("shop/checkout-7d9f");
    worst.setNetnsInode(4026532871L);
    worst.setTimeWait(24561);
    worst.setPortRangeSize(28232);
    worst.setPressure(0.87);
    worst.setMaxDestinationPressure(0.8699);
    worst.setHottestDestination("10.96.12.4:5432");
    status.setNamespaces(15);
    status.setWorstPod(worst);
    status.setTopPods(List.of(worst));
    status.setPods(new PodCounts(14, 12, 2, 0));
    status.setPodRefusals(List.of(
        new PodRefusal("shop/legacy-0", "net.ipv4.ip_local_port_range", "PodDeclaresSysctl", "the pod sets it in securityContext.sysctls"),
        new PodRefusal("shop/legacy-1", "net.ipv4.ip_local_port_range", "PodDeclaresSysctl", "the pod sets it in securityContext.sysctls")));
    try (NodeStateReporter reporter = new NodeStateReporter(() -> API.client(b -> b), "worker-9")) {
      reporter.write(status);
    }

    await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
        assertThat(API.kubectl("get", "ttp", "pod-clients", "-o", "jsonpath={.status.conditions[?(@.type==\"Ready\")].message}").assertSuccess().stdout())
            .isEqualTo("1/1 nodes applied; 12/14 selected pods tuned, 2 refused"));
    assertThat(API.kubectl("get", "ttp", "pod-clients", "-o", "jsonpath={.status.worstPod.node} {.status.refusals[0].reason} {.status.refusals[0].pods}")
        .assertSuccess().stdout()).isEqualTo("worker-9 PodDeclaresSysctl 2");

    List<List<String>> ttns = table(API.kubectl("get", "ttns", "worker-9").assertSuccess().stdout());
    assertThat(ttns.getFirst()).containsExactly("NAME", "POLICY", "PHASE", "KERNEL", "TIME-WAIT", "PRESSURE", "WORST-POD", "POD-PRESSURE", "APPLIED", "AGE");
    assertThat(ttns.get(1).subList(0, 9))
        .containsExactly("worker-9", "pod-clients", "Applied", "6.8.0-1017-aws", "310", "0.011", "shop/checkout-7d9f", "0.8699", "True");
    List<List<String>> ttnsWide = table(API.kubectl("get", "ttns", "worker-9", "-o", "wide").assertSuccess().stdout());
    assertThat(ttnsWide.getFirst()).containsSubsequence("POD-PRESSURE", "PODS-TUNED", "APPLIED");
    assertThat(ttnsWide.get(1).get(ttnsWide.getFirst().indexOf("PODS-TUNED"))).isEqualTo("12");

    // The policy's pod columns are for -o wide; the default view stays as README shows it.
    assertThat(table(API.kubectl("get", "ttp", "pod-clients").assertSuccess().stdout()).getFirst())
        .containsExactly("NAME", "MODE", "SELECTED", "APPLIED", "REFUSED", "FAILED", "MAX-PRESSURE", "READY", "AGE");
    List<List<String>> ttpWide = table(API.kubectl("get", "ttp", "pod-clients", "-o", "wide").assertSuccess().stdout());
    assertThat(ttpWide.getFirst())
        .containsExactly("NAME", "MODE", "SELECTED", "APPLIED", "REFUSED", "FAILED", "MAX-PRESSURE", "PODS-TUNED", "WORST-POD", "POD-PRESSURE", "READY", "AGE");
    assertThat(ttpWide.get(1).subList(0, 11))
        .containsExactly("pod-clients", "Enforce", "1", "1", "0", "0", "0.01", "12", "shop/checkout-7d9f", "0.87", "True");
  }

  private static void report(String node, String policy, long timeWaitTotal, double pressure, List<SysctlStatus> sysctls) {
    TcpTuningPolicy p = API.client().resources(TcpTuningPolicy.class).withName(policy).get();
    TimeWait tw = new TimeWait();
    tw.setTotal(timeWaitTotal);
    tw.setPortRangeSize(55296);
    tw.setPressure(timeWaitTotal / 55296.0);
    tw.setMaxDestinationPressure(pressure);
    var status =
        NodeStatusFactory.build(
            new NodeStatusFactory.Identity(policy, p.getMetadata().getGeneration(), Mode.Enforce),
            NodePhase.Applied, "6.8.0-1017-aws", NatVerdict.none(List.of("iptables nat table")), tw, sysctls, null, List.of(), null, Instant.now());
    try (NodeStateReporter reporter = new NodeStateReporter(() -> API.client(b -> b), node)) {
      reporter.write(status);
    }
  }

  /**
   * kubectl's table cut at the header's column starts, so that an empty cell stays a cell
   * (kubectl prints nothing for a printer column whose path is absent).
   */
  private static List<List<String>> columns(String out) {
    List<String> lines = out.lines().filter(l -> !l.isBlank()).toList();
    String header = lines.getFirst();
    List<Integer> starts = new java.util.ArrayList<>();
    var m = java.util.regex.Pattern.compile("\\S+").matcher(header);
    while (m.find()) {
      starts.add(m.start());
    }
    return lines.stream().map(l -> {
      List<String> cells = new java.util.ArrayList<>();
      for (int i = 0; i < starts.size(); i++) {
        int from = Math.min(starts.get(i), l.length());
        int to = i + 1 < starts.size() ? Math.min(starts.get(i + 1), l.length()) : l.length();
        cells.add(l.substring(from, to).strip());
      }
      return cells;
    }).toList();
  }

  /** kubectl's table, split on runs of spaces. */
  private static List<List<String>> table(String out) {
    return out.lines().filter(l -> !l.isBlank()).map(l -> Arrays.asList(l.strip().split("\\s+"))).toList();
  }

  private static String oneLine(String text) {
    return text.replaceAll("\\s+", " ").strip();
  }
}
