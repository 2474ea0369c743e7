package io.tcptuning.cli;

import io.tcptuning.domain.Sysctl;
import io.tcptuning.node.ProcFiles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * A throwaway named network namespace ({@code ip netns add}) with loopback up, for running the
 * CLI against a real kernel without touching the host's sysctls. Everything that reads or writes
 * a sysctl runs inside it through {@code ip netns exec}; {@link #close()} deletes it.
 */
final class TestNamespace implements AutoCloseable {
  /** What a command inside the namespace did. */
  record Result(int exit, String out, String err) {
    @Override
    public String toString() {
      return "exit " + exit + "\n--- stdout\n" + out + "--- stderr\n" + err;
    }
  }

  private final String name;

  private TestNamespace(String name) {
    this.name = name;
  }

  static boolean root() {
    try {
      return ((Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid")) == 0;
    } catch (IOException | UnsupportedOperationException e) {
      return false;
    }
  }

  static TestNamespace create(String prefix) throws IOException, InterruptedException {
    String name = prefix + "-" + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt());
    check(run(List.of("ip", "netns", "add", name)));
    TestNamespace ns = new TestNamespace(name);
    try {
      check(ns.exec("ip", "link", "set", "lo", "up"));
      // The guard every write in these tests rests on: the namespace is not the host's.
      String inside = check(ns.exec("readlink", "/proc/self/ns/net")).out().strip();
      String host = Files.readSymbolicLink(Path.of("/proc/self/ns/net")).toString();
      if (inside.equals(host)) {
        throw new IllegalStateException("ip netns exec did not enter a new namespace (" + inside + ")");
      }
      return ns;
    } catch (IOException | InterruptedException | RuntimeException e) {
      ns.close();
      throw e;
    }
  }

  String name() {
    return name;
  }

  /** Runs a command inside the namespace. */
  Result exec(String... command) throws IOException, InterruptedException {
    return run(wrap(List.of(command)));
  }

  /** Runs {@code tcptune <args>} inside the namespace, as a separate JVM on the test class path. */
  Result cli(String... args) throws IOException, InterruptedException {
    return exec(java(Main.class.getName(), args));
  }

  /** A command line for a JVM running {@code mainClass} on the test class path. */
  static String[] java(String mainClass, String... args) {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("--enable-native-access=ALL-UNNAMED");
    // Short-lived JVMs: C1 only and one GC thread start faster on a busy build machine.
    cmd.add("-XX:TieredStopAtLevel=1");
    cmd.add("-XX:+UseSerialGC");
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(mainClass);
    cmd.addAll(List.of(args));
    return cmd.toArray(String[]::new);
  }

  /** Starts a long-running process inside the namespace. */
  Process start(String... command) throws IOException {
    return new ProcessBuilder(wrap(List.of(command))).redirectErrorStream(true).start();
  }

  /** A sysctl of this namespace as the kernel shows it, canonical; null when absent. */
  String sysctl(Sysctl s) throws IOException, InterruptedException {
    Result r = exec("cat", "/proc/sys/" + s.procPath());
    return r.exit() == 0 ? Sysctl.canonical(r.out()) : null;
  }

  /** Every allowlisted sysctl of this namespace. */
  Map<Sysctl, String> sysctls() throws IOException, InterruptedException {
    Map<Sysctl, String> m = new EnumMap<>(Sysctl.class);
    for (Sysctl s : Sysctl.values()) {
      String v = sysctl(s);
      if (v != null) {
        m.put(s, v);
      }
    }
    return m;
  }

  /** Sets a sysctl of this namespace (the write runs inside it, never in the host's). */
  void set(String dottedName, String value) throws IOException, InterruptedException {
    if (!dottedName.matches("[a-z0-9_.]+") || !value.matches("[0-9 ]+")) {
      throw new IllegalArgumentException("refusing odd sysctl " + dottedName + "=" + value);
    }
    check(exec("sh", "-c", "printf '%s\\n' \"$1\" > \"/proc/sys/$2\"", "sh", value, dottedName.replace('.', '/')));
  }

  /** The host's allowlisted sysctls, read by this JVM, which runs in the host namespace. */
  static Map<Sysctl, String> hostSysctls() throws IOException {
    Map<Sysctl, String> m = new EnumMap<>(Sysctl.class);
    for (Sysctl s : Sysctl.values()) {
      Path p = Path.of("/proc/sys", s.procPath());
      if (Files.exists(p)) {
        m.put(s, Sysctl.canonical(ProcFiles.read(p)));
      }
    }
    return m;
  }

  @Override
  public void close() throws IOException, InterruptedException {
    run(List.of("ip", "netns", "del", name));
  }

  private List<String> wrap(List<String> command) {
    List<String> all = new ArrayList<>(List.of("ip", "netns", "exec", name));
    all.addAll(command);
    return all;
  }

  static Result check(Result r) {
    if (r.exit() != 0) {
      throw new IllegalStateException("command failed: " + r);
    }
    return r;
  }

  private static Result run(List<String> command) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(command).start();
    p.getOutputStream().close();
    var err = new java.util.concurrent.CompletableFuture<String>();
    Thread.ofVirtual().start(() -> {
      try {
        err.complete(new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8));
      } catch (IOException e) {
        err.complete("(stderr unreadable: " + e + ")");
      }
    });
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(120, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new IllegalStateException("timed out: " + command);
    }
    return new Result(p.exitValue(), out, err.join());
  }
}
