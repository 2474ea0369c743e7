package io.tcptuning.api.v1alpha1;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.LabelSelectorRequirement;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.Toleration;
import io.tcptuning.domain.PolicyValidator;
import io.tcptuning.domain.Sysctl;
import io.tcptuning.domain.Violation;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * The model bound by hand to and from the plain trees of {@link io.tcptuning.json.Json}, so that
 * the node agent needs no Jackson databind. Model objects are built with {@code new} and setters.
 *
 * <p>Types are never coerced: no string for a number, no fraction for an integer, no number for
 * an enum, no string for a boolean. A JSON null counts as an absent field, as Jackson binds it.
 * Every error names the full field path and what the field accepts.
 */
public final class ModelJson {
  public static final String API_VERSION = TcpTuningPolicy.GROUP + "/" + TcpTuningPolicy.VERSION;

  /** The fields each object of a spec accepts; tests compare them with the model classes. */
  static final List<String> SPEC_FIELDS = List.of("nodeSelector", "priority", "mode", "assumeNat", "sysctls", "rollout", "tolerations");
  static final List<String> SYSCTL_FIELDS = Arrays.stream(Sysctl.values()).map(Sysctl::field).toList();
  static final List<String> ROLLOUT_FIELDS = List.of("maxUnavailable");
  static final List<String> SELECTOR_FIELDS = List.of("matchLabels", "matchExpressions");
  static final List<String> REQUIREMENT_FIELDS = List.of("key", "operator", "values");
  static final List<String> TOLERATION_FIELDS = List.of("key", "operator", "value", "effect", "tolerationSeconds");

  private ModelJson() {}

  // --- reading ---

  /**
   * A policy spec from a tree.
   *
   * @param fieldPrefix the path of the spec in messages, normally {@code spec}
   * @param strict for input from people (the agent's TCPTUNE_POLICY_SPEC): unknown fields are
   *     refused and the values checked as the CRD does ({@link PolicyValidator}); otherwise, for
   *     objects the API server has already checked against the schema, unknown fields are ignored.
   *     Wrong types are refused in both modes.
   * @throws ModelBindingException listing every violation
   */
  public static TcpTuningPolicySpec spec(Object tree, String fieldPrefix, boolean strict) throws ModelBindingException {
    Binder b = new Binder(strict);
    if (tree == null) {
      throw new ModelBindingException(List.of(new Violation(fieldPrefix, "is required")));
    }
    TcpTuningPolicySpec spec = b.spec(tree, fieldPrefix);
    if (strict && spec != null) {
      for (Violation v : PolicyValidator.validate(spec)) {
        // The validator names fields from "spec"; say them from where this spec sits.
        String field = v.field().equals("spec") || v.field().startsWith("spec.") ? fieldPrefix + v.field().substring(4) : v.field();
        b.out.add(new Violation(field, v.message()));
      }
    }
    b.throwIfAny();
    return spec;
  }

  /**
   * A policy as the API server returns it: metadata (name, uid, generation, resourceVersion,
   * creationTimestamp and deletionTimestamp as strings, labels, annotations, finalizers) and the
   * spec, read leniently. The status is not read: the agent never needs it.
   */
  public static TcpTuningPolicy policy(Map<String, Object> object) throws ModelBindingException {
    Binder b = new Binder(false);
    TcpTuningPolicy policy = new TcpTuningPolicy();
    Map<String, Object> meta = b.object(object.get("metadata"), "metadata");
    if (meta != null) {
      policy.setMetadata(b.meta(meta, "metadata"));
    }
    Object spec = object.get("spec");
    if (spec != null) {
      policy.setSpec(b.spec(spec, "spec"));
    }
    b.throwIfAny();
    return policy;
  }

  /** Binds and collects violations; each method returns null for an absent or wrong value. */
  private static final class Binder {
    final boolean strict;
    final List<Violation> out = new ArrayList<>();

