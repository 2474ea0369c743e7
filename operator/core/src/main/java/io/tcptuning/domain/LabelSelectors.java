package io.tcptuning.domain;

import static io.tcptuning.api.v1alpha1.PolicyBounds.LABEL_KEY_ACCEPTED;
import static io.tcptuning.api.v1alpha1.PolicyBounds.LABEL_KEY_MAX_LENGTH;
import static io.tcptuning.api.v1alpha1.PolicyBounds.LABEL_KEY_PREFIX_MAX_LENGTH;
import static io.tcptuning.api.v1alpha1.PolicyBounds.LABEL_VALUE_ACCEPTED;
import static io.tcptuning.api.v1alpha1.PolicyBounds.LABEL_VALUE_MAX_LENGTH;
import static io.tcptuning.api.v1alpha1.PolicyBounds.SELECTOR_MAX_EXPRESSIONS;
import static io.tcptuning.api.v1alpha1.PolicyBounds.SELECTOR_MAX_LABELS;
import static io.tcptuning.api.v1alpha1.PolicyBounds.SELECTOR_MAX_VALUES;

import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.LabelSelectorRequirement;
import io.tcptuning.api.v1alpha1.PolicyBounds;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * Kubernetes label selectors, as the API server matches and checks them: the policy's
 * nodeSelector, podSelector and namespaceSelector. Pure.
 */
public final class LabelSelectors {
  private static final Pattern KEY = Pattern.compile(PolicyBounds.LABEL_KEY_PATTERN);
  private static final Pattern VALUE = Pattern.compile(PolicyBounds.LABEL_VALUE_PATTERN);

  private LabelSelectors() {}

  /**
   * What the API server would refuse in a selector it stores itself (a DaemonSet's node affinity,
   * a pod's affinity), and what the CRD schema refuses with the same bounds
   * ({@code LabelSelectorSchema}): label keys and values, the four operators, values present
   * exactly for In and NotIn, and the counts of {@link PolicyBounds}. Null is valid (absent).
   *
   * @param field the selector's path, {@code spec.podSelector}
   */
  public static List<Violation> validate(String field, LabelSelector s) {
    List<Violation> out = new ArrayList<>();
    if (s == null) {
      return out;
    }
    Map<String, String> labels = s.getMatchLabels() == null ? Map.of() : new TreeMap<>(s.getMatchLabels());
    if (labels.size() > SELECTOR_MAX_LABELS) {
      out.add(new Violation(field + ".matchLabels", "has " + labels.size() + " labels; accepted at most " + SELECTOR_MAX_LABELS));
    }
    // Named as the API server names them: a bad key at the map (the CRD checks keys with one CEL
    // rule there), a bad value at matchLabels.KEY.
    for (Map.Entry<String, String> e : labels.entrySet()) {
      key(field + ".matchLabels", e.getKey(), out);
      value(field + ".matchLabels." + e.getKey(), e.getValue(), out);
    }
    List<LabelSelectorRequirement> exprs = s.getMatchExpressions() == null ? List.of() : s.getMatchExpressions();
    if (exprs.size() > SELECTOR_MAX_EXPRESSIONS) {
      out.add(new Violation(field + ".matchExpressions", "has " + exprs.size() + " requirements; accepted at most " + SELECTOR_MAX_EXPRESSIONS));
    }
    for (int i = 0; i < exprs.size(); i++) {
      LabelSelectorRequirement r = exprs.get(i);
      String f = field + ".matchExpressions[" + i + "]";
      if (r == null) {
        out.add(new Violation(f, "must be an object with key and operator"));
        continue;
      }
      key(f + ".key", r.getKey(), out);
      List<String> values = r.getValues() == null ? List.of() : r.getValues();
      if (values.size() > SELECTOR_MAX_VALUES) {
        out.add(new Violation(f + ".values", "has " + values.size() + " values; accepted at most " + SELECTOR_MAX_VALUES));
      }
      for (int j = 0; j < values.size(); j++) {
        value(f + ".values[" + j + "]", values.get(j), out);
      }
      String op = r.getOperator();
      if ("In".equals(op) || "NotIn".equals(op)) {
        if (values.isEmpty()) {
          out.add(new Violation(f + ".values", "must not be empty for operator " + op));
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
    boolean ok = key != null && key.length() <= LABEL_KEY_MAX_LENGTH && KEY.matcher(key).matches();
    if (ok && key.indexOf('/') > LABEL_KEY_PREFIX_MAX_LENGTH) {
      ok = false;
    }
    if (!ok) {
      out.add(new Violation(field, PolicyValidator.quote(key) + " is not a valid label key; accepted " + LABEL_KEY_ACCEPTED));
    }
  }

  private static void value(String field, String value, List<Violation> out) {
    if (value == null || value.length() > LABEL_VALUE_MAX_LENGTH || !VALUE.matcher(value).matches()) {
      out.add(new Violation(field, PolicyValidator.quote(value) + " is not a valid label value; accepted " + LABEL_VALUE_ACCEPTED));
    }
  }

  /** Null or empty selects everything. */
  public static boolean matches(LabelSelector selector, Map<String, String> labels) {
    if (selector == null) {
      return true;
    }
    Map<String, String> l = labels == null ? Map.of() : labels;
    if (selector.getMatchLabels() != null) {
      for (var e : selector.getMatchLabels().entrySet()) {
        if (e.getValue() == null || !e.getValue().equals(l.get(e.getKey()))) {
          return false;
        }
      }
    }
    if (selector.getMatchExpressions() != null) {
      for (LabelSelectorRequirement r : selector.getMatchExpressions()) {
        if (!matches(r, l)) {
          return false;
        }
      }
    }
    return true;
  }

  private static boolean matches(LabelSelectorRequirement r, Map<String, String> labels) {
    if (r == null || r.getOperator() == null) {
      return false; // invalid (see validate): selects nothing, never throws
    }
    String value = labels.get(r.getKey());
    List<String> values = r.getValues() == null ? List.of() : r.getValues();
    return switch (r.getOperator()) {
      case "In" -> value != null && values.contains(value);
      case "NotIn" -> value == null || !values.contains(value);
      case "Exists" -> labels.containsKey(r.getKey());
      case "DoesNotExist" -> !labels.containsKey(r.getKey());
      default -> false; // an unknown operator selects nothing, as the API server would reject it
    };
  }
}
