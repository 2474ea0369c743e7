package io.tcptuning.node;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Whole files, whatever their size relative to the first read, and a /proc/sys value in one read. */
class ProcFilesTest {

  @Test
  void aSysctlFileIsReadWhole() throws IOException {
    String range = ProcFiles.read(Path.of("/proc/sys/net/ipv4/ip_local_port_range"));
    assertThat(range).matches("\\d+\\s+\\d+\\n");
  }

  @Test
  void aSequenceFileLongerThanTheFirstReadIsReadWhole() throws IOException {
    // /proc/self/maps of a JVM is far longer than 4 KiB and handed out piece by piece.
    String maps = ProcFiles.read(Path.of("/proc/self/maps"));
    assertThat(maps.length()).isGreaterThan(ProcFiles.FIRST_READ);
    assertThat(maps).endsWith("\n");
    assertThat(maps.lines()).allMatch(l -> l.matches("[0-9a-f]+-[0-9a-f]+ .*"));
  }

  @Test
  void filesAroundTheFirstReadSizeAreReadWhole(@TempDir Path dir) throws IOException {
    int first = ProcFiles.FIRST_READ;
    for (int size : new int[] {0, 1, first - 1, first, first + 1, 16 * first, 16 * first + 7, 300_000}) {
      Path f = dir.resolve("f" + size);
      var sb = new StringBuilder(size);
      for (int i = 0; i < size; i++) {
        sb.append((char) ('a' + i % 26));
      }
      Files.writeString(f, sb, StandardCharsets.UTF_8);
      assertThat(ProcFiles.read(f)).as("%d bytes", size).isEqualTo(sb.toString());
    }
  }
}