    Binder(boolean strict) {
      this.strict = strict;
    }

    void throwIfAny() throws ModelBindingException {
      if (!out.isEmpty()) {
        throw new ModelBindingException(out);
      }
    }

    TcpTuningPolicySpec spec(Object tree, String path) {
      Map<String, Object> m = object(tree, path);
      if (m == null) {
        return null;
      }
      known(m, path, SPEC_FIELDS);
      TcpTuningPolicySpec spec = new TcpTuningPolicySpec();
      spec.setNodeSelector(selector(m.get("nodeSelector"), path + ".nodeSelector"));
      spec.setPriority(int32(m.get("priority"), path + ".priority", PolicyValidator.PRIORITY_MIN + ".." + PolicyValidator.PRIORITY_MAX));
      spec.setMode(enumValue(m.get("mode"), path + ".mode", Mode.class));
      spec.setAssumeNat(bool(m.get("assumeNat"), path + ".assumeNat"));
      spec.setSysctls(sysctls(m.get("sysctls"), path + ".sysctls"));
      spec.setRollout(rollout(m.get("rollout"), path + ".rollout"));
      List<Object> tolerations = list(m.get("tolerations"), path + ".tolerations");
      if (tolerations != null) {
        List<Toleration> bound = new ArrayList<>();
        for (int i = 0; i < tolerations.size(); i++) {
          bound.add(toleration(tolerations.get(i), path + ".tolerations[" + i + "]"));
        }
        spec.setTolerations(bound);
      }
      return spec;
    }

    SysctlSettings sysctls(Object tree, String path) {
      Map<String, Object> m = object(tree, path);
      if (m == null) {
        return null;
      }
      known(m, path, SYSCTL_FIELDS);
      SysctlSettings s = new SysctlSettings();
      for (Sysctl sysctl : Sysctl.values()) {
        Object v = m.get(sysctl.field());
        String field = path + "." + sysctl.field();
        if (sysctl == Sysctl.IP_LOCAL_PORT_RANGE) {
          s.setIpLocalPortRange(string(v, field, "a string \"min max\" with " + PolicyValidator.PORT_RANGE_ACCEPTED));
          continue;
        }
        Integer i = int32(v, field, sysctl.min() + ".." + sysctl.max());
        switch (sysctl) {
          case TCP_TW_REUSE -> s.setTcpTwReuse(i);
          case TCP_TIMESTAMPS -> s.setTcpTimestamps(i);
          case TCP_FIN_TIMEOUT -> s.setTcpFinTimeout(i);
          case TCP_MAX_TW_BUCKETS -> s.setTcpMaxTwBuckets(i);
          case SOMAXCONN -> s.setSomaxconn(i);
          case TCP_MAX_SYN_BACKLOG -> s.setTcpMaxSynBacklog(i);
          case TCP_TW_RECYCLE -> s.setTcpTwRecycle(i);
          case IP_LOCAL_PORT_RANGE -> throw new AssertionError();
        }
      }
      return s;
    }

    Rollout rollout(Object tree, String path) {
      Map<String, Object> m = object(tree, path);
      if (m == null) {
        return null;
      }
      known(m, path, ROLLOUT_FIELDS);
      Rollout r = new Rollout();
      Object v = m.get("maxUnavailable");
      String field = path + ".maxUnavailable";
      String accepted = PolicyValidator.MAX_UNAVAILABLE_ACCEPTED;
      if (v instanceof String s) {
        r.setMaxUnavailable(new IntOrString(s));
      } else if (v != null && !isIntegral(v)) {
        out.add(new Violation(field, "must be " + accepted + ", not " + describe(v)));
      } else {
        Integer i = int32(v, field, accepted);
        r.setMaxUnavailable(i == null ? null : new IntOrString(i));
      }
      return r;
    }

