package io.tcptuning.api.v1alpha1;

import static io.tcptuning.api.v1alpha1.PolicyBounds.LABEL_KEY_ACCEPTED;
import static io.tcptuning.api.v1alpha1.PolicyBounds.LABEL_KEY_MAX_LENGTH;
import static io.tcptuning.api.v1alpha1.PolicyBounds.LABEL_KEY_PATTERN;
import static io.tcptuning.api.v1alpha1.PolicyBounds.LABEL_KEY_PREFIX_MAX_LENGTH;
import static io.tcptuning.api.v1alpha1.PolicyBounds.LABEL_VALUE_MAX_LENGTH;
import static io.tcptuning.api.v1alpha1.PolicyBounds.LABEL_VALUE_PATTERN;
import static io.tcptuning.api.v1alpha1.PolicyBounds.SELECTOR_MAX_EXPRESSIONS;
import static io.tcptuning.api.v1alpha1.PolicyBounds.SELECTOR_MAX_LABELS;
import static io.tcptuning.api.v1alpha1.PolicyBounds.SELECTOR_MAX_VALUES;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;
import java.util.List;
import java.util.Map;

/**
 * The CRD schema of the policy's label selectors (nodeSelector, podSelector, namespaceSelector):
 * fabric8's {@code LabelSelector} with the rules the API server applies to a selector it stores
 * itself (label keys and values, the four operators, values present exactly for In and NotIn), so
 * that a bad selector is refused at {@code kubectl apply} and not only by the operator. Only the
 * CRD generator uses this class ({@code @SchemaFrom}); the model keeps {@code LabelSelector}. The
 * operator, the agents and the CLI check the same rules with the same bounds in the core module's
 * {@code io.tcptuning.domain.LabelSelectors}.
 */
public final class LabelSelectorSchema {
  @JsonPropertyDescription("Labels that must all be present with exactly these values.")
  @Size(max = SELECTOR_MAX_LABELS)
  @ValidationRule(
      value = "self.all(k, k.size() <= " + LABEL_KEY_MAX_LENGTH + " && k.matches('" + LABEL_KEY_PATTERN + "') && " + "(!k.contains('/') || k.indexOf('/') <= " + LABEL_KEY_PREFIX_MAX_LENGTH + "))",
      message = "matchLabels keys must be label keys: " + LABEL_KEY_ACCEPTED,
      reason = "FieldValueInvalid")
  private Map<String, @Pattern(LABEL_VALUE_PATTERN) @Size(max = LABEL_VALUE_MAX_LENGTH) String> matchLabels;

  @JsonPropertyDescription("Requirements that must all hold.")
  @Size(max = SELECTOR_MAX_EXPRESSIONS)
  private List<Requirement> matchExpressions;

  public Map<String, String> getMatchLabels() {
    return matchLabels;
  }

  public List<Requirement> getMatchExpressions() {
    return matchExpressions;
  }

  /** The operators of a label selector requirement. */
  public enum Operator {
    In,
    NotIn,
    Exists,
    DoesNotExist
  }

  @ValidationRule(
      value = "self.operator in ['In', 'NotIn'] ? has(self.values) && size(self.values) > 0 : !has(self.values) || size(self.values) == 0",
      message = "values must be non-empty for the operators In and NotIn, and empty for Exists and DoesNotExist",
      fieldPath = ".values",
      reason = "FieldValueInvalid")
  public static final class Requirement {
    @JsonPropertyDescription("The label key.")
    @Required
    @Pattern(LABEL_KEY_PATTERN)
    @Size(min = 1, max = LABEL_KEY_MAX_LENGTH)
    @ValidationRule(
        value = "!self.contains('/') || self.indexOf('/') <= " + LABEL_KEY_PREFIX_MAX_LENGTH,
        message = "the prefix of a label key is at most " + LABEL_KEY_PREFIX_MAX_LENGTH + " characters",
        reason = "FieldValueInvalid")
    private String key;

    @JsonPropertyDescription("In, NotIn, Exists or DoesNotExist.")
    @Required
    private Operator operator;

    @JsonPropertyDescription("Label values: at least one for In and NotIn, none for Exists and DoesNotExist.")
    @Size(max = SELECTOR_MAX_VALUES)
    private List<@Pattern(LABEL_VALUE_PATTERN) @Size(max = LABEL_VALUE_MAX_LENGTH) String> values;

    public String getKey() {
      return key;
    }

    public Operator getOperator() {
      return operator;
    }

    public List<String> getValues() {
      return values;
    }
  }

  private LabelSelectorSchema() {}
}
