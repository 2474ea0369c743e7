package io.tcptuning.cli;

import io.tcptuning.node.IoErrors;
import io.tcptuning.node.JournalCorruptException;
import io.tcptuning.node.OriginalsJournal;
import io.tcptuning.node.RevertResult;
import java.io.IOException;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code tcptune revert}: put back the journaled originals and remove the journal. */
@Command(
    name = "revert",
    mixinStandardHelpOptions = true,
    description = {
      "Put back exactly the sysctl values journaled before the first apply, verify them, and remove"
          + " the journal. Nothing to revert is success.",
      "Exit codes: 0 reverted or nothing to revert, 1 a value could not be put back (the journal"
          + " keeps it), the journal cannot be used, or no permission to write the sysctls or the state"
          + " directory (nothing touched), 2 invalid options. With --json, a failure is an {\"error\": ...}"
          + " object on stdout, with the same exit code."
    })
public final class RevertCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Mixin NodeCommandOptions.StateDir stateDir;

  @Option(names = "--policy", paramLabel = "NAME", description = "Revert only if this policy owns the journal.")
  String policy;

  @Option(names = "--json", description = "Print JSON instead of text.")
  boolean json;

  @Override
  public Integer call() {
    var out = spec.commandLine().getOut();
    var errors = new ErrorOutput(spec.commandLine(), json);
    if (policy != null && !OriginalsJournal.validOwner(policy)) {
      return errors.fail(Main.EXIT_INVALID,
          "--policy: must be a Kubernetes object name (lower-case letters, digits, '-' and '.'), got " + io.tcptuning.domain.PolicyValidator.quote(policy));
    }
    ApplyCommand.quietApplierLog();
    RevertResult result;
    try {
      Optional<String> denied = stateDir.writeDenied(WriteAccess.ofRevert(stateDir.journal()));
      if (denied.isPresent()) {
        return errors.fail(Main.EXIT_FAILED, denied.get());
      }
      result = stateDir.applier().revert(policy);
    } catch (JournalCorruptException e) {
      return errors.fail(Main.EXIT_FAILED, e.getMessage());
    } catch (IOException e) {
      return errors.fail(Main.EXIT_FAILED, "nothing reverted: " + IoErrors.describe(e));
    }
    if (json) {
      NodeCommandOutput.json(out, NodeCommandOutput.revertJson(result));
    } else {
      NodeCommandOutput.revertText(out, result);
    }
    out.flush();
    return result.succeeded() ? 0 : Main.EXIT_FAILED;
  }
}
