package io.tcptuning.packaging;

import io.tcptuning.testing.ProjectPaths;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * The plain manifests in {@code deploy/}: the chart rendered with default values (plus {@code
 * namespace.create=true}, so the namespace carries the privileged Pod Security label), split into
 * numbered files in apply order, and the CRDs copied verbatim. {@code kubectl apply -f deploy/}
 * then installs what {@code helm install} would.
 */
final class DeployManifests {

  static final String REGENERATE =
      "./mvnw -B -pl operator/cli -am test -Dtest=DeployManifestsTest -Dsurefire.failIfNoSpecifiedTests=false -Ddeploy.regenerate=true";

  /** Kubernetes version the manifests target: the first with the admission policy's v1 API. */
  static final String KUBE_VERSION = "v1.30.0";

  /** Chart template file to deploy file. A template missing here fails the generation. */
  private static final Map<String, String> FILE_OF_TEMPLATE =
      Map.ofEntries(
          Map.entry("templates/namespace.yaml", "00-namespace.yaml"),
          Map.entry("templates/serviceaccounts.yaml", "20-rbac.yaml"),
          Map.entry("templates/rbac-operator.yaml", "20-rbac.yaml"),
          Map.entry("templates/rbac-agent.yaml", "20-rbac.yaml"),
          Map.entry("templates/admission-policy.yaml", "25-admission-policy.yaml"),
          Map.entry("templates/operator-deployment.yaml", "30-operator.yaml"),
          Map.entry("templates/operator-pdb.yaml", "30-operator.yaml"),
          Map.entry("templates/services.yaml", "40-metrics-services.yaml"),
          Map.entry("templates/servicemonitors.yaml", "50-monitoring.yaml"),
          Map.entry("templates/prometheusrule.yaml", "50-monitoring.yaml"),
          Map.entry("templates/grafana-dashboard.yaml", "50-monitoring.yaml"),
          Map.entry("templates/example-policy.yaml", "90-example-policy.yaml"));

  private static final Map<String, String> NOTE_OF_FILE =
      Map.of(
          "25-admission-policy.yaml",
          "# Needs Kubernetes >= 1.30 (admissionregistration.k8s.io/v1 and the node-name claim in\n"
              + "# service-account tokens); on older clusters leave this file out.\n");

  private DeployManifests() {}

  /** File name to content, for every file the generator owns. */
  static SortedMap<String, String> expected() {
    SortedMap<String, StringBuilder> files = new TreeMap<>();
    RenderedChart chart = RenderedChart.render(KUBE_VERSION, Map.of("namespace.create", true, "managedBy", "kubectl"));
    for (RenderedChart.Document doc : chart.documents()) {
      String file = FILE_OF_TEMPLATE.get(doc.source());
      if (file == null) {
        throw new IllegalStateException(
            "no deploy/ file for chart template " + doc.source() + ": add it to DeployManifests");
      }
      StringBuilder out = files.computeIfAbsent(file, f -> new StringBuilder(header(f)));
      out.append("---\n").append(doc.yaml());
    }
    SortedMap<String, String> result = new TreeMap<>();
    files.forEach((name, text) -> result.put(name, text.toString()));
    for (Path crd : crds()) {
      String kind = crd.getFileName().toString().replaceFirst("\\..*$", "");
      result.put("10-crds-" + kind + ".yaml", read(crd));
    }
    return result;
  }

  /** The numbered manifests currently in deploy/ (examples/ and other files are not ours). */
  static SortedMap<String, String> committed() {
    SortedMap<String, String> files = new TreeMap<>();
    try (Stream<Path> list = Files.list(ProjectPaths.deploy())) {
      list.filter(DeployManifests::isGenerated)
          .forEach(p -> files.put(p.getFileName().toString(), read(p)));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return files;
  }

  /** Rewrites deploy/: stale numbered files are removed, the rest written fresh. */
  static void write() throws IOException {
    SortedMap<String, String> expected = expected();
    for (String stale : committed().keySet()) {
      if (!expected.containsKey(stale)) {
        Files.delete(ProjectPaths.deploy().resolve(stale));
      }
    }
    for (Map.Entry<String, String> file : expected.entrySet()) {
      Files.writeString(ProjectPaths.deploy().resolve(file.getKey()), file.getValue());
    }
  }

  private static boolean isGenerated(Path p) {
    return Files.isRegularFile(p) && p.getFileName().toString().matches("\\d\\d-.*\\.yaml");
  }

  private static String header(String file) {
    return "# Generated from charts/tcp-tuning-operator (default values, namespace"
        + " tcp-tuning-system,\n"
        + "# release tcp-tuning-operator) by DeployManifestsTest. Do not edit; regenerate"
        + " with\n"
        + "# "
        + REGENERATE
        + "\n"
        + NOTE_OF_FILE.getOrDefault(file, "");
  }

  private static List<Path> crds() {
    try (Stream<Path> list = Files.list(ProjectPaths.chart().resolve("crds"))) {
      return list.filter(p -> p.toString().endsWith(".yml") || p.toString().endsWith(".yaml"))
          .sorted()
          .toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String read(Path p) {
    try {
      return Files.readString(p);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
