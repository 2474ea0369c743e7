package io.tcptuning.cli;

import io.tcptuning.api.v1alpha1.Mode;
import io.tcptuning.api.v1alpha1.TcpTuningPolicy;
import io.tcptuning.domain.TuningRequest;
import io.tcptuning.node.ApplyResult;
import io.tcptuning.node.IoErrors;
import io.tcptuning.node.JournalCorruptException;
import io.tcptuning.node.JournalForOtherNamespaceException;
import io.tcptuning.node.OriginalsJournal;
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
      "Apply a policy's sysctls to the current network namespace (or the one --netns names): plan, journal"
          + " the original and the applied values durably, write, read back. Refused sysctls are reported and"
          + " left alone. Idempotent; spec.mode DryRun plans only. The values last until reboot unless --persist.",
      "Exit codes: 0 everything not refused is in place, 1 a write failed (what this run wrote was"
          + " rolled back), the journal cannot be used, --netns cannot be entered, or no permission to write the"
          + " sysctls or the state directory (nothing touched), 2 invalid policy or options (nothing written)."
          + " With --json, a failure is an {\"error\": ...} object on stdout, with the same exit code."
    })
public final class ApplyCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Mixin NodeCommandOptions.PolicyFile policyFile;

  @Mixin NodeCommandOptions.StateDir stateDir;

  @Mixin NodeCommandOptions.Persist persist;

  @Mixin NetnsOption netns;

  @Option(names = "--json", description = "Print JSON instead of text.")
  boolean json;

  @Override
  public Integer call() throws Exception {
    var errors = new ErrorOutput(spec.commandLine(), json);
    Optional<String> badOption = netns.invalid().or(() -> persist.invalid(netns.given()));
    if (badOption.isPresent()) {
      return errors.fail(Main.EXIT_INVALID, badOption.get());
    }
    var read = policyFile.read(errors);
    if (read.isEmpty()) {
      return Main.EXIT_INVALID;
    }
    TcpTuningPolicy policy = read.get();
    if (policy.getSpec().effectiveMode() == Mode.DryRun) {
      return netns.run(errors, ns -> PlanCommand.planAndPrint(spec, json, policy, ns, errors, true));
    }
    return netns.run(errors, ns -> apply(policy, ns, errors));
  }

  private int apply(TcpTuningPolicy policy, Optional<OriginalsJournal.Netns> ns, ErrorOutput errors) {
    var out = spec.commandLine().getOut();
    String name = policy.getMetadata().getName();
    NodeFacts facts = NodeFacts.readCurrentNamespace();
    TuningRequest request = PlanCommand.request(policy, facts);
    OriginalsJournal journal = stateDir.journal(ns);
    ApplyResult result;
    try {
      var target = persist.target();
      Optional<String> denied = stateDir.writeDenied(
          WriteAccess.ofApply(request, new ProcSysctls(), journal), target.map(t -> t.dir()).or(() -> WriteAccess.persistedDirOf(journal)));
      if (denied.isPresent()) {
        return errors.fail(Main.EXIT_FAILED, denied.get());
      }
      result = new SysctlApplier(new ProcSysctls(), journal).apply(request, target);
    } catch (JournalCorruptException | JournalForOtherNamespaceException e) {
      return errors.fail(Main.EXIT_FAILED, "policy=" + name + " " + e.getMessage());
    } catch (IOException e) {
      return errors.fail(Main.EXIT_FAILED, "policy=" + name + " nothing written: " + IoErrors.describe(e));
    }
    if (json) {
      var m = NodeCommandOutput.applyJson(result, facts);
      NodeCommandOutput.netnsJson(m, ns);
      NodeCommandOutput.json(out, m);
    } else {
      NodeCommandOutput.netnsText(out, ns);
      NodeCommandOutput.applyText(out, result, facts, ns.isPresent());
    }
    out.flush();
    return result.succeeded() ? 0 : Main.EXIT_FAILED;
  }
}
