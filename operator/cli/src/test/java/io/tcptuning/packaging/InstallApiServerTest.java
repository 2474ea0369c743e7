package io.tcptuning.packaging;

import static org.assertj.core.api.Assertions.assertThat;

import io.tcptuning.apiserver.RealApiServer;
import io.tcptuning.testing.ProjectPaths;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinitionBuilder;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The install, judged by a real API server: every object the chart renders (every optional
 * template switched on) and every file in {@code deploy/} passes {@code kubectl apply --server-side
 * --dry-run=server} (the server's own validation, defaulting and admission, nothing stored), then
 * {@code deploy/} is applied for real as README says and the objects are there.
 *
 * <p>A dry run of a namespaced object needs its namespace, and one of a custom resource its CRD, so
 * the namespace and the CRDs are dry-run first, then created, then the rest is dry-run. The
 * ServiceMonitors and the PrometheusRule are checked against stand-in CRDs for
 * monitoring.coreos.com/v1 that accept any spec: the Prometheus Operator's CRDs cannot be
 * fetched here, so only their kind, group, scope and metadata are checked by the server.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class InstallApiServerTest {

  @RegisterExtension static final RealApiServer API = new RealApiServer();

  private static final String DRY_RUN = "serverside-applied (server dry run)";

  /** Every optional template on, so that every template file renders something. */
  private static final Map<String, Object> EVERYTHING =
      Map.of(
          "namespace.create", true,
          "metrics.serviceMonitor.enabled", true,
          "metrics.prometheusRule.enabled", true,
          "metrics.grafanaDashboard.enabled", true,
          "examplePolicy.enabled", true);

  @Test
  @Order(1)
  void theNamespaceAndTheCrdsPassAServerDryRun() {
    List<Path> foundation = List.of(deploy("00-namespace.yaml"), deploy("10-crds-tcptuningnodestates.yaml"), deploy("10-crds-tcptuningpolicies.yaml"));
    RealApiServer.Kubectl dryRun = serverSideDryRun(foundation);
    assertThat(dryRun.stdout())
        .contains("namespace/" + RenderedChart.NAMESPACE + " " + DRY_RUN)
        .contains("customresourcedefinition.apiextensions.k8s.io/tcptuningpolicies.tcptuning.io " + DRY_RUN)
        .contains("customresourcedefinition.apiextensions.k8s.io/tcptuningnodestates.tcptuning.io " + DRY_RUN);
    // A dry run stores nothing.
    assertThat(API.client().namespaces().withName(RenderedChart.NAMESPACE).get()).isNull();
    assertThat(API.client().apiextensions().v1().customResourceDefinitions().withName("tcptuningpolicies.tcptuning.io").get()).isNull();
  }

  @Test
  @Order(2)
  void everyRenderedObjectAndEveryDeployFilePassAServerDryRun() {
    // What the dry run of the rest needs: the namespace and the CRDs, for real.
    API.kubectl("apply", "--server-side", "-f", deploy("00-namespace.yaml").toString(),
        "-f", deploy("10-crds-tcptuningnodestates.yaml").toString(), "-f", deploy("10-crds-tcptuningpolicies.yaml").toString()).assertSuccess();
    API.kubectl("wait", "--for=condition=Established", "--timeout=30s",
        "crd/tcptuningpolicies.tcptuning.io", "crd/tcptuningnodestates.tcptuning.io").assertSuccess();
    installPrometheusOperatorStandIns();

    RealApiServer.Kubectl deployFiles = serverSideDryRun(deployFiles());
    for (HasMetadata o : objects(deployFiles())) {
      assertThat(deployFiles.stdout()).as(deployFiles.toString()).contains(resource(o) + " " + DRY_RUN);
    }

    RenderedChart chart = RenderedChart.render(EVERYTHING);
    assertThat(chart.documents()).extracting(RenderedChart.Document::source).contains(
        "templates/namespace.yaml", "templates/serviceaccounts.yaml", "templates/rbac-operator.yaml", "templates/rbac-agent.yaml",
        "templates/admission-policy.yaml", "templates/operator-deployment.yaml", "templates/services.yaml",
        "templates/servicemonitors.yaml", "templates/prometheusrule.yaml", "templates/grafana-dashboard.yaml", "templates/example-policy.yaml");
    String stream = chart.documents().stream().map(d -> "---\n" + d.yaml()).collect(Collectors.joining());
    // The namespace was applied from deploy/ (managed-by: kubectl); the chart's says Helm. One install
    // takes one way, so the dry run takes the fields over as Helm would after a plain install.
    RealApiServer.Kubectl rendered =
        API.kubectlWithInput(stream, "apply", "--server-side", "--dry-run=server", "--field-manager=helm", "--force-conflicts", "-f", "-");
    assertThat(rendered.exitCode()).as(rendered.toString()).isZero();
    for (HasMetadata o : chart.objects()) {
      assertThat(rendered.stdout()).as(rendered.toString()).contains(resource(o) + " " + DRY_RUN);
    }
    // Still nothing but the namespace and the CRDs.
    assertThat(API.client().apps().deployments().inNamespace(RenderedChart.NAMESPACE).list().getItems()).isEmpty();
  }

  @Test
  @Order(3)
  void deployAppliesForRealAsReadmeSays() {
    // README: kubectl apply -f deploy/   (the files apply in name order: namespace, CRDs, RBAC, ...)
    RealApiServer.Kubectl apply = API.kubectl("apply", "-f", ProjectPaths.deploy().toString());
    assertThat(apply.exitCode()).as(apply.toString()).isZero();
    for (HasMetadata o : objects(deployFiles())) {
      assertThat(API.client().resource(o).get()).as(resource(o) + " after kubectl apply -f deploy/").isNotNull();
    }
    assertThat(API.client().apps().deployments().inNamespace(RenderedChart.NAMESPACE).withName("tcp-tuning-operator").get())
        .extracting(d -> d.getSpec().getTemplate().getSpec().getServiceAccountName())
        .isEqualTo("tcp-tuning-operator");
    assertThat(API.client().admissionRegistration().v1().validatingAdmissionPolicies().list().getItems()).hasSize(1);
    assertThat(API.client().admissionRegistration().v1().validatingAdmissionPolicyBindings().list().getItems()).hasSize(1);
    // (Its status.typeChecking is written by kube-controller-manager, which this server runs without;
    // what the policy admits is tested in LeastPrivilegeApiServerTest.)
    // Applying again changes nothing; then README's next step.
    // Applying again stores nothing new: no object gets a new resourceVersion. (kubectl still says
    // "configured" for the CRDs and the admission policy: the server fills in defaults inside
    // lists kubectl replaces whole, e.g. scope "*" in the policy's resourceRules, so kubectl sends
    // a patch, which the server finds to be a no-op.)
    Map<String, String> versions = resourceVersions();
    RealApiServer.Kubectl again = API.kubectl("apply", "-f", ProjectPaths.deploy().toString()).assertSuccess();
    assertThat(again.stdout()).doesNotContain("created");
    assertThat(resourceVersions()).isEqualTo(versions);

    API.kubectl("apply", "-f", ProjectPaths.resolve("deploy/examples/observe-only.yaml").toString()).assertSuccess();
    assertThat(API.kubectl("get", "ttp,ttns").assertSuccess().stdout()).contains("observe-only");
  }

  private static Map<String, String> resourceVersions() {
    Map<String, String> versions = new java.util.TreeMap<>();
    for (HasMetadata o : objects(deployFiles())) {
      versions.put(resource(o), API.client().resource(o).get().getMetadata().getResourceVersion());
    }
    return versions;
  }

  private static RealApiServer.Kubectl serverSideDryRun(List<Path> files) {
    List<String> args = new ArrayList<>(List.of("apply", "--server-side", "--dry-run=server"));
    files.forEach(f -> args.addAll(List.of("-f", f.toString())));
    RealApiServer.Kubectl run = API.kubectl(args.toArray(String[]::new));
    assertThat(run.exitCode()).as(run.toString()).isZero();
    return run;
  }

  /** kubectl's name for an object: kind.group/name, the group left out for the core group. */
  private static String resource(HasMetadata o) {
    String apiVersion = o.getApiVersion();
    String group = apiVersion.contains("/") ? "." + apiVersion.substring(0, apiVersion.indexOf('/')) : "";
    return o.getKind().toLowerCase() + group + "/" + o.getMetadata().getName();
  }

  private static Path deploy(String file) {
    return ProjectPaths.deploy().resolve(file);
  }

  private static List<Path> deployFiles() {
    try (Stream<Path> files = Files.list(ProjectPaths.deploy())) {
      return files.filter(f -> f.toString().endsWith(".yaml")).sorted().toList();
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private static List<HasMetadata> objects(List<Path> files) {
    List<HasMetadata> all = new ArrayList<>();
    for (Path f : files) {
      try (var in = new ByteArrayInputStream(Files.readAllBytes(f))) {
        all.addAll(API.client().load(in).items());
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    }
    assertThat(all).hasSizeGreaterThan(10);
    return all;
  }

  /** monitoring.coreos.com/v1 ServiceMonitor and PrometheusRule, any spec accepted. */
  private static void installPrometheusOperatorStandIns() {
    for (String[] kind : List.of(new String[] {"ServiceMonitor", "servicemonitors"}, new String[] {"PrometheusRule", "prometheusrules"})) {
      CustomResourceDefinition crd =
          new CustomResourceDefinitionBuilder()
              .withNewMetadata().withName(kind[1] + ".monitoring.coreos.com").endMetadata()
              .withNewSpec()
              .withGroup("monitoring.coreos.com")
              .withScope("Namespaced")
              .withNewNames().withKind(kind[0]).withPlural(kind[1]).withSingular(kind[0].toLowerCase()).endNames()
              .addNewVersion()
              .withName("v1").withServed(true).withStorage(true)
              .withNewSchema().withNewOpenAPIV3Schema().withType("object").withXKubernetesPreserveUnknownFields(true).endOpenAPIV3Schema().endSchema()
              .endVersion()
              .endSpec()
              .build();
      API.client().resource(crd).create();
      API.client().apiextensions().v1().customResourceDefinitions().withName(crd.getMetadata().getName())
          .waitUntilCondition(RealApiServer::established, 30, TimeUnit.SECONDS);
    }
  }
}
