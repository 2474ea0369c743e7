package io.tcptuning.packaging;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import org.junit.jupiter.api.Test;

/**
 * Keeps {@code deploy/} in step with the chart. Fails with the command to run when the committed
 * files drift; {@code -Ddeploy.regenerate=true} rewrites them instead.
 */
class DeployManifestsTest {

  /** Kinds that live outside any namespace; everything else must name tcp-tuning-system. */
  private static final Set<String> CLUSTER_SCOPED =
      Set.of(
          "Namespace",
          "CustomResourceDefinition",
          "ClusterRole",
          "ClusterRoleBinding",
          "ValidatingAdmissionPolicy",
          "ValidatingAdmissionPolicyBinding",
          "TcpTuningPolicy");

  @Test
  void deployDirectoryMatchesTheChart() throws IOException {
    if (Boolean.getBoolean("deploy.regenerate")) {
      DeployManifests.write();
    }
    SortedMap<String, String> expected = DeployManifests.expected();
    SortedMap<String, String> committed = DeployManifests.committed();

    List<String> drift = new ArrayList<>();
    expected.forEach(
        (name, text) -> {
          if (!committed.containsKey(name)) {
            drift.add("missing deploy/" + name);
          } else if (!committed.get(name).equals(text)) {
            drift.add("outdated deploy/" + name);
          }
        });
    committed.keySet().stream()
        .filter(name -> !expected.containsKey(name))
        .forEach(name -> drift.add("stale deploy/" + name));
    if (!drift.isEmpty()) {
      fail(
          "deploy/ is out of date with charts/tcp-tuning-operator ("
              + String.join(", ", drift)
              + "). Run\n  "
              + DeployManifests.REGENERATE
              + "\nand commit deploy/.");
    }
  }

  @Test
  void plainManifestsDoNotClaimHelm() {
    for (Map.Entry<String, String> file : DeployManifests.expected().entrySet()) {
      assertThat(file.getValue()).as(file.getKey()).doesNotContain("managed-by: Helm");
    }
    assertThat(DeployManifests.expected().get("30-operator.yaml")).contains("app.kubernetes.io/managed-by: kubectl");
  }

  @Test
  void filesComeInApplyOrder() {
    SortedMap<String, String> files = DeployManifests.expected();

    // kubectl apply -f deploy/ goes alphabetically: namespace, CRDs, RBAC, policy, operator.
    assertThat(files.keySet())
        .containsSubsequence(
            "00-namespace.yaml",
            "10-crds-tcptuningnodestates.yaml",
            "10-crds-tcptuningpolicies.yaml",
            "20-rbac.yaml",
            "25-admission-policy.yaml",
            "30-operator.yaml",
            "40-metrics-services.yaml");
    // Off by default, so not part of the plain install.
    assertThat(files.keySet()).doesNotContain("50-monitoring.yaml", "90-example-policy.yaml");
  }

  @Test
  void namespaceAllowsPrivilegedAgents() {
    Namespace ns =
        Serialization.unmarshal(
            DeployManifests.expected().get("00-namespace.yaml"), Namespace.class);

    assertThat(ns.getMetadata().getName()).isEqualTo(RenderedChart.NAMESPACE);
    assertThat(ns.getMetadata().getLabels())
        .containsEntry("pod-security.kubernetes.io/enforce", "privileged");
  }

  @Test
  void crdFilesAreTheGeneratedCrds() {
    Map<String, String> files = DeployManifests.expected();

    for (String plural : List.of("tcptuningpolicies", "tcptuningnodestates")) {
      CustomResourceDefinition crd =
          Serialization.unmarshal(
              files.get("10-crds-" + plural + ".yaml"), CustomResourceDefinition.class);
      assertThat(crd.getMetadata().getName()).isEqualTo(plural + ".tcptuning.io");
      assertThat(crd.getSpec().getScope()).isEqualTo("Cluster");
    }
  }

  @Test
  void everyNamespacedObjectNamesTheInstallNamespace() {
    // Without an explicit namespace, `kubectl apply` would drop objects into the current context's.
    for (Map.Entry<String, String> file : DeployManifests.expected().entrySet()) {
      for (String doc : file.getValue().split("(?m)^---\\s*$")) {
        if (doc.lines().allMatch(l -> l.isBlank() || l.startsWith("#"))) {
          continue;
        }
        HasMetadata o = Serialization.unmarshal(doc, HasMetadata.class);
        if (CLUSTER_SCOPED.contains(o.getKind())) {
          assertThat(o.getMetadata().getNamespace())
              .as("%s in %s", o.getKind(), file.getKey())
              .isNull();
        } else {
          assertThat(o.getMetadata().getNamespace())
              .as("%s/%s in %s", o.getKind(), o.getMetadata().getName(), file.getKey())
              .isEqualTo(RenderedChart.NAMESPACE);
        }
      }
    }
  }
}
