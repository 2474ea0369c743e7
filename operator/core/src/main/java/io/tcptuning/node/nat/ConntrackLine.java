package io.tcptuning.node.nat;

import java.util.HashMap;
import java.util.Map;

/**
 * One line of {@code /proc/net/nf_conntrack}: the original tuple comes first
 * ({@code src= dst= sport= dport=}), the reply tuple second. Without NAT the reply is the
 * original mirrored; any other reply means an address or port was rewritten.
 */
final class ConntrackLine {
  private ConntrackLine() {}

  /** A short description when the entry was translated, else null (also for unparsable lines). */
  static String describeIfTranslated(String line) {
    Map<String, String> original = new HashMap<>();
    Map<String, String> reply = new HashMap<>();
    String proto = "?";
    String[] tokens = line.trim().split("\\s+");
    if (tokens.length > 2) {
      proto = tokens[2];
    }
    for (String token : tokens) {
      int eq = token.indexOf('=');
      if (eq <= 0) {
        continue;
      }
      String key = token.substring(0, eq);
      if (!key.equals("src") && !key.equals("dst") && !key.equals("sport") && !key.equals("dport")) {
        continue;
      }
      // The first occurrence of a key belongs to the original direction, the second to the reply.
      if (!original.containsKey(key)) {
        original.put(key, token.substring(eq + 1));
      } else if (!reply.containsKey(key)) {
        reply.put(key, token.substring(eq + 1));
      }
    }
    if (!original.containsKey("src") || !original.containsKey("dst") || !reply.containsKey("src") || !reply.containsKey("dst")) {
      return null;
    }
    boolean mirrored =
        original.get("dst").equals(reply.get("src"))
            && original.get("src").equals(reply.get("dst"))
            && same(original.get("dport"), reply.get("sport"))
            && same(original.get("sport"), reply.get("dport"));
    if (mirrored) {
      return null;
    }
    return proto
        + " "
        + endpoint(original.get("src"), original.get("sport"))
        + " -> "
        + endpoint(original.get("dst"), original.get("dport"))
        + ", reply from "
        + endpoint(reply.get("src"), reply.get("sport"))
        + " to "
        + endpoint(reply.get("dst"), reply.get("dport"));
  }

  private static boolean same(String a, String b) {
    return a == null ? b == null : a.equals(b);
  }

  private static String endpoint(String address, String port) {
    if (port == null) {
      return address;
    }
    return (address.indexOf(':') >= 0 ? "[" + address + "]" : address) + ":" + port;
  }
}
