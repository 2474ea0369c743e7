package io.tcptuning.operator;

import static io.tcptuning.operator.Fixtures.expr;
import static io.tcptuning.operator.Fixtures.labels;
import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.LabelSelectorBuilder;
import io.fabric8.kubernetes.api.model.LabelSelectorRequirement;
import io.tcptuning.domain.Violation;
import java.util.List;
import org.junit.jupiter.api.Test;

class NodeSelectorValidationTest {

  @Test
  void validSelectorsPass() {
    assertThat(NodeSelectorValidation.validate(null)).isEmpty();
    assertThat(NodeSelectorValidation.validate(labels("node-role.kubernetes.io/worker", "", "zone", "eu-1a"))).isEmpty();
    assertThat(NodeSelectorValidation.validate(expr("gpu", "Exists"))).isEmpty();
    assertThat(NodeSelectorValidation.validate(expr("zone", "NotIn", "a", "b"))).isEmpty();
  }

  @Test
  void whatTheApiServerWouldRejectInANodeAffinityIsNamed() {
    assertThat(NodeSelectorValidation.validate(expr("zone", "Gt", "3")))
        .containsExactly(new Violation("spec.nodeSelector.matchExpressions[0].operator", "\"Gt\" is not supported; accepted In, NotIn, Exists, DoesNotExist"));
    assertThat(NodeSelectorValidation.validate(expr("zone", "In")))
        .extracting(Violation::field).containsExactly("spec.nodeSelector.matchExpressions[0].values");
    assertThat(NodeSelectorValidation.validate(new LabelSelectorBuilder().withMatchExpressions(new LabelSelectorRequirement("gpu", "Exists", List.of("x"))).build()))
        .extracting(Violation::message).containsExactly("must be empty for operator Exists");
    assertThat(NodeSelectorValidation.validate(labels("bad key", "v")))
        .singleElement().satisfies(v -> assertThat(v.message()).contains("\"bad key\" is not a valid label key"));
    assertThat(NodeSelectorValidation.validate(labels("zone", "-a")))
        .singleElement().satisfies(v -> assertThat(v.message()).contains("\"-a\" is not a valid label value"));
  }

  @Test
  void theReconcilerReportsSelectorViolationsAsInvalidSpec() {
    var p = Fixtures.policy("web", 0, expr("zone", "Gt", "3"));
    assertThat(TcpTuningPolicyReconciler.validate(p)).extracting(Violation::field).containsExactly("spec.nodeSelector.matchExpressions[0].operator");
    var longName = Fixtures.policy("x".repeat(64), 0, null);
    assertThat(TcpTuningPolicyReconciler.validate(longName)).extracting(Violation::field).containsExactly("metadata.name");
  }
}
