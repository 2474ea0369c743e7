package io.tcptuning.node.netns;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Pod UIDs from /proc/PID/cgroup as kubelet, containerd and CRI-O lay them out (fixtures under resources/cgroup). */
class PodCgroupsTest {

  @ParameterizedTest(name = "{0}")
  @CsvSource({
    "containerd-systemd-v2-burstable, 6f1a2b3c-4d5e-4f70-8192-a3b4c5d6e7f8",
    "containerd-systemd-v2-guaranteed, 0c4b2f8e-1d2a-4c3b-9e8f-7a6b5c4d3e2f",
    "crio-systemd-v2-besteffort, 9e8d7c6b-5a49-4382-b716-0f1e2d3c4b5a",
    "crio-systemd-v2-conmon, 1f2e3d4c-5b6a-4798-8a7b-6c5d4e3f2a1b",
    "crio-systemd-v1-guaranteed, 7b6a5948-3726-4150-9e8d-7c6b5a493827",
    "containerd-cgroupfs-v1-besteffort, 2d7e6f4a-8b9c-4d0e-a1f2-3b4c5d6e7f80",
    "containerd-cgroupfs-v2-guaranteed, 5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d",
    // Upper-case hex is not what the API server writes, but it is the same UID.
    "containerd-cgroupfs-v2-burstable-pause, a1b2c3d4-e5f6-4789-90ab-cdef01234567",
    // Static (mirror) pods: the UID is the config hash, 32 hex digits without dashes.
    "static-pod-systemd-v2, 5d8f9e1c2b3a4d5e6f708192a3b4c5d6",
    "kind-nested-systemd-v2, 3c2b1a09-f8e7-4d6c-b5a4-938271605f4e",
    "cgroup-namespace-relative-v2, 8f7e6d5c-4b3a-4291-8f7e-6d5c4b3a2918",
    "docker-systemd-v1-burstable, e4d3c2b1-a098-4765-b432-10fedcba9876",
  })
  void podProcessesGiveTheirPodUid(String fixture, String uid) throws IOException {
    assertThat(PodCgroups.podUid(fixture(fixture))).contains(uid);
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource({
    "host-containerd-service-v2",
    "host-kubelet-v1",
    "host-session-v2",
    "host-podman-v2",
    "host-init-v2",
    "qos-slice-only-v2",
    "containerd-shim-cgroupfs-v1",
  })
  void processesOutsidePodsGiveNothing(String fixture) throws IOException {
    assertThat(PodCgroups.podUid(fixture(fixture))).isEmpty();
  }

  @Test
  void malformedTextGivesNothing() {
    assertThat(PodCgroups.podUid("")).isEmpty();
    assertThat(PodCgroups.podUid("garbage\n::\n0:")).isEmpty();
    // A segment that looks like a pod outside any kubepods tree is not a pod.
    assertThat(PodCgroups.podUid("0::/system.slice/pod6f1a2b3c-4d5e-4f70-8192-a3b4c5d6e7f8.scope")).isEmpty();
    // Too short to be a UID.
    assertThat(PodCgroups.podUid("0::/kubepods/burstable/pod6f1a2b3c-4d5e/abc")).isEmpty();
  }

  @Test
  void readsTheFileOfAPidUnderAProcRoot(@TempDir Path proc) throws IOException {
    Files.createDirectories(proc.resolve("4242"));
    Files.writeString(proc.resolve("4242/cgroup"), fixture("containerd-systemd-v2-burstable"));
    assertThat(PodCgroups.podUid(proc, 4242)).isEqualTo(Optional.of("6f1a2b3c-4d5e-4f70-8192-a3b4c5d6e7f8"));
    assertThat(PodCgroups.podUid(proc, 4243)).as("a process that exited").isEmpty();
  }

  @Test
  void thisProcessIsInNoPod() {
    assertThat(PodCgroups.podUid((int) ProcessHandle.current().pid())).isEmpty();
  }

  static String fixture(String name) throws IOException {
    try (InputStream in = PodCgroupsTest.class.getResourceAsStream("/cgroup/" + name + ".cgroup")) {
      assertThat(in).as("fixture " + name).isNotNull();
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }
}
