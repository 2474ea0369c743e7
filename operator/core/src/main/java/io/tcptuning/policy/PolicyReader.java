package io.tcptuning.policy;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonStreamContext;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.cfg.CoercionAction;
import com.fasterxml.jackson.databind.cfg.CoercionInputShape;
import com.fasterxml.jackson.databind.exc.InvalidFormatException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.type.LogicalType;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLParser;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.LabelSelectorRequirement;
import io.fabric8.kubernetes.api.model.Toleration;
import io.tcptuning.api.v1alpha1.PolicyBounds;
import io.tcptuning.api.v1alpha1.TcpTuningPolicy;
import io.tcptuning.api.v1alpha1.TcpTuningPolicySpec;
import io.tcptuning.domain.PolicyValidator;
import io.tcptuning.domain.Sysctl;
import io.tcptuning.domain.Violation;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.yaml.snakeyaml.LoaderOptions;

/**
 * The one reader of a policy, for every entry point: the CLI's manifests (YAML or JSON), the
 * agent's {@code TCPTUNE_POLICY_SPEC} (the spec as JSON, which the operator writes with {@link
 * #writeSpec}). Strict: bounded in size and depth, no anchors, aliases or tags, no duplicate keys,
 * no unknown fields, no coercion of strings, fractions or booleans to numbers, then {@link
 * PolicyValidator}, the validation the CRD applies. Every error names the field and what it
 * accepts.
 */
public final class PolicyReader {
  public static final String API_VERSION = TcpTuningPolicy.GROUP + "/" + TcpTuningPolicy.VERSION;
  public static final String KIND = "TcpTuningPolicy";
  public static final int MAX_BYTES = 1024 * 1024;
  public static final int MAX_DEPTH = 32;
  /** The field of errors about the file as a whole. */
  public static final String MANIFEST = "manifest";

  private static final Pattern NAME = Pattern.compile("^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$");
  private static final Pattern DUPLICATE = Pattern.compile("Duplicate field '([^']*)'");

  private static final StreamReadConstraints LIMITS = StreamReadConstraints.builder().maxNestingDepth(MAX_DEPTH).maxStringLength(MAX_BYTES).build();

  private final JsonFactory json;
  private final ObjectMapper binder;

