package io.tcptuning.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import java.util.Objects;

/**
 * The TIME_WAIT census of one pod's network namespace. A pod without hostNetwork has a namespace
 * of its own, with its own sockets and its own port range; hostNetwork pods are counted in the
 * node's figures instead.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class PodPressure implements TimeWaitFigures {
  @JsonPropertyDescription("The pod, as namespace/name.")
  private String pod;

  @JsonPropertyDescription("The node the pod runs on (in a policy's status; absent in a node's own report).")
  private String node;

  @JsonPropertyDescription("The inode of the pod's network namespace (stat -L -c %i /proc/PID/ns/net).")
  private Long netnsInode;

  @JsonPropertyDescription("TIME_WAIT sockets in the pod's network namespace (IPv4 and IPv6).")
  private long timeWait;

  @JsonPropertyDescription("Size of the pod namespace's ephemeral port range (max - min + 1).")
  private int portRangeSize;

  @JsonPropertyDescription("timeWait / portRangeSize: an upper bound of the real pressure.")
  private double pressure;

  @JsonPropertyDescription(
      "Sockets holding an ephemeral port to the pod's hottest destination / portRangeSize: the real"
          + " pressure. At 1.0 connect() to that destination fails with errno 99.")
  private double maxDestinationPressure;

  @JsonPropertyDescription("The pod's hottest destination, ip:port.")
  private String hottestDestination;

  public PodPressure() {}

  public String getPod() {
    return pod;
  }

  public void setPod(String pod) {
    this.pod = pod;
  }

  public String getNode() {
    return node;
  }

  public void setNode(String node) {
    this.node = node;
  }

  public Long getNetnsInode() {
    return netnsInode;
  }

  public void setNetnsInode(Long netnsInode) {
    this.netnsInode = netnsInode;
  }

  public long getTimeWait() {
    return timeWait;
  }

  public void setTimeWait(long timeWait) {
    this.timeWait = timeWait;
  }

  public int getPortRangeSize() {
    return portRangeSize;
  }

  public void setPortRangeSize(int portRangeSize) {
    this.portRangeSize = portRangeSize;
  }

  public double getPressure() {
    return pressure;
  }

  public void setPressure(double pressure) {
    this.pressure = pressure;
  }

  public double getMaxDestinationPressure() {
    return maxDestinationPressure;
  }

  public void setMaxDestinationPressure(double maxDestinationPressure) {
    this.maxDestinationPressure = maxDestinationPressure;
  }

  public String getHottestDestination() {
    return hottestDestination;
  }

  public void setHottestDestination(String hottestDestination) {
    this.hottestDestination = hottestDestination;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof PodPressure p
        && Objects.equals(pod, p.pod)
        && Objects.equals(node, p.node)
        && Objects.equals(netnsInode, p.netnsInode)
        && timeWait == p.timeWait
        && portRangeSize == p.portRangeSize
        && Double.compare(pressure, p.pressure) == 0
        && Double.compare(maxDestinationPressure, p.maxDestinationPressure) == 0
        && Objects.equals(hottestDestination, p.hottestDestination);
  }

  @Override
  public int hashCode() {
    return Objects.hash(pod, node, netnsInode, timeWait, portRangeSize, pressure, maxDestinationPressure, hottestDestination);
  }
}
