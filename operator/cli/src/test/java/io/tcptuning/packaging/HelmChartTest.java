package io.tcptuning.packaging;

import io.tcptuning.testing.ProjectPaths;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.marcnuri.helm.DryRun;
import com.marcnuri.helm.Helm;
import com.marcnuri.helm.InstallCommand;
import com.marcnuri.helm.LintResult;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.ValidatingAdmissionPolicy;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.ValidatingAdmissionPolicyBinding;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBinding;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Lints and renders the Helm chart with helm-java (the Helm Go library through JNI, no binary) and
 * checks what a cluster admin cares about: least-privilege RBAC, a "restricted" operator pod, the
 * environment contract with the operator code, the admission policy and the monitoring objects.
 */
class HelmChartTest {

  private static final String OPERATOR = RenderedChart.RELEASE;
  private static final String AGENT_ROLE = RenderedChart.RELEASE + "-agent";
  private static final String VAP = RenderedChart.RELEASE + "-agent-node-restriction";

  /** Metric names the agent and the operator expose; alerts and dashboard may use only these. */
  static final Set<String> CONTRACT_METRICS =
      Set.of(
          "tcptuning_time_wait_sockets",
          "tcptuning_time_wait_pressure",
          "tcptuning_time_wait_max_destination_pressure",
          "tcptuning_port_range_size",
          "tcptuning_tcpext_tcp_time_wait_overflow_total",
          "tcptuning_tcpext_listen_overflows_total",
          "tcptuning_sysctl_value",
          "tcptuning_sysctl_applied",
          // Per pod with TIME_WAIT sockets in its own network namespace, labels namespace and pod
          // beside the agent's node and policy (issue #12).
          "tcptuning_pod_time_wait_sockets",
          "tcptuning_pod_max_destination_pressure",
          "tcptuning_policy_nodes");

  private static RenderedChart defaults;
  private static RenderedChart custom;

  @BeforeAll
  static void render() {
    defaults = RenderedChart.render();
    Map<String, Object> values = new LinkedHashMap<>();
    values.put("operator.replicas", 2);
    values.put("admissionPolicy.enabled", false);
    values.put("metrics.serviceMonitor.enabled", true);
    values.put("metrics.serviceMonitor.labels.release", "prometheus");
    values.put("metrics.prometheusRule.enabled", true);
    values.put("metrics.grafanaDashboard.enabled", true);
    values.put("examplePolicy.enabled", true);
    values.put("image.repository", "registry.example.com/tcptune");
    values.put("image.tag", "v9.9.9");
    values.put("image.pullPolicy", "Always");
    values.put("agent.port", 9555);
    values.put("agent.serviceAccount.name", "node-agent");
    values.put("operator.leaderElection.enabled", false);
    custom = RenderedChart.render(values);
  }

  @Test
  void lintIsCleanInStrictMode() {
    LintResult lint = new Helm(ProjectPaths.chart()).lint().strict().call();

    assertThat(lint.isFailed()).as("helm lint --strict: %s", lint.getMessages()).isFalse();
    assertThat(lint.getMessages()).noneMatch(m -> m.contains("[WARNING]") || m.contains("[ERROR]"));
  }

  @Test
  void defaultsRenderTheExpectedObjectsAndNothingOptional() {
    assertThat(kindsAndNames(defaults))
        .containsExactlyInAnyOrder(
            "PodDisruptionBudget/" + OPERATOR,
            "ServiceAccount/" + OPERATOR,
            "ServiceAccount/tcp-tuning-agent",
            "ClusterRole/" + OPERATOR,
            "ClusterRoleBinding/" + OPERATOR,
            "Role/" + OPERATOR,
            "RoleBinding/" + OPERATOR,
            "ClusterRole/" + AGENT_ROLE,
            "ClusterRoleBinding/" + AGENT_ROLE,
            "Deployment/" + OPERATOR,
            "Service/" + OPERATOR + "-metrics",
            "Service/" + OPERATOR + "-agent-metrics",
            "ValidatingAdmissionPolicy/" + VAP,
            "ValidatingAdmissionPolicyBinding/" + VAP);
  }

  @Test
  void noRoleAnywhereUsesWildcards() {
    for (RenderedChart chart : List.of(defaults, custom)) {
      List<PolicyRule> rules = allRules(chart);
      assertThat(rules).isNotEmpty();
      for (PolicyRule rule : rules) {
        assertThat(rule.getVerbs()).as("verbs of %s", rule).doesNotContain("*").isNotEmpty();
        assertThat(rule.getResources())
            .as("resources of %s", rule)
            .doesNotContain("*")
            .isNotEmpty();
        assertThat(rule.getResources()).as("resources of %s", rule).noneMatch(r -> r.contains("*"));
        assertThat(rule.getApiGroups())
            .as("apiGroups of %s", rule)
            .doesNotContain("*")
            .isNotEmpty();
        assertThat(rule.getNonResourceURLs()).as("nonResourceURLs of %s", rule).isNullOrEmpty();
      }
    }
  }

