package io.tcptuning.node.census;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ProtocolFamily;
import java.net.StandardProtocolFamily;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Load generator for the census tests and benchmark, run inside a throwaway network namespace:
 * listens on the destinations given and makes short connections to them, the client closing
 * first, so each connection leaves one client-side TIME_WAIT socket (it outlives this process).
 *
 * <pre>
 * TimeWaitLoad [--threads N] SPEC...
 *   SPEC = FAMILY:HOST:PORT=COUNT, FAMILY inet|inet6; HOST 127.0.0.2, [::1], or an IPv4 host with
 *   inet6 for IPv4-mapped client sockets. Example: inet:127.0.0.1:7001=1500 inet6:[::1]:7003=900
 * </pre>
 *
 * Prints {@code created N failed F} and exits 0 when every connection went through.
 *
 * <pre>
 * TimeWaitLoad --serve-close-first HOST:PORT COUNT
 * </pre>
 *
 * The other way round: listens on HOST:PORT, makes COUNT connections to itself with the server
 * closing first (server-side TIME_WAIT on the listening port), prints {@code ready} and keeps the
 * listener open until standard input closes.
 */
public final class TimeWaitLoad {
  private record Spec(ProtocolFamily family, InetSocketAddress target, int count) {}

  public static void main(String[] args) throws Exception {
    if (args.length == 3 && args[0].equals("--serve-close-first")) {
      serveCloseFirst(parse("inet:" + args[1] + "=" + args[2]));
      return;
    }
    int threads = 2;
    List<Spec> specs = new ArrayList<>();
    for (int i = 0; i < args.length; i++) {
      if (args[i].equals("--threads")) {
        threads = Integer.parseInt(args[++i]);
      } else {
        specs.add(parse(args[i]));
      }
    }
    long created = run(specs, threads);
    long wanted = specs.stream().mapToLong(Spec::count).sum();
    System.out.println("created " + created + " failed " + (wanted - created));
    System.exit(created == wanted ? 0 : 3);
  }

  private static void serveCloseFirst(Spec s) throws Exception {
    ProtocolFamily family = s.target().getAddress() instanceof java.net.Inet6Address ? StandardProtocolFamily.INET6 : StandardProtocolFamily.INET;
    try (ServerSocketChannel server = ServerSocketChannel.open(family)) {
      server.bind(s.target(), 4096);
      Thread closer =
          Thread.ofPlatform()
              .start(
                  () -> {
                    for (int i = 0; i < s.count(); i++) {
                      try {
                        server.accept().close();
                      } catch (IOException e) {
                        System.err.println("accept: " + e);
                      }
                    }
                  });
      ByteBuffer sink = ByteBuffer.allocate(64);
      for (int i = 0; i < s.count(); i++) {
        try (SocketChannel c = SocketChannel.open(family)) {
          c.connect(s.target());
          while (c.read(sink.clear()) >= 0) {
            // wait for the server's FIN
          }
        }
      }
      closer.join();
      System.out.println("ready");
      System.out.flush();
      while (System.in.read() >= 0) {
        // hold the listener until the caller closes our standard input
      }
    }
  }

  static Spec parse(String spec) throws IOException {
    int colon = spec.indexOf(':');
    int eq = spec.lastIndexOf('=');
    String family = spec.substring(0, colon);
    String hostPort = spec.substring(colon + 1, eq);
    int portColon = hostPort.lastIndexOf(':');
    String host = hostPort.substring(0, portColon).replace("[", "").replace("]", "");
    int port = Integer.parseInt(hostPort.substring(portColon + 1));
    ProtocolFamily f =
        switch (family) {
          case "inet" -> StandardProtocolFamily.INET;
          case "inet6" -> StandardProtocolFamily.INET6;
          default -> throw new IllegalArgumentException("family must be inet or inet6: " + spec);
        };
    return new Spec(f, new InetSocketAddress(InetAddress.getByName(host), port), Integer.parseInt(spec.substring(eq + 1)));
  }

  static long run(List<Spec> specs, int threads) throws Exception {
    // One listener per distinct target; its family is the target address's own.
    Map<InetSocketAddress, ServerSocketChannel> listeners = new LinkedHashMap<>();
    AtomicLong closedByServer = new AtomicLong();
    List<Thread> acceptors = new ArrayList<>();
    for (Spec s : specs) {
      if (listeners.containsKey(s.target())) {
        continue;
      }
      ServerSocketChannel server = ServerSocketChannel.open(s.target().getAddress() instanceof java.net.Inet6Address ? StandardProtocolFamily.INET6 : StandardProtocolFamily.INET);
      // A deep backlog (capped by net.core.somaxconn): an overflowing accept queue drops SYNs and
      // stalls the client for a 1 s retransmission.
      server.bind(s.target(), 65535);
      listeners.put(s.target(), server);
      acceptors.add(Thread.ofPlatform().daemon().start(() -> serve(server, closedByServer)));
    }
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    List<Future<Long>> parts = new ArrayList<>();
    for (Spec s : specs) {
      for (int done = 0; done < s.count(); done += 500) {
        int n = Math.min(500, s.count() - done);
        parts.add(pool.submit(() -> connect(s, n)));
      }
    }
    long created = 0;
    for (Future<Long> f : parts) {
      created += f.get();
    }
    pool.shutdown();
    // The client's socket reaches TIME_WAIT only once the server closed its end too.
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (closedByServer.get() < created && System.nanoTime() < deadline) {
      Thread.sleep(5);
    }
    for (ServerSocketChannel server : listeners.values()) {
      server.close();
    }
    return created;
  }

  private static long connect(Spec s, int n) {
    long ok = 0;
    for (int i = 0; i < n; i++) {
      try (SocketChannel c = SocketChannel.open(s.family())) {
        c.connect(s.target());
        ok++;
      } catch (IOException e) {
        System.err.println("connect " + s.target() + ": " + e);
      }
    }
    return ok;
  }

  private static void serve(ServerSocketChannel server, AtomicLong closed) {
    ByteBuffer sink = ByteBuffer.allocate(64);
    while (server.isOpen()) {
      try (SocketChannel accepted = server.accept()) {
        // Wait for the client's FIN, then close: the client closed first and keeps TIME_WAIT.
        while (accepted.read(sink.clear()) >= 0) {
          // discard
        }
      } catch (IOException e) {
        if (server.isOpen()) {
          System.err.println("accept on " + server + ": " + e);
        }
        continue;
      }
      closed.incrementAndGet();
    }
  }
}
