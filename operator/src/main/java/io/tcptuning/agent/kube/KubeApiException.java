package io.tcptuning.agent.kube;

import java.io.IOException;

/**
 * A non-2xx answer of the API server. {@link #reason()} and {@link #statusMessage()} come from the
 * body when it is a {@code Status} object (e.g. reason {@code Conflict} for a stale
 * resourceVersion), else they are empty.
 */
public final class KubeApiException extends IOException {
  private final int code;
  private final String reason;
  private final String statusMessage;

  public KubeApiException(String method, String path, int code, String reason, String statusMessage) {
    super(method + " " + path + " -> " + code + (reason.isEmpty() ? "" : " " + reason)
        + (statusMessage.isEmpty() ? "" : ": " + statusMessage));
    this.code = code;
    this.reason = reason;
    this.statusMessage = statusMessage;
  }

  public int code() {
    return code;
  }

  /** The Status reason, one CamelCase word such as {@code NotFound} or {@code Conflict}; or "". */
  public String reason() {
    return reason;
  }

  /** The Status message; or "". */
  public String statusMessage() {
    return statusMessage;
  }
}
