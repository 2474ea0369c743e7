package io.tcptuning.agent;

import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.http.HttpClient;
import io.fabric8.kubernetes.client.internal.CertUtils;
import io.fabric8.kubernetes.client.internal.SSLUtils;
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
 * The agent trusts the cluster's CA for its API server, and nothing else, as client-go does with
 * an in-cluster config. fabric8 builds its trust store from the JDK's default {@code cacerts}
 * (some 140 public CAs) and adds the cluster CA to it, so that any public CA could vouch for a
 * host posing as the API server; a privileged process on every node should not allow that.
 * Key managers (client certificates, from a kubeconfig) stay as fabric8 makes them; hostname
 * verification stays the JDK's.
 */
final class ClusterCaTrust {
  private ClusterCaTrust() {}

  /**
   * Trust managers for the CA the configuration names ({@code caCertData} or {@code
   * caCertFile}, the pod's service-account {@code ca.crt} in a cluster), or null to leave
   * fabric8's as they are: no CA named, or {@code trustCerts} asked for explicitly.
   *
   * @throws KubernetesClientException the CA is named but cannot be read: no client at all,
   *     rather than one that trusts more than it should
   */
  static TrustManager[] trustManagers(Config config) {
    if (config.isTrustCerts()) {
      return null;
    }
    boolean data = config.getCaCertData() != null && !config.getCaCertData().isBlank();
    if (!data && (config.getCaCertFile() == null || config.getCaCertFile().isBlank())) {
      return null;
    }
    try {
      Collection<? extends Certificate> cas;
      // Read as fabric8 reads it for its own trust store (base64 data, else the file).
      try (InputStream in = CertUtils.getInputStreamFromDataOrFile(data ? config.getCaCertData() : null, config.getCaCertFile())) {
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
      throw new KubernetesClientException("cannot read the cluster CA " + where(config) + ": " + e.getMessage(), e);
    }
  }

  /** Puts the cluster-CA-only trust managers on the HTTP client, keeping fabric8's key managers. */
  static void apply(HttpClient.Builder http, Config config, TrustManager[] clusterCaOnly) {
    if (clusterCaOnly == null) {
      return;
    }
    try {
      http.sslContext(SSLUtils.keyManagers(config), clusterCaOnly);
    } catch (IOException | GeneralSecurityException e) {
      throw new KubernetesClientException("cannot read the client certificate: " + e.getMessage(), e);
    }
  }

  private static String where(Config config) {
    return config.getCaCertData() != null && !config.getCaCertData().isBlank() ? "(certificate-authority-data)" : config.getCaCertFile();
  }
}
