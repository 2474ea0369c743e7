package io.tcptuning.cli;

import io.tcptuning.api.v1alpha1.Mode;
import io.tcptuning.api.v1alpha1.TcpTuningPolicy;
import io.tcptuning.api.v1alpha1.TcpTuningPolicySpec;
import io.tcptuning.domain.Plan;
import io.tcptuning.domain.TuningPlanner;
import io.tcptuning.domain.TuningRequest;
import io.tcptuning.node.IoErrors;
import io.tcptuning.node.OriginalsJournal;
import io.tcptuning.node.ProcSysctls;
import java.io.IOException;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code tcptune plan -f POLICY}: what apply would do in this network namespace; writes nothing. */
@Command(
    name = "plan",
    mixinStandardHelpOptions = true,
    description = {
      "Show, for each sysctl of a policy, the current and desired value and whether apply would change,"
          + " keep or refuse it, in the current network namespace (or the one --netns names). Writes nothing.",
      "Exit codes: 0 planned, 1 the machine could not be read or --netns could not be entered, 2 invalid"
          + " policy or options."
    })
public final class PlanCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Mixin NodeCommandOptions.PolicyFile policyFile;

  @Mixin NetnsOption netns;

  @Option(names = "--json", description = "Print JSON instead of a table.")
  boolean json;

  @Override
  public Integer call() throws Exception {
    var errors = new ErrorOutput(spec.commandLine(), json);
    var read = policyFile.read(errors);
    if (read.isEmpty()) {
      return Main.EXIT_INVALID;
    }
    TcpTuningPolicy policy = read.get();
    return netns.run(errors, ns -> planAndPrint(spec, json, policy, ns, errors, false));
  }

  /** The plan of a policy on the calling thread's namespace, with the facts it was made from. */
  record Planned(NodeFacts facts, Plan plan) {}

  static Planned plan(TcpTuningPolicy policy) throws IOException {
    NodeFacts facts = NodeFacts.readCurrentNamespace();
    return new Planned(facts, request(policy, facts).planFor(new ProcSysctls().readAll()));
  }

  /**
   * Plans on the calling thread's namespace and prints the plan; {@code dryRun} for apply of a
   * DryRun policy, which says that nothing was written.
   */
  static int planAndPrint(
      CommandSpec spec, boolean json, TcpTuningPolicy policy, Optional<OriginalsJournal.Netns> ns, ErrorOutput errors, boolean dryRun) {
    var out = spec.commandLine().getOut();
    Planned p;
    try {
      p = plan(policy);
    } catch (IOException e) {
      return errors.fail(Main.EXIT_FAILED, "cannot read " + ProcSysctls.PROC_SYS + ": " + IoErrors.describe(e));
    }
    String name = policy.getMetadata().getName();
    if (json) {
      var m = NodeCommandOutput.planJson(name, p.facts(), p.plan());
      NodeCommandOutput.netnsJson(m, ns);
      m.put("mode", policy.getSpec().effectiveMode().name());
      if (dryRun) {
        m.put("result", Mode.DryRun.name());
      }
      NodeCommandOutput.json(out, m);
    } else {
      NodeCommandOutput.netnsText(out, ns);
      NodeCommandOutput.planText(out, name, p.facts(), p.plan());
      if (dryRun) {
        out.println("policy=" + name + " mode DryRun: planned only, nothing written");
      }
    }
    out.flush();
    return 0;
  }

  /** The request of a validated policy on this namespace. */
  static TuningRequest request(TcpTuningPolicy policy, NodeFacts facts) {
    TcpTuningPolicySpec spec = policy.getSpec();
    return facts.request(policy.getMetadata().getName(), TuningPlanner.desired(spec.getSysctls()), Boolean.TRUE.equals(spec.getAssumeNat()));
  }
}
