package io.tcptuning.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.tcptuning.node.netns.NetnsRef;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The pod of a namespace from its processes' cgroups and kubelet's /var/log/pods directory names (fixtures). */
class PodDirectoryTest {
  private static final String UID = "6f1a2b3c-4d5e-4f70-8192-a3b4c5d6e7f8";

  @Test
  void namesThePodFromTheLogDirectoryOfItsUid(@TempDir Path proc, @TempDir Path logs) throws IOException {
    cgroup(proc, 100, "0::/system.slice/containerd.service\n");
    cgroup(proc, 200, "0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + UID.replace('-', '_') + ".slice/cri-containerd-abc.scope\n");
    cgroup(proc, 300, "0::/kubepods/besteffort/pod0c4b2f8e-1d2a-4c3b-9e8f-7a6b5c4d3e2f/0f9e8d\n");
    Files.createDirectories(logs.resolve("shop_checkout-7d9f8b-x2x4q_" + UID));
    Files.createDirectories(logs.resolve("kube-system_kube-proxy-abcde_11111111-2222-4333-8444-555555555555"));
    Files.writeString(logs.resolve("not-a-pod"), "");
    PodDirectory pods = PodDirectory.read(proc, logs);

    // The first process is no pod's (a shim), the next one is.
    var pod = pods.pod(ref(List.of(100, 200), false)).orElseThrow();
    assertThat(pod).isEqualTo(new PodDirectory.Pod("shop", "checkout-7d9f8b-x2x4q", UID));
    assertThat(pod.shown()).isEqualTo("shop/checkout-7d9f8b-x2x4q");
    // A pod UID without a log directory: shown by UID.
    var unnamed = pods.pod(ref(List.of(300), false)).orElseThrow();
    assertThat(unnamed.name()).isNull();
    assertThat(unnamed.shown()).isEqualTo("uid 0c4b2f8e-1d2a-4c3b-9e8f-7a6b5c4d3e2f");
    // No pod's processes, processes gone, or the node's own namespace (hostNetwork pods share it).
    assertThat(pods.pod(ref(List.of(100), false))).isEmpty();
    assertThat(pods.pod(ref(List.of(999), false))).isEmpty();
    assertThat(pods.pod(ref(List.of(), false))).isEmpty();
    assertThat(pods.pod(ref(List.of(200), true))).isEmpty();
  }

  @Test
  void noPodLogDirectoryMeansUidsOnly(@TempDir Path proc) throws IOException {
    cgroup(proc, 200, "0::/kubepods/pod" + UID + "/abc\n");
    var pods = PodDirectory.read(proc, proc.resolve("no-such-dir"));
    assertThat(pods.pod(ref(List.of(200), false)).orElseThrow().shown()).isEqualTo("uid " + UID);
  }

  private static NetnsRef ref(List<Integer> pids, boolean host) {
    return new NetnsRef(4026532000L, Path.of("/proc/1/ns/net"), pids, List.of(), host);
  }

  private static void cgroup(Path proc, int pid, String text) throws IOException {
    Files.createDirectories(proc.resolve(Integer.toString(pid)));
    Files.writeString(proc.resolve(pid + "/cgroup"), text);
  }
}
