package io.tcptuning.operator;

import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.tcptuning.api.v1alpha1.TcpTuningNodeState;
import io.tcptuning.api.v1alpha1.TcpTuningNodeStateStatus;
import io.tcptuning.api.v1alpha1.TcpTuningPolicy;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;

/** Helpers for tests against fabric8's KubernetesMockServer in CRUD mode. */
final class MockApi {
  static final String NAMESPACE = "tcp-tuning-system";
  /** The mock logs every request through java.util.logging at INFO; keep a reference so the level sticks. */
  private static final java.util.logging.Logger MOCK_LOG = java.util.logging.Logger.getLogger("io.fabric8.mockwebserver");

  static {
    MOCK_LOG.setLevel(java.util.logging.Level.WARNING);
  }

  private MockApi() {}

  /**
   * Registers the CRDs the build generated at process-classes (target/classes, on the class path),
   * with their status subresource, in the mock.
   */
  static void registerCrds(KubernetesClient client) {
    for (String plural : List.of("tcptuningpolicies", "tcptuningnodestates")) {
      String resource = "META-INF/fabric8/" + plural + ".tcptuning.io-v1.yml";
      try (InputStream in = MockApi.class.getClassLoader().getResourceAsStream(resource)) {
        if (in == null) {
          throw new IllegalStateException(resource + " is missing: the CRDs are generated at process-classes");
        }
        CustomResourceDefinition crd = client.getKubernetesSerialization().unmarshal(in, CustomResourceDefinition.class);
        client.apiextensions().v1().customResourceDefinitions().resource(crd).create();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }

  /** Creates a policy as JOSDK would have it after the first event: with the finalizer. */
  static TcpTuningPolicy createPolicy(KubernetesClient client, TcpTuningPolicy p, boolean withFinalizer) {
    if (withFinalizer) {
      p.getMetadata().setFinalizers(new ArrayList<>(List.of(TcpTuningPolicyReconciler.FINALIZER)));
    }
    return client.resource(p).create();
  }

  static TcpTuningPolicy policy(KubernetesClient client, String name) {
    return client.resources(TcpTuningPolicy.class).withName(name).get();
  }

  /** Writes a node's report as its agent does: the object, then its status subresource. */
  static void report(KubernetesClient client, TcpTuningNodeState state) {
    TcpTuningNodeStateStatus status = state.getStatus();
    var existing = client.resources(TcpTuningNodeState.class).withName(state.getMetadata().getName()).get();
    if (existing == null) {
      TcpTuningNodeState fresh = new TcpTuningNodeState();
      fresh.getMetadata().setName(state.getMetadata().getName());
      existing = client.resource(fresh).create();
    }
    existing.setStatus(status);
    client.resource(existing).updateStatus();
  }

  static List<Event> events(KubernetesClient client, String reason) {
    return client.v1().events().inNamespace(PolicyEventRecorder.EVENT_NAMESPACE).list().getItems().stream().filter(e -> reason.equals(e.getReason())).toList();
  }

  static String rv(HasMetadata o) {
    return o.getMetadata().getResourceVersion();
  }

  /** A clock the test moves by hand. */
  static final class TestClock extends Clock {
    private volatile Instant now;

    TestClock(Instant start) {
      this.now = start;
    }

    void advance(Duration d) {
      now = now.plus(d);
    }

    @Override
    public ZoneOffset getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(java.time.ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return now;
    }
  }
}