  @Test
  void agentMayDoExactlyWhatItNeedsAndNothingElse() {
    ClusterRole agent = defaults.get(ClusterRole.class, AGENT_ROLE);

    assertThat(permissions(agent.getRules()))
        .containsExactlyInAnyOrder(
            "tcptuning.io/tcptuningpolicies:get",
            "tcptuning.io/tcptuningpolicies:list",
            "tcptuning.io/tcptuningpolicies:watch",
            "tcptuning.io/tcptuningnodestates:get",
            "tcptuning.io/tcptuningnodestates:create",
            "tcptuning.io/tcptuningnodestates/status:update",
            "/nodes:get",
            // Pods' network namespaces: the pods on its node and their namespaces' labels.
            "/pods:list",
            "/pods:watch",
            "/namespaces:list",
            "/namespaces:watch");
    // The agent is the privileged half: spell out what an attacker on a node must not get.
    assertThat(permissions(agent.getRules()))
        .noneMatch(p -> p.startsWith("/secrets") || p.startsWith("/configmaps") || p.startsWith("apps/"))
        .noneMatch(p -> p.startsWith("/pods/") || p.startsWith("/nodes/")) // no exec, log, proxy, eviction
        .noneMatch(p -> (p.startsWith("/pods:") || p.startsWith("/namespaces:") || p.startsWith("/nodes:")) && !p.matches(".*:(get|list|watch)"))
        .noneMatch(p -> p.equals("/pods:get") || p.equals("/namespaces:get")) // informers list and watch; no single reads
        .noneMatch(
            p ->
                p.startsWith("tcptuning.io/tcptuningpolicies:")
                    && !p.matches(".*:(get|list|watch)"));
    // No namespaced Role is bound to the agent.
    assertThat(defaults.all(RoleBinding.class))
        .flatExtracting(RoleBinding::getSubjects)
        .noneMatch(s -> "tcp-tuning-agent".equals(s.getName()));
  }

  @Test
  void operatorRolesMatchTheReconcilersNeeds() {
    ClusterRole cluster = defaults.get(ClusterRole.class, OPERATOR);
    Role namespaced = defaults.get(Role.class, OPERATOR);

    assertThat(permissions(cluster.getRules()))
        .containsExactlyInAnyOrder(
            "tcptuning.io/tcptuningpolicies:get",
            "tcptuning.io/tcptuningpolicies:list",
            "tcptuning.io/tcptuningpolicies:watch",
            "tcptuning.io/tcptuningpolicies:update",
            "tcptuning.io/tcptuningpolicies:patch",
            "tcptuning.io/tcptuningpolicies/status:get",
            "tcptuning.io/tcptuningpolicies/status:update",
            "tcptuning.io/tcptuningpolicies/status:patch",
            "tcptuning.io/tcptuningpolicies/finalizers:update",
            "tcptuning.io/tcptuningnodestates:get",
            "tcptuning.io/tcptuningnodestates:list",
            "tcptuning.io/tcptuningnodestates:watch",
            "tcptuning.io/tcptuningnodestates:delete",
            "/nodes:get",
            "/nodes:list",
            "/nodes:watch",
            "/events:create",
            "/events:patch",
            "events.k8s.io/events:create",
            "events.k8s.io/events:patch");
    // DaemonSets and the Lease only in the release namespace.
    assertThat(namespaced.getMetadata().getNamespace()).isEqualTo(RenderedChart.NAMESPACE);
    assertThat(permissions(namespaced.getRules()))
        .containsExactlyInAnyOrder(
            "apps/daemonsets:get",
            "apps/daemonsets:list",
            "apps/daemonsets:watch",
            "apps/daemonsets:create",
            "apps/daemonsets:update",
            "apps/daemonsets:patch",
            "apps/daemonsets:delete",
            "coordination.k8s.io/leases:get",
            "coordination.k8s.io/leases:create",
            "coordination.k8s.io/leases:update",
            "coordination.k8s.io/leases:patch");
  }

