package io.tcptuning.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.tcptuning.domain.Plan;
import io.tcptuning.domain.PlannedSysctl;
import io.tcptuning.node.ApplyResult;
import io.tcptuning.node.OriginalsJournal;
import io.tcptuning.node.RevertResult;
import io.tcptuning.node.SysctlOutcome;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Prints plans, apply and revert results for people (text) or for scripts (--json). */
final class NodeCommandOutput {
  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private NodeCommandOutput() {}

  // --- plan ---

  static void planText(PrintWriter out, String policy, NodeFacts facts, Plan plan) {
    out.printf("policy %s on kernel %s, NAT %s%n", policy, facts.kernel().release(), nat(facts));
    String row = "%-30s %-13s %-13s %-7s %-20s %s%n";
    out.printf(row, "SYSCTL", "CURRENT", "DESIRED", "ACTION", "REASON", "MESSAGE");
    for (PlannedSysctl p : plan.sysctls()) {
      out.printf(row, p.sysctl().dottedName(), p.current() == null ? "(missing)" : p.current(), p.desired(), p.action(), p.reason(), p.message());
    }
    warnings(out, plan, facts);
  }

  static Map<String, Object> planJson(String policy, NodeFacts facts, Plan plan) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("policy", policy);
    m.put("kernel", facts.kernel().release());
    m.put("nat", natJson(facts));
    List<Map<String, Object>> lines = new ArrayList<>();
    for (PlannedSysctl p : plan.sysctls()) {
      Map<String, Object> l = new LinkedHashMap<>();
      l.put("name", p.sysctl().dottedName());
      l.put("current", p.current());
      l.put("desired", p.desired());
      l.put("action", p.action().name());
      l.put("reason", p.reason());
      l.put("message", p.message());
      lines.add(l);
    }
    m.put("sysctls", lines);
    m.put("warnings", allWarnings(plan, facts));
    return m;
  }

  // --- apply ---

  static void applyText(PrintWriter out, ApplyResult r, NodeFacts facts, boolean otherNamespace) {
    String policy = "policy=" + r.policy() + " ";
    r.previousOwner().ifPresent(o -> out.printf("%shanding over from policy=%s: its originals are put back first%n", policy, o));
    for (SysctlOutcome o : r.givenBack()) {
      out.println(policy + line(o));
    }
    for (SysctlOutcome o : r.sysctls()) {
      out.println(policy + line(o));
    }
    warnings(out, r.plan(), facts);
    if (r.succeeded()) {
      long applied = count(r, SysctlOutcome.Status.Applied);
      long kept = count(r, SysctlOutcome.Status.AlreadySet);
      long refused = count(r, SysctlOutcome.Status.Refused);
      out.printf("%sapplied %d, already set %d, refused %d%n", policy, applied, kept, refused);
      r.removedPersisted().ifPresent(f -> out.printf("%sremoved %s (written by --persist for policy=%s)%n", policy, f, r.previousOwner().orElse("?")));
      if (r.persisted().isPresent()) {
        out.printf("%spersisted in %s: set again at boot; tcptune revert --policy %s removes it%n", policy, r.persisted().get(), r.policy());
      } else if (applied + kept > 0) {
        out.println(policy + (otherNamespace
            ? "these values last as long as the namespace (at most until reboot)"
            : "these values last until reboot (--persist keeps them across reboots)"));
      }
    } else {
      out.printf("%sFAILED: %s%n", policy, r.failure().orElseThrow());
    }
  }

  static Map<String, Object> applyJson(ApplyResult r, NodeFacts facts) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("policy", r.policy());
    m.put("kernel", facts.kernel().release());
    m.put("result", r.succeeded() ? "Applied" : "Failed");
    r.failure().ifPresent(f -> m.put("failure", f));
    r.previousOwner().ifPresent(o -> m.put("previousOwner", o));
    m.put("persisted", r.persisted().map(Object::toString).orElse(null));
    r.removedPersisted().ifPresent(f -> m.put("removedPersisted", f.toString()));
    m.put("sysctls", r.sysctls().stream().map(NodeCommandOutput::outcomeJson).toList());
    m.put("givenBack", r.givenBack().stream().map(NodeCommandOutput::outcomeJson).toList());
    m.put("warnings", allWarnings(r.plan(), facts));
    return m;
  }

  // --- revert ---

  static void revertText(PrintWriter out, RevertResult r) {
    String policy =
        r.outcome() == RevertResult.Outcome.OwnedByAnotherPolicy ? "" : r.owner().map(o -> "policy=" + o + " ").orElse("");
    for (SysctlOutcome o : r.sysctls()) {
      out.println(policy + line(o));
    }
    r.removedPersisted().ifPresent(f -> out.println(policy + "removed " + f));
    out.println(policy + r.message());
  }

  static Map<String, Object> revertJson(RevertResult r) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("result", r.outcome().name());
    m.put("policy", r.owner().orElse(null));
    m.put("message", r.message());
    m.put("sysctls", r.sysctls().stream().map(NodeCommandOutput::outcomeJson).toList());
    m.put("removedPersisted", r.removedPersisted().map(Object::toString).orElse(null));
    return m;
  }

  // --- --netns ---

  /** The namespace a command worked in, as its first line; nothing without --netns. */
  static void netnsText(PrintWriter out, Optional<OriginalsJournal.Netns> ns) {
    ns.ifPresent(n -> out.println("network namespace " + n.shown()));
  }

  static void netnsJson(Map<String, Object> m, Optional<OriginalsJournal.Netns> ns) {
    ns.ifPresent(n -> {
      Map<String, Object> j = new LinkedHashMap<>();
      j.put("path", n.path());
      j.put("inode", n.id().inode());
      m.put("netns", j);
    });
  }

  static void json(PrintWriter out, Object value) {
    try {
      out.println(JSON.writeValueAsString(value));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot render JSON", e);
    }
  }

  // --- pieces ---

  /** One outcome in the log style: {@code applied net.ipv4.tcp_tw_reuse 2->1}. */
  static String line(SysctlOutcome o) {
    String name = o.sysctl().dottedName();
    return switch (o.status()) {
      case Applied -> "applied " + name + " " + show(o.before()) + "->" + show(o.after());
      case AlreadySet -> "kept " + name + " " + show(o.after()) + " (already set)";
      case Refused -> "refused " + name + "=" + show(o.target()) + " (" + o.reason() + "): " + o.message();
      case Restored -> "restored " + name + " " + show(o.before()) + "->" + show(o.after()) + " (" + o.message() + ")";
      case RolledBack -> "rolled back " + name + " to " + show(o.after());
      case Missing -> "skipped " + name + ": " + o.message();
      case NotAttempted -> "not written " + name + "=" + show(o.target()) + ": " + o.message();
      case Failed -> "FAILED " + name + "=" + show(o.target()) + ": " + o.message();
      case ChangedByHand -> "left " + name + " as it is: " + o.message() + "; --force puts the original back";
    };
  }

  private static Map<String, Object> outcomeJson(SysctlOutcome o) {
    Map<String, Object> l = new LinkedHashMap<>();
    l.put("name", o.sysctl().dottedName());
    l.put("before", o.before());
    l.put("target", o.target());
    l.put("after", o.after());
    l.put("status", o.status().name());
    l.put("reason", o.reason());
    l.put("message", o.message());
    return l;
  }

  private static String show(String value) {
    return value != null && value.contains(" ") ? "\"" + value + "\"" : String.valueOf(value);
  }

  private static long count(ApplyResult r, SysctlOutcome.Status status) {
    return r.sysctls().stream().filter(o -> o.status() == status).count();
  }

  private static List<String> allWarnings(Plan plan, NodeFacts facts) {
    List<String> all = new ArrayList<>(plan.warnings());
    all.addAll(facts.notes());
    return all;
  }

  private static void warnings(PrintWriter out, Plan plan, NodeFacts facts) {
    for (String w : allWarnings(plan, facts)) {
      out.println("warning: " + w);
    }
  }

  private static String nat(NodeFacts facts) {
    Boolean d = facts.nat().detected();
    String verdict = d == null ? "unknown" : d ? "detected" : "not detected";
    // The list of places checked is long and only matters when NAT was found or unclear.
    String evidence = String.join("; ", facts.nat().evidence());
    return Boolean.FALSE.equals(d) || evidence.isEmpty() ? verdict : verdict + " (" + evidence + ")";
  }

  private static Map<String, Object> natJson(NodeFacts facts) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("detected", facts.nat().detected());
    m.put("evidence", facts.nat().evidence());
    return m;
  }
}
