package io.tcptuning.node.census;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tcptuning.domain.PortRange;
import io.tcptuning.node.ProcNet;
import io.tcptuning.node.census.TimeWaitCensus.Source;
import io.tcptuning.testing.TestNamespace;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The census against real kernel sockets. A throwaway namespace gets thousands of client-side
 * TIME_WAIT sockets with known destinations (IPv4, IPv6 and IPv4-mapped IPv6) plus server-side
 * TIME_WAIT on a listening port inside the ephemeral range. The census runs in-process on a
 * thread that setns(2)'d into the namespace, and as {@code tcptune census} inside it; both are
 * compared with the generator's counts and with ss.
 */
class TimeWaitCensusNamespaceTest {
  /** Set in the namespace, unlike the host's default: proves the census reads the namespace's sysctls. */
  private static final String RANGE = "30000 60999";
  private static final int RANGE_SIZE = 60999 - 30000 + 1;
  private static final long MAX_TW_BUCKETS = 150_000;
  private static final Map<String, Long> KNOWN =
      Map.of(
          "127.0.0.1:7001", 1500L,
          "127.0.0.2:7001", 400L,
          "127.0.0.1:7002", 800L,
          "[::1]:7003", 900L,
          // 200 AF_INET clients plus 300 AF_INET6 clients to ::ffff:127.0.0.1 (ss shows those as
          // [::ffff:127.0.0.1]:7004): one destination, because both share the port space.
          "127.0.0.1:7004", 500L);
  private static final int SERVER_SIDE = 200;
  private static final long TOTAL = 1500 + 400 + 800 + 900 + 500 + SERVER_SIDE;
  private static final ObjectMapper JSON = new ObjectMapper();

  private static TestNamespace ns;
  private static Process holder;
  private static long ssCount;
  private static List<String[]> ssRows;
  private static CensusReport netlink;
  private static CensusReport proc;
  private static CensusReport top2;
  private static long sockstat;
  private static JsonNode cliJson;
  private static JsonNode cliNoNativeAccess;
  private static String cliTable;

  @BeforeAll
  static void makeTimeWaitSockets() throws Exception {
    assumeThat(TestNamespace.canCreate()).as("namespace tests need root").isTrue();
    ns = TestNamespace.create("census");
    // Deterministic ports: no reuse of TIME_WAIT ports for new loopback connections.
    ns.setSysctl("net.ipv4.tcp_tw_reuse", "0");
    // tcp_rfc1337=1 (set by TestNamespace.create) keeps every TIME_WAIT socket for its 60 s.
    ns.setSysctl("net.ipv4.ip_local_port_range", RANGE);
    ns.setSysctl("net.ipv4.tcp_max_tw_buckets", String.valueOf(MAX_TW_BUCKETS));
    // The listener comes first, as servers do: connect() then never picks its port, so every
    // TIME_WAIT socket on port 40000 is server-side.
    holder = ns.builder(TestNamespace.javaCommand(List.of(), TimeWaitLoad.class, "--serve-close-first", "127.0.0.1:40000", String.valueOf(SERVER_SIDE))).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    var ready = new BufferedReader(new InputStreamReader(holder.getInputStream(), StandardCharsets.UTF_8)).readLine();
    assertThat(ready).isEqualTo("ready");
    String created = ns.exec(TestNamespace.javaCommand(List.of(), TimeWaitLoad.class, "inet:127.0.0.1:7001=1500", "inet:127.0.0.2:7001=400", "inet:127.0.0.1:7002=800", "inet6:[::1]:7003=900", "inet:127.0.0.1:7004=200", "inet6:127.0.0.1:7004=300").toArray(String[]::new)).check().stdout();
    assertThat(created).contains("created 4100 failed 0");
    // The last sockets reach TIME_WAIT once both ends have closed, a moment after the generator
    // returns (longer on a busy machine): measure once the namespace holds all of them, so that
    // ss and each census see the same sockets.
    long deadline = System.nanoTime() + 10_000_000_000L;
    while (ns.inside(() -> TimeWaitCensus.forCurrentNamespace().timeWaitTotal()) < TOTAL && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }

    ssCount = Long.parseLong(ns.exec("sh", "-c", "ss -tan state time-wait | wc -l").check().stdout().strip()) - 1;
    ssRows = ns.exec("ss", "-Htan", "state", "time-wait").check().stdout().lines().map(l -> l.trim().split("\\s+")).toList();
    netlink = ns.inside(() -> new TimeWaitCensus(ProcNet.PROC, Source.NETLINK).take(50));
    proc = ns.inside(() -> new TimeWaitCensus(ProcNet.PROC, Source.PROC).take(50));
    top2 = ns.inside(() -> TimeWaitCensus.forCurrentNamespace().take(2));
    sockstat = ns.inside(() -> TimeWaitCensus.forCurrentNamespace().timeWaitTotal());
    cliJson = JSON.readTree(ns.exec(cli(true, "census", "--json")).check().stdout());
    // Native access denied: the auto source must fall back to /proc on its own.
    cliNoNativeAccess = JSON.readTree(ns.exec(cli(false, "census", "--json", "--top", "50")).check().stdout());
    cliTable = ns.exec(cli(true, "census", "--top", "3")).check().stdout();

  }