  @Test
  void bindingsGrantEachRoleToItsOwnServiceAccount() {
    for (RenderedChart chart : List.of(defaults, custom)) {
      Set<String> accounts =
          chart.all(ServiceAccount.class).stream()
              .map(sa -> sa.getMetadata().getNamespace() + "/" + sa.getMetadata().getName())
              .collect(Collectors.toSet());
      Map<String, String> roleToSubject = new LinkedHashMap<>();
      for (ClusterRoleBinding b : chart.all(ClusterRoleBinding.class)) {
        assertThat(b.getSubjects()).hasSize(1);
        roleToSubject.put(
            "ClusterRole/" + b.getRoleRef().getName(),
            b.getSubjects().getFirst().getNamespace() + "/" + b.getSubjects().getFirst().getName());
      }
      for (RoleBinding b : chart.all(RoleBinding.class)) {
        assertThat(b.getSubjects()).hasSize(1);
        roleToSubject.put(
            "Role/" + b.getRoleRef().getName(),
            b.getSubjects().getFirst().getNamespace() + "/" + b.getSubjects().getFirst().getName());
      }
      assertThat(accounts).containsAll(roleToSubject.values());
      String agentSa = chart == defaults ? "tcp-tuning-agent" : "node-agent";
      assertThat(roleToSubject)
          .containsEntry("ClusterRole/" + AGENT_ROLE, RenderedChart.NAMESPACE + "/" + agentSa)
          .containsEntry("ClusterRole/" + OPERATOR, RenderedChart.NAMESPACE + "/" + OPERATOR)
          .containsEntry("Role/" + OPERATOR, RenderedChart.NAMESPACE + "/" + OPERATOR);
    }
  }

  @Test
  void operatorPodPassesTheRestrictedPodSecurityStandard() {
    for (RenderedChart chart : List.of(defaults, custom)) {
      PodSpec pod = chart.get(Deployment.class, OPERATOR).getSpec().getTemplate().getSpec();

      assertThat(RestrictedPodSecurity.violations(pod)).isEmpty();
      assertThat(pod.getSecurityContext().getRunAsUser()).isEqualTo(65532L);
      assertThat(pod.getSecurityContext().getRunAsNonRoot()).isTrue();
    }
  }

  @Test
  void restrictedCheckerCatchesAPrivilegedPod() {
    // The check above is only worth something if it can fail: break the pod in the usual ways.
    PodSpec pod =
        Serialization.clone(
            defaults.get(Deployment.class, OPERATOR).getSpec().getTemplate().getSpec());
    Container c = pod.getContainers().getFirst();
    c.getSecurityContext().setPrivileged(true);
    c.getSecurityContext().setAllowPrivilegeEscalation(null);
    c.getSecurityContext().getCapabilities().setDrop(List.of("NET_RAW"));
    c.getSecurityContext().setReadOnlyRootFilesystem(false);
    c.getSecurityContext().setSeccompProfile(null);
    pod.getSecurityContext().setSeccompProfile(null);
    pod.setHostNetwork(true);

    assertThat(RestrictedPodSecurity.violations(pod))
        .containsExactlyInAnyOrder(
            "hostNetwork is true",
            "container operator: privileged",
            "container operator: allowPrivilegeEscalation is not false",
            "container operator: capabilities do not drop ALL",
            "container operator: seccompProfile is not RuntimeDefault or Localhost",
            "container operator: readOnlyRootFilesystem is not true");
  }

  @Test
  void operatorRunsOnLinuxAndADrainEvictsAtMostOneReplica() {
    Deployment deployment = defaults.get(Deployment.class, OPERATOR);
    assertThat(deployment.getSpec().getTemplate().getSpec().getNodeSelector()).containsEntry("kubernetes.io/os", "linux");
    var pdb = defaults.get(io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget.class, OPERATOR);
    assertThat(pdb.getSpec().getMaxUnavailable().getIntVal()).isEqualTo(1);
    assertThat(pdb.getSpec().getSelector().getMatchLabels()).isEqualTo(deployment.getSpec().getSelector().getMatchLabels());
    assertThat(pdb.getMetadata().getNamespace()).isEqualTo(RenderedChart.NAMESPACE);
  }

