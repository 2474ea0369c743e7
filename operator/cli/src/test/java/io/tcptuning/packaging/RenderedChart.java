package io.tcptuning.packaging;

import io.tcptuning.testing.ProjectPaths;

import com.marcnuri.helm.Helm;
import com.marcnuri.helm.TemplateCommand;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The chart rendered by helm-java's {@code template} (the Helm library itself, no binary), split
 * into documents that remember their template file and parsed into fabric8 objects (typed where
 * fabric8 knows the kind, {@code GenericKubernetesResource} otherwise).
 */
final class RenderedChart {

  static final String RELEASE = "tcp-tuning-operator";
  static final String NAMESPACE = "tcp-tuning-system";

  /** Kubernetes version to render for; helm-java assumes 1.20 otherwise, below kubeVersion. */
  static final String KUBE_VERSION = "v1.33.0";

  private static final Pattern SOURCE =
      Pattern.compile("^# Source: [^/]+/(\\S+)$", Pattern.MULTILINE);

  /**
   * One rendered YAML document and the chart file it came from (e.g. templates/rbac-agent.yaml).
   */
  record Document(String source, String yaml, HasMetadata object) {}

  private final List<Document> documents;

  private RenderedChart(List<Document> documents) {
    this.documents = documents;
  }

  static RenderedChart render() {
    return render(Map.of());
  }

  static RenderedChart render(Map<String, Object> values) {
    return render(KUBE_VERSION, values);
  }

  static RenderedChart render(String kubeVersion, Map<String, Object> values) {
    return parse(template(kubeVersion, values));
  }

  /** The raw output of {@code helm template} for the fixed release name and namespace. */
  static String template(String kubeVersion, Map<String, Object> values) {
    TemplateCommand template =
        new Helm(ProjectPaths.chart())
            .template()
            .withName(RELEASE)
            .withNamespace(NAMESPACE)
            .withKubeVersion(kubeVersion);
    new LinkedHashMap<>(values).forEach(template::set);
    return template.call();
  }

  static RenderedChart parse(String output) {
    List<Document> documents = new ArrayList<>();
    for (String part : output.split("(?m)^---\\s*$")) {
      if (part.isBlank()) {
        continue;
      }
      Matcher source = SOURCE.matcher(part);
      if (!source.find()) {
        throw new IllegalStateException("rendered document without a '# Source:' line:\n" + part);
      }
      String yaml = part.strip() + "\n";
      documents.add(
          new Document(source.group(1), yaml, Serialization.unmarshal(yaml, HasMetadata.class)));
    }
    return new RenderedChart(documents);
  }

  List<Document> documents() {
    return documents;
  }

  List<HasMetadata> objects() {
    return documents.stream().map(Document::object).toList();
  }

  <T extends HasMetadata> List<T> all(Class<T> type) {
    return objects().stream().filter(type::isInstance).map(type::cast).toList();
  }

  /** Objects of a kind fabric8 has no class for (ServiceMonitor, PrometheusRule, our CRs). */
  List<HasMetadata> kind(String kind) {
    return objects().stream().filter(o -> kind.equals(o.getKind())).toList();
  }

  <T extends HasMetadata> Optional<T> find(Class<T> type, String name) {
    return all(type).stream().filter(o -> name.equals(o.getMetadata().getName())).findFirst();
  }

  <T extends HasMetadata> T get(Class<T> type, String name) {
    return find(type, name)
        .orElseThrow(
            () ->
                new AssertionError("no " + type.getSimpleName() + " named " + name + " rendered"));
  }
}
