package io.tcptuning.domain;

import java.util.List;

/**
 * Whether NAT is in play on a node: {@code detected} is true (evidence says so), false (looked
 * everywhere it could and found none) or null (could not tell).
 */
public record NatVerdict(Boolean detected, List<String> evidence) {
  public NatVerdict {
    evidence = List.copyOf(evidence);
  }

  public static NatVerdict detected(List<String> evidence) {
    return new NatVerdict(true, evidence);
  }

  public static NatVerdict none(List<String> checked) {
    return new NatVerdict(false, checked);
  }

  public static NatVerdict unknown(List<String> why) {
    return new NatVerdict(null, why);
  }

  /** True unless NAT was positively ruled out: the safe reading for tcp_tw_recycle. */
  public boolean possiblyNat() {
    return !Boolean.FALSE.equals(detected);
  }
}