  @Test
  void operatorContainerFollowsTheEnvironmentContract() {
    Deployment deployment = defaults.get(Deployment.class, OPERATOR);
    Container c = deployment.getSpec().getTemplate().getSpec().getContainers().getFirst();
    Map<String, String> env = env(c);

    assertThat(deployment.getSpec().getReplicas()).isEqualTo(1);
    assertThat(deployment.getSpec().getTemplate().getSpec().getServiceAccountName())
        .isEqualTo(OPERATOR);
    assertThat(c.getArgs()).containsExactly("operator");
    assertThat(c.getImage()).isEqualTo("ghcr.io/tcptuning/tcp-tuning-operator:0.1.0");
    assertThat(env)
        .containsEntry("TCPTUNE_NAMESPACE", RenderedChart.NAMESPACE)
        .containsEntry("TCPTUNE_AGENT_IMAGE", c.getImage())
        .containsEntry("TCPTUNE_AGENT_IMAGE_PULL_POLICY", "IfNotPresent")
        .containsEntry("TCPTUNE_AGENT_SERVICE_ACCOUNT", "tcp-tuning-agent")
        .containsEntry("TCPTUNE_STATUS_DEBOUNCE", "2s")
        .containsEntry("TCPTUNE_REVERT_TIMEOUT", "120s")
        .containsEntry("TCPTUNE_LEADER_ELECTION", "true")
        .containsEntry("TCPTUNE_LEADER_ELECTION_NAMESPACE", RenderedChart.NAMESPACE)
        .containsEntry("TCPTUNE_METRICS_PORT", "8080")
        .containsEntry("TCPTUNE_AGENT_PORT", "9479")
        .containsEntry("TCPTUNE_STATE_DIR", "/var/lib/tcp-tuning")
        .containsEntry("TCPTUNE_CENSUS_INTERVAL", "15s")
        .containsEntry("TCPTUNE_HEARTBEAT_INTERVAL", "5m")
        .containsEntry("JAVA_TOOL_OPTIONS", "-XX:TieredStopAtLevel=1");
    EnvVar podNamespace =
        c.getEnv().stream()
            .filter(e -> e.getName().equals("POD_NAMESPACE"))
            .findFirst()
            .orElseThrow();
    assertThat(podNamespace.getValueFrom().getFieldRef().getFieldPath())
        .isEqualTo("metadata.namespace");
    // The agents' resources travel as JSON the operator can read into a ResourceRequirements.
    assertThat(env.get("TCPTUNE_AGENT_RESOURCES"))
        .isEqualTo(
            "{\"limits\":{\"memory\":\"192Mi\"},\"requests\":{\"cpu\":\"20m\",\"memory\":\"128Mi\"}}");
    // The operator accepts everything the chart passes; the chart's agent JVM flags are the code's.
    var parsed = io.tcptuning.operator.OperatorConfig.fromEnv(env);
    assertThat(parsed.agent().javaToolOptions())
        .isEqualTo(io.tcptuning.operator.AgentSettings.DEFAULT_JAVA_TOOL_OPTIONS);
    assertThat(parsed.agent().resources().getLimits().get("memory").toString()).isEqualTo("192Mi");
    assertThat(parsed.agent().port()).isEqualTo(9479);

    assertThat(c.getPorts())
        .singleElement()
        .satisfies(
            p -> {
              assertThat(p.getName()).isEqualTo("metrics");
              assertThat(p.getContainerPort()).isEqualTo(8080);
            });
    assertThat(c.getLivenessProbe().getHttpGet().getPath()).isEqualTo("/healthz");
    assertThat(c.getLivenessProbe().getHttpGet().getPort().getStrVal()).isEqualTo("metrics");
    assertThat(c.getStartupProbe().getHttpGet().getPath()).isEqualTo("/healthz");
    assertThat(c.getReadinessProbe().getHttpGet().getPath()).isEqualTo("/readyz");
    assertThat(c.getReadinessProbe().getHttpGet().getPort().getStrVal()).isEqualTo("metrics");
    assertThat(c.getResources().getRequests()).containsKeys("cpu", "memory");
    assertThat(c.getResources().getLimits()).containsKey("memory");
    // A read-only root filesystem still needs a writable /tmp for the JVM.
    assertThat(c.getVolumeMounts())
        .anySatisfy(
            m -> {
              assertThat(m.getMountPath()).isEqualTo("/tmp");
              assertThat(deployment.getSpec().getTemplate().getSpec().getVolumes())
                  .anySatisfy(
                      v -> {
                        assertThat(v.getName()).isEqualTo(m.getName());
                        assertThat(v.getEmptyDir()).isNotNull();
                      });
            });
  }

  @Test
  void nonDefaultValuesReachTheOperator() {
    Deployment deployment = custom.get(Deployment.class, OPERATOR);
    Container c = deployment.getSpec().getTemplate().getSpec().getContainers().getFirst();
    Map<String, String> env = env(c);

    assertThat(deployment.getSpec().getReplicas()).isEqualTo(2);
    assertThat(c.getImage()).isEqualTo("registry.example.com/tcptune:v9.9.9");
    assertThat(c.getImagePullPolicy()).isEqualTo("Always");
    assertThat(env)
        .containsEntry("TCPTUNE_AGENT_IMAGE", "registry.example.com/tcptune:v9.9.9")
        .containsEntry("TCPTUNE_AGENT_IMAGE_PULL_POLICY", "Always")
        .containsEntry("TCPTUNE_AGENT_SERVICE_ACCOUNT", "node-agent")
        .containsEntry("TCPTUNE_AGENT_PORT", "9555")
        .containsEntry("TCPTUNE_LEADER_ELECTION", "false");
    assertThat(custom.get(ServiceAccount.class, "node-agent").getMetadata().getNamespace())
        .isEqualTo(RenderedChart.NAMESPACE);
    assertThat(custom.find(ServiceAccount.class, "tcp-tuning-agent")).isEmpty();
  }

