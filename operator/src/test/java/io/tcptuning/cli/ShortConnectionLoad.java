package io.tcptuning.cli;

import java.io.IOException;
import java.io.InputStream;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;

/**
 * The workload of the high-churn scenario, run inside a test namespace as its own JVM.
 *
 * <ul>
 *   <li>{@code serve PORT}: a loopback server that reads each connection to its end and closes
 *       after the client, so that TIME_WAIT lands on the client side, as with real clients.
 *   <li>{@code connect PORT COUNT}: COUNT short connections to 127.0.0.1:PORT, each closed by the
 *       client right after connect(). Prints {@code ok=N eaddrnotavail=N other=N first=...}, where
 *       eaddrnotavail counts connect() failing with errno 99 (Java: BindException "Cannot assign
 *       requested address").
 * </ul>
 */
public final class ShortConnectionLoad {
  static final String EADDRNOTAVAIL = "Cannot assign requested address";

  public static void main(String[] args) throws Exception {
    switch (args[0]) {
      case "serve" -> serve(Integer.parseInt(args[1]));
      case "connect" -> connect(Integer.parseInt(args[1]), Integer.parseInt(args[2]));
      default -> throw new IllegalArgumentException("serve PORT | connect PORT COUNT");
    }
  }

  private static void serve(int port) throws IOException {
    try (ServerSocket server = new ServerSocket()) {
      server.setReuseAddress(true);
      server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 4096);
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
    String first = "none";
    for (int i = 0; i < count; i++) {
      try (Socket s = new Socket()) {
        s.connect(target, 5000);
        ok++;
      } catch (IOException e) {
        if (e instanceof BindException && EADDRNOTAVAIL.equals(e.getMessage())) {
          eaddrnotavail++;
        } else {
          other++;
        }
        if (first.equals("none")) {
          first = e.getClass().getName() + ": " + e.getMessage();
        }
      }
    }
    System.out.println("ok=" + ok + " eaddrnotavail=" + eaddrnotavail + " other=" + other + " first=" + first);
  }
}
