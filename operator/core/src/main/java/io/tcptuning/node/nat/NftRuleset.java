package io.tcptuning.node.nat;

import java.util.ArrayList;
import java.util.List;

/**
 * What the NAT check learned from a namespace's nftables rule set, from netlink or from
 * {@code nft -j list ruleset} ({@code source} says which): its tables, its base chains of type
 * {@code nat}, and, when there is no such chain, the rules whose statements translate addresses.
 * {@code kernelSupport} is false when the kernel has no nf_tables at all.
 */
record NftRuleset(
    String source, boolean kernelSupport, List<Table> tables, List<Chain> natChains, List<NatRule> natRules, boolean rulesInspected) {
  NftRuleset {
    tables = List.copyOf(tables);
    natChains = List.copyOf(natChains);
    natRules = List.copyOf(natRules);
  }

  static NftRuleset unsupported(String source) {
    return new NftRuleset(source, false, List.of(), List.of(), List.of(), false);
  }

  /** A table: {@code family} in nft's words ({@code ip}, {@code ip6}, {@code inet}, ...). */
  record Table(String family, String name) {
    @Override
    public String toString() {
      return family + " " + name;
    }
  }

  /**
   * A chain; {@code type} and {@code hook} are null for a regular chain (one with no hook, only
   * reached by jumps).
   */
  record Chain(String family, String table, String name, String type, String hook) {
    /** A base chain of type nat: the kernel runs NAT on packets that reach its hook. */
    boolean natBaseChain() {
      return "nat".equals(type) && hook != null;
    }
  }

  /** A rule with a statement that translates ({@code masquerade}, {@code snat}, {@code dnat}, {@code redirect}, an xt NAT target). */
  record NatRule(String family, String table, String chain, long handle, String statement) {}

  /** Collects a dump's objects in order. */
  static final class Builder {
    final List<Table> tables = new ArrayList<>();
    final List<Chain> natChains = new ArrayList<>();
    final List<NatRule> natRules = new ArrayList<>();
    boolean rulesInspected;

    void chain(Chain c) {
      if (c.natBaseChain()) {
        natChains.add(c);
      }
    }

    NftRuleset build(String source) {
      return new NftRuleset(source, true, tables, natChains, natRules, rulesInspected);
    }
  }
}
