package io.tcptuning.domain;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.LabelSelectorBuilder;
import io.fabric8.kubernetes.api.model.LabelSelectorRequirement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class LabelSelectorsTest {
  private static final String F = "spec.podSelector";

  static LabelSelector labels(String... kv) {
    Map<String, String> m = new HashMap<>();
    for (int i = 0; i < kv.length; i += 2) {
      m.put(kv[i], kv[i + 1]);
    }
    return new LabelSelectorBuilder().withMatchLabels(m).build();
  }

  static LabelSelector expr(String key, String op, String... values) {
    return new LabelSelectorBuilder()
        .withMatchExpressions(new LabelSelectorRequirement(key, op, values.length == 0 ? null : new ArrayList<>(Arrays.asList(values))))
        .build();
  }

  @Test
  void validSelectorsPass() {
    assertThat(LabelSelectors.validate(F, null)).isEmpty();
    assertThat(LabelSelectors.validate(F, new LabelSelector())).isEmpty();
    assertThat(LabelSelectors.validate(F, labels("node-role.kubernetes.io/worker", "", "zone", "eu-1a", "tcptuning.io/tune", "true"))).isEmpty();
    assertThat(LabelSelectors.validate(F, expr("gpu", "Exists"))).isEmpty();
    assertThat(LabelSelectors.validate(F, expr("zone", "NotIn", "a", "b"))).isEmpty();
    assertThat(LabelSelectors.validate(F, labels("a".repeat(253) + "/" + "b".repeat(63), "c".repeat(63)))).isEmpty();
  }

  @Test
  void whatTheApiServerWouldRejectIsNamedWithTheAcceptedForm() {
    assertThat(LabelSelectors.validate(F, expr("zone", "Gt", "3")))
        .containsExactly(new Violation(F + ".matchExpressions[0].operator", "\"Gt\" is not supported; accepted In, NotIn, Exists, DoesNotExist"));
    assertThat(LabelSelectors.validate(F, expr("zone", null)))
        .extracting(Violation::field).containsExactly(F + ".matchExpressions[0].operator");
    assertThat(LabelSelectors.validate(F, expr("zone", "In")))
        .containsExactly(new Violation(F + ".matchExpressions[0].values", "must not be empty for operator In"));
    assertThat(LabelSelectors.validate(F, expr("gpu", "Exists", "x")))
        .extracting(Violation::message).containsExactly("must be empty for operator Exists");
    assertThat(LabelSelectors.validate(F, labels("bad key", "v")))
        .singleElement().satisfies(v -> {
          assertThat(v.field()).isEqualTo(F + ".matchLabels");
          assertThat(v.message()).startsWith("\"bad key\" is not a valid label key; accepted [prefix/]name");
        });
    assertThat(LabelSelectors.validate(F, labels("zone", "-a")))
        .singleElement().satisfies(v -> {
          assertThat(v.field()).as("as the API server names it").isEqualTo(F + ".matchLabels.zone");
          assertThat(v.message()).startsWith("\"-a\" is not a valid label value; accepted 0..63 characters");
        });
    assertThat(LabelSelectors.validate(F, expr("zone", "In", "ok", "not ok")))
        .extracting(Violation::field).containsExactly(F + ".matchExpressions[0].values[1]");
    assertThat(LabelSelectors.validate(F, expr("../../etc/passwd", "Exists")))
        .extracting(Violation::field).containsExactly(F + ".matchExpressions[0].key");
  }

  @Test
  void keysAndValuesHaveTheApiServersLengths() {
    assertThat(LabelSelectors.validate(F, labels("a".repeat(64), "v"))).hasSize(1);
    assertThat(LabelSelectors.validate(F, labels("a".repeat(254) + "/b", "v"))).hasSize(1);
    assertThat(LabelSelectors.validate(F, labels("k", "v".repeat(64)))).hasSize(1);
    assertThat(LabelSelectors.validate(F, labels("Upper.Case/name", "v"))).as("a prefix is lower-case").hasSize(1);
    assertThat(LabelSelectors.validate(F, labels("/name", "v"))).hasSize(1);
    assertThat(LabelSelectors.validate(F, labels("a/b/c", "v"))).hasSize(1);
  }

  @Test
  void countsAreBoundedAsInTheCrd() {
    Map<String, String> many = new HashMap<>();
    for (int i = 0; i < 65; i++) {
      many.put("k" + i, "v");
    }
    assertThat(LabelSelectors.validate(F, new LabelSelectorBuilder().withMatchLabels(many).build()))
        .containsExactly(new Violation(F + ".matchLabels", "has 65 labels; accepted at most 64"));
    String[] values = new String[257];
    Arrays.fill(values, "v");
    assertThat(LabelSelectors.validate(F, expr("k", "In", values)))
        .containsExactly(new Violation(F + ".matchExpressions[0].values", "has 257 values; accepted at most 256"));
  }

  @Test
  void matchingFollowsTheApiServer() {
    Map<String, String> pod = Map.of("app", "client", "tcptuning.io/tune", "true");
    assertThat(LabelSelectors.matches(null, pod)).isTrue();
    assertThat(LabelSelectors.matches(new LabelSelector(), pod)).isTrue();
    assertThat(LabelSelectors.matches(labels("tcptuning.io/tune", "true"), pod)).isTrue();
    assertThat(LabelSelectors.matches(labels("tcptuning.io/tune", "false"), pod)).isFalse();
    assertThat(LabelSelectors.matches(expr("app", "In", "client", "batch"), pod)).isTrue();
    assertThat(LabelSelectors.matches(expr("app", "NotIn", "client"), pod)).isFalse();
    assertThat(LabelSelectors.matches(expr("team", "NotIn", "x"), pod)).isTrue();
    assertThat(LabelSelectors.matches(expr("team", "DoesNotExist"), pod)).isTrue();
    assertThat(LabelSelectors.matches(expr("app", "Exists"), null)).isFalse();
    // An invalid selector selects nothing and never throws.
    assertThat(LabelSelectors.matches(expr("app", null), pod)).isFalse();
    Map<String, String> nullValue = new HashMap<>();
    nullValue.put("app", null);
    assertThat(LabelSelectors.matches(new LabelSelectorBuilder().withMatchLabels(nullValue).build(), Map.of())).isFalse();
  }
}
