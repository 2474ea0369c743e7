package io.tcptuning.testing;

import java.nio.file.Path;
import java.util.Map;

/** How a process in a pod finds its API server, for tests that start agents and operators as pods would. */
public final class PodEnvironment {
  private PodEnvironment() {}

  /**
   * The environment fabric8 reads in a pod: the service host and port, the service-account token
   * file and the CA. A kubeconfig beside the token that does not exist keeps the caller's own
   * kubeconfig out.
   */
  public static Map<String, String> of(String host, int port, Path tokenFile, Path caFile) {
    return Map.of(
        "KUBERNETES_SERVICE_HOST", host,
        "KUBERNETES_SERVICE_PORT", Integer.toString(port),
        "KUBERNETES_AUTH_SERVICEACCOUNT_TOKEN", tokenFile.toString(),
        "KUBERNETES_CERTS_CA_FILE", caFile.toString(),
        "KUBECONFIG", tokenFile.resolveSibling("no-kubeconfig").toString());
  }
}
