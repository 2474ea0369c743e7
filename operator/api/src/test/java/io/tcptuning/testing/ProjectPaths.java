package io.tcptuning.testing;

import java.nio.file.Files;
import java.nio.file.Path;

/** Locates the repository root, whether tests run from the module directory or the root. */
public final class ProjectPaths {

  private ProjectPaths() {}

  public static Path root() {
    for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
      if (Files.isRegularFile(dir.resolve("charts/tcp-tuning-operator/Chart.yaml"))) {
        return dir;
      }
    }
    throw new IllegalStateException(
        "charts/tcp-tuning-operator/Chart.yaml not found above " + Path.of("").toAbsolutePath());
  }

  public static Path chart() {
    return root().resolve("charts/tcp-tuning-operator");
  }

  public static Path deploy() {
    return root().resolve("deploy");
  }

  /** A file or folder by its path from the repository root: {@code resolve("deploy/examples")}. */
  public static Path resolve(String fromRoot) {
    return root().resolve(fromRoot);
  }
}
