package io.tcptuning.api.v1alpha1;

/**
 * The TIME_WAIT figures one network namespace's census gives, as the node's report
 * ({@link TcpTuningNodeStateStatus.TimeWait}) and each pod's ({@link PodPressure}) show them: one
 * shape, so that the agent fills both from a census in one place. The socket count itself is
 * named for its place ({@code total} on the node, {@code timeWait} on a pod). Only accessors the
 * classes already have: nothing here changes the CRD schema.
 */
public interface TimeWaitFigures {
  int getPortRangeSize();

  void setPortRangeSize(int portRangeSize);

  double getPressure();

  void setPressure(double pressure);

  double getMaxDestinationPressure();

  void setMaxDestinationPressure(double maxDestinationPressure);

  String getHottestDestination();

  void setHottestDestination(String hottestDestination);
}
