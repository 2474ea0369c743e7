package io.tcptuning.api;

import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceColumnDefinition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * Build step (process-classes, after the fabric8 CRD generator): publishes the generated CRDs to
 * {@code crds/} and the Helm chart, with the printer columns in the order they are declared on
 * the Java class. The generator sorts them by JSON path, which would put "Age" first in
 * {@code kubectl get}.
 *
 * <p>Arguments: the generator's output directory, then one or more target directories.
 */
public final class CrdPublisher {
  static final String HEADER =
      "# Generated from operator/api/src/main/java/io/tcptuning/api by the build. Do not edit.\n";

  private CrdPublisher() {}

  public static void main(String[] args) throws IOException {
    if (args.length < 2) {
      throw new IllegalArgumentException("usage: CrdPublisher GENERATED_DIR TARGET_DIR...");
    }
    Path generated = Path.of(args[0]);
    List<Path> targets = Arrays.stream(args).skip(1).map(Path::of).toList();
    try (Stream<Path> files = Files.list(generated)) {
      for (Path file : files.filter(f -> f.getFileName().toString().endsWith("-v1.yml")).sorted().toList()) {
        String yaml = publish(Files.readString(file, StandardCharsets.UTF_8));
        for (Path target : targets) {
          Files.createDirectories(target);
          Path out = target.resolve(file.getFileName().toString().replace(".yml", ".yaml"));
          if (!Files.exists(out) || !Files.readString(out, StandardCharsets.UTF_8).equals(yaml)) {
            Files.writeString(out, yaml, StandardCharsets.UTF_8);
          }
        }
      }
    }
  }

  /** The CRD as published: printer columns in declaration order, our header. */
  static String publish(String generatedYaml) {
    CustomResourceDefinition crd = Serialization.unmarshal(generatedYaml, CustomResourceDefinition.class);
    List<String> order = declaredColumns(crd.getSpec().getNames().getKind());
    Comparator<CustomResourceColumnDefinition> byDeclaration =
        Comparator.comparingInt(c -> {
          int i = order.indexOf(c.getName());
          return i < 0 ? Integer.MAX_VALUE : i;
        });
    crd.getSpec().getVersions().forEach(v -> {
      if (v.getAdditionalPrinterColumns() != null) {
        v.getAdditionalPrinterColumns().sort(byDeclaration);
      }
    });
    return HEADER + Serialization.asYaml(crd);
  }

  private static List<String> declaredColumns(String kind) {
    try {
      Class<?> type = Class.forName("io.tcptuning.api.v1alpha1." + kind);
      return Arrays.stream(type.getAnnotationsByType(AdditionalPrinterColumn.class)).map(AdditionalPrinterColumn::name).toList();
    } catch (ClassNotFoundException e) {
      throw new IllegalStateException("no model class for CRD kind " + kind, e);
    }
  }
}
