package io.tcptuning.node.nat;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * The fallback when netlink is refused: {@code nft -j list ruleset}, run as a child of the calling
 * thread (a child process starts in the network namespace of the thread that forks it, so a thread
 * that setns(2)'d lists its new namespace), parsed with Jackson into the same {@link NftRuleset}.
 */
final class NftJsonRuleset {
  static final String SOURCE = "nft -j list ruleset";
  /** xtables targets that translate, as iptables-nft may keep them ({@code xt target MASQUERADE}). */
  static final Set<String> XT_NAT_TARGETS = Set.of("MASQUERADE", "SNAT", "DNAT", "REDIRECT", "NETMAP");
  /** nft JSON statements that translate. */
  private static final Set<String> NAT_STATEMENTS = Set.of("masquerade", "snat", "dnat", "redirect");

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final long TIMEOUT_SECONDS = 10;
  /** A rule set larger than this is not read to the end (the NAT check needs no more). */
  private static final int MAX_OUTPUT = 64 * 1024 * 1024;
  private static final List<Path> SBIN = List.of(Path.of("/usr/sbin"), Path.of("/sbin"), Path.of("/usr/local/sbin"));

  private NftJsonRuleset() {}

  /** The nft binary: on PATH, or in an sbin directory a container's PATH may lack. */
  static Optional<Path> findNft(String pathVariable) {
    var dirs = new LinkedHashSet<Path>();
    if (pathVariable != null) {
      for (String d : pathVariable.split(":")) {
        if (!d.isEmpty()) {
          dirs.add(Path.of(d));
        }
      }
    }
    dirs.addAll(SBIN);
    return dirs.stream().map(d -> d.resolve("nft")).filter(Files::isExecutable).findFirst();
  }

  /** Runs {@code nft -j list ruleset} and parses what it prints. */
  static NftRuleset run(Path nft) throws IOException {
    Process p = new ProcessBuilder(nft.toString(), "-j", "list", "ruleset").redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
    try {
      var err = new ByteArrayOutputStream();
      // A platform thread that ends with the process, never a virtual one: the caller may be
      // inside another network namespace, and the carrier threads a first virtual thread starts
      // would be created there and stay there for the life of the JVM.
      Thread errReader = Thread.ofPlatform().daemon().name("nft-stderr").start(() -> drain(p.getErrorStream(), err, 4096));
      var out = new ByteArrayOutputStream();
      boolean complete = drain(p.getInputStream(), out, MAX_OUTPUT);
      if (!p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
        throw new IOException(SOURCE + " did not finish within " + TIMEOUT_SECONDS + "s");
      }
      errReader.join(TimeUnit.SECONDS.toMillis(1));
      if (p.exitValue() != 0) {
        String said = firstLine(err.toString(StandardCharsets.UTF_8));
        throw new IOException(SOURCE + " exited " + p.exitValue() + (said.isEmpty() ? "" : ": " + said));
      }
      if (!complete) {
        throw new IOException(SOURCE + " printed more than " + MAX_OUTPUT / (1024 * 1024) + " MiB");
      }
      return parse(out.toString(StandardCharsets.UTF_8));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException(SOURCE + " interrupted");
    } finally {
      p.destroyForcibly();
    }
  }

  /** Reads {@code in} to its end, keeping at most {@code limit} bytes; false when some were dropped. */
  private static boolean drain(InputStream in, ByteArrayOutputStream into, int limit) {
    byte[] chunk = new byte[8192];
    boolean kept = true;
    try (in) {
      int n;
      while ((n = in.read(chunk)) >= 0) {
        int room = limit - into.size();
        into.write(chunk, 0, Math.max(0, Math.min(room, n)));
        kept &= n <= room;
      }
    } catch (IOException e) {
      // The process went away: what was read is what there is.
    }
    return kept;
  }

  private static String firstLine(String s) {
    String line = s.strip().lines().findFirst().orElse("");
    return line.length() > 200 ? line.substring(0, 200) + "..." : line;
  }

  /** Parses the JSON of {@code nft -j list ruleset} (libnftables JSON schema 1). */
  static NftRuleset parse(String json) throws IOException {
    JsonNode root;
    try {
      root = JSON.readTree(json);
    } catch (JacksonException e) {
      throw new IOException(SOURCE + " printed something other than JSON (" + e.getOriginalMessage() + ")");
    }
    JsonNode items = root == null ? null : root.get("nftables");
    if (items == null || !items.isArray()) {
      throw new IOException(SOURCE + " printed JSON without an \"nftables\" array");
    }
    var b = new NftRuleset.Builder();
    b.rulesInspected = true;
    List<JsonNode> rules = new ArrayList<>();
    for (JsonNode item : items) {
      if (item.hasNonNull("table")) {
        JsonNode t = item.get("table");
        b.tables.add(new NftRuleset.Table(text(t, "family"), text(t, "name")));
      } else if (item.hasNonNull("chain")) {
        JsonNode c = item.get("chain");
        b.chain(new NftRuleset.Chain(text(c, "family"), text(c, "table"), text(c, "name"), textOrNull(c, "type"), textOrNull(c, "hook")));
      } else if (item.hasNonNull("rule")) {
        rules.add(item.get("rule"));
      }
    }
    for (JsonNode r : rules) {
      String statement = natStatement(r.get("expr"));
      if (statement != null) {
        b.natRules.add(new NftRuleset.NatRule(text(r, "family"), text(r, "table"), text(r, "chain"), r.path("handle").asLong(-1), statement));
      }
    }
    return b.build(SOURCE);
  }

  private static String natStatement(JsonNode expressions) {
    if (expressions == null || !expressions.isArray()) {
      return null;
    }
    for (JsonNode e : expressions) {
      if (!e.isObject()) {
        continue;
      }
      for (var names = e.fieldNames(); names.hasNext(); ) {
        String name = names.next();
        if (NAT_STATEMENTS.contains(name)) {
          return name;
        }
        if (name.equals("xt")) {
          JsonNode xt = e.get("xt");
          String target = xt == null ? null : textOrNull(xt, "name");
          if ("target".equals(textOrNull(xt, "type")) && target != null && XT_NAT_TARGETS.contains(target)) {
            return "xt target " + target;
          }
        }
      }
    }
    return null;
  }

  private static String text(JsonNode node, String field) {
    String s = textOrNull(node, field);
    return s == null ? "?" : s;
  }

  private static String textOrNull(JsonNode node, String field) {
    JsonNode v = node == null ? null : node.get(field);
    if (v == null || !v.isValueNode() || v.isNull()) {
      return null;
    }
    String s = v.asText();
    StringBuilder out = new StringBuilder();
    s.codePoints().limit(256).forEach(c -> out.appendCodePoint(Character.isISOControl(c) ? '?' : c));
    return out.toString();
  }
}
