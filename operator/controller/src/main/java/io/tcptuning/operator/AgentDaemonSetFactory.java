package io.tcptuning.operator;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.NodeAffinity;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Toleration;
import io.fabric8.kubernetes.api.model.TolerationBuilder;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.tcptuning.api.v1alpha1.TcpTuningPolicy;
import io.tcptuning.api.v1alpha1.TcpTuningPolicySpec;
import io.tcptuning.config.AgentContract;
import io.tcptuning.policy.PolicyReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The desired agent DaemonSet of a policy, from the readable template
 * {@code templates/agent-daemonset.yaml} plus the few fields that depend on the policy and the
 * operator's configuration. Pure: the same inputs give the same object and the same hash.
 */
public final class AgentDaemonSetFactory {

  public static final String NAME_PREFIX = "tcp-tuning-agent-";
  public static final String APP_LABEL = "app.kubernetes.io/name";
  public static final String APP = "tcp-tuning-agent";
  public static final String POLICY_LABEL = "tcptuning.io/policy";
  /** On the DaemonSet: hash of the whole desired object; the operator rewrites it only when this changes. */
  public static final String DESIRED_HASH = "tcptuning.io/desired-hash";
  /** On the pod template: hash of what the agents run, so that a change of it rolls the pods. */
  public static final String CONFIG_HASH = "tcptuning.io/agent-config-hash";
  public static final String DEFAULT_MAX_UNAVAILABLE = "10%";
  public static final String TEMPLATE = "/templates/agent-daemonset.yaml";

  private static final String TEMPLATE_JSON = loadTemplate();
  /** The agents read their spec with the same reader that writes it here. */
  private static final PolicyReader SPEC_JSON = new PolicyReader();

  private final OperatorConfig config;

  public AgentDaemonSetFactory(OperatorConfig config) {
    this.config = config;
  }

  public static String name(String policy) {
    return NAME_PREFIX + policy;
  }

  /**
   * @param policy the policy, with metadata name, uid and generation
   * @param affinity from {@link AgentNodeAffinity}
   */
  public DaemonSet build(TcpTuningPolicy policy, NodeAffinity affinity) {
    String policyName = policy.getMetadata().getName();
    TcpTuningPolicySpec spec = policy.getSpec();
    DaemonSet ds = Serialization.unmarshal(TEMPLATE_JSON, DaemonSet.class);

    var meta = ds.getMetadata();
    meta.setName(name(policyName));
    meta.setNamespace(config.namespace());
    meta.getLabels().put(POLICY_LABEL, policyName);
    meta.setOwnerReferences(
        List.of(
            new OwnerReferenceBuilder()
                .withApiVersion(policy.getApiVersion())
                .withKind(policy.getKind())
                .withName(policyName)
                .withUid(policy.getMetadata().getUid())
                .withController(true)
                .withBlockOwnerDeletion(true)
                .build()));

    ds.getSpec().getSelector().getMatchLabels().put(POLICY_LABEL, policyName);
    ds.getSpec().getUpdateStrategy().getRollingUpdate().setMaxUnavailable(maxUnavailable(spec));

    var template = ds.getSpec().getTemplate();
    template.getMetadata().getLabels().put(POLICY_LABEL, policyName);
    String agentSpec = agentSpecJson(spec);
    template.getMetadata().getAnnotations().put(CONFIG_HASH, hash(agentSpec));

    PodSpec pod = template.getSpec();
    pod.setServiceAccountName(config.agentServiceAccount());
    pod.getAffinity().setNodeAffinity(affinity);
    pod.setTolerations(tolerations(spec));

    Container agent = pod.getContainers().getFirst();
    agent.setImage(config.agentImage());
    agent.setImagePullPolicy(config.agentImagePullPolicy());
    AgentSettings settings = config.agent();
    Map<String, String> env = new LinkedHashMap<>();
    env.put(AgentContract.POLICY_NAME, policyName);
    env.put(AgentContract.POLICY_GENERATION, String.valueOf(generation(policy)));
    env.put(AgentContract.POLICY_SPEC, agentSpec);
    env.put(AgentContract.STATE_DIR, settings.stateDir());
    env.put(AgentContract.PORT, String.valueOf(settings.port()));
    env.put(AgentContract.CENSUS_INTERVAL, AgentContract.format(settings.censusInterval()));
    env.put(AgentContract.HEARTBEAT_INTERVAL, AgentContract.format(settings.heartbeatInterval()));
    env.put("JAVA_TOOL_OPTIONS", settings.javaToolOptions());
    for (EnvVar e : agent.getEnv()) {
      if (env.containsKey(e.getName())) {
        e.setValue(env.get(e.getName()));
      }
    }
    agent.getPorts().getFirst().setContainerPort(settings.port());
    agent.getReadinessProbe().getHttpGet().setPort(new IntOrString(settings.port()));
    agent.getLivenessProbe().getHttpGet().setPort(new IntOrString(settings.port()));
    agent.getVolumeMounts().stream().filter(m -> m.getName().equals("state")).forEach(m -> m.setMountPath(settings.stateDir()));
    pod.getVolumes().stream().filter(v -> v.getName().equals("state")).forEach(v -> v.getHostPath().setPath(settings.stateDir()));
    if (settings.resources() != null) {
      agent.setResources(settings.resources());
    }

    meta.getAnnotations().put(DESIRED_HASH, hash(Serialization.asJson(ds)));
    return ds;
  }

