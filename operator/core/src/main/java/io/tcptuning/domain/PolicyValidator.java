package io.tcptuning.domain;

import io.fabric8.kubernetes.api.model.IntOrString;
import static io.tcptuning.api.v1alpha1.PolicyBounds.MAX_UNAVAILABLE_ACCEPTED;
import static io.tcptuning.api.v1alpha1.PolicyBounds.PORT_RANGE_ACCEPTED;
import static io.tcptuning.api.v1alpha1.PolicyBounds.PRIORITY_MAX;
import static io.tcptuning.api.v1alpha1.PolicyBounds.PRIORITY_MIN;

import io.tcptuning.api.v1alpha1.PolicyBounds;
import io.tcptuning.api.v1alpha1.SysctlSettings;
import io.tcptuning.api.v1alpha1.TcpTuningPolicySpec;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Validates a policy spec the same way the CRD schema and its CEL rules do, for CRDs that are
 * old or edited and for the CLI, which reads manifests without an API server. Pure.
 */
public final class PolicyValidator {
  private static final Pattern PERCENT = Pattern.compile(PolicyBounds.MAX_UNAVAILABLE_PERCENT_PATTERN);

  private PolicyValidator() {}

  /** Every violation, in field order; empty when the spec is valid. */
  public static List<Violation> validate(TcpTuningPolicySpec spec) {
    List<Violation> out = new ArrayList<>();
    if (spec == null) {
      out.add(new Violation("spec", "is required"));
      return out;
    }
    out.addAll(LabelSelectors.validate("spec.nodeSelector", spec.getNodeSelector()));
    out.addAll(LabelSelectors.validate("spec.podSelector", spec.getPodSelector()));
    out.addAll(LabelSelectors.validate("spec.namespaceSelector", spec.getNamespaceSelector()));
    if (spec.getPriority() != null && (spec.getPriority() < PRIORITY_MIN || spec.getPriority() > PRIORITY_MAX)) {
      out.add(outOfRange("spec.priority", spec.getPriority(), PRIORITY_MIN + ".." + PRIORITY_MAX));
    }
    validateSysctls(spec.getSysctls(), out);
    if (spec.getRollout() != null && spec.getRollout().getMaxUnavailable() != null) {
      validateMaxUnavailable(spec.getRollout().getMaxUnavailable(), out);
    }
    return out;
  }

  private static void validateSysctls(SysctlSettings s, List<Violation> out) {
    if (s == null) {
      return;
    }
    for (Sysctl sysctl : Sysctl.values()) {
      Object value = sysctl.valueIn(s);
      if (value == null) {
        continue;
      }
      if (sysctl == Sysctl.IP_LOCAL_PORT_RANGE) {
        validatePortRange((String) value, out);
      } else {
        int v = (Integer) value;
        if (v < sysctl.min() || v > sysctl.max()) {
          out.add(outOfRange(sysctl.fieldPath(), v, sysctl.min() + ".." + sysctl.max()));
        }
      }
    }
    Integer reuse = s.getTcpTwReuse();
    Integer timestamps = s.getTcpTimestamps();
    if (reuse != null && reuse != 0 && timestamps != null && timestamps == 0) {
      out.add(
          new Violation(
              Sysctl.TCP_TW_REUSE.fieldPath(),
              "tcpTwReuse " + reuse + " needs tcpTimestamps 1 (got 0): with timestamps off, TIME_WAIT reuse silently does nothing"));
    }
  }

  private static void validatePortRange(String value, List<Violation> out) {
    String field = Sysctl.IP_LOCAL_PORT_RANGE.fieldPath();
    var parsed = PortRange.parseManifest(value);
    if (parsed.isEmpty()) {
      out.add(new Violation(field, "must be \"min max\": two numbers separated by one space, " + PORT_RANGE_ACCEPTED + " (got " + quote(value) + ")"));
      return;
    }
    PortRange r = parsed.get();
    if (r.min() < PolicyBounds.PORT_RANGE_MIN || r.max() > PolicyBounds.PORT_RANGE_MAX || r.min() >= r.max()) {
      out.add(new Violation(field, "must satisfy " + PORT_RANGE_ACCEPTED + " (got \"" + r + "\")"));
    }
  }

  private static void validateMaxUnavailable(IntOrString v, List<Violation> out) {
    String field = "spec.rollout.maxUnavailable";
    if (v.getIntVal() != null) {
      if (v.getIntVal() < 1) {
        out.add(outOfRange(field, v.getIntVal(), MAX_UNAVAILABLE_ACCEPTED));
      }
    } else if (v.getStrVal() == null || !PERCENT.matcher(v.getStrVal()).matches()) {
      out.add(new Violation(field, "must be " + MAX_UNAVAILABLE_ACCEPTED + " (got " + quote(v.getStrVal()) + ")"));
    }
  }

  private static Violation outOfRange(String field, long value, String accepted) {
    return new Violation(field, value + " is out of range; accepted " + accepted);
  }

  /** Quotes a user value for a message, escaping control characters so that it prints on one line. */
  public static String quote(String s) {
    if (s == null) {
      return "null";
    }
    StringBuilder b = new StringBuilder("\"");
    int limit = Math.min(s.length(), 64);
    for (int i = 0; i < limit; i++) {
      char c = s.charAt(i);
      if (c == '"' || c == '\\') {
        b.append('\\').append(c);
      } else if (c < 0x20 || c == 0x7f) {
        b.append(String.format("\\u%04x", (int) c));
      } else {
        b.append(c);
      }
    }
    if (s.length() > limit) {
      b.append("...");
    }
    return b.append('"').toString();
  }
}
