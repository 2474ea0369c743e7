package io.tcptuning.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SchemaValidatorsConfig;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import dev.cel.common.types.SimpleType;
import dev.cel.compiler.CelCompiler;
import dev.cel.compiler.CelCompilerFactory;
import dev.cel.extensions.CelExtensions;
import dev.cel.parser.CelStandardMacro;
import dev.cel.runtime.CelRuntime;
import dev.cel.runtime.CelRuntimeFactory;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What the API server would say about a manifest, for tests: the committed CRD's OpenAPI schema
 * (via networknt), strict field validation (unknown fields are errors, as with kubectl's default
 * {@code --validate=strict}), and every {@code x-kubernetes-validations} CEL rule evaluated with
 * dev.cel where its value is present. The mock API server enforces none of this.
 */
public final class CrdSchemaValidator {
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
  private static final CelCompiler CEL_COMPILER =
      CelCompilerFactory.standardCelCompilerBuilder()
          .setStandardMacros(CelStandardMacro.STANDARD_MACROS)
          .addVar("self", SimpleType.DYN)
          .addLibraries(CelExtensions.strings())
          .setResultType(SimpleType.BOOL)
          .build();
  private static final CelRuntime CEL_RUNTIME =
      CelRuntimeFactory.standardCelRuntimeBuilder().addLibraries(CelExtensions.strings()).build();

  private final JsonNode openApiSchema;
  private final JsonSchema jsonSchema;

  private CrdSchemaValidator(JsonNode openApiSchema) {
    this.openApiSchema = openApiSchema;
    SchemaValidatorsConfig config = SchemaValidatorsConfig.builder().build();
    this.jsonSchema = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V4).getSchema(openApiSchema.toString(), config);
  }

  /** Loads {@code crds/<file>} (of the repository) for version v1alpha1. */
  public static CrdSchemaValidator forCrd(String fileName) throws IOException {
    JsonNode crd = YAML.readTree(ProjectPaths.resolve("crds").resolve(fileName).toFile());
    for (JsonNode v : crd.path("spec").path("versions")) {
      if ("v1alpha1".equals(v.path("name").asText())) {
        return new CrdSchemaValidator(v.path("schema").path("openAPIV3Schema"));
      }
    }
    throw new IllegalStateException("no v1alpha1 in " + fileName);
  }

  public JsonNode openApiSchema() {
    return openApiSchema;
  }

  /** Every error the API server would report for this manifest (YAML or JSON); empty = accepted. */
  public List<String> validate(String manifest) throws IOException {
    JsonNode object = YAML.readTree(manifest);
    if (object instanceof ObjectNode o) {
      // apiVersion/kind/metadata are the API server's own business, not the schema's.
      o = o.deepCopy();
      o.remove(List.of("apiVersion", "kind", "metadata"));
      object = o;
    }
    List<String> errors = new ArrayList<>();
    for (ValidationMessage m : jsonSchema.validate(object)) {
      errors.add(m.getMessage());
    }
    walk(openApiSchema, object, "", errors);
    return errors;
  }

  private void walk(JsonNode schema, JsonNode value, String path, List<String> errors) {
    if (value == null || value.isMissingNode() || value.isNull()) {
      return;
    }
    for (JsonNode rule : schema.path("x-kubernetes-validations")) {
      evaluate(rule, value, path, errors);
    }
    if (value.isObject()) {
      JsonNode props = schema.path("properties");
      boolean preserve = schema.path("x-kubernetes-preserve-unknown-fields").asBoolean(false);
      JsonNode additional = schema.path("additionalProperties");
      for (Iterator<Map.Entry<String, JsonNode>> it = value.fields(); it.hasNext(); ) {
        var field = it.next();
        String child = path + "." + field.getKey();
        if (props.has(field.getKey())) {
          walk(props.get(field.getKey()), field.getValue(), child, errors);
        } else if (additional.isObject()) {
          walk(additional, field.getValue(), child, errors);
        } else if (!preserve) {
          errors.add(child + ": unknown field \"" + field.getKey() + "\"");
        }
      }
    } else if (value.isArray()) {
      int i = 0;
      for (JsonNode item : value) {
        walk(schema.path("items"), item, path + "[" + i++ + "]", errors);
      }
    }
  }

  private static void evaluate(JsonNode rule, JsonNode value, String at, List<String> errors) {
    String expression = rule.path("rule").asText();
    // As the server reports it: at the rule's fieldPath (".ipLocalPortRange"), when it has one.
    String path = rule.hasNonNull("fieldPath") ? at + rule.get("fieldPath").asText() : at;
    try {
      var ast = CEL_COMPILER.compile(expression).getAst();
      Object result = CEL_RUNTIME.createProgram(ast).eval(Map.of("self", toCel(value)));
      if (!Boolean.TRUE.equals(result)) {
        errors.add(path + ": " + rule.path("message").asText(expression));
      }
    } catch (Exception e) {
      // The API server reports an evaluation error as a rejection too.
      errors.add(path + ": " + rule.path("message").asText(expression) + " (" + e.getMessage() + ")");
    }
  }

  /** JSON as CEL sees it: integers are int (Java long), objects are maps. */
  static Object toCel(JsonNode n) {
    if (n.isIntegralNumber()) {
      return n.asLong();
    }
    if (n.isNumber()) {
      return n.asDouble();
    }
    if (n.isBoolean()) {
      return n.asBoolean();
    }
    if (n.isTextual()) {
      return n.asText();
    }
    if (n.isArray()) {
      List<Object> out = new ArrayList<>();
      n.forEach(x -> out.add(toCel(x)));
      return out;
    }
    Map<String, Object> out = new LinkedHashMap<>();
    n.fields().forEachRemaining(e -> out.put(e.getKey(), toCel(e.getValue())));
    return out;
  }
}
