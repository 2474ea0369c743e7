package io.tcptuning.json;

import java.io.IOException;
import java.lang.reflect.Array;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * JSON (RFC 8259) to and from plain Java trees, with nothing but the JDK: the node agent talks to
 * the API server through this instead of Jackson databind, whose class metadata alone costs it
 * tens of MiB.
 *
 * <p>Reading is strict: objects become {@link LinkedHashMap}s (key order kept), arrays {@link
 * ArrayList}s, strings {@link String}s, numbers without fraction or exponent {@link Long} (or
 * {@link BigInteger} past a long), every other number {@link Double}, so {@code 30.5} and {@code
 * 30} stay distinguishable; {@code true}/{@code false} {@link Boolean}, {@code null} null.
 * Refused, each with the path and offset: duplicate keys, content after the value, nesting deeper
 * than {@link #DEFAULT_MAX_DEPTH} (configurable), leading zeros, NaN and Infinity (also numbers
 * too large for a double), numbers longer than {@value #MAX_NUMBER_LENGTH} characters, raw control
 * characters in strings, and lone surrogates (raw or as {@code \\u} escapes): a string must be
 * valid Unicode, as the API server would otherwise replace it.
 */
public final class Json {
  public static final int DEFAULT_MAX_DEPTH = 64;
  /** As Jackson's default: longer digit runs make BigInteger parsing quadratic. */
  public static final int MAX_NUMBER_LENGTH = 1000;

  private Json() {}

  public static Object parse(String text) throws JsonException {
    return parse(text, DEFAULT_MAX_DEPTH);
  }

  /** @param maxDepth most nested objects and arrays accepted (the root container is depth 1) */
  public static Object parse(String text, int maxDepth) throws JsonException {
    return new Parser(text, maxDepth).document();
  }

  /** UTF-8 bytes; malformed UTF-8 is refused. Offsets count chars of the decoded text. */
  public static Object parse(byte[] utf8) throws JsonException {
    try {
      String text =
          StandardCharsets.UTF_8
              .newDecoder()
              .onMalformedInput(CodingErrorAction.REPORT)
              .onUnmappableCharacter(CodingErrorAction.REPORT)
              .decode(ByteBuffer.wrap(utf8))
              .toString();
      return parse(text);
    } catch (CharacterCodingException e) {
      throw new JsonException("$", 0, "is not valid UTF-8");
    }
  }

  /**
   * Compact JSON of a tree. Accepted: {@link Map} with String keys (written in iteration order),
   * {@link Iterable} and arrays, {@link CharSequence} and {@link Character}, integral numbers
   * (Byte, Short, Integer, Long, BigInteger), BigDecimal (its {@code toString}), Float and Double
   * when finite (their {@code toString}: {@code 2.0} stays {@code 2.0}, as Jackson writes it),
   * Boolean, null, an Enum as its {@code name()}, an {@link Instant} as an ISO-8601 string.
   *
   * @throws IllegalArgumentException on any other type, a non-finite number, a lone surrogate or
   *     nesting past 1000 levels (a cycle)
   */
  public static String write(Object value) {
    StringBuilder out = new StringBuilder();
    write(value, out);
    return out.toString();
  }

  public static void write(Object value, StringBuilder out) {
    new Writer(out).value(value, 0);
  }

  // --- reading ---

  private static final class Parser {
    private final String s;
    private final int maxDepth;
    private int pos;
    /** Keys and indices from the root to the value being read. */
    private final List<Object> path = new ArrayList<>();

    Parser(String s, int maxDepth) {
      this.s = s;
      this.maxDepth = maxDepth;
    }

    Object document() throws JsonException {
      skipBlanks();
      Object v = value(0);
      skipBlanks();
      if (pos < s.length()) {
        throw error("unexpected content after the JSON value");
      }
      return v;
    }

    private Object value(int depth) throws JsonException {
      if (pos >= s.length()) {
        throw error("unexpected end of input; expected a value");
      }
      char c = s.charAt(pos);
      return switch (c) {
        case '{' -> object(depth + 1);
        case '[' -> array(depth + 1);
        case '"' -> string();
        case 't' -> literal("true", Boolean.TRUE);
        case 'f' -> literal("false", Boolean.FALSE);
        case 'n' -> literal("null", null);
        default -> {
          if (c == '-' || (c >= '0' && c <= '9')) {
            yield number();
          }
          throw error("unexpected character " + describe(c) + "; expected a value");
        }
      };
    }

    private Map<String, Object> object(int depth) throws JsonException {
      checkDepth(depth);
      pos++;
      Map<String, Object> map = new LinkedHashMap<>();
      skipBlanks();
      if (peek() == '}') {
        pos++;
        return map;
      }
      while (true) {
        skipBlanks();
        if (peek() != '"') {
          throw error("expected a string key");
        }
        int keyStart = pos;
        String key = string();
        skipBlanks();
        expect(':');
        skipBlanks();
        path.add(key);
        if (map.containsKey(key)) {
          pos = keyStart;
          throw error("is given twice; each key may appear once");
        }
        map.put(key, value(depth));
        path.removeLast();
        skipBlanks();
        char c = peek();
        pos++;
        if (c == '}') {
          return map;
        }
        if (c != ',') {
          pos--;
          throw error("expected ',' or '}' in an object");
        }
      }
    }

    private List<Object> array(int depth) throws JsonException {
      checkDepth(depth);
      pos++;
      List<Object> list = new ArrayList<>();
      skipBlanks();
      if (peek() == ']') {
        pos++;
        return list;
      }
      while (true) {
        skipBlanks();
        path.add(list.size());
        list.add(value(depth));
        path.removeLast();
        skipBlanks();
        char c = peek();
        pos++;
        if (c == ']') {
          return list;
        }
        if (c != ',') {
          pos--;
          throw error("expected ',' or ']' in an array");
        }
      }
    }

    private void checkDepth(int depth) throws JsonException {
      if (depth > maxDepth) {
        throw error("nested deeper than " + maxDepth + " levels");
      }
    }

    private String string() throws JsonException {
      pos++; // the opening quote
      StringBuilder b = null;
      int start = pos;
      while (true) {
        if (pos >= s.length()) {
          throw error("unterminated string");
        }
        char c = s.charAt(pos);
        if (c == '"') {
          String out = b == null ? s.substring(start, pos) : b.append(s, start, pos).toString();
          pos++;
          return out;
        }
        if (c < 0x20) {
          throw error("control character " + describe(c) + " in a string; write it as an escape");
        }
        if (Character.isSurrogate(c)) {
          if (Character.isHighSurrogate(c) && pos + 1 < s.length() && Character.isLowSurrogate(s.charAt(pos + 1))) {
            pos += 2;
            continue;
          }
          throw error("lone surrogate " + describe(c) + " in a string");
        }
        if (c != '\\') {
          pos++;
          continue;
        }
        if (b == null) {
          b = new StringBuilder();
        }
        b.append(s, start, pos);
        pos++;
        char e = pos < s.length() ? s.charAt(pos) : 0;
        switch (e) {
          case '"', '\\', '/' -> b.append(e);
          case 'b' -> b.append('\b');
          case 'f' -> b.append('\f');
          case 'n' -> b.append('\n');
          case 'r' -> b.append('\r');
          case 't' -> b.append('\t');
          case 'u' -> {
            char u = hex4(pos + 1);
            pos += 4;
            if (Character.isHighSurrogate(u)) {
              if (pos + 6 < s.length() && s.charAt(pos + 1) == '\\' && s.charAt(pos + 2) == 'u') {
                char low = hex4(pos + 3);
                if (Character.isLowSurrogate(low)) {
                  b.append(u).append(low);
                  pos += 6;
                  break;
                }
              }
              throw error("lone surrogate \\u" + hex(u) + " in a string");
            }
            if (Character.isLowSurrogate(u)) {
              throw error("lone surrogate \\u" + hex(u) + " in a string");
            }
            b.append(u);
          }
          default -> throw error("invalid escape " + (e == 0 ? "at end of input" : "\\" + describe(e)));
        }
        pos++;
        start = pos;
      }
    }

    private char hex4(int at) throws JsonException {
      if (at + 4 > s.length()) {
        pos = Math.min(at, s.length());
        throw error("\\u needs four hex digits");
      }
      int v = 0;
      for (int i = at; i < at + 4; i++) {
        int d = Character.digit(s.charAt(i), 16);
        if (d < 0 || s.charAt(i) > 'f') {
          pos = i;
          throw error("\\u needs four hex digits");
        }
        v = v * 16 + d;
      }
      return (char) v;
    }

    private Object number() throws JsonException {
      int start = pos;
      if (peek() == '-') {
        pos++;
      }
      if (peek() == '0') {
        pos++;
        if (isDigit(peek())) {
          throw error("leading zeros are not allowed in numbers");
        }
      } else if (isDigit(peek())) {
        digits();
      } else {
        throw error("expected a digit");
      }
      boolean integral = true;
      if (peek() == '.') {
        integral = false;
        pos++;
        if (!isDigit(peek())) {
          throw error("expected a digit after the decimal point");
        }
        digits();
      }
      if (peek() == 'e' || peek() == 'E') {
        integral = false;
        pos++;
        if (peek() == '+' || peek() == '-') {
          pos++;
        }
        if (!isDigit(peek())) {
          throw error("expected a digit in the exponent");
        }
        digits();
      }
      if (pos - start > MAX_NUMBER_LENGTH) {
        pos = start;
        throw error("number longer than " + MAX_NUMBER_LENGTH + " characters");
      }
      String text = s.substring(start, pos);
      if (integral) {
        // Up to 18 digits always fits a long; longer ones may still.
        if (text.length() <= 18) {
          return Long.parseLong(text);
        }
        BigInteger big = new BigInteger(text);
        return big.bitLength() < 64 ? (Object) big.longValue() : big;
      }
      double d = Double.parseDouble(text);
      if (Double.isInfinite(d)) {
        pos = start;
        throw error("number " + text + " is too large for a double");
      }
      return d;
    }

    private void digits() {
      while (isDigit(peek())) {
        pos++;
      }
    }

    private static boolean isDigit(char c) {
      return c >= '0' && c <= '9';
    }

    private Object literal(String word, Object value) throws JsonException {
      if (!s.startsWith(word, pos)) {
        throw error("unexpected word; expected a value (true, false, null, a number, a string, an object or an array)");
      }
      pos += word.length();
      return value;
    }

    private void expect(char c) throws JsonException {
      if (peek() != c) {
        throw error("expected '" + c + "'");
      }
      pos++;
    }

    /** The current char, or 0 at the end (0 is never valid outside a string, so it fails checks). */
    private char peek() {
      return pos < s.length() ? s.charAt(pos) : 0;
    }

    private void skipBlanks() {
      while (pos < s.length()) {
        char c = s.charAt(pos);
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
          return;
        }
        pos++;
      }
    }

    private JsonException error(String problem) {
      if (pos >= s.length() && !problem.startsWith("unexpected end")) {
        problem += " (at end of input)";
      }
      return new JsonException(pathString(path), pos, problem);
    }

    private static String describe(char c) {
      return c < 0x20 || c >= 0x7f ? "U+" + hex(c) : "'" + c + "'";
    }

    private static String hex(char c) {
      return String.format("%04X", (int) c);
    }
  }

  /** {@code $} for the root; keys joined by dots, indices in brackets: {@code spec.tolerations[0].key}. */
  static String pathString(List<Object> path) {
    if (path.isEmpty()) {
      return "$";
    }
    StringBuilder b = new StringBuilder();
    for (Object p : path) {
      if (p instanceof Integer i) {
        b.append('[').append(i).append(']');
      } else {
        String key = (String) p;
        if (isPlainKey(key)) {
          if (!b.isEmpty()) {
            b.append('.');
          }
          b.append(key);
        } else {
          // A key a reader could not split on dots: quoted, control characters escaped.
          b.append('[');
          Writer.string(key.length() > 64 ? key.substring(0, 64) + "..." : key, b, true);
          b.append(']');
        }
      }
    }
    return b.toString();
  }

  private static boolean isPlainKey(String key) {
    if (key.isEmpty()) {
      return false;
    }
    for (int i = 0; i < key.length(); i++) {
      char c = key.charAt(i);
      if (!(Character.isLetterOrDigit(c) || c == '_' || c == '-' || c == '/') || c > 0x7e) {
        return false;
      }
    }
    return true;
  }

  // --- writing ---

  private static final class Writer {
    private static final int MAX_DEPTH = 1000;
    private final StringBuilder out;

    Writer(StringBuilder out) {
      this.out = out;
    }

    void value(Object v, int depth) {
      if (depth > MAX_DEPTH) {
        throw new IllegalArgumentException("nested deeper than " + MAX_DEPTH + " levels (a cycle?)");
      }
      switch (v) {
        case null -> out.append("null");
        case CharSequence cs -> string(cs, out, false);
        case Character c -> string(String.valueOf(c), out, false);
        case Boolean b -> out.append(b.booleanValue());
        case Long l -> out.append(l.longValue());
        case Integer i -> out.append(i.intValue());
        case Short sh -> out.append(sh.shortValue());
        case Byte by -> out.append(by.byteValue());
        case BigInteger bi -> out.append(bi);
        case BigDecimal bd -> out.append(bd);
        case Double d -> out.append(finite(d, Double.isFinite(d)));
        case Float f -> out.append(finite(f, Float.isFinite(f)));
        case Enum<?> e -> string(e.name(), out, false);
        case Instant t -> string(t.toString(), out, false);
        case Map<?, ?> m -> object(m, depth);
        case Iterable<?> it -> {
          out.append('[');
          boolean first = true;
          for (Object e : it) {
            if (!first) {
              out.append(',');
            }
            first = false;
            value(e, depth + 1);
          }
          out.append(']');
        }
        default -> {
          if (!v.getClass().isArray()) {
            throw new IllegalArgumentException("cannot write a " + v.getClass().getName() + " as JSON");
          }
          out.append('[');
          for (int i = 0, n = Array.getLength(v); i < n; i++) {
            if (i > 0) {
              out.append(',');
            }
            value(Array.get(v, i), depth + 1);
          }
          out.append(']');
        }
      }
    }

    private void object(Map<?, ?> m, int depth) {
      out.append('{');
      boolean first = true;
      for (Map.Entry<?, ?> e : m.entrySet()) {
        if (!(e.getKey() instanceof String key)) {
          throw new IllegalArgumentException("object keys must be strings, not " + (e.getKey() == null ? "null" : e.getKey().getClass().getName()));
        }
        if (!first) {
          out.append(',');
        }
        first = false;
        string(key, out, false);
        out.append(':');
        value(e.getValue(), depth + 1);
      }
      out.append('}');
    }

    private static Number finite(Number n, boolean finite) {
      if (!finite) {
        throw new IllegalArgumentException("JSON has no " + n + "; only finite numbers can be written");
      }
      return n;
    }

    /**
     * Quotes and escapes: quote, backslash and control characters (as {@code \\u00XX}); with
     * {@code lenient}, lone surrogates are escaped too (for error messages) instead of refused.
     */
    static void string(CharSequence s, StringBuilder out, boolean lenient) {
      out.append('"');
      for (int i = 0, n = s.length(); i < n; i++) {
        char c = s.charAt(i);
        if (c == '"' || c == '\\') {
          out.append('\\').append(c);
        } else if (c < 0x20 || (lenient && c == 0x7f)) {
          out.append(String.format("\\u%04x", (int) c));
        } else if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(s.charAt(i + 1))) {
          out.append(c).append(s.charAt(++i));
        } else if (Character.isSurrogate(c)) {
          if (!lenient) {
            throw new IllegalArgumentException("lone surrogate U+" + String.format("%04X", (int) c) + " in a string");
          }
          out.append(String.format("\\u%04x", (int) c));
        } else {
          out.append(c);
        }
      }
      out.append('"');
    }
  }
}
