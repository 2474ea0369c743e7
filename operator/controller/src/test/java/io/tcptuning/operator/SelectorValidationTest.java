package io.tcptuning.operator;

import static io.tcptuning.operator.Fixtures.expr;
import static io.tcptuning.operator.Fixtures.labels;
import static org.assertj.core.api.Assertions.assertThat;

import io.tcptuning.domain.Violation;
import org.junit.jupiter.api.Test;

/** The reconciler refuses what the API server would refuse in a selector (rules: core's LabelSelectors). */
class SelectorValidationTest {

  @Test
  void theReconcilerReportsSelectorViolationsAsInvalidSpec() {
    var p = Fixtures.policy("web", 0, expr("zone", "Gt", "3"));
    assertThat(TcpTuningPolicyReconciler.validate(p)).extracting(Violation::field).containsExactly("spec.nodeSelector.matchExpressions[0].operator");
    var longName = Fixtures.policy("x".repeat(64), 0, null);
    assertThat(TcpTuningPolicyReconciler.validate(longName)).extracting(Violation::field).containsExactly("metadata.name");
  }

  @Test
  void podAndNamespaceSelectorsAreCheckedByTheSameRules() {
    var p = Fixtures.policy("web", 0, null);
    p.getSpec().setPodSelector(labels("tcptuning.io/tune", "-yes"));
    p.getSpec().setNamespaceSelector(expr("team", "Exists", "x"));
    assertThat(TcpTuningPolicyReconciler.validate(p))
        .extracting(Violation::field)
        .containsExactly("spec.podSelector.matchLabels.tcptuning.io/tune", "spec.namespaceSelector.matchExpressions[0].values");

    p.getSpec().setPodSelector(labels("tcptuning.io/tune", "true"));
    p.getSpec().setNamespaceSelector(expr("team", "In", "payments"));
    assertThat(TcpTuningPolicyReconciler.validate(p)).isEmpty();
  }

  @Test
  void aHigherPolicyWithAnInvalidNodeSelectorIsLeftOutOfTheAffinity() {
    var mine = Fixtures.policy("low", 0, labels("role", "web"));
    var bad = Fixtures.policy("bad", 10, expr("zone", "Gt", "3"));
    var good = Fixtures.policy("good", 5, labels("zone", "a"));
    assertThat(TcpTuningPolicyReconciler.higherSelectors(mine, java.util.List.of(mine, bad, good))).containsExactly(labels("zone", "a"));
  }
}
