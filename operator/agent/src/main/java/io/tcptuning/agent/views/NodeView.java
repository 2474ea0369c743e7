package io.tcptuning.agent.views;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.Kind;
import io.fabric8.kubernetes.model.annotation.Plural;
import io.fabric8.kubernetes.model.annotation.Version;

/**
 * A core/v1 Node as the agent reads it: its metadata (the UID its node state is owned by, the
 * labels a policy's nodeSelector matches), the spec and status skipped. fabric8's {@code Node}
 * would bind the node's status graph (images, volumes, addresses, runtime handlers...) with its
 * builder classes, which the agent never reads; see {@link PodView}.
 */
@Group("")
@Version("v1")
@Kind("Node")
@Plural("nodes")
// As fabric8's own model classes: bound as a plain bean, not handed back to the by-kind
// deserializer that picked this class (which would recurse).
@JsonDeserialize(using = JsonDeserializer.None.class)
@JsonIgnoreProperties(ignoreUnknown = true)
public final class NodeView extends ResourceView {
  public NodeView() {
    super("v1", "Node");
  }
}
