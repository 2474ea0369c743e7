package io.tcptuning.node;

import io.tcptuning.domain.Action;
import io.tcptuning.domain.Plan;
import io.tcptuning.domain.PlannedSysctl;
import io.tcptuning.domain.PortRange;
import io.tcptuning.domain.Sysctl;
import io.tcptuning.domain.TuningRequest;
import io.tcptuning.node.OriginalsJournal.Entries;
import io.tcptuning.node.SysctlOutcome.Status;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Carries out plans on one network namespace: journals the originals durably before the first
 * write, writes, reads back, and on any failure rolls back everything the run wrote. Also gives
 * sysctls back: those a policy no longer sets, everything on a handover to another policy, and
 * everything on revert. Every apply and revert holds the journal lock.
 *
 * <p>It logs at debug level only: every outcome is in the {@link ApplyResult} or {@link
 * RevertResult} it returns, and its callers (the CLI's commands, the agent for its node and for
 * each pod) report them with the context they know (node, pod), once.
 */
public final class SysctlApplier {
  private static final Logger LOG = LoggerFactory.getLogger(SysctlApplier.class);

  /** A tuned sysctl whose value is no longer the desired one ({@code actual} null: no file). */
  public record Drift(Sysctl sysctl, String desired, String actual) {}

  private final ProcSysctls sysctls;
  private final OriginalsJournal journal;

  public SysctlApplier(ProcSysctls sysctls, OriginalsJournal journal) {
    this.sysctls = sysctls;
    this.journal = journal;
  }

  /**
   * Plans from the values read under the lock and carries the plan out. Refused lines are not
   * written and do not fail the run.
   *
   * @throws JournalCorruptException when the journal cannot be trusted (nothing written)
   * @throws IOException when the journal or the sysctls cannot be read before any write
   */
  public ApplyResult apply(TuningRequest request) throws IOException {
    return apply(request, Optional.empty());
  }

