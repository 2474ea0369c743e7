package io.tcptuning.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * The corpus of bad policies under {@code src/test/resources/hostile-policies}: each file starts
 * with {@code # crd-rejects: true|false} (whether the CRD schema and its CEL rules alone must
 * reject it; false for what the API server rejects before the schema, such as a wrong kind or a
 * YAML alias bomb) and {@code # expect: TEXT} (what the agent's error must contain: the field path
 * and, where the path alone does not say it, what is wrong, as in {@code spec: is given twice};
 * tests match it against the violations, not against a message that also holds the file name).
 * One more case, a multi-megabyte manifest, is generated.
 */
public record HostilePolicyCorpus(String name, boolean crdRejects, String expect, String content) {
  public static final Path DIR = ProjectPaths.resolve("operator/api/src/test/resources/hostile-policies");

  @Override
  public String toString() {
    return name;
  }

  public static List<HostilePolicyCorpus> all() {
    List<HostilePolicyCorpus> out = new ArrayList<>();
    try (Stream<Path> files = Files.list(DIR)) {
      for (Path f : files.sorted().toList()) {
        out.add(read(f));
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    out.add(new HostilePolicyCorpus("generated-multi-megabyte", false, "manifest: is larger than 1 MiB", multiMegabyte()));
    return out;
  }

  /** One case by file name ({@code 01-tw-reuse-too-high.yaml}), for tests that assert more about it. */
  public static HostilePolicyCorpus named(String name) {
    try {
      return read(DIR.resolve(name));
    } catch (IOException e) {
      throw new UncheckedIOException("no corpus case " + name + " in " + DIR, e);
    }
  }

  private static HostilePolicyCorpus read(Path f) throws IOException {
    String content = Files.readString(f, StandardCharsets.UTF_8);
    String[] lines = content.split("\n", 3);
    return new HostilePolicyCorpus(
        f.getFileName().toString(),
        Boolean.parseBoolean(value(lines[0], "# crd-rejects:")),
        value(lines[1], "# expect:"),
        content);
  }

  static String multiMegabyte() {
    StringBuilder b = new StringBuilder("apiVersion: tcptuning.io/v1alpha1\nkind: TcpTuningPolicy\nmetadata:\n  name: big\n  annotations:\n");
    String filler = "x".repeat(100);
    for (int i = 0; b.length() < 3 * 1024 * 1024; i++) {
      b.append("    k").append(i).append(": \"").append(filler).append("\"\n");
    }
    return b.append("spec:\n  sysctls: {tcpTwReuse: 1}\n").toString();
  }

  private static String value(String line, String prefix) {
    if (!line.startsWith(prefix)) {
      throw new IllegalStateException("corpus file must start with '" + prefix + "': " + line);
    }
    return line.substring(prefix.length()).strip();
  }
}
