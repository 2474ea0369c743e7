package io.tcptuning.testing;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.util.List;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;

/**
 * A throwaway self-signed server certificate made with the JDK's {@code keytool}: its own CA, for
 * TLS tests and benchmarks that must not fall back to plain HTTP. Files live in a temporary
 * directory the caller deletes (or the JVM's temp cleaner).
 */
public final class SelfSignedCertificate {
  private static final String PASSWORD = "test-only";
  private final Path dir;
  private final Path keyStore;
  private final Path pem;

  private SelfSignedCertificate(Path dir) {
    this.dir = dir;
    this.keyStore = dir.resolve("server.p12");
    this.pem = dir.resolve("ca.crt");
  }

  /** @param subjectAltNames keytool SAN syntax, e.g. {@code ip:127.0.0.1} or {@code dns:api.example} */
  public static SelfSignedCertificate create(String... subjectAltNames) throws IOException, InterruptedException {
    SelfSignedCertificate c = new SelfSignedCertificate(Files.createTempDirectory("tcptune-tls"));
    String keytool = Path.of(System.getProperty("java.home"), "bin", "keytool").toString();
    c.run(List.of(keytool, "-genkeypair", "-alias", "api", "-keyalg", "EC", "-groupname", "secp256r1", "-validity", "2",
        "-dname", "CN=tcptune-test-api", "-ext", "SAN=" + String.join(",", subjectAltNames),
        "-keystore", c.keyStore.toString(), "-storetype", "PKCS12", "-storepass", PASSWORD));
    c.run(List.of(keytool, "-exportcert", "-rfc", "-alias", "api", "-keystore", c.keyStore.toString(),
        "-storepass", PASSWORD, "-file", c.pem.toString()));
    return c;
  }

  private void run(List<String> command) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    if (p.waitFor() != 0) {
      throw new IOException("keytool failed: " + out);
    }
  }

  /** The certificate as PEM: what a client is told to trust. */
  public Path caPem() {
    return pem;
  }

  /** A server-side context presenting this certificate. */
  public SSLContext serverContext() throws IOException, GeneralSecurityException {
    KeyStore ks = KeyStore.getInstance("PKCS12");
    try (InputStream in = Files.newInputStream(keyStore)) {
      ks.load(in, PASSWORD.toCharArray());
    }
    KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    kmf.init(ks, PASSWORD.toCharArray());
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(kmf.getKeyManagers(), null, null);
    return context;
  }

  public void delete() throws IOException {
    Files.deleteIfExists(keyStore);
    Files.deleteIfExists(pem);
    Files.deleteIfExists(dir);
  }
}