  @Test
  void agentMetricsServiceIsHeadlessAndSelectsAgentPods() {
    for (RenderedChart chart : List.of(defaults, custom)) {
      Service svc = chart.get(Service.class, OPERATOR + "-agent-metrics");
      int port = chart == defaults ? 9479 : 9555;

      assertThat(svc.getSpec().getClusterIP()).isEqualTo("None");
      assertThat(svc.getSpec().getSelector())
          .containsExactly(Map.entry("app.kubernetes.io/name", "tcp-tuning-agent"));
      assertThat(svc.getSpec().getPorts())
          .singleElement()
          .satisfies(
              p -> {
                assertThat(p.getName()).isEqualTo("metrics");
                assertThat(p.getPort()).isEqualTo(port);
                assertThat(p.getTargetPort().getIntVal()).isEqualTo(port);
              });
    }
    Service operator = defaults.get(Service.class, OPERATOR + "-metrics");
    Deployment deployment = defaults.get(Deployment.class, OPERATOR);
    assertThat(deployment.getSpec().getTemplate().getMetadata().getLabels())
        .containsAllEntriesOf(operator.getSpec().getSelector());
    assertThat(operator.getSpec().getPorts().getFirst().getPort()).isEqualTo(8080);
  }

  @Test
  void admissionPolicyRestrictsTheAgentServiceAccountAndCanBeSwitchedOff() {
    ValidatingAdmissionPolicy policy = defaults.get(ValidatingAdmissionPolicy.class, VAP);
    ValidatingAdmissionPolicyBinding binding =
        defaults.get(ValidatingAdmissionPolicyBinding.class, VAP);

    assertThat(policy.getApiVersion()).isEqualTo("admissionregistration.k8s.io/v1");
    assertThat(policy.getSpec().getFailurePolicy()).isEqualTo("Fail");
    assertThat(policy.getSpec().getMatchConstraints().getResourceRules())
        .singleElement()
        .satisfies(
            r -> {
              assertThat(r.getApiGroups()).containsExactly("tcptuning.io");
              assertThat(r.getOperations()).containsExactlyInAnyOrder("CREATE", "UPDATE", "DELETE");
              assertThat(r.getResources())
                  .containsExactlyInAnyOrder("tcptuningnodestates", "tcptuningnodestates/status");
            });
    assertThat(policy.getSpec().getMatchConditions())
        .singleElement()
        .satisfies(
            m ->
                assertThat(m.getExpression())
                    .isEqualTo(
                        "request.userInfo.username =="
                            + " \"system:serviceaccount:tcp-tuning-system:tcp-tuning-agent\""));
    assertThat(policy.getSpec().getValidations())
        .singleElement()
        .satisfies(
            v -> {
              assertThat(v.getExpression())
                  .contains("request.userInfo.extra['authentication.kubernetes.io/node-name'][0]")
                  .contains("oldObject.metadata.name")
                  .contains("object.metadata.name");
              assertThat(v.getMessage()).contains("own node");
              assertThat(v.getReason()).isEqualTo("Forbidden");
            });
    assertThat(binding.getSpec().getPolicyName()).isEqualTo(VAP);
    assertThat(binding.getSpec().getValidationActions()).containsExactly("Deny");

    assertThat(custom.all(ValidatingAdmissionPolicy.class)).isEmpty();
    assertThat(custom.all(ValidatingAdmissionPolicyBinding.class)).isEmpty();
  }

  @Test
  void admissionPolicyIsLeftOutBeforeKubernetes130() {
    // v1 and the node-name token claim arrive in 1.30; before that the policy would deny every
    // write.
    RenderedChart old = RenderedChart.render("v1.29.9", Map.of());

    assertThat(old.all(ValidatingAdmissionPolicy.class)).isEmpty();
    assertThat(old.all(ValidatingAdmissionPolicyBinding.class)).isEmpty();
    assertThat(old.all(Deployment.class)).hasSize(1);
    assertThat(RenderedChart.render("v1.30.0", Map.of()).all(ValidatingAdmissionPolicy.class))
        .hasSize(1);
  }

  @Test
  void schemaRejectsWrongTypesAndUnknownKeys() {
    assertThat(RenderedChart.template(RenderedChart.KUBE_VERSION, Map.of("operator.replicas", 3)))
        .contains("replicas: 3");
    assertThatThrownBy(() -> renderWith("operator.replicas", "two"))
        .hasMessageContaining("at '/operator/replicas': got string, want integer");
    assertThatThrownBy(() -> renderWith("operator.replica", 2))
        .hasMessageContaining("at '/operator': additional properties 'replica' not allowed");
    assertThatThrownBy(() -> renderWith("image.pullPolicy", "Sometimes"))
        .hasMessageContaining("/image/pullPolicy");
    assertThatThrownBy(() -> renderWith("admissionPolicy.enabled", "yes"))
        .hasMessageContaining("at '/admissionPolicy/enabled': got string, want boolean");
    assertThatThrownBy(() -> renderWith("agent.port", 70000)).hasMessageContaining("/agent/port");
    assertThatThrownBy(() -> renderWith("operator.revertTimeout", "two minutes"))
        .hasMessageContaining("/operator/revertTimeout");
  }

