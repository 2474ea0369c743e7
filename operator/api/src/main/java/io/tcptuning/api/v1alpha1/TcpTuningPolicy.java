package io.tcptuning.api.v1alpha1;

import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.kubernetes.api.model.Namespaced;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.Plural;
import io.fabric8.kubernetes.model.annotation.ShortNames;
import io.fabric8.kubernetes.model.annotation.Singular;
import io.fabric8.kubernetes.model.annotation.Version;

/**
 * A cluster-wide TCP tuning policy: which nodes, which sysctls, how to roll them out. Cluster
 * scoped (it does not implement {@link Namespaced}).
 */
@Group(TcpTuningPolicy.GROUP)
@Version(TcpTuningPolicy.VERSION)
@Plural("tcptuningpolicies")
@Singular("tcptuningpolicy")
@ShortNames("ttp")
@AdditionalPrinterColumn(name = "Mode", jsonPath = ".spec.mode", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Selected", jsonPath = ".status.nodes.selected", type = AdditionalPrinterColumn.Type.INTEGER)
@AdditionalPrinterColumn(name = "Applied", jsonPath = ".status.nodes.applied", type = AdditionalPrinterColumn.Type.INTEGER)
@AdditionalPrinterColumn(name = "Refused", jsonPath = ".status.nodes.refused", type = AdditionalPrinterColumn.Type.INTEGER)
@AdditionalPrinterColumn(name = "Failed", jsonPath = ".status.nodes.failed", type = AdditionalPrinterColumn.Type.INTEGER)
@AdditionalPrinterColumn(name = "Max-Pressure", jsonPath = ".status.maxPressure", type = AdditionalPrinterColumn.Type.NUMBER)
@AdditionalPrinterColumn(name = "Pods-Tuned", jsonPath = ".status.pods.tuned", type = AdditionalPrinterColumn.Type.INTEGER, priority = 1)
@AdditionalPrinterColumn(name = "Worst-Pod", jsonPath = ".status.worstPod.pod", type = AdditionalPrinterColumn.Type.STRING, priority = 1)
@AdditionalPrinterColumn(name = "Pod-Pressure", jsonPath = ".status.worstPod.maxDestinationPressure", type = AdditionalPrinterColumn.Type.NUMBER, priority = 1)
@AdditionalPrinterColumn(name = "Ready", jsonPath = ".status.conditions[?(@.type==\"Ready\")].status", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Age", jsonPath = ".metadata.creationTimestamp", type = AdditionalPrinterColumn.Type.DATE)
public class TcpTuningPolicy extends CustomResource<TcpTuningPolicySpec, TcpTuningPolicyStatus> {
  public static final String GROUP = "tcptuning.io";
  public static final String VERSION = "v1alpha1";

  @Override
  protected TcpTuningPolicySpec initSpec() {
    return new TcpTuningPolicySpec();
  }
}