    LabelSelector selector(Object tree, String path) {
      Map<String, Object> m = object(tree, path);
      if (m == null) {
        return null;
      }
      known(m, path, SELECTOR_FIELDS);
      LabelSelector selector = new LabelSelector();
      selector.setMatchLabels(stringMap(m.get("matchLabels"), path + ".matchLabels"));
      List<Object> exprs = list(m.get("matchExpressions"), path + ".matchExpressions");
      if (exprs != null) {
        List<LabelSelectorRequirement> bound = new ArrayList<>();
        for (int i = 0; i < exprs.size(); i++) {
          String at = path + ".matchExpressions[" + i + "]";
          Map<String, Object> e = object(required(exprs.get(i), at), at);
          if (e == null) {
            continue;
          }
          known(e, at, REQUIREMENT_FIELDS);
          bound.add(new LabelSelectorRequirement(
              string(e.get("key"), at + ".key", null), string(e.get("operator"), at + ".operator", null), stringList(e.get("values"), at + ".values")));
        }
        selector.setMatchExpressions(bound);
      }
      return selector;
    }

    Toleration toleration(Object tree, String path) {
      Map<String, Object> m = object(required(tree, path), path);
      if (m == null) {
        return null;
      }
      known(m, path, TOLERATION_FIELDS);
      Toleration t = new Toleration();
      t.setKey(string(m.get("key"), path + ".key", null));
      t.setOperator(string(m.get("operator"), path + ".operator", null));
      t.setValue(string(m.get("value"), path + ".value", null));
      t.setEffect(string(m.get("effect"), path + ".effect", null));
      t.setTolerationSeconds(int64(m.get("tolerationSeconds"), path + ".tolerationSeconds"));
      return t;
    }

    ObjectMeta meta(Map<String, Object> m, String path) {
      ObjectMeta meta = new ObjectMeta();
      meta.setName(string(m.get("name"), path + ".name", null));
      meta.setUid(string(m.get("uid"), path + ".uid", null));
      meta.setGeneration(int64(m.get("generation"), path + ".generation"));
      meta.setResourceVersion(string(m.get("resourceVersion"), path + ".resourceVersion", null));
      meta.setCreationTimestamp(string(m.get("creationTimestamp"), path + ".creationTimestamp", null));
      meta.setDeletionTimestamp(string(m.get("deletionTimestamp"), path + ".deletionTimestamp", null));
      meta.setLabels(stringMap(m.get("labels"), path + ".labels"));
      meta.setAnnotations(stringMap(m.get("annotations"), path + ".annotations"));
      meta.setFinalizers(stringList(m.get("finalizers"), path + ".finalizers"));
      return meta;
    }

    // --- one JSON value each ---

    @SuppressWarnings("unchecked")
    Map<String, Object> object(Object v, String path) {
      if (v == null) {
        return null;
      }
      if (v instanceof Map<?, ?> m) {
        return (Map<String, Object>) m;
      }
      out.add(new Violation(path, "must be an object, not " + describe(v)));
      return null;
    }

    @SuppressWarnings("unchecked")
    List<Object> list(Object v, String path) {
      if (v == null) {
        return null;
      }
      if (v instanceof List<?> l) {
        return (List<Object>) l;
      }
      out.add(new Violation(path, "must be a list, not " + describe(v)));
      return null;
    }

    /** Lists hold no nulls: a null element is refused (Jackson would keep it as a null). */
    Object required(Object v, String path) {
      if (v == null) {
        out.add(new Violation(path, "must not be null"));
      }
      return v;
    }

    void known(Map<String, Object> m, String path, List<String> names) {
      if (!strict) {
        return;
      }
      for (String key : new TreeSet<>(m.keySet())) {
        if (!names.contains(key)) {
          out.add(new Violation(path + "." + key, "unknown field; known here: " + String.join(", ", new TreeSet<>(names))));
        }
      }
    }