  private static String renderWith(String key, Object value) {
    return RenderedChart.template(RenderedChart.KUBE_VERSION, Map.of(key, value));
  }

  @Test
  void everyValueIsCommented() throws IOException {
    // A key is documented when a comment line sits right above it; resource quantities are data.
    List<String> lines = Files.readAllLines(ProjectPaths.chart().resolve("values.yaml"));
    Pattern key = Pattern.compile("^(\\s*)([A-Za-z][A-Za-z0-9]*):");
    List<String> undocumented = new ArrayList<>();
    int resourcesIndent = -1;
    for (int i = 0; i < lines.size(); i++) {
      Matcher m = key.matcher(lines.get(i));
      if (!m.find()) {
        continue;
      }
      int indent = m.group(1).length();
      if (resourcesIndent >= 0 && indent > resourcesIndent) {
        continue;
      }
      resourcesIndent = m.group(2).equals("resources") ? indent : -1;
      if (i == 0 || !lines.get(i - 1).strip().startsWith("#")) {
        undocumented.add((i + 1) + ": " + lines.get(i).strip());
      }
    }
    assertThat(undocumented).as("values.yaml keys without a comment above them").isEmpty();
  }

  @Test
  void serviceMonitorsScrapeBothServicesWhenEnabled() {
    assertThat(defaults.kind("ServiceMonitor")).isEmpty();
    List<HasMetadata> monitors = custom.kind("ServiceMonitor");

    assertThat(monitors)
        .extracting(o -> o.getMetadata().getName())
        .containsExactlyInAnyOrder(OPERATOR, OPERATOR + "-agent");
    for (HasMetadata monitor : monitors) {
      assertThat(monitor.getApiVersion()).isEqualTo("monitoring.coreos.com/v1");
      assertThat(monitor.getMetadata().getLabels()).containsEntry("release", "prometheus");
      Map<String, String> selector = matchLabels(monitor);
      // Each ServiceMonitor selects exactly one of the two Services.
      List<Service> selected =
          custom.all(Service.class).stream()
              .filter(s -> s.getMetadata().getLabels().entrySet().containsAll(selector.entrySet()))
              .toList();
      assertThat(selected)
          .as("services selected by %s", monitor.getMetadata().getName())
          .hasSize(1);
      JsonNode endpoint = json(monitor).at("/spec/endpoints/0");
      assertThat(endpoint.at("/port").asText()).isEqualTo("metrics");
      assertThat(endpoint.at("/path").asText()).isEqualTo("/metrics");
      assertThat(selected.getFirst().getSpec().getPorts())
          .extracting(p -> p.getName())
          .contains("metrics");
    }
  }

  @Test
  void prometheusRuleAlertsOnPressureOverflowAndFailedNodes() {
    assertThat(defaults.kind("PrometheusRule")).isEmpty();
    HasMetadata rule = custom.kind("PrometheusRule").getFirst();
    Map<String, JsonNode> alerts = new LinkedHashMap<>();
    json(rule).at("/spec/groups/0/rules").forEach(r -> alerts.put(r.get("alert").asText(), r));

    assertThat(alerts.get("TcpTuningTimeWaitPressureHigh").get("expr").asText())
        .isEqualTo("max by (node) (tcptuning_time_wait_max_destination_pressure) > 0.8");
    assertThat(alerts.get("TcpTuningTimeWaitPressureHigh").get("for").asText()).isEqualTo("10m");
    // Pods' own namespaces: same threshold (a fraction, never percent) and duration.
    assertThat(alerts.get("TcpTuningPodTimeWaitPressureHigh").get("expr").asText())
        .isEqualTo("max by (namespace, pod) (tcptuning_pod_max_destination_pressure) > 0.8");
    assertThat(alerts.get("TcpTuningPodTimeWaitPressureHigh").get("for").asText()).isEqualTo("10m");
    assertThat(alerts.get("TcpTuningPodTimeWaitPressureHigh").at("/annotations/summary").asText())
        .contains("{{ $labels.namespace }}/{{ $labels.pod }}")
        .contains("{{ printf \"%.2f\" $value }}");
    // Pressure is a fraction everywhere (1.0 = the range is full), in alerts too.
    for (JsonNode alert : alerts.values()) {
      assertThat(alert.toString()).doesNotContain("humanizePercentage");
    }
    assertThat(alerts.get("TcpTuningTimeWaitBucketOverflow").get("expr").asText())
        .isEqualTo("increase(tcptuning_tcpext_tcp_time_wait_overflow_total[10m]) > 0");
    assertThat(alerts.get("TcpTuningPolicyNodesFailing").get("expr").asText())
        .isEqualTo("max by (policy) (tcptuning_policy_nodes{state=\"failed\"}) > 0");
    // Prometheus' own templates must survive Helm's: {{ $labels.node }} reaches the annotation.
    assertThat(alerts.get("TcpTuningTimeWaitPressureHigh").at("/annotations/summary").asText())
        .contains("{{ $labels.node }}")
        .contains("{{ printf \"%.2f\" $value }}");
    for (JsonNode alert : alerts.values()) {
      assertThat(metricNames(alert.get("expr").asText())).isSubsetOf(CONTRACT_METRICS).isNotEmpty();
      assertThat(alert.at("/labels/severity").asText()).isNotEmpty();
    }
  }

