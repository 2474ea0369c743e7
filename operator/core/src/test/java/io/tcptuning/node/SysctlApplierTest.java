package io.tcptuning.node;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tcptuning.domain.KernelVersion;
import io.tcptuning.domain.TuningRequest;
import io.tcptuning.domain.NatVerdict;
import io.tcptuning.domain.Sysctl;
import io.tcptuning.domain.TuningPlanner;
import io.tcptuning.node.OriginalsJournal.Entries;
import io.tcptuning.node.SysctlOutcome.Status;
import io.tcptuning.testing.JournalFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The applier against a /proc/sys fixture; the real kernel is in ApplyRevertNamespaceTest. */
class SysctlApplierTest {
  @TempDir Path tmp;
  SysctlFixture fx;
  OriginalsJournal journal;
  SysctlApplier applier;

  @BeforeEach
  void setUp() throws IOException {
    fx = new SysctlFixture(Files.createDirectories(tmp.resolve("proc-sys")));
    journal = new OriginalsJournal(tmp.resolve("state"));
    applier = new SysctlApplier(fx.sysctls(), journal);
  }

  private static TuningRequest request(String policy, Map<Sysctl, String> desired) {
    return new TuningRequest(policy, desired, KernelVersion.parse("6.18.44"), NatVerdict.none(List.of("no nat table")), false, Set.of());
  }

  private static Map<Sysctl, String> highChurn() {
    Map<Sysctl, String> d = new EnumMap<>(Sysctl.class);
    d.put(Sysctl.TCP_TW_REUSE, "1");
    d.put(Sysctl.TCP_TIMESTAMPS, "1");
    d.put(Sysctl.IP_LOCAL_PORT_RANGE, "10240 65535");
    return d;
  }

  private Map<Sysctl, String> values() throws IOException {
    return fx.sysctls().readAll();
  }

