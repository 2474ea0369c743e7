package io.tcptuning.domain;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class KernelVersionTest {
  @ParameterizedTest
  @CsvSource({
      "3.10.0-1160.el7.x86_64, 3, 10, false",
      "4.9.0-19-amd64, 4, 9, false",
      "4.11.12, 4, 11, false",
      "4.12, 4, 12, true",
      "4.12.0-rc1, 4, 12, true",
      "6.18.44-foo, 6, 18, true",
      "5.15.0-1064-azure, 5, 15, true"})
  void parsesTheLeadingMajorMinor(String release, int major, int minor, boolean atLeast412) {
    KernelVersion k = KernelVersion.parse(release);
    assertThat(k.known()).isTrue();
    assertThat(k.major()).contains(major);
    assertThat(k.minor()).contains(minor);
    assertThat(k.atLeast(4, 12)).isEqualTo(atLeast412);
    assertThat(k.shortVersion()).isEqualTo(major + "." + minor);
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "garbage", "6", "6.", ".18", "v6.18", "6.x", "99999.1", "6 .18", "\u0000"})
  void garbageIsUnknownAndNeverAtLeastAnything(String release) {
    KernelVersion k = KernelVersion.parse(release);
    assertThat(k.known()).isFalse();
    assertThat(k.atLeast(0, 0)).isFalse();
    assertThat(k.shortVersion()).isEqualTo("unknown");
  }

  @Test
  void nullAndTrailingNewline() {
    assertThat(KernelVersion.parse(null).known()).isFalse();
    assertThat(KernelVersion.parse("6.1.0-18-amd64\n").release()).isEqualTo("6.1.0-18-amd64");
  }
}
