package io.tcptuning.node.netns;

import java.io.IOException;

/**
 * A runner for pods was asked to work in the node's own network namespace (the one this process
 * runs in). Refused before anything is opened: the pod path never writes the node's namespace.
 */
public final class HostNamespaceRefusedException extends IOException {
  private final long inode;

  public HostNamespaceRefusedException(long inode) {
    super("net:[" + inode + "] is this process's own (the node's) network namespace; the pod path never enters it");
    this.inode = inode;
  }

  public long inode() {
    return inode;
  }
}