    String string(Object v, String path, String accepted) {
      if (v == null || v instanceof String) {
        return (String) v;
      }
      out.add(new Violation(path, "must be " + (accepted == null ? "a string" : accepted) + ", not " + describe(v)));
      return null;
    }

    Boolean bool(Object v, String path) {
      if (v == null || v instanceof Boolean) {
        return (Boolean) v;
      }
      out.add(new Violation(path, "must be true or false, not " + describe(v)));
      return null;
    }

    <E extends Enum<E>> E enumValue(Object v, String path, Class<E> type) {
      if (v == null) {
        return null;
      }
      String allowed = String.join(", ", Arrays.stream(type.getEnumConstants()).map(Enum::name).toList());
      if (v instanceof String s) {
        for (E e : type.getEnumConstants()) {
          if (e.name().equals(s)) {
            return e;
          }
        }
        out.add(new Violation(path, "must be one of " + allowed + " (got " + PolicyValidator.quote(s) + ")"));
      } else {
        out.add(new Violation(path, "must be one of " + allowed + ", not " + describe(v)));
      }
      return null;
    }

    /** An integer that fits a Java int; {@code accepted} describes the valid values. */
    Integer int32(Object v, String path, String accepted) {
      Long l = integral(v, path, accepted);
      if (l == null) {
        return null;
      }
      if (l < Integer.MIN_VALUE || l > Integer.MAX_VALUE) {
        out.add(new Violation(path, l + " is out of range; accepted " + accepted));
        return null;
      }
      return l.intValue();
    }

    Long int64(Object v, String path) {
      return integral(v, path, "an integer");
    }

    private Long integral(Object v, String path, String accepted) {
      if (v == null) {
        return null;
      }
      if (v instanceof BigInteger big) {
        if (big.bitLength() < 64) {
          return big.longValue();
        }
        out.add(new Violation(path, big + " is out of range; accepted " + accepted));
        return null;
      }
      if (isIntegral(v)) {
        return ((Number) v).longValue();
      }
      out.add(new Violation(path, "must be an integer, not " + describe(v) + "; accepted " + accepted));
      return null;
    }

    Map<String, String> stringMap(Object v, String path) {
      Map<String, Object> m = object(v, path);
      if (m == null) {
        return null;
      }
      Map<String, String> bound = new LinkedHashMap<>();
      m.forEach((key, value) -> {
        String s = string(required(value, path + "." + key), path + "." + key, null);
        if (s != null) {
          bound.put(key, s);
        }
      });
      return bound;
    }

    List<String> stringList(Object v, String path) {
      List<Object> l = list(v, path);
      if (l == null) {
        return null;
      }
      List<String> bound = new ArrayList<>();
      for (int i = 0; i < l.size(); i++) {
        String s = string(required(l.get(i), path + "[" + i + "]"), path + "[" + i + "]", null);
        if (s != null) {
          bound.add(s);
        }
      }
      return bound;
    }

    private static boolean isIntegral(Object v) {
      return v instanceof Long || v instanceof Integer || v instanceof Short || v instanceof Byte || v instanceof BigInteger;
    }

    /** A value as a message shows it, on one line whatever it holds. */
    private static String describe(Object v) {
      return switch (v) {
        case null -> "null";
        case String s -> "the string " + PolicyValidator.quote(s);
        case Number n -> "the number " + n;
        case Boolean b -> "the boolean " + b;
        case List<?> l -> "a list";
        case Map<?, ?> m -> "an object";
        default -> "a " + v.getClass().getSimpleName();
      };
    }
  }

  // --- writing ---

