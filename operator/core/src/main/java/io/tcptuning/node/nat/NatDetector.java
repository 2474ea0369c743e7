package io.tcptuning.node.nat;

import io.tcptuning.domain.NatVerdict;
import io.tcptuning.node.IoErrors;
import io.tcptuning.node.ProcFiles;
import io.tcptuning.node.ProcNet;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;

/**
 * Looks for signs that NAT is in play in the calling thread's network namespace: the verdict
 * {@code tcp_tw_recycle} safety depends on. True with evidence when any source shows NAT; false
 * with the list of what was checked when every source could be read and none did; null when a
 * source could not be read and nothing else showed NAT.
 *
 * <p>Sources, in order: the legacy iptables tables ({@code /proc/net/ip_tables_names} and
 * {@code ip6_tables_names}), the nftables rule set over netlink (where kube-proxy's nftables mode,
 * Cilium and iptables-nft keep NAT, invisible in those files), the NAT kernel modules
 * (host-wide), translated conntrack entries, and whether this runs in a Kubernetes pod.
 */
public final class NatDetector {
  /** Modules that only get loaded when something sets up NAT (or IPVS, which rewrites too). */
  static final Set<String> NAT_MODULES =
      Set.of(
          "nf_nat",
          "nf_nat_ipv4",
          "nf_nat_ipv6",
          "iptable_nat",
          "ip6table_nat",
          "nft_chain_nat",
          "nft_chain_nat_ipv4",
          "nft_chain_nat_ipv6",
          "nft_nat",
          "nft_masq",
          "xt_MASQUERADE",
          "ipt_MASQUERADE",
          "xt_nat",
          "ip_vs");

  /** Evidence lists at most this many chains or rules, then says how many more there are. */
  static final int MAX_LISTED = 3;

  private final Path procRoot;
  private final Function<String, String> env;
  private final NftablesReader nftables;

  /**
   * Inspects {@code procRoot} (normally {@code /proc}), the process environment and the calling
   * thread's nftables rule set.
   */
  public NatDetector(Path procRoot) {
    this(procRoot, System::getenv, NftablesReader.system());
  }

  /** Inspects {@code procRoot}, the given environment lookup and rule set reader (fixtures feed all three). */
  NatDetector(Path procRoot, Function<String, String> env, NftablesReader nftables) {
    this.procRoot = procRoot;
    this.env = env;
    this.nftables = nftables;
  }

  /** The verdict for the calling thread's network namespace. */
  public static NatVerdict detect() {
    return new NatDetector(ProcNet.PROC).inspect();
  }

  public NatVerdict inspect() {
    var f = new Findings();
    Path net = ProcNet.netDir(procRoot);
    if (!Files.isDirectory(net)) {
      return NatVerdict.unknown(List.of("no network directory under " + procRoot + " (is /proc mounted?)"));
    }
    natTable(f, net.resolve("ip_tables_names"), "iptables");
    natTable(f, net.resolve("ip6_tables_names"), "ip6tables");
    nftables(f);
    modules(f, procRoot.resolve("modules"));
    conntrack(f, net.resolve("nf_conntrack"));
    kubernetes(f);

    if (!f.evidence.isEmpty()) {
      return NatVerdict.detected(f.evidence);
    }
    if (!f.unreadable.isEmpty()) {
      var why = new ArrayList<>(f.unreadable);
      why.addAll(f.checked);
      return NatVerdict.unknown(why);
    }
    return NatVerdict.none(f.checked);
  }

  private static void natTable(Findings f, Path file, String tool) {
    String shown = "/proc/net/" + file.getFileName();
    try {
      List<String> tables = ProcFiles.read(file).lines().map(String::strip).filter(s -> !s.isEmpty()).toList();
      if (tables.contains("nat")) {
        f.evidence.add(tool + " (legacy) nat table present (" + shown + ")");
      } else {
        f.checked.add("no " + tool + " (legacy) nat table (" + shown + ": " + (tables.isEmpty() ? "no tables" : String.join(",", tables)) + ")");
      }
    } catch (NoSuchFileException e) {
      f.checked.add("no " + tool + " (legacy) tables at all (" + shown + " absent)");
    } catch (IOException e) {
      f.unreadable.add("cannot read " + shown + ": " + IoErrors.reason(e));
    }
  }

