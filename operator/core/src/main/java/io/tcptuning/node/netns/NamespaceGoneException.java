package io.tcptuning.node.netns;

import java.io.IOException;

/**
 * The namespace is no longer there: every path to it is gone or now names another namespace
 * (the pod went away, its PID or bind mount was reused). Nothing ran inside it. Not an error
 * worth retrying: drop whatever was kept for that namespace.
 */
public final class NamespaceGoneException extends IOException {
  private final long inode;

  public NamespaceGoneException(long inode, String message) {
    super(message);
    this.inode = inode;
  }

  public long inode() {
    return inode;
  }
}
