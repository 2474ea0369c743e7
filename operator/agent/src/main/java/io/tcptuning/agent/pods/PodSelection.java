package io.tcptuning.agent.pods;

import io.tcptuning.api.v1alpha1.TcpTuningPolicySpec;
import io.tcptuning.domain.LabelSelectors;
import java.util.Map;

/**
 * Whether a policy tunes a pod's network namespace. Pure.
 *
 * <p>A pod is selected when the policy has a podSelector or a namespaceSelector, the pod does not
 * use hostNetwork (it shares the node's namespace, which the node path tunes), its labels match
 * podSelector (absent: any) and its namespace's labels match namespaceSelector (absent: any).
 */
public final class PodSelection {
  private PodSelection() {}

  /**
   * @param namespaceLabels the labels of the pod's Kubernetes namespace; null when not known (only
   *     asked for when the policy has a namespaceSelector): an unknown namespace selects nothing
   */
  public static boolean selects(TcpTuningPolicySpec spec, PodInfo pod, Map<String, String> namespaceLabels) {
    if (spec == null || !spec.selectsPods() || pod.hostNetwork()) {
      return false;
    }
    if (!LabelSelectors.matches(spec.getPodSelector(), pod.labels())) {
      return false;
    }
    if (spec.getNamespaceSelector() == null) {
      return true;
    }
    return namespaceLabels != null && LabelSelectors.matches(spec.getNamespaceSelector(), namespaceLabels);
  }
}
