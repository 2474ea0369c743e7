package io.tcptuning.agent.kube;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Consumer;

/**
 * A one-object informer: LIST the collection with {@code fieldSelector=metadata.name=<name>},
 * report the object (or its absence), then WATCH from the list's resourceVersion over HTTP
 * streaming, one JSON event per line. A watch that ends (the server's timeout, an ERROR event such
 * as 410 Gone, a broken connection) is followed by a fresh LIST, so nothing missed in between is
 * lost; failures back off exponentially (1 s doubling to 30 s), reset once a watch delivers.
 *
 * <p>The callback runs on the watch thread, {@value #THREAD_NAME}, one call at a time. A version
 * already reported (same resourceVersion, or absent again) is not reported twice.
 */
public final class ObjectWatch implements AutoCloseable {
  public static final String THREAD_NAME = "policy-watch";
  private static final System.Logger LOG = System.getLogger(ObjectWatch.class.getName());
  private static final Duration FIRST_BACKOFF = Duration.ofSeconds(1);
  private static final Duration MAX_BACKOFF = Duration.ofSeconds(30);

  private final KubeApi api;
  private final String collectionPath;
  private final String name;
  private final Consumer<Optional<Map<String, Object>>> onChange;
  private final Thread thread;
  private volatile boolean closed;
  private volatile WatchStream stream;
  /** resourceVersion of what was last reported; "" for absent; null before the first report. */
  private String reported;

  ObjectWatch(KubeApi api, String collectionPath, String name, Consumer<Optional<Map<String, Object>>> onChange) {
    this.api = api;
    this.collectionPath = Objects.requireNonNull(collectionPath, "collectionPath");
    this.name = Objects.requireNonNull(name, "name");
    this.onChange = Objects.requireNonNull(onChange, "onChange");
    // Created here, on the caller's thread: a thread inherits its creator's network namespace.
    this.thread = new Thread(this::run, THREAD_NAME);
    thread.setDaemon(true);
    thread.start();
  }

  /** Stops the watch thread: closes the stream and waits briefly for the thread to end. */
  @Override
  public void close() {
    closed = true;
    WatchStream s = stream;
    if (s != null) {
      try {
        s.close();
      } catch (IOException ignored) {
        // Closing is all that was asked.
      }
    }
    thread.interrupt();
    if (Thread.currentThread() != thread) {
      try {
        thread.join(5_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private void run() {
    Duration backoff = FIRST_BACKOFF;
    while (!closed) {
      boolean delivered = false;
      try {
        String resourceVersion = list();
        delivered = watch(resourceVersion);
      } catch (IOException | RuntimeException e) {
        if (closed) {
          return;
        }
        LOG.log(System.Logger.Level.WARNING, "watch " + collectionPath + "/" + name + " failed, again in "
            + backoff.toSeconds() + "s: " + e.getMessage());
      }
      if (delivered) {
        backoff = FIRST_BACKOFF;
        continue;
      }
      // Nothing came through (an error, or a stream that closed at once): wait before listing again.
      try {
        Thread.sleep(backoff);
      } catch (InterruptedException e) {
        return;
      }
      backoff = backoff.multipliedBy(2).compareTo(MAX_BACKOFF) > 0 ? MAX_BACKOFF : backoff.multipliedBy(2);
    }
  }

  /** LISTs, reports what it found and returns the list's resourceVersion. */
  @SuppressWarnings("unchecked")
  private String list() throws IOException {
    Map<String, Object> list = api.get(collectionPath + "?fieldSelector=" + KubeApi.encode("metadata.name=" + name))
        .orElseThrow(() -> new IOException("GET " + collectionPath + " -> 404"));
    Map<String, Object> found = null;
    if (list.get("items") instanceof List<?> items) {
      for (Object item : items) {
        if (item instanceof Map<?, ?> m && name.equals(field(m, "metadata", "name"))) {
          found = (Map<String, Object>) m;
        }
      }
    }
    report(found);
    Object rv = field(list, "metadata", "resourceVersion");
    if (!(rv instanceof String s) || s.isEmpty()) {
      throw new IOException("list of " + collectionPath + " has no resourceVersion");
    }
    return s;
  }

  /**
   * WATCHes from {@code resourceVersion} until the stream ends; true when at least one event came.
   * Returns normally on the server's timeout and on an ERROR event (410 Gone included): the caller
   * lists again either way.
   */
  @SuppressWarnings("unchecked")
  private boolean watch(String resourceVersion) throws IOException {
    // Like client-go: a random timeout in [5, 10) minutes so that many agents do not re-list together.
    int timeoutSeconds = 300 + ThreadLocalRandom.current().nextInt(300);
    String path = collectionPath + "?fieldSelector=" + KubeApi.encode("metadata.name=" + name)
        + "&resourceVersion=" + KubeApi.encode(resourceVersion)
        + "&allowWatchBookmarks=true&timeoutSeconds=" + timeoutSeconds + "&watch=true";
    WatchStream c = new WatchStream();
    stream = c; // before connecting: close() must be able to stop a connect or a header read too
    boolean delivered = false;
    try (c) {
      if (closed) {
        return false;
      }
      api.openStream(c, path, Duration.ofSeconds(timeoutSeconds + 30L));
      InputStream in = c.body();
      for (byte[] line; (line = readLine(in)) != null; ) {
        if (line.length == 0) {
          continue;
        }
        Map<String, Object> event = api.parseObject(line);
        Object type = event.get("type");
        Map<String, Object> object = event.get("object") instanceof Map<?, ?> m ? (Map<String, Object>) m : Map.of();
        if ("ADDED".equals(type) || "MODIFIED".equals(type)) {
          if (name.equals(field(object, "metadata", "name"))) {
            report(object);
          }
        } else if ("DELETED".equals(type)) {
          if (name.equals(field(object, "metadata", "name"))) {
            report(null);
          }
        } else if ("ERROR".equals(type)) {
          // 410 Gone (the version is too old to watch from) is routine: list again at once. Any
          // other error counts as a failure, so that a server that keeps failing is not hammered.
          boolean gone = object.get("code") instanceof Number code && code.intValue() == 410;
          LOG.log(System.Logger.Level.DEBUG, "watch " + collectionPath + "/" + name + " error event: "
              + object.get("code") + " " + object.get("message"));
          return gone;
        }
        // BOOKMARK: only moves the resourceVersion on, which a fresh LIST does anyway.
        delivered = true;
      }
      return delivered;
    } finally {
      stream = null;
    }
  }

  private void report(Map<String, Object> object) {
    String version = object == null ? "" : String.valueOf(field(object, "metadata", "resourceVersion"));
    if (version.equals(reported)) {
      return;
    }
    reported = version;
    try {
      onChange.accept(Optional.ofNullable(object));
    } catch (RuntimeException e) {
      LOG.log(System.Logger.Level.WARNING, "watch " + collectionPath + "/" + name + " callback failed", e);
    }
  }

  private static Object field(Map<?, ?> object, String outer, String inner) {
    return object.get(outer) instanceof Map<?, ?> m ? m.get(inner) : null;
  }

  /** One line without its newline, null at the end of the stream; bounded like any body. */
  private static byte[] readLine(InputStream in) throws IOException {
    ByteArrayOutputStream line = new ByteArrayOutputStream();
    int b;
    while ((b = in.read()) >= 0 && b != '\n') {
      if (line.size() >= KubeApi.MAX_BODY_BYTES) {
        throw new IOException("watch event larger than " + KubeApi.MAX_BODY_BYTES + " bytes");
      }
      line.write(b);
    }
    return b < 0 && line.size() == 0 ? null : line.toByteArray();
  }
}
