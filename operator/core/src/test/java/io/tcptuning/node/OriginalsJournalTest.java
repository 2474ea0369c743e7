package io.tcptuning.node;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tcptuning.domain.Sysctl;
import io.tcptuning.node.OriginalsJournal.Entries;
import io.tcptuning.testing.JournalFiles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OriginalsJournalTest {
  @TempDir Path dir;

  private static final Entries HIGH_CHURN =
      new Entries("high-churn-clients", Map.of(Sysctl.TCP_TW_REUSE, "2", Sysctl.IP_LOCAL_PORT_RANGE, "32768 60999"),
          Map.of(Sysctl.TCP_TW_REUSE, "1", Sysctl.IP_LOCAL_PORT_RANGE, "10240 65535"), Optional.empty(), Optional.empty());

  @Test
  void storesAndLoadsOwnerAndOriginalsWithVersionAndChecksum() throws IOException {
    var journal = new OriginalsJournal(dir);
    assertThat(journal.load()).isEmpty();

    journal.store(HIGH_CHURN);

    assertThat(journal.load()).contains(HIGH_CHURN);
    String text = Files.readString(journal.file());
    assertThat(text)
        .startsWith("tcptune-originals 2\nowner high-churn-clients\n")
        .contains("sysctl net.ipv4.tcp_tw_reuse=2\napplied net.ipv4.tcp_tw_reuse=1\n",
            "sysctl net.ipv4.ip_local_port_range=32768 60999\napplied net.ipv4.ip_local_port_range=10240 65535\n")
        .containsPattern("\nsha256 [0-9a-f]{64}\n$");
  }

  @Test
  void replacesTheJournalByAtomicRenameAndLeavesNoTemporaryFile() throws IOException {
    var journal = new OriginalsJournal(dir);
    journal.store(HIGH_CHURN);
    Object inodeBefore = Files.getAttribute(journal.file(), "unix:ino");
    // A temporary file left by a crash mid-store: never read, cleaned by the next store.
    Path stale = dir.resolve(".originals.journal.tmp-crashed");
    Files.writeString(stale, "tcptune-originals 1\nowner someone-else\n");

    var next = HIGH_CHURN.withFirstOriginals(Map.of(Sysctl.TCP_FIN_TIMEOUT, "60"));
    journal.store(next);

    // A new inode proves a rename of a fully written file, not an overwrite in place that a
    // crash could leave half done.
    assertThat(Files.getAttribute(journal.file(), "unix:ino")).isNotEqualTo(inodeBefore);
    assertThat(journal.load()).contains(next);
    try (var files = Files.list(dir)) {
      assertThat(files.map(p -> p.getFileName().toString())).containsExactlyInAnyOrder("originals.journal");
    }
  }

  @Test
  void deleteRemovesTheJournalAndIsIdempotent() throws IOException {
    var journal = new OriginalsJournal(dir);
    journal.store(HIGH_CHURN);
    journal.delete();
    journal.delete();
    assertThat(journal.load()).isEmpty();
  }

  @Test
  void discardRemovesJournalLockAndDirectoryButNothingItDoesNotKnow() throws IOException {
    Path podDir = dir.resolve("pods").resolve("uid_1");
    var journal = new OriginalsJournal(podDir);
    try (var lock = journal.lock()) {
      journal.store(HIGH_CHURN);
    }
    journal.discard();
    assertThat(podDir).doesNotExist();
    journal.discard(); // idempotent: nothing there

    var other = new OriginalsJournal(dir.resolve("pods").resolve("uid_2"));
    other.store(HIGH_CHURN);
    Files.writeString(other.stateDir().resolve("not-ours"), "x");
    other.discard();
    assertThat(other.file()).doesNotExist();
    assertThat(other.stateDir().resolve("not-ours")).exists();
  }

  @Test
  void everyTruncationIsDetected() throws IOException {
    var journal = new OriginalsJournal(dir);
    journal.store(HIGH_CHURN);
    byte[] good = Files.readAllBytes(journal.file());

    for (int len = 0; len < good.length; len++) {
      byte[] cut = java.util.Arrays.copyOf(good, len);
      Files.write(journal.file(), cut);
      int shown = len;
      assertThatThrownBy(journal::load).as("truncated to %d bytes", shown).isInstanceOf(JournalCorruptException.class);
      // Never rewritten by a load.
      assertThat(Files.readAllBytes(journal.file())).isEqualTo(cut);
    }
  }

  @Test
  void everySingleByteChangeIsDetected() throws IOException {
    var journal = new OriginalsJournal(dir);
    journal.store(HIGH_CHURN);
    byte[] good = Files.readAllBytes(journal.file());

    for (int i = 0; i < good.length; i++) {
      byte[] bad = good.clone();
      bad[i] = (byte) (bad[i] == '1' ? '3' : bad[i] ^ 0x01);
      Files.write(journal.file(), bad);
      int at = i;
      assertThatThrownBy(journal::load).as("byte %d changed", at).isInstanceOf(JournalCorruptException.class)
          .hasMessageContaining(journal.file().toString());
    }
  }

  @Test
  void wellFormedButUntrustworthyContentIsRejectedEvenWithAMatchingChecksum() throws Exception {
    var journal = new OriginalsJournal(dir);
    Map<String, String> bodies = new java.util.LinkedHashMap<>();
    bodies.put("outside the allowlist", "tcptune-originals 1\nowner p\nsysctl net.ipv4.ip_forward=1\n");
    bodies.put("path", "tcptune-originals 1\nowner p\nsysctl ../../etc/passwd=1\n");
    bodies.put("unknown format", "tcptune-originals 3\nowner p\nsysctl net.ipv4.tcp_tw_reuse=2\n");
    bodies.put("applied line in format 1", "tcptune-originals 1\nowner p\nsysctl net.ipv4.tcp_tw_reuse=2\napplied net.ipv4.tcp_tw_reuse=1\n");
    bodies.put("applied without its sysctl", "tcptune-originals 2\nowner p\napplied net.ipv4.tcp_tw_reuse=1\n");
    bodies.put("applied after another sysctl", "tcptune-originals 2\nowner p\nsysctl net.ipv4.tcp_tw_reuse=2\nsysctl net.core.somaxconn=4096\napplied net.ipv4.tcp_tw_reuse=1\n");
    bodies.put("applied twice", "tcptune-originals 2\nowner p\nsysctl net.ipv4.tcp_tw_reuse=2\napplied net.ipv4.tcp_tw_reuse=1\napplied net.ipv4.tcp_tw_reuse=1\n");
    bodies.put("non-canonical applied", "tcptune-originals 2\nowner p\nsysctl net.ipv4.tcp_tw_reuse=2\napplied net.ipv4.tcp_tw_reuse=01\n");
    bodies.put("relative persisted file", "tcptune-originals 2\nowner p\npersisted etc/sysctl.d/x.conf\nsysctl net.ipv4.tcp_tw_reuse=2\n");
    bodies.put("netns line without a path", "tcptune-originals 2\nowner p\nnetns 4026532246 8193 abc\nsysctl net.ipv4.tcp_tw_reuse=2\n");
    bodies.put("twice", "tcptune-originals 1\nowner p\nsysctl net.ipv4.tcp_tw_reuse=2\nsysctl net.ipv4.tcp_tw_reuse=1\n");
    bodies.put("octal-looking value", "tcptune-originals 1\nowner p\nsysctl net.ipv4.tcp_fin_timeout=060\n");
    bodies.put("bad owner", "tcptune-originals 1\nowner Not_A_Name\nsysctl net.ipv4.tcp_tw_reuse=2\n");
    bodies.put("no owner", "tcptune-originals 1\nsysctl net.ipv4.tcp_tw_reuse=2\n");
    for (var e : bodies.entrySet()) {
      JournalFiles.write(journal.file(), e.getValue());
      assertThatThrownBy(journal::load).as(e.getKey()).isInstanceOf(JournalCorruptException.class);
    }
    // A netns line belongs in the journal of a namespace, never in the node's own.
    String withNetns = "tcptune-originals 2\nowner p\nnetns 4026532246 8193 abc /run/netns/blue\nsysctl net.ipv4.tcp_tw_reuse=2\n";
    JournalFiles.write(journal.file(), withNetns);
    assertThatThrownBy(journal::load).isInstanceOf(JournalCorruptException.class).hasMessageContaining("namespace");
  }

  @Test
  void readsAJournalOfTheFirstFormatAsOriginalsWithUnknownAppliedValues() throws Exception {
    var journal = new OriginalsJournal(dir);
    // Byte for byte what tcptune wrote before applied values were journaled.
    String body = "tcptune-originals 1\nowner high-churn-clients\nsysctl net.ipv4.tcp_tw_reuse=2\n"
        + "sysctl net.ipv4.ip_local_port_range=32768 60999\n";
    JournalFiles.write(journal.file(), body);

    Entries e = journal.load().orElseThrow();

    assertThat(e.owner()).isEqualTo("high-churn-clients");
    assertThat(e.originals()).containsExactlyInAnyOrderEntriesOf(Map.of(Sysctl.TCP_TW_REUSE, "2", Sysctl.IP_LOCAL_PORT_RANGE, "32768 60999"));
    assertThat(e.applied()).isEmpty();
    assertThat(e.netns()).isEmpty();
    assertThat(e.persisted()).isEmpty();
    // Stored again, it is format 2, with nothing invented.
    journal.store(e);
    assertThat(Files.readString(journal.file())).startsWith("tcptune-originals 2\n").doesNotContain("applied");
    assertThat(journal.load()).contains(e);
  }

  @Test
  void aNamespaceJournalRecordsWhoTheNamespaceIsAndRefusesAnyOtherWithTheSameInode() throws Exception {
    var blue = new OriginalsJournal.Netns(new NetNamespace.Identity(4026532246L, 8193, "0f1e2d3c-aaaa-bbbb-cccc-0123456789ab"), "/run/netns/blue");
    var journal = OriginalsJournal.forNamespace(dir, blue);
    Entries e = HIGH_CHURN.withNetns(Optional.of(blue)).withPersisted(Optional.empty());
    journal.store(e);

    assertThat(journal.file().getFileName().toString()).isEqualTo("originals-netns-4026532246.journal");
    assertThat(Files.readString(journal.file()))
        .contains("\nnetns 4026532246 8193 0f1e2d3c-aaaa-bbbb-cccc-0123456789ab /run/netns/blue\n");
    assertThat(journal.load()).contains(e);
    // The same namespace reached by another path is the same namespace.
    var sameByPid = new OriginalsJournal.Netns(blue.id(), "/proc/4242/ns/net");
    assertThat(OriginalsJournal.forNamespace(dir, sameByPid).load()).contains(e);
    // The kernel gave the inode to a new namespace (another cookie), or the machine rebooted.
    for (var other : java.util.List.of(new NetNamespace.Identity(4026532246L, 9000, blue.id().bootId()),
        new NetNamespace.Identity(4026532246L, 8193, "11111111-2222-3333-4444-555555555555"))) {
      var replaced = OriginalsJournal.forNamespace(dir, new OriginalsJournal.Netns(other, "/run/netns/blue"));
      assertThatThrownBy(replaced::load).isInstanceOf(JournalForOtherNamespaceException.class)
          .hasMessageContaining("gone or was replaced").hasMessageContaining(journal.file().toString());
    }
    // Entries of one namespace are never stored in another's journal or the node's.
    assertThatThrownBy(() -> new OriginalsJournal(dir).store(e)).isInstanceOf(IllegalArgumentException.class);
    assertThat(OriginalsJournal.namespaceJournals(dir)).singleElement()
        .satisfies(j -> assertThat(j.entries()).contains(e));
    assertThat(new OriginalsJournal(dir).load()).isEmpty();
  }

  @Test
  void aPersistedFileIsRecorded() throws Exception {
    var journal = new OriginalsJournal(dir);
    Entries e = HIGH_CHURN.withPersisted(Optional.of(Path.of("/etc/sysctl.d/90-tcptune-high-churn-clients.conf")));
    journal.store(e);
    assertThat(Files.readString(journal.file())).contains("\npersisted /etc/sysctl.d/90-tcptune-high-churn-clients.conf\n");
    assertThat(journal.load()).contains(e);
  }

  @Test
  void aNonCanonicalOriginalOrABadOwnerIsNeverStored() {
    assertThatThrownBy(() -> new Entries("p", Map.of(Sysctl.IP_LOCAL_PORT_RANGE, "1024 65535\nnet.ipv4.ip_forward=1")))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new Entries("p\nsysctl net.ipv4.tcp_tw_reuse=1", Map.of())).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void firstOriginalsAreNeverReplacedByLaterValues() {
    // Re-apply: the "current" value is now the tuned one; the journal must keep the true original.
    Entries again = HIGH_CHURN.withFirstOriginals(Map.of(Sysctl.TCP_TW_REUSE, "1", Sysctl.IP_LOCAL_PORT_RANGE, "10240 65535"));
    assertThat(again).isEqualTo(HIGH_CHURN);

    // A changed policy adds a sysctl: its original joins, the others stay.
    Entries grown = HIGH_CHURN.withFirstOriginals(Map.of(Sysctl.TCP_TW_REUSE, "1", Sysctl.TCP_FIN_TIMEOUT, "60"));
    assertThat(grown.originals())
        .containsExactlyInAnyOrderEntriesOf(Map.of(Sysctl.TCP_TW_REUSE, "2", Sysctl.IP_LOCAL_PORT_RANGE, "32768 60999", Sysctl.TCP_FIN_TIMEOUT, "60"));
    assertThat(grown.owner()).isEqualTo("high-churn-clients");

    assertThat(grown.without(java.util.List.of(Sysctl.TCP_FIN_TIMEOUT))).isEqualTo(HIGH_CHURN);
  }

  @Test
  void theLockExcludesOtherProcessesUntilReleased() throws Exception {
    var journal = new OriginalsJournal(dir.resolve("state"));
    Path lockFile = dir.resolve("state").resolve(OriginalsJournal.LOCK_NAME);

    try (var lock = journal.lock()) {
      assertThat(probe(lockFile)).isEqualTo("held");
    }
    assertThat(probe(lockFile)).isEqualTo("free");
  }

  private static String probe(Path lockFile) throws Exception {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Process p = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"), LockProbe.class.getName(), lockFile.toString())
        .redirectErrorStream(true)
        .start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
    assertThat(p.waitFor()).as(out).isZero();
    return out;
  }
}
