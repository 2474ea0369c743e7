package io.tcptuning.node;

import java.net.ConnectException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;

/**
 * A failure in words for the person reading it ({@code permission denied: /proc/sys/...}), never
 * a Java class name: {@code AccessDeniedException}'s own message is only the path, and an
 * exception that wraps another repeats the inner one's class name in its message.
 */
public final class IoErrors {
  private IoErrors() {}

  /** What went wrong, naming the file where there is one: {@code permission denied: /var/lib/x}. */
  public static String describe(Throwable e) {
    Throwable t = innermostSaid(e);
    if (t instanceof FileSystemException f && f.getFile() != null) {
      return reason(t) + ": " + f.getFile() + (f.getOtherFile() == null ? "" : " -> " + f.getOtherFile());
    }
    return reason(t);
  }

  /** What went wrong, without the file: {@code permission denied}. */
  public static String reason(Throwable e) {
    Throwable t = innermostSaid(e);
    if (t instanceof AccessDeniedException) {
      return "permission denied";
    }
    if (t instanceof NoSuchFileException) {
      return "no such file";
    }
    if (t instanceof NotDirectoryException) {
      return "not a directory";
    }
    if (t instanceof FileSystemException f) {
      // The other subclasses say what happened only in their class name.
      return f.getReason() == null ? "cannot access" : f.getReason().strip();
    }
    String message = t.getMessage();
    if (message == null || message.isBlank()) {
      return t instanceof ConnectException ? "cannot connect" : "unexpected error (no message)";
    }
    return message.strip();
  }

  /** new RuntimeException(cause) and the like carry cause.toString() as their message: say the cause. */
  private static Throwable innermostSaid(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null && (t.getMessage() == null || t.getMessage().equals(t.getCause().toString()))) {
      t = t.getCause();
    }
    return t;
  }
}
