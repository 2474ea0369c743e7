package io.tcptuning.testing;

import io.tcptuning.node.NetNamespace;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;

/** Where every thread of this JVM is, for "no thread is left inside a foreign namespace" checks. */
public final class ThreadNamespaces {
  private ThreadNamespaces() {}

  /** Each live thread (task id and name) whose network namespace is not {@code home}, with the namespace. */
  public static Map<String, Long> outside(long home) throws IOException {
    Map<String, Long> out = new TreeMap<>();
    try (DirectoryStream<Path> tasks = Files.newDirectoryStream(Path.of("/proc/self/task"))) {
      for (Path task : tasks) {
        long ino;
        String comm;
        try {
          ino = NetNamespace.linkInode(task.resolve("ns/net"));
          comm = Files.readString(task.resolve("comm")).strip();
        } catch (IOException e) {
          continue; // the thread ended since the listing
        }
        if (ino != home) {
          out.put(task.getFileName() + " (" + comm + ")", ino);
        }
      }
    }
    return out;
  }
}
