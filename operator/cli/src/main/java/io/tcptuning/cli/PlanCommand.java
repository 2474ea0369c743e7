package io.tcptuning.cli;

import io.tcptuning.api.v1alpha1.TcpTuningPolicy;
import io.tcptuning.api.v1alpha1.TcpTuningPolicySpec;
import io.tcptuning.domain.Plan;
import io.tcptuning.domain.Sysctl;
import io.tcptuning.domain.TuningPlanner;
import io.tcptuning.node.IoErrors;
import io.tcptuning.node.ProcSysctls;
import io.tcptuning.domain.TuningRequest;
import java.io.IOException;
import java.util.Map;
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
          + " keep or refuse it, in the current network namespace. Writes nothing.",
      "Exit codes: 0 planned, 1 the machine could not be read, 2 invalid policy."
    })
public final class PlanCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Mixin NodeCommandOptions.PolicyFile policyFile;

  @Option(names = "--json", description = "Print JSON instead of a table.")
  boolean json;

  @Override
  public Integer call() {
    var out = spec.commandLine().getOut();
    var errors = new ErrorOutput(spec.commandLine(), json);
    var read = policyFile.read(errors);
    if (read.isEmpty()) {
      return Main.EXIT_INVALID;
    }
    TcpTuningPolicy policy = read.get();
    NodeFacts facts = NodeFacts.readCurrentNamespace();
    Map<Sysctl, String> current;
    try {
      current = new ProcSysctls().readAll();
    } catch (IOException e) {
      return errors.fail(Main.EXIT_FAILED, "cannot read " + ProcSysctls.PROC_SYS + ": " + IoErrors.describe(e));
    }
    Plan plan = request(policy, facts).planFor(current);
    if (json) {
      var m = NodeCommandOutput.planJson(policy.getMetadata().getName(), facts, plan);
      m.put("mode", policy.getSpec().effectiveMode().name());
      NodeCommandOutput.json(out, m);
    } else {
      NodeCommandOutput.planText(out, policy.getMetadata().getName(), facts, plan);
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