  private static String[] cli(boolean nativeAccess, String... args) {
    var cmd = new ArrayList<>(TestNamespace.javaCommand(List.of(), io.tcptuning.cli.Main.class, args));
    if (!nativeAccess) {
      cmd.remove("--enable-native-access=ALL-UNNAMED");
      cmd.add(1, "--illegal-native-access=deny");
    }
    return cmd.toArray(String[]::new);
  }

  @AfterAll
  static void deleteNamespaces() throws Exception {
    try {
      if (holder != null) {
        holder.getOutputStream().close();
        if (!holder.waitFor(10, TimeUnit.SECONDS)) {
          holder.destroyForcibly();
        }
      }
    } finally {
      if (ns != null) {
        ns.close();
      }
    }
  }

  private static Map<String, Long> destinations(CensusReport report) {
    var out = new TreeMap<String, Long>();
    report.topDestinations().forEach(d -> out.put(d.address(), d.sockets()));
    return out;
  }

  private static Map<String, Long> destinations(JsonNode report) {
    var out = new TreeMap<String, Long>();
    report.get("destinations").forEach(d -> out.put(d.get("destination").asText(), d.get("sockets").asLong()));
    return out;
  }

  @Test
  void totalEqualsSsAndSockstatIncludingIpv6() {
    assertThat(ssCount).isEqualTo(TOTAL);
    assertThat(netlink.source()).isEqualTo("netlink");
    assertThat(netlink.timeWaitTotal()).isEqualTo(ssCount);
    // sockstat's tw covers IPv6 too: the 900 [::1] sockets are part of TOTAL.
    assertThat(sockstat).isEqualTo(ssCount);
    assertThat(netlink.pressure()).isCloseTo((double) TOTAL / RANGE_SIZE, Offset.offset(1e-12));
  }

  @Test
  void perDestinationCountsAreTheGeneratorsOnes() {
    assertThat(destinations(netlink)).isEqualTo(new TreeMap<>(KNOWN));
    assertThat(netlink.destinationCount()).isEqualTo(KNOWN.size());
    Destination first = netlink.topDestinations().getFirst();
    assertThat(first.address()).isEqualTo("127.0.0.1:7001");
    assertThat(first.pressure()).isCloseTo(1500.0 / RANGE_SIZE, Offset.offset(1e-12));
    assertThat(netlink.maxDestinationPressure()).isEqualTo(first.pressure());
    assertThat(netlink.topDestinations()).extracting(Destination::sockets).isSortedAccordingTo((a, b) -> Long.compare(b, a));
  }

  @Test
  void perDestinationCountsMatchSs() {
    // ss columns with a state filter: Recv-Q Send-Q Local:Port Peer:Port.
    var fromSs = new TreeMap<String, Long>();
    for (String[] row : ssRows) {
      if (row[2].endsWith(":40000")) {
        continue; // server side: sits on the listener's port, holds no ephemeral port
      }
      String peer = row[3].startsWith("[::ffff:") ? row[3].substring("[::ffff:".length()).replace("]:", ":") : row[3];
      fromSs.merge(peer, 1L, Long::sum);
    }
    assertThat(destinations(netlink)).isEqualTo(fromSs);
  }

