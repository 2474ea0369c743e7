package io.tcptuning.packaging;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cel.common.CelAbstractSyntaxTree;
import dev.cel.common.CelValidationException;
import dev.cel.common.types.SimpleType;
import dev.cel.compiler.CelCompiler;
import dev.cel.compiler.CelCompilerFactory;
import dev.cel.parser.CelStandardMacro;
import dev.cel.runtime.CelEvaluationException;
import dev.cel.runtime.CelRuntime;
import dev.cel.runtime.CelRuntimeFactory;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.ValidatingAdmissionPolicy;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Evaluates the CEL of the rendered ValidatingAdmissionPolicy with cel-java, the way the API server
 * does: the match condition decides whether the policy applies, then the validation must be true;
 * an evaluation error counts as a denial (failurePolicy: Fail).
 */
class AdmissionPolicyCelTest {

  private static final String AGENT = "system:serviceaccount:tcp-tuning-system:tcp-tuning-agent";
  private static final String OPERATOR =
      "system:serviceaccount:tcp-tuning-system:tcp-tuning-operator";
  private static final String NODE_CLAIM = "authentication.kubernetes.io/node-name";

  private static CelRuntime.Program matchCondition;
  private static CelRuntime.Program validation;

  @BeforeAll
  static void compile() throws Exception {
    ValidatingAdmissionPolicy policy =
        RenderedChart.render()
            .get(
                ValidatingAdmissionPolicy.class, RenderedChart.RELEASE + "-agent-node-restriction");
    matchCondition = program(policy.getSpec().getMatchConditions().getFirst().getExpression());
    validation = program(policy.getSpec().getValidations().getFirst().getExpression());
  }

  @Test
  void agentMayCreateAndUpdateTheStateOfItsOwnNode() {
    assertThat(admits(request(AGENT, "CREATE", claim("worker-1")), state("worker-1"), null))
        .isTrue();
    assertThat(
            admits(
                request(AGENT, "UPDATE", claim("worker-1")), state("worker-1"), state("worker-1")))
        .isTrue();
  }

  @Test
  void agentMayNotWriteTheStateOfAnotherNode() {
    assertThat(admits(request(AGENT, "CREATE", claim("worker-1")), state("worker-2"), null))
        .isFalse();
    assertThat(
            admits(
                request(AGENT, "UPDATE", claim("worker-1")), state("worker-2"), state("worker-2")))
        .isFalse();
    // A prefix or a near miss is still another node.
    assertThat(
            admits(
                request(AGENT, "UPDATE", claim("worker-1")),
                state("worker-10"),
                state("worker-10")))
        .isFalse();
  }

  @Test
  void agentWithoutTheNodeClaimIsDenied() {
    // Legacy secret-based tokens and pre-1.30 clusters carry no node claim: deny, do not guess.
    assertThat(admits(request(AGENT, "CREATE", null), state("worker-1"), null)).isFalse();
    Map<String, List<String>> otherExtra =
        Map.of("authentication.kubernetes.io/pod-name", List.of("a"));
    assertThat(admits(request(AGENT, "CREATE", otherExtra), state("worker-1"), null)).isFalse();
  }

  @Test
  void deleteIsJudgedByTheOldObject() {
    // On DELETE `object` is null; the name comes from oldObject.
    assertThat(admits(request(AGENT, "DELETE", claim("worker-1")), null, state("worker-1")))
        .isTrue();
    assertThat(admits(request(AGENT, "DELETE", claim("worker-1")), null, state("worker-2")))
        .isFalse();
  }

  @Test
  void otherUsersAreNotRestricted() {
    // The operator (and a human admin) may clean up any node's state.
    assertThat(evaluate(matchCondition, request(OPERATOR, "DELETE", null), null, state("worker-2")))
        .isEqualTo(false);
    assertThat(admits(request(OPERATOR, "DELETE", null), null, state("worker-2"))).isTrue();
    assertThat(
            admits(
                request("kubernetes-admin", "UPDATE", null), state("worker-2"), state("worker-2")))
        .isTrue();
    assertThat(evaluate(matchCondition, request(AGENT, "UPDATE", claim("worker-1")), null, null))
        .isEqualTo(true);
  }

  // --- the API server's algorithm, reduced to one policy with one validation ---

  private static boolean admits(Map<String, Object> request, Object object, Object oldObject) {
    Object applies = evaluate(matchCondition, request, object, oldObject);
    if (Boolean.FALSE.equals(applies)) {
      return true;
    }
    return Boolean.TRUE.equals(evaluate(validation, request, object, oldObject));
  }

  /** The result of a program, or the exception when evaluation fails (a denial under Fail). */
  private static Object evaluate(
      CelRuntime.Program program, Map<String, Object> request, Object object, Object oldObject) {
    Map<String, Object> vars = new HashMap<>();
    vars.put("request", request);
    vars.put("object", object);
    vars.put("oldObject", oldObject);
    try {
      return program.eval(vars);
    } catch (CelEvaluationException e) {
      return e;
    }
  }

  private static CelRuntime.Program program(String expression)
      throws CelValidationException, CelEvaluationException {
    // Exactly the variables Kubernetes declares for ValidatingAdmissionPolicy expressions; a typo
    // in a variable name fails compilation here as it would on the API server.
    CelCompiler compiler =
        CelCompilerFactory.standardCelCompilerBuilder()
            .setStandardMacros(CelStandardMacro.STANDARD_MACROS)
            .addVar("object", SimpleType.DYN)
            .addVar("oldObject", SimpleType.DYN)
            .addVar("request", SimpleType.DYN)
            .addVar("params", SimpleType.DYN)
            .addVar("namespaceObject", SimpleType.DYN)
            .addVar("variables", SimpleType.DYN)
            .setResultType(SimpleType.BOOL)
            .build();
    CelAbstractSyntaxTree ast = compiler.compile(expression).getAst();
    return CelRuntimeFactory.standardCelRuntimeBuilder().build().createProgram(ast);
  }

  /** An AdmissionRequest as CEL sees it; userInfo.extra is a map of string to list of strings. */
  private static Map<String, Object> request(
      String username, String operation, Map<String, List<String>> extra) {
    Map<String, Object> userInfo = new HashMap<>();
    userInfo.put("username", username);
    userInfo.put("groups", List.of("system:serviceaccounts", "system:authenticated"));
    if (extra != null) {
      userInfo.put("extra", extra);
    }
    return Map.of(
        "operation", operation,
        "userInfo", userInfo,
        "resource",
            Map.of(
                "group", "tcptuning.io", "version", "v1alpha1", "resource", "tcptuningnodestates"));
  }

  private static Map<String, List<String>> claim(String node) {
    return Map.of(
        NODE_CLAIM,
        List.of(node),
        "authentication.kubernetes.io/pod-name",
        List.of("tcp-tuning-agent-high-churn-abcde"));
  }

  private static Map<String, Object> state(String name) {
    return Map.of(
        "apiVersion", "tcptuning.io/v1alpha1",
        "kind", "TcpTuningNodeState",
        "metadata", Map.of("name", name));
  }
}
