package io.tcptuning.node;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KernelReleaseTest {
  @TempDir Path dir;

  private Path osrelease(String content) throws IOException {
    return Files.writeString(dir.resolve("osrelease"), content);
  }

  @Test
  void rhel7ReleaseIsThreeTen() throws IOException {
    var v = KernelRelease.read(osrelease("3.10.0-1160.el7.x86_64\n"));
    assertThat(v.shortVersion()).isEqualTo("3.10");
    assertThat(v.release()).isEqualTo("3.10.0-1160.el7.x86_64");
    assertThat(v.atLeast(4, 12)).isFalse();
  }

  @Test
  void debianStretchReleaseIsFourNine() throws IOException {
    var v = KernelRelease.read(osrelease("4.9.0-19-amd64\n"));
    assertThat(v.shortVersion()).isEqualTo("4.9");
    assertThat(v.atLeast(4, 12)).isFalse();
  }

  @Test
  void modernReleaseWithLocalSuffix() throws IOException {
    var v = KernelRelease.read(osrelease("6.18.44-foo\n"));
    assertThat(v.shortVersion()).isEqualTo("6.18");
    assertThat(v.atLeast(4, 12)).isTrue();
  }

  @Test
  void garbageIsUnknown() throws IOException {
    var v = KernelRelease.read(osrelease("linux-six\n"));
    assertThat(v.known()).isFalse();
    assertThat(v.atLeast(0, 0)).isFalse();
  }

  @Test
  void emptyIsUnknown() throws IOException {
    assertThat(KernelRelease.read(osrelease("")).known()).isFalse();
  }

  @Test
  void missingFileIsUnknown() {
    assertThat(KernelRelease.read(dir.resolve("absent")).known()).isFalse();
  }

  @Test
  void thisMachinesKernelIsKnown() {
    // Every Linux kernel the tests run on has /proc/sys/kernel/osrelease with major.minor.
    assertThat(KernelRelease.read().known()).isTrue();
  }
}
