package io.tcptuning.domain;

import java.util.List;

/** Current -> desired for every sysctl of a policy, or refused and why; plus warnings. */
public record Plan(List<PlannedSysctl> sysctls, List<String> warnings) {
  public Plan {
    sysctls = List.copyOf(sysctls);
    warnings = List.copyOf(warnings);
  }

  public List<PlannedSysctl> changes() {
    return sysctls.stream().filter(p -> p.action() == Action.Change).toList();
  }

  public List<PlannedSysctl> refusals() {
    return sysctls.stream().filter(p -> p.action() == Action.Refuse).toList();
  }
}
