package io.tcptuning.node.netns;

import io.tcptuning.node.NetlinkSocket;
import io.tcptuning.node.ProcNet;
import io.tcptuning.node.census.CensusReport;
import io.tcptuning.node.census.TimeWaitCensus;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * The per-destination TIME_WAIT census of many network namespaces in one pass: one worker thread
 * of a {@link NetnsRunner} hops from namespace to namespace (setns(2) between them), takes the
 * census inside each (a netlink SOCK_DIAG socket opened there answers for that namespace; the
 * port range and sockstat are read through /proc/sys and /proc/thread-self, which follow the
 * thread), and goes home once at the end. A namespace that vanished since the scan is reported as
 * such and counted, never thrown.
 *
 * <p>What a pass costs beyond the kernel's walk of each namespace's sockets is kept small: the
 * netlink sockets, one per namespace, all work in one {@link NetlinkSocket.Memory} (128 KiB of
 * buffers allocated once, not per namespace), and the TcpExt counters, which nothing shows per
 * namespace and which cost as much as the other /proc files together, are not read
 * ({@link CensusReport#tcpExt()} is empty).
 */
public final class AllNamespacesCensus {
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
   */
  public record Pass(List<NamespaceCensus> namespaces, int measured, int vanished, int failed, long elapsedNanos) {
    public Pass {
      namespaces = List.copyOf(namespaces);
    }
  }

  private record Taken(CensusReport report, long sockstat) {}

  private final NetnsRunner runner;
  private final TimeWaitCensus census;
  private final int top;
  /** Tests only: runs on the worker after each namespace's census, before the next one. */
  volatile NetnsRunner.Task<Void> afterEach;

  /**
   * @param runner a runner made with {@link NetnsRunner#forAllNamespaces} to include the node's
   *     own namespace (a pod runner reports it as {@code REFUSED})
   * @param source where sockets are enumerated from inside each namespace
   * @param top how many destinations each report lists (at least one)
   */
  public AllNamespacesCensus(NetnsRunner runner, TimeWaitCensus.Source source, int top) {
    this.runner = runner;
    // One census for every pass: the runner's worker measures one namespace at a time, so the
    // sockets never overlap in the memory they share.
    this.census = new TimeWaitCensus(ProcNet.PROC, source).withoutTcpExt().withNetlinkMemory(NetlinkSocket.Memory.reusable());
    this.top = Math.max(1, top);
  }

  /**
   * Takes the census in every namespace of {@code refs}.
   *
   * @throws IOException only when the runner cannot start its worker at home
   */
  public Pass take(List<NetnsRef> refs) throws IOException {
    long start = System.nanoTime();
    List<NetnsRunner.Outcome<Taken>> outcomes = runner.runInEach(refs, ref -> {
      try {
        return new Taken(census.take(top), census.timeWaitTotal());
      } finally {
        NetnsRunner.Task<Void> hook = afterEach;
        if (hook != null) {
          hook.call(ref);
        }
      }
    });
    long elapsed = System.nanoTime() - start;
    List<NamespaceCensus> out = new ArrayList<>(outcomes.size());
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
    return new Pass(out, measured, vanished, failed, elapsed);
  }
}
