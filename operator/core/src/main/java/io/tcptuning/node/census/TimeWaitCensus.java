package io.tcptuning.node.census;

import io.tcptuning.domain.PortRange;
import io.tcptuning.domain.Sysctl;
import io.tcptuning.node.NetlinkSocket;
import io.tcptuning.node.ProcFiles;
import io.tcptuning.node.ProcNet;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Counts TIME_WAIT sockets and ephemeral-port pressure per destination in the calling thread's
 * network namespace (a thread that setns(2)'d measures its new namespace: netlink sockets belong
 * to the creator's namespace and /proc/thread-self/net follows the thread).
 *
 * <p>Sockets come from netlink SOCK_DIAG, as ss does, or from /proc/net/tcp{,6} when a netlink
 * socket cannot be opened (no native access, seccomp, an old kernel). The node total alone comes
 * from sockstat in O(1) for the fast path.
 */
public final class TimeWaitCensus {
  /** Where sockets are enumerated from. AUTO: netlink, falling back to /proc. */
  public enum Source {
    AUTO,
    NETLINK,
    PROC
  }

  private static final Logger LOG = LoggerFactory.getLogger(TimeWaitCensus.class);
  private static final AtomicBoolean FALLBACK_LOGGED = new AtomicBoolean();

  private final Path procRoot;
  private final Source source;
  private final boolean readTcpExt;
  /** Where each enumeration's netlink socket works; null: in memory of its own. */
  private final NetlinkSocket.Memory netlinkMemory;
  /** thread-self/net (or an older kernel's stand-in): the same path for every namespace, found once. */
  private final Path netDir;

  /** Reads under {@code procRoot} (normally /proc); {@code source} picks the enumeration. */
  public TimeWaitCensus(Path procRoot, Source source) {
    this(procRoot, source, true, null);
  }

  private TimeWaitCensus(Path procRoot, Source source, boolean readTcpExt, NetlinkSocket.Memory netlinkMemory) {
    this.procRoot = procRoot;
    this.source = source;
    this.readTcpExt = readTcpExt;
    this.netlinkMemory = netlinkMemory;
    this.netDir = ProcNet.netDir(procRoot);
  }

  /**
   * This census without the TcpExt counters ({@link CensusReport#tcpExt()} is empty): for the
   * census of many namespaces, where nothing shows them and /proc/net/netstat, the largest file
   * a census reads, cost as much as the other files together.
   */
  public TimeWaitCensus withoutTcpExt() {
    return new TimeWaitCensus(procRoot, source, false, netlinkMemory);
  }

  /**
   * This census with the netlink socket of each enumeration working in {@code memory}, one
   * socket at a time: for a pass over many namespaces on one thread, which opens a socket in
   * each but needs its buffers once.
   */
  public TimeWaitCensus withNetlinkMemory(NetlinkSocket.Memory memory) {
    return new TimeWaitCensus(procRoot, source, readTcpExt, memory);
  }

  public static TimeWaitCensus forCurrentNamespace() {
    return new TimeWaitCensus(ProcNet.PROC, Source.AUTO);
  }

  /**
   * A full census: every TCP socket enumerated once. {@code top} destinations are listed (at
   * least one, since the node's pressure rests on the busiest).
   *
   * @throws UncheckedIOException when the port range or the sockets cannot be read at all
   */
  public CensusReport take(int top) {
    PortRange range = portRange();
    Enumeration e = enumerate(range);
    SocketTally tally = e.tally();
    long tw = tally.timeWait();
    return new CensusReport(
        e.source(),
        tw,
        range,
        (double) tw / range.size(),
        tally.top(Math.max(1, top)),
        tally.destinations().size(),
        maxTwBuckets(),
        tcpExt(),
        tally.listeningPorts());
  }

  /**
   * TIME_WAIT sockets of both families, from sockstat's {@code tw} (O(1)); a kernel whose
   * sockstat lacks it gets a TIME_WAIT-only enumeration instead.
   */
  public long timeWaitTotal() {
    try {
      var tw = Sockstat.timeWait(ProcFiles.read(netDir().resolve("sockstat")));
      if (tw.isPresent()) {
        return tw.getAsLong();
      }
    } catch (IOException e) {
      LOG.debug("sockstat unreadable, counting TIME_WAIT sockets instead: {}", e.toString());
    }
    return enumerate(PortRange.LINUX_DEFAULT).tally().timeWait();
  }

  private record Enumeration(String source, SocketTally tally) {}

  private Enumeration enumerate(PortRange range) {
    if (source != Source.PROC) {
      SocketTally tally = new SocketTally(range);
      try (NetlinkSockDiag diag = netlinkMemory == null ? NetlinkSockDiag.open() : NetlinkSockDiag.open(netlinkMemory)) {
        diag.collect(tally);
        return new Enumeration("netlink", tally);
      } catch (IOException | RuntimeException | LinkageError e) {
        if (source == Source.NETLINK) {
          throw new UncheckedIOException(e instanceof IOException io ? io : new IOException(e));
        }
        if (FALLBACK_LOGGED.compareAndSet(false, true)) {
          LOG.warn("netlink sock_diag unavailable ({}), counting sockets from /proc/net/tcp and tcp6 instead", e.toString());
        }
      }
    }
    // A fresh tally: a netlink dump that failed halfway must not be counted twice.
    SocketTally tally = new SocketTally(range);
    enumerateProc(tally);
    return new Enumeration("proc", tally);
  }

  private void enumerateProc(SocketTally tally) {
    var parser = new ProcNetTcpParser(tally);
    Path net = netDir();
    try {
      parser.parse(net.resolve("tcp"));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + net.resolve("tcp"), e);
    }
    try {
      parser.parse(net.resolve("tcp6"));
    } catch (NoSuchFileException e) {
      // IPv6 disabled in this kernel: no tcp6 file and no IPv6 sockets.
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + net.resolve("tcp6"), e);
    }
  }

  private Path netDir() {
    return netDir;
  }

  private PortRange portRange() {
    Path file = procRoot.resolve("sys").resolve(Sysctl.IP_LOCAL_PORT_RANGE.procPath());
    try {
      String raw = ProcFiles.read(file);
      return PortRange.parseKernel(raw).orElseThrow(() -> new IOException("unparsable content '" + raw.strip() + "'"));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + Sysctl.IP_LOCAL_PORT_RANGE.dottedName() + " from " + file, e);
    }
  }

  private Long maxTwBuckets() {
    try {
      return Long.parseLong(ProcFiles.read(procRoot.resolve("sys").resolve(Sysctl.TCP_MAX_TW_BUCKETS.procPath())).strip());
    } catch (IOException | NumberFormatException e) {
      return null;
    }
  }

  private Map<String, Long> tcpExt() {
    if (!readTcpExt) {
      return Map.of();
    }
    try {
      return NetstatCounters.read(ProcFiles.read(netDir().resolve("netstat")), "TcpExt", NetstatCounters.CENSUS_TCP_EXT);
    } catch (IOException e) {
      return Map.of();
    }
  }
}
