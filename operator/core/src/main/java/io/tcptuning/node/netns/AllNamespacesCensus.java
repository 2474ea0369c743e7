package io.tcptuning.node.netns;

import io.tcptuning.node.NetlinkSocket;
import io.tcptuning.node.ProcNet;
import io.tcptuning.node.census.CensusReport;
import io.tcptuning.node.census.TimeWaitCensus;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The per-destination TIME_WAIT census of many network namespaces in one pass, on several worker
 * threads at once: each worker (the thread of one {@link NetnsRunner}) takes the next namespace
 * not yet taken, enters it with setns(2) straight from the one before, takes the census inside it
 * (a netlink SOCK_DIAG socket opened there answers for that namespace; the port range and
 * sockstat are read through /proc/sys and /proc/thread-self, which follow the thread), and goes
 * home once, when none are left. A namespace that vanished since the scan is reported as such and
 * counted, never thrown.
 *
 * <p>Why in parallel: most of a pass is the kernel walking each namespace's sockets
 * ({@code tcp_diag_dump}), and the walks of different namespaces are independent (with hash
 * tables per namespace they do not even touch the same memory), so the wall time of a pass
 * shrinks with the CPUs given to it, while its CPU time stays what it was. Namespaces are handed
 * out one at a time rather than in fixed shares, so a namespace with many sockets holds up one
 * worker, not a whole share. The results keep the order of the namespaces given.
 *
 * <p>What a pass costs beyond the kernel's walks is kept small: each worker's netlink sockets,
 * one per namespace and one at a time, work in that worker's own {@link NetlinkSocket.Memory}
 * (128 KiB of buffers allocated once, not per namespace; never shared between workers, which
 * would have two sockets receive into one buffer), and the TcpExt counters, which nothing shows
 * per namespace and which cost as much as the other /proc files together, are not read
 * ({@link CensusReport#tcpExt()} is empty).
 */
public final class AllNamespacesCensus implements AutoCloseable {
  /** How one namespace's census went. */
  public enum Status {
    MEASURED,
    /** Gone since the scan: nothing to measure. */
    VANISHED,
    /** The runner refuses this namespace (the node's own, on a pod runner). */
    REFUSED,
    /** It could not be entered or measured: {@code error} says why. */
    FAILED
  }

  /**
   * One namespace's census.
   *
   * @param report the census when {@code MEASURED}, else null
   * @param sockstatTimeWait TIME_WAIT sockets by the namespace's sockstat (the O(1) figure), read
   *     right after the enumeration; -1 unless {@code MEASURED}
   * @param error what went wrong when {@code FAILED} or {@code VANISHED}, else null
   */
  public record NamespaceCensus(NetnsRef ref, Status status, CensusReport report, long sockstatTimeWait, String error) {
    public boolean measured() {
      return status == Status.MEASURED;
    }
  }

  /**
   * One pass.
   *
   * @param namespaces one entry per namespace given, in the same order
   * @param elapsedNanos wall time of the pass, scan not included
   * @param workers how many workers the pass was shared among (one per runner, at most one per namespace)
   */
  public record Pass(List<NamespaceCensus> namespaces, int measured, int vanished, int failed, long elapsedNanos, int workers) {
    public Pass {
      namespaces = List.copyOf(namespaces);
    }
  }

  private record Taken(CensusReport report, long sockstat) {}

  /** More workers than this buy little: a pass is a few hundred milliseconds of kernel time at most. */
  public static final int MAX_DEFAULT_WORKERS = 4;

  private final List<NetnsRunner> runners;
  /** One census (and so one netlink memory) per runner: a worker never shares its buffers. */
  private final List<TimeWaitCensus> censuses;
  private final boolean ownsRunners;
  private final int top;
  /** Tests only: runs on a worker after each namespace's census, before its next one. */
  volatile NetnsRunner.Task<Void> afterEach;

  /**
   * A census on one runner: one worker thread for the whole pass.
   *
   * @param runner a runner made with {@link NetnsRunner#forAllNamespaces} to include the node's
   *     own namespace (a pod runner reports it as {@code REFUSED}); it stays the caller's to close
   * @param source where sockets are enumerated from inside each namespace
   * @param top how many destinations each report lists (at least one)
   */
  public AllNamespacesCensus(NetnsRunner runner, TimeWaitCensus.Source source, int top) {
    this(List.of(runner), source, top);
  }

  /**
   * A census whose passes use up to one worker per runner (never more than there are namespaces).
   * The runners stay the caller's to close; they must all have the same home, the namespace of
   * the thread that calls {@link #take}.
   */
  public AllNamespacesCensus(List<NetnsRunner> runners, TimeWaitCensus.Source source, int top) {
    this(runners, source, top, false);
  }

  private AllNamespacesCensus(List<NetnsRunner> runners, TimeWaitCensus.Source source, int top, boolean ownsRunners) {
    if (runners.isEmpty()) {
      throw new IllegalArgumentException("a census needs at least one namespace runner");
    }
    this.runners = List.copyOf(runners);
    this.censuses = runners.stream()
        .map(r -> new TimeWaitCensus(ProcNet.PROC, source).withoutTcpExt().withNetlinkMemory(NetlinkSocket.Memory.reusable()))
        .toList();
    this.ownsRunners = ownsRunners;
    this.top = Math.max(1, top);
  }

  /**
   * A census with {@code workers} runners of its own ({@link NetnsRunner#forAllNamespaces}, named
   * {@code name-1}, {@code name-2}...), closed by {@link #close}. Call it from a thread in the
   * node's namespace: that is the runners' home, where their workers start and return. A runner
   * starts its worker thread at its first use, so runners beyond the number of namespaces cost
   * nothing.
   */
  public static AllNamespacesCensus withWorkers(String name, int workers, TimeWaitCensus.Source source, int top) throws IOException {
    List<NetnsRunner> made = new ArrayList<>();
    try {
      for (int i = 1; i <= Math.max(1, workers); i++) {
        made.add(NetnsRunner.forAllNamespaces(name + "-" + i));
      }
    } catch (IOException | RuntimeException e) {
      made.forEach(NetnsRunner::close);
      throw e;
    }
    return new AllNamespacesCensus(made, source, top, true);
  }

  /**
   * The workers a pass over {@code namespaces} namespaces gets by default: one per CPU, no more
   * than there are namespaces, at most {@link #MAX_DEFAULT_WORKERS}; at least one.
   */
  public static int defaultWorkers(int namespaces) {
    return Math.max(1, Math.min(Math.min(Runtime.getRuntime().availableProcessors(), namespaces), MAX_DEFAULT_WORKERS));
  }

  /** How many workers a pass may use. */
  public int workers() {
    return runners.size();
  }

  /** The runners' current worker threads' ids (for measuring their CPU time); workers not started yet are left out. */
  public List<Long> workerThreadIds() {
    List<Long> ids = new ArrayList<>();
    for (NetnsRunner r : runners) {
      Thread t = r.workerThread();
      if (t != null) {
        ids.add(t.threadId());
      }
    }
    return ids;
  }

  /** The runners, for tests. */
  List<NetnsRunner> runners() {
    return runners;
  }

  /**
   * Takes the census in every namespace of {@code refs}, on as many workers as there are runners
   * and namespaces. Call it from a thread at the runners' home (the workers are started from it).
   *
   * @throws IOException only when no runner could start its worker at home (the namespaces a
   *     runner could not take are taken by the others)
   * @throws IllegalStateException every runner is closed
   */
  public Pass take(List<NetnsRef> refs) throws IOException {
    long start = System.nanoTime();
    int n = refs.size();
    @SuppressWarnings("unchecked")
    NetnsRunner.Outcome<Taken>[] outcomes = new NetnsRunner.Outcome[n];
    AtomicInteger next = new AtomicInteger();
    int workers = Math.max(1, Math.min(runners.size(), n));
    Share[] shares = new Share[workers];
    for (int w = 0; w < workers; w++) {
      shares[w] = new Share(runners.get(w), censuses.get(w), refs, next, outcomes);
    }
    // The first share on this thread, the others on threads started from it: they inherit its
    // namespace, home, which is where a runner must start its worker.
    List<Thread> helpers = new ArrayList<>(workers - 1);
    for (int w = 1; w < workers; w++) {
      helpers.add(Thread.ofPlatform().name("census-share-" + (w + 1)).start(shares[w]));
    }
    shares[0].run();
    try {
      for (Thread t : helpers) {
        t.join();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted while waiting for the census workers");
    }
    long elapsed = System.nanoTime() - start;
    for (int i = 0; i < n; i++) {
      if (outcomes[i] == null) {
        // Nobody took it: every runner failed (or was interrupted) before it got there.
        Throwable why = firstFailure(shares);
        if (why instanceof IOException io) {
          throw io;
        }
        if (why instanceof RuntimeException re) {
          throw re; // a closed runner, for one
        }
        if (why instanceof Error err) {
          throw err;
        }
        throw new IOException("the census workers stopped before " + refs.get(i).label(), why);
      }
    }
    return pass(outcomes, elapsed, workers);
  }

  @Override
  public void close() {
    if (ownsRunners) {
      runners.forEach(NetnsRunner::close);
    }
  }

  /** One worker's part of a pass: namespaces taken from the shared counter, outcomes put in their places. */
  private final class Share implements Runnable {
    private final NetnsRunner runner;
    private final TimeWaitCensus census;
    private final List<NetnsRef> refs;
    private final AtomicInteger next;
    private final NetnsRunner.Outcome<Taken>[] outcomes;
    /** Written on the runner's worker thread, read after runInEach returns (which orders them). */
    private final List<Integer> taken = new ArrayList<>();
    private Throwable failure;

    Share(NetnsRunner runner, TimeWaitCensus census, List<NetnsRef> refs, AtomicInteger next, NetnsRunner.Outcome<Taken>[] outcomes) {
      this.runner = runner;
      this.census = census;
      this.refs = refs;
      this.next = next;
      this.outcomes = outcomes;
    }

    @Override
    public void run() {
      try {
        List<NetnsRunner.Outcome<Taken>> mine = runner.runInEach(() -> {
          int i = next.getAndIncrement();
          if (i >= refs.size()) {
            return null;
          }
          taken.add(i);
          return refs.get(i);
        }, ref -> {
          try {
            return new Taken(census.take(top), census.timeWaitTotal());
          } finally {
            NetnsRunner.Task<Void> hook = afterEach;
            if (hook != null) {
              hook.call(ref);
            }
          }
        });
        for (int k = 0; k < mine.size(); k++) {
          outcomes[taken.get(k)] = mine.get(k);
        }
      } catch (IOException | RuntimeException | Error e) {
        failure = e;
      }
    }
  }

  private static Throwable firstFailure(Share[] shares) {
    for (Share s : shares) {
      if (s.failure != null) {
        return s.failure;
      }
    }
    return null;
  }

  private static Pass pass(NetnsRunner.Outcome<Taken>[] outcomes, long elapsed, int workers) {
    List<NamespaceCensus> out = new ArrayList<>(outcomes.length);
    int measured = 0;
    int vanished = 0;
    int failed = 0;
    for (var o : outcomes) {
      switch (o.status()) {
        case DONE -> {
          measured++;
          out.add(new NamespaceCensus(o.ref(), Status.MEASURED, o.value().report(), o.value().sockstat(), null));
        }
        case GONE -> {
          vanished++;
          out.add(new NamespaceCensus(o.ref(), Status.VANISHED, null, -1, o.error()));
        }
        case REFUSED -> out.add(new NamespaceCensus(o.ref(), Status.REFUSED, null, -1, o.error()));
        case FAILED -> {
          failed++;
          out.add(new NamespaceCensus(o.ref(), Status.FAILED, null, -1, o.error()));
        }
      }
    }
    return new Pass(out, measured, vanished, failed, elapsed, workers);
  }
}
