package io.tcptuning.json;

import java.io.IOException;

/** JSON text that {@link Json#parse} refuses; says where, as a path and a character offset. */
public final class JsonException extends IOException {
  private final String path;
  private final int offset;
  private final String problem;

  public JsonException(String path, int offset, String problem) {
    super(path + ": " + problem + " (at character " + offset + ")");
    this.path = path;
    this.offset = offset;
    this.problem = problem;
  }

  /** What is wrong, without the path: e.g. {@code is given twice; each key may appear once}. */
  public String problem() {
    return problem;
  }

  /** Where in the document: {@code $} for the root, else like {@code spec.sysctls[0].name}. */
  public String path() {
    return path;
  }

  /** Offset of the offending character, counted in chars (UTF-16 units) from the start. */
  public int offset() {
    return offset;
  }
}
