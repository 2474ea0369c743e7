package io.tcptuning.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.util.List;
import java.util.Objects;
import java.util.function.Function;
import java.util.stream.Stream;
import javax.net.ssl.SSLHandshakeException;

/**
 * The JVM's default trust store ({@code javax.net.ssl.trustStore}) made to vouch for a test server,
 * standing in for the public CAs of {@code cacerts}; the JDK's own is back on {@link #close}.
 */
public final class DefaultTrustStore implements AutoCloseable {
  private final Path file;

  private DefaultTrustStore(Path file) {
    this.file = file;
  }

  /** A trust store in {@code dir} holding the CA certificate {@code caPem}, set as the JVM's default. */
  public static DefaultTrustStore trusting(Path caPem, Path dir) throws IOException, GeneralSecurityException {
    Path store = Files.createTempFile(dir, "truststore", ".p12");
    KeyStore ks = KeyStore.getInstance("PKCS12");
    ks.load(null, null);
    try (InputStream in = Files.newInputStream(caPem)) {
      ks.setCertificateEntry("server", CertificateFactory.getInstance("X.509").generateCertificate(in));
    }
    try (OutputStream out = Files.newOutputStream(store)) {
      ks.store(out, "changeit".toCharArray());
    }
    System.setProperty("javax.net.ssl.trustStore", store.toString());
    System.setProperty("javax.net.ssl.trustStorePassword", "changeit");
    return new DefaultTrustStore(store);
  }

  /** The same store as JVM options, for a child process. */
  public List<String> jvmOptions() {
    return List.of("-Djavax.net.ssl.trustStore=" + file, "-Djavax.net.ssl.trustStorePassword=changeit");
  }

  /**
   * While this store vouches for the server and {@code config} names another CA: plain fabric8
   * connects (it trusts the JVM's default store too), and the client {@code ours} builds for the
   * same configuration fails the TLS handshake.
   */
  public void assertOnlyTheConfiguredCaIsTrusted(Config config, Function<Config, KubernetesClient> ours) {
    try (KubernetesClient plain = new KubernetesClientBuilder().withConfig(config).build()) {
      assertThat(plain.nodes().list().getItems()).as("fabric8 alone trusts the JVM's default store too").isEmpty();
    }
    assertThatThrownBy(() -> {
      try (KubernetesClient client = ours.apply(config)) {
        client.nodes().list();
      }
    }).isInstanceOf(KubernetesClientException.class)
        .satisfies(e -> assertThat(Stream.iterate(e, Objects::nonNull, Throwable::getCause)).anyMatch(SSLHandshakeException.class::isInstance));
  }

  @Override
  public void close() {
    System.clearProperty("javax.net.ssl.trustStore");
    System.clearProperty("javax.net.ssl.trustStorePassword");
  }
}
