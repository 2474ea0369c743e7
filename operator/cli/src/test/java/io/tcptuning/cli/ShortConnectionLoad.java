package io.tcptuning.cli;

import java.io.IOException;
import java.io.InputStream;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

/**
 * The workload of the high-churn scenario, run inside a test namespace as its own JVM.
 *
 * <ul>
 *   <li>{@code serve PORT [ADDRESS]}: a server (on loopback unless ADDRESS is given) that reads
 *       each connection to its end and closes after the client, so that TIME_WAIT lands on the
 *       client side, as with real clients.
 *   <li>{@code connect PORT COUNT}: COUNT short connections to 127.0.0.1:PORT, each closed by the
 *       client right after connect(). Prints {@code ok=N eaddrnotavail=N other=N first=...}, where
 *       eaddrnotavail counts connect() failing with errno 99 (Java: BindException "Cannot assign
 *       requested address").
 *   <li>{@code pace ADDRESS PORT RATE SECONDS}: the same short connections to ADDRESS:PORT at a
 *       fixed offered rate (connections per second) for SECONDS, paced by a schedule rather than
 *       by how fast connect() returns. Prints one {@code second=S ok=N eaddrnotavail=N other=N}
 *       line per second of the schedule, then
 *       {@code ok=N eaddrnotavail=N other=N elapsedMs=N maxLagMs=N stoppedMs=N first=...}.
 *   <li>{@code pace-until-errno99 ADDRESS PORT RATE SECONDS}: the same, ending at the first
 *       errno 99 ({@code stoppedMs}, counted from the start of the schedule).
 *   <li>{@code fill ADDRESS PORT RATE SECONDS}: {@code pace-until-errno99}, then waits for the
 *       first TIME_WAIT port to come back and prints {@code fitted=N backMs=N}.
 * </ul>
 */
public final class ShortConnectionLoad {
  static final String EADDRNOTAVAIL = "Cannot assign requested address";

  public static void main(String[] args) throws Exception {
    switch (args[0]) {
      case "serve" -> serve(Integer.parseInt(args[1]), args.length > 2 ? InetAddress.getByName(args[2]) : InetAddress.getLoopbackAddress());
      case "connect" -> connect(Integer.parseInt(args[1]), Integer.parseInt(args[2]));
      case "pace", "pace-until-errno99" -> pace(new InetSocketAddress(InetAddress.getByName(args[1]), Integer.parseInt(args[2])),
          Integer.parseInt(args[3]), Integer.parseInt(args[4]), args[0].equals("pace-until-errno99"));
      case "fill" -> fill(new InetSocketAddress(InetAddress.getByName(args[1]), Integer.parseInt(args[2])), Integer.parseInt(args[3]),
          Integer.parseInt(args[4]));
      default -> throw new IllegalArgumentException(
          "serve PORT [ADDRESS] | connect PORT COUNT | pace[-until-errno99] ADDRESS PORT RATE SECONDS | fill ADDRESS PORT RATE SECONDS");
    }
  }

  private static void serve(int port, InetAddress address) throws IOException {
    try (ServerSocket server = new ServerSocket()) {
      server.setReuseAddress(true);
      server.bind(new InetSocketAddress(address, port), 4096);
      System.out.println("listening " + port);
      System.out.flush();
      while (true) {
        Socket s = server.accept();
        Thread.ofVirtual().start(() -> drainAndClose(s));
      }
    }
  }

  private static void drainAndClose(Socket s) {
    try (s; InputStream in = s.getInputStream()) {
      byte[] buf = new byte[64];
      while (in.read(buf) >= 0) {
        // until the client's FIN
      }
    } catch (IOException e) {
      // a reset client is fine for this workload
    }
  }

  private static void connect(int port, int count) {
    var target = new InetSocketAddress(InetAddress.getLoopbackAddress(), port);
    int ok = 0;
    int eaddrnotavail = 0;
    int other = 0;
    var first = new AtomicReference<>("none");
    for (int i = 0; i < count; i++) {
      switch (attempt(target, first)) {
        case OK -> ok++;
        case EADDRNOTAVAIL -> eaddrnotavail++;
        case OTHER -> other++;
      }
    }
    System.out.println("ok=" + ok + " eaddrnotavail=" + eaddrnotavail + " other=" + other + " first=" + first.get());
  }

  /** Outcome of one connect() of the paced load. */
  private enum Outcome { OK, EADDRNOTAVAIL, OTHER }

  private static Outcome attempt(InetSocketAddress target, AtomicReference<String> first) {
    try (Socket s = new Socket()) {
      s.connect(target, 5000);
      return Outcome.OK;
    } catch (IOException e) {
      first.compareAndSet("none", e.getClass().getName() + ": " + e.getMessage());
      return e instanceof BindException && EADDRNOTAVAIL.equals(e.getMessage()) ? Outcome.EADDRNOTAVAIL : Outcome.OTHER;
    }
  }

