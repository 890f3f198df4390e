package io.livemig.migration.monitor;

import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The {@code arguments} of one QMP command, checked as QEMU's QAPI input visitor checks them, with its
 * texts: {@code Parameter 'uri' is missing}, {@code Parameter 'x' is unexpected},
 * {@code Invalid parameter type for 'uri', expected: string}.
 */
final class QmpArguments {

    private final Map<String, Object> members;

    QmpArguments(Map<String, Object> members) {
        this.members = members;
    }

    /** Refuses members other than {@code allowed}. */
    QmpArguments only(Set<String> allowed) {
        for (String name : members.keySet()) {
            if (!allowed.contains(name)) {
                throw QmpError.generic("Parameter '" + name + "' is unexpected");
            }
        }
        return this;
    }

    boolean has(String name) {
        return members.containsKey(name);
    }

    Map<String, Object> members() {
        return members;
    }

    String string(String name) {
        return expect(name, required(name), String.class, "string");
    }

    boolean optionalBoolean(String name, boolean otherwise) {
        return has(name) ? expect(name, members.get(name), Boolean.class, "boolean") : otherwise;
    }

    List<?> list(String name) {
        return expect(name, required(name), List.class, "array");
    }

    private Object required(String name) {
        if (!members.containsKey(name)) {
            throw QmpError.generic("Parameter '" + name + "' is missing");
        }
        return members.get(name);
    }

    /** Checks the type of a value found under {@code name} (a path such as {@code capabilities[0].state}). */
    static <T> T expect(String name, Object value, Class<T> type, String qapiType) {
        if (!type.isInstance(value)) {
            throw QmpError.generic("Invalid parameter type for '" + name + "', expected: " + qapiType);
        }
        return type.cast(value);
    }
}
