package io.tcptuning.packaging;

import java.nio.file.Files;
import java.nio.file.Path;

/** Locates the repository root, whether tests run from the module directory or the root. */
final class ProjectPaths {

  private ProjectPaths() {}

  static Path root() {
    for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
      if (Files.isRegularFile(dir.resolve("charts/tcp-tuning-operator/Chart.yaml"))) {
        return dir;
      }
    }
    throw new IllegalStateException(
        "charts/tcp-tuning-operator/Chart.yaml not found above " + Path.of("").toAbsolutePath());
  }

  static Path chart() {
    return root().resolve("charts/tcp-tuning-operator");
  }

  static Path deploy() {
    return root().resolve("deploy");
  }
}
