package io.tcptuning.node.netns;

import io.tcptuning.node.IoErrors;
import io.tcptuning.node.NetNamespace;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs work inside other network namespaces on a dedicated platform thread, and only there.
 *
 * <p>For each namespace the worker thread (1) opens a path to it ({@link NetnsRef#entry()}, then
 * its other bind mounts, then {@code /proc/<pid>/ns/net} of its processes) as a file descriptor,
 * (2) checks that the descriptor's inode is {@link NetnsRef#inode()}: a path that is gone or now
 * names another namespace (PID or bind-mount reuse) gives {@link NamespaceGoneException} and the
 * task never runs, (3) setns(2)s into it, (4) checks {@code /proc/thread-self/ns/net}, (5) runs
 * the task, and (6) returns to its home namespace through a descriptor it has held open since it
 * started, and checks that too. A worker that cannot get home is retired: it ends, so no thread
 * stays in a foreign namespace, and the next call starts a fresh worker.
 *
 * <p>Home is the network namespace of the thread that creates the runner; workers are started by
 * the calling thread (threads inherit their creator's namespace) and refuse to work unless they
 * find themselves at home. A runner made {@link #forPods} refuses the home namespace and this
 * process's own ({@link HostNamespaceRefusedException}): the pod path can never write the node's
 * namespace. {@link #forAllNamespaces} allows it, for measuring.
 *
 * <p>One call at a time; calls from several threads queue. To work in several namespaces at once,
 * use several runners (each with its worker), all made from a thread at home, sharing the
 * namespaces through {@link #runInEach(Supplier, Task)}.
 */
public final class NetnsRunner implements AutoCloseable {
  /** Work done inside a namespace, on the runner's worker thread. */
  @FunctionalInterface
  public interface Task<T> {
    T call(NetnsRef ref) throws IOException;
  }

  /** How one namespace of {@link #runInEach} went. */
  public enum Status {
    /** The task ran inside the namespace and returned. */
    DONE,
    /** The namespace is gone (or its paths name others now): nothing ran. */
    GONE,
    /** The host namespace on a pod runner: nothing ran. */
    REFUSED,
    /** It could not be entered, or the task threw: {@code error} says why. */
    FAILED
  }

  /**
   * One namespace's outcome.
   *
   * @param value the task's result when {@code DONE}, else null
   * @param error what went wrong, in words (no class names), else null
   */
  public record Outcome<T>(NetnsRef ref, Status status, T value, String error) {}

  private static final Logger LOG = LoggerFactory.getLogger(NetnsRunner.class);
  private static final long START_TIMEOUT_SECONDS = 10;

  private final String name;
  private final boolean allowHost;
  private final long homeInode;
  private final long processInode;
  private Worker worker;
  private int workersStarted;
  private final AtomicInteger workersRetired = new AtomicInteger();
  private boolean closed;
  /** Tests only: where a worker goes instead of home, to prove that a lost worker is retired. */
  volatile Path returnHomeDetour;

  private NetnsRunner(String name, boolean allowHost) throws IOException {
    this.name = name;
    this.allowHost = allowHost;
    this.homeInode = NetNamespace.currentInode();
    this.processInode = NetNamespace.linkInode(Path.of("/proc/self/ns/net"));
  }

  /**
   * A runner for pods' namespaces: refuses the calling thread's namespace and this process's
   * own. Create it from a thread in the node's namespace.
   */
  public static NetnsRunner forPods(String name) throws IOException {
    return new NetnsRunner(name, false);
  }

  /** A runner that may also work in its home namespace (for measuring every namespace, the node's included). */
  public static NetnsRunner forAllNamespaces(String name) throws IOException {
    return new NetnsRunner(name, true);
  }

  /** The namespace the workers start in and return to. */
  public long homeInode() {
    return homeInode;
  }

  /** True when this runner refuses {@code ref} as the node's own namespace. */
  public boolean refuses(NetnsRef ref) {
    return !allowHost && (ref.host() || ref.inode() == homeInode || ref.inode() == processInode);
  }

  /**
   * Runs {@code task} inside {@code ref}'s namespace and brings the worker back home.
   *
   * @throws HostNamespaceRefusedException a pod runner was given the node's namespace
   * @throws NamespaceGoneException the namespace is gone: the task did not run
   * @throws NamespaceEntryException it exists but could not be entered: the task did not run
   * @throws IOException what the task threw, or no worker could be started at home
   */
  public synchronized <T> T run(NetnsRef ref, Task<T> task) throws IOException {
    if (refuses(ref)) {
      throw new HostNamespaceRefusedException(ref.inode());
    }
    return onWorker(w -> {
      try {
        w.enter(ref);
        return task.call(ref);
      } finally {
        w.goHome();
      }
    });
  }

  /**
   * Runs {@code task} in each namespace in turn on one thread, moving from namespace to namespace
   * and home once at the end. Never throws for one namespace: each gets an {@link Outcome}.
   *
   * @throws IOException only when no worker could be started at home
   */
  public <T> List<Outcome<T>> runInEach(List<NetnsRef> refs, Task<T> task) throws IOException {
    Iterator<NetnsRef> it = refs.iterator();
    return runInEach(() -> it.hasNext() ? it.next() : null, task);
  }

  /**
   * Like {@link #runInEach(List, Task)}, with the namespaces handed out one at a time: the worker
   * asks {@code next} for a namespace whenever it is done with the previous one, until it returns
   * null. Several runners can so share one list, each taking the next namespace when it is free,
   * so that a slow namespace holds up one worker and not a fixed share of the list. {@code next}
   * is called on the worker thread (it must be safe to call from several workers at once when
   * they share it), never again after it returned null, and not at all when no worker could be
   * started: the namespaces this runner did not take are left to the others.
   *
   * @return one outcome per namespace taken, in the order taken
   * @throws IOException only when no worker could be started at home
   */
  public synchronized <T> List<Outcome<T>> runInEach(Supplier<NetnsRef> next, Task<T> task) throws IOException {
    return onWorker(w -> {
      List<Outcome<T>> out = new ArrayList<>();
      try {
        for (NetnsRef ref; (ref = next.get()) != null; ) {
          out.add(w.runOne(ref, task));
        }
      } finally {
        w.goHome();
      }
      return out;
    });
  }

  /** Workers started so far (one, unless some were retired). */
  public synchronized int workersStarted() {
    return workersStarted;
  }

  /** Workers that could not get home and were ended. */
  public int workersRetired() {
    return workersRetired.get();
  }

  /** The current worker thread, if one is running (for tests). */
  synchronized Thread workerThread() {
    return worker == null ? null : worker.thread;
  }

  @Override
  public synchronized void close() {
    closed = true;
    if (worker != null) {
      worker.stop();
      worker = null;
    }
  }

  private interface Job<T> {
    T run(Worker w) throws IOException;
  }

  private <T> T onWorker(Job<T> job) throws IOException {
    if (closed) {
      throw new IllegalStateException("namespace runner " + name + " is closed");
    }
    Worker w = worker();
    if (Thread.currentThread() == w.thread) {
      throw new IllegalStateException("namespace runner " + name + " called from its own worker");
    }
    FutureTask<T> f = new FutureTask<>(() -> job.run(w));
    w.jobs.add(f);
    try {
      return f.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted while waiting for namespace runner " + name);
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof IOException io) {
        throw io;
      }
      if (cause instanceof RuntimeException re) {
        throw re;
      }
      if (cause instanceof Error err) {
        throw err;
      }
      throw new IOException(cause);
    } finally {
      if (w.retired) {
        worker = null;
      }
    }
  }

  private Worker worker() throws IOException {
    if (worker != null && !worker.retired && worker.thread.isAlive()) {
      return worker;
    }
    // The new thread inherits this thread's namespace: start it only from home.
    long here = NetNamespace.currentInode();
    if (here != homeInode) {
      throw new IOException("cannot start a namespace worker from a thread in net:[" + here + "]; home is net:[" + homeInode + "]");
    }
    Worker w = new Worker();
    w.thread.start();
    try {
      w.started.get(START_TIMEOUT_SECONDS, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      w.stop();
      throw new InterruptedIOException("interrupted while starting namespace worker " + name);
    } catch (ExecutionException | TimeoutException e) {
      w.stop();
      throw new IOException("namespace worker " + name + " did not start: " + IoErrors.describe(e.getCause() == null ? e : e.getCause()), e);
    }
    workersStarted++;
    worker = w;
    return w;
  }

  private final class Worker implements Runnable {
    private static final Runnable STOP = () -> {};

    final BlockingQueue<Runnable> jobs = new LinkedBlockingQueue<>();
    final CompletableFuture<Void> started = new CompletableFuture<>();
    final Thread thread;
    volatile boolean retired;
    private NetNamespace.Handle home;

    Worker() {
      this.thread = Thread.ofPlatform().name(name + "-" + (workersStarted + 1)).daemon().unstarted(this);
    }

    @Override
    public void run() {
      try (NetNamespace.Handle h = NetNamespace.Handle.current()) {
        if (h.inode() != homeInode) {
          throw new IOException("worker started in net:[" + h.inode() + "], not at home net:[" + homeInode + "]");
        }
        home = h;
        started.complete(null);
        while (!retired) {
          Runnable job = jobs.take();
          if (job == STOP) {
            return;
          }
          job.run();
        }
      } catch (IOException | RuntimeException e) {
        started.completeExceptionally(e);
      } catch (InterruptedException e) {
        // stopped
      } finally {
        // Whatever is still queued can no longer run here.
        for (Runnable r; (r = jobs.poll()) != null; ) {
          if (r instanceof FutureTask<?> f) {
            f.cancel(false);
          }
        }
      }
    }

    void stop() {
      jobs.add(STOP);
    }

    /** One namespace of a {@link #runInEach} pass: entered and left there (the next entry or goHome moves on); never throws. */
    <T> Outcome<T> runOne(NetnsRef ref, Task<T> task) {
      if (refuses(ref)) {
        return new Outcome<>(ref, Status.REFUSED, null, new HostNamespaceRefusedException(ref.inode()).getMessage());
      }
      try {
        enter(ref);
      } catch (NamespaceGoneException e) {
        return new Outcome<>(ref, Status.GONE, null, e.getMessage());
      } catch (IOException | RuntimeException e) {
        return new Outcome<>(ref, Status.FAILED, null, IoErrors.describe(e));
      }
      try {
        return new Outcome<>(ref, Status.DONE, task.call(ref), null);
      } catch (IOException | RuntimeException e) {
        return new Outcome<>(ref, Status.FAILED, null, IoErrors.describe(e));
      }
    }

    /** Steps 1-4: open a path to it, check the inode, setns, check again. */
    void enter(NetnsRef ref) throws IOException {
      if (ref.inode() == homeInode) {
        // Only a runner that allows it gets here. Already home (the first of a pass): no setns,
        // which an unprivileged process could not do even to its own namespace.
        try {
          if (NetNamespace.currentInode() != homeInode) {
            home.enter();
          }
        } catch (IOException e) {
          throw new NamespaceEntryException(ref.inode(), "cannot return to net:[" + homeInode + "]: " + e.getMessage(), e);
        }
        return;
      }
      try (NetNamespace.Handle h = open(ref)) {
        try {
          h.enter();
        } catch (IOException e) {
          throw new NamespaceEntryException(ref.inode(), "cannot enter " + ref.label() + " through " + h.path() + ": " + e.getMessage(), e);
        }
      }
    }

    private NetNamespace.Handle open(NetnsRef ref) throws IOException {
      Set<Path> candidates = new LinkedHashSet<>();
      candidates.add(ref.entry());
      candidates.addAll(ref.bindMounts());
      for (int pid : ref.pids()) {
        candidates.add(NetnsScanner.PROC.resolve(Integer.toString(pid)).resolve("ns/net"));
      }
      IOException denied = null;
      for (Path p : candidates) {
        NetNamespace.Handle h;
        try {
          h = NetNamespace.Handle.open(p);
        } catch (NoSuchFileException e) {
          continue;
        } catch (AccessDeniedException e) {
          denied = e;
          continue;
        } catch (IOException e) {
          // Not a namespace (any more): an unmounted bind-mount file left behind, for one.
          continue;
        }
        if (h.inode() == ref.inode()) {
          return h;
        }
        h.close(); // the path names another namespace now
      }
      if (denied != null) {
        throw new NamespaceEntryException(ref.inode(), "cannot open " + ref.label() + ": " + IoErrors.describe(denied), denied);
      }
      throw new NamespaceGoneException(ref.inode(), ref.label() + " is gone (no path to it names it any more: " + ref.entry() + (candidates.size() > 1 ? " and " + (candidates.size() - 1) + " more" : "") + ")");
    }

    /** Step 6: back home, checked; a worker that cannot get there is retired. */
    void goHome() {
      try {
        Path detour = returnHomeDetour;
        if (detour != null) {
          NetNamespace.enter(detour);
        } else if (NetNamespace.currentInode() != homeInode) {
          home.enter();
        }
        long now = NetNamespace.currentInode();
        if (now != homeInode) {
          throw new IOException("thread is in net:[" + now + "]");
        }
      } catch (IOException | RuntimeException e) {
        retired = true;
        workersRetired.incrementAndGet();
        LOG.warn("namespace worker {} could not return to net:[{}] ({}); retiring it", thread.getName(), homeInode, IoErrors.describe(e));
      }
    }
  }
}
