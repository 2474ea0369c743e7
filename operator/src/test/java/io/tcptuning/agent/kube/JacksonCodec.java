package io.tcptuning.agent.kube;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;

/** {@link JsonCodec} on Jackson, for tests only: the agent plugs in its own small reader/writer. */
final class JacksonCodec implements JsonCodec {
  private static final ObjectMapper MAPPER = new ObjectMapper();

  @Override
  public Object parse(byte[] json) throws IOException {
    return MAPPER.readValue(json, Object.class);
  }

  @Override
  public byte[] write(Object value) {
    try {
      return MAPPER.writeValueAsBytes(value);
    } catch (JsonProcessingException e) {
      throw new UncheckedIOException(e);
    }
  }
}
