package io.tcptuning.api.v1alpha1;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConditionBuilder;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Kubernetes-style conditions: freshly computed each time, with {@code lastTransitionTime}
 * carried over from the previous status unless the condition's status really changed, so that
 * recomputing an unchanged status yields an equal object and no write.
 */
public final class Conditions {
  public static final String TRUE = "True";
  public static final String FALSE = "False";

  private Conditions() {}

  public static Condition of(String type, boolean status, String reason, String message) {
    return new ConditionBuilder().withType(type).withStatus(status ? TRUE : FALSE).withReason(reason).withMessage(message).build();
  }

  public static Optional<Condition> find(List<Condition> conditions, String type) {
    return conditions == null ? Optional.empty() : conditions.stream().filter(c -> type.equals(c.getType())).findFirst();
  }

  public static boolean isTrue(List<Condition> conditions, String type) {
    return find(conditions, type).map(c -> TRUE.equals(c.getStatus())).orElse(false);
  }

  /**
   * The fresh conditions, each with the previous {@code lastTransitionTime} when its status is
   * unchanged, else {@code now} (to the second, as the API server stores it).
   */
  public static List<Condition> withTransitionTimes(List<Condition> previous, List<Condition> fresh, Instant now) {
    String stamp = now.truncatedTo(ChronoUnit.SECONDS).toString();
    List<Condition> out = new ArrayList<>(fresh.size());
    for (Condition c : fresh) {
      Condition copy = new ConditionBuilder(c).build();
      String carried = find(previous, c.getType())
          .filter(old -> Objects.equals(old.getStatus(), c.getStatus()))
          .map(Condition::getLastTransitionTime)
          .orElse(null);
      copy.setLastTransitionTime(carried != null ? carried : stamp);
      out.add(copy);
    }
    return out;
  }
}
