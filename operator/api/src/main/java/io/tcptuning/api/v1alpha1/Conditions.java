package io.tcptuning.api.v1alpha1;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConditionBuilder;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Conditions in the Kubernetes convention, with {@code lastTransitionTime} kept from the previous
 * status unless the condition's status really changes (as Flink's ConditionsUtils does), so that
 * a recomputed but unchanged status compares equal and is not written.
 */
public final class Conditions {
  public static final String READY = "Ready";
  public static final String PROGRESSING = "Progressing";
  public static final String DEGRADED = "Degraded";
  public static final String TRUE = "True";
  public static final String FALSE = "False";

  private Conditions() {}

  /**
   * A condition; the transition time comes from {@code previous} when a condition of the same type
   * had the same status there, else it is {@code now} (to the second, as the API server stores it).
   */
  public static Condition of(
      String type, boolean status, String reason, String message, Long observedGeneration, List<Condition> previous, Instant now) {
    String s = status ? TRUE : FALSE;
    String transition =
        find(previous, type)
            .filter(p -> s.equals(p.getStatus()) && p.getLastTransitionTime() != null)
            .map(Condition::getLastTransitionTime)
            .orElseGet(() -> DateTimeFormatter.ISO_INSTANT.format(now.truncatedTo(ChronoUnit.SECONDS)));
    return new ConditionBuilder()
        .withType(type)
        .withStatus(s)
        .withReason(reason)
        .withMessage(message)
        .withObservedGeneration(observedGeneration)
        .withLastTransitionTime(transition)
        .build();
  }

  public static Optional<Condition> find(List<Condition> conditions, String type) {
    if (conditions == null) {
      return Optional.empty();
    }
    return conditions.stream().filter(c -> Objects.equals(type, c.getType())).findFirst();
  }

  public static boolean isTrue(List<Condition> conditions, String type) {
    return find(conditions, type).map(c -> TRUE.equals(c.getStatus())).orElse(false);
  }

  public static Optional<String> reason(List<Condition> conditions, String type) {
    return find(conditions, type).map(Condition::getReason);
  }
}
