package io.tcptuning.node;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tcptuning.domain.Sysctl;
import io.tcptuning.node.OriginalsJournal.Entries;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OriginalsJournalTest {
  @TempDir Path dir;

  private static final Entries HIGH_CHURN =
      new Entries("high-churn-clients", Map.of(Sysctl.TCP_TW_REUSE, "2", Sysctl.IP_LOCAL_PORT_RANGE, "32768 60999"));

  @Test
  void storesAndLoadsOwnerAndOriginalsWithVersionAndChecksum() throws IOException {
    var journal = new OriginalsJournal(dir);
    assertThat(journal.load()).isEmpty();

    journal.store(HIGH_CHURN);

    assertThat(journal.load()).contains(HIGH_CHURN);
    String text = Files.readString(journal.file());
    assertThat(text)
        .startsWith("tcptune-originals 1\nowner high-churn-clients\n")
        .contains("sysctl net.ipv4.tcp_tw_reuse=2\n", "sysctl net.ipv4.ip_local_port_range=32768 60999\n")
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
    Map<String, String> bodies =
        Map.of(
            "outside the allowlist", "tcptune-originals 1\nowner p\nsysctl net.ipv4.ip_forward=1\n",
            "path", "tcptune-originals 1\nowner p\nsysctl ../../etc/passwd=1\n",
            "unknown format", "tcptune-originals 2\nowner p\nsysctl net.ipv4.tcp_tw_reuse=2\n",
            "twice", "tcptune-originals 1\nowner p\nsysctl net.ipv4.tcp_tw_reuse=2\nsysctl net.ipv4.tcp_tw_reuse=1\n",
            "octal-looking value", "tcptune-originals 1\nowner p\nsysctl net.ipv4.tcp_fin_timeout=060\n",
            "bad owner", "tcptune-originals 1\nowner Not_A_Name\nsysctl net.ipv4.tcp_tw_reuse=2\n",
            "no owner", "tcptune-originals 1\nsysctl net.ipv4.tcp_tw_reuse=2\n");
    for (var e : bodies.entrySet()) {
      Files.writeString(journal.file(), e.getValue() + "sha256 " + sha256(e.getValue()) + "\n");
      assertThatThrownBy(journal::load).as(e.getKey()).isInstanceOf(JournalCorruptException.class);
    }
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

  private static String sha256(String s) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.US_ASCII)));
  }
}