  /**
   * As {@link #apply(TuningRequest)}; with a persist target, the values in place are also written
   * to a sysctl.d file named after the policy, recorded in the journal so that revert removes it.
   * Once a policy's values are persisted, later applies of the same policy keep the file up to
   * date whether or not they ask for it.
   */
  public ApplyResult apply(TuningRequest request, Optional<PersistedSysctls.Target> persist) throws IOException {
    String policy = request.policy();
    try (OriginalsJournal.Lock lock = journal.lock()) {
      Optional<Entries> previous = journal.load();
      Map<Sysctl, String> before = sysctls.readAll();
      Run run = new Run(policy, before);
      Optional<String> previousOwner = previous.map(Entries::owner).filter(o -> !o.equals(policy));
      Plan plan = null;
      Entries next = null;
      boolean journalTouched = false;
      Optional<Path> persistFile = Optional.empty();
      boolean persisting = false;
      try {
        Entries base = Entries.empty(policy).withNetns(journal.netns());
        Optional<Path> stalePersisted = Optional.empty();
        if (previous.isPresent()) {
          Entries p = previous.get();
          boolean handover = !p.ownedBy(policy);
          List<Sysctl> giveBack =
              p.originals().keySet().stream().filter(s -> handover || !request.desired().containsKey(s)).toList();
          String why = handover ? "handover from policy=" + p.owner() : "no longer in the policy";
          for (Sysctl s : giveBack) {
            // No force here: a value changed by hand since is left alone, reported, and no longer journaled.
            run.giveBack(s, p.originals().get(s), p.applied().get(s), why, false);
          }
          if (handover) {
            stalePersisted = p.persisted();
          } else {
            base = p.without(giveBack).withNetns(journal.netns());
          }
        }
        // Plan from what is there now, after anything given back.
        Map<Sysctl, String> current = run.wrote() ? sysctls.readAll() : before;
        plan = request.planFor(current);
        Map<Sysctl, String> originals = new EnumMap<>(Sysctl.class);
        for (PlannedSysctl change : plan.changes()) {
          originals.put(change.sysctl(), current.get(change.sysctl()));
        }
        // What this project means to leave in place: every line not refused.
        Map<Sysctl, String> inPlace = new EnumMap<>(Sysctl.class);
        for (PlannedSysctl line : plan.sysctls()) {
          if (line.action() != Action.Refuse) {
            inPlace.put(line.sysctl(), line.desired());
          }
        }
        persistFile = persist.map(t -> t.fileFor(policy)).or(base::persisted);
        next = base.withFirstOriginals(originals).withApplied(inPlace).withPersisted(persistFile);
        // The originals (and the values about to be applied) are on disk before the first write of the plan.
        if (!previous.equals(Optional.of(next))) {
          journalTouched = true;
          save(next);
        }
        for (PlannedSysctl change : plan.changes()) {
          run.change(change.sysctl(), current.get(change.sysctl()), change.desired());
        }
        if (persistFile.isPresent()) {
          persisting = true;
          String writer = persist.map(PersistedSysctls.Target::writer).orElse("tcptune");
          PersistedSysctls.write(persistFile.get(), PersistedSysctls.render(policy, inPlace, writer, java.time.Instant.now()));
          LOG.debug("policy={} persisted {} sysctl(s) in {}", policy, inPlace.size(), persistFile.get());
        }
        Optional<Path> removed = Optional.empty();
        if (stalePersisted.isPresent() && !stalePersisted.equals(persistFile) && PersistedSysctls.remove(stalePersisted.get())) {
          removed = stalePersisted;
        }
        return new ApplyResult(policy, plan, run.outcomes(plan), run.givenBack(), previousOwner, Optional.empty(), persistFile, removed);
      } catch (IOException | WriteFailed | RuntimeException e) {
        // Whatever went wrong after the first write, the run's writes are undone.
        String failure = e instanceof WriteFailed wf ? wf.getMessage() : e instanceof IOException ? "journal: " + IoErrors.describe(e) : IoErrors.describe(e);
        if (persisting && e instanceof IOException) {
          failure = "writing " + persistFile.get() + " failed: " + IoErrors.describe(e);
        }
        return rollBack(run, plan, previous, next, journalTouched, previousOwner, failure);
      }
    }
  }

  private ApplyResult rollBack(
      Run run,
      Plan plan,
      Optional<Entries> previous,
      Entries next,
      boolean journalTouched,
      Optional<String> previousOwner,
      String failure) {
    String policy = run.policy;
    LOG.debug("policy={} apply failed: {}; rolling back what this run wrote", policy, failure);
    boolean clean = run.rollBack();
    String summary = failure + "; " + (!clean ? "ROLLBACK INCOMPLETE, see the sysctls marked Failed"
        : run.changedAny() ? "rolled back everything this run wrote" : "nothing was changed");
    if (journalTouched) {
      try {
        if (clean) {
          // Values are as before the run, so the journal from before the run is true again.
          if (previous.isPresent()) {
            save(previous.get());
          } else {
            journal.delete();
          }
        } else {
          // Some value is stuck somewhere: keep every original ever known.
          Entries union = previous.orElse(Entries.empty(policy).withNetns(journal.netns()))
              .withFirstOriginals(next.originals()).withApplied(next.applied());
          save(union);
        }
      } catch (IOException e) {
        summary += "; the journal could not be restored: " + e.getMessage();
      }
    }
    return new ApplyResult(
        policy,
        plan == null ? new Plan(List.of(), List.of()) : plan,
        plan == null ? List.of() : run.outcomes(plan),
        run.givenBack(),
        previousOwner,
        Optional.of(summary),
        Optional.empty(),
        Optional.empty());
  }

  /** As {@link #revert(String, boolean)} without force. */
  public RevertResult revert(String ownerOrNull) throws IOException {
    return revert(ownerOrNull, false);
  }

