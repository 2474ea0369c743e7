package io.tcptuning.operator;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.ContainerImage;
import io.fabric8.kubernetes.api.model.FieldsV1;
import io.fabric8.kubernetes.api.model.ManagedFieldsEntry;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeAddress;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.NodeCondition;
import io.fabric8.kubernetes.api.model.NodeSystemInfo;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Taint;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Nodes as a kubelet registers and heartbeats them, for tests and benches that measure what the
 * operator caches: 30 images of two names each with sizes, five conditions, addresses, nodeInfo,
 * capacity and allocatable, the annotations kubeadm and the CSI/volume controllers write, a spec
 * with podCIDR, providerID and a taint, and managedFields entries from the kubelet and the
 * node controller (a real API server keeps its own managedFields; the mock keeps these). About
 * 10 KB of JSON each; a cloud node with 50 images is larger.
 */
public final class KubeletNodes {
  public static final int IMAGES = 30;

  private KubeletNodes() {}

  /** A Linux node with these labels (besides kubernetes.io/os=linux and the usual kubelet ones) and a kubelet's status. */
  public static Node node(String name, String... kv) {
    Map<String, String> labels = new LinkedHashMap<>();
    labels.put("kubernetes.io/os", "linux");
    labels.put("kubernetes.io/arch", "amd64");
    labels.put("kubernetes.io/hostname", name);
    labels.put("beta.kubernetes.io/os", "linux");
    labels.put("beta.kubernetes.io/arch", "amd64");
    labels.put("node.kubernetes.io/instance-type", "m6i.2xlarge");
    labels.put("topology.kubernetes.io/region", "eu-west-1");
    for (int i = 0; i < kv.length; i += 2) {
      labels.put(kv[i], kv[i + 1]);
    }
    Map<String, String> annotations = new HashMap<>();
    annotations.put("kubeadm.alpha.kubernetes.io/cri-socket", "unix:///run/containerd/containerd.sock");
    annotations.put("node.alpha.kubernetes.io/ttl", "0");
    annotations.put("volumes.kubernetes.io/controller-managed-attach-detach", "true");
    annotations.put("csi.volume.kubernetes.io/nodeid", "{\"ebs.csi.aws.com\":\"i-0" + Integer.toHexString(name.hashCode()) + "abcdef\"}");
    return new NodeBuilder()
        .withNewMetadata()
        .withName(name)
        .withLabels(labels)
        .withAnnotations(annotations)
        .withManagedFields(managedFields())
        .endMetadata()
        .withNewSpec()
        .withPodCIDR("10.244." + (Math.abs(name.hashCode()) % 250) + ".0/24")
        .withPodCIDRs("10.244." + (Math.abs(name.hashCode()) % 250) + ".0/24")
        .withProviderID("aws:///eu-west-1a/i-0" + Integer.toHexString(name.hashCode()))
        .withTaints(new Taint("NoSchedule", "dedicated", null, "infra"))
        .endSpec()
        .withStatus(status(name).build().getStatus())
        .build();
  }

  /** The status a kubelet writes; {@code beat} varies the heartbeat times, as each heartbeat does. */
  public static NodeBuilder status(String name) {
    return status(name, 0);
  }

