package io.tcptuning.cli;

import io.tcptuning.api.v1alpha1.Mode;
import io.tcptuning.api.v1alpha1.TcpTuningPolicy;
import io.tcptuning.domain.Plan;
import io.tcptuning.domain.TuningRequest;
import io.tcptuning.node.ApplyResult;
import io.tcptuning.node.IoErrors;
import io.tcptuning.node.JournalCorruptException;
import io.tcptuning.node.ProcSysctls;
import io.tcptuning.node.SysctlApplier;
import java.io.IOException;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code tcptune apply -f POLICY}: plan, journal the originals, write, verify. */
@Command(
    name = "apply",
    mixinStandardHelpOptions = true,
    description = {
      "Apply a policy's sysctls to the current network namespace: plan, journal the original values"
          + " durably, write, read back. Refused sysctls are reported and left alone. Idempotent;"
          + " spec.mode DryRun plans only.",
      "Exit codes: 0 everything not refused is in place, 1 a write failed (what this run wrote was"
          + " rolled back), the journal cannot be used, or no permission to write the sysctls or the state"
          + " directory (nothing touched), 2 invalid policy (nothing written). With --json, a failure is"
          + " an {\"error\": ...} object on stdout, with the same exit code."
    })
public final class ApplyCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Mixin NodeCommandOptions.PolicyFile policyFile;

  @Mixin NodeCommandOptions.StateDir stateDir;

  @Option(names = "--json", description = "Print JSON instead of text.")
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
    String name = policy.getMetadata().getName();
    NodeFacts facts = NodeFacts.readCurrentNamespace();
    if (policy.getSpec().effectiveMode() == Mode.DryRun) {
      return dryRun(policy, facts, errors);
    }
    quietApplierLog();
    TuningRequest request = PlanCommand.request(policy, facts);
    ApplyResult result;
    try {
      Optional<String> denied = stateDir.writeDenied(WriteAccess.ofApply(request, new ProcSysctls(), stateDir.journal()));
      if (denied.isPresent()) {
        return errors.fail(Main.EXIT_FAILED, denied.get());
      }
      result = stateDir.applier().apply(request);
    } catch (JournalCorruptException e) {
      return errors.fail(Main.EXIT_FAILED, "policy=" + name + " " + e.getMessage());
    } catch (IOException e) {
      return errors.fail(Main.EXIT_FAILED, "policy=" + name + " nothing written: " + IoErrors.describe(e));
    }
    if (json) {
      NodeCommandOutput.json(out, NodeCommandOutput.applyJson(result, facts));
    } else {
      NodeCommandOutput.applyText(out, result, facts);
    }
    out.flush();
    return result.succeeded() ? 0 : Main.EXIT_FAILED;
  }

  private int dryRun(TcpTuningPolicy policy, NodeFacts facts, ErrorOutput errors) {
    var out = spec.commandLine().getOut();
    Plan plan;
    try {
      plan = PlanCommand.request(policy, facts).planFor(new ProcSysctls().readAll());
    } catch (IOException e) {
      return errors.fail(Main.EXIT_FAILED, "cannot read " + ProcSysctls.PROC_SYS + ": " + IoErrors.describe(e));
    }
    String name = policy.getMetadata().getName();
    if (json) {
      var m = NodeCommandOutput.planJson(name, facts, plan);
      m.put("mode", Mode.DryRun.name());
      m.put("result", "DryRun");
      NodeCommandOutput.json(out, m);
    } else {
      NodeCommandOutput.planText(out, name, facts, plan);
      out.println("policy=" + name + " mode DryRun: planned only, nothing written");
    }
    out.flush();
    return 0;
  }

  /**
   * The command prints every outcome itself, failures and rollbacks included; the applier's log
   * would repeat them on stderr as timestamped WARN and ERROR lines.
   */
  static void quietApplierLog() {
    String key = "org.slf4j.simpleLogger.log." + SysctlApplier.class.getName();
    if (System.getProperty(key) == null) {
      System.setProperty(key, "off");
    }
  }
}
