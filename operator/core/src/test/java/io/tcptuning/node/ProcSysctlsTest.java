package io.tcptuning.node;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tcptuning.domain.Sysctl;
import java.io.IOException;
import java.lang.reflect.Executable;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ProcSysctlsTest {
  @TempDir Path root;
  @TempDir Path elsewhere;

  @Test
  void readsCanonicalValuesAndReportsMissingFilesAsEmptyWithoutCreatingThem() throws IOException {
    var fx = new SysctlFixture(root);
    ProcSysctls sysctls = fx.sysctls();

    assertThat(sysctls.read(Sysctl.IP_LOCAL_PORT_RANGE)).contains("32768 60999");
    assertThat(sysctls.read(Sysctl.TCP_TW_REUSE)).contains("2");
    assertThat(sysctls.read(Sysctl.TCP_TW_RECYCLE)).isEmpty();
    assertThat(sysctls.readAll()).doesNotContainKey(Sysctl.TCP_TW_RECYCLE).hasSize(7);
    assertThat(fx.file(Sysctl.TCP_TW_RECYCLE)).doesNotExist();
  }

  @Test
  void writesTheWholeValueIntoTheExistingFile() throws IOException {
    var fx = new SysctlFixture(root);
    ProcSysctls sysctls = fx.sysctls();

    sysctls.write(Sysctl.TCP_MAX_TW_BUCKETS, "8000"); // shorter than the old "131072"
    sysctls.write(Sysctl.IP_LOCAL_PORT_RANGE, "10240 65535");

    assertThat(fx.raw(Sysctl.TCP_MAX_TW_BUCKETS)).isEqualTo("8000");
    assertThat(sysctls.read(Sysctl.IP_LOCAL_PORT_RANGE)).contains("10240 65535");
  }

  @Test
  void neverCreatesAMissingSysctl() throws IOException {
    var fx = new SysctlFixture(root);

    assertThatThrownBy(() -> fx.sysctls().write(Sysctl.TCP_TW_RECYCLE, "0")).isInstanceOf(NoSuchFileException.class);
    assertThat(fx.file(Sysctl.TCP_TW_RECYCLE)).doesNotExist();
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "1024 65535\nnet.ipv4.ip_forward=1",
        "1\n",
        "1024 65535\n",
        " 1024 65535",
        "1024  65535",
        "1024\t65535",
        "1024 65535 1",
        "01024 65535",
        "-1 65535",
        "",
        "1024",
      })
  void refusesEveryPortRangeThatIsNotExactlyMinSpaceMax(String value) throws IOException {
    var fx = new SysctlFixture(root);

    assertThatThrownBy(() -> fx.sysctls().write(Sysctl.IP_LOCAL_PORT_RANGE, value))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("net.ipv4.ip_local_port_range")
        .hasMessageNotContaining("\n");
    assertThat(fx.raw(Sysctl.IP_LOCAL_PORT_RANGE)).isEqualTo("32768\t60999");
  }

  @ParameterizedTest
  @ValueSource(strings = {"1\nnet.ipv4.ip_forward=1", "010", "0x1", "-1", "+1", "1.0", " 1", "1 ", "", "\u0661", "12345678901"})
  void refusesIntegersThatAreNotPlainDecimal(String value) throws IOException {
    // "010" matters: the kernel parses sysctl integers with base 0, so it would mean 8.
    var fx = new SysctlFixture(root);

    assertThatThrownBy(() -> fx.sysctls().write(Sysctl.TCP_FIN_TIMEOUT, value)).isInstanceOf(IllegalArgumentException.class);
    assertThat(fx.raw(Sysctl.TCP_FIN_TIMEOUT)).isEqualTo("60");
  }

  @Test
  void refusesNull() throws IOException {
    var fx = new SysctlFixture(root);
    assertThatThrownBy(() -> fx.sysctls().write(Sysctl.TCP_TW_REUSE, null)).isInstanceOf(IllegalArgumentException.class);
    assertThat(fx.raw(Sysctl.TCP_TW_REUSE)).isEqualTo("2");
  }

  @Test
  void aNameOutsideTheAllowlistCannotBeResolvedAndNothingIsWritten() throws IOException {
    var fx = new SysctlFixture(root);
    Path ipForward = root.resolve("net/ipv4/ip_forward");
    Files.writeString(ipForward, "0\n");
    Path passwd = elsewhere.resolve("passwd");
    Files.writeString(passwd, "root:x:0:0\n");

    for (String name : List.of("net.ipv4.ip_forward", "net/ipv4/ip_forward", "../../etc/passwd", elsewhere + "/passwd", "NET.IPV4.TCP_TW_REUSE", "net.ipv4.tcp_tw_reuse\n")) {
      assertThat(Sysctl.byDottedName(name)).as(name).isEmpty();
      assertThat(Sysctl.byField(name)).as(name).isEmpty();
    }
    // The API has no door for a name or a path: every public entry point is keyed by the enum.
    Stream<Executable> entryPoints =
        Stream.concat(Arrays.stream(ProcSysctls.class.getConstructors()), Arrays.stream(ProcSysctls.class.getDeclaredMethods()))
            .filter(m -> Modifier.isPublic(m.getModifiers()));
    entryPoints.forEach(m -> {
      List<Class<?>> params = List.of(m.getParameterTypes());
      assertThat(params).as(m.toString()).doesNotContain(Path.class, java.io.File.class, java.net.URI.class);
      if (params.contains(String.class)) {
        assertThat(params).as(m + " takes a value only next to its Sysctl").contains(Sysctl.class);
      }
    });
    // Every file the class can reach is one of the fixed ones under the root.
    for (Sysctl s : Sysctl.values()) {
      assertThat(root.resolve(s.procPath()).normalize()).startsWithRaw(root);
      assertThat(s.procPath()).doesNotContain("..").matches("[a-z0-9_/]+");
    }

    fx.sysctls().readAll();
    assertThat(Files.readString(ipForward)).isEqualTo("0\n");
    assertThat(Files.readString(passwd)).isEqualTo("root:x:0:0\n");
  }

  @Test
  void doesNotFollowASymlinkWhenWriting() throws IOException {
    var fx = new SysctlFixture(root);
    Path target = fx.symlink(Sysctl.SOMAXCONN, Files.createDirectories(root.resolve("outside")));

    assertThat(fx.sysctls().read(Sysctl.SOMAXCONN)).contains("4096");
    assertThatThrownBy(() -> fx.sysctls().write(Sysctl.SOMAXCONN, "8192")).isInstanceOf(IOException.class);
    assertThat(Files.readString(target)).isEqualTo("4096\n");
  }
}
