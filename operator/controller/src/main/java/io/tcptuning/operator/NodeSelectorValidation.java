package io.tcptuning.operator;

import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.LabelSelectorRequirement;
import io.tcptuning.domain.PolicyValidator;
import io.tcptuning.domain.Violation;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Checks {@code spec.nodeSelector} the way the API server checks the node affinity it becomes:
 * the CRD schema only says "strings", but a DaemonSet with an unknown operator or a malformed
 * label key would be rejected, and the operator would retry forever. Pure.
 */
public final class NodeSelectorValidation {
  private static final String FIELD = "spec.nodeSelector";
  private static final Pattern NAME = Pattern.compile("^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)$");
  private static final Pattern PREFIX = Pattern.compile("^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$");
  private static final Pattern VALUE = Pattern.compile("^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$");

  private NodeSelectorValidation() {}

  public static List<Violation> validate(LabelSelector s) {
    List<Violation> out = new ArrayList<>();
    if (s == null) {
      return out;
    }
    if (s.getMatchLabels() != null) {
      for (Map.Entry<String, String> e : s.getMatchLabels().entrySet()) {
        String f = FIELD + ".matchLabels[" + PolicyValidator.quote(e.getKey()) + "]";
        key(f, e.getKey(), out);
        value(f, e.getValue(), out);
      }
    }
    List<LabelSelectorRequirement> exprs = s.getMatchExpressions() == null ? List.of() : s.getMatchExpressions();
    for (int i = 0; i < exprs.size(); i++) {
      LabelSelectorRequirement r = exprs.get(i);
      String f = FIELD + ".matchExpressions[" + i + "]";
      key(f + ".key", r.getKey(), out);
      List<String> values = r.getValues() == null ? List.of() : r.getValues();
      String op = r.getOperator();
      if ("In".equals(op) || "NotIn".equals(op)) {
        if (values.isEmpty()) {
          out.add(new Violation(f + ".values", "must not be empty for operator " + op));
        }
        for (String v : values) {
          value(f + ".values", v, out);
        }
      } else if ("Exists".equals(op) || "DoesNotExist".equals(op)) {
        if (!values.isEmpty()) {
          out.add(new Violation(f + ".values", "must be empty for operator " + op));
        }
      } else {
        out.add(new Violation(f + ".operator", PolicyValidator.quote(op) + " is not supported; accepted In, NotIn, Exists, DoesNotExist"));
      }
    }
    return out;
  }

  private static void key(String field, String key, List<Violation> out) {
    boolean ok = key != null && !key.isEmpty();
    if (ok) {
      int slash = key.indexOf('/');
      String prefix = slash < 0 ? null : key.substring(0, slash);
      String name = slash < 0 ? key : key.substring(slash + 1);
      ok = NAME.matcher(name).matches() && (prefix == null || (prefix.length() <= 253 && PREFIX.matcher(prefix).matches()));
    }
    if (!ok) {
      out.add(new Violation(field, PolicyValidator.quote(key) + " is not a valid label key; accepted [prefix/]name, name 1..63 characters of [A-Za-z0-9-_.] starting and ending alphanumeric"));
    }
  }

  private static void value(String field, String value, List<Violation> out) {
    if (value == null || !VALUE.matcher(value).matches()) {
      out.add(new Violation(field, PolicyValidator.quote(value) + " is not a valid label value; accepted 0..63 characters of [A-Za-z0-9-_.] starting and ending alphanumeric"));
    }
  }
}
