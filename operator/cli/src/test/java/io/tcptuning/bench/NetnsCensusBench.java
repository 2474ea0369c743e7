package io.tcptuning.bench;

import io.tcptuning.node.ProcFiles;
import io.tcptuning.node.census.TimeWaitCensus;
import io.tcptuning.node.netns.AllNamespacesCensus;
import io.tcptuning.node.netns.NetnsRef;
import io.tcptuning.node.netns.NetnsRunner;
import io.tcptuning.node.netns.NetnsScanner;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * The pod-namespace census benchmark, run by {@code operator/bench/netns-census-bench.sh} in the
 * host namespace once it has made the namespaces ({@code ip netns add PREFIX-i}) and one process
 * in each (the "pod" cAdvisor reads from). Fills every namespace with TIME_WAIT sockets (a
 * NetnsRunner worker does the connecting inside each), then times, on the same sockets, side by
 * side:
 *
 * <ul>
 *   <li>in-process: one {@link AllNamespacesCensus} pass over all of them on the default number of
 *       workers ({@link AllNamespacesCensus#defaultWorkers}: threads moving by setns, each taking
 *       the next namespace, netlink SOCK_DIAG inside each, port range and sockstat too), warm,
 *       median; beside it the same pass on one worker, and the CPU time of the workers' threads
 *       summed for both (in parallel the wall time shrinks, the CPU time does not);
 *   <li>cAdvisor's way: read and parse {@code /proc/<pid>/net/tcp} and {@code tcp6} of a process in
 *       each namespace, counting TIME_WAIT lines, warm, median;
 *   <li>{@code ip netns exec NS ss -tan state time-wait} per namespace, whole processes.
 * </ul>
 *
 * Every method must count exactly the sockets made; sockstat before and after says whether any
 * expired meanwhile (TIME_WAIT lasts 60 s).
 *
 * <pre>NetnsCensusBench (--prefix NAME | --pids-file FILE) --count N --per-namespace M [--runs R] [--one-worker-runs K] [--warmups W] [--pass-warmups P] [--label TEXT]</pre>
 *
 * {@code --warmups}: rounds of every timed method before the measured runs; {@code
 * --pass-warmups}: further in-process passes alone (default 5); {@code --one-worker-runs}: how
 * many of the R runs also time the one-worker pass (default all; at least one).
 *
 * {@code --prefix}: namespaces made with {@code ip netns add NAME-i}, each with a process in it.
 * {@code --pids-file}: namespaces held by the processes listed (one PID a line), for namespaces
 * made where {@code ip netns} cannot name them (children of a namespace with its own
 * {@code tcp_child_ehash_entries}); ss then runs under {@code nsenter -n -t PID}.
 */
public final class NetnsCensusBench {
  private static final int DESTINATIONS = 2;

  public static void main(String[] args) throws Exception {
    String prefix = null;
    Path pidsFile = null;
    String label = "shared TCP hash tables";
    int count = 100;
    int perNamespace = 2000;
    int runs = 5;
    int warmups = 1;
    int passWarmups = 5;
    int oneWorkerRuns = Integer.MAX_VALUE;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--prefix" -> prefix = args[++i];
        case "--pids-file" -> pidsFile = Path.of(args[++i]);
        case "--label" -> label = args[++i];
        case "--count" -> count = Integer.parseInt(args[++i]);
        case "--per-namespace" -> perNamespace = Integer.parseInt(args[++i]);
        case "--runs" -> runs = Integer.parseInt(args[++i]);
        case "--warmups" -> warmups = Integer.parseInt(args[++i]);
        case "--pass-warmups" -> passWarmups = Integer.parseInt(args[++i]);
        case "--one-worker-runs" -> oneWorkerRuns = Integer.parseInt(args[++i]);
        default -> throw new IllegalArgumentException("unknown argument " + args[i]);
      }
    }
    if ((prefix == null) == (pidsFile == null)) {
      throw new IllegalArgumentException("give --prefix (namespaces named PREFIX-i) or --pids-file (one process per namespace)");
    }
    List<NetnsRef> refs = prefix != null ? ours(new NetnsScanner().scan(), prefix) : byPids(new NetnsScanner().scan(), pidsFile);
    if (refs.size() != count) {
      throw new IllegalStateException("found " + refs.size() + " namespaces, expected " + count);
    }
    for (NetnsRef r : refs) {
      if (r.pids().isEmpty()) {
        throw new IllegalStateException(r.entry() + " has no process in it (cAdvisor reads /proc/<pid>/net/tcp)");
      }
    }
    System.out.printf(Locale.ROOT, "Pod-namespace census benchmark, Linux %s, %d CPUs, load average %s%n",
        ProcFiles.read(Path.of("/proc/sys/kernel/osrelease")).strip(), Runtime.getRuntime().availableProcessors(), loadAverage());
    System.out.printf(Locale.ROOT, "%d namespaces x %,d TIME_WAIT sockets (%d destinations each), %s%n", count, perNamespace, DESTINATIONS, label);

    long t0 = System.nanoTime();
    fill(refs, perNamespace);
    long madeAt = System.nanoTime();
    System.out.printf(Locale.ROOT, "sockets made in %.1f s%n", (madeAt - t0) / 1e9);

    int workers = AllNamespacesCensus.defaultWorkers(refs.size());
    try (var census = AllNamespacesCensus.withWorkers("bench-census", workers, TimeWaitCensus.Source.NETLINK, 10);
        var oneWorker = AllNamespacesCensus.withWorkers("bench-census-one", 1, TimeWaitCensus.Source.NETLINK, 10);
        NetnsRunner runner = NetnsRunner.forAllNamespaces("bench-sockstat")) {
      long before = sockstatTotal(runner, refs);
      // The first pass of this JVM (class loading, FFM linking, interpreted code), then warm-up.
      long firstStart = System.nanoTime();
      AllNamespacesCensus.Pass first = census.take(refs);
      double firstMs = (System.nanoTime() - firstStart) / 1e6;
      check("in-process", first, refs, perNamespace);
      check("in-process, one worker", oneWorker.take(refs), refs, perNamespace);
      for (int i = 0; i < warmups; i++) {
        census.take(refs);
        oneWorker.take(refs);
        procNetTcp(refs, perNamespace);
      }
      // More in-process passes (a fifth of a second each), so that the JIT compiler has finished
      // with the pass's code and its threads do not compete for the CPUs during the measured
      // passes: an agent runs this code warm, every census interval for days.
      for (int i = 0; i < passWarmups; i++) {
        census.take(refs);
        oneWorker.take(refs);
      }
      // Interleaved, so that each method meets the same machine: the same sockets, the same
      // neighbours' load, and any socket that expires affects all of them alike.
      double[] inProcess = new double[runs];
      double[] inProcessOne = new double[Math.max(1, Math.min(runs, oneWorkerRuns))];
      double[] cadvisor = new double[runs];
      int ssRuns = 1;
      double[] ss = new double[ssRuns];
      var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
      // The passes' own threads (the runners' workers), to the nanosecond: what a pass costs
      // whatever else the machine runs; process CPU time adds the JVM's compiler and GC threads.
      // Summed over the workers: in parallel the wall time shrinks, the CPU time does not.
      var threads = ManagementFactory.getThreadMXBean();
      double[] workerCpu = new double[runs];
      double[] workerCpuOne = new double[inProcessOne.length];
      long cpuInPasses = 0;
      for (int i = 0; i < runs; i++) {
        List<Long> ids = census.workerThreadIds();
        long cpu = os.getProcessCpuTime();
        long threadCpu = threadsCpu(threads, ids);
        long s = System.nanoTime();
        AllNamespacesCensus.Pass p = census.take(refs);
        inProcess[i] = (System.nanoTime() - s) / 1e6;
        workerCpu[i] = (threadsCpu(threads, ids) - threadCpu) / 1e6;
        cpuInPasses += os.getProcessCpuTime() - cpu;
        check("in-process", p, refs, perNamespace);
        if (i < inProcessOne.length) {
          ids = oneWorker.workerThreadIds();
          threadCpu = threadsCpu(threads, ids);
          s = System.nanoTime();
          p = oneWorker.take(refs);
          inProcessOne[i] = (System.nanoTime() - s) / 1e6;
          workerCpuOne[i] = (threadsCpu(threads, ids) - threadCpu) / 1e6;
          check("in-process, one worker", p, refs, perNamespace);
        }
        s = System.nanoTime();
        procNetTcp(refs, perNamespace);
        cadvisor[i] = (System.nanoTime() - s) / 1e6;
        if (i == runs / 2) {
          s = System.nanoTime();
          ssPerNamespace(refs, perNamespace);
          ss[0] = (System.nanoTime() - s) / 1e6;
        }
      }
      double cpuPerPassMs = cpuInPasses / 1e6 / runs;

      // The O(1) figure alone (sockstat's tw in each namespace, no socket enumerated): what a
      // pass costs when it only checks whether any namespace needs the full census.
      double[] sockstatOnly = new double[5];
      for (int i = 0; i < sockstatOnly.length + 2; i++) {
        long s = System.nanoTime();
        long total = sockstatTotal(runner, refs);
        if (i >= 2) {
          sockstatOnly[i - 2] = (System.nanoTime() - s) / 1e6;
        }
        if (total != (long) perNamespace * refs.size()) {
          MISMATCHES.add("sockstat: " + total);
        }
      }

      // The scan that precedes every pass, for the record.
      var scanner = new NetnsScanner();
      for (int i = 0; i < 20; i++) {
        scanner.scan();
      }
      long s = System.nanoTime();
      int processes = 0;
      for (int i = 0; i < 50; i++) {
        processes = scanner.scan().stream().mapToInt(r -> r.pids().size()).sum();
      }
      double scanMs = (System.nanoTime() - s) / 1e6 / 50;

      long after = sockstatTotal(runner, refs);
      double ip = median(inProcess);
      double ca = median(cadvisor);
      double sm = median(ss);
      System.out.println();
      String w = workers + (workers == 1 ? " worker" : " workers in parallel");
      System.out.printf(Locale.ROOT, "%-78s %10s %8s%n", "one pass over all " + count + " namespaces", "median", "ratio");
      System.out.printf(Locale.ROOT, "%-78s %8.1f ms %7s%n", "tcptune in-process, " + w + " (setns + netlink inet_diag), " + runs + " runs", ip, "1.0x");
      System.out.printf(Locale.ROOT, "%-78s %8.1f ms %6.1fx%n", "tcptune in-process, 1 worker (the same code on one thread), " + inProcessOne.length + " runs", median(inProcessOne), median(inProcessOne) / ip);
      System.out.printf(Locale.ROOT, "%-78s %8.1f ms %6.1fx%n", "cAdvisor's way (/proc/<pid>/net/tcp,tcp6 parse), " + runs + " runs", ca, ca / ip);
      System.out.printf(Locale.ROOT, "%-78s %8.1f ms %6.1fx%n", (prefix != null ? "ip netns exec NS" : "nsenter -n -t PID") + " ss -tan state time-wait, " + ssRuns + " run", sm, sm / ip);
      System.out.printf(Locale.ROOT, "%-78s %8.1f ms%n", "tcptune in-process, sockstat TIME_WAIT total only (1 thread), 5 runs", median(sockstatOnly));
      System.out.println();
      System.out.printf(Locale.ROOT, "in-process first pass of a fresh JVM (%s): %.1f ms; warm passes min %.1f / max %.1f ms; 1 worker min %.1f / max %.1f ms%n",
          w, firstMs, min(inProcess), max(inProcess), min(inProcessOne), max(inProcessOne));
      System.out.printf(Locale.ROOT, "in-process CPU per pass, %s (process CPU time): %.1f ms, i.e. %.1f millicores at one pass per 15 s, %.1f at one per 1 s%n",
          w, cpuPerPassMs, cpuPerPassMs / 15, cpuPerPassMs);
      System.out.printf(Locale.ROOT, "in-process CPU of the workers' threads per pass, summed: %s median %.1f ms (min %.1f); 1 worker median %.1f ms (min %.1f)%n",
          w, median(workerCpu), min(workerCpu), median(workerCpuOne), min(workerCpuOne));
      System.out.printf(Locale.ROOT, "NetnsScanner.scan(): %.2f ms over %d processes%n", scanMs, processes);
      System.out.printf(Locale.ROOT, "sockstat TIME_WAIT over the namespaces: %,d before, %,d after%s%n", before, after,
          before == after ? "" : "  UNSTABLE: sockets expired while measuring");
      double span = (System.nanoTime() - t0) / 1e9;
      System.out.printf(Locale.ROOT, "measured %.1f s after the first socket was made%s%n", span, span > 60 ? "  UNSTABLE: past TIME_WAIT's 60 s" : "");
      if (!MISMATCHES.isEmpty()) {
        System.out.println("UNSTABLE: counts differed from the sockets made: " + MISMATCHES.subList(0, Math.min(5, MISMATCHES.size())));
      }
    }
  }

  /** Count mismatches (sockets that expired, for one): reported, not thrown, so every figure is printed. */
  private static final List<String> MISMATCHES = new java.util.concurrent.CopyOnWriteArrayList<>();

  private static List<NetnsRef> byPids(List<NetnsRef> all, Path pidsFile) throws IOException {
    List<Integer> pids = Files.readAllLines(pidsFile).stream().map(String::strip).filter(l -> !l.isEmpty()).map(Integer::parseInt).toList();
    List<NetnsRef> out = new ArrayList<>();
    for (NetnsRef r : all) {
      if (!r.host() && r.pids().stream().anyMatch(pids::contains)) {
        out.add(r);
      }
    }
    return out;
  }

  private static List<NetnsRef> ours(List<NetnsRef> all, String prefix) {
    List<NetnsRef> out = new ArrayList<>();
    for (NetnsRef r : all) {
      if (r.bindMounts().stream().anyMatch(p -> p.getFileName().toString().startsWith(prefix + "-"))) {
        out.add(r);
      }
    }
    return out;
  }

  /** perNamespace client-side TIME_WAIT sockets in each namespace, made inside it by a runner's worker. */
  private static void fill(List<NetnsRef> refs, int perNamespace) throws Exception {
    // A few workers (each a runner of its own) share the namespaces: connect() on loopback spends
    // its time in the kernel, and TIME_WAIT's 60 s run from the first socket.
    int workers = Math.max(2, Math.min(8, 2 * Runtime.getRuntime().availableProcessors()));
    List<Thread> threads = new ArrayList<>();
    List<Throwable> failures = new java.util.concurrent.CopyOnWriteArrayList<>();
    List<NetnsRunner> runners = new ArrayList<>();
    for (int w = 0; w < workers; w++) {
      runners.add(NetnsRunner.forPods("bench-load-" + w));
    }
    for (int w = 0; w < workers; w++) {
      int first = w;
      NetnsRunner runner = runners.get(w);
      // Started from this (home) thread: the callers stay home, their runners' workers move.
      threads.add(Thread.ofPlatform().start(() -> {
        for (int i = first; i < refs.size(); i += workers) {
          try {
            int made = runner.run(refs.get(i), r -> connectAndClose(perNamespace));
            if (made != perNamespace) {
              throw new IllegalStateException(refs.get(i).entry() + ": made " + made + " of " + perNamespace);
            }
          } catch (Throwable e) {
            failures.add(e);
            return;
          }
        }
      }));
    }
    for (Thread t : threads) {
      t.join();
    }
    runners.forEach(NetnsRunner::close);
    if (!failures.isEmpty()) {
      throw new IllegalStateException("filling the namespaces failed: " + failures.getFirst(), failures.getFirst());
    }
  }

  /**
   * Connects to listeners on 127.0.0.1:7001 and 127.0.0.2:7002 inside the current namespace, the
   * client closing first: each connection leaves one client-side TIME_WAIT socket.
   */
  private static int connectAndClose(int n) throws IOException {
    InetSocketAddress[] targets = {
      new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 7001), new InetSocketAddress(InetAddress.getByName("127.0.0.2"), 7002)
    };
    ServerSocketChannel[] servers = new ServerSocketChannel[targets.length];
    int made = 0;
    ByteBuffer sink = ByteBuffer.allocate(16);
    try {
      for (int i = 0; i < targets.length; i++) {
        servers[i] = ServerSocketChannel.open();
        servers[i].bind(targets[i], 128);
      }
      for (int k = 0; k < n; k++) {
        int d = k % targets.length;
        try (SocketChannel client = SocketChannel.open(targets[d]); SocketChannel accepted = servers[d].accept()) {
          client.close(); // FIN from the client first: the client side keeps TIME_WAIT
          // The server closes only once it has the client's FIN (read gives EOF); a simultaneous
          // close would leave TIME_WAIT on both sides.
          while (accepted.read(sink.clear()) >= 0) {
            // discard
          }
        }
        made++;
      }
    } finally {
      for (ServerSocketChannel s : servers) {
        if (s != null) {
          s.close();
        }
      }
    }
    return made;
  }

  private static void check(String what, AllNamespacesCensus.Pass pass, List<NetnsRef> refs, int perNamespace) {
    if (pass.measured() != refs.size()) {
      throw new IllegalStateException(what + ": measured " + pass.measured() + " of " + refs.size() + " namespaces: " + pass.namespaces());
    }
    for (var ns : pass.namespaces()) {
      if (ns.report().timeWaitTotal() != perNamespace) {
        MISMATCHES.add(what + ": " + ns.ref().entry() + " has " + ns.report().timeWaitTotal());
      }
    }
  }

  /** cAdvisor's scanTCPStats: every line of /proc/PID/net/tcp and tcp6, fields split, state parsed. */
  private static void procNetTcp(List<NetnsRef> refs, int perNamespace) throws IOException {
    for (NetnsRef r : refs) {
      Path net = Path.of("/proc/" + r.lowestPid() + "/net");
      long tw = countTimeWait(net.resolve("tcp")) + countTimeWait(net.resolve("tcp6"));
      if (tw != perNamespace) {
        MISMATCHES.add("cAdvisor's way: " + r.entry() + " has " + tw);
      }
    }
  }

  private static long countTimeWait(Path file) throws IOException {
    String text;
    try {
      text = new String(Files.readAllBytes(file), StandardCharsets.US_ASCII);
    } catch (NoSuchFileException e) {
      return 0;
    }
    long tw = 0;
    String[] lines = text.split("\n");
    for (int i = 1; i < lines.length; i++) {
      String[] fields = lines[i].trim().split("\\s+");
      if (fields.length > 3 && Integer.parseInt(fields[3], 16) == 6) {
        tw++;
      }
    }
    return tw;
  }

  private static void ssPerNamespace(List<NetnsRef> refs, int perNamespace) throws Exception {
    for (NetnsRef r : refs) {
      String name = r.bindMounts().isEmpty() ? r.entry().toString() : r.bindMounts().getFirst().getFileName().toString();
      List<String> ss = List.of("ss", "-Htan", "state", "time-wait");
      List<String> cmd = new ArrayList<>(r.bindMounts().isEmpty()
          ? List.of("nsenter", "-n", "-t", Integer.toString(r.lowestPid()))
          : List.of("ip", "netns", "exec", name));
      cmd.addAll(ss);
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      byte[] out = p.getInputStream().readAllBytes();
      if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
        throw new IllegalStateException("ss in " + name + " failed: " + new String(out, StandardCharsets.UTF_8));
      }
      long lines = 0;
      for (byte b : out) {
        if (b == '\n') {
          lines++;
        }
      }
      if (lines != perNamespace) {
        MISMATCHES.add("ss: " + name + " has " + lines);
      }
    }
  }

  private static long threadsCpu(java.lang.management.ThreadMXBean threads, List<Long> ids) {
    long sum = 0;
    for (long id : ids) {
      sum += Math.max(0, threads.getThreadCpuTime(id));
    }
    return sum;
  }

  private static long sockstatTotal(NetnsRunner runner, List<NetnsRef> refs) throws IOException {
    long total = 0;
    for (var o : runner.runInEach(refs, r -> TimeWaitCensus.forCurrentNamespace().timeWaitTotal())) {
      total += o.value() == null ? 0 : o.value();
    }
    return total;
  }

  private static String loadAverage() {
    try {
      String[] f = ProcFiles.read(Path.of("/proc/loadavg")).split(" ");
      return f[0] + " " + f[1] + " " + f[2];
    } catch (IOException e) {
      return "unknown";
    }
  }

  private static double median(double[] v) {
    double[] s = v.clone();
    Arrays.sort(s);
    return s[s.length / 2];
  }

  private static double min(double[] v) {
    return Arrays.stream(v).min().orElse(0);
  }

  private static double max(double[] v) {
    return Arrays.stream(v).max().orElse(0);
  }
}