  /**
   * Puts back the journaled originals, verifies them and removes the journal (and the sysctl.d
   * file of {@code apply --persist}). With an owner, touches nothing when the journal belongs to
   * another policy. Nothing to revert is a success.
   *
   * <p>A sysctl whose value is neither the one this project applied nor the original was changed
   * by someone else after the apply: without {@code force} it is left as it is, reported
   * ({@link SysctlOutcome.Status#ChangedByHand}), and kept in the journal so that a forced revert
   * can still put the original back. A sysctl whose applied value is unknown (a journal of format
   * 1) is put back as before.
   *
   * @throws JournalCorruptException when the journal cannot be trusted (nothing written)
   */
  public RevertResult revert(String ownerOrNull, boolean force) throws IOException {
    try (OriginalsJournal.Lock lock = journal.lock()) {
      Optional<Entries> loaded = journal.load();
      if (loaded.isEmpty()) {
        return new RevertResult(
            RevertResult.Outcome.NothingToRevert, Optional.empty(), List.of(),
            "no journal at " + journal.file() + ": nothing to revert", Optional.empty());
      }
      Entries entries = loaded.get();
      if (ownerOrNull != null && !entries.ownedBy(ownerOrNull)) {
        return new RevertResult(
            RevertResult.Outcome.OwnedByAnotherPolicy,
            Optional.of(entries.owner()),
            List.of(),
            "the journal belongs to policy=" + entries.owner() + "; policy=" + ownerOrNull + " has nothing to revert",
            Optional.empty());
      }
      Run run = new Run(entries.owner(), sysctls.readAll());
      List<Sysctl> failed = new ArrayList<>();
      for (var e : entries.originals().entrySet()) {
        try {
          run.giveBack(e.getKey(), e.getValue(), entries.applied().get(e.getKey()), "revert", force);
        } catch (WriteFailed f) {
          failed.add(e.getKey());
        }
      }
      List<Sysctl> byHand = run.leftAlone();
      if (!failed.isEmpty()) {
        // Keep what could not be put back, so that a later revert tries again.
        List<Sysctl> kept = new ArrayList<>(failed);
        kept.addAll(byHand);
        save(entries.only(kept));
        return new RevertResult(
            RevertResult.Outcome.Failed,
            Optional.of(entries.owner()),
            run.givenBack(),
            "could not restore " + failed.stream().map(Sysctl::dottedName).toList() + "; the journal keeps them",
            Optional.empty());
      }
      Optional<Path> removed = Optional.empty();
      if (entries.persisted().isPresent() && PersistedSysctls.remove(entries.persisted().get())) {
        removed = entries.persisted();
      }
      int restored = entries.originals().size() - byHand.size();
      if (byHand.isEmpty()) {
        journal.delete();
        return new RevertResult(
            RevertResult.Outcome.Reverted,
            Optional.of(entries.owner()),
            run.givenBack(),
            "restored " + restored + " sysctl(s) of policy=" + entries.owner() + " and removed the journal",
            removed);
      }
      save(entries.only(byHand).withPersisted(Optional.empty()));
      return new RevertResult(
          RevertResult.Outcome.ChangedByHand,
          Optional.of(entries.owner()),
          run.givenBack(),
          "restored " + restored + " sysctl(s) of policy=" + entries.owner() + "; left " + byHand.size()
              + " changed by hand since apply as they are (" + byHand.stream().map(Sysctl::dottedName).collect(java.util.stream.Collectors.joining(", "))
              + "); the journal keeps their originals, revert --force puts those back too",
          removed);
    }
  }

  /** Tuned sysctls of the plan (Change or Keep) whose current value is not the desired one. */
  public List<Drift> detectDrift(Plan plan) throws IOException {
    return detectDrift(sysctls, plan);
  }

  /**
   * As {@link #detectDrift(Plan)}, read through {@code sysctls}: it reads the values only, never
   * the journal, so a caller that only checks (a pod visited each census) needs none.
   */
  public static List<Drift> detectDrift(ProcSysctls sysctls, Plan plan) throws IOException {
    List<Drift> out = new ArrayList<>();
    for (PlannedSysctl line : plan.sysctls()) {
      if (line.action() == Action.Refuse) {
        continue;
      }
      String actual = sysctls.read(line.sysctl()).orElse(null);
      if (!line.sysctl().sameValue(line.desired(), actual)) {
        out.add(new Drift(line.sysctl(), line.desired(), actual));
      }
    }
    return out;
  }

