package io.tcptuning.node.netns;

import java.io.IOException;

/**
 * The namespace exists but could not be entered (no permission to open it, setns(2) refused, or
 * the thread did not land where it was sent). Nothing ran inside it.
 */
public final class NamespaceEntryException extends IOException {
  private final long inode;

  public NamespaceEntryException(long inode, String message, Throwable cause) {
    super(message, cause);
    this.inode = inode;
  }

  public long inode() {
    return inode;
  }
}
