package io.livemig.migration.monitor;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeType;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Map;
import java.util.Set;

/**
 * The {@code arguments} of one QMP command, checked as QEMU's QAPI input visitor checks them, with its
 * texts: {@code Parameter 'uri' is missing}, {@code Parameter 'x' is unexpected},
 * {@code Invalid parameter type for 'uri', expected: string}.
 */
final class QmpArguments {

    private final ObjectNode members;

    QmpArguments(ObjectNode members) {
        this.members = members;
    }

    /** Refuses members other than {@code allowed}. */
    QmpArguments only(Set<String> allowed) {
        for (Map.Entry<String, JsonNode> member : members.properties()) {
            if (!allowed.contains(member.getKey())) {
                throw QmpError.generic("Parameter '" + member.getKey() + "' is unexpected");
            }
        }
        return this;
    }

    boolean has(String name) {
        return members.has(name);
    }

    /** The members in the order the client sent them. */
    Set<Map.Entry<String, JsonNode>> members() {
        return members.properties();
    }

    String string(String name) {
        return expect(name, required(name), JsonNodeType.STRING, "string").textValue();
    }

    boolean optionalBoolean(String name, boolean otherwise) {
        return has(name) ? expect(name, members.get(name), JsonNodeType.BOOLEAN, "boolean").booleanValue()
                : otherwise;
    }

    ArrayNode list(String name) {
        return (ArrayNode) expect(name, required(name), JsonNodeType.ARRAY, "array");
    }

    private JsonNode required(String name) {
        JsonNode value = members.get(name);
        if (value == null) {
            throw QmpError.generic("Parameter '" + name + "' is missing");
        }
        return value;
    }

    /**
     * Checks the type of a value found under {@code name} (a path such as {@code capabilities[0].state}).
     *
     * @param qapiType the type's name in QEMU's message
     */
    static JsonNode expect(String name, JsonNode value, JsonNodeType type, String qapiType) {
        if (value.getNodeType() != type) {
            throw QmpError.generic("Invalid parameter type for '" + name + "', expected: " + qapiType);
        }
        return value;
    }
}
