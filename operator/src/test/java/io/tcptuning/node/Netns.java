package io.tcptuning.node;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * A throwaway named network namespace for tests ({@code ip netns add}), loopback up. Commands run
 * inside it through {@code ip netns exec}; {@link #close()} deletes it, which also frees every
 * TIME_WAIT socket left in it. Never touches the host namespace.
 */
public final class Netns implements AutoCloseable {
  private final String name;

  private Netns(String name) {
    this.name = name;
  }

  /** True when running as root, which {@code ip netns add} needs. */
  public static boolean canCreate() {
    try {
      return ((Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid")) == 0;
    } catch (IOException | UnsupportedOperationException e) {
      return false;
    }
  }

  public static Netns create(String prefix) throws IOException, InterruptedException {
    String name = prefix + "-" + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt());
    run(List.of("ip", "netns", "add", name));
    var ns = new Netns(name);
    try {
      ns.exec("ip", "link", "set", "lo", "up");
    } catch (IOException | RuntimeException e) {
      ns.close();
      throw e;
    }
    return ns;
  }

  public String name() {
    return name;
  }

  /** Runs a command inside the namespace; its standard output, or an exception on exit != 0. */
  public String exec(String... command) throws IOException, InterruptedException {
    return run(wrap(List.of(command)));
  }

  /** Runs a shell snippet inside the namespace. */
  public String sh(String script) throws IOException, InterruptedException {
    return exec("sh", "-c", script);
  }

  /** Writes a sysctl of THIS namespace (never the host's: the write runs inside it). */
  public void sysctl(String dottedName, String value) throws IOException, InterruptedException {
    if (!dottedName.matches("[a-z0-9_.]+") || !value.matches("[0-9 ]+")) {
      throw new IllegalArgumentException("refusing odd sysctl " + dottedName + "=" + value);
    }
    sh("echo '" + value + "' > /proc/sys/" + dottedName.replace('.', '/'));
  }

  /** A process builder for a command inside the namespace (for long-running helpers). */
  public ProcessBuilder builder(List<String> command) {
    return new ProcessBuilder(wrap(command));
  }

  /** The command line of a JVM with the test classpath running {@code mainClass}. */
  public static List<String> java(String mainClass, String... args) {
    var cmd = new ArrayList<String>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("--enable-native-access=ALL-UNNAMED");
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(mainClass);
    cmd.addAll(List.of(args));
    return cmd;
  }

  /**
   * Runs {@code work} on a fresh platform thread that first setns(2)'s into this namespace. A
   * network namespace can be entered per thread, so the test JVM itself stays in the host's; the
   * thread ends with the work and never serves anything else.
   */
  public <T> T inside(Callable<T> work) throws Exception {
    var task =
        new FutureTask<T>(
            () -> {
              enter(Path.of("/run/netns", name));
              return work.call();
            });
    Thread t = Thread.ofPlatform().name("netns-" + name).start(task);
    try {
      return task.get();
    } catch (ExecutionException e) {
      if (e.getCause() instanceof Exception cause) {
        throw cause;
      }
      throw e;
    } finally {
      t.join();
    }
  }

  private static final int O_RDONLY_CLOEXEC = 0x80000;
  private static final int CLONE_NEWNET = 0x40000000;

  private static void enter(Path nsFile) throws Exception {
    try {
      setns(nsFile);
    } catch (Exception | Error e) {
      throw e;
    } catch (Throwable t) {
      throw new IOException(t);
    }
  }

  private static void setns(Path nsFile) throws Throwable {
    Linker linker = Linker.nativeLinker();
    MethodHandle open = linker.downcallHandle(linker.defaultLookup().find("open").orElseThrow(), FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
    MethodHandle setns = linker.downcallHandle(linker.defaultLookup().find("setns").orElseThrow(), FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
    MethodHandle close = linker.downcallHandle(linker.defaultLookup().find("close").orElseThrow(), FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment path = arena.allocateFrom(nsFile.toString());
      int fd = (int) open.invokeExact(path, O_RDONLY_CLOEXEC);
      if (fd < 0) {
        throw new IOException("cannot open " + nsFile);
      }
      try {
        if ((int) setns.invokeExact(fd, CLONE_NEWNET) != 0) {
          throw new IOException("setns(" + nsFile + ") failed");
        }
      } finally {
        int ignored = (int) close.invokeExact(fd);
      }
    }
  }

  private List<String> wrap(List<String> command) {
    var cmd = new ArrayList<String>(List.of("ip", "netns", "exec", name));
    cmd.addAll(command);
    return cmd;
  }

  private static String run(List<String> command) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.PIPE).start();
    p.getOutputStream().close();
    // Drain stderr on the side so a chatty command cannot block on a full pipe.
    var err = new StringBuilder();
    Thread drain = Thread.ofPlatform().daemon().start(() -> {
      try {
        err.append(new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8));
      } catch (IOException ignored) {
        // the process died; its exit code tells
      }
    });
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(120, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new IOException("timed out: " + String.join(" ", command));
    }
    drain.join();
    if (p.exitValue() != 0) {
      throw new IOException("exit " + p.exitValue() + " from " + String.join(" ", command) + ": " + err + out);
    }
    return out;
  }

  @Override
  public void close() throws IOException, InterruptedException {
    run(List.of("ip", "netns", "del", name));
  }
}
