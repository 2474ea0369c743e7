package io.tcptuning.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.function.UnaryOperator;
import java.util.stream.Collectors;

/**
 * Journal files written as another hand or an older version wrote them: a body and the {@code
 * sha256} line that makes {@code OriginalsJournal} trust it.
 */
public final class JournalFiles {
  private JournalFiles() {}

  /** Writes {@code body} (lines, each ending in a newline) with its sha256 line. */
  public static void write(Path file, String body) throws IOException {
    Files.writeString(file, body + "sha256 " + sha256(body) + "\n");
  }

  /** Rewrites each line of a journal's body through {@code line}, then its sha256 line to match. */
  public static void rewrite(Path file, UnaryOperator<String> line) throws IOException {
    write(file, Files.readAllLines(file, StandardCharsets.US_ASCII).stream()
        .filter(l -> !l.startsWith("sha256 ")).map(line).collect(Collectors.joining("\n", "", "\n")));
  }

  public static String sha256(String s) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.US_ASCII)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