  /**
   * A node's status as Jackson serializes it for the API server: the same field names, nulls
   * left out ({@code @JsonInclude(NON_NULL)}), the lists always present.
   */
  public static Map<String, Object> nodeStateStatus(TcpTuningNodeStateStatus s) {
    Map<String, Object> m = new LinkedHashMap<>();
    put(m, "policy", s.getPolicy());
    put(m, "policyGeneration", s.getPolicyGeneration());
    put(m, "mode", s.getMode() == null ? null : s.getMode().name());
    put(m, "phase", s.getPhase() == null ? null : s.getPhase().name());
    put(m, "kernel", s.getKernel());
    if (s.getNat() != null) {
      Map<String, Object> nat = new LinkedHashMap<>();
      put(nat, "detected", s.getNat().getDetected());
      put(nat, "evidence", s.getNat().getEvidence() == null ? null : new ArrayList<>(s.getNat().getEvidence()));
      m.put("nat", nat);
    }
    if (s.getTimeWait() != null) {
      TcpTuningNodeStateStatus.TimeWait t = s.getTimeWait();
      Map<String, Object> tw = new LinkedHashMap<>();
      tw.put("total", t.getTotal());
      tw.put("portRangeSize", (long) t.getPortRangeSize());
      tw.put("pressure", t.getPressure());
      tw.put("maxDestinationPressure", t.getMaxDestinationPressure());
      put(tw, "hottestDestination", t.getHottestDestination());
      tw.put("hottestDestinationSockets", t.getHottestDestinationSockets());
      put(tw, "maxTwBucketsHeadroom", t.getMaxTwBucketsHeadroom());
      m.put("timeWait", tw);
    }
    if (s.getSysctls() != null) {
      List<Object> sysctls = new ArrayList<>();
      for (TcpTuningNodeStateStatus.SysctlStatus x : s.getSysctls()) {
        Map<String, Object> e = new LinkedHashMap<>();
        put(e, "name", x.getName());
        put(e, "original", x.getOriginal());
        put(e, "desired", x.getDesired());
        put(e, "actual", x.getActual());
        put(e, "state", x.getState() == null ? null : x.getState().name());
        put(e, "reason", x.getReason());
        put(e, "message", x.getMessage());
        sysctls.add(e);
      }
      m.put("sysctls", sysctls);
    }
    if (s.getConditions() != null) {
      List<Object> conditions = new ArrayList<>();
      for (Condition c : s.getConditions()) {
        conditions.add(condition(c));
      }
      m.put("conditions", conditions);
    }
    put(m, "lastReportTime", s.getLastReportTime());
    return m;
  }

  /** A fabric8 Condition as it serializes: non-null fields, then any additional properties. */
  static Map<String, Object> condition(Condition c) {
    Map<String, Object> m = new LinkedHashMap<>();
    put(m, "lastTransitionTime", c.getLastTransitionTime());
    put(m, "message", c.getMessage());
    put(m, "observedGeneration", c.getObservedGeneration());
    put(m, "reason", c.getReason());
    put(m, "status", c.getStatus());
    put(m, "type", c.getType());
    if (c.getAdditionalProperties() != null) {
      m.putAll(c.getAdditionalProperties());
    }
    return m;
  }

  /**
   * The object to create for a node's report before its status is written: metadata only, owned
   * by the Node (when its uid is known) so that it goes away with it.
   */
  public static Map<String, Object> nodeState(String nodeName, Map<String, String> labels, String ownerNodeUid) {
    Map<String, Object> meta = new LinkedHashMap<>();
    meta.put("name", nodeName);
    if (labels != null) {
      meta.put("labels", new LinkedHashMap<>(labels));
    }
    if (ownerNodeUid != null) {
      Map<String, Object> owner = new LinkedHashMap<>();
      owner.put("apiVersion", "v1");
      owner.put("kind", "Node");
      owner.put("name", nodeName);
      owner.put("uid", ownerNodeUid);
      meta.put("ownerReferences", List.of(owner));
    }
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("apiVersion", API_VERSION);
    m.put("kind", "TcpTuningNodeState");
    m.put("metadata", meta);
    return m;
  }

  private static void put(Map<String, Object> m, String key, Object value) {
    if (value != null) {
      m.put(key, value);
    }
  }
}
