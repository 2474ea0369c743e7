package io.tcptuning.api.v1alpha1;

import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.Plural;
import io.fabric8.kubernetes.model.annotation.ShortNames;
import io.fabric8.kubernetes.model.annotation.Singular;
import io.fabric8.kubernetes.model.annotation.Version;

/**
 * What one node's agent observed and did, named after the node and written only by that node's
 * agent. Cluster scoped; owned by the Node, so it goes away with it.
 */
@Group(TcpTuningPolicy.GROUP)
@Version(TcpTuningPolicy.VERSION)
@Plural("tcptuningnodestates")
@Singular("tcptuningnodestate")
@ShortNames("ttns")
@AdditionalPrinterColumn(name = "Policy", jsonPath = ".status.policy", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Phase", jsonPath = ".status.phase", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Kernel", jsonPath = ".status.kernel", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Time-Wait", jsonPath = ".status.timeWait.total", type = AdditionalPrinterColumn.Type.INTEGER)
@AdditionalPrinterColumn(name = "Pressure", jsonPath = ".status.timeWait.maxDestinationPressure", type = AdditionalPrinterColumn.Type.NUMBER)
@AdditionalPrinterColumn(name = "Worst-Pod", jsonPath = ".status.worstPod.pod", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Pod-Pressure", jsonPath = ".status.worstPod.maxDestinationPressure", type = AdditionalPrinterColumn.Type.NUMBER)
@AdditionalPrinterColumn(name = "Pods-Tuned", jsonPath = ".status.pods.tuned", type = AdditionalPrinterColumn.Type.INTEGER, priority = 1)
@AdditionalPrinterColumn(name = "Applied", jsonPath = ".status.conditions[?(@.type==\"Applied\")].status", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Age", jsonPath = ".metadata.creationTimestamp", type = AdditionalPrinterColumn.Type.DATE)
public class TcpTuningNodeState extends CustomResource<Void, TcpTuningNodeStateStatus> {}
