package io.tcptuning.kube;

import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.http.HttpClient;
import io.fabric8.kubernetes.client.internal.CertUtils;
import io.fabric8.kubernetes.client.internal.SSLUtils;
import io.tcptuning.node.IoErrors;
import java.io.IOException;
import java.io.InputStream;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.util.Collection;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;

/**
 * A client of this project's processes (the agent and the operator) trusts the cluster's CA for
 * its API server, and nothing else, as client-go does. fabric8 builds its trust store from the
 * JDK's default {@code cacerts} (some 140 public CAs) and adds the cluster CA to it, so that any
 * public CA could vouch for a host posing as the API server; a privileged agent on every node, or
 * an operator that may rewrite every node's DaemonSet, should not allow that. With no CA named,
 * the JVM's default trust store stays, as client-go falls back to the system roots. Key managers
 * (client certificates, from a kubeconfig) stay as fabric8 makes them; hostname verification
 * stays the JDK's.
 */
public final class ClusterCaTrust {
  private ClusterCaTrust() {}

  /**
   * A client builder for this configuration that trusts the CA it names alone, or fabric8's
   * defaults when it names none or asks for {@code trustCerts}. Callers may add to the builder
   * (serialization, say) but not replace its HTTP client builder consumer.
   *
   * @throws KubernetesClientException the CA is named but cannot be read: no client at all,
   *     rather than one that trusts more than it should
   */
  public static KubernetesClientBuilder clientBuilder(Config config) {
    TrustManager[] clusterCaOnly = trustManagers(config);
    return new KubernetesClientBuilder().withConfig(config).withHttpClientBuilderConsumer(http -> apply(http, config, clusterCaOnly));
  }

  /**
   * What a client of {@link #clientBuilder} trusts for this configuration, in words for an error
   * message: {@code the CA in /var/run/.../ca.crt}, {@code a CA of the JVM's default trust store (no
   * CA configured)}.
   */
  public static String trusted(Config config) {
    if (config.isTrustCerts()) {
      return "any certificate (trustCerts)";
    }
    if (!named(config)) {
      return "a CA of the JVM's default trust store (no CA configured)";
    }
    return "the CA in " + where(config);
  }

  /**
   * Trust managers for the CA the configuration names ({@code caCertData} or {@code
   * caCertFile}, the pod's service-account {@code ca.crt} in a cluster), or null to leave
   * fabric8's as they are: no CA named, or {@code trustCerts} asked for explicitly.
   */
  private static TrustManager[] trustManagers(Config config) {
    if (config.isTrustCerts() || !named(config)) {
      return null;
    }
    try {
      Collection<? extends Certificate> cas;
      // Read as fabric8 reads it for its own trust store (base64 data, else the file).
      try (InputStream in = CertUtils.getInputStreamFromDataOrFile(hasData(config) ? config.getCaCertData() : null, config.getCaCertFile())) {
        cas = CertificateFactory.getInstance("X.509").generateCertificates(in);
      }
      if (cas.isEmpty()) {
        throw new KubernetesClientException("the cluster CA " + where(config) + " holds no certificate");
      }
      KeyStore store = KeyStore.getInstance("PKCS12");
      store.load(null, null);
      int i = 0;
      for (Certificate ca : cas) {
        store.setCertificateEntry("cluster-ca-" + i++, ca);
      }
      TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(store);
      return tmf.getTrustManagers();
    } catch (IOException | GeneralSecurityException e) {
      throw new KubernetesClientException("cannot read the cluster CA " + where(config) + ": " + IoErrors.reason(e), e);
    }
  }

  /** Puts the cluster-CA-only trust managers on the HTTP client, keeping fabric8's key managers. */
  private static void apply(HttpClient.Builder http, Config config, TrustManager[] clusterCaOnly) {
    if (clusterCaOnly == null) {
      return;
    }
    try {
      http.sslContext(SSLUtils.keyManagers(config), clusterCaOnly);
    } catch (IOException | GeneralSecurityException e) {
      throw new KubernetesClientException("cannot read the client certificate: " + IoErrors.reason(e), e);
    }
  }

  private static boolean named(Config config) {
    return hasData(config) || (config.getCaCertFile() != null && !config.getCaCertFile().isBlank());
  }

  private static boolean hasData(Config config) {
    return config.getCaCertData() != null && !config.getCaCertData().isBlank();
  }

  private static String where(Config config) {
    return hasData(config) ? "(certificate-authority-data)" : config.getCaCertFile();
  }
}