  /**
   * Connection i of the schedule is due at start + i / rate. Workers take the next due connection
   * and wait for its time; when they fall behind they start it at once, and the lag is reported
   * so that a caller can tell an offered rate the machine could not keep up with. With
   * {@code stopAtErrno99} the schedule ends at the first errno 99: past that point the range is
   * full, and every further connect() scans all of it in vain, which burns CPU for nothing.
   */
  private static final class PacedLoad {
    final InetSocketAddress target;
    final int rate;
    final int seconds;
    final AtomicIntegerArray ok;
    final AtomicIntegerArray eaddrnotavail;
    final AtomicIntegerArray other;
    final AtomicLong next = new AtomicLong();
    final AtomicLong maxLag = new AtomicLong();
    final AtomicLong stoppedAt = new AtomicLong(-1);
    final AtomicReference<String> first = new AtomicReference<>("none");
    final long start = System.nanoTime() + 100_000_000L;
    long elapsedMs;

    PacedLoad(InetSocketAddress target, int rate, int seconds) {
      this.target = target;
      this.rate = rate;
      this.seconds = seconds;
      ok = new AtomicIntegerArray(seconds);
      eaddrnotavail = new AtomicIntegerArray(seconds);
      other = new AtomicIntegerArray(seconds);
    }

    void run(int threads, boolean stopAtErrno99) throws InterruptedException {
      long total = (long) rate * seconds;
      List<Thread> workers = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        workers.add(Thread.ofPlatform().name("pace-" + t).start(() -> {
          for (long i = next.getAndIncrement(); i < total && stoppedAt.get() < 0; i = next.getAndIncrement()) {
            long due = start + i * 1_000_000_000L / rate;
            for (long wait = due - System.nanoTime(); wait > 0; wait = due - System.nanoTime()) {
              LockSupport.parkNanos(wait);
            }
            maxLag.accumulateAndGet(System.nanoTime() - due, Math::max);
            int second = (int) (i / rate);
            switch (attempt(target, first)) {
              case OK -> ok.incrementAndGet(second);
              case OTHER -> other.incrementAndGet(second);
              case EADDRNOTAVAIL -> {
                eaddrnotavail.incrementAndGet(second);
                if (stopAtErrno99) {
                  stoppedAt.compareAndSet(-1, (System.nanoTime() - start) / 1_000_000);
                }
              }
            }
          }
        }));
      }
      for (Thread w : workers) {
        w.join();
      }
      elapsedMs = (System.nanoTime() - start) / 1_000_000;
    }

    long print() {
      long okTotal = 0;
      long eTotal = 0;
      long otherTotal = 0;
      for (int s = 0; s < seconds; s++) {
        System.out.println("second=" + s + " ok=" + ok.get(s) + " eaddrnotavail=" + eaddrnotavail.get(s) + " other=" + other.get(s));
        okTotal += ok.get(s);
        eTotal += eaddrnotavail.get(s);
        otherTotal += other.get(s);
      }
      System.out.println("ok=" + okTotal + " eaddrnotavail=" + eTotal + " other=" + otherTotal + " elapsedMs=" + elapsedMs
          + " maxLagMs=" + maxLag.get() / 1_000_000 + " stoppedMs=" + stoppedAt.get() + " first=" + first.get());
      return okTotal;
    }
  }

  private static void pace(InetSocketAddress target, int rate, int seconds, boolean stopAtErrno99) throws InterruptedException {
    var load = new PacedLoad(target, rate, seconds);
    load.run(8, stopAtErrno99);
    load.print();
  }

  /**
   * Fills the range at RATE until the first errno 99, then tries one connect() every 20 ms until
   * one succeeds again, which happens when the first TIME_WAIT sockets expire: prints
   * {@code fitted=N backMs=N}, the connections that fitted and when ports came back, counted from
   * the first connection of the schedule. Gives up (backMs=-1) after SECONDS.
   */
  private static void fill(InetSocketAddress target, int rate, int seconds) throws InterruptedException {
    var load = new PacedLoad(target, rate, seconds);
    load.run(8, true);
    long fitted = load.print();
    long back = -1;
    var ignored = new AtomicReference<>("none");
    while (back < 0 && System.nanoTime() - load.start < seconds * 1_000_000_000L) {
      if (attempt(target, ignored) == Outcome.OK) {
        back = (System.nanoTime() - load.start) / 1_000_000;
      } else {
        Thread.sleep(20);
      }
    }
    System.out.println("fitted=" + fitted + " backMs=" + back);
  }
}