  @Test
  void procFallbackAgreesWithNetlink() {
    assertThat(proc.source()).isEqualTo("proc");
    assertThat(proc.timeWaitTotal()).isEqualTo(ssCount);
    assertThat(proc.topDestinations()).isEqualTo(netlink.topDestinations());
    assertThat(proc.destinationCount()).isEqualTo(netlink.destinationCount());
    assertThat(proc.listeningPorts()).isEqualTo(netlink.listeningPorts());
  }

  @Test
  void listenerPortInsideTheRangeIsNotAnEphemeralPort() {
    assertThat(netlink.listeningPorts()).containsExactly(40000);
    // The 200 server-side TIME_WAIT sockets count in the total but are no destination.
    assertThat(destinations(netlink).keySet()).allMatch(KNOWN::containsKey);
  }

  @Test
  void topLimitsTheListNotTheCount() {
    assertThat(destinations(top2)).containsOnlyKeys("127.0.0.1:7001", "[::1]:7003");
    assertThat(top2.destinationCount()).isEqualTo(KNOWN.size());
    assertThat(top2.maxTwBuckets()).isEqualTo(MAX_TW_BUCKETS);
    assertThat(top2.maxTwBucketsHeadroom()).isEqualTo(MAX_TW_BUCKETS - TOTAL);
    assertThat(top2.portRange()).isEqualTo(new PortRange(30000, 60999));
    assertThat(top2.tcpExt()).containsKeys("ListenOverflows", "ListenDrops", "TCPTimeWaitOverflow");
  }

  @Test
  void cliJsonHasTheDocumentedShape() {
    assertThat(cliJson.get("kernel").asText()).matches("\\d+\\.\\d+.*");
    assertThat(cliJson.get("source").asText()).isEqualTo("netlink");
    assertThat(cliJson.get("timeWait").get("total").asLong()).isEqualTo(TOTAL);
    assertThat(cliJson.get("timeWait").get("sockstat").asLong()).isEqualTo(TOTAL);
    assertThat(cliJson.get("timeWait").get("maxTwBuckets").asLong()).isEqualTo(MAX_TW_BUCKETS);
    assertThat(cliJson.get("timeWait").get("maxTwBucketsHeadroom").asLong()).isEqualTo(MAX_TW_BUCKETS - TOTAL);
    JsonNode range = cliJson.get("portRange");
    assertThat(List.of(range.get("min").asInt(), range.get("max").asInt(), range.get("size").asInt())).containsExactly(30000, 60999, RANGE_SIZE);
    assertThat(cliJson.get("pressure").asDouble()).isCloseTo((double) TOTAL / RANGE_SIZE, Offset.offset(1e-12));
    assertThat(destinations(cliJson)).isEqualTo(new TreeMap<>(KNOWN));
    JsonNode d = cliJson.get("destinations").get(0);
    assertThat(d.fieldNames()).toIterable().containsExactly("destination", "sockets", "pressure");
    assertThat(d.get("pressure").asDouble()).isCloseTo(1500.0 / RANGE_SIZE, Offset.offset(1e-12));
    JsonNode nat = cliJson.get("nat");
    assertThat(nat.get("detected").isBoolean() || nat.get("detected").isNull()).isTrue();
    assertThat(nat.get("evidence").isArray() && !nat.get("evidence").isEmpty()).isTrue();
    assertThat(cliJson.get("tcpExt").get("TCPTimeWaitOverflow").asLong()).isZero();
    assertThat(cliJson.get("listeningPorts").toString()).isEqualTo("[40000]");
  }

  @Test
  void cliFallsBackToProcWithoutNativeAccess() {
    assertThat(cliNoNativeAccess.get("source").asText()).isEqualTo("proc");
    assertThat(cliNoNativeAccess.get("timeWait").get("total").asLong()).isEqualTo(TOTAL);
    assertThat(destinations(cliNoNativeAccess)).isEqualTo(new TreeMap<>(KNOWN));
  }

  @Test
  void cliTableShowsTheHottestDestinationsAsFractionsOfTheRange() {
    assertThat(cliTable)
        .contains("TIME_WAIT sockets    4,300")
        .contains("30000-60999 (31,000 ports)")
        .contains("Top destinations (3 of 5)")
        .containsPattern("127\\.0\\.0\\.1:7001 +1,500 +0\\.0484")
        .containsPattern("\\[::1]:7003 +900 +0\\.0290")
        .containsPattern("Listening ports +40000");
  }
}