  @Test
  void appliesChangesJournalsTheirOriginalsAndKeepsWhatIsAlreadySet() throws IOException {
    ApplyResult r = applier.apply(request("high-churn", highChurn()));

    assertThat(r.succeeded()).isTrue();
    assertThat(r.sysctls()).extracting(SysctlOutcome::sysctl, SysctlOutcome::status, SysctlOutcome::before, SysctlOutcome::after)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple(Sysctl.TCP_TW_REUSE, Status.Applied, "2", "1"),
            org.assertj.core.groups.Tuple.tuple(Sysctl.TCP_TIMESTAMPS, Status.AlreadySet, "1", "1"),
            org.assertj.core.groups.Tuple.tuple(Sysctl.IP_LOCAL_PORT_RANGE, Status.Applied, "32768 60999", "10240 65535"));
    assertThat(values()).containsEntry(Sysctl.TCP_TW_REUSE, "1").containsEntry(Sysctl.IP_LOCAL_PORT_RANGE, "10240 65535");
    // Only what changed is journaled, with the value applied: timestamps was never written.
    assertThat(journal.load()).contains(new Entries("high-churn", Map.of(Sysctl.TCP_TW_REUSE, "2", Sysctl.IP_LOCAL_PORT_RANGE, "32768 60999"),
        Map.of(Sysctl.TCP_TW_REUSE, "1", Sysctl.IP_LOCAL_PORT_RANGE, "10240 65535"), Optional.empty(), Optional.empty()));
  }

  @Test
  void reapplyIsANoOpAndNeverReplacesTheTrueOriginals() throws IOException {
    applier.apply(request("high-churn", highChurn()));
    byte[] journalBytes = Files.readAllBytes(journal.file());
    Object inode = Files.getAttribute(journal.file(), "unix:ino");

    ApplyResult again = applier.apply(request("high-churn", highChurn()));

    assertThat(again.succeeded()).isTrue();
    assertThat(again.sysctls()).extracting(SysctlOutcome::status).containsOnly(Status.AlreadySet);
    assertThat(Files.readAllBytes(journal.file())).isEqualTo(journalBytes);
    assertThat(Files.getAttribute(journal.file(), "unix:ino")).isEqualTo(inode);

    // Someone changes a tuned value by hand; the next apply puts it back and the journal still
    // holds the value from before the first apply, not the hand-set one.
    fx.set(Sysctl.TCP_TW_REUSE, "0");
    ApplyResult healed = applier.apply(request("high-churn", highChurn()));
    assertThat(healed.sysctls().get(0).status()).isEqualTo(Status.Applied);
    assertThat(journal.load().orElseThrow().originals()).containsEntry(Sysctl.TCP_TW_REUSE, "2");
  }

  @Test
  void aChangedPolicyAddsNewOriginalsAndGivesBackWhatItNoLongerSets() throws IOException {
    applier.apply(request("high-churn", highChurn()));

    Map<Sysctl, String> v2 = new EnumMap<>(Sysctl.class);
    v2.put(Sysctl.TCP_TW_REUSE, "1");
    v2.put(Sysctl.TCP_FIN_TIMEOUT, "30");
    ApplyResult r = applier.apply(request("high-churn", v2));

    assertThat(r.succeeded()).isTrue();
    assertThat(r.givenBack()).extracting(SysctlOutcome::sysctl, SysctlOutcome::status)
        .containsExactly(org.assertj.core.groups.Tuple.tuple(Sysctl.IP_LOCAL_PORT_RANGE, Status.Restored));
    assertThat(values())
        .containsEntry(Sysctl.IP_LOCAL_PORT_RANGE, "32768 60999")
        .containsEntry(Sysctl.TCP_TW_REUSE, "1")
        .containsEntry(Sysctl.TCP_FIN_TIMEOUT, "30");
    assertThat(journal.load()).contains(new Entries("high-churn", Map.of(Sysctl.TCP_TW_REUSE, "2", Sysctl.TCP_FIN_TIMEOUT, "60"),
        Map.of(Sysctl.TCP_TW_REUSE, "1", Sysctl.TCP_FIN_TIMEOUT, "30"), Optional.empty(), Optional.empty()));
  }

  @Test
  void aNewOwnerFirstGetsTheOldOwnersOriginalsBackThenJournalsAfresh() throws IOException {
    applier.apply(request("high-churn", highChurn()));

    Map<Sysctl, String> other = new EnumMap<>(Sysctl.class);
    other.put(Sysctl.TCP_TW_REUSE, "1");
    other.put(Sysctl.SOMAXCONN, "8192");
    ApplyResult r = applier.apply(request("web-servers", other));

    assertThat(r.succeeded()).isTrue();
    assertThat(r.previousOwner()).contains("high-churn");
    assertThat(r.givenBack()).extracting(SysctlOutcome::sysctl).containsExactly(Sysctl.TCP_TW_REUSE, Sysctl.IP_LOCAL_PORT_RANGE);
    assertThat(values())
        .containsEntry(Sysctl.IP_LOCAL_PORT_RANGE, "32768 60999")
        .containsEntry(Sysctl.TCP_TW_REUSE, "1")
        .containsEntry(Sysctl.SOMAXCONN, "8192");
    // The new owner's originals are the true ones (2, not the 1 the old owner had set).
    assertThat(journal.load()).contains(new Entries("web-servers", Map.of(Sysctl.TCP_TW_REUSE, "2", Sysctl.SOMAXCONN, "4096"),
        Map.of(Sysctl.TCP_TW_REUSE, "1", Sysctl.SOMAXCONN, "8192"), Optional.empty(), Optional.empty()));
  }

  @Test
  void afterAHandoverThePlanIsMadeFromTheGivenBackValues() throws IOException {
    // The old owner turned timestamps on (original 0). The new owner asks for tw_reuse only: once
    // timestamps are back to 0, reuse would silently do nothing, so it must be refused.
    fx.set(Sysctl.TCP_TIMESTAMPS, "0");
    applier.apply(request("old-owner", highChurn()));
    assertThat(values()).containsEntry(Sysctl.TCP_TIMESTAMPS, "1");

    ApplyResult r = applier.apply(request("new-owner", Map.of(Sysctl.TCP_TW_REUSE, "1")));

    assertThat(r.sysctls()).singleElement().satisfies(o -> {
      assertThat(o.status()).isEqualTo(Status.Refused);
      assertThat(o.reason()).isEqualTo(TuningPlanner.TIMESTAMPS_DISABLED);
    });
    assertThat(values()).containsEntry(Sysctl.TCP_TIMESTAMPS, "0").containsEntry(Sysctl.TCP_TW_REUSE, "2");
    assertThat(journal.load()).isEmpty();
  }

  @Test
  void refusedSysctlsAreNeitherWrittenNorCreated() throws IOException {
    Map<Sysctl, String> d = highChurn();
    d.put(Sysctl.TCP_TW_RECYCLE, "1");

    ApplyResult r = applier.apply(request("legacy", d));

    assertThat(r.succeeded()).isTrue();
    assertThat(r.sysctls()).filteredOn(o -> o.sysctl() == Sysctl.TCP_TW_RECYCLE).singleElement()
        .extracting(SysctlOutcome::status, SysctlOutcome::reason)
        .containsExactly(Status.Refused, TuningPlanner.KERNEL_REMOVED_SYSCTL);
    assertThat(fx.file(Sysctl.TCP_TW_RECYCLE)).doesNotExist();
    assertThat(journal.load().orElseThrow().originals()).doesNotContainKey(Sysctl.TCP_TW_RECYCLE);
  }

  @Test
  void aFailedWriteRollsBackWhatTheRunWroteAndTheJournalIsAsBefore() throws IOException {
    // The port range file is a symlink: it reads fine but every write to it fails (as a kernel
    // rejecting the value would, or a missing permission), so its value never moves.
    fx.symlink(Sysctl.IP_LOCAL_PORT_RANGE, Files.createDirectories(tmp.resolve("proc-sys/outside")));
    Map<Sysctl, String> before = values();

    ApplyResult r = applier.apply(request("high-churn", highChurn()));

    assertThat(r.succeeded()).isFalse();
    assertThat(r.failure()).get().asString()
        .contains("net.ipv4.ip_local_port_range", "rolled back everything this run wrote")
        .doesNotContain("Exception", "INCOMPLETE");
    assertThat(values()).isEqualTo(before);
    assertThat(r.sysctls()).extracting(SysctlOutcome::sysctl, SysctlOutcome::status)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple(Sysctl.TCP_TW_REUSE, Status.RolledBack),
            org.assertj.core.groups.Tuple.tuple(Sysctl.TCP_TIMESTAMPS, Status.AlreadySet),
            org.assertj.core.groups.Tuple.tuple(Sysctl.IP_LOCAL_PORT_RANGE, Status.Failed));
    assertThat(r.sysctls().get(2).message()).endsWith("unchanged, still 32768 60999");
    // Every value is as before the run, so the journal is too: there was none.
    assertThat(journal.load()).isEmpty();
    assertThat(journal.file()).doesNotExist();
  }

  @Test
  void aRunWhoseOnlyWriteIsRefusedSaysNothingWasChangedAndLeavesNoJournal() throws IOException {
    fx.symlink(Sysctl.TCP_FIN_TIMEOUT, Files.createDirectories(tmp.resolve("proc-sys/outside")));
    Map<Sysctl, String> before = values();

    ApplyResult r = applier.apply(request("fin", Map.of(Sysctl.TCP_FIN_TIMEOUT, "30")));

    assertThat(r.succeeded()).isFalse();
    assertThat(r.failure()).get().asString().startsWith("net.ipv4.tcp_fin_timeout: writing 30 failed: ").endsWith("; nothing was changed");
    assertThat(values()).isEqualTo(before);
    assertThat(journal.file()).doesNotExist();
  }

  @Test
  void whenARollbackCannotBeVerifiedTheJournalKeepsTheOldAndTheNewOriginals() throws IOException {
    applier.apply(request("high-churn", Map.of(Sysctl.TCP_FIN_TIMEOUT, "30")));
    // somaxconn's file is a link to tcp_tw_reuse's: it cannot be written, and it reads whatever
    // the run writes to tcp_tw_reuse, so when its rollback comes it has changed and stays stuck.
    Files.delete(fx.file(Sysctl.SOMAXCONN));
    Files.createSymbolicLink(fx.file(Sysctl.SOMAXCONN), fx.file(Sysctl.TCP_TW_REUSE));
    Map<Sysctl, String> v2 = new EnumMap<>(Sysctl.class);
    v2.put(Sysctl.TCP_TW_REUSE, "1");
    v2.put(Sysctl.TCP_FIN_TIMEOUT, "30");
    v2.put(Sysctl.SOMAXCONN, "8192");
    Map<Sysctl, String> before = values();

    ApplyResult r = applier.apply(request("high-churn", v2));

    assertThat(r.succeeded()).isFalse();
    assertThat(r.failure()).get().asString().contains("net.core.somaxconn", "ROLLBACK INCOMPLETE");
    assertThat(r.sysctls()).filteredOn(o -> o.sysctl() == Sysctl.SOMAXCONN).singleElement()
        .satisfies(o -> assertThat(o.message()).contains("rollback to 2 failed"));
    assertThat(values()).isEqualTo(before);
    assertThat(journal.load().orElseThrow().originals())
        .containsExactlyInAnyOrderEntriesOf(Map.of(Sysctl.TCP_FIN_TIMEOUT, "60", Sysctl.TCP_TW_REUSE, "2", Sysctl.SOMAXCONN, "2"));
  }

  @Test
  void revertPutsBackExactlyTheOriginalsRemovesTheJournalAndIsIdempotent() throws IOException {
    fx.set(Sysctl.TCP_TW_REUSE, "0");
    fx.set(Sysctl.IP_LOCAL_PORT_RANGE, "40000\t40999");
    Map<Sysctl, String> before = values();
    applier.apply(request("high-churn", highChurn()));
    assertThat(values()).isNotEqualTo(before);

    RevertResult r = applier.revert(null);

    assertThat(r.outcome()).isEqualTo(RevertResult.Outcome.Reverted);
    assertThat(r.owner()).contains("high-churn");
    assertThat(r.sysctls()).extracting(SysctlOutcome::status).containsOnly(Status.Restored);
    assertThat(values()).isEqualTo(before);
    assertThat(journal.file()).doesNotExist();

    RevertResult again = applier.revert(null);
    assertThat(again.outcome()).isEqualTo(RevertResult.Outcome.NothingToRevert);
    assertThat(again.succeeded()).isTrue();
    assertThat(values()).isEqualTo(before);
  }

  @Test
  void revertForAnotherOwnerTouchesNothing() throws IOException {
    applier.apply(request("high-churn", highChurn()));
    Map<Sysctl, String> tuned = values();
    byte[] journalBytes = Files.readAllBytes(journal.file());

    RevertResult r = applier.revert("someone-else");

    assertThat(r.outcome()).isEqualTo(RevertResult.Outcome.OwnedByAnotherPolicy);
    assertThat(r.message()).contains("policy=high-churn");
    assertThat(values()).isEqualTo(tuned);
    assertThat(Files.readAllBytes(journal.file())).isEqualTo(journalBytes);

    assertThat(applier.revert("high-churn").outcome()).isEqualTo(RevertResult.Outcome.Reverted);
  }

  @Test
  void aCorruptJournalStopsApplyAndRevertWithNothingWrittenAndTheFileKept() throws IOException {
    applier.apply(request("high-churn", highChurn()));
    Map<Sysctl, String> tuned = values();
    byte[] bytes = Files.readAllBytes(journal.file());
    byte[] truncated = java.util.Arrays.copyOf(bytes, bytes.length - 10);
    Files.write(journal.file(), truncated);

    assertThatThrownBy(() -> applier.apply(request("high-churn", Map.of(Sysctl.TCP_FIN_TIMEOUT, "30"))))
        .isInstanceOf(JournalCorruptException.class);
    assertThatThrownBy(() -> applier.revert(null)).isInstanceOf(JournalCorruptException.class);
    assertThatThrownBy(() -> applier.apply(request("another-owner", highChurn()))).isInstanceOf(JournalCorruptException.class);

    assertThat(values()).isEqualTo(tuned);
    assertThat(Files.readAllBytes(journal.file())).isEqualTo(truncated);
  }

  @Test
  void aJournaledSysctlWhoseFileIsGoneIsReportedMissingAndDropped() throws IOException {
    applier.apply(request("high-churn", highChurn()));
    Files.delete(fx.file(Sysctl.IP_LOCAL_PORT_RANGE));

    RevertResult r = applier.revert(null);

    assertThat(r.succeeded()).isTrue();
    assertThat(r.sysctls()).extracting(SysctlOutcome::sysctl, SysctlOutcome::status)
        .contains(org.assertj.core.groups.Tuple.tuple(Sysctl.IP_LOCAL_PORT_RANGE, Status.Missing));
    assertThat(fx.file(Sysctl.IP_LOCAL_PORT_RANGE)).doesNotExist();
    assertThat(values()).containsEntry(Sysctl.TCP_TW_REUSE, "2");
  }

  @Test
  void driftListsTunedSysctlsThatNoLongerHaveTheirDesiredValue() throws IOException {
    ApplyResult r = applier.apply(request("high-churn", highChurn()));
    assertThat(applier.detectDrift(r.plan())).isEmpty();

    fx.set(Sysctl.TCP_TW_REUSE, "0");
    fx.set(Sysctl.IP_LOCAL_PORT_RANGE, "10240\t65535"); // the kernel's tab is not drift

    assertThat(applier.detectDrift(r.plan())).containsExactly(new SysctlApplier.Drift(Sysctl.TCP_TW_REUSE, "1", "0"));
  }

  @Test
  void revertLeavesAValueChangedByHandSinceApplyAloneAndKeepsItsOriginalInTheJournal() throws IOException {
    fx.set(Sysctl.TCP_TW_REUSE, "0");
    applier.apply(request("high-churn", highChurn()));
    // Someone sets reuse by hand after the apply (applied 1, original 0); the port range is as applied.
    fx.set(Sysctl.TCP_TW_REUSE, "2");

    RevertResult r = applier.revert(null);

    assertThat(r.outcome()).isEqualTo(RevertResult.Outcome.ChangedByHand);
    assertThat(r.succeeded()).isTrue();
    assertThat(r.sysctls()).extracting(SysctlOutcome::sysctl, SysctlOutcome::status)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple(Sysctl.TCP_TW_REUSE, Status.ChangedByHand),
            org.assertj.core.groups.Tuple.tuple(Sysctl.IP_LOCAL_PORT_RANGE, Status.Restored));
    assertThat(r.sysctls().getFirst().message()).isEqualTo("changed by hand since apply: applied 1, now 2 (original 0)");
    assertThat(r.message()).contains("left 1 changed by hand", "net.ipv4.tcp_tw_reuse", "--force");
    assertThat(values()).containsEntry(Sysctl.TCP_TW_REUSE, "2").containsEntry(Sysctl.IP_LOCAL_PORT_RANGE, "32768 60999");
    Entries kept = journal.load().orElseThrow();
    assertThat(kept.originals()).containsExactlyEntriesOf(Map.of(Sysctl.TCP_TW_REUSE, "0"));
    assertThat(kept.applied()).containsExactlyEntriesOf(Map.of(Sysctl.TCP_TW_REUSE, "1"));

    // Asked again, the same answer; forced, the original comes back and the journal goes.
    assertThat(applier.revert(null).outcome()).isEqualTo(RevertResult.Outcome.ChangedByHand);
    assertThat(values()).containsEntry(Sysctl.TCP_TW_REUSE, "2");
    RevertResult forced = applier.revert(null, true);
    assertThat(forced.outcome()).isEqualTo(RevertResult.Outcome.Reverted);
    assertThat(values()).containsEntry(Sysctl.TCP_TW_REUSE, "0");
    assertThat(journal.file()).doesNotExist();
  }

  @Test
  void aValueAlreadyBackAtItsOriginalIsNoHandChange() throws IOException {
    applier.apply(request("high-churn", highChurn()));
    fx.set(Sysctl.TCP_TW_REUSE, "2"); // the original, set back by hand

    RevertResult r = applier.revert(null);

    assertThat(r.outcome()).isEqualTo(RevertResult.Outcome.Reverted);
    assertThat(values()).containsEntry(Sysctl.TCP_TW_REUSE, "2").containsEntry(Sysctl.IP_LOCAL_PORT_RANGE, "32768 60999");
    assertThat(journal.file()).doesNotExist();
  }

  @Test
  void aJournalOfTheFirstFormatHasNoAppliedValuesAndRevertsAsBefore() throws IOException {
    fx.set(Sysctl.TCP_TW_REUSE, "0");
    Map<Sysctl, String> before = values();
    applier.apply(request("high-churn", highChurn()));
    // What tcptune wrote before applied values were journaled (format 1), as a fixture.
    String body = "tcptune-originals 1\nowner high-churn\nsysctl net.ipv4.tcp_tw_reuse=0\nsysctl net.ipv4.ip_local_port_range=32768 60999\n";
    JournalFiles.write(journal.file(), body);
    fx.set(Sysctl.TCP_TW_REUSE, "2"); // unknowable whether by hand: the applied value was not recorded

    RevertResult r = applier.revert(null);

    assertThat(r.outcome()).isEqualTo(RevertResult.Outcome.Reverted);
    assertThat(values()).isEqualTo(before);
    assertThat(journal.file()).doesNotExist();
  }

  @Test
  void reapplyRecordsTheAppliedValuesInAJournalOfTheFirstFormat() throws IOException {
    applier.apply(request("high-churn", highChurn()));
    String body = "tcptune-originals 1\nowner high-churn\nsysctl net.ipv4.tcp_tw_reuse=2\nsysctl net.ipv4.ip_local_port_range=32768 60999\n";
    JournalFiles.write(journal.file(), body);

    applier.apply(request("high-churn", highChurn()));

    assertThat(Files.readString(journal.file())).startsWith("tcptune-originals 2\n").contains("applied net.ipv4.tcp_tw_reuse=1\n");
    assertThat(journal.load().orElseThrow().originals()).containsEntry(Sysctl.TCP_TW_REUSE, "2");
  }

  @Test
  void aLaterApplyThatChangesAValueUpdatesTheAppliedValueBeforeWriting() throws IOException {
    applier.apply(request("high-churn", highChurn()));
    Map<Sysctl, String> v2 = highChurn();
    v2.put(Sysctl.IP_LOCAL_PORT_RANGE, "20000 65535");

    applier.apply(request("high-churn", v2));

    Entries e = journal.load().orElseThrow();
    assertThat(e.originals()).containsEntry(Sysctl.IP_LOCAL_PORT_RANGE, "32768 60999");
    assertThat(e.applied()).containsEntry(Sysctl.IP_LOCAL_PORT_RANGE, "20000 65535");
    assertThat(applier.revert(null).outcome()).isEqualTo(RevertResult.Outcome.Reverted);
    assertThat(values()).containsEntry(Sysctl.IP_LOCAL_PORT_RANGE, "32768 60999");
  }

  @Test
  void persistWritesTheValuesInPlaceAfterTheWritesAndRevertRemovesTheFile() throws IOException {
    Path sysctlD = tmp.resolve("etc/sysctl.d");
    Map<Sysctl, String> d = highChurn();
    d.put(Sysctl.TCP_TW_RECYCLE, "1"); // refused: never persisted
    var target = new PersistedSysctls.Target(sysctlD, "tcptune 9.9.9");

    ApplyResult r = applier.apply(request("high-churn", d), Optional.of(target));

    Path file = sysctlD.resolve("90-tcptune-high-churn.conf");
    assertThat(r.persisted()).contains(file);
    assertThat(journal.load().orElseThrow().persisted()).contains(file);
    String text = Files.readString(file);
    assertThat(text).contains("tcptune 9.9.9", "tcptune revert --policy high-churn").doesNotContain("tcp_tw_recycle");
    assertThat(PersistedSysctlsTest.parse(text))
        .containsExactly(Map.entry("net.ipv4.tcp_tw_reuse", "1"), Map.entry("net.ipv4.tcp_timestamps", "1"),
            Map.entry("net.ipv4.ip_local_port_range", "10240 65535"));
    try (var files = Files.list(sysctlD)) {
      assertThat(files).containsExactly(file); // no temporary file left
    }

    // A later apply without --persist keeps the file true to what is applied.
    Map<Sysctl, String> v2 = highChurn();
    v2.put(Sysctl.IP_LOCAL_PORT_RANGE, "20000 65535");
    assertThat(applier.apply(request("high-churn", v2)).persisted()).contains(file);
    assertThat(PersistedSysctlsTest.parse(Files.readString(file))).containsEntry("net.ipv4.ip_local_port_range", "20000 65535");

    RevertResult reverted = applier.revert("high-churn");
    assertThat(reverted.removedPersisted()).contains(file);
    assertThat(file).doesNotExist();
  }

  @Test
  void aHandoverRemovesTheOldOwnersPersistedFile() throws IOException {
    Path sysctlD = tmp.resolve("etc/sysctl.d");
    applier.apply(request("old-owner", highChurn()), Optional.of(new PersistedSysctls.Target(sysctlD, "tcptune test")));
    Path old = sysctlD.resolve("90-tcptune-old-owner.conf");
    assertThat(old).exists();

    ApplyResult r = applier.apply(request("new-owner", Map.of(Sysctl.SOMAXCONN, "8192")));

    assertThat(r.succeeded()).isTrue();
    assertThat(r.removedPersisted()).contains(old);
    assertThat(r.persisted()).isEmpty();
    assertThat(old).doesNotExist();
    assertThat(journal.load().orElseThrow().persisted()).isEmpty();
  }

  @Test
  void aHandoverLeavesTheOldOwnersValueThatWasChangedByHandAloneAndForgetsIt() throws IOException {
    applier.apply(request("old-owner", highChurn()));
    fx.set(Sysctl.IP_LOCAL_PORT_RANGE, "30000 60999"); // by hand, after the apply

    ApplyResult r = applier.apply(request("new-owner", Map.of(Sysctl.SOMAXCONN, "8192")));

    assertThat(r.givenBack()).extracting(SysctlOutcome::sysctl, SysctlOutcome::status)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple(Sysctl.TCP_TW_REUSE, Status.Restored),
            org.assertj.core.groups.Tuple.tuple(Sysctl.IP_LOCAL_PORT_RANGE, Status.ChangedByHand));
    assertThat(values()).containsEntry(Sysctl.IP_LOCAL_PORT_RANGE, "30000 60999").containsEntry(Sysctl.TCP_TW_REUSE, "2");
    assertThat(journal.load().orElseThrow().originals()).containsOnlyKeys(Sysctl.SOMAXCONN);
  }
}
