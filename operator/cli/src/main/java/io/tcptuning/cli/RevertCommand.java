package io.tcptuning.cli;

import io.tcptuning.node.IoErrors;
import io.tcptuning.node.JournalCorruptException;
import io.tcptuning.node.JournalForOtherNamespaceException;
import io.tcptuning.node.OriginalsJournal;
import io.tcptuning.node.ProcSysctls;
import io.tcptuning.node.RevertResult;
import io.tcptuning.node.SysctlApplier;
import java.io.IOException;
import java.util.List;
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
      "Put back exactly the sysctl values journaled before the first apply, verify them, remove the"
          + " journal and the file of apply --persist. A sysctl changed by hand since apply (neither the"
          + " applied value nor the original) is reported and left as it is, unless --force. Nothing to revert"
          + " is success.",
      "Exit codes: 0 reverted or nothing to revert, 1 a value could not be put back (the journal"
          + " keeps it), the journal cannot be used, the --netns namespace is gone, was replaced or cannot be"
          + " entered, or no permission to write the sysctls or the state directory (nothing touched), 2 invalid"
          + " options, 3 reverted except sysctls changed by hand (left as they are; the journal keeps their"
          + " originals for revert --force). With --json, a failure is an {\"error\": ...} object on stdout,"
          + " with the same exit code."
    })
public final class RevertCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Mixin NodeCommandOptions.StateDir stateDir;

  @Mixin NetnsOption netns;

  @Option(names = "--policy", paramLabel = "NAME", description = "Revert only if this policy owns the journal.")
  String policy;

  @Option(names = "--force", description = "Also put back sysctls changed by hand since apply.")
  boolean force;

  @Option(names = "--json", description = "Print JSON instead of text.")
  boolean json;

  @Override
  public Integer call() throws Exception {
    var errors = new ErrorOutput(spec.commandLine(), json);
    if (policy != null && !OriginalsJournal.validOwner(policy)) {
      return errors.fail(Main.EXIT_INVALID,
          "--policy: must be a Kubernetes object name (lower-case letters, digits, '-' and '.'), got " + io.tcptuning.domain.PolicyValidator.quote(policy));
    }
    Optional<String> bad = netns.invalid();
    if (bad.isPresent()) {
      return errors.fail(Main.EXIT_INVALID, bad.get());
    }
    if (netns.given()) {
      Optional<String> gone = goneOrReplaced();
      if (gone.isPresent()) {
        return errors.fail(Main.EXIT_FAILED, gone.get());
      }
    }
    return netns.run(errors, ns -> revert(ns, errors));
  }

  /**
   * With --netns: a journal in the state directory recording this PATH for a namespace that is
   * no longer there (nothing at PATH, or another namespace now). Said, and nothing dropped.
   */
  private Optional<String> goneOrReplaced() throws IOException {
    Optional<Long> now = netns.inodeNow();
    List<OriginalsJournal.NamespaceJournal> all = OriginalsJournal.namespaceJournals(stateDir.stateDir);
    if (now.isPresent() && all.stream().anyMatch(j -> j.inode() == now.get())) {
      return Optional.empty(); // the namespace there now has a journal: revert that one (its identity is checked under the lock)
    }
    List<OriginalsJournal.NamespaceJournal> recorded = all.stream()
        .filter(j -> j.entries().flatMap(OriginalsJournal.Entries::netns).map(n -> n.path().equals(netns.path)).orElse(false))
        .filter(j -> now.isEmpty() || j.inode() != now.get())
        .toList();
    if (recorded.isEmpty()) {
      return Optional.empty();
    }
    OriginalsJournal.NamespaceJournal j = recorded.getFirst();
    String was = j.entries().orElseThrow().netns().orElseThrow().id().shown();
    String where = now.map(i -> netns.path + " is net:[" + i + "] now, another namespace").orElse("nothing is at " + netns.path + " any more");
    return Optional.of("the journal " + j.file() + " is for " + was + " at " + netns.path + ", but " + where
        + ": that namespace is gone or was replaced, and its values went with it. Nothing reverted; the journal is kept:"
        + " remove it by hand once you have checked it");
  }

  private int revert(Optional<OriginalsJournal.Netns> ns, ErrorOutput errors) {
    var out = spec.commandLine().getOut();
    OriginalsJournal journal = stateDir.journal(ns);
    RevertResult result;
    try {
      Optional<String> denied = stateDir.writeDenied(WriteAccess.ofRevert(journal), WriteAccess.persistedDirOf(journal));
      if (denied.isPresent()) {
        return errors.fail(Main.EXIT_FAILED, denied.get());
      }
      result = new SysctlApplier(new ProcSysctls(), journal).revert(policy, force);
    } catch (JournalCorruptException | JournalForOtherNamespaceException e) {
      return errors.fail(Main.EXIT_FAILED, e.getMessage());
    } catch (IOException e) {
      return errors.fail(Main.EXIT_FAILED, "nothing reverted: " + IoErrors.describe(e));
    }
    List<String> others = ns.isPresent() ? List.of() : otherNamespaces();
    if (json) {
      var m = NodeCommandOutput.revertJson(result);
      NodeCommandOutput.netnsJson(m, ns);
      m.put("otherNamespaceJournals", others);
      NodeCommandOutput.json(out, m);
    } else {
      NodeCommandOutput.netnsText(out, ns);
      NodeCommandOutput.revertText(out, result);
      if (!others.isEmpty()) {
        out.println("note: journals of other network namespaces are left as they are (revert each with --netns PATH): "
            + String.join(", ", others));
      }
    }
    out.flush();
    return switch (result.outcome()) {
      case Failed -> Main.EXIT_FAILED;
      case ChangedByHand -> Main.EXIT_CHANGED_BY_HAND;
      default -> 0;
    };
  }

  /** The journals of --netns namespaces in the state directory, shown, for a revert of the node's own. */
  private List<String> otherNamespaces() {
    try {
      return OriginalsJournal.namespaceJournals(stateDir.stateDir).stream()
          .map(j -> j.entries().flatMap(OriginalsJournal.Entries::netns).map(OriginalsJournal.Netns::shown)
              .orElse(j.file() + " (" + j.problem().orElse("unreadable") + ")"))
          .toList();
    } catch (IOException e) {
      return List.of();
    }
  }
}
