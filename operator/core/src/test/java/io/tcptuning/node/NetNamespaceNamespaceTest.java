package io.tcptuning.node;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tcptuning.testing.TestNamespace;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.Test;

/** setns(2) moves one thread only, and it lands where it was sent. */
class NetNamespaceNamespaceTest {

  @Test
  void aThreadSeesAndWritesItsNamespaceWhileTheProcessStaysHome() throws Exception {
    String hostRange = TestNamespace.hostSysctl("net.ipv4.ip_local_port_range");
    long hostNs = NetNamespace.currentInode();
    try (TestNamespace ns = TestNamespace.create("setns");
        var executor = Executors.newSingleThreadExecutor()) {
      ns.setSysctl("net.ipv4.ip_local_port_range", "40000 40999");
      CompletableFuture<String> seen = CompletableFuture.supplyAsync(() -> {
        try {
          NetNamespace.enter(ns.path());
          String range = ProcFiles.read(Path.of("/proc/sys/net/ipv4/ip_local_port_range"));
          Files.writeString(Path.of("/proc/sys/net/ipv4/tcp_fin_timeout"), "33");
          // A socket made here lives in the namespace: its port is free again in the host.
          try (ServerSocket s = new ServerSocket(47321, 1, InetAddress.getLoopbackAddress())) {
            return range.strip().replaceAll("\\s+", " ") + "|" + (ProcFiles.read(Path.of("/proc/thread-self/net/tcp")) + ProcFiles.read(Path.of("/proc/thread-self/net/tcp6"))).contains(":B8D9 ");
          }
        } catch (IOException e) {
          throw new RuntimeException(e);
        }
      }, executor);
      assertThat(seen.get()).isEqualTo("40000 40999|true");
      assertThat(ns.sysctl("net.ipv4.tcp_fin_timeout")).isEqualTo("33");
      assertThat(NetNamespace.currentInode()).isEqualTo(hostNs);
      assertThat(TestNamespace.hostSysctl("net.ipv4.ip_local_port_range")).isEqualTo(hostRange);
      assertThat(TestNamespace.hostSysctl("net.ipv4.tcp_fin_timeout")).isEqualTo("60");
      try (ServerSocket s = new ServerSocket(47321, 1, InetAddress.getLoopbackAddress())) {
        assertThat(s.getLocalPort()).isEqualTo(47321);
      }
    }
  }

  @Test
  void aMissingNamespaceIsAnErrorAndTheThreadStaysHome() throws Exception {
    long home = NetNamespace.currentInode();
    assertThatThrownBy(() -> NetNamespace.enter(Path.of("/run/netns/tcptune-does-not-exist"))).isInstanceOf(IOException.class);
    assertThatThrownBy(() -> NetNamespace.enter(Path.of("/etc/hostname"))).isInstanceOf(IOException.class).hasMessageContaining("not a network namespace");
    assertThat(NetNamespace.currentInode()).isEqualTo(home);
  }

  @Test
  void callInsideRunsOnAThreadOfTheNamespaceWhoseIdentityTellsItFromAnyOther() throws Exception {
    NetNamespace.Identity host = NetNamespace.currentIdentity();
    try (TestNamespace a = TestNamespace.create("ident-a");
        TestNamespace b = TestNamespace.create("ident-b")) {
      long inodeA = NetNamespace.inode(a.path());
      NetNamespace.Identity inA = NetNamespace.callInside(a.path(), inodeA, NetNamespace::currentIdentity);
      NetNamespace.Identity inB = NetNamespace.callInside(b.path(), NetNamespace.inode(b.path()), NetNamespace::currentIdentity);

      assertThat(inA.inode()).isEqualTo(inodeA);
      // Cookies exist on this kernel (5.14+) and differ per namespace; the boot is the same.
      assertThat(inA.cookie()).isPositive().isNotEqualTo(inB.cookie()).isNotEqualTo(host.cookie());
      assertThat(inA.bootId()).isEqualTo(host.bootId()).matches("[0-9a-f-]{36}");
      assertThat(NetNamespace.currentIdentity()).isEqualTo(host);
      // A namespace that is not the one the caller saw is never worked on.
      assertThatThrownBy(() -> NetNamespace.callInside(a.path(), NetNamespace.inode(b.path()), () -> "worked"))
          .isInstanceOf(NetNamespace.EntryFailedException.class).hasMessageContaining("replaced");
    }
  }
}
