package io.tcptuning.cli;

import static java.nio.file.StandardWatchEventKinds.ENTRY_CREATE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tcptuning.domain.Sysctl;
import io.tcptuning.node.JournalCorruptException;
import io.tcptuning.node.OriginalsJournal;
import io.tcptuning.testing.TestNamespace;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code apply} killed with SIGKILL at seeded random points, in a namespace whose sysctls start
 * from known non-default values. After every kill the journal is absent or loads cleanly (never
 * torn), and with no journal nothing was written; then, at random, {@code apply} runs again to
 * completion (the agent restarting after a crash: it must keep the true originals) or not; then
 * {@code revert} must restore exactly the starting values and remove the journal. The same for a
 * handover from one policy to another killed midway. A truncated journal is reported and never
 * trusted. The host's sysctls never move.
 *
 * <p>Where the kills land: a JVM spends nearly all its life starting up, and the window from the
 * journal to the last sysctl write is a few milliseconds of it (more with {@code -Xint}, but only
 * as much more as the start-up, so the odds stay the same), so a delay drawn over the whole
 * lifetime alone would almost never hit it. Each kill's delay is therefore counted from one of
 * three anchors, a third each, calibrated by one apply that is not killed: the process start
 * (delay uniform over the lifetime); the lock file appearing in the state directory, which apply
 * takes before it reads anything (uniform over 1.5 times the time from there to apply's first
 * line of output, printed after its last write); and the journal's temporary file appearing
 * there (log-uniform from 0.2 ms to 3 times the time from there to the output, so that the few
 * milliseconds that matter are hit as often when this machine is faster or slower than during the
 * calibration). Both files are seen through inotify. The lock anchor does not depend on when apply
 * writes its journal, so a write before the journal would be caught. Where each kill landed is
 * read from what it left behind and printed, with the seed; when fewer than {@value
 * #MIN_AMID_WRITES} kills landed amid the writes, aimed runs are added (up to as many again).
 * {@code -Dtcptune.crash.seed}, {@code -Dtcptune.crash.runs} and {@code -Dtcptune.crash.jvm}
 * (options of the killed JVM, default C1 only, the fastest start) change the run.
 */
class CrashSafetyNamespaceTest {
  private static final long SEED = Long.getLong("tcptune.crash.seed", 0x5eed_c7a5_4L);
  private static final int RUNS = Integer.getInteger("tcptune.crash.runs", 30);
  private static final List<String> KILLED_JVM_OPTIONS =
      List.of(System.getProperty("tcptune.crash.jvm", "-XX:TieredStopAtLevel=1").trim().split("\\s+"));
  private static final String TEMP_PREFIX = ".originals.journal.tmp-";
  private static final String LOCK = "originals.lock";
  /** Kills between the journal and the last write wanted; more runs are added until there are. */
  private static final int MIN_AMID_WRITES = 3;

  /** Known non-default starting values: the originals revert must give back every time. */
  private static final Map<String, String> START = Map.of(
      "net.ipv4.tcp_tw_reuse", "0",
      "net.ipv4.tcp_timestamps", "1",
      "net.ipv4.ip_local_port_range", "40000 49999",
      "net.ipv4.tcp_fin_timeout", "45",
      "net.ipv4.tcp_max_tw_buckets", "100000",
      "net.core.somaxconn", "8192",
      "net.ipv4.tcp_max_syn_backlog", "2048");

  /** Six writes (tcp_timestamps is already 1 and is kept): a window as wide as the policy allows. */
  private static final String POLICY =
      """
      apiVersion: tcptuning.io/v1alpha1
      kind: TcpTuningPolicy
      metadata:
        name: crash
      spec:
        sysctls:
          tcpTwReuse: 1
          tcpTimestamps: 1
          ipLocalPortRange: "10240 65535"
          tcpFinTimeout: 30
          tcpMaxTwBuckets: 200000
          somaxconn: 16384
          tcpMaxSynBacklog: 4096
      """;

  /** What {@link #POLICY} changes. */
  private static final Map<Sysctl, String> CHANGED = new EnumMap<>(Map.of(
      Sysctl.TCP_TW_REUSE, "1",
      Sysctl.IP_LOCAL_PORT_RANGE, "10240 65535",
      Sysctl.TCP_FIN_TIMEOUT, "30",
      Sysctl.TCP_MAX_TW_BUCKETS, "200000",
      Sysctl.SOMAXCONN, "16384",
      Sysctl.TCP_MAX_SYN_BACKLOG, "4096"));

  /**
   * A second policy that takes the node over from {@link #POLICY}: apply first gives back every
   * original of the first, then journals its own, then writes.
   */
  private static final String TAKEOVER =
      """
      apiVersion: tcptuning.io/v1alpha1
      kind: TcpTuningPolicy
      metadata:
        name: takeover
      spec:
        sysctls:
          tcpFinTimeout: 20
          somaxconn: 32768
          tcpMaxSynBacklog: 8192
      """;

  private static final Map<Sysctl, String> TAKEOVER_CHANGED = new EnumMap<>(Map.of(
      Sysctl.TCP_FIN_TIMEOUT, "20",
      Sysctl.SOMAXCONN, "32768",
      Sysctl.TCP_MAX_SYN_BACKLOG, "8192"));
  private static final int HANDOVER_RUNS = Integer.getInteger("tcptune.crash.handover-runs", 10);

  /** From when the kill's delay is counted. */
  enum Anchor {
    PROCESS_START(name -> false),
    LOCK_FILE(LOCK::equals),
    JOURNAL_TEMP_FILE(name -> name.startsWith(TEMP_PREFIX) || name.equals("originals.journal"));

    /** Names of created files that mark this anchor. */
    final Predicate<String> file;

    Anchor(Predicate<String> file) {
      this.file = file;
    }
  }

  /** Where a kill landed, read from the state it left. */
  enum Landed { BEFORE_JOURNAL, MID_STORE, BETWEEN_JOURNAL_AND_LAST_WRITE, AFTER_LAST_WRITE, COMPLETED_BEFORE_KILL }

  @TempDir static Path tmp;
  static Path policy;
  static Path takeover;
  static Path stateDir;
  static Map<Sysctl, String> hostBefore;
  static TestNamespace ns;
  static Driver driver;
  static Map<Sysctl, String> start;
  static Map<Sysctl, String> desired;
  /** What the journal must record: the starting value of every sysctl the policy changes. */
  static Map<Sysctl, String> originals;
  /** Applies run to completion after a kill, in the current test. */
  private int restarts;

  @BeforeAll
  static void namespace() throws Exception {
    assumeTrue(TestNamespace.canCreate(), "needs root for ip netns");
    hostBefore = TestNamespace.hostSysctls();
    policy = tmp.resolve("crash.yaml");
    Files.writeString(policy, POLICY);
    takeover = tmp.resolve("takeover.yaml");
    Files.writeString(takeover, TAKEOVER);
    stateDir = Files.createDirectories(tmp.resolve("state"));
    ns = TestNamespace.create("rel-crash");
    for (var e : START.entrySet()) {
      ns.setSysctl(e.getKey(), e.getValue());
    }
    start = ns.sysctls();
    assertThat(HostilePolicyRun.dotted(start)).containsAllEntriesOf(START);
    desired = new EnumMap<>(start);
    desired.putAll(CHANGED);
    originals = new EnumMap<>(Sysctl.class);
    CHANGED.keySet().forEach(s -> originals.put(s, start.get(s)));
    driver = Driver.start(ns);
  }

  /** Each test starts from the starting values and no journal, even after the other one failed. */
  @BeforeEach
  void startingValues() throws Exception {
    for (var e : START.entrySet()) {
      ns.setSysctl(e.getKey(), e.getValue());
    }
    try (Stream<Path> files = Files.list(stateDir)) {
      for (Path f : files.toList()) {
        Files.delete(f);
      }
    }
    assertThat(ns.sysctls()).isEqualTo(start);
  }

  @AfterAll
  static void cleanUp() throws Exception {
    try {
      if (driver != null) {
        driver.close();
      }
    } finally {
      if (ns != null) {
        ns.close();
        assertThat(TestNamespace.hostSysctls()).as("host namespace sysctls").isEqualTo(hostBefore);
      }
    }
  }

  @Test
  void applyKilledAtRandomPointsAlwaysRevertsToTheTrueOriginals() throws Exception {
    long began = System.nanoTime();
    Map<Landed, Integer> landed = new EnumMap<>(Landed.class);

    // Calibration: one apply that is not killed, timed from its start and from each anchor file.
    Timeline cal = applyAndKill(policy, null, 0);
    assertThat(cal.exit()).as("calibration apply\n%s", cal.stderr()).isZero();
    long lockAt = cal.seen().getOrDefault(Anchor.LOCK_FILE, -1L);
    long tempAt = cal.seen().getOrDefault(Anchor.JOURNAL_TEMP_FILE, -1L);
    assertThat(lockAt).as("the lock file was seen").isPositive();
    assertThat(tempAt).as("the journal's temporary file was seen after the lock").isGreaterThan(lockAt);
    assertThat(cal.firstOutputNanos()).as("apply printed its result after the journal").isGreaterThan(tempAt);
    assertThat(ns.sysctls()).isEqualTo(desired);
    revertToStart("calibration");
    long lifetime = cal.exitNanos();
    long fromLock = cal.firstOutputNanos() - lockAt;
    long fromTemp = cal.firstOutputNanos() - tempAt;
    System.out.printf("crash-safety: seed=%d runs=%d killed JVM options=%s%n", SEED, RUNS, KILLED_JVM_OPTIONS);
    System.out.printf("crash-safety: calibration: lock file at %.1f ms, journal temp file at %.1f ms, first output at %.1f ms, exit at %.1f ms%n",
        ms(lockAt), ms(tempAt), ms(cal.firstOutputNanos()), ms(lifetime));

    Random rnd = new Random(SEED);
    int run = 0;
    for (; run < RUNS; run++) {
      Anchor anchor = Anchor.values()[rnd.nextInt(Anchor.values().length)];
      long delay = switch (anchor) {
        case PROCESS_START -> (long) (rnd.nextDouble() * lifetime);
        case LOCK_FILE -> (long) (rnd.nextDouble() * 1.5 * fromLock);
        // Log-uniform: the journal-to-last-write window is hit as often whether this run is
        // faster or slower than the calibration run was.
        case JOURNAL_TEMP_FILE -> logUniform(rnd, 3 * fromTemp);
      };
      landed.merge(crashAndRecover(run, anchor, delay, rnd.nextBoolean()), 1, Integer::sum);
    }
    // A test that never killed apply amid its writes proved little: top up with aimed kills.
    while (landed.getOrDefault(Landed.BETWEEN_JOURNAL_AND_LAST_WRITE, 0) < MIN_AMID_WRITES && run < 2 * RUNS) {
      landed.merge(crashAndRecover(run++, Anchor.JOURNAL_TEMP_FILE, logUniform(rnd, 3 * fromTemp), rnd.nextBoolean()), 1, Integer::sum);
    }
    System.out.printf("crash-safety: landed %s; %d restarts after a crash; %d runs (%d to top up) in %.1f s%n",
        landed, restarts, run, run - RUNS, ms(System.nanoTime() - began) / 1000);
    assertThat(landed.getOrDefault(Landed.BETWEEN_JOURNAL_AND_LAST_WRITE, 0))
        .as("kills between the journal and the last write, in %d runs", run).isGreaterThanOrEqualTo(1);
  }

  /**
   * One run: apply killed after {@code delay} from the anchor; checks what the kill left; apply
   * again to completion when {@code restart}; revert. Returns where the kill landed.
   */
  private Landed crashAndRecover(int run, Anchor anchor, long delay, boolean restart) throws Exception {
    String what = String.format("run %02d (anchor %s, delay %.2f ms, restart %s)", run, anchor, ms(delay), restart);
    Set<Path> tempsBefore = temps();

    Timeline t = applyAndKill(policy, anchor, delay);

    // Right after the kill: never a torn journal, and no write without a journal.
    Optional<OriginalsJournal.Entries> journal = loadCleanly(what);
    Map<Sysctl, String> now = ns.sysctls();
    for (var e : now.entrySet()) {
      assertThat(e.getValue()).as("%s: %s is its start or its desired value", what, e.getKey().dottedName())
          .isIn(start.get(e.getKey()), desired.get(e.getKey()));
    }
    boolean newTemp = temps().stream().anyMatch(f -> !tempsBefore.contains(f));
    Landed where;
    if (journal.isEmpty()) {
      assertThat(now).as("%s: no journal, so nothing may have been written", what).isEqualTo(start);
      where = newTemp ? Landed.MID_STORE : Landed.BEFORE_JOURNAL;
    } else {
      assertThat(journal.get().owner()).as(what).isEqualTo("crash");
      assertThat(journal.get().originals()).as("%s: the journal holds the true originals", what).isEqualTo(originals);
      where = t.exit() == 0 ? Landed.COMPLETED_BEFORE_KILL
          : now.equals(desired) ? Landed.AFTER_LAST_WRITE : Landed.BETWEEN_JOURNAL_AND_LAST_WRITE;
    }
    long written = CHANGED.keySet().stream().filter(s -> now.get(s).equals(desired.get(s))).count();
    System.out.printf("crash-safety: %s: exit %d, landed %s, %d/%d written%s%n",
        what, t.exit(), where, written, CHANGED.size(), newTemp ? ", temp file left" : "");

    if (restart) {
      restarts++;
      JsonNode again = driver.run("apply", "-f", policy.toString(), "--state-dir", stateDir.toString());
      assertThat(again.get("exit").asInt()).as("%s: apply after the crash\n%s", what, again).isZero();
      assertThat(ns.sysctls()).as("%s: after the restart", what).isEqualTo(desired);
      assertThat(loadCleanly(what).orElseThrow().originals()).as("%s: the restart kept the true originals", what).isEqualTo(originals);
    }
    revertToStart(what);
    return where;
  }

  /** A delay between 0.2 ms and {@code max}, uniform on a log scale. */
  private static long logUniform(Random rnd, long max) {
    double min = 200_000;
    return (long) (min * Math.pow(Math.max(max, 2 * min) / min, rnd.nextDouble()));
  }

  /**
   * The same kills in a handover: {@link #POLICY} owns the node, {@link #TAKEOVER} is applied and
   * killed. Apply writes before its own journal here (it gives the first policy's originals back
   * first), so the invariants differ: while the first policy's journal is in place, each value is
   * the first policy's or its original; once the new one is, it records the true originals and
   * what the first policy alone had set is back at the start. Revert always ends at the start.
   */
  @Test
  void aKilledHandoverAlsoRevertsToTheTrueOriginals() throws Exception {
    Map<Sysctl, String> desiredB = new EnumMap<>(start);
    desiredB.putAll(TAKEOVER_CHANGED);
    Map<Sysctl, String> originalsB = new EnumMap<>(Sysctl.class);
    TAKEOVER_CHANGED.keySet().forEach(s -> originalsB.put(s, start.get(s)));
    Map<Landed, Integer> landed = new EnumMap<>(Landed.class);

    assertThat(driver.run("apply", "-f", policy.toString(), "--state-dir", stateDir.toString()).get("exit").asInt()).isZero();
    Timeline cal = applyAndKill(takeover, null, 0);
    assertThat(cal.exit()).as("calibration handover\n%s", cal.stderr()).isZero();
    assertThat(ns.sysctls()).isEqualTo(desiredB);
    revertToStart("handover calibration");
    long fromLock = cal.firstOutputNanos() - cal.seen().get(Anchor.LOCK_FILE);
    long fromTemp = cal.firstOutputNanos() - cal.seen().get(Anchor.JOURNAL_TEMP_FILE);
    System.out.printf("crash-safety handover: calibration: lock file at %.1f ms, journal temp file at %.1f ms, first output at %.1f ms%n",
        ms(cal.seen().get(Anchor.LOCK_FILE)), ms(cal.seen().get(Anchor.JOURNAL_TEMP_FILE)), ms(cal.firstOutputNanos()));

    Random rnd = new Random(SEED + 1);
    int run = 0;
    for (; run < HANDOVER_RUNS || (run < 2 * HANDOVER_RUNS && !landed.containsKey(Landed.BETWEEN_JOURNAL_AND_LAST_WRITE)); run++) {
      boolean fromLockFile = run < HANDOVER_RUNS && rnd.nextBoolean();
      Anchor anchor = fromLockFile ? Anchor.LOCK_FILE : Anchor.JOURNAL_TEMP_FILE;
      long delay = fromLockFile ? (long) (rnd.nextDouble() * 1.5 * fromLock) : logUniform(rnd, 3 * fromTemp);
      boolean restart = rnd.nextBoolean();
      String what = String.format("handover run %02d (anchor %s, delay %.2f ms, restart %s)", run, anchor, ms(delay), restart);
      JsonNode first = driver.run("apply", "-f", policy.toString(), "--state-dir", stateDir.toString());
      assertThat(first.get("exit").asInt()).as("%s: the first policy\n%s", what, first).isZero();
      assertThat(ns.sysctls()).isEqualTo(desired);

      Timeline t = applyAndKill(takeover, anchor, delay);

      OriginalsJournal.Entries journal = loadCleanly(what).orElseThrow(() -> new AssertionError(what + ": no journal at all"));
      Map<Sysctl, String> now = ns.sysctls();
      Landed where;
      String detail;
      if (journal.owner().equals("crash")) {
        // Still the first policy's journal: only its originals may have been written back.
        assertThat(journal.originals()).as("%s: the first policy's journal", what).isEqualTo(originals);
        for (var e : now.entrySet()) {
          assertThat(e.getValue()).as("%s: %s", what, e.getKey().dottedName()).isIn(start.get(e.getKey()), desired.get(e.getKey()));
        }
        where = Landed.BEFORE_JOURNAL;
        detail = CHANGED.keySet().stream().filter(s -> now.get(s).equals(start.get(s))).count() + "/" + CHANGED.size() + " given back";
      } else {
        assertThat(journal.owner()).as(what).isEqualTo("takeover");
        assertThat(journal.originals()).as("%s: the new journal holds the true originals", what).isEqualTo(originalsB);
        for (var e : now.entrySet()) {
          assertThat(e.getValue()).as("%s: %s", what, e.getKey().dottedName()).isIn(start.get(e.getKey()), desiredB.get(e.getKey()));
        }
        where = t.exit() == 0 ? Landed.COMPLETED_BEFORE_KILL
            : now.equals(desiredB) ? Landed.AFTER_LAST_WRITE : Landed.BETWEEN_JOURNAL_AND_LAST_WRITE;
        detail = TAKEOVER_CHANGED.keySet().stream().filter(s -> now.get(s).equals(desiredB.get(s))).count() + "/" + TAKEOVER_CHANGED.size() + " written";
      }
      landed.merge(where, 1, Integer::sum);
      System.out.printf("crash-safety handover: %s: exit %d, landed %s, %s%n", what, t.exit(), where, detail);

      if (restart) {
        JsonNode again = driver.run("apply", "-f", takeover.toString(), "--state-dir", stateDir.toString());
        assertThat(again.get("exit").asInt()).as("%s: apply after the crash\n%s", what, again).isZero();
        assertThat(ns.sysctls()).as("%s: after the restart", what).isEqualTo(desiredB);
        OriginalsJournal.Entries restarted = loadCleanly(what).orElseThrow();
        assertThat(restarted.owner()).as("%s: the restart's journal", what).isEqualTo("takeover");
        assertThat(restarted.originals()).as("%s: the restart's journal", what).isEqualTo(originalsB);
      }
      revertToStart(what);
    }
    System.out.printf("crash-safety handover: landed %s in %d runs (BEFORE_JOURNAL: the first policy's journal still in place)%n", landed, run);
  }

  /**
   * What a torn write would leave (the rename makes one impossible, but a disk or a person can):
   * apply and revert report the journal as corrupt, exit 1 and change nothing, whatever the cut.
   */
  @Test
  void aTruncatedJournalIsReportedAndNeverTrusted() throws Exception {
    JsonNode applied = driver.run("apply", "-f", policy.toString(), "--state-dir", stateDir.toString());
    assertThat(applied.get("exit").asInt()).as(applied.toString()).isZero();
    Path file = stateDir.resolve("originals.journal");
    byte[] good = Files.readAllBytes(file);
    try {
      // Empty, mid-header, mid-entries, inside the checksum line, without the final newline.
      for (int cut : new int[] {0, 1, good.length / 3, good.length / 2, good.length - 66, good.length - 2, good.length - 1}) {
        byte[] torn = Arrays.copyOf(good, cut);
        Files.write(file, torn);
        for (String[] command : List.of(
            new String[] {"apply", "-f", policy.toString(), "--state-dir", stateDir.toString()},
            new String[] {"revert", "--state-dir", stateDir.toString()})) {
          JsonNode r = driver.run(command);
          String what = command[0] + " with the journal cut to " + cut + " of " + good.length + " bytes";
          assertThat(r.get("exit").asInt()).as("%s\n%s", what, r).isEqualTo(Main.EXIT_FAILED);
          assertThat(r.get("err").asText()).as(what).contains("is corrupt", file.toString());
          assertThat(ns.sysctls()).as(what).isEqualTo(desired);
          assertThat(Files.readAllBytes(file)).as(what + ": the journal is left for a person").isEqualTo(torn);
        }
      }
    } finally {
      Files.write(file, good);
    }
    revertToStart("after the truncated journals");
  }

  /** Revert, then exactly the starting values and no journal. */
  private static void revertToStart(String what) throws Exception {
    JsonNode r = driver.run("revert", "--state-dir", stateDir.toString());
    assertThat(r.get("exit").asInt()).as("%s: revert\n%s", what, r).isZero();
    assertThat(ns.sysctls()).as("%s: after revert", what).isEqualTo(start);
    assertThat(stateDir.resolve("originals.journal")).as("%s: journal after revert", what).doesNotExist();
  }

  private static Optional<OriginalsJournal.Entries> loadCleanly(String what) throws IOException {
    try {
      return new OriginalsJournal(stateDir).load();
    } catch (JournalCorruptException e) {
      return fail("%s: torn journal: %s%n%s", what, e.getMessage(), Files.readString(e.file(), StandardCharsets.ISO_8859_1));
    }
  }

  private static Set<Path> temps() throws IOException {
    try (Stream<Path> s = Files.list(stateDir)) {
      return s.filter(p -> p.getFileName().toString().startsWith(TEMP_PREFIX)).collect(Collectors.toSet());
    }
  }

  /**
   * Times in nanoseconds from the process start: when each anchor file was seen, when the first
   * output came (only when not killed, else -1) and when the process ended.
   */
  record Timeline(int exit, Map<Anchor, Long> seen, long firstOutputNanos, long exitNanos, String stderr) {}

  /**
   * Runs {@code apply} as its own JVM in the namespace and, with an anchor, sends it SIGKILL
   * {@code delayNanos} after that anchor (or lets it finish when it exits first). Without an
   * anchor, lets it finish and times it.
   */
  private static Timeline applyAndKill(Path policyFile, Anchor anchor, long delayNanos) throws Exception {
    // A fresh lock file each run, so that taking it shows as a created file (nobody holds it now).
    Files.deleteIfExists(stateDir.resolve(LOCK));
    Path err = tmp.resolve("apply.err");
    List<String> cmd = TestNamespace.javaCommand(
        KILLED_JVM_OPTIONS, Main.class, "apply", "-f", policyFile.toString(), "--state-dir", stateDir.toString());
    try (WatchService watch = FileSystems.getDefault().newWatchService()) {
      stateDir.register(watch, ENTRY_CREATE);
      Map<Anchor, Long> seen = new EnumMap<>(Anchor.class);
      long t0 = System.nanoTime();
      ProcessBuilder.Redirect out = anchor == null ? ProcessBuilder.Redirect.PIPE : ProcessBuilder.Redirect.DISCARD;
      Process p = ns.builder(cmd).redirectOutput(out).redirectError(err.toFile()).start();
      // apply prints its result after its last write: the first byte of output dates that write.
      CompletableFuture<Long> firstOutput = new CompletableFuture<>();
      if (anchor == null) {
        Thread.ofPlatform().daemon().start(() -> {
          try (var in = p.getInputStream()) {
            long at = in.read() < 0 ? -1 : System.nanoTime();
            firstOutput.complete(at);
            in.transferTo(OutputStream.nullOutputStream());
          } catch (IOException e) {
            firstOutput.complete(-1L);
          }
        });
      } else {
        firstOutput.complete(-1L);
      }
      try {
        if (anchor == null) {
          await(watch, p, Anchor.JOURNAL_TEMP_FILE, seen);
        } else {
          long from = anchor == Anchor.PROCESS_START ? t0 : await(watch, p, anchor, seen);
          if (from >= 0) {
            long until = from + delayNanos;
            for (long left; (left = until - System.nanoTime()) > 0; ) {
              LockSupport.parkNanos(left);
            }
          }
          p.destroyForcibly(); // SIGKILL
        }
        if (!p.waitFor(2, TimeUnit.MINUTES)) {
          throw new IllegalStateException("apply did not end");
        }
      } finally {
        p.destroyForcibly();
      }
      long exit = System.nanoTime() - t0;
      long output = firstOutput.get(30, TimeUnit.SECONDS);
      seen.replaceAll((a, at) -> at - t0);
      return new Timeline(p.exitValue(), seen, output < 0 ? -1 : output - t0, exit, Files.readString(err));
    }
  }

  /**
   * Waits until the anchor's file is created, noting when every anchor's file was first seen;
   * the time for {@code anchor}, or -1 if the process ended first.
   */
  private static long await(WatchService watch, Process p, Anchor anchor, Map<Anchor, Long> seen) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
    while (System.nanoTime() < deadline) {
      WatchKey key = watch.poll(20, TimeUnit.MILLISECONDS);
      if (key != null) {
        long now = System.nanoTime();
        for (var event : key.pollEvents()) {
          String name = String.valueOf(event.context());
          for (Anchor a : Anchor.values()) {
            if (a.file.test(name)) {
              seen.putIfAbsent(a, now);
            }
          }
        }
        key.reset();
        if (seen.containsKey(anchor)) {
          return seen.get(anchor);
        }
      } else if (!p.isAlive()) {
        return -1;
      }
    }
    throw new IllegalStateException(anchor + " never appeared");
  }

  private static double ms(long nanos) {
    return nanos / 1e6;
  }

  /** A {@link CliDriver} JVM inside the namespace: revert and the restart's apply without a JVM start each. */
  private static final class Driver implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final Process process;
    private final PrintWriter in;
    private final BufferedReader out;

    private Driver(Process process) {
      this.process = process;
      this.in = new PrintWriter(process.getOutputStream(), true, StandardCharsets.UTF_8);
      this.out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
    }

    /** Started and answering, so that its start-up does not slow the calibration run down. */
    static Driver start(TestNamespace ns) throws IOException {
      Driver d = new Driver(ns.builder(TestNamespace.javaCommand(List.of("-XX:TieredStopAtLevel=1"), CliDriver.class))
          .redirectError(ProcessBuilder.Redirect.INHERIT).start());
      JsonNode version = d.run("--version");
      assertThat(version.get("exit").asInt()).as(version.toString()).isZero();
      return d;
    }

    JsonNode run(String... args) throws IOException {
      in.println(String.join("\t", args));
      String line = out.readLine();
      if (line == null) {
        throw new IOException("the CLI driver ended");
      }
      return JSON.readTree(line);
    }

    @Override
    public void close() throws InterruptedException {
      in.close();
      if (!process.waitFor(30, TimeUnit.SECONDS)) {
        process.destroyForcibly();
      }
    }
  }
}
