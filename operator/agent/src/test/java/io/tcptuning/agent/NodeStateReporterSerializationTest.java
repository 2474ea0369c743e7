package io.tcptuning.agent;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Status;
import io.fabric8.kubernetes.api.model.WatchEvent;
import org.junit.jupiter.api.Test;

/** The agent's lean serialization still knows a watch's ERROR Status, so fabric8 sees 410 Gone and lists again. */
class NodeStateReporterSerializationTest {

  @Test
  void anExpiredWatchsErrorEventParsesAsAStatusWithCode410() {
    // What kube-apiserver 1.34 sent an agent whose watch resumed at a compacted resourceVersion.
    String event = "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","
        + "\"message\":\"too old resource version: 248 (253)\",\"reason\":\"Expired\",\"code\":410}}";
    WatchEvent parsed = NodeStateReporter.serialization().unmarshal(event, WatchEvent.class);
    assertThat(parsed.getObject()).isInstanceOfSatisfying(Status.class, s -> assertThat(s.getCode()).isEqualTo(410));
  }
}
