package io.tcptuning.apiserver;

import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.tcptuning.operator.OperatorScaleBench;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * Not a test: {@link OperatorScaleBench}'s two scenarios (5000 nodes, one policy and three
 * overlapping ones) against a real kube-apiserver and etcd instead of fabric8's mock, so that
 * convergence time and status writes can be read beside the mock's figures from the same run
 * ({@code operator/bench/operator-scale.sh} runs both).
 */
public final class RealApiServerScaleBench {
  private RealApiServerScaleBench() {}

  public static void main(String[] args) throws Exception {
    int n = args.length > 0 ? Integer.parseInt(args[0]) : 5000;
    OperatorScaleBench.runAll("a real kube-apiserver v" + RealApiServer.VERSION + " with etcd", n, RealApiServerScaleBench::realApiServer);
    System.exit(0);
  }

  private static OperatorScaleBench.ApiServer realApiServer() {
    RealApiServer server = new RealApiServer();
    try {
      server.start();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    server.installCrds();
    KubernetesClient client = server.client();
    client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(OperatorScaleBench.NS).endMetadata().build()).create();
    return new OperatorScaleBench.ApiServer() {
      @Override
      public KubernetesClient client() {
        return client;
      }

      @Override
      public void close() {
        server.stop();
      }
    };
  }
}