  @Test
  void grafanaDashboardShowsPressureTopNodesAndSysctlState() throws IOException {
    assertThat(defaults.all(ConfigMap.class)).isEmpty();
    ConfigMap cm = custom.get(ConfigMap.class, OPERATOR + "-dashboard");
    assertThat(cm.getMetadata().getLabels()).containsEntry("grafana_dashboard", "1");
    JsonNode dashboard = new ObjectMapper().readTree(cm.getData().get("tcp-tuning.json"));

    Map<String, JsonNode> panels = new LinkedHashMap<>();
    dashboard.get("panels").forEach(p -> panels.put(p.get("title").asText(), p));
    assertThat(panels.get("TIME_WAIT pressure per node (busiest destination)").get("type").asText())
        .isEqualTo("timeseries");
    assertThat(queries(panels.get("TIME_WAIT pressure per node (busiest destination)")))
        .anyMatch(q -> q.contains("tcptuning_time_wait_max_destination_pressure"));
    assertThat(queries(panels.get("Top nodes by TIME_WAIT sockets")))
        .anyMatch(q -> q.startsWith("topk(10,") && q.contains("tcptuning_time_wait_sockets"));
    assertThat(panels.get("Sysctl state").get("type").asText()).isEqualTo("table");
    // Pods: the top ten by pressure to their busiest destination, with their TIME_WAIT sockets.
    JsonNode topPods = panels.get("Top pods by TIME_WAIT pressure (busiest destination)");
    assertThat(topPods.get("type").asText()).isEqualTo("table");
    assertThat(queries(topPods))
        .anyMatch(q -> q.startsWith("topk(10, max by (namespace, pod, node) (tcptuning_pod_max_destination_pressure"))
        .anyMatch(q -> q.contains("tcptuning_pod_time_wait_sockets"));
    assertThat(topPods.toString()).contains("\"Value #A\":\"pressure\"").contains("\"Value #B\":\"TIME_WAIT\"");
    assertThat(queries(panels.get("TIME_WAIT pressure of the top pods (busiest destination)")))
        .anyMatch(q -> q.startsWith("topk(10,") && q.contains("tcptuning_pod_max_destination_pressure"));
    // Pressure is a fraction everywhere: no panel shows it as a percentage.
    assertThat(cm.getData().get("tcp-tuning.json")).doesNotContain("percent");
    assertThat(queries(panels.get("Sysctl state")))
        .anyMatch(q -> q.contains("tcptuning_sysctl_value"))
        .anyMatch(q -> q.contains("tcptuning_sysctl_applied"));
    Set<String> used = new TreeSet<>();
    panels.values().forEach(p -> queries(p).forEach(q -> used.addAll(metricNames(q))));
    assertThat(used).isSubsetOf(CONTRACT_METRICS);
    // Panels must not overlap on Grafana's 24-column grid.
    Set<String> cells = new HashSet<>();
    for (JsonNode p : panels.values()) {
      JsonNode g = p.get("gridPos");
      assertThat(g.get("x").asInt() + g.get("w").asInt()).isLessThanOrEqualTo(24);
      for (int x = g.get("x").asInt(); x < g.get("x").asInt() + g.get("w").asInt(); x++) {
        for (int y = g.get("y").asInt(); y < g.get("y").asInt() + g.get("h").asInt(); y++) {
          assertThat(cells.add(x + "," + y)).as("panel %s overlaps", p.get("title")).isTrue();
        }
      }
    }
  }