  public PolicyReader() {
    json = JsonFactory.builder().streamReadConstraints(LIMITS).enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build();
    binder =
        JsonMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .enable(DeserializationFeature.FAIL_ON_NUMBERS_FOR_ENUMS)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT)
            .disable(MapperFeature.ALLOW_COERCION_OF_SCALARS)
            .withCoercionConfigDefaults(c -> c.setAcceptBlankAsEmpty(false))
            .withCoercionConfig(LogicalType.Integer, c -> c.setCoercion(CoercionInputShape.String, CoercionAction.Fail)
                .setCoercion(CoercionInputShape.Float, CoercionAction.Fail).setCoercion(CoercionInputShape.Boolean, CoercionAction.Fail))
            .withCoercionConfig(LogicalType.Textual, c -> c.setCoercion(CoercionInputShape.Integer, CoercionAction.Fail)
                .setCoercion(CoercionInputShape.Float, CoercionAction.Fail).setCoercion(CoercionInputShape.Boolean, CoercionAction.Fail))
            .withCoercionConfig(LogicalType.Boolean, c -> c.setCoercion(CoercionInputShape.String, CoercionAction.Fail)
                .setCoercion(CoercionInputShape.Integer, CoercionAction.Fail))
            .withCoercionConfig(LogicalType.Enum, c -> c.setCoercion(CoercionInputShape.Integer, CoercionAction.Fail))
            .build();
  }

  /** Reads a file, or standard input for {@code -}. */
  public TcpTuningPolicy read(String fileOrDash) throws InvalidPolicyException {
    if ("-".equals(fileOrDash)) {
      return read(System.in, "<stdin>");
    }
    Path path = Path.of(fileOrDash);
    try (InputStream in = Files.newInputStream(path)) {
      return read(in, fileOrDash);
    } catch (NoSuchFileException e) {
      throw InvalidPolicyException.unreadable(fileOrDash, "no such file: " + fileOrDash);
    } catch (AccessDeniedException e) {
      throw InvalidPolicyException.unreadable(fileOrDash, "permission denied: " + fileOrDash);
    } catch (IOException e) {
      throw InvalidPolicyException.unreadable(fileOrDash, "cannot read " + fileOrDash + ": " + e.getMessage());
    }
  }

  public TcpTuningPolicy read(InputStream in, String source) throws InvalidPolicyException {
    byte[] bytes;
    try {
      bytes = in.readNBytes(MAX_BYTES + 1);
    } catch (IOException e) {
      // A directory given as the file, a pipe that broke.
      throw InvalidPolicyException.unreadable(source, "cannot read " + source + ": " + e.getMessage());
    }
    if (bytes.length > MAX_BYTES) {
      throw new InvalidPolicyException(source, new Violation(MANIFEST, "is larger than 1 MiB (" + MAX_BYTES + " bytes); a policy is a few hundred bytes"));
    }
    return parse(bytes, source);
  }

  public TcpTuningPolicy parse(byte[] bytes, String source) throws InvalidPolicyException {
    JsonNode tree = readDocument(bytes, source);
    if (!tree.isObject()) {
      throw new InvalidPolicyException(source, new Violation(MANIFEST, "must be an object (a " + KIND + "), not " + describe(tree)));
    }
    return bind(tree, source);
  }

  /**
   * The spec alone, as JSON (the agent's environment): the checks of a manifest, with fields
   * named as in a manifest ({@code spec.sysctls.tcpTwReuse}).
   */
  public TcpTuningPolicySpec parseSpec(String json, String source) throws InvalidPolicyException {
    byte[] bytes = json.getBytes(StandardCharsets.UTF_8);
    if (bytes.length > MAX_BYTES) {
      throw new InvalidPolicyException(source, new Violation("spec", "is larger than 1 MiB (" + MAX_BYTES + " bytes)"));
    }
    ObjectNode envelope = binder.createObjectNode();
    envelope.put("apiVersion", API_VERSION).put("kind", KIND).putObject("metadata").put("name", "spec");
    envelope.set("spec", readDocument(bytes, source));
    return bind(envelope, source).getSpec();
  }

  /** The spec as the agents get it: JSON that {@link #parseSpec} reads back to an equal spec. */
  public String writeSpec(TcpTuningPolicySpec spec) {
    try {
      return binder.writeValueAsString(spec);
    } catch (IOException e) {
      throw new IllegalStateException("cannot write a policy spec as JSON", e);
    }
  }

  private TcpTuningPolicy bind(JsonNode tree, String source) throws InvalidPolicyException {
    List<Violation> violations = new ArrayList<>();
    checkEnvelope(tree, violations);
    JsonNode spec = tree.get("spec");
    if (spec != null && spec.isObject()) {
      checkNumbers(spec, violations);
    }
    if (!violations.isEmpty()) {
      throw new InvalidPolicyException(source, violations);
    }
    TcpTuningPolicy policy;
    try {
      policy = binder.treeToValue(tree, TcpTuningPolicy.class);
    } catch (IOException e) {
      throw new InvalidPolicyException(source, bindingViolation(e));
    }
    checkOpenObjects(policy, violations);
    violations.addAll(PolicyValidator.validate(policy.getSpec()));
    if (!violations.isEmpty()) {
      throw new InvalidPolicyException(source, violations);
    }
    return policy;
  }

  // --- syntax: one bounded document without YAML's reference features ---

  /**
   * YAML's reader and its refusals, loaded with the first YAML document: the agent and the
   * operator read JSON alone and never load Jackson's YAML module or snakeyaml.
   */
  private static final class Yaml {
    static final YAMLFactory FACTORY = factory();

    private static YAMLFactory factory() {
      LoaderOptions yamlLimits = new LoaderOptions();
      // Jackson reads YAML as events and does not expand aliases; these limits and the explicit
      // refusal of anchors below keep it that way should that ever change.
      yamlLimits.setMaxAliasesForCollections(0);
      yamlLimits.setAllowDuplicateKeys(false);
      yamlLimits.setNestingDepthLimit(MAX_DEPTH);
      yamlLimits.setCodePointLimit(MAX_BYTES);
      return YAMLFactory.builder().loaderOptions(yamlLimits).streamReadConstraints(LIMITS).enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build();
    }

    static void refuseReferences(JsonParser p, String source) throws IOException, InvalidPolicyException {
      YAMLParser y = (YAMLParser) p;
      if (y.isCurrentAlias() || y.getObjectId() != null) {
        throw new InvalidPolicyException(source, new Violation(path(p), "YAML anchors and aliases are not accepted; write the value out"));
      }
      if (y.getTypeId() != null) {
        throw new InvalidPolicyException(source, new Violation(path(p), "YAML tags (" + y.getTypeId() + ") are not accepted"));
      }
    }
  }

  private JsonParser parser(boolean yaml, byte[] bytes) throws IOException {
    return yaml ? Yaml.FACTORY.createParser(bytes) : json.createParser(bytes);
  }

  private JsonNode readDocument(byte[] bytes, String source) throws InvalidPolicyException {
    boolean yaml = !looksLikeJson(bytes);
    if (yaml) {
      Violation tab = tabInIndentation(bytes);
      if (tab != null) {
        throw new InvalidPolicyException(source, tab);
      }
    }
    // First pass: refuse anchors, aliases and tags, duplicates, depth, and extra documents.
    try (JsonParser p = parser(yaml, bytes)) {
      int depth = 0;
      JsonToken t;
      while ((t = p.nextToken()) != null) {
        if (yaml) {
          Yaml.refuseReferences(p, source);
        }
        if (t.isStructStart()) {
          depth++;
        } else if (t.isStructEnd()) {
          depth--;
        }
        if (depth == 0 && t.isStructEnd() || depth == 0 && t.isScalarValue()) {
          if (p.nextToken() != null) {
            throw new InvalidPolicyException(source, new Violation(MANIFEST, "holds more than one document; give one policy per file"));
          }
          break;
        }
      }
    } catch (InvalidPolicyException e) {
      throw e;
    } catch (StreamConstraintsException e) {
      throw new InvalidPolicyException(source, new Violation(MANIFEST, "is nested deeper than " + MAX_DEPTH + " levels"));
    } catch (IOException e) {
      throw new InvalidPolicyException(source, syntaxViolation(e));
    }
    try (JsonParser p = parser(yaml, bytes)) {
      JsonNode tree = binder.readTree(p);
      if (tree == null || tree.isMissingNode() || tree.isNull()) {
        throw new InvalidPolicyException(source, new Violation(MANIFEST, "is empty; expected a " + KIND));
      }
      return tree;
    } catch (IOException e) {
      throw new InvalidPolicyException(source, syntaxViolation(e));
    }
  }

  /**
   * The first line whose indentation holds a tab (snakeyaml refuses one even on a blank or comment
   * line). snakeyaml reports it as "while scanning for the next token" at the line before the tab;
   * here the line is the tab's own.
   */
  private static Violation tabInIndentation(byte[] bytes) {
    List<String> lines = new String(bytes, StandardCharsets.UTF_8).lines().toList();
    for (int n = 0; n < lines.size(); n++) {
      String line = lines.get(n);
      String indentation = line.substring(0, line.length() - line.stripLeading().length());
      if (indentation.indexOf('\t') >= 0) {
        return new Violation(MANIFEST, "line " + (n + 1) + ": a tab character; YAML indents with spaces");
      }
    }
    return null;
  }

  private static boolean looksLikeJson(byte[] bytes) {
    for (byte b : bytes) {
      if (b == '{') {
        return true;
      }
      if (b != ' ' && b != '\t' && b != '\r' && b != '\n') {
        return false;
      }
    }
    return false;
  }

  private static Violation syntaxViolation(IOException e) {
    String message = e.getMessage() == null ? e.toString() : e.getMessage().lines().findFirst().orElse("");
    String field = MANIFEST;
    if (e instanceof com.fasterxml.jackson.core.JsonProcessingException jpe && jpe.getProcessor() instanceof JsonParser p) {
      Matcher dup = DUPLICATE.matcher(message);
      if (dup.find()) {
        String parent = path(p.getParsingContext(), false);
        return new Violation(join(parent, dup.group(1)), "is given twice; each key may appear once");
      }
      field = path(p);
    }
    var loc = e instanceof com.fasterxml.jackson.core.JsonProcessingException jpe2 ? jpe2.getLocation() : null;
    String where = loc == null ? "" : " (line " + loc.getLineNr() + ", column " + loc.getColumnNr() + ")";
    return new Violation(field, "is not valid YAML/JSON" + where + ": " + message);
  }

  // --- what is checked on the tree, where it can name the field best ---

  private static void checkEnvelope(JsonNode tree, List<Violation> out) {
    JsonNode apiVersion = tree.get("apiVersion");
    if (apiVersion == null || !apiVersion.isTextual() || !API_VERSION.equals(apiVersion.asText())) {
      out.add(new Violation("apiVersion", "must be " + API_VERSION + " (got " + describe(apiVersion) + ")"));
    }
    JsonNode kind = tree.get("kind");
    if (kind == null || !kind.isTextual() || !KIND.equals(kind.asText())) {
      out.add(new Violation("kind", "must be " + KIND + " (got " + describe(kind) + ")"));
    }
    JsonNode metadata = tree.get("metadata");
    JsonNode name = metadata == null ? null : metadata.get("name");
    if (name == null || !name.isTextual() || !NAME.matcher(name.asText()).matches()) {
      out.add(new Violation("metadata.name", "must be a Kubernetes object name: lower-case letters, digits, '-' and '.', at most 253 (got " + describe(name) + ")"));
    }
    JsonNode spec = tree.get("spec");
    // "spec:" with nothing after it reads as an empty string in YAML.
    if (spec == null || spec.isNull() || (spec.isTextual() && spec.asText().isBlank())) {
      out.add(new Violation("spec", "is required"));
    } else if (!spec.isObject()) {
      out.add(new Violation("spec", "must be an object, not " + describe(spec)));
    }
  }

  /** Integer fields: a number that fits, never a string, a fraction or a boolean. */
  private static void checkNumbers(JsonNode spec, List<Violation> out) {
    checkInt(spec.get("priority"), "spec.priority", PolicyBounds.PRIORITY_MIN, PolicyBounds.PRIORITY_MAX, out);
    JsonNode sysctls = spec.get("sysctls");
    if (sysctls == null || !sysctls.isObject()) {
      return;
    }
    for (Sysctl s : Sysctl.values()) {
      JsonNode v = sysctls.get(s.field());
      if (v == null) {
        continue;
      }
      if (s == Sysctl.IP_LOCAL_PORT_RANGE) {
        if (!v.isTextual()) {
          out.add(new Violation(s.fieldPath(), "must be a string \"min max\" with " + PolicyBounds.PORT_RANGE_ACCEPTED + ", not " + describe(v)));
        }
      } else {
        checkInt(v, s.fieldPath(), s.min(), s.max(), out);
      }
    }
  }

  private static void checkInt(JsonNode v, String field, int min, int max, List<Violation> out) {
    if (v == null || v.isNull()) {
      return;
    }
    String accepted = "; accepted " + min + ".." + max;
    if (!v.isIntegralNumber()) {
      out.add(new Violation(field, "must be an integer, not " + describe(v) + accepted));
    } else if (!v.canConvertToInt()) {
      out.add(new Violation(field, v.asText() + " is out of range" + accepted));
    }
  }

  /** Kubernetes model classes keep unknown keys aside instead of failing: report them here. */
  private static void checkOpenObjects(TcpTuningPolicy policy, List<Violation> out) {
    if (policy.getMetadata() != null) {
      unknown("metadata", policy.getMetadata().getAdditionalProperties(), out);
    }
    TcpTuningPolicySpec spec = policy.getSpec();
    openSelector("spec.nodeSelector", spec.getNodeSelector(), out);
    openSelector("spec.podSelector", spec.getPodSelector(), out);
    openSelector("spec.namespaceSelector", spec.getNamespaceSelector(), out);
    List<Toleration> tolerations = spec.getTolerations();
    for (int i = 0; tolerations != null && i < tolerations.size(); i++) {
      unknown("spec.tolerations[" + i + "]", tolerations.get(i).getAdditionalProperties(), out);
    }
  }

  private static void openSelector(String field, LabelSelector selector, List<Violation> out) {
    if (selector != null) {
      unknown(field, selector.getAdditionalProperties(), out);
      List<LabelSelectorRequirement> exprs = selector.getMatchExpressions();
      for (int i = 0; exprs != null && i < exprs.size(); i++) {
        if (exprs.get(i) != null) {
          unknown(field + ".matchExpressions[" + i + "]", exprs.get(i).getAdditionalProperties(), out);
        }
      }
    }
  }

  private static void unknown(String parent, Map<String, Object> extra, List<Violation> out) {
    if (extra != null) {
      for (String key : new TreeSet<>(extra.keySet())) {
        out.add(new Violation(join(parent, key), "unknown field"));
      }
    }
  }

  private static Violation bindingViolation(IOException e) {
    if (e instanceof JsonMappingException m) {
      String field = path(m.getPath());
      if (m instanceof UnrecognizedPropertyException u) {
        String known = u.getKnownPropertyIds() == null ? "" : u.getKnownPropertyIds().stream().map(String::valueOf).sorted().collect(Collectors.joining(", "));
        return new Violation(field, "unknown field" + (known.isEmpty() ? "" : "; known here: " + known));
      }
      if (m instanceof InvalidFormatException f && f.getTargetType() != null && f.getTargetType().isEnum()) {
        String allowed = java.util.Arrays.stream(f.getTargetType().getEnumConstants()).map(String::valueOf).collect(Collectors.joining(", "));
        return new Violation(field, "must be one of " + allowed + " (got " + PolicyValidator.quote(String.valueOf(f.getValue())) + ")");
      }
      // A list where an object belongs and the like: say so in manifest words, not Java types.
      if (m instanceof MismatchedInputException mi && mi.getTargetType() != null && mi.getProcessor() instanceof JsonParser p) {
        String expected = expectedShape(mi.getTargetType());
        String found = foundShape(p.currentToken());
        if (expected != null && found != null) {
          return new Violation(field, "must be " + expected + ", not " + found);
        }
      }
      String first = m.getOriginalMessage() == null ? m.toString() : m.getOriginalMessage().lines().findFirst().orElse("");
      return new Violation(field, "has the wrong type: " + first);
    }
    return new Violation(MANIFEST, e.getMessage());
  }

  private static String expectedShape(Class<?> type) {
    if (Collection.class.isAssignableFrom(type) || type.isArray()) {
      return "a list";
    }
    if (type == String.class) {
      return "a string";
    }
    if (type == Boolean.class || type == boolean.class) {
      return "true or false";
    }
    if (type.isEnum()) {
      return "one of " + java.util.Arrays.stream(type.getEnumConstants()).map(String::valueOf).collect(Collectors.joining(", "));
    }
    if (Map.class.isAssignableFrom(type) || (type.getName().startsWith("io.") && type != IntOrString.class)) {
      return "an object";
    }
    return null;
  }

  private static String foundShape(JsonToken token) {
    if (token == null) {
      return null;
    }
    return switch (token) {
      case START_ARRAY -> "a list";
      case START_OBJECT -> "an object";
      case VALUE_STRING -> "a string";
      case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> "a number";
      case VALUE_TRUE, VALUE_FALSE -> "a boolean";
      case VALUE_NULL -> "null";
      default -> null;
    };
  }

  // --- paths as a reader of the manifest writes them: spec.sysctls.tcpTwReuse, tolerations[0] ---

  private static String path(List<JsonMappingException.Reference> refs) {
    StringBuilder b = new StringBuilder();
    for (var r : refs) {
      if (r.getFieldName() != null) {
        if (!b.isEmpty()) {
          b.append('.');
        }
        b.append(r.getFieldName());
      } else if (r.getIndex() >= 0) {
        b.append('[').append(r.getIndex()).append(']');
      }
    }
    return b.isEmpty() ? MANIFEST : b.toString();
  }

  private static String path(JsonParser p) {
    JsonStreamContext ctx = p.getParsingContext();
    // On '{' or '[' the context is already the new child; the field is where the parent is.
    if (p.currentToken() != null && p.currentToken().isStructStart() && ctx.getParent() != null) {
      ctx = ctx.getParent();
    }
    return path(ctx, true);
  }

  private static String path(JsonStreamContext ctx, boolean includeCurrentName) {
    Deque<String> parts = new ArrayDeque<>();
    for (JsonStreamContext c = ctx; c != null && !c.inRoot(); c = c.getParent()) {
      if (c.inObject()) {
        if (c.getCurrentName() != null && (includeCurrentName || c != ctx)) {
          parts.push("." + c.getCurrentName());
        }
      } else if (c.inArray() && c.getCurrentIndex() >= 0 && (includeCurrentName || c != ctx)) {
        parts.push("[" + c.getCurrentIndex() + "]");
      }
    }
    String s = String.join("", parts);
    s = s.startsWith(".") ? s.substring(1) : s;
    return s.isEmpty() ? MANIFEST : s;
  }

  private static String join(String parent, String key) {
    return parent.equals(MANIFEST) || parent.isEmpty() ? key : parent + "." + key;
  }

  private static String describe(JsonNode v) {
    if (v == null || v.isMissingNode()) {
      return "nothing";
    }
    if (v.isTextual()) {
      return "the string " + PolicyValidator.quote(v.asText());
    }
    if (v.isNull()) {
      return "null";
    }
    if (v.isNumber()) {
      return "the number " + v.asText();
    }
    if (v.isBoolean()) {
      return "the boolean " + v.asText();
    }
    return v.isArray() ? "a list" : "an object";
  }
}
