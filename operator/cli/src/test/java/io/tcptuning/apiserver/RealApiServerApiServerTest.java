package io.tcptuning.apiserver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** The test support itself: a real v1.34.4 server on loopback, reachable by fabric8 and kubectl as admin. */
class RealApiServerApiServerTest {

  @RegisterExtension static final RealApiServer API = new RealApiServer();

  @Test
  void fabric8AndKubectlTalkToTheRealServerOnLoopback() {
    assertThat(API.client().getKubernetesVersion().getGitVersion()).isEqualTo("v" + RealApiServer.VERSION);
    assertThat(API.client().getMasterUrl().getHost()).isEqualTo("127.0.0.1");

    RealApiServer.Kubectl version = API.kubectl("version", "-o", "yaml").assertSuccess();
    assertThat(version.stdout()).contains("gitVersion: v" + RealApiServer.VERSION);

    API.client().namespaces().resource(new NamespaceBuilder().withNewMetadata().withName("made-by-fabric8").endMetadata().build()).create();
    assertThat(API.kubectl("get", "namespace", "made-by-fabric8", "-o", "name").assertSuccess().stdout().strip())
        .isEqualTo("namespace/made-by-fabric8");
    // Admin is a client certificate in group system:masters, so RBAC lets it do anything.
    assertThat(API.kubectl("auth", "can-i", "*", "*").stdout().strip()).isEqualTo("yes");
  }

  @Test
  void missingBinariesFailNamingTheScriptThatBuildsThem(@TempDir Path empty) throws IOException {
    Files.writeString(empty.resolve("kubectl"), "not executable");
    assertThatThrownBy(() -> RealApiServer.requireBinaries(empty))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining(".ci/kube-binaries.sh")
        .hasMessageContaining("missing: kube-apiserver, etcd, kubectl");
  }
}
