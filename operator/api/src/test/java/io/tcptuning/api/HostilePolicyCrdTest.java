package io.tcptuning.api;

import io.tcptuning.testing.HostilePolicyCorpus;

import static org.assertj.core.api.Assertions.assertThat;

import io.tcptuning.testing.CrdSchemaValidator;
import java.io.IOException;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The first line of defence: the CRD schema and CEL rules reject the hostile corpus. */
class HostilePolicyCrdTest {
  static CrdSchemaValidator crd;

  @BeforeAll
  static void load() throws IOException {
    crd = CrdSchemaValidator.forCrd("tcptuningpolicies.tcptuning.io-v1.yaml");
  }

  static List<HostilePolicyCorpus> schemaCases() {
    return HostilePolicyCorpus.all().stream().filter(HostilePolicyCorpus::crdRejects).toList();
  }

  @Test
  void theCorpusIsLargeEnough() {
    assertThat(HostilePolicyCorpus.all()).hasSizeGreaterThanOrEqualTo(40);
    assertThat(schemaCases()).hasSizeGreaterThanOrEqualTo(40);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("schemaCases")
  void theSchemaRejectsIt(HostilePolicyCorpus bad) throws IOException {
    assertThat(crd.validate(bad.content())).as(bad.name()).isNotEmpty();
  }
}
