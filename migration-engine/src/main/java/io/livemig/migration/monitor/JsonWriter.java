package io.livemig.migration.monitor;

import io.livemig.migration.status.MigrationInfo;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Writes values of the shapes {@link JsonReader} makes as compact JSON the way QEMU's QMP prints it:
 * {@code ": "} after a key and {@code ", "} between members ({@code {"return": {}}}).
 */
final class JsonWriter {

    private JsonWriter() {
    }

    /** The JSON text of a map, list, string, number, boolean or null. */
    static String write(Object value) {
        StringBuilder out = new StringBuilder();
        write(out, value);
        return out.toString();
    }

    private static void write(StringBuilder out, Object value) {
        switch (value) {
            case null -> out.append("null");
            case String s -> out.append(MigrationInfo.quote(s));
            case Map<?, ?> map -> {
                out.append('{');
                Iterator<? extends Map.Entry<?, ?>> members = map.entrySet().iterator();
                while (members.hasNext()) {
                    Map.Entry<?, ?> member = members.next();
                    out.append(MigrationInfo.quote(String.valueOf(member.getKey()))).append(": ");
                    write(out, member.getValue());
                    if (members.hasNext()) {
                        out.append(", ");
                    }
                }
                out.append('}');
            }
            case List<?> list -> {
                out.append('[');
                for (int i = 0; i < list.size(); i++) {
                    if (i > 0) {
                        out.append(", ");
                    }
                    write(out, list.get(i));
                }
                out.append(']');
            }
            case Double d when d.isNaN() || d.isInfinite() -> out.append("null");
            case Number n -> out.append(n);
            case Boolean b -> out.append(b);
            default -> out.append(MigrationInfo.quote(value.toString()));
        }
    }
}
