package io.livemig.migration.monitor;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.PrettyPrinter;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectWriter;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import com.fasterxml.jackson.databind.util.RawValue;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufInputStream;
import java.io.CharConversionException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * QMP's JSON dialect on Jackson. Reading is QEMU's: single-quoted strings are taken, duplicate keys and nesting
 * deeper than {@value #MAX_NESTING} are refused, and malformed input is reported with the texts of QEMU's
 * parser ({@code JSON parse error, missing : in object pair}). Writing is QEMU's compact form: {@code ": "}
 * after a key and {@code ", "} between members ({@code {"return": {}}}).
 */
final class QmpJson {

    /** The answer to a request whose bytes are not text in the encoding its first bytes announce. */
    static final String INVALID_ENCODING = "JSON parse error, invalid character encoding";

    /** How deep objects and arrays may nest in a request. */
    static final int MAX_NESTING = 64;

    private static final JsonMapper MAPPER = JsonMapper.builder(JsonFactory.builder()
                    .enable(JsonReadFeature.ALLOW_SINGLE_QUOTES)
                    .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
                    .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(MAX_NESTING).build())
                    .build())
            .build();

    private static final ObjectWriter WRITER = MAPPER.writer(new QemuPrinter());

    /**
     * Jackson's parse errors and the texts QEMU's parser gives for the same mistakes (qobject/json-parser.c).
     * Jackson's messages are matched rather than its exception types because it has one type for all of them;
     * every row is pinned by a test so that a Jackson upgrade that rewords one fails loudly.
     */
    private static final List<Translation> TRANSLATIONS = List.of(
            contains("was expecting a colon to separate field name and value", "missing : in object pair"),
            contains("was expecting double-quote to start field name", "key is not a string in object"),
            contains("was expecting comma to separate Object entries", "expected separator in dict"),
            contains("was expecting comma to separate Array entries", "expected separator in list"),
            new Translation(Pattern.compile("^Duplicate field "), m -> "duplicate key"),
            new Translation(Pattern.compile("^Unrecognized token '([^']*)'"), m -> "invalid keyword '" + m.group(1) + "'"),
            new Translation(Pattern.compile("^Unrecognized character escape"), m -> "invalid escape sequence in string"),
            new Translation(Pattern.compile("^Illegal unquoted character"), m -> "control character in string"),
            new Translation(Pattern.compile("^Unexpected character \\('(.+?)' \\(code \\d+\\)\\)"),
                    m -> "stray '" + m.group(1) + "'"),
            new Translation(Pattern.compile("^Unexpected close marker '(.)'"), m -> "stray '" + m.group(1) + "'"));

    private QmpJson() {
    }

    /**
     * Parses one request as the framing cut it from the stream.
     *
     * @param frame one complete JSON text; not released here
     * @return the value (an object for a well-formed request, but any JSON value parses)
     * @throws QmpError with QEMU's {@code JSON parse error, ...} text when the text is malformed
     */
    static JsonNode parse(ByteBuf frame) {
        try (InputStream in = new ByteBufInputStream(frame.duplicate())) {
            return MAPPER.readTree(in);
        } catch (StreamConstraintsException e) {
            throw QmpError.generic("JSON parse error, " + (e.getOriginalMessage().contains("nesting depth")
                    ? "nesting too deep" : e.getOriginalMessage()));
        } catch (JsonProcessingException e) {
            throw QmpError.generic("JSON parse error, " + qemuProblem(e.getOriginalMessage()));
        } catch (CharConversionException e) {
            // Jackson guesses the encoding from the first bytes: "{" and NULs read as UTF-16/32, whose invalid code
            // units are reported this way rather than as a parse error. Found by MonitorFuzzTest.
            throw QmpError.generic(INVALID_ENCODING);
        } catch (IOException e) {
            // A ByteBufInputStream never fails to read what the buffer holds.
            throw new UncheckedIOException(e);
        }
    }

    private static String qemuProblem(String jacksonMessage) {
        for (Translation translation : TRANSLATIONS) {
            Matcher matcher = translation.pattern().matcher(jacksonMessage);
            if (matcher.find()) {
                return translation.text().apply(matcher);
            }
        }
        // No QEMU text for this one (an invalid number, say): Jackson's own words beat none.
        return jacksonMessage;
    }

    /**
     * A value as QEMU prints it.
     *
     * @param value the value
     * @return compact JSON with QEMU's spacing
     */
    static String write(JsonNode value) {
        try {
            return WRITER.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            // Trees of plain nodes always serialize.
            throw new IllegalStateException(e);
        }
    }

    /**
     * A new empty object node.
     *
     * @return the node
     */
    static ObjectNode object() {
        return JsonNodeFactory.instance.objectNode();
    }

    /**
     * A string node.
     *
     * @param text the text
     * @return the node
     */
    static JsonNode text(String text) {
        return TextNode.valueOf(text);
    }

    /**
     * A node written out verbatim: for JSON rendered elsewhere (the engine's {@code query-migrate} text, whose
     * numbers are printed as QEMU prints them and would change their form through a parse and re-print).
     *
     * @param json a complete JSON text
     * @return the node
     */
    static JsonNode raw(String json) {
        return JsonNodeFactory.instance.rawValueNode(new RawValue(json));
    }

    private static Translation contains(String jackson, String qemu) {
        return new Translation(Pattern.compile(Pattern.quote(jackson)), m -> qemu);
    }

    private record Translation(Pattern pattern, Function<Matcher, String> text) {
    }

    /** QEMU's spacing: {@code {"a": 1, "b": [1, 2]}}, no newlines. Stateless, so one instance serves all. */
    private static final class QemuPrinter implements PrettyPrinter {

        @Override
        public void writeRootValueSeparator(JsonGenerator g) {
            // One value per write: nothing between roots.
        }

        @Override
        public void writeStartObject(JsonGenerator g) throws IOException {
            g.writeRaw('{');
        }

        @Override
        public void writeEndObject(JsonGenerator g, int nrOfEntries) throws IOException {
            g.writeRaw('}');
        }

        @Override
        public void writeObjectEntrySeparator(JsonGenerator g) throws IOException {
            g.writeRaw(", ");
        }

        @Override
        public void writeObjectFieldValueSeparator(JsonGenerator g) throws IOException {
            g.writeRaw(": ");
        }

        @Override
        public void writeStartArray(JsonGenerator g) throws IOException {
            g.writeRaw('[');
        }

        @Override
        public void writeEndArray(JsonGenerator g, int nrOfValues) throws IOException {
            g.writeRaw(']');
        }

        @Override
        public void writeArrayValueSeparator(JsonGenerator g) throws IOException {
            g.writeRaw(", ");
        }

        @Override
        public void beforeArrayValues(JsonGenerator g) {
            // Nothing after '['.
        }

        @Override
        public void beforeObjectEntries(JsonGenerator g) {
            // Nothing after '{'.
        }
    }
}