  /** The hash the operator compares to decide whether a DaemonSet needs rewriting. */
  public static String desiredHash(DaemonSet ds) {
    var annotations = ds == null ? null : ds.getMetadata().getAnnotations();
    return annotations == null ? null : annotations.get(DESIRED_HASH);
  }

  /**
   * What the agents run, as the TCPTUNE_POLICY_SPEC environment variable: mode, assumeNat,
   * sysctls, and podSelector and namespaceSelector (which pods' namespaces the agent tunes on its
   * node). nodeSelector, priority, rollout and tolerations are the operator's business.
   */
  public static String agentSpecJson(TcpTuningPolicySpec spec) {
    TcpTuningPolicySpec agent = new TcpTuningPolicySpec();
    if (spec != null) {
      agent.setMode(spec.effectiveMode());
      agent.setAssumeNat(spec.getAssumeNat());
      agent.setSysctls(spec.getSysctls());
      agent.setPodSelector(spec.getPodSelector());
      agent.setNamespaceSelector(spec.getNamespaceSelector());
    }
    return SPEC_JSON.writeSpec(agent);
  }

  static IntOrString maxUnavailable(TcpTuningPolicySpec spec) {
    if (spec != null && spec.getRollout() != null && spec.getRollout().getMaxUnavailable() != null) {
      return spec.getRollout().getMaxUnavailable();
    }
    return new IntOrString(DEFAULT_MAX_UNAVAILABLE);
  }

  /** Absent: tolerate every taint, so that tainted nodes are tuned too. An empty list tolerates none. */
  static List<Toleration> tolerations(TcpTuningPolicySpec spec) {
    if (spec == null || spec.getTolerations() == null) {
      return List.of(new TolerationBuilder().withOperator("Exists").build());
    }
    return spec.getTolerations();
  }

  private static long generation(TcpTuningPolicy policy) {
    Long g = policy.getMetadata().getGeneration();
    return g == null ? 0 : g;
  }

  static String hash(String s) {
    try {
      byte[] d = MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(d, 0, 8);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is part of every JDK", e);
    }
  }

  private static String loadTemplate() {
    try (InputStream in = AgentDaemonSetFactory.class.getResourceAsStream(TEMPLATE)) {
      if (in == null) {
        throw new IllegalStateException(TEMPLATE + " is missing from the jar");
      }
      // Parsed once; each build() works on a fresh copy of it.
      return Serialization.asJson(Serialization.unmarshal(in, DaemonSet.class));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
