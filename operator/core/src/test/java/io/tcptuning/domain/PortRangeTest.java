package io.tcptuning.domain;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class PortRangeTest {
  @Test
  void kernelAndManifestForms() {
    assertThat(PortRange.parseKernel("32768\t60999\n")).contains(PortRange.LINUX_DEFAULT);
    assertThat(PortRange.parseKernel("  1024   65535 ")).contains(new PortRange(1024, 65535));
    assertThat(PortRange.parseKernel("1024")).isEmpty();
    assertThat(PortRange.parseKernel(null)).isEmpty();
    assertThat(PortRange.parseManifest("10240 65535")).contains(new PortRange(10240, 65535));
    assertThat(PortRange.parseManifest("10240\t65535")).isEmpty();
    assertThat(PortRange.parseManifest("10240 65535\n")).isEmpty();
    assertThat(PortRange.parseManifest("10240 65535 1")).isEmpty();
  }

  @Test
  void sizeParityAndContains() {
    assertThat(PortRange.LINUX_DEFAULT.size()).isEqualTo(28232);
    assertThat(PortRange.LINUX_DEFAULT.sameParity()).isFalse();
    assertThat(new PortRange(10240, 65534).sameParity()).isTrue();
    assertThat(new PortRange(10240, 65535).contains(10240)).isTrue();
    assertThat(new PortRange(10240, 65535).contains(10239)).isFalse();
    assertThat(new PortRange(10240, 65535)).hasToString("10240 65535");
  }
}