  @Test
  void examplePolicyIsTheObserveOnlyExample() throws IOException {
    assertThat(defaults.kind("TcpTuningPolicy")).isEmpty();
    HasMetadata rendered = custom.kind("TcpTuningPolicy").getFirst();
    GenericKubernetesResource example =
        Serialization.unmarshal(
            Files.readString(ProjectPaths.deploy().resolve("examples/observe-only.yaml")),
            GenericKubernetesResource.class);

    assertThat(rendered.getMetadata().getName()).isEqualTo(example.getMetadata().getName());
    assertThat(json(rendered).get("spec")).isEqualTo(json(example).get("spec"));
    assertThat(json(rendered).at("/spec/mode").asText()).isEqualTo("DryRun");
  }

  @Test
  void namespaceObjectAllowsPrivilegedAgentsWhenRequested() {
    assertThat(defaults.all(Namespace.class)).isEmpty();
    Namespace ns =
        RenderedChart.render(Map.of("namespace.create", true))
            .get(Namespace.class, RenderedChart.NAMESPACE);

    assertThat(ns.getMetadata().getLabels())
        .containsEntry("pod-security.kubernetes.io/enforce", "privileged");
  }

  @Test
  void notesTellTheUserWhatToRunNext() {
    String notes = notes(RenderedChart.KUBE_VERSION, Map.of());

    assertThat(notes)
        .contains("kubectl get ttp")
        .contains("kubectl get ttns")
        .contains("kubectl wait --for=condition=Ready ttp/NAME")
        .contains(
            "kubectl label namespace tcp-tuning-system"
                + " pod-security.kubernetes.io/enforce=privileged")
        .contains("ValidatingAdmissionPolicy");
    assertThat(notes(RenderedChart.KUBE_VERSION, Map.of("examplePolicy.enabled", true)))
        .contains("kubectl wait --for=condition=Ready ttp/observe-only");
    assertThat(notes(RenderedChart.KUBE_VERSION, Map.of("namespace.create", true)))
        .doesNotContain("kubectl label namespace");
    // On an old cluster the user learns that the policy was left out, and why.
    assertThat(notes("v1.29.9", Map.of())).contains("was not", "installed", "Kubernetes < 1.30");
  }

  /** NOTES.txt as `helm install --dry-run=client` prints it (templates do not render it). */
  private static String notes(String kubeVersion, Map<String, Object> values) {
    InstallCommand install =
        new Helm(ProjectPaths.chart())
            .install()
            .withName(RenderedChart.RELEASE)
            .withNamespace(RenderedChart.NAMESPACE)
            .withKubeVersion(kubeVersion)
            .clientOnly()
            .withDryRunOption(DryRun.CLIENT);
    values.forEach(install::set);
    String output = install.call().getOutput();
    return output.substring(output.indexOf("NOTES:"));
  }

  // --- helpers ---

  private static List<String> kindsAndNames(RenderedChart chart) {
    return chart.objects().stream()
        .map(o -> o.getKind() + "/" + o.getMetadata().getName())
        .toList();
  }

  private static List<PolicyRule> allRules(RenderedChart chart) {
    return Stream.concat(
            chart.all(ClusterRole.class).stream().flatMap(r -> r.getRules().stream()),
            chart.all(Role.class).stream().flatMap(r -> r.getRules().stream()))
        .toList();
  }

  /** Expands rules into "group/resource:verb" strings ("" is the core group). */
  private static List<String> permissions(List<PolicyRule> rules) {
    return rules.stream()
        .flatMap(
            r ->
                r.getApiGroups().stream()
                    .flatMap(
                        g ->
                            r.getResources().stream()
                                .flatMap(
                                    res ->
                                        r.getVerbs().stream().map(v -> g + "/" + res + ":" + v))))
        .toList();
  }

  private static Map<String, String> env(Container c) {
    return c.getEnv().stream()
        .filter(e -> e.getValue() != null)
        .collect(
            Collectors.toMap(EnvVar::getName, EnvVar::getValue, (a, b) -> b, LinkedHashMap::new));
  }

  private static JsonNode json(HasMetadata o) {
    return new ObjectMapper().valueToTree(o);
  }

  private static Map<String, String> matchLabels(HasMetadata monitor) {
    Map<String, String> labels = new LinkedHashMap<>();
    json(monitor)
        .at("/spec/selector/matchLabels")
        .properties()
        .forEach(e -> labels.put(e.getKey(), e.getValue().asText()));
    return labels;
  }

  private static List<String> queries(JsonNode panel) {
    List<String> out = new ArrayList<>();
    panel.get("targets").forEach(t -> out.add(t.get("expr").asText()));
    return out;
  }

  private static final Pattern METRIC = Pattern.compile("\\btcptuning_[a-z_]+");

  static Set<String> metricNames(String promql) {
    Set<String> names = new TreeSet<>();
    Matcher m = METRIC.matcher(promql);
    while (m.find()) {
      names.add(m.group());
    }
    return names;
  }
}
