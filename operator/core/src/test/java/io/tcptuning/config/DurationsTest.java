package io.tcptuning.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class DurationsTest {
  @Test
  void shortAndIsoForms() {
    assertThat(Durations.parse("x", "500ms")).isEqualTo(Duration.ofMillis(500));
    assertThat(Durations.parse("x", "15s")).isEqualTo(Duration.ofSeconds(15));
    assertThat(Durations.parse("x", "5m")).isEqualTo(Duration.ofMinutes(5));
    assertThat(Durations.parse("x", "1h")).isEqualTo(Duration.ofHours(1));
    assertThat(Durations.parse("x", "PT15S")).isEqualTo(Duration.ofSeconds(15));
    assertThat(Durations.parse("x", "pt2s")).isEqualTo(Duration.ofSeconds(2));
    assertThat(Durations.parse("x", "0s")).isZero();
  }

  @Test
  void errorsNameTheSettingAndTheForms() {
    for (String bad : new String[] {"", "15", "-1s", "PT-1S", "1d", "s", "2 s", null}) {
      assertThatThrownBy(() -> Durations.parse("TCPTUNE_X", bad)).as(String.valueOf(bad))
          .hasMessageStartingWith("TCPTUNE_X must be a duration such as 500ms");
    }
  }

  @Test
  void ranges() {
    assertThat(Durations.parse("x", "100ms", Duration.ofMillis(100), Duration.ofHours(1))).isEqualTo(Duration.ofMillis(100));
    assertThatThrownBy(() -> Durations.parse("TCPTUNE_CENSUS_INTERVAL", "0s", Duration.ofMillis(100), Duration.ofHours(24)))
        .hasMessage("TCPTUNE_CENSUS_INTERVAL must be between 100ms and 86400s (got \"0s\")");
    assertThatThrownBy(() -> Durations.parse("x", "25h", Duration.ZERO, Duration.ofHours(24))).hasMessageContaining("between 0s and 86400s");
  }
}
