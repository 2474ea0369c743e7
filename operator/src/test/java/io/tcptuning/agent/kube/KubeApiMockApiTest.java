package io.tcptuning.agent.kube;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.tcptuning.agent.NodeStateReporter;
import io.tcptuning.testing.HttpWatchBridge;
import io.tcptuning.testing.MockApiServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** {@link KubeApi} against fabric8's mock API server (CRUD mode) behind {@link HttpWatchBridge}. */
@Timeout(120)
class KubeApiMockApiTest {
  static final String POLICIES = "/apis/tcptuning.io/v1alpha1/tcptuningpolicies";
  static final String NODE_STATES = "/apis/tcptuning.io/v1alpha1/tcptuningnodestates";

  static {
    // The mock logs every request at INFO through java.util.logging.
    java.util.logging.Logger.getLogger("io.fabric8.mockwebserver").setLevel(java.util.logging.Level.WARNING);
  }

  MockApiServer mock;
  HttpWatchBridge bridge;
  KubeApi api;
  /** Straight to the mock, bypassing the bridge: to change objects while the bridge is down. */
  KubeApi direct;

  @BeforeEach
  void start() throws Exception {
    mock = new MockApiServer();
    bridge = new HttpWatchBridge(mock);
    api = KubeApi.create(KubeApi.Config.of(bridge.url(), () -> "t0k3n"), NodeStateReporter.JSON);
    direct = KubeApi.create(KubeApi.Config.of("http://127.0.0.1:" + mock.port(), () -> null), NodeStateReporter.JSON);
  }

  @AfterEach
  void stop() {
    api.close();
    direct.close();
    bridge.close();
    mock.close();
  }

  @Test
  void getOfAMissingObjectIsEmpty() throws Exception {
    assertThat(api.get(POLICIES + "/" + KubeApi.encode("absent"))).isEmpty();
  }

  @Test
  void postThenGetReturnsTheStoredObjectWithTheAgentsHeaders() throws Exception {
    Map<String, Object> created = api.post(POLICIES, policy("p1", true));

    assertThat(metadata(created).get("resourceVersion")).isInstanceOf(String.class);
    Map<String, Object> read = api.get(POLICIES + "/p1").orElseThrow();
    assertThat(metadata(read).get("name")).isEqualTo("p1");
    assertThat(read.get("spec")).isEqualTo(Map.of("priority", 5L, "mode", "Enforce"));
    assertThat(bridge.requests()).allSatisfy(r -> {
      assertThat(r.authorization()).isEqualTo("Bearer t0k3n");
      assertThat(r.userAgent()).isEqualTo("tcptune-agent");
    });
  }

  @Test
  void putStatusWithTheCurrentVersionSucceedsAndAStaleOneIsAConflict() throws Exception {
    Map<String, Object> state = api.post(NODE_STATES, Map.of("apiVersion", "tcptuning.io/v1alpha1",
        "kind", "TcpTuningNodeState", "metadata", Map.of("name", "node-1")));
    String firstVersion = (String) metadata(state).get("resourceVersion");

    state.put("status", Map.of("phase", "Applied", "policy", "p1"));
    Map<String, Object> updated = api.put(NODE_STATES + "/node-1/status", state);

    assertThat(updated.get("status")).isEqualTo(Map.of("phase", "Applied", "policy", "p1"));
    assertThat(metadata(updated).get("resourceVersion")).isNotEqualTo(firstVersion);
    // The same body again still carries the first resourceVersion: the server refuses it. (The
    // mock checks the version on the object's own path only, not on /status as a real server does.)
    state.put("status", Map.of("phase", "Failed", "policy", "p1"));
    assertThatThrownBy(() -> api.put(NODE_STATES + "/node-1", state))
        .isInstanceOfSatisfying(KubeApiException.class, e -> {
          assertThat(e.code()).isEqualTo(409);
          // A real server's reason is Conflict; the mock answers every 409 with Invalid.
          assertThat(e.reason()).isEqualTo("Invalid");
          assertThat(e.statusMessage()).contains("the object has been modified");
          assertThat(e.getMessage()).startsWith("PUT " + NODE_STATES + "/node-1 -> 409 Invalid: ");
        });
    assertThat(api.get(NODE_STATES + "/node-1").orElseThrow().get("status")).isEqualTo(Map.of("phase", "Applied", "policy", "p1"));
  }

  @Test
  void creatingTwiceIsAConflictWithTheStatusMessage() throws Exception {
    api.post(POLICIES, policy("p1", false));

    // A real server says reason AlreadyExists; the mock says Invalid. Either way it comes through.
    assertThatThrownBy(() -> api.post(POLICIES, policy("p1", false)))
        .isInstanceOfSatisfying(KubeApiException.class, e -> {
          assertThat(e.code()).isEqualTo(409);
          assertThat(e.reason()).isEqualTo("Invalid");
          assertThat(e.statusMessage()).contains("p1");
        });
  }

  @Test
  void theTokenFileIsReadAgainWhenItChanges(@TempDir Path dir) throws Exception {
    Path token = dir.resolve("token");
    Files.writeString(token, "first\n");
    try (KubeApi fromEnv = KubeApi.fromEnvironment(
        Map.of(KubeApi.ENV_SERVER, bridge.url(), KubeApi.ENV_TOKEN_FILE, token.toString()), NodeStateReporter.JSON)) {
      fromEnv.get(POLICIES + "/p1");
      // The kubelet swaps the file for a new one when it rotates the token.
      Files.writeString(token, "second\n");
      Files.setLastModifiedTime(token, FileTime.from(Instant.now().plusSeconds(10)));
      fromEnv.get(POLICIES + "/p1");
    }

    assertThat(bridge.requests()).extracting(HttpWatchBridge.SeenRequest::authorization)
        .containsExactly("Bearer first", "Bearer second");
  }

