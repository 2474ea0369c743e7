package io.tcptuning.cli;

import io.tcptuning.testing.ProjectPaths;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.tcptuning.domain.Sysctl;
import io.tcptuning.testing.TestNamespace;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The project's headline, both halves on the real kernel: a client making short connections to
 * one destination fills a narrow ephemeral range with TIME_WAIT and connect() fails with errno 99;
 * after {@code tcptune apply -f deploy/examples/high-churn-clients.yaml} the same load runs clean.
 */
class HighChurnScenarioNamespaceTest {
  private static final Path POLICY = ProjectPaths.resolve("deploy/examples/high-churn-clients.yaml");
  private static final Pattern RESULT = Pattern.compile("ok=(\\d+) eaddrnotavail=(\\d+) other=(\\d+) first=(.*)");
  private static final int PORT = 7070; // below both ranges: never an ephemeral port here
  private static final int RANGE_SIZE = 1000; // 40000..40999
  private static final int LOAD = 1500;

  @TempDir Path tmp;

  record Load(int ok, int eaddrnotavail, int other, String first) {}

  @Test
  void highChurnClientsPolicyEndsErrno99ForTheSameLoad() throws Exception {
    assumeTrue(TestNamespace.canCreate(), "needs root for ip netns");
    Map<Sysctl, String> hostBefore = TestNamespace.hostSysctls();
    try (TestNamespace ns = TestNamespace.create("churn")) {
      ns.setSysctl("net.ipv4.ip_local_port_range", "40000 40999");
      ns.setSysctl("net.ipv4.tcp_tw_reuse", "0");
      Process server = ns.builder(TestNamespace.javaCommand(List.of("-XX:TieredStopAtLevel=1"), ShortConnectionLoad.class, "serve", String.valueOf(PORT)))
          .redirectErrorStream(true).start();
      try {
        var serverOut = new BufferedReader(new InputStreamReader(server.getInputStream(), StandardCharsets.UTF_8));
        assertThat(serverOut.readLine()).isEqualTo("listening " + PORT);

        // Before: the range fills with TIME_WAIT and connect() fails with EADDRNOTAVAIL.
        Load before = load(ns);
        assertThat(before.eaddrnotavail()).as(before.toString()).isGreaterThan(0);
        assertThat(before.ok()).as(before.toString()).isLessThanOrEqualTo(RANGE_SIZE);
        assertThat(before.other()).as(before.toString()).isZero();
        assertThat(before.first()).isEqualTo("java.net.BindException: " + ShortConnectionLoad.EADDRNOTAVAIL);
        long timeWait = ns.exec("ss", "-Htan", "state", "time-wait").stdout().lines().count();
        assertThat(timeWait).as("TIME_WAIT sockets holding the range").isGreaterThanOrEqualTo(before.ok() * 9L / 10);

        var applied = ns.cli("apply", "-f", POLICY.toString(), "--state-dir=" + tmp.resolve("state"));
        assertThat(applied.exitCode()).as(applied.toString()).isZero();
        assertThat(ns.sysctl(Sysctl.TCP_TW_REUSE.dottedName())).isEqualTo("1");
        assertThat(ns.sysctl(Sysctl.TCP_TIMESTAMPS.dottedName())).isEqualTo("1");
        assertThat(ns.sysctl(Sysctl.IP_LOCAL_PORT_RANGE.dottedName())).isEqualTo("10240 65535");
        // tcp_tw_reuse lets connect() take a TIME_WAIT port once 1 s has passed since its last
        // timestamp; this waits for it, it does not time anything.
        Thread.sleep(1100);

        // After: the same load to the same destination, with its TIME_WAIT sockets still there.
        Load after = load(ns);
        System.out.printf("high-churn scenario, %d connections to 127.0.0.1:%d%n  before (40000..40999, tw_reuse 0): %s, %d TIME_WAIT%n  after high-churn-clients: %s%n",
            LOAD, PORT, before, timeWait, after);
        assertThat(after).as("after applying high-churn-clients").isEqualTo(new Load(LOAD, 0, 0, "none"));

        var reverted = ns.cli("revert", "--state-dir=" + tmp.resolve("state"));
        assertThat(reverted.exitCode()).as(reverted.toString()).isZero();
        assertThat(ns.sysctl(Sysctl.TCP_TW_REUSE.dottedName())).isEqualTo("0");
        assertThat(ns.sysctl(Sysctl.IP_LOCAL_PORT_RANGE.dottedName())).isEqualTo("40000 40999");
        assertThat(ns.sysctl(Sysctl.TCP_TIMESTAMPS.dottedName())).isEqualTo("1");
      } finally {
        server.destroyForcibly().waitFor();
      }
    }
    assertThat(TestNamespace.hostSysctls()).as("host namespace sysctls").isEqualTo(hostBefore);
  }

  private static Load load(TestNamespace ns) throws Exception {
    var r = ns.java(ShortConnectionLoad.class, "connect", String.valueOf(PORT), String.valueOf(LOAD));
    assertThat(r.exitCode()).as(r.toString()).isZero();
    var m = RESULT.matcher(r.stdout().strip());
    assertThat(m.matches()).as(r.toString()).isTrue();
    return new Load(Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)), Integer.parseInt(m.group(3)), m.group(4));
  }
}
