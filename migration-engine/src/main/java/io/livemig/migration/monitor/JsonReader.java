package io.livemig.migration.monitor;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A small recursive-descent JSON reader for QMP requests: objects become {@link LinkedHashMap}s (member
 * order kept), arrays {@link List}s, strings {@link String}s, integers {@link Long}s, other numbers
 * {@link Double}s, {@code true}/{@code false} {@link Boolean}s and {@code null} Java null. Like QEMU's
 * parser it also takes single-quoted strings and refuses duplicate keys; its errors carry QEMU's
 * {@code JSON parse error, ...} texts.
 *
 * <p>QMP is a stream of values, not of lines: {@link #next} reads one value from a position in a buffer
 * and says where it ended, or reports {@link JsonException#incomplete() incomplete} input so that the
 * caller can read more and retry.
 */
final class JsonReader {

    private static final int MAX_DEPTH = 64;

    private final CharSequence text;
    private final boolean wholeText;
    private int pos;
    private int depth;

    private JsonReader(CharSequence text, int pos, boolean wholeText) {
        this.text = text;
        this.pos = pos;
        this.wholeText = wholeText;
    }

    /**
     * One value and where it ended.
     *
     * @param value the value (null for JSON null)
     * @param end the index after its last character
     */
    record Parsed(Object value, int end) {
    }

    /** Reads the whole text as one value, nothing but whitespace around it. */
    static Object parse(CharSequence text) {
        JsonReader reader = new JsonReader(text, 0, true);
        Object value = reader.value();
        reader.skipWhitespace();
        if (!reader.atEnd()) {
            throw reader.stray();
        }
        return value;
    }

    /**
     * Reads the next value from {@code from}.
     *
     * @return the value, or null when only whitespace remains
     * @throws JsonException for malformed input, {@link JsonException#incomplete()} when it ends early
     */
    static Parsed next(CharSequence text, int from) {
        JsonReader reader = new JsonReader(text, from, false);
        reader.skipWhitespace();
        if (reader.pos == text.length()) {
            return null;
        }
        Object value = reader.value();
        return new Parsed(value, reader.pos);
    }

    private Object value() {
        skipWhitespace();
        char c = peek("expecting value");
        return switch (c) {
            case '{' -> object();
            case '[' -> array();
            case '"', '\'' -> string();
            default -> c == '-' || (c >= '0' && c <= '9') ? number() : keyword();
        };
    }

    private Map<String, Object> object() {
        enter();
        pos++;
        Map<String, Object> members = new LinkedHashMap<>();
        skipWhitespace();
        if (peek("expecting value") == '}') {
            pos++;
            depth--;
            return members;
        }
        while (true) {
            skipWhitespace();
            char c = peek("expecting value");
            if (c != '"' && c != '\'') {
                throw new JsonException("key is not a string in object", false);
            }
            String key = string();
            skipWhitespace();
            if (peek("missing : in object pair") != ':') {
                throw new JsonException("missing : in object pair", false);
            }
            pos++;
            Object value = value();
            if (members.containsKey(key)) {
                throw new JsonException("duplicate key", false);
            }
            members.put(key, value);
            skipWhitespace();
            char after = peek("expected separator in dict");
            pos++;
            if (after == '}') {
                depth--;
                return members;
            }
            if (after != ',') {
                throw new JsonException("expected separator in dict", false);
            }
        }
    }

    private List<Object> array() {
        enter();
        pos++;
        List<Object> items = new ArrayList<>();
        skipWhitespace();
        if (peek("expecting value") == ']') {
            pos++;
            depth--;
            return items;
        }
        while (true) {
            items.add(value());
            skipWhitespace();
            char after = peek("expected separator in list");
            pos++;
            if (after == ']') {
                depth--;
                return items;
            }
            if (after != ',') {
                throw new JsonException("expected separator in list", false);
            }
        }
    }

    private void enter() {
        if (++depth > MAX_DEPTH) {
            throw new JsonException("nesting too deep", false);
        }
    }

    private String string() {
        char quote = text.charAt(pos++);
        StringBuilder out = new StringBuilder();
        while (true) {
            char c = peek("missing terminating quote");
            pos++;
            if (c == quote) {
                return out.toString();
            }
            if (c < 0x20) {
                throw new JsonException("control character in string", false);
            }
            if (c != '\\') {
                out.append(c);
                continue;
            }
            char escape = peek("missing terminating quote");
            pos++;
            switch (escape) {
                case '"', '\'', '\\', '/' -> out.append(escape);
                case 'b' -> out.append('\b');
                case 'f' -> out.append('\f');
                case 'n' -> out.append('\n');
                case 'r' -> out.append('\r');
                case 't' -> out.append('\t');
                case 'u' -> out.append(unicodeEscape());
                default -> throw new JsonException("invalid escape sequence in string", false);
            }
        }
    }

    private char unicodeEscape() {
        if (pos + 4 > text.length()) {
            throw new JsonException("missing terminating quote", true);
        }
        int code = 0;
        for (int i = 0; i < 4; i++) {
            int digit = Character.digit(text.charAt(pos++), 16);
            if (digit < 0) {
                throw new JsonException("invalid escape sequence in string", false);
            }
            code = code * 16 + digit;
        }
        return (char) code;
    }

    private Object number() {
        int start = pos;
        if (text.charAt(pos) == '-') {
            pos++;
        }
        int digits = digits();
        if (digits == 0) {
            throw atEnd() ? new JsonException("expecting value", true) : stray();
        }
        boolean integer = true;
        if (pos < text.length() && text.charAt(pos) == '.') {
            pos++;
            integer = false;
            if (digits() == 0) {
                throw atEnd() ? new JsonException("expecting value", true) : stray();
            }
        }
        if (pos < text.length() && (text.charAt(pos) == 'e' || text.charAt(pos) == 'E')) {
            pos++;
            integer = false;
            if (pos < text.length() && (text.charAt(pos) == '+' || text.charAt(pos) == '-')) {
                pos++;
            }
            if (digits() == 0) {
                throw atEnd() ? new JsonException("expecting value", true) : stray();
            }
        }
        // A number at the very end of the buffer may go on in the next read.
        if (atEnd() && !wholeText) {
            throw new JsonException("expecting value", true);
        }
        String literal = text.subSequence(start, pos).toString();
        if (integer) {
            try {
                return Long.parseLong(literal);
            } catch (NumberFormatException e) {
                // QEMU turns integers beyond int64 into doubles; so does this reader.
                return Double.parseDouble(literal);
            }
        }
        return Double.parseDouble(literal);
    }

    private int digits() {
        int start = pos;
        while (pos < text.length() && text.charAt(pos) >= '0' && text.charAt(pos) <= '9') {
            pos++;
        }
        return pos - start;
    }

    private Object keyword() {
        int start = pos;
        while (pos < text.length() && Character.isLetter(text.charAt(pos))) {
            pos++;
        }
        if (pos == start) {
            throw stray();
        }
        String word = text.subSequence(start, pos).toString();
        if (atEnd() && !wholeText && ("true".startsWith(word) || "false".startsWith(word) || "null".startsWith(word))) {
            throw new JsonException("expecting value", true);
        }
        return switch (word) {
            case "true" -> Boolean.TRUE;
            case "false" -> Boolean.FALSE;
            case "null" -> null;
            default -> throw new JsonException("invalid keyword '" + word + "'", false);
        };
    }

    private char peek(String whatIsMissing) {
        if (atEnd()) {
            throw new JsonException(whatIsMissing, true);
        }
        return text.charAt(pos);
    }

    private boolean atEnd() {
        return pos >= text.length();
    }

    private JsonException stray() {
        return new JsonException("stray '" + text.charAt(pos) + "'", false);
    }

    private void skipWhitespace() {
        while (pos < text.length()) {
            char c = text.charAt(pos);
            if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
                return;
            }
            pos++;
        }
    }

    /** Malformed JSON; the message is QEMU's {@code JSON parse error, ...}. */
    static final class JsonException extends IllegalArgumentException {
        private static final long serialVersionUID = 1L;

        private final boolean incomplete;

        JsonException(String problem, boolean incomplete) {
            super("JSON parse error, " + problem);
            this.incomplete = incomplete;
        }

        /**
         * Whether the input ended before the value did (more input may complete it).
         *
         * @return true when incomplete rather than malformed
         */
        boolean incomplete() {
            return incomplete;
        }
    }
}