  @Test
  void watchOneFollowsAnObjectFromAbsentThroughDeletion() throws Exception {
    List<Optional<Map<String, Object>>> seen = new CopyOnWriteArrayList<>();
    try (ObjectWatch watch = api.watchOne(POLICIES, "p1", seen::add)) {
      await().atMost(Duration.ofSeconds(10)).until(() -> bridge.watchesOpened() == 1);
      assertThat(seen).containsExactly(Optional.empty());

      api.post(POLICIES, policy("p1", true));
      await().atMost(Duration.ofSeconds(10)).until(() -> seen.size() == 2);
      assertThat(metadata(seen.get(1).orElseThrow()).get("name")).isEqualTo("p1");

      // With the finalizer, deleting only marks the object: the agent's cue to revert.
      try (var client = mock.newClient()) { // the agent never deletes; a user does
        client.resources(io.tcptuning.api.v1alpha1.TcpTuningPolicy.class).withName("p1").delete();
      }
      await().atMost(Duration.ofSeconds(10)).until(() -> seen.size() == 3);
      Map<String, Object> marked = seen.get(2).orElseThrow();
      assertThat(metadata(marked).get("deletionTimestamp")).isNotNull();

      // The operator removes the finalizer once every node has reverted: now it is gone.
      metadata(marked).put("finalizers", List.of());
      api.put(POLICIES + "/p1", marked);
      await().atMost(Duration.ofSeconds(10)).until(() -> seen.size() == 4 && seen.get(3).isEmpty());
      assertThat(bridge.watchesOpened()).isEqualTo(1);
    }
  }

  @Test
  void watchOneListsAgainAfterAnOutageAndAfter410Gone() throws Exception {
    api.post(POLICIES, policy("p1", false));
    List<Optional<Map<String, Object>>> seen = new CopyOnWriteArrayList<>();
    try (ObjectWatch watch = api.watchOne(POLICIES, "p1", seen::add)) {
      await().atMost(Duration.ofSeconds(10)).until(() -> bridge.watchesOpened() == 1);
      assertThat(seen).hasSize(1);

      // A change while the client cannot reach the server shows up through the next LIST.
      bridge.stop();
      setPriority(direct, "p1", 6);
      bridge.start();
      await().atMost(Duration.ofSeconds(20)).until(() -> priorities(seen).equals(List.of(5L, 6L)));
      await().atMost(Duration.ofSeconds(20)).until(() -> bridge.watchesOpened() == 2);

      // The whole API server restarts: the watch is re-established and follows changes again.
      bridge.stop();
      mock.stop();
      mock.start();
      bridge.start();
      await().atMost(Duration.ofSeconds(20)).until(() -> bridge.watchesOpened() == 3);
      setPriority(direct, "p1", 7);
      await().atMost(Duration.ofSeconds(10)).until(() -> priorities(seen).equals(List.of(5L, 6L, 7L)));

      // 410 Gone ends the watch; the client lists again at once and watches from there.
      bridge.expireWatches();
      await().atMost(Duration.ofSeconds(10)).until(() -> bridge.watchesOpened() == 4);
      setPriority(direct, "p1", 8);
      await().atMost(Duration.ofSeconds(10)).until(() -> priorities(seen).equals(List.of(5L, 6L, 7L, 8L)));
    }
  }

  @Test
  void closeStopsTheWatchThread() throws Exception {
    ObjectWatch watch = api.watchOne(POLICIES, "p1", o -> {});
    await().atMost(Duration.ofSeconds(10)).until(() -> bridge.watchesOpened() == 1);
    Thread thread = Thread.getAllStackTraces().keySet().stream()
        .filter(t -> t.getName().equals(ObjectWatch.THREAD_NAME)).findFirst().orElseThrow();
    assertThat(thread.isDaemon()).isTrue();

    watch.close();

    assertThat(thread.isAlive()).isFalse();
  }

  private static void setPriority(KubeApi api, String name, int priority) throws Exception {
    Map<String, Object> p = api.get(POLICIES + "/" + name).orElseThrow();
    Map<String, Object> spec = new HashMap<>(spec(p));
    spec.put("priority", priority);
    p.put("spec", spec);
    api.put(POLICIES + "/" + name, p);
  }

  private static List<Object> priorities(List<Optional<Map<String, Object>>> seen) {
    List<Object> out = new ArrayList<>();
    for (Optional<Map<String, Object>> o : seen) {
      out.add(o.map(p -> spec(p).get("priority")).orElse(null));
    }
    return out;
  }

  static Map<String, Object> policy(String name, boolean withFinalizer) {
    Map<String, Object> metadata = new HashMap<>(Map.of("name", name));
    if (withFinalizer) {
      metadata.put("finalizers", List.of("tcptuning.io/revert"));
    }
    return Map.of("apiVersion", "tcptuning.io/v1alpha1", "kind", "TcpTuningPolicy", "metadata", metadata,
        "spec", Map.of("priority", 5, "mode", "Enforce"));
  }

  @SuppressWarnings("unchecked")
  static Map<String, Object> metadata(Map<String, Object> object) {
    return (Map<String, Object>) object.get("metadata");
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> spec(Map<String, Object> object) {
    return (Map<String, Object>) object.get("spec");
  }
}
