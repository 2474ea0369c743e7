package io.tcptuning.agent.kube;

import java.io.IOException;

/**
 * The JSON seam of {@link KubeApi}: objects are plain maps, lists, strings, numbers, booleans and
 * null. Kept as an interface so that the agent can plug in its own small JSON reader and writer
 * without this package depending on a JSON library.
 */
public interface JsonCodec {
  /** Parses one JSON document; a malformed document is an {@link IOException}. */
  Object parse(byte[] json) throws IOException;

  /** Writes a value as UTF-8 JSON. */
  byte[] write(Object value);
}