  /** The journal as it is now (for status reports). */
  public Optional<Entries> journaled() throws IOException {
    return journal.load();
  }

  private void save(Entries entries) throws IOException {
    if (entries.originals().isEmpty()) {
      journal.delete();
    } else {
      journal.store(entries);
    }
  }

  /** A value for a log line: a port range is quoted so that "a b->c d" stays readable. */
  static String show(String value) {
    return value != null && value.contains(" ") ? "\"" + value + "\"" : String.valueOf(value);
  }

  /** A failed write or verification; the message names the sysctl. */
  private static final class WriteFailed extends Exception {
    WriteFailed(String message) {
      super(message);
    }
  }

  /** The writes of one run, in order, with the values from before the run for rolling back. */
  private final class Run {
    private final String policy;
    private final Map<Sysctl, String> before;
    private final Deque<Sysctl> touched = new ArrayDeque<>();
    private final Map<Sysctl, SysctlOutcome> changed = new LinkedHashMap<>();
    private final Map<Sysctl, SysctlOutcome> givenBack = new LinkedHashMap<>();
    private final List<Sysctl> leftAlone = new ArrayList<>();
    private boolean changedAny;

    Run(String policy, Map<Sysctl, String> before) {
      this.policy = policy;
      this.before = before;
    }

    boolean wrote() {
      return !touched.isEmpty();
    }

    /**
     * Puts {@code s} back to its original, unless its value is neither the applied one (when
     * known) nor the original and {@code force} is false: then someone changed it after the apply,
     * and it is left alone and reported.
     */
    void giveBack(Sysctl s, String original, String applied, String why, boolean force) throws WriteFailed {
      String was = before.get(s);
      if (was == null) {
        givenBack.put(s, new SysctlOutcome(s, null, original, null, Status.Missing, "Unsupported",
            s.dottedName() + " no longer exists here; nothing to give back"));
        LOG.debug("policy={} cannot restore {}: the file no longer exists ({})", policy, s.dottedName(), why);
        return;
      }
      if (!force && applied != null && !s.sameValue(was, applied) && !s.sameValue(was, original)) {
        givenBack.put(s, new SysctlOutcome(s, was, original, was, Status.ChangedByHand, "ChangedByHand",
            "changed by hand since apply: applied " + show(applied) + ", now " + show(was) + " (original " + show(original) + ")"));
        leftAlone.add(s);
        LOG.debug("policy={} left {} alone: applied {}, now {} (changed by hand since apply; original {}) ({})",
            policy, s.dottedName(), show(applied), show(was), show(original), why);
        return;
      }
      try {
        write(s, original);
      } catch (WriteFailed e) {
        givenBack.put(s, new SysctlOutcome(s, was, original, null, Status.Failed, "SysctlWriteFailed", e.getMessage()));
        throw e;
      }
      givenBack.put(s, new SysctlOutcome(s, was, original, original, Status.Restored, "Restored", why));
      LOG.debug("policy={} restored {} {}->{} ({})", policy, s.dottedName(), show(was), show(original), why);
    }

    void change(Sysctl s, String current, String desired) throws WriteFailed {
      try {
        write(s, desired);
      } catch (WriteFailed e) {
        changed.put(s, new SysctlOutcome(s, current, desired, null, Status.Failed, "SysctlWriteFailed", e.getMessage()));
        throw e;
      }
      changed.put(s, new SysctlOutcome(s, current, desired, desired, Status.Applied, "Applied", current + " -> " + desired));
      LOG.debug("policy={} applied {} {}->{}", policy, s.dottedName(), show(current), show(desired));
    }

