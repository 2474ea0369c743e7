package io.tcptuning.node.netns;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The scan's bookkeeping on a fixture /proc whose ns/net links are plain symlinks to "net:[N]". */
class NetnsScannerTest {

  @Test
  void deduplicatesByInodeAndPutsTheHostFirst(@TempDir Path proc, @TempDir Path runNetns) throws IOException {
    link(proc, "self", 100);
    link(proc, "1", 100);
    link(proc, "13", 100);
    link(proc, "42", 200);
    link(proc, "7", 200);
    link(proc, "300", 300);
    Files.createDirectories(proc.resolve("acpi"));
    Files.createDirectories(proc.resolve("99")); // exited: no ns/net any more
    Files.createDirectories(proc.resolve("98/ns"));
    Files.createSymbolicLink(proc.resolve("98/ns/net"), Path.of("mnt:[100]")); // not a network namespace
    // A name left behind by a failed `ip netns add`: a plain file, not on nsfs.
    Files.writeString(runNetns.resolve("leftover"), "");

    List<NetnsRef> refs = new NetnsScanner(proc, List.of(runNetns, proc.resolve("no-such-dir"))).scan();

    assertThat(refs).extracting(NetnsRef::inode).containsExactly(100L, 200L, 300L);
    NetnsRef host = refs.get(0);
    assertThat(host.host()).isTrue();
    assertThat(host.pids()).containsExactly(1, 13);
    assertThat(host.entry()).isEqualTo(proc.resolve("1/ns/net"));
    NetnsRef pod = refs.get(1);
    assertThat(pod.host()).isFalse();
    assertThat(pod.pids()).as("ascending").containsExactly(7, 42);
    assertThat(pod.entry()).as("the lowest pid").isEqualTo(proc.resolve("7/ns/net"));
    assertThat(pod.bindMounts()).isEmpty();
    assertThat(pod.label()).isEqualTo("net:[200]");
  }

  @Test
  void pidNames() {
    assertThat(NetnsScanner.pid("1")).isEqualTo(1);
    assertThat(NetnsScanner.pid("4194304")).isEqualTo(4194304);
    assertThat(NetnsScanner.pid("self")).isEqualTo(-1);
    assertThat(NetnsScanner.pid("12a")).isEqualTo(-1);
    assertThat(NetnsScanner.pid("")).isEqualTo(-1);
    assertThat(NetnsScanner.pid("12345678901")).isEqualTo(-1);
  }

  private static void link(Path proc, String pid, long inode) throws IOException {
    Files.createDirectories(proc.resolve(pid).resolve("ns"));
    Files.createSymbolicLink(proc.resolve(pid).resolve("ns/net"), Path.of("net:[" + inode + "]"));
  }
}
