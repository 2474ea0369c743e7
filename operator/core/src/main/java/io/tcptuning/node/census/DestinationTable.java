package io.tcptuning.node.census;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Socket counts per destination (family, address, port) in primitive open-addressing arrays:
 * a census of 200k sockets allocates nothing per socket. Addresses are kept in network byte
 * order, IPv4 in the low 32 bits of {@code lo}, IPv6 as two big-endian halves.
 */
final class DestinationTable {
  static final int INET = 4;
  static final int INET6 = 6;

  private long[] hi;
  private long[] lo;
  /** (family << 16) | port; 0 marks an empty slot (family is never 0). */
  private int[] meta;
  private long[] counts;
  private int size;

  DestinationTable() {
    allocate(1024);
  }

  private void allocate(int capacity) {
    hi = new long[capacity];
    lo = new long[capacity];
    meta = new int[capacity];
    counts = new long[capacity];
    size = 0;
  }

  int size() {
    return size;
  }

  void add(int family, long addrHi, long addrLo, int port) {
    if (size * 2 >= meta.length) {
      grow();
    }
    int m = (family << 16) | (port & 0xffff);
    int mask = meta.length - 1;
    int i = hash(m, addrHi, addrLo) & mask;
    while (true) {
      int slot = meta[i];
      if (slot == 0) {
        meta[i] = m;
        hi[i] = addrHi;
        lo[i] = addrLo;
        counts[i] = 1;
        size++;
        return;
      }
      if (slot == m && hi[i] == addrHi && lo[i] == addrLo) {
        counts[i]++;
        return;
      }
      i = (i + 1) & mask;
    }
  }

  /** The count for one destination, 0 when absent (tests). */
  long count(int family, long addrHi, long addrLo, int port) {
    int m = (family << 16) | (port & 0xffff);
    int mask = meta.length - 1;
    for (int i = hash(m, addrHi, addrLo) & mask; meta[i] != 0; i = (i + 1) & mask) {
      if (meta[i] == m && hi[i] == addrHi && lo[i] == addrLo) {
        return counts[i];
      }
    }
    return 0;
  }

  private void grow() {
    long[] oldHi = hi;
    long[] oldLo = lo;
    int[] oldMeta = meta;
    long[] oldCounts = counts;
    allocate(oldMeta.length * 2);
    int mask = meta.length - 1;
    for (int j = 0; j < oldMeta.length; j++) {
      if (oldMeta[j] == 0) {
        continue;
      }
      int i = hash(oldMeta[j], oldHi[j], oldLo[j]) & mask;
      while (meta[i] != 0) {
        i = (i + 1) & mask;
      }
      meta[i] = oldMeta[j];
      hi[i] = oldHi[j];
      lo[i] = oldLo[j];
      counts[i] = oldCounts[j];
      size++;
    }
  }

  private static int hash(int m, long addrHi, long addrLo) {
    long h = addrHi * 0x9E3779B97F4A7C15L ^ addrLo * 0xC2B2AE3D27D4EB4FL ^ m * 0x165667B19E3779F9L;
    h ^= h >>> 33;
    h *= 0xFF51AFD7ED558CCDL;
    h ^= h >>> 33;
    return (int) h;
  }

  /**
   * The {@code n} busiest destinations, descending by sockets, ties by address text. A bounded
   * scan: only slots that beat the current n-th best are kept.
   */
  List<Destination> top(int n, int rangeSize) {
    if (n <= 0 || size == 0) {
      return List.of();
    }
    // Keep a small array of the best slots sorted ascending by count; n is small (tens).
    int[] best = new int[Math.min(n, size)];
    int filled = 0;
    for (int i = 0; i < meta.length; i++) {
      if (meta[i] == 0) {
        continue;
      }
      long c = counts[i];
      if (filled < best.length) {
        int j = filled++;
        while (j > 0 && counts[best[j - 1]] > c) {
          best[j] = best[j - 1];
          j--;
        }
        best[j] = i;
      } else if (c > counts[best[0]]) {
        int j = 0;
        while (j + 1 < best.length && counts[best[j + 1]] < c) {
          best[j] = best[j + 1];
          j++;
        }
        best[j] = i;
      }
    }
    // Ties at the cut-off are decided by scan order; within the kept set, by address text.
    var out = new ArrayList<Destination>(filled);
    for (int k = 0; k < filled; k++) {
      int i = best[k];
      out.add(new Destination(format(meta[i] >>> 16, hi[i], lo[i], meta[i] & 0xffff), counts[i], (double) counts[i] / rangeSize));
    }
    out.sort(Comparator.comparingLong(Destination::sockets).reversed().thenComparing(Destination::address));
    return out;
  }

  /** {@code 10.0.0.1:443} or {@code [2001:db8::1]:443}. */
  static String format(int family, long addrHi, long addrLo, int port) {
    if (family == INET) {
      int a = (int) addrLo;
      return (a >>> 24) + "." + ((a >>> 16) & 0xff) + "." + ((a >>> 8) & 0xff) + "." + (a & 0xff) + ":" + port;
    }
    return "[" + ipv6(addrHi, addrLo) + "]:" + port;
  }

  /** RFC 5952 text: lowercase, leading zeros dropped, the longest run (>= 2) of zero groups as ::. */
  static String ipv6(long addrHi, long addrLo) {
    int[] groups = new int[8];
    for (int g = 0; g < 4; g++) {
      groups[g] = (int) (addrHi >>> (48 - 16 * g)) & 0xffff;
      groups[g + 4] = (int) (addrLo >>> (48 - 16 * g)) & 0xffff;
    }
    int bestStart = -1;
    int bestLen = 1;
    for (int g = 0; g < 8; ) {
      if (groups[g] != 0) {
        g++;
        continue;
      }
      int start = g;
      while (g < 8 && groups[g] == 0) {
        g++;
      }
      if (g - start > bestLen) {
        bestStart = start;
        bestLen = g - start;
      }
    }
    var sb = new StringBuilder(39);
    for (int g = 0; g < 8; g++) {
      if (g == bestStart) {
        sb.append("::");
        g += bestLen - 1;
        continue;
      }
      if (sb.length() > 0 && sb.charAt(sb.length() - 1) != ':') {
        sb.append(':');
      }
      sb.append(Integer.toHexString(groups[g]));
    }
    return sb.toString();
  }
}
