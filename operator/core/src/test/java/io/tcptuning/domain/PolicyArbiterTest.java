package io.tcptuning.domain;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.LabelSelectorBuilder;
import io.tcptuning.domain.PolicyArbiter.Candidate;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PolicyArbiterTest {
  static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");
  static final LabelSelector HIGH_CHURN = new LabelSelectorBuilder().addToMatchLabels("tcptuning.io/profile", "high-churn").build();

  @Test
  void highestPriorityWinsThenOldestThenName() {
    Candidate everyNode = new Candidate("observe", -100, T0, null);
    Candidate churn = new Candidate("churn", 10, T0.plusSeconds(60), HIGH_CHURN);
    Candidate churnOlder = new Candidate("churn-old", 10, T0, HIGH_CHURN);
    Candidate churnTwin = new Candidate("churn-a", 10, T0, HIGH_CHURN);
    Map<String, String> churnNode = Map.of("tcptuning.io/profile", "high-churn");

    assertThat(PolicyArbiter.winner(churnNode, List.of(everyNode, churn))).contains(churn);
    assertThat(PolicyArbiter.winner(Map.of(), List.of(everyNode, churn))).contains(everyNode);
    assertThat(PolicyArbiter.winner(churnNode, List.of(churn, churnOlder))).contains(churnOlder);
    assertThat(PolicyArbiter.winner(churnNode, List.of(churnOlder, churnTwin))).contains(churnTwin);
    assertThat(PolicyArbiter.winner(Map.of(), List.of(churn))).isEmpty();
    assertThat(PolicyArbiter.outranks(churn, everyNode)).isTrue();
    assertThat(PolicyArbiter.outranks(everyNode, churn)).isFalse();
  }

  @Test
  void labelSelectorOperators() {
    Map<String, String> labels = Map.of("zone", "a", "tier", "web");
    assertThat(LabelSelectors.matches(null, labels)).isTrue();
    assertThat(LabelSelectors.matches(new LabelSelector(), null)).isTrue();
    assertThat(LabelSelectors.matches(sel("zone", "In", "a", "b"), labels)).isTrue();
    assertThat(LabelSelectors.matches(sel("zone", "In", "b"), labels)).isFalse();
    assertThat(LabelSelectors.matches(sel("zone", "NotIn", "b"), labels)).isTrue();
    assertThat(LabelSelectors.matches(sel("missing", "NotIn", "b"), labels)).isTrue();
    assertThat(LabelSelectors.matches(sel("zone", "NotIn", "a"), labels)).isFalse();
    assertThat(LabelSelectors.matches(sel("tier", "Exists"), labels)).isTrue();
    assertThat(LabelSelectors.matches(sel("gpu", "Exists"), labels)).isFalse();
    assertThat(LabelSelectors.matches(sel("gpu", "DoesNotExist"), labels)).isTrue();
    assertThat(LabelSelectors.matches(sel("zone", "Bogus", "a"), labels)).isFalse();
    LabelSelector both = new LabelSelectorBuilder().addToMatchLabels("tier", "web")
        .addNewMatchExpression().withKey("zone").withOperator("In").withValues("b").endMatchExpression().build();
    assertThat(LabelSelectors.matches(both, labels)).isFalse();
  }

  static LabelSelector sel(String key, String op, String... values) {
    return new LabelSelectorBuilder().addNewMatchExpression().withKey(key).withOperator(op).withValues(values).endMatchExpression().build();
  }
}
