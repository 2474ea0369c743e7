package io.tcptuning.cli;

import io.tcptuning.domain.PlannedSysctl;
import io.tcptuning.domain.Sysctl;
import io.tcptuning.domain.TuningRequest;
import io.tcptuning.node.OriginalsJournal;
import io.tcptuning.node.ProcSysctls;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Whether this process may do what {@code apply} or {@code revert} is about to do, asked before
 * anything is touched (no lock, no journal, no sysctl): write the sysctls concerned and the state
 * directory. Without it a run as an ordinary user would fail on its first write, after creating
 * the journal.
 */
final class WriteAccess {
  private WriteAccess() {}

  /** The sysctls an apply may write: the changes of the plan from the current values, and what the journal may give back. */
  static Set<Sysctl> ofApply(TuningRequest request, ProcSysctls sysctls, OriginalsJournal journal) {
    Set<Sysctl> out = ofRevert(journal);
    try {
      for (PlannedSysctl change : request.planFor(sysctls.readAll()).changes()) {
        out.add(change.sysctl());
      }
    } catch (IOException e) {
      // The applier reads them again under its lock and reports the failure before any write.
    }
    return out;
  }

  /** The directory of the sysctl.d file a revert removes, when the journal records one. */
  static Optional<Path> persistedDirOf(OriginalsJournal journal) {
    try {
      return journal.load().flatMap(OriginalsJournal.Entries::persisted).map(Path::getParent);
    } catch (IOException e) {
      return Optional.empty();
    }
  }

  /** The sysctls a revert writes: those the journal records. */
  static Set<Sysctl> ofRevert(OriginalsJournal journal) {
    Set<Sysctl> out = EnumSet.noneOf(Sysctl.class);
    try {
      journal.load().ifPresent(entries -> out.addAll(entries.originals().keySet()));
    } catch (IOException e) {
      // A corrupt or unreadable journal: the applier refuses it under its lock, before any write.
    }
    return out;
  }

  /**
   * What is missing, in one line ending with what is needed, or empty when everything is
   * writable.
   */
  static Optional<String> denied(Set<Sysctl> toWrite, ProcSysctls sysctls, Path stateDir, Optional<Path> sysctlDir) throws IOException {
    List<String> problems = new ArrayList<>();
    for (Sysctl s : toWrite) {
      Optional<String> why = sysctls.writeDenied(s);
      if (why.isPresent()) {
        // One is enough: the same rights govern every sysctl of the namespace.
        problems.add("cannot write " + ProcSysctls.PROC_SYS.resolve(s.procPath()) + " (" + why.get() + ")");
        break;
      }
    }
    Path dir = stateDir.toAbsolutePath().normalize();
    stateDirProblem(dir, "the state directory").ifPresent(problems::add);
    Optional<String> persistProblem = sysctlDir.flatMap(d -> stateDirProblem(d.toAbsolutePath().normalize(), "the sysctl.d directory"));
    persistProblem.ifPresent(problems::add);
    if (problems.isEmpty()) {
      return Optional.empty();
    }
    return Optional.of(String.join("; ", problems)
        + "; needs root or CAP_NET_ADMIN over this network namespace, and a writable state directory ("
        + dir + ")" + sysctlDir.map(d -> " and sysctl.d directory (" + d.toAbsolutePath().normalize() + ")").orElse("")
        + "; nothing was changed");
  }

  /**
   * The state directory must be writable, or creatable in its nearest existing parent. Directory
   * permissions are ordinary file modes, so access(2) ({@code Files.isWritable}) answers this one.
   */
  private static Optional<String> stateDirProblem(Path dir, String what) {
    if (Files.isDirectory(dir)) {
      return writableDirectory(dir) ? Optional.empty() : Optional.of("cannot write " + what + " " + dir);
    }
    if (Files.exists(dir)) {
      return Optional.of(what + " " + dir + " is not a directory");
    }
    Path parent = dir.getParent();
    while (parent != null && !Files.exists(parent)) {
      parent = parent.getParent();
    }
    if (parent == null || !writableDirectory(parent)) {
      return Optional.of("cannot create " + what + " " + dir + " (" + parent + " is not writable)");
    }
    return Optional.empty();
  }

  private static boolean writableDirectory(Path dir) {
    return Files.isDirectory(dir) && Files.isWritable(dir) && Files.isExecutable(dir);
  }
}
