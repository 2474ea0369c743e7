package io.tcptuning.agent.pods;

import io.tcptuning.agent.NodeStatusFactory;
import io.tcptuning.api.v1alpha1.Mode;
import io.tcptuning.api.v1alpha1.PodCounts;
import io.tcptuning.api.v1alpha1.PodPressure;
import io.tcptuning.api.v1alpha1.PodRefusal;
import io.tcptuning.api.v1alpha1.TcpTuningPolicySpec;
import io.tcptuning.domain.Action;
import io.tcptuning.domain.KernelVersion;
import io.tcptuning.domain.NatVerdict;
import io.tcptuning.domain.Plan;
import io.tcptuning.domain.PlannedSysctl;
import io.tcptuning.domain.Sysctl;
import io.tcptuning.domain.TuningRequest;
import io.tcptuning.node.ApplyResult;
import io.tcptuning.node.IoErrors;
import io.tcptuning.node.NetlinkSocket;
import io.tcptuning.node.JournalForOtherNamespaceException;
import io.tcptuning.node.OriginalsJournal;
import io.tcptuning.node.ProcSysctls;
import io.tcptuning.node.RevertResult;
import io.tcptuning.node.SysctlApplier;
import io.tcptuning.node.SysctlOutcome;
import io.tcptuning.node.census.CensusReport;
import io.tcptuning.node.census.Sockstat;
import io.tcptuning.node.census.TimeWaitCensus;
import io.tcptuning.node.ProcFiles;
import io.tcptuning.node.ProcNet;
import io.tcptuning.node.netns.NamespaceGoneException;
import io.tcptuning.node.netns.NetnsRef;
import io.tcptuning.node.netns.NetnsRunner;
import io.tcptuning.node.netns.NetnsScanner;
import io.tcptuning.node.netns.PodCgroups;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agent's pod side, run on its kernel thread: finds the node's network namespaces, maps each
 * to its pod, takes the TIME_WAIT census inside each, and for a policy with a podSelector or
 * namespaceSelector tunes the selected pods' namespaces.
 *
 * <ul>
 *   <li>Finding: {@link NetnsScanner} (every /proc/PID/ns/net by inode, plus bind mounts), every
 *       {@link #rescan()}: at every census, on every change of the node's pods, and each second
 *       while a selected pod's namespace is awaited ({@link #waitingForPods}).
 *   <li>Mapping: the pod UID from the cgroup of a process in the namespace ({@link PodCgroups}),
 *       read once per namespace and again only when none of the processes it was read from is
 *       left in it; the UID is looked up in {@link NodePods} for namespace, name and labels. The
 *       node's own namespace (and this process's) is never a pod's: hostNetwork pods live there.
 *   <li>Measuring: one visit per namespace and census: sockstat, the per-destination enumeration
 *       only where there is something to enumerate, and for tuned pods the drift check.
 *   <li>Entering: only through a {@link NetnsRunner#forPods} runner, which opens a path to the
 *       namespace, checks its inode before and after setns(2), refuses the node's namespace and
 *       brings its one worker thread home after each call.
 *   <li>Tuning: the node's planner and applier, inside the pod's namespace, with one {@link
 *       OriginalsJournal} per pod namespace ({@link PodJournals}, keyed by pod UID and namespace
 *       inode) written before the first write. A sysctl the pod sets itself is left out and
 *       reported ({@value #POD_DECLARES_SYSCTL}). Restored when the pod is deselected while
 *       alive and when the policy lets go; dropped, not restored, when the namespace is gone.
 * </ul>
 *
 * Not thread-safe: one thread (the agent's kernel thread) calls everything.
 */
public final class PodNamespaces implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(PodNamespaces.class);
  public static final String POD_DECLARES_SYSCTL = "PodDeclaresSysctl";
  public static final String WRITE_FAILED = "WriteFailed";
  public static final int TOP_PODS = 10;
  public static final int MAX_REFUSALS = 20;
  /**
   * TCP sockets in a namespace (IPv4 and IPv6, by sockstat) from which the census enumerates
   * them even without TIME_WAIT: 5% of the default port range, where pressure starts to be
   * reported as a move.
   */
  static final long ENUMERATE_AT_SOCKETS = 1400;
  /** How many processes of a namespace are asked for their pod before giving up until the next scan. */
  private static final int CGROUP_READS_PER_NAMESPACE = 3;

  /** What the plan needs to know of the node. */
  public record NodeFacts(KernelVersion kernel, NatVerdict nat) {}

  /** The pod side's figures for the node's report. */
  public record Report(int namespaces, List<PodPressure> pressures, PodCounts counts, List<PodRefusal> refusals) {
    public Report {
      pressures = List.copyOf(pressures);
      refusals = List.copyOf(refusals);
    }

    /** The worst pods, at most {@value #TOP_PODS}. */
    public List<PodPressure> top() {
      return pressures.subList(0, Math.min(TOP_PODS, pressures.size()));
    }

    public PodPressure worst() {
      return pressures.isEmpty() ? null : pressures.getFirst();
    }

    static Report empty(int namespaces, boolean selectsPods) {
      return new Report(namespaces, List.of(), selectsPods ? new PodCounts(0, 0, 0, 0) : null, List.of());
    }
  }

  private enum State {
    /** Nothing of this policy's is in the namespace (never tuned, deselected, or given back). */
    UNTUNED,
    /** Enforce: the policy's values are in place (some may be refused). */
    TUNED,
    /** DryRun: planned, nothing written. */
    PLANNED,
    /** Enforce: the last apply failed (rolled back); retried at the next census. */
    FAILED
  }

  private static final class Tracked {
    NetnsRef ref;
    String uid;
    List<Integer> uidPids = List.of();
    /** The processes last asked for their pod without an answer: asked again only when they change. */
    List<Integer> unmappedPids;
    PodInfo pod;
    boolean selected;
    State state = State.UNTUNED;
    Plan applied;
    List<PodRefusal> refusals = List.of();
    boolean anyInPlace;
    String failure;
    CensusReport census;
    long timeWait;
    /** False once it is known that no journal of this pod namespace exists (saves a stat a second). */
    boolean mayHaveJournal = true;

    Tracked(NetnsRef ref) {
      this.ref = ref;
    }

    String shown() {
      return pod != null ? pod.shown() : uid != null ? "uid " + uid : ref.label();
    }

    PodJournals.Key key() {
      return uid == null ? null : new PodJournals.Key(uid, ref.inode());
    }
  }

  private final String policy;
  private final String node;
  private final TcpTuningPolicySpec spec;
  private final Mode mode;
  private final Map<Sysctl, String> desired;
  private final NodeFacts facts;
  private final NodePods pods;
  private final PodJournals journals;
  private final NetnsScanner scanner;
  private final NetnsRunner runner;
  /**
   * Pods' censuses, one namespace at a time on the runner's worker: their netlink sockets share
   * one set of buffers, and the TcpExt counters, which no pod figure uses, are not read.
   */
  private final TimeWaitCensus podCensus = TimeWaitCensus.forCurrentNamespace().withoutTcpExt().withNetlinkMemory(NetlinkSocket.Memory.reusable());
  private final Map<Long, Tracked> byInode = new HashMap<>();
  /** True while this agent may write pods' namespaces (its policy wins the node and is not letting go). */
  private boolean tuning;
  private long scans;
  private long scanNanos;

  /**
   * Creates the runner: call on the kernel thread, in the node's namespace (the runner's home,
   * which it refuses to enter for pods).
   *
   * @param tuning whether this agent may write pods' namespaces at all (its policy wins the node)
   */
  public PodNamespaces(String policy, String node, TcpTuningPolicySpec spec, Map<Sysctl, String> desired, NodeFacts facts,
      NodePods pods, PodJournals journals, NetnsScanner scanner, boolean tuning) throws IOException {
    this.policy = policy;
    this.node = node;
    this.spec = spec;
    this.mode = spec.effectiveMode();
    this.desired = Map.copyOf(desired);
    this.facts = facts;
    this.pods = pods;
    this.journals = journals;
    this.scanner = scanner;
    this.runner = NetnsRunner.forPods("podns");
    this.tuning = tuning && spec.selectsPods();
  }

  /** True when the policy reaches into pods (podSelector or namespaceSelector). */
  public boolean selectsPods() {
    return spec.selectsPods();
  }

  /**
   * At start, before any tuning: drops the journals of pod namespaces that no longer exist (the
   * pod went away while the agent was not running; there is nothing left to restore into).
   * Journals are listed before the scan, so a journal written meanwhile for a new namespace is
   * never taken for a stale one.
   */
  public void dropStaleJournals() throws IOException {
    List<PodJournals.Key> keys = journals.list();
    if (keys.isEmpty()) {
      return;
    }
    scanAndMap();
    for (PodJournals.Key key : keys) {
      Tracked t = byInode.get(key.inode());
      if (t != null && key.uid().equals(t.uid)) {
        continue;
      }
      dropQuietly(key, "pod uid " + key.uid() + " net:[" + key.inode() + "]", "the namespace is gone");
    }
  }

  /**
   * Looks at the node's namespaces again; with a policy that selects pods, tunes newly found or
   * newly selected pods and gives back deselected ones. Cheap when nothing changed: one listing
   * of /proc and a readlink per process.
   */
  public void rescan() throws IOException {
    rescan(false);
  }

  private void rescan(boolean remapAll) throws IOException {
    scanAndMap(remapAll);
    if (!tuning || !pods.synced()) {
      return;
    }
    for (Tracked t : List.copyOf(byInode.values())) {
      if (t.uid == null) {
        continue;
      }
      Optional<PodInfo> pod = pods.pod(t.uid);
      if (pod.isEmpty()) {
        // Not (yet) in the informer, or deleted from the API while its namespace lingers: it
        // takes its namespace with it, so there is nothing to give back; wait.
        t.selected = false;
        continue;
      }
      t.pod = pod.get();
      t.selected = PodSelection.selects(spec, t.pod, namespaceLabelsOf(t.pod));
      if (t.selected && t.state == State.UNTUNED) {
        tune(t);
      } else if (!t.selected && (t.state != State.UNTUNED || t.mayHaveJournal)) {
        if (t.state != State.UNTUNED || journals.exists(t.key())) {
          giveBack(t, "pod no longer selected");
        }
        // Not retried each second: a revert that failed keeps its journal, and letGo reads them all.
        t.mayHaveJournal = false;
      }
    }
  }

  /**
   * The census of every pod namespace (after a rescan), drift corrected in tuned ones and failed
   * ones retried, and the report.
   *
   * @param nodeMeasured whether the node's own namespace was measured (it counts as one)
   */
  public Report census(boolean nodeMeasured) throws IOException {
    rescan(true);
    boolean checkDrift = tuning && pods.synced() && mode == Mode.Enforce;
    Map<Long, Tracked> byRef = Map.copyOf(byInode);
    List<NetnsRunner.Outcome<Visit>> outcomes = runner.runInEach(byRef.values().stream().map(t -> t.ref).toList(), ref -> {
      Tracked t = byRef.get(ref.inode());
      return visit(checkDrift && t.selected && t.state == State.TUNED && t.applied != null ? t : null);
    });
    int measured = 0;
    List<Tracked> drifted = new ArrayList<>();
    for (var o : outcomes) {
      Tracked t = byRef.get(o.ref().inode());
      switch (o.status()) {
        case DONE -> {
          measured++;
          t.census = o.value().census();
          t.timeWait = o.value().timeWait();
          if (!o.value().drift().isEmpty()) {
            for (SysctlApplier.Drift d : o.value().drift()) {
              LOG.warn("policy={} node={} pod={} drift {} is {} (wanted {}); putting it back", policy, node, t.shown(),
                  d.sysctl().dottedName(), d.actual(), d.desired());
            }
            drifted.add(t);
          }
        }
        case GONE -> {
          byInode.remove(t.ref.inode());
          gone(t);
        }
        default -> {
          t.census = null;
          t.timeWait = 0;
          LOG.debug("policy={} node={} census of {} {}: {}", policy, node, t.shown(), t.ref.label(), o.error());
        }
      }
    }
    drifted.forEach(this::tune);
    if (tuning && pods.synced() && mode == Mode.Enforce) {
      for (Tracked t : List.copyOf(byInode.values())) {
        if (t.selected && t.state == State.FAILED && t.pod != null) {
          tune(t); // a failed write may have been transient
        }
      }
    }
    return report(measured + (nodeMeasured ? 1 : 0));
  }

  /** What one visit to a namespace found: its census (null when it holds nothing worth enumerating), and drift. */
  private record Visit(CensusReport census, long timeWait, List<SysctlApplier.Drift> drift) {}

  /**
   * Inside a namespace, on the runner's worker: sockstat first (O(1)); the per-destination
   * enumeration only when the namespace holds TIME_WAIT sockets or many TCP sockets. A netlink
   * SOCK_DIAG dump walks the kernel's established hash, which all namespaces share (unless
   * tcp_child_ehash_entries gives them their own), so it costs the same few milliseconds in an
   * empty namespace as in a busy one: skipping it for idle pods is what keeps a node of idle pods
   * cheap. Then, for a tuned pod, the drift check in the same visit.
   */
  private Visit visit(Tracked tuned) throws IOException {
    java.nio.file.Path net = ProcNet.netDir();
    String sockstat = ProcFiles.read(net.resolve("sockstat"));
    long tw = Sockstat.timeWait(sockstat).orElse(-1);
    long inUse = Sockstat.value(sockstat, "TCP", "inuse").orElse(0);
    try {
      inUse += Sockstat.value(ProcFiles.read(net.resolve("sockstat6")), "TCP6", "inuse").orElse(0);
    } catch (java.nio.file.NoSuchFileException e) {
      // no IPv6 in this kernel
    }
    CensusReport report = tw != 0 || inUse >= ENUMERATE_AT_SOCKETS ? podCensus.take(1) : null;
    List<SysctlApplier.Drift> drift = tuned == null ? List.of()
        : SysctlApplier.detectDrift(new ProcSysctls(), tuned.applied);
    return new Visit(report, report != null ? report.timeWaitTotal() : Math.max(0, tw), drift);
  }

  /**
   * The policy lets go of the node (deleted, or no longer this node's): gives every pod namespace
   * this policy tuned back to its originals, drops the journals of namespaces that are gone, and
   * never tunes a pod again in this run.
   */
  public void letGo(String why) throws IOException {
    tuning = false;
    List<PodJournals.Key> keys = journals.list();
    scanAndMap();
    for (PodJournals.Key key : keys) {
      Tracked t = byInode.get(key.inode());
      if (t == null || !key.uid().equals(t.uid)) {
        dropQuietly(key, "pod uid " + key.uid() + " net:[" + key.inode() + "]", "the namespace is gone");
        continue;
      }
      if (t.pod == null) {
        pods.pod(t.uid).ifPresent(p -> t.pod = p);
      }
      giveBack(t, why);
    }
    for (Tracked t : byInode.values()) {
      t.state = State.UNTUNED;
      t.selected = false;
      t.refusals = List.of();
      t.failure = null;
    }
  }

  /**
   * True while a pod this policy selects is on the node (per the API) but its namespace has not
   * been found yet: a new pod whose sandbox is being set up. Only then is the node scanned every
   * second; otherwise pods' changes (informer events) and the census trigger the scans. No system
   * call: the node's pods against what the last scan found.
   */
  public boolean waitingForPods() {
    if (!tuning || !pods.synced()) {
      return false; // the informer's first list triggers a rescan when it arrives
    }
    Set<String> found = new HashSet<>();
    for (Tracked t : byInode.values()) {
      if (t.uid != null) {
        found.add(t.uid);
      }
    }
    for (PodInfo p : pods.all()) {
      if (!p.finished() && !found.contains(p.uid()) && PodSelection.selects(spec, p, namespaceLabelsOf(p))) {
        return true;
      }
    }
    return false;
  }

  private Map<String, String> namespaceLabelsOf(PodInfo pod) {
    return spec.getNamespaceSelector() == null ? Map.of() : pods.namespaceLabels(pod.namespace());
  }

  /** Average wall time of one scan so far, in microseconds (for the log and the bench). */
  public long averageScanMicros() {
    return scans == 0 ? 0 : scanNanos / scans / 1000;
  }

  @Override
  public void close() {
    runner.close();
  }

  // ---- finding and mapping -------------------------------------------------------------------

  private void scanAndMap() throws IOException {
    scanAndMap(false);
  }

  /** @param remapAll ask every unmapped namespace's processes again, changed or not (once per census) */
  private void scanAndMap(boolean remapAll) throws IOException {
    long t0 = System.nanoTime();
    List<NetnsRef> refs = scanner.scan();
    Set<Long> seen = new HashSet<>();
    for (NetnsRef ref : refs) {
      if (runner.refuses(ref)) {
        continue; // the node's own namespace (and this process's): measured by the node path
      }
      seen.add(ref.inode());
      Tracked t = byInode.get(ref.inode());
      if (t == null) {
        t = new Tracked(ref);
        byInode.put(ref.inode(), t);
        map(t);
        continue;
      }
      t.ref = ref;
      if (t.uid == null) {
        // A process can be moved into its pod's cgroup after it entered the namespace.
        if (remapAll || !ref.pids().equals(t.unmappedPids)) {
          map(t);
        }
      } else if (!ref.pids().isEmpty() && t.uidPids.stream().noneMatch(ref.pids()::contains)) {
        // None of the processes the pod was read from is left: a reused inode, perhaps.
        String before = t.uid;
        map(t);
        if (!before.equals(t.uid)) {
          Tracked old = new Tracked(ref);
          old.uid = before;
          old.pod = t.pod;
          old.state = t.state;
          gone(old);
          Tracked fresh = new Tracked(ref);
          fresh.uid = t.uid;
          fresh.uidPids = t.uidPids;
          byInode.put(ref.inode(), fresh);
        }
      }
    }
    for (Iterator<Map.Entry<Long, Tracked>> it = byInode.entrySet().iterator(); it.hasNext(); ) {
      var e = it.next();
      if (!seen.contains(e.getKey())) {
        it.remove();
        gone(e.getValue());
      }
    }
    scans++;
    scanNanos += System.nanoTime() - t0;
  }

  private void map(Tracked t) {
    t.uid = null;
    t.uidPids = List.of();
    int asked = 0;
    for (int pid : t.ref.pids()) {
      if (asked++ >= CGROUP_READS_PER_NAMESPACE) {
        break;
      }
      Optional<String> uid = PodCgroups.podUid(pid);
      if (uid.isPresent()) {
        t.uid = uid.get();
        t.uidPids = List.copyOf(t.ref.pids());
        pods.pod(t.uid).ifPresent(p -> t.pod = p);
        t.unmappedPids = null;
        return;
      }
    }
    t.unmappedPids = List.copyOf(t.ref.pids());
  }

  /** The namespace is gone: whatever was kept for it goes too. */
  private void gone(Tracked t) {
    PodJournals.Key key = t.key();
    if (key != null && journals.exists(key)) {
      dropQuietly(key, t.shown() + " " + t.ref.label(), "the namespace is gone (the pod went away)");
    } else if (t.state != State.UNTUNED) {
      LOG.info("policy={} node={} pod={} {} is gone", policy, node, t.shown(), t.ref.label());
    }
  }

  private void dropQuietly(PodJournals.Key key, String what, String why) {
    try {
      journals.drop(key);
      LOG.info("policy={} node={} pod={} {}: dropped its journal of originals", policy, node, what, why);
    } catch (IOException e) {
      LOG.warn("policy={} node={} pod={} cannot drop its journal: {}", policy, node, what, IoErrors.describe(e));
    }
  }

  // ---- tuning --------------------------------------------------------------------------------

  private Map<Sysctl, String> desiredFor(PodInfo pod) {
    Map<Sysctl, String> out = new EnumMap<>(Sysctl.class);
    out.putAll(desired);
    pod.declared().forEach(out::remove);
    return out;
  }

  private List<PodRefusal> declaredRefusals(PodInfo pod) {
    List<PodRefusal> out = new ArrayList<>();
    for (Sysctl s : desired.keySet()) {
      if (pod.declared().contains(s)) {
        out.add(new PodRefusal(pod.shown(), s.dottedName(), POD_DECLARES_SYSCTL,
            "the pod sets " + s.dottedName() + " itself in securityContext.sysctls; left as the pod has it"));
      }
    }
    return out;
  }

  private void tune(Tracked t) {
    tune(t, true);
  }

  private void tune(Tracked t, boolean firstAttempt) {
    PodInfo pod = t.pod;
    PodJournals.Key key = t.key();
    TuningRequest request = new TuningRequest(policy, desiredFor(pod), facts.kernel(), facts.nat(),
        Boolean.TRUE.equals(spec.getAssumeNat()), t.census == null ? Set.of() : t.census.listeningPorts());
    List<PodRefusal> refusals = new ArrayList<>(declaredRefusals(pod));
    try {
      if (mode == Mode.DryRun) {
        Plan plan = runner.run(t.ref, ref -> {
          SysctlApplier applier = new SysctlApplier(new ProcSysctls(), journals.inside(key, ref.entry()));
          if (journals.exists(key)) {
            RevertResult r = applier.revert(policy); // DryRun writes nothing of its own: give back first
            if (r.outcome() == RevertResult.Outcome.Reverted) {
              LOG.info("policy={} node={} pod={} DryRun: gave back {} sysctl(s) applied earlier", policy, node, pod.shown(), r.sysctls().size());
            }
          }
          return request.planFor(new ProcSysctls().readAll());
        });
        for (PlannedSysctl p : plan.refusals()) {
          refusals.add(new PodRefusal(pod.shown(), p.sysctl().dottedName(), p.reason(), p.message()));
        }
        t.anyInPlace = plan.sysctls().stream().anyMatch(p -> p.action() != Action.Refuse);
        t.state = State.PLANNED;
        t.refusals = refusals;
        t.failure = null;
        for (PlannedSysctl p : plan.changes()) {
          LOG.info("policy={} node={} pod={} DryRun: would set {} {}->{}", policy, node, pod.shown(), p.sysctl().dottedName(), p.current(), p.desired());
        }
        return;
      }
      t.mayHaveJournal = true;
      ApplyResult result = runner.run(t.ref, ref -> new SysctlApplier(new ProcSysctls(), journals.inside(key, ref.entry())).apply(request));
      boolean inPlace = false;
      for (SysctlOutcome o : result.sysctls()) {
        switch (o.status()) {
          case Applied -> {
            inPlace = true;
            LOG.info("policy={} node={} pod={} applied {} {}->{}", policy, node, pod.shown(), o.sysctl().dottedName(), show(o.before()), show(o.after()));
          }
          case AlreadySet -> inPlace = true;
          case Refused, Missing -> {
            refusals.add(new PodRefusal(pod.shown(), o.sysctl().dottedName(), o.reason(), o.message()));
            LOG.warn("policy={} node={} pod={} refused {}={}: {}", policy, node, pod.shown(), o.sysctl().dottedName(), o.target(), o.message());
          }
          case Failed, RolledBack, NotAttempted -> refusals.add(new PodRefusal(pod.shown(), o.sysctl().dottedName(), WRITE_FAILED, o.message()));
          default -> { }
        }
      }
      t.refusals = refusals;
      t.anyInPlace = inPlace;
      if (result.succeeded()) {
        t.applied = result.plan();
        t.state = State.TUNED;
        t.failure = null;
      } else {
        failed(t, result.failure().orElse("a write failed"));
      }
    } catch (NamespaceGoneException e) {
      LOG.info("policy={} node={} pod={} {} vanished before it could be tuned", policy, node, pod.shown(), t.ref.label());
      byInode.remove(t.ref.inode());
      gone(t);
    } catch (JournalForOtherNamespaceException e) {
      // The pod's sandbox was recreated under the same inode: those originals were never this
      // namespace's. Forget them and tune it as the new namespace it is.
      dropQuietly(key, pod.shown() + " " + t.ref.label(), "its journal was written for an earlier namespace with this inode");
      if (firstAttempt) {
        tune(t, false);
      } else {
        t.refusals = refusals;
        failed(t, IoErrors.describe(e));
      }
    } catch (IOException | RuntimeException e) {
      t.refusals = refusals;
      failed(t, IoErrors.describe(e));
    }
  }

  /** Logged once per failure, not at every retry: a pod that cannot be tuned must not flood the log. */
  private void failed(Tracked t, String why) {
    if (!why.equals(t.failure)) {
      LOG.error("policy={} node={} pod={} apply failed, rolled back: {}", policy, node, t.shown(), why);
    }
    t.failure = why;
    t.state = State.FAILED;
    t.anyInPlace = false;
  }

  private void giveBack(Tracked t, String why) {
    PodJournals.Key key = t.key();
    boolean hadJournal = journals.exists(key);
    try {
      if (hadJournal) {
        RevertResult r = runner.run(t.ref, ref -> new SysctlApplier(new ProcSysctls(), journals.inside(key, ref.entry())).revert(policy));
        for (SysctlOutcome o : r.sysctls()) {
          if (o.status() == SysctlOutcome.Status.Restored) {
            LOG.info("policy={} node={} pod={} restored {} {}->{} ({})", policy, node, t.shown(), o.sysctl().dottedName(),
                show(o.before()), show(o.after()), why);
          } else if (o.status() == SysctlOutcome.Status.ChangedByHand) {
            LOG.warn("policy={} node={} pod={} left {} alone: {}", policy, node, t.shown(), o.sysctl().dottedName(), o.message());
          }
        }
        if (!r.succeeded()) {
          LOG.error("policy={} node={} pod={} revert incomplete: {}", policy, node, t.shown(), r.message());
        } else if (r.outcome() == RevertResult.Outcome.OwnedByAnotherPolicy) {
          LOG.info("policy={} node={} pod={} {}: {}", policy, node, t.shown(), why, r.message());
        } else {
          journals.drop(key); // the journal is gone with the revert; its directory and lock go too
        }
      }
    } catch (NamespaceGoneException e) {
      byInode.remove(t.ref.inode());
      gone(t);
    } catch (JournalForOtherNamespaceException e) {
      // Originals of an earlier namespace under this inode: nothing of them belongs here.
      dropQuietly(key, t.shown() + " " + t.ref.label(), "its journal was written for an earlier namespace with this inode (nothing restored)");
    } catch (IOException | RuntimeException e) {
      LOG.error("policy={} node={} pod={} cannot give back ({}): {}", policy, node, t.shown(), why, IoErrors.describe(e));
    }
    t.state = State.UNTUNED;
    t.applied = null;
    t.refusals = List.of();
    t.failure = null;
    t.anyInPlace = false;
  }

  // ---- reporting -----------------------------------------------------------------------------

  private Report report(int namespaces) {
    List<PodPressure> pressures = new ArrayList<>();
    int selected = 0;
    int tunedCount = 0;
    int refused = 0;
    int failed = 0;
    List<PodRefusal> refusals = new ArrayList<>();
    for (Tracked t : byInode.values()) {
      if (t.uid != null && t.pod == null) {
        pods.pod(t.uid).ifPresent(p -> t.pod = p);
      }
      if (t.pod != null && t.census != null && t.census.timeWaitTotal() > 0 && !t.pod.hostNetwork()) {
        pressures.add(NodeStatusFactory.podPressure(t.census, t.pod.shown(), t.ref.inode()));
      }
      if (t.selected) {
        selected++;
        if ((t.state == State.TUNED || t.state == State.PLANNED) && t.anyInPlace) {
          tunedCount++;
        }
        if (t.state == State.FAILED) {
          failed++;
        }
        if (t.refusals.stream().anyMatch(r -> !WRITE_FAILED.equals(r.getReason()))) {
          refused++;
        }
        refusals.addAll(t.refusals);
      }
    }
    pressures.sort(Comparator.comparingDouble(PodPressure::getMaxDestinationPressure).reversed()
        .thenComparing(Comparator.comparingLong(PodPressure::getTimeWait).reversed())
        .thenComparing(PodPressure::getPod));
    refusals.sort(Comparator.comparing(PodRefusal::getPod).thenComparing(PodRefusal::getSysctl));
    return new Report(namespaces, pressures, spec.selectsPods() ? new PodCounts(selected, tunedCount, refused, failed) : null,
        refusals.subList(0, Math.min(MAX_REFUSALS, refusals.size())));
  }

  private static String show(String value) {
    return value != null && value.contains(" ") ? "\"" + value + "\"" : String.valueOf(value);
  }
}
