package io.tcptuning.json;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class JsonTest {
  private static final ObjectMapper JACKSON = JsonMapper.builder().build();

  @Test
  void readsEveryKindOfValueIntoPlainJavaTypes() throws Exception {
    Object tree = Json.parse(" {\"b\": [1, -0, 30.5, 30.0, 1e2, -2E-3, 9223372036854775807, 9223372036854775808],"
        + " \"a\": {\"t\": true, \"f\": false, \"n\": null}, \"s\": \"x\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\ud83d\\ude00\"}\n");

    assertThat(tree).isInstanceOf(LinkedHashMap.class);
    @SuppressWarnings("unchecked")
    Map<String, Object> m = (Map<String, Object>) tree;
    assertThat(m.keySet()).containsExactly("b", "a", "s");
    assertThat(m.get("b")).isInstanceOf(ArrayList.class).isEqualTo(List.of(
        1L, 0L, 30.5, 30.0, 100.0, -0.002, Long.MAX_VALUE, new BigInteger("9223372036854775808")));
    Map<String, Object> a = new LinkedHashMap<>();
    a.put("t", true);
    a.put("f", false);
    a.put("n", null);
    assertThat(m.get("a")).isEqualTo(a);
    assertThat(m.get("s")).isEqualTo("x\"\\/\b\f\n\r\té\uD83D\uDE00");
    assertThat(Json.parse("\"raw \uD83D\uDE00 pair\"")).isEqualTo("raw \uD83D\uDE00 pair");
    assertThat(Json.parse("-9223372036854775808")).isEqualTo(Long.MIN_VALUE);
    assertThat(Json.parse("-9223372036854775809")).isEqualTo(new BigInteger("-9223372036854775809"));
  }

  @Test
  void bytesAndReadersToo() throws Exception {
    assertThat(Json.parse("{\"k\":\"é\"}".getBytes(StandardCharsets.UTF_8))).isEqualTo(Map.of("k", "é"));
    assertThatThrownBy(() -> Json.parse(new byte[] {'"', (byte) 0xC3, '"'})).isInstanceOf(JsonException.class).hasMessageContaining("not valid UTF-8");
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(
      delimiter = '|',
      value = {
        "{\"spec\":{\"sysctls\":{\"tcpTwReuse\":1,\"tcpTwReuse\":0}}} | spec.sysctls.tcpTwReuse | is given twice | 35",
        "{\"a\":1} x | $ | after the JSON value | 8",
        "{\"a\":1}{} | $ | after the JSON value | 7",
        "{\"a\":[01]} | a[0] | leading zeros | 7",
        "{\"a\":-01} | a | leading zeros | 7",
        "{\"a\":NaN} | a | unexpected character | 5",
        "{\"a\":Infinity} | a | unexpected character | 5",
        "{\"a\":-Infinity} | a | expected a digit | 6",
        "{\"a\":1e400} | a | too large for a double | 5",
        "{\"a\":1.} | a | after the decimal point | 7",
        "{\"a\":.5} | a | unexpected character | 5",
        "{\"a\":+1} | a | unexpected character | 5",
        "{\"a\":1e} | a | exponent | 7",
        "{\"a\":\"x\u0001y\"} | a | control character U+0001 | 7",
        "{\"a\":\"\\ud800\"} | a | lone surrogate \\uD800 | 11",
        "{\"a\":\"\\udc00\"} | a | lone surrogate \\uDC00 | 11",
        "{\"a\":\"\\ud800\\u0041\"} | a | lone surrogate \\uD800 | 11",
        "{\"a\":\"\\x\"} | a | invalid escape \\'x' | 7",
        "{\"a\":\"\\u12g4\"} | a | four hex digits | 10",
        "{\"a\":\"open | a | unterminated string | 10",
        "{\"a\":1,} | $ | expected a string key | 7",
        "[1,] | [1] | unexpected character ']' | 3",
        "{a:1} | $ | expected a string key | 1",
        "{\"a\" 1} | $ | expected ':' | 5",
        "{\"a\":tru} | a | unexpected word | 5",
        "'' | $ | unexpected end of input | 0",
        "{\"b\":[{\"c\":1 2]} | b[0] | expected ',' or '}' | 13",
        "{\"we ird\":[x]} | [\"we ird\"][0] | unexpected character | 11",
      })
  void refusesWhatRfc8259DoesNotAllowNamingPathAndOffset(String text, String path, String problem, int offset) {
    JsonException e = catchThrowableOfType(JsonException.class, () -> Json.parse(text));

    assertThat(e).as(text).isNotNull();
    assertThat(e.path()).as(text).isEqualTo(path);
    assertThat(e.getMessage()).as(text).startsWith(path + ": ").contains(problem).contains("(at character " + offset + ")");
    assertThat(e.offset()).isEqualTo(offset);
  }

  @Test
  void refusesRawLoneSurrogatesAndControlCharacters() {
    assertThatThrownBy(() -> Json.parse("[\"\uD800x\"]")).isInstanceOf(JsonException.class).hasMessageContaining("[0]: lone surrogate U+D800");
    assertThatThrownBy(() -> Json.parse("\"\n\"")).isInstanceOf(JsonException.class).hasMessageContaining("control character U+000A");
  }

  @Test
  void refusesNestingPastTheLimitWhichIsConfigurable() throws Exception {
    String deep64 = "[".repeat(64) + "]".repeat(64);
    assertThat(Json.parse(deep64)).isInstanceOf(List.class);
    assertThatThrownBy(() -> Json.parse("[" + deep64 + "]")).isInstanceOf(JsonException.class).hasMessageContaining("nested deeper than 64 levels");
    assertThatThrownBy(() -> Json.parse("{\"a\":{\"b\":{}}}", 2))
        .isInstanceOf(JsonException.class).hasMessageStartingWith("a.b: nested deeper than 2 levels");
    // A deep document fails on the limit, not on the stack.
    assertThatThrownBy(() -> Json.parse("[".repeat(100_000))).isInstanceOf(JsonException.class).hasMessageContaining("deeper than 64");
  }

  @Test
  void refusesOverlongNumbers() throws Exception {
    assertThat(Json.parse("1".repeat(1000))).isEqualTo(new BigInteger("1".repeat(1000)));
    assertThatThrownBy(() -> Json.parse("1".repeat(1001))).isInstanceOf(JsonException.class).hasMessageContaining("longer than 1000");
  }

  @Test
  void writesEverySupportedType() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("z", "q\"b\\s/\u0000\u001f\n\u007f\uD83D\uDE00é");
    m.put("a", List.of(1, 2L, (short) 3, (byte) 4, new BigInteger("123456789012345678901234567890"), new BigDecimal("1.50")));
    m.put("d", new Object[] {30.5, 2.0, 1e-5, 3.5f, true, null});
    m.put("p", new int[] {1, 2});
    m.put("e", Thread.State.NEW);
    m.put("t", Instant.parse("2025-01-02T03:04:05Z"));
    m.put("c", 'x');
    m.put("empty", Map.of());

    assertThat(Json.write(m)).isEqualTo(
        "{\"z\":\"q\\\"b\\\\s/\\u0000\\u001f\\u000a\u007f\uD83D\uDE00é\","
            + "\"a\":[1,2,3,4,123456789012345678901234567890,1.50],"
            + "\"d\":[30.5,2.0,1.0E-5,3.5,true,null],\"p\":[1,2],\"e\":\"NEW\",\"t\":\"2025-01-02T03:04:05Z\",\"c\":\"x\",\"empty\":{}}");
  }

  @Test
  void refusesToWriteWhatJsonCannotHold() {
    assertThatThrownBy(() -> Json.write(Double.NaN)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("finite");
    assertThatThrownBy(() -> Json.write(List.of(Float.POSITIVE_INFINITY))).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> Json.write(new Object())).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("java.lang.Object");
    assertThatThrownBy(() -> Json.write(Map.of(1, 2))).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("keys must be strings");
    assertThatThrownBy(() -> Json.write("a\uD800")).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("lone surrogate U+D800");
    List<Object> cycle = new ArrayList<>();
    cycle.add(cycle);
    assertThatThrownBy(() -> Json.write(cycle)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("cycle");
  }

  /**
   * Random trees: what we write Jackson reads as the same tree as its own writing of it, and
   * what Jackson writes we read back to the original (Longs, Doubles, BigIntegers included).
   */
  @Test
  void roundTripsRandomTreesAgainstJackson() throws Exception {
    Random random = new Random(20250101L);
    for (int i = 0; i < 2000; i++) {
      Object tree = randomValue(random, 0);
      String ours = Json.write(tree);
      String theirs = JACKSON.writeValueAsString(tree);

      assertThat(JACKSON.readTree(ours)).as(ours).isEqualTo(JACKSON.readTree(theirs));
      assertThat(Json.parse(theirs)).as(theirs).isEqualTo(tree);
      assertThat(Json.parse(ours)).as(ours).isEqualTo(tree);
      assertThat(Json.parse(ours.getBytes(StandardCharsets.UTF_8))).isEqualTo(tree);
    }
  }

  private static Object randomValue(Random r, int depth) {
    int kind = r.nextInt(depth > 5 ? 7 : 9);
    return switch (kind) {
      case 0 -> null;
      case 1 -> r.nextBoolean();
      case 2 -> r.nextInt(3) == 0 ? (long) r.nextInt(100) : r.nextLong();
      case 3 -> new BigInteger(64 + r.nextInt(100), r).add(BigInteger.valueOf(Long.MAX_VALUE)).multiply(BigInteger.valueOf(r.nextBoolean() ? 1 : -1));
      case 4 -> randomDouble(r);
      case 5, 6 -> randomString(r);
      case 7 -> {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = r.nextInt(5); i > 0; i--) {
          m.put(randomString(r), randomValue(r, depth + 1));
        }
        yield m;
      }
      default -> {
        List<Object> l = new ArrayList<>();
        for (int i = r.nextInt(5); i > 0; i--) {
          l.add(randomValue(r, depth + 1));
        }
        yield l;
      }
    };
  }

  private static double randomDouble(Random r) {
    return switch (r.nextInt(4)) {
      case 0 -> r.nextInt(1000) / 10.0; // 30.5, 30.0
      case 1 -> Double.longBitsToDouble(r.nextLong() & 0x7fefffffffffffffL) * (r.nextBoolean() ? 1 : -1); // any finite
      case 2 -> r.nextGaussian() * 1e-7;
      default -> (double) r.nextInt();
    };
  }

  private static String randomString(Random r) {
    StringBuilder b = new StringBuilder();
    for (int i = r.nextInt(12); i > 0; i--) {
      switch (r.nextInt(5)) {
        case 0 -> b.append((char) r.nextInt(0x20)); // control characters
        case 1 -> b.append("\"\\/".charAt(r.nextInt(3)));
        case 2 -> b.appendCodePoint(0x10000 + r.nextInt(0x10FFFF - 0x10000)); // a surrogate pair
        case 3 -> {
          char c = (char) r.nextInt(0x10000);
          b.append(Character.isSurrogate(c) ? 'x' : c);
        }
        default -> b.append((char) ('a' + r.nextInt(26)));
      }
    }
    return b.toString();
  }

  @Test
  void arraysAndListsWriteAlike() {
    assertThat(Json.write(new long[] {1, 2})).isEqualTo(Json.write(Arrays.asList(1L, 2L)));
  }
}
