package io.tcptuning.agent.pods;

import io.tcptuning.agent.views.PodView;
import java.util.EnumSet;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * What the agent keeps of one pod on its node: enough to name it, select it and respect the
 * sysctls it sets itself. Built from the informer's objects, so the rest of the pod loop never
 * sees a fabric8 model class.
 *
 * @param uid metadata.uid, as the API server spells it (lower case, dashes)
 * @param declared allowlisted sysctls the pod sets in {@code spec.securityContext.sysctls}: the
 *     owner's choice, never written by the agent
 * @param finished the pod has ended (phase Succeeded or Failed): its sandbox, and so its network
 *     namespace, is gone or going
 */
public record PodInfo(
    String uid,
    String namespace,
    String name,
    String nodeName,
    Map<String, String> labels,
    boolean hostNetwork,
    Set<io.tcptuning.domain.Sysctl> declared,
    boolean finished) {

  public PodInfo {
    labels = labels == null ? Map.of() : Map.copyOf(labels);
    declared = declared.isEmpty() ? Set.of() : Set.copyOf(EnumSet.copyOf(declared));
  }

  /** {@code namespace/name}, as status and log lines show a pod. */
  public String shown() {
    return namespace + "/" + name;
  }

  public static PodInfo of(PodView pod) {
    var meta = pod.getMetadata();
    var spec = pod.getSpec();
    Set<io.tcptuning.domain.Sysctl> declared = EnumSet.noneOf(io.tcptuning.domain.Sysctl.class);
    if (spec != null && spec.securityContext() != null && spec.securityContext().sysctls() != null) {
      for (PodView.SysctlSetting s : spec.securityContext().sysctls()) {
        declaredSysctl(s.name()).ifPresent(declared::add);
      }
    }
    String phase = pod.getStatus() == null ? null : pod.getStatus().phase();
    return new PodInfo(
        meta.getUid() == null ? "" : meta.getUid().toLowerCase(Locale.ROOT),
        meta.getNamespace(),
        meta.getName(),
        spec == null ? null : spec.nodeName(),
        meta.getLabels(),
        spec != null && Boolean.TRUE.equals(spec.hostNetwork()),
        declared,
        "Succeeded".equals(phase) || "Failed".equals(phase));
  }

  /**
   * The allowlisted sysctl a {@code securityContext.sysctls} name stands for: Kubernetes accepts
   * both separators ({@code net.ipv4.ip_local_port_range} and {@code net/ipv4/ip_local_port_range}).
   */
  static java.util.Optional<io.tcptuning.domain.Sysctl> declaredSysctl(String name) {
    if (name == null) {
      return java.util.Optional.empty();
    }
    String dotted = name.indexOf('/') >= 0 ? name.replace('.', '\u0000').replace('/', '.').replace('\u0000', '/') : name;
    return io.tcptuning.domain.Sysctl.byDottedName(dotted);
  }
}
