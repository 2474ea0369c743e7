package io.tcptuning.operator;

import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.LabelSelectorRequirement;
import io.fabric8.kubernetes.api.model.NodeAffinity;
import io.fabric8.kubernetes.api.model.NodeAffinityBuilder;
import io.fabric8.kubernetes.api.model.NodeSelectorRequirement;
import io.fabric8.kubernetes.api.model.NodeSelectorTerm;
import io.fabric8.kubernetes.api.model.NodeSelectorTermBuilder;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * The node affinity of a policy's agents: its own selector, Linux nodes only, and none of the nodes
 * a policy of higher precedence selects. Pure.
 *
 * <p>Required node affinity is a disjunction of terms, each a conjunction of requirements. "Not
 * selected by H" is the disjunction of the negations of H's requirements ({@code k=v} becomes
 * {@code k NotIn [v]}, In becomes NotIn and back, Exists becomes DoesNotExist and back), so the
 * whole expression {@code own AND not(H1) AND not(H2) ...} is expanded into disjunctive normal
 * form. Terms that contradict themselves are dropped and alternatives already implied by a term
 * are absorbed, which keeps the common cases (disjoint selectors on one key) to a single term.
 * When the expansion still exceeds {@link #MAX_TERMS}, the exclusions are left out and the result
 * says so: the agents then also run on superseded nodes, where they find that another policy wins
 * and write nothing.
 */
public final class AgentNodeAffinity {

  /** Upper bound of node selector terms before the exclusions are given up. */
  public static final int MAX_TERMS = 64;

  public static final String OS_LABEL = "kubernetes.io/os";

  /**
   * @param affinity the node affinity for the pod template
   * @param selectsNothing true when a higher policy selects every node this one selects
   * @param note why the exclusions were left out, if they were
   */
  public record Result(NodeAffinity affinity, boolean selectsNothing, Optional<String> note) {}

  private record Req(String key, String op, List<String> values) {
    NodeSelectorRequirement toNode() {
      return new NodeSelectorRequirement(key, op, values.isEmpty() ? null : new ArrayList<>(values));
    }
  }

  private AgentNodeAffinity() {}

  /**
   * @param own the policy's selector (null or empty selects every node)
   * @param higher the selectors of the policies that take precedence over it
   */
  public static Result of(LabelSelector own, List<LabelSelector> higher) {
    List<Req> base = new ArrayList<>();
    base.add(new Req(OS_LABEL, "In", List.of("linux")));
    base.addAll(requirements(own));
    List<List<Req>> terms = new ArrayList<>();
    if (!contradictory(base)) {
      terms.add(dedupe(base));
    }
    for (LabelSelector h : higher) {
      List<Req> alternatives = requirements(h).stream().map(AgentNodeAffinity::negate).toList();
      List<List<Req>> next = new ArrayList<>();
      for (List<Req> term : terms) {
        if (alternatives.stream().anyMatch(a -> implied(term, a))) {
          next.add(term); // term AND (a OR ...) == term when the term already implies a
          continue;
        }
        for (Req a : alternatives) {
          List<Req> t = new ArrayList<>(term);
          t.add(a);
          if (!contradictory(t)) {
            next.add(dedupe(t));
          }
        }
      }
      terms = new ArrayList<>(new LinkedHashSet<>(next));
      if (terms.size() > MAX_TERMS) {
        return new Result(
            affinity(List.of(dedupe(base))),
            false,
            Optional.of(
                "node affinity would need more than " + MAX_TERMS + " terms to exclude the nodes of "
                    + higher.size() + " higher-priority policies; agents also run on superseded nodes and stand by there"));
      }
      if (terms.isEmpty()) {
        break;
      }
    }
    if (terms.isEmpty()) {
      return new Result(nothing(), true, Optional.empty());
    }
    return new Result(affinity(terms), false, Optional.empty());
  }

  /**
   * An affinity no node satisfies: the OS label both In [linux] and absent. Valid for the API
   * server, and unlike a made-up label key nobody can make it match by labelling a node.
   */
  static NodeAffinity nothing() {
    return affinity(List.of(List.of(new Req(OS_LABEL, "In", List.of("linux")), new Req(OS_LABEL, "DoesNotExist", List.of()))));
  }

  private static NodeAffinity affinity(List<List<Req>> terms) {
    List<NodeSelectorTerm> out = new ArrayList<>();
    for (List<Req> t : terms) {
      out.add(new NodeSelectorTermBuilder().withMatchExpressions(t.stream().map(Req::toNode).toList()).build());
    }
    return new NodeAffinityBuilder()
        .withNewRequiredDuringSchedulingIgnoredDuringExecution()
        .withNodeSelectorTerms(out)
        .endRequiredDuringSchedulingIgnoredDuringExecution()
        .build();
  }

  /** A selector as a conjunction of requirements; empty for a selector that selects everything. */
  private static List<Req> requirements(LabelSelector s) {
    List<Req> out = new ArrayList<>();
    if (s == null) {
      return out;
    }
    if (s.getMatchLabels() != null) {
      for (Map.Entry<String, String> e : new TreeMap<>(s.getMatchLabels()).entrySet()) {
        out.add(new Req(e.getKey(), "In", List.of(e.getValue())));
      }
    }
    if (s.getMatchExpressions() != null) {
      for (LabelSelectorRequirement r : s.getMatchExpressions()) {
        List<String> values = r.getValues() == null ? List.of() : List.copyOf(r.getValues());
        out.add(new Req(r.getKey(), r.getOperator(), values));
      }
    }
    return out;
  }

  private static Req negate(Req r) {
    return switch (r.op()) {
      case "In" -> new Req(r.key(), "NotIn", r.values());
      case "NotIn" -> new Req(r.key(), "In", r.values());
      case "Exists" -> new Req(r.key(), "DoesNotExist", List.of());
      case "DoesNotExist" -> new Req(r.key(), "Exists", List.of());
      // The API server rejects other operators in a label selector; such a policy selects nothing
      // (LabelSelectors.matches), so its negation excludes nothing.
      default -> new Req(OS_LABEL, "Exists", List.of());
    };
  }

  /** True when {@code term} already guarantees {@code a}. */
  private static boolean implied(List<Req> term, Req a) {
    for (Req r : term) {
      if (!r.key().equals(a.key())) {
        continue;
      }
      boolean yes =
          switch (a.op()) {
            case "NotIn" ->
                r.op().equals("DoesNotExist")
                    || (r.op().equals("In") && disjoint(r.values(), a.values()))
                    || (r.op().equals("NotIn") && r.values().containsAll(a.values()));
            case "In" -> r.op().equals("In") && a.values().containsAll(r.values());
            case "Exists" -> r.op().equals("Exists") || r.op().equals("In");
            case "DoesNotExist" -> r.op().equals("DoesNotExist");
            default -> false;
          };
      if (yes) {
        return true;
      }
    }
    return false;
  }

  /** True when no label set can satisfy every requirement of the term. */
  private static boolean contradictory(List<Req> term) {
    for (int i = 0; i < term.size(); i++) {
      for (int j = 0; j < term.size(); j++) {
        Req a = term.get(i);
        Req b = term.get(j);
        if (i == j || !a.key().equals(b.key())) {
          continue;
        }
        boolean aPresent = a.op().equals("In") || a.op().equals("Exists");
        if (aPresent && b.op().equals("DoesNotExist")) {
          return true;
        }
        if (a.op().equals("In") && b.op().equals("NotIn") && b.values().containsAll(a.values())) {
          return true;
        }
        if (a.op().equals("In") && b.op().equals("In") && disjoint(a.values(), b.values())) {
          return true;
        }
      }
    }
    return false;
  }

  private static boolean disjoint(List<String> a, List<String> b) {
    Set<String> s = new HashSet<>(a);
    return b.stream().noneMatch(s::contains);
  }

  private static List<Req> dedupe(List<Req> term) {
    return new ArrayList<>(new LinkedHashSet<>(term));
  }
}
