package io.tcptuning.packaging;

import io.fabric8.kubernetes.api.model.Capabilities;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.PodSecurityContext;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.SeccompProfile;
import io.fabric8.kubernetes.api.model.SecurityContext;
import io.fabric8.kubernetes.api.model.Volume;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.stream.Stream;

/**
 * The checks of the Kubernetes "restricted" Pod Security Standard (baseline included, as the
 * PodSecurity admission plugin applies them), plus our own rule that the operator's root filesystem
 * is read-only. Returns one line per violation, empty when the pod passes.
 */
final class RestrictedPodSecurity {

  /** Volume types the restricted profile allows. */
  private static final Set<String> ALLOWED_VOLUMES =
      Set.of(
          "configMap",
          "csi",
          "downwardAPI",
          "emptyDir",
          "ephemeral",
          "persistentVolumeClaim",
          "projected",
          "secret");

  private RestrictedPodSecurity() {}

  static List<String> violations(PodSpec pod) {
    List<String> out = new ArrayList<>();
    PodSecurityContext podCtx =
        pod.getSecurityContext() == null ? new PodSecurityContext() : pod.getSecurityContext();
    if (Boolean.TRUE.equals(pod.getHostNetwork())) {
      out.add("hostNetwork is true");
    }
    if (Boolean.TRUE.equals(pod.getHostPID())) {
      out.add("hostPID is true");
    }
    if (Boolean.TRUE.equals(pod.getHostIPC())) {
      out.add("hostIPC is true");
    }
    if (Objects.equals(podCtx.getRunAsUser(), 0L)) {
      out.add("pod runAsUser is 0");
    }
    if (podCtx.getSysctls() != null && !podCtx.getSysctls().isEmpty()) {
      out.add("pod sets sysctls " + podCtx.getSysctls());
    }
    for (Volume v : pod.getVolumes() == null ? List.<Volume>of() : pod.getVolumes()) {
      String type = volumeType(v);
      if (!ALLOWED_VOLUMES.contains(type)) {
        out.add("volume " + v.getName() + " is of type " + type);
      }
    }
    List<Container> containers =
        Stream.of(pod.getInitContainers(), pod.getContainers())
            .filter(Objects::nonNull)
            .flatMap(List::stream)
            .toList();
    for (Container c : containers) {
      String name = "container " + c.getName() + ": ";
      SecurityContext ctx =
          c.getSecurityContext() == null ? new SecurityContext() : c.getSecurityContext();
      if (Boolean.TRUE.equals(ctx.getPrivileged())) {
        out.add(name + "privileged");
      }
      if (!Boolean.FALSE.equals(ctx.getAllowPrivilegeEscalation())) {
        out.add(name + "allowPrivilegeEscalation is not false");
      }
      Boolean nonRoot =
          ctx.getRunAsNonRoot() != null ? ctx.getRunAsNonRoot() : podCtx.getRunAsNonRoot();
      if (!Boolean.TRUE.equals(nonRoot)) {
        out.add(name + "runAsNonRoot is not true");
      }
      if (Objects.equals(ctx.getRunAsUser(), 0L)) {
        out.add(name + "runAsUser is 0");
      }
      SeccompProfile seccomp =
          ctx.getSeccompProfile() != null ? ctx.getSeccompProfile() : podCtx.getSeccompProfile();
      if (seccomp == null || !Set.of("RuntimeDefault", "Localhost").contains(seccomp.getType())) {
        out.add(name + "seccompProfile is not RuntimeDefault or Localhost");
      }
      Capabilities caps = ctx.getCapabilities();
      if (caps == null || caps.getDrop() == null || !caps.getDrop().contains("ALL")) {
        out.add(name + "capabilities do not drop ALL");
      }
      if (caps != null
          && caps.getAdd() != null
          && !Set.of("NET_BIND_SERVICE").containsAll(caps.getAdd())) {
        out.add(name + "adds capabilities " + caps.getAdd());
      }
      for (ContainerPort p : c.getPorts() == null ? List.<ContainerPort>of() : c.getPorts()) {
        if (p.getHostPort() != null && p.getHostPort() != 0) {
          out.add(name + "hostPort " + p.getHostPort());
        }
      }
      // Not part of the standard, but the operator writes nothing outside /tmp.
      if (!Boolean.TRUE.equals(ctx.getReadOnlyRootFilesystem())) {
        out.add(name + "readOnlyRootFilesystem is not true");
      }
    }
    return out;
  }

  private static String volumeType(Volume v) {
    if (v.getConfigMap() != null) {
      return "configMap";
    }
    if (v.getCsi() != null) {
      return "csi";
    }
    if (v.getDownwardAPI() != null) {
      return "downwardAPI";
    }
    if (v.getEmptyDir() != null) {
      return "emptyDir";
    }
    if (v.getEphemeral() != null) {
      return "ephemeral";
    }
    if (v.getPersistentVolumeClaim() != null) {
      return "persistentVolumeClaim";
    }
    if (v.getProjected() != null) {
      return "projected";
    }
    if (v.getSecret() != null) {
      return "secret";
    }
    if (v.getHostPath() != null) {
      return "hostPath";
    }
    return "other";
  }
}
