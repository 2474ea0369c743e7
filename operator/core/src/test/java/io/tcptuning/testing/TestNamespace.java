package io.tcptuning.testing;

import io.tcptuning.domain.Sysctl;
import io.tcptuning.node.NetNamespace;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * A named network namespace for a test ({@code ip netns add}), loopback up, deleted on close
 * together with every socket in it. Commands run inside with {@code ip netns exec}; in-process
 * work runs inside on a thread of its own ({@link #inside}). Nothing here writes to the host's
 * namespace.
 */
public final class TestNamespace implements AutoCloseable {
  private final String name;

  private TestNamespace(String name) {
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

  public static TestNamespace create(String prefix) throws IOException, InterruptedException {
    return createNamed("tcptune-" + prefix + "-" + Long.toHexString(ThreadLocalRandom.current().nextLong() & 0xffffffL));
  }

  /** A namespace of exactly this name (one a test deleted and makes again, say). */
  public static TestNamespace createNamed(String name) throws IOException, InterruptedException {
    run(List.of("ip", "netns", "add", name)).check();
    TestNamespace ns = new TestNamespace(name);
    try {
      ns.exec("ip", "link", "set", "lo", "up").check();
      // The guard every write in the tests rests on: the namespace is not the host's.
      String inside = ns.exec("readlink", "/proc/self/ns/net").check().stdout().strip();
      String host = Files.readSymbolicLink(Path.of("/proc/self/ns/net")).toString();
      if (inside.equals(host)) {
        throw new IllegalStateException("ip netns exec did not enter a new namespace (" + inside + ")");
      }
      // Tests count TIME_WAIT sockets and the ports they hold, so every TIME_WAIT socket must
      // live its 60 s. Now and then a handshake ACK arrives late (the client thread moved CPU
      // between connect and close), finds the server side closed, and the RST it draws kills the
      // client's TIME_WAIT early (RFC 1337 assassination): seen on Linux 6.18 as a few sockets
      // lost, equal to TcpOutRsts, and as 1002 connections through a 1000-port range.
      // tcp_rfc1337=1 makes TIME_WAIT ignore such RSTs.
      ns.setSysctl("net.ipv4.tcp_rfc1337", "1");
    } catch (IOException | InterruptedException | RuntimeException e) {
      ns.close();
      throw e;
    }
    return ns;
  }

  public String name() {
    return name;
  }

  /** For setns(2): {@code /run/netns/NAME}. */
  public Path path() {
    return Path.of("/run/netns", name);
  }

  public Result exec(String... command) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", name));
    cmd.addAll(List.of(command));
    return run(cmd);
  }

  /** The CLI's main class ({@code tcptune}), on the class path of the CLI module's tests. */
  public static final String CLI_MAIN = "io.tcptuning.cli.Main";

  /** Runs a Java main class of this test classpath inside the namespace. */
  public Result java(Class<?> mainClass, String... args) throws IOException, InterruptedException {
    return java(mainClass.getName(), args);
  }

  private Result java(String mainClass, String... args) throws IOException, InterruptedException {
    return exec(javaCommand(List.of("-XX:TieredStopAtLevel=1"), mainClass, args).toArray(String[]::new));
  }

  /** Runs {@code tcptune ARGS} ({@link #CLI_MAIN}) in a JVM inside the namespace. */
  public Result cli(String... args) throws IOException, InterruptedException {
    return java(CLI_MAIN, args);
  }

  /** The command line of a JVM running a main class of this test classpath, with extra JVM options. */
  public static List<String> javaCommand(List<String> jvmOptions, Class<?> mainClass, String... args) {
    return javaCommand(jvmOptions, mainClass.getName(), args);
  }

  /** The command line of a JVM running a main class (by name) of this test classpath, with extra JVM options. */
  public static List<String> javaCommand(List<String> jvmOptions, String mainClass, String... args) {
    List<String> cmd = new ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(), "--enable-native-access=ALL-UNNAMED", "-XX:+UseSerialGC"));
    cmd.addAll(jvmOptions);
    cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), mainClass));
    cmd.addAll(List.of(args));
    return cmd;
  }

  /**
   * A process builder for a command inside the namespace, for processes the test talks to or
   * kills. {@code ip netns exec} execs the command, so the started process is the command itself:
   * a signal sent to it reaches the command.
   */
  public ProcessBuilder builder(List<String> command) {
    List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", name));
    cmd.addAll(command);
    return new ProcessBuilder(cmd);
  }

  /**
   * Runs {@code work} on a fresh platform thread that first enters this namespace, with the
   * production {@link NetNamespace#callInside}. setns(2) moves only that thread, so the test JVM
   * stays in the host's namespace; the thread ends with the work and never serves anything else.
   */
  public <T> T inside(Callable<T> work) throws Exception {
    return NetNamespace.callInside(path(), NetNamespace.inode(path()), work);
  }

  /** Every allowlisted sysctl that exists in this namespace, canonical, read in one command. */
  public Map<Sysctl, String> sysctls() throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>(List.of("sh", "-c",
        "for f; do if [ -e \"/proc/sys/$f\" ]; then printf '%s=' \"$f\"; cat \"/proc/sys/$f\" || exit 1; fi; done", "sh"));
    for (Sysctl s : Sysctl.values()) {
      cmd.add(s.procPath());
    }
    Map<Sysctl, String> out = new EnumMap<>(Sysctl.class);
    for (String line : exec(cmd.toArray(String[]::new)).check().stdout().split("\n")) {
      if (line.isEmpty()) {
        continue;
      }
      int eq = line.indexOf('=');
      String path = line.substring(0, eq);
      Sysctl s = Arrays.stream(Sysctl.values()).filter(x -> x.procPath().equals(path)).findFirst().orElseThrow();
      out.put(s, Sysctl.canonical(line.substring(eq + 1)));
    }
    return out;
  }

  /** A sysctl of this namespace, read through /proc/sys inside it. */
  public String sysctl(String dotted) throws IOException, InterruptedException {
    return exec("cat", "/proc/sys/" + dotted.replace('.', '/')).check().stdout().strip().replaceAll("\\s+", " ");
  }

  public void setSysctl(String dotted, String value) throws IOException, InterruptedException {
    exec("sysctl", "-q", "-w", dotted + "=" + value).check();
  }

  @Override
  public void close() throws IOException {
    try {
      run(List.of("ip", "netns", "del", name));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** The host namespace's value, for "the host is untouched" assertions. */
  public static String hostSysctl(String dotted) throws IOException {
    return io.tcptuning.node.ProcFiles.read(Path.of("/proc/sys", dotted.replace('.', '/'))).strip().replaceAll("\\s+", " ");
  }

  /** Every allowlisted sysctl that exists in the host namespace, canonical. */
  public static Map<Sysctl, String> hostSysctls() throws IOException {
    Map<Sysctl, String> out = new EnumMap<>(Sysctl.class);
    for (Sysctl s : Sysctl.values()) {
      Path p = Path.of("/proc/sys", s.procPath());
      if (Files.exists(p)) {
        out.put(s, Sysctl.canonical(io.tcptuning.node.ProcFiles.read(p)));
      }
    }
    return out;
  }

  public record Result(List<String> command, int exitCode, String stdout, String stderr) {
    public Result check() {
      if (exitCode != 0) {
        throw new IllegalStateException(String.join(" ", command) + " exited " + exitCode + ": " + stderr + stdout);
      }
      return this;
    }

    /** For assertion messages: the output without the (class-path-long) command line. */
    @Override
    public String toString() {
      return "exit " + exitCode + "\n--- stdout\n" + stdout + "--- stderr\n" + stderr;
    }
  }

  /** Runs a command on the host (mount, umount of a test's own paths), failing when it fails. */
  public static Result runChecked(List<String> command) throws IOException, InterruptedException {
    return run(command).check();
  }

  static Result run(List<String> command) throws IOException, InterruptedException {
    Path out = Files.createTempFile("tcptune-ns", ".out");
    Path err = Files.createTempFile("tcptune-ns", ".err");
    try {
      Process p = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
      if (!p.waitFor(5, TimeUnit.MINUTES)) {
        p.destroyForcibly();
        throw new IOException(String.join(" ", command) + " timed out");
      }
      return new Result(command, p.exitValue(), Files.readString(out, StandardCharsets.UTF_8), Files.readString(err, StandardCharsets.UTF_8));
    } finally {
      Files.deleteIfExists(out);
      Files.deleteIfExists(err);
    }
  }
}
