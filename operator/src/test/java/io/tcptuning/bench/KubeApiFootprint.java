package io.tcptuning.bench;

import io.tcptuning.agent.kube.JsonCodec;
import io.tcptuning.agent.kube.KubeApi;
import io.tcptuning.agent.kube.ObjectWatch;
import io.tcptuning.testing.HttpWatchBridge;
import io.tcptuning.testing.MockApiServer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Not a test: the memory floor of {@link KubeApi} alone. {@code serve} runs the mock API server
 * behind the watch bridge in one JVM; {@code <url>} runs a client in another that does a few
 * requests and a watch, then sleeps for RSS and class counts to be read:
 *
 * <pre>
 * java -cp "$CP" io.tcptuning.bench.KubeApiFootprint serve &amp;
 * java -XX:+UseSerialGC -Xmx40m -XX:TieredStopAtLevel=1 -Xlog:class+load:file=/tmp/cl.txt \
 *   -cp target/classes:target/test-classes io.tcptuning.bench.KubeApiFootprint http://127.0.0.1:PORT
 * grep VmRSS /proc/$PID/status
 * </pre>
 *
 * The JSON codec here is a deliberately tiny one, so that no JSON library is counted.
 */
public final class KubeApiFootprint {
  private static final String POLICIES = "/apis/tcptuning.io/v1alpha1/tcptuningpolicies";

  public static void main(String[] args) throws Exception {
    if (args[0].equals("serve")) {
      MockApiServer mock = new MockApiServer();
      HttpWatchBridge bridge = new HttpWatchBridge(mock);
      System.out.println(bridge.url());
      Thread.sleep(Long.MAX_VALUE);
    }
    try (KubeApi api = KubeApi.create(KubeApi.Config.of(args[0], () -> "token"), new TinyJson())) {
      ObjectWatch watch = api.watchOne(POLICIES, "p1", o -> System.out.println("watch: " + (o.isPresent() ? "present" : "absent")));
      Map<String, Object> spec = new LinkedHashMap<>(Map.of("priority", 5L));
      Map<String, Object> p = api.post(POLICIES, Map.of("apiVersion", "tcptuning.io/v1alpha1", "kind", "TcpTuningPolicy",
          "metadata", Map.of("name", "p1"), "spec", spec));
      for (long i = 6; i < 20; i++) {
        p = api.get(POLICIES + "/p1").orElseThrow();
        p.put("spec", Map.of("priority", i));
        api.put(POLICIES + "/p1", p);
      }
      System.out.println("pid " + ProcessHandle.current().pid() + " ready");
      Thread.sleep(Long.MAX_VALUE);
      watch.close();
    }
  }

  /** Just enough JSON for this check: objects, arrays, strings (simple escapes), numbers, literals. */
  static final class TinyJson implements JsonCodec {
    @Override
    public Object parse(byte[] json) throws IOException {
      String s = new String(json, StandardCharsets.UTF_8);
      int[] at = {0};
      return value(s, at);
    }

    private static Object value(String s, int[] at) throws IOException {
      skip(s, at);
      char c = s.charAt(at[0]);
      if (c == '{') {
        Map<String, Object> m = new LinkedHashMap<>();
        at[0]++;
        skip(s, at);
        if (s.charAt(at[0]) == '}') {
          at[0]++;
          return m;
        }
        while (true) {
          skip(s, at);
          String k = (String) value(s, at);
          skip(s, at);
          at[0]++; // ':'
          m.put(k, value(s, at));
          skip(s, at);
          if (s.charAt(at[0]++) == '}') {
            return m;
          }
        }
      }
      if (c == '[') {
        List<Object> l = new ArrayList<>();
        at[0]++;
        skip(s, at);
        if (s.charAt(at[0]) == ']') {
          at[0]++;
          return l;
        }
        while (true) {
          l.add(value(s, at));
          skip(s, at);
          if (s.charAt(at[0]++) == ']') {
            return l;
          }
        }
      }
      if (c == '"') {
        StringBuilder b = new StringBuilder();
        for (at[0]++; s.charAt(at[0]) != '"'; at[0]++) {
          if (s.charAt(at[0]) == '\\') {
            at[0]++;
          }
          b.append(s.charAt(at[0]));
        }
        at[0]++;
        return b.toString();
      }
      int start = at[0];
      while (at[0] < s.length() && ",}] \n\r\t".indexOf(s.charAt(at[0])) < 0) {
        at[0]++;
      }
      String lit = s.substring(start, at[0]);
      return switch (lit) {
        case "true" -> true;
        case "false" -> false;
        case "null" -> null;
        default -> lit.contains(".") ? (Object) Double.parseDouble(lit) : (Object) Long.parseLong(lit);
      };
    }

    private static void skip(String s, int[] at) {
      while (at[0] < s.length() && Character.isWhitespace(s.charAt(at[0]))) {
        at[0]++;
      }
    }

    @Override
    public byte[] write(Object value) {
      StringBuilder b = new StringBuilder();
      write(value, b);
      return b.toString().getBytes(StandardCharsets.UTF_8);
    }

    private static void write(Object v, StringBuilder b) {
      if (v instanceof Map<?, ?> m) {
        b.append('{');
        String sep = "";
        for (Map.Entry<?, ?> e : m.entrySet()) {
          b.append(sep);
          write(String.valueOf(e.getKey()), b);
          b.append(':');
          write(e.getValue(), b);
          sep = ",";
        }
        b.append('}');
      } else if (v instanceof List<?> l) {
        b.append('[');
        for (int i = 0; i < l.size(); i++) {
          b.append(i == 0 ? "" : ",");
          write(l.get(i), b);
        }
        b.append(']');
      } else if (v instanceof String str) {
        b.append('"').append(str.replace("\\", "\\\\").replace("\"", "\\\"")).append('"');
      } else {
        b.append(v);
      }
    }
  }
}
