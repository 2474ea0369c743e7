package io.tcptuning.metrics;

import java.util.Map;

/**
 * Writes the Prometheus text exposition format (version 0.0.4) for a handful of series, without
 * a metrics library: the node agent runs on every node, and a registry costs it more memory than
 * all its own series together.
 */
public final class PrometheusText {
  private final StringBuilder out = new StringBuilder(2048);

  /** Starts a family: its {@code # HELP} and {@code # TYPE} lines. Counter names end in {@code _total}. */
  public PrometheusText family(String name, String type, String help) {
    out.append("# HELP ").append(name).append(' ');
    escape(help, false);
    out.append("\n# TYPE ").append(name).append(' ').append(type).append('\n');
    return this;
  }

  /** One sample of the current family, labels in the order given. */
  public PrometheusText sample(String name, Map<String, String> labels, double value) {
    out.append(name);
    if (!labels.isEmpty()) {
      out.append('{');
      boolean first = true;
      for (var label : labels.entrySet()) {
        if (!first) {
          out.append(',');
        }
        first = false;
        out.append(label.getKey()).append("=\"");
        escape(label.getValue(), true);
        out.append('"');
      }
      out.append('}');
    }
    out.append(' ').append(format(value)).append('\n');
    return this;
  }

  private void escape(String s, boolean quotes) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '\\' -> out.append("\\\\");
        case '\n' -> out.append("\\n");
        case '"' -> out.append(quotes ? "\\\"" : "\"");
        default -> out.append(c);
      }
    }
  }

  static String format(double v) {
    if (Double.isNaN(v)) {
      return "NaN";
    }
    if (Double.isInfinite(v)) {
      return v > 0 ? "+Inf" : "-Inf";
    }
    return Double.toString(v);
  }

  @Override
  public String toString() {
    return out.toString();
  }
}
