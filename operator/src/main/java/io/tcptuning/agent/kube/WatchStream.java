package io.tcptuning.agent.kube;

import java.io.BufferedInputStream;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;

/**
 * One streaming GET (a watch) on a socket of its own, HTTP/1.1 by hand. HttpURLConnection cannot
 * be used here: {@code disconnect()} from another thread does not wake a thread blocked reading a
 * chunked body, so a watch on it could not be stopped promptly. Closing this socket does.
 */
final class WatchStream implements Closeable {
  private static final int MAX_HEADER_BYTES = 64 * 1024;

  /** Closed from another thread to stop a reader, even while connecting or reading the header. */
  private final Socket socket = new Socket();
  private InputStream body;
  private int status;

  /** Connects and sends the request; the answer's status and body are then available. */
  void open(URI server, String path, String token, SSLContext tls, int connectMillis, int readMillis) throws IOException {
    boolean https = "https".equals(server.getScheme());
    String host = server.getHost(); // IPv6 stays bracketed here, as the Host header wants it
    int port = server.getPort() >= 0 ? server.getPort() : https ? 443 : 80;
    String bareHost = host.startsWith("[") ? host.substring(1, host.length() - 1) : host;
    Socket conn = socket;
    try {
      socket.connect(new InetSocketAddress(bareHost, port), connectMillis);
      socket.setSoTimeout(readMillis);
      if (https) {
        SSLSocket ssl = (SSLSocket) tls.getSocketFactory().createSocket(socket, bareHost, port, true);
        SSLParameters params = ssl.getSSLParameters();
        // Hostname verification, as HttpsURLConnection does by default.
        params.setEndpointIdentificationAlgorithm("HTTPS");
        ssl.setSSLParameters(params);
        ssl.startHandshake();
        conn = ssl;
      }
      StringBuilder request = new StringBuilder()
          .append("GET ").append(path).append(" HTTP/1.1\r\n")
          .append("Host: ").append(host).append(server.getPort() >= 0 ? ":" + port : "").append("\r\n")
          .append("Accept: application/json\r\n")
          .append("User-Agent: tcptune-agent\r\n")
          .append("Connection: close\r\n");
      if (token != null && !token.isEmpty()) {
        request.append("Authorization: Bearer ").append(token).append("\r\n");
      }
      OutputStream out = conn.getOutputStream();
      out.write(request.append("\r\n").toString().getBytes(StandardCharsets.ISO_8859_1));
      out.flush();

      InputStream in = new BufferedInputStream(conn.getInputStream());
      String statusLine = headerLine(in);
      String[] parts = statusLine.split(" ", 3);
      if (parts.length < 2 || !parts[0].startsWith("HTTP/1.")) {
        throw new IOException("not an HTTP answer: " + statusLine);
      }
      status = Integer.parseInt(parts[1]);
      boolean chunked = false;
      long length = -1;
      for (String h; !(h = headerLine(in)).isEmpty(); ) {
        int colon = h.indexOf(':');
        if (colon < 0) {
          continue;
        }
        String name = h.substring(0, colon).trim().toLowerCase(Locale.ROOT);
        String value = h.substring(colon + 1).trim();
        if (name.equals("transfer-encoding")) {
          chunked = value.toLowerCase(Locale.ROOT).contains("chunked");
        } else if (name.equals("content-length")) {
          length = Long.parseLong(value);
        }
      }
      body = chunked ? new ChunkedBody(in)
          : length >= 0 ? new ByteArrayInputStream(in.readNBytes((int) Math.min(length, KubeApi.MAX_BODY_BYTES)))
          : in; // Connection: close, the body runs to the end of the stream
    } catch (IOException | RuntimeException e) {
      socket.close();
      throw e;
    }
  }

  int status() {
    return status;
  }

  /** The decoded body. */
  InputStream body() {
    return body;
  }

  /** At most {@link KubeApi#MAX_BODY_BYTES} of the body, for an error answer. */
  byte[] readErrorBody() throws IOException {
    return body.readNBytes(KubeApi.MAX_BODY_BYTES);
  }

  /** Safe from any thread: a reader blocked on this stream gets an exception at once. */
  @Override
  public void close() throws IOException {
    socket.close(); // a TLS socket layered on it fails as well
  }

  private static String headerLine(InputStream in) throws IOException {
    ByteArrayOutputStream line = new ByteArrayOutputStream();
    for (int b; (b = in.read()) != '\n'; ) {
      if (b < 0) {
        throw new IOException("connection closed in the HTTP header");
      }
      if (line.size() >= MAX_HEADER_BYTES) {
        throw new IOException("HTTP header too long");
      }
      if (b != '\r') {
        line.write(b);
      }
    }
    return line.toString(StandardCharsets.ISO_8859_1);
  }

  /** Chunked transfer decoding: size line, data, CRLF ... a zero size ends the body. */
  private static final class ChunkedBody extends InputStream {
    private final InputStream in;
    private long left;
    private boolean done;

    ChunkedBody(InputStream in) {
      this.in = in;
    }

    @Override
    public int read() throws IOException {
      byte[] one = new byte[1];
      return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] buf, int off, int len) throws IOException {
      if (done) {
        return -1;
      }
      if (left == 0) {
        String size = headerLine(in);
        int semicolon = size.indexOf(';');
        left = Long.parseLong((semicolon < 0 ? size : size.substring(0, semicolon)).trim(), 16);
        if (left == 0) {
          done = true;
          return -1;
        }
      }
      int n = in.read(buf, off, (int) Math.min(len, left));
      if (n < 0) {
        throw new IOException("connection closed inside a chunk");
      }
      left -= n;
      if (left == 0) {
        headerLine(in); // the CRLF after the data
      }
      return n;
    }
  }
}
