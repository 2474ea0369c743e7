package io.tcptuning.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.util.List;

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

  @Override
  public void close() {
    System.clearProperty("javax.net.ssl.trustStore");
    System.clearProperty("javax.net.ssl.trustStorePassword");
  }
}
