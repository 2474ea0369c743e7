package io.tcptuning.node;

import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Run as a separate process by the journal tests: tries the journal's lock file without waiting
 * and prints "free" or "held", as a second agent or CLI on the node would find it.
 */
public final class LockProbe {
  public static void main(String[] args) throws Exception {
    try (FileChannel ch = FileChannel.open(Path.of(args[0]), StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
      var lock = ch.tryLock();
      System.out.println(lock == null ? "held" : "free");
      if (lock != null) {
        lock.release();
      }
    }
  }
}