  private void nftables(Findings f) {
    NftRuleset r;
    try {
      r = nftables.read();
    } catch (IOException | RuntimeException e) {
      f.unreadable.add("cannot read the nftables rule set: " + IoErrors.reason(e));
      return;
    }
    String via = " (" + r.source() + ")";
    if (!r.kernelSupport()) {
      f.checked.add("no nftables in this kernel" + via);
      return;
    }
    if (!r.natChains().isEmpty()) {
      for (NftRuleset.Chain c : r.natChains().stream().limit(MAX_LISTED).toList()) {
        f.evidence.add("nftables table " + c.family() + " " + c.table() + ": chain " + c.name() + " type nat hook " + c.hook() + via);
      }
      more(f, r.natChains().size(), "nat chain", via);
      return;
    }
    if (!r.natRules().isEmpty()) {
      for (NftRuleset.NatRule rule : r.natRules().stream().limit(MAX_LISTED).toList()) {
        f.evidence.add("nftables table " + rule.family() + " " + rule.table() + ": chain " + rule.chain() + " has a " + rule.statement()
            + " rule (handle " + rule.handle() + ")" + via);
      }
      more(f, r.natRules().size(), "NAT rule", via);
      return;
    }
    if (r.tables().isEmpty()) {
      f.checked.add("nftables: no tables" + via);
      return;
    }
    int n = r.tables().size();
    String names = r.tables().stream().limit(5).map(NftRuleset.Table::toString).reduce((a, b) -> a + ", " + b).orElse("");
    f.checked.add("nftables: no nat chain" + (r.rulesInspected() ? " and no NAT rule" : "") + " in " + n + (n == 1 ? " table" : " tables")
        + " (" + names + (n > 5 ? ", ..." : "") + ")" + via);
  }

  private static void more(Findings f, int found, String what, String via) {
    if (found > MAX_LISTED) {
      f.evidence.add("nftables: " + (found - MAX_LISTED) + " more " + what + (found - MAX_LISTED == 1 ? "" : "s") + via);
    }
  }

  private static void modules(Findings f, Path file) {
    try {
      var found = new TreeSet<String>();
      for (String line : ProcFiles.read(file).lines().toList()) {
        int space = line.indexOf(' ');
        String name = space < 0 ? line.strip() : line.substring(0, space);
        if (NAT_MODULES.contains(name)) {
          found.add(name);
        }
      }
      if (found.isEmpty()) {
        f.checked.add("no NAT/IPVS kernel modules loaded (/proc/modules, host-wide)");
      } else {
        f.evidence.add("NAT kernel modules loaded: " + String.join(", ", found) + " (/proc/modules; host-wide, not specific to this namespace)");
      }
    } catch (NoSuchFileException e) {
      // A kernel without loadable modules: NAT may be built in, the other sources decide.
      f.checked.add("no /proc/modules (kernel without loadable modules; NAT support may be built in)");
    } catch (IOException e) {
      f.unreadable.add("cannot read /proc/modules: " + IoErrors.reason(e));
    }
  }

  private static void conntrack(Findings f, Path file) {
    long entries = 0;
    try (BufferedReader in = Files.newBufferedReader(file)) {
      String line;
      while ((line = in.readLine()) != null) {
        entries++;
        String translated = ConntrackLine.describeIfTranslated(line);
        if (translated != null) {
          f.evidence.add("conntrack entry rewritten by NAT: " + translated + " (/proc/net/nf_conntrack)");
          return;
        }
      }
      f.checked.add("no translated connection among " + entries + " conntrack entries (/proc/net/nf_conntrack)");
    } catch (NoSuchFileException e) {
      f.checked.add("no connection tracking in this namespace (/proc/net/nf_conntrack absent)");
    } catch (IOException e) {
      f.unreadable.add("cannot read /proc/net/nf_conntrack: " + IoErrors.reason(e));
    }
  }

  private void kubernetes(Findings f) {
    String host = env.apply("KUBERNETES_SERVICE_HOST");
    if (host != null && !host.isBlank()) {
      f.evidence.add("running in a Kubernetes pod (KUBERNETES_SERVICE_HOST=" + host.strip() + "): kube-proxy/CNI masquerade is the norm");
    } else {
      f.checked.add("not running in a Kubernetes pod (KUBERNETES_SERVICE_HOST unset)");
    }
  }

  private static final class Findings {
    final List<String> evidence = new ArrayList<>();
    final List<String> checked = new ArrayList<>();
    final List<String> unreadable = new ArrayList<>();
  }
}