  public static NodeBuilder status(String name, int beat) {
    String t = String.format("2026-11-30T10:%02d:%02dZ", beat / 60 % 60, beat % 60);
    List<ContainerImage> images = new ArrayList<>();
    for (int i = 0; i < IMAGES; i++) {
      String repo = "registry.example.com/team-" + (i % 7) + "/service-" + i;
      images.add(new ContainerImage(
          List.of(repo + "@sha256:" + sha(name, i), repo + ":v1." + i + ".3"), 50_000_000L + 1_234_567L * i));
    }
    Map<String, Quantity> capacity = new LinkedHashMap<>();
    capacity.put("cpu", new Quantity("8"));
    capacity.put("ephemeral-storage", new Quantity("104845292Ki"));
    capacity.put("hugepages-1Gi", new Quantity("0"));
    capacity.put("hugepages-2Mi", new Quantity("0"));
    capacity.put("memory", new Quantity("32386544Ki"));
    capacity.put("pods", new Quantity("110"));
    Map<String, Quantity> allocatable = new LinkedHashMap<>(capacity);
    allocatable.put("cpu", new Quantity("7910m"));
    allocatable.put("memory", new Quantity("31369712Ki"));
    allocatable.put("ephemeral-storage", new Quantity("95551679124"));
    return new NodeBuilder()
        .withNewStatus()
        .withImages(images)
        .withConditions(
            condition("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available", t),
            condition("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure", t),
            condition("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available", t),
            condition("Ready", "True", "KubeletReady", "kubelet is posting ready status", t),
            condition("NetworkUnavailable", "False", "RouteCreated", "RouteController created a route", t))
        .withAddresses(
            new NodeAddress("10.0." + (Math.abs(name.hashCode()) % 250) + ".17", "InternalIP"),
            new NodeAddress("ip-10-0-1-17.eu-west-1.compute.internal", "InternalDNS"),
            new NodeAddress(name, "Hostname"))
        .withCapacity(capacity)
        .withAllocatable(allocatable)
        .withNodeInfo(new NodeSystemInfo(
            "amd64", "1a2b3c4d-5e6f-4a5b-9c8d-" + String.format("%012x", Math.abs((long) name.hashCode())), "containerd://1.7.22",
            "6.1.0-28-cloud-amd64", "v1.34.4", "v1.34.4", "ec2" + Integer.toHexString(name.hashCode()), "linux",
            "Debian GNU/Linux 12 (bookworm)", null, "ec2" + Integer.toHexString(name.hashCode()) + "aaaa"))
        .withNewDaemonEndpoints().withNewKubeletEndpoint(10250).endDaemonEndpoints()
        .endStatus();
  }

  private static NodeCondition condition(String type, String status, String reason, String message, String time) {
    return new NodeCondition(time, time, message, reason, status, type);
  }

  private static List<ManagedFieldsEntry> managedFields() {
    Map<String, Object> labelsSet = new LinkedHashMap<>();
    labelsSet.put("f:metadata", Map.of("f:labels", Map.of(".", Map.of(), "f:kubernetes.io/arch", Map.of(), "f:kubernetes.io/hostname", Map.of(), "f:kubernetes.io/os", Map.of())));
    Map<String, Object> statusSet = new LinkedHashMap<>();
    statusSet.put("f:status", Map.of("f:conditions", Map.of("k:{\"type\":\"Ready\"}", Map.of("f:lastHeartbeatTime", Map.of(), "f:status", Map.of())),
        "f:images", Map.of(), "f:nodeInfo", Map.of("f:bootID", Map.of())));
    return List.of(
        new ManagedFieldsEntry("v1", "FieldsV1", fields(labelsSet), "kubelet", "Update", null, "2026-11-30T09:00:00Z"),
        new ManagedFieldsEntry("v1", "FieldsV1", fields(statusSet), "kubelet", "Update", "status", "2026-11-30T10:00:00Z"),
        new ManagedFieldsEntry("v1", "FieldsV1", fields(Map.of("f:spec", Map.of("f:podCIDR", Map.of()))), "kube-controller-manager", "Update", null, "2026-11-30T09:00:01Z"));
  }

  private static FieldsV1 fields(Map<String, Object> set) {
    FieldsV1 f = new FieldsV1();
    set.forEach(f::setAdditionalProperty);
    return f;
  }

  private static String sha(String name, int i) {
    StringBuilder b = new StringBuilder();
    long x = (name.hashCode() * 31L + i) * 0x9E3779B97F4A7C15L;
    while (b.length() < 64) {
      x = x * 6364136223846793005L + 1442695040888963407L;
      b.append(String.format("%016x", x));
    }
    return b.substring(0, 64);
  }

  /** What the operator's cache must not hold of a Node: spec, status, managedFields, annotations. */
  public static void assertTrimmed(Node cached) {
    assertThat(cached.getStatus()).isNull();
    assertThat(cached.getSpec()).isNull();
    assertThat(cached.getMetadata().getManagedFields()).isNullOrEmpty();
    assertThat(cached.getMetadata().getAnnotations()).isNullOrEmpty();
  }

  /** A Node as the operator caches it: trimmed, with the server's labels, uid and creation time. */
  public static void assertTrimmedCopyOf(Node cached, Node onServer) {
    assertTrimmed(cached);
    assertThat(cached.getMetadata().getLabels()).isEqualTo(onServer.getMetadata().getLabels());
    assertThat(cached.getMetadata().getUid()).isEqualTo(onServer.getMetadata().getUid());
    assertThat(cached.getMetadata().getCreationTimestamp()).isEqualTo(onServer.getMetadata().getCreationTimestamp());
  }
}