    private void write(Sysctl s, String value) throws WriteFailed {
      touched.push(s); // before writing: a failed write may still have changed the value
      String readBack;
      try {
        sysctls.write(s, value);
        readBack = sysctls.read(s).orElse(null);
      } catch (IOException | RuntimeException e) {
        throw new WriteFailed(s.dottedName() + ": writing " + value + " failed: " + IoErrors.describe(e));
      }
      if (!s.sameValue(value, readBack)) {
        throw new WriteFailed(s.dottedName() + ": wrote " + value + " but read back " + readBack);
      }
    }

    /** True when rolling back found a value that this run had changed (or could not tell). */
    boolean changedAny() {
      return changedAny;
    }

    /**
     * Puts every touched sysctl back to its value from before the run; true when all verified.
     * A value that still reads as before (a write refused outright, by the kernel or for lack of
     * permission) needs no rollback: nothing is written and nothing is claimed to be stuck.
     */
    boolean rollBack() {
      boolean clean = true;
      List<Sysctl> done = new ArrayList<>();
      while (!touched.isEmpty()) {
        Sysctl s = touched.pop();
        if (done.contains(s)) {
          continue;
        }
        done.add(s);
        String value = before.get(s);
        String result;
        boolean ok;
        try {
          if (s.sameValue(value, sysctls.read(s).orElse(null))) {
            ok = true;
            result = "unchanged, still " + value;
            LOG.debug("policy={} {} is unchanged: nothing to roll back", policy, s.dottedName());
          } else {
            changedAny = true;
            sysctls.write(s, value);
            String readBack = sysctls.read(s).orElse(null);
            ok = s.sameValue(value, readBack);
            result = ok ? "rolled back to " + value : "rollback wrote " + value + " but read back " + readBack;
            if (ok) {
              LOG.debug("policy={} rolled back {} to {}", policy, s.dottedName(), show(value));
            }
          }
        } catch (IOException | RuntimeException e) {
          changedAny = true;
          ok = false;
          result = "rollback to " + value + " failed: " + IoErrors.describe(e);
        }
        if (!ok) {
          LOG.error("policy={} {}: {}", policy, s.dottedName(), result);
        }
        clean &= ok;
        mark(changed, s, ok, value, result);
        mark(givenBack, s, ok, value, result);
      }
      return clean;
    }

    private void mark(Map<Sysctl, SysctlOutcome> outcomes, Sysctl s, boolean ok, String value, String result) {
      SysctlOutcome o = outcomes.get(s);
      if (o == null) {
        return;
      }
      String message = o.status() == Status.Failed ? o.message() + "; " + result : result;
      outcomes.put(s, new SysctlOutcome(s, o.before(), o.target(), ok ? value : null,
          ok && o.status() != Status.Failed ? Status.RolledBack : Status.Failed, o.reason(), message));
    }

    /** Sysctls left alone because someone changed them after the apply. */
    List<Sysctl> leftAlone() {
      return List.copyOf(leftAlone);
    }

    List<SysctlOutcome> givenBack() {
      return List.copyOf(givenBack.values());
    }

    /** One outcome per plan line; Change lines never reached are reported as not written. */
    List<SysctlOutcome> outcomes(Plan plan) {
      List<SysctlOutcome> out = new ArrayList<>();
      for (PlannedSysctl line : plan.sysctls()) {
        Sysctl s = line.sysctl();
        out.add(
            switch (line.action()) {
              case Keep -> new SysctlOutcome(s, line.current(), line.desired(), line.current(), Status.AlreadySet, line.reason(), line.message());
              case Refuse -> new SysctlOutcome(s, line.current(), line.desired(), line.current(), Status.Refused, line.reason(), line.message());
              case Change -> Objects.requireNonNullElseGet(changed.get(s), () ->
                  new SysctlOutcome(s, line.current(), line.desired(), line.current(), Status.NotAttempted, "NotAttempted",
                      "not written: an earlier write of this run failed"));
            });
      }
      return out;
    }
  }
}
