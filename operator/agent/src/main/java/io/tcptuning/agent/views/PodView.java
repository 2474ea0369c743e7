package io.tcptuning.agent.views;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import io.fabric8.kubernetes.api.model.Namespaced;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.Kind;
import io.fabric8.kubernetes.model.annotation.Plural;
import io.fabric8.kubernetes.model.annotation.Version;
import java.util.List;

/**
 * A core/v1 Pod as the agent reads it: its metadata and the four fields the pod loop uses, read
 * through fabric8 and Jackson like any resource ({@code client.resources(PodView.class)}), the
 * rest of the object skipped.
 *
 * <p>Why not fabric8's {@code Pod}: binding it makes Jackson introspect the whole pod graph
 * (containers, probes, every volume source...), and each of those model classes loads its
 * builder and fluent classes too, about 400 classes that the agent never uses, resident on every
 * node (README, "Agent footprint"). The informer's cache also keeps only these fields of each pod.
 * {@link io.tcptuning.agent.NodeStateReporter#serialization()} registers this class for
 * {@code v1/Pod}, so that watch events arrive as this class rather than as a full Pod converted.
 */
@Group("")
@Version("v1")
@Kind("Pod")
@Plural("pods")
// As fabric8's own model classes: bound as a plain bean, not handed back to the by-kind
// deserializer that picked this class (which would recurse).
@JsonDeserialize(using = JsonDeserializer.None.class)
@JsonIgnoreProperties(ignoreUnknown = true)
public final class PodView extends ResourceView implements Namespaced {
  /** {@code spec.securityContext.sysctls}: what the pod sets itself. */
  @JsonIgnoreProperties(ignoreUnknown = true)
  public record SysctlSetting(String name, String value) {}

  @JsonIgnoreProperties(ignoreUnknown = true)
  public record SecurityContext(List<SysctlSetting> sysctls) {}

  @JsonIgnoreProperties(ignoreUnknown = true)
  public record Spec(String nodeName, Boolean hostNetwork, SecurityContext securityContext) {}

  @JsonIgnoreProperties(ignoreUnknown = true)
  public record Status(String phase) {}

  private Spec spec;
  private Status status;

  public PodView() {
    super("v1", "Pod");
  }

  public Spec getSpec() {
    return spec;
  }

  public void setSpec(Spec spec) {
    this.spec = spec;
  }

  public Status getStatus() {
    return status;
  }

  public void setStatus(Status status) {
    this.status = status;
  }
}
