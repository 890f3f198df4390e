package io.livemig.migration.monitor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** QMP's JSON dialect: what the parser takes, QEMU's texts for what it refuses, and QEMU's printing. */
class QmpJsonTest {

    private static JsonNode parse(String text) {
        ByteBuf frame = Unpooled.copiedBuffer(text, StandardCharsets.UTF_8);
        try {
            return QmpJson.parse(frame);
        } finally {
            frame.release();
        }
    }

    @Test
    void readsEveryKindOfValueKeepingMemberOrder() {
        JsonNode value = parse(" {\"execute\": \"migrate\", \"arguments\": {\"uri\": \"rdma:h:1\"},"
                + " \"n\": -12, \"big\": 12345678901234, \"f\": 1.5e2, \"t\": true, \"no\": false, \"nil\": null,"
                + " \"list\": [1, [], {}], \"esc\": \"a\\\"b\\\\c\\n\\u0041\\/\"} ");
        assertThat(value.get("execute").textValue()).isEqualTo("migrate");
        assertThat(value.get("arguments").get("uri").textValue()).isEqualTo("rdma:h:1");
        assertThat(value.get("n").longValue()).isEqualTo(-12);
        assertThat(value.get("big").longValue()).isEqualTo(12345678901234L);
        assertThat(value.get("f").doubleValue()).isEqualTo(150.0);
        assertThat(value.get("t").booleanValue()).isTrue();
        assertThat(value.get("no").booleanValue()).isFalse();
        assertThat(value.get("nil").isNull()).isTrue();
        assertThat(value.get("list").size()).isEqualTo(3);
        assertThat(value.get("esc").textValue()).isEqualTo("a\"b\\c\nA/");
        assertThat(value.properties()).extracting(java.util.Map.Entry::getKey).containsExactly("execute",
                "arguments", "n", "big", "f", "t", "no", "nil", "list", "esc");
    }

    @Test
    void takesSingleQuotedStringsAsQemuDoes() {
        assertThat(QmpJson.write(parse("{'execute': 'qu\\'it'}"))).isEqualTo("{\"execute\": \"qu'it\"}");
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "{\"a\" 1}|JSON parse error, missing : in object pair",
        "{1: 2}|JSON parse error, key is not a string in object",
        "{\"a\": 1 \"b\": 2}|JSON parse error, expected separator in dict",
        "[1 2]|JSON parse error, expected separator in list",
        "{\"a\": 1, \"a\": 2}|JSON parse error, duplicate key",
        "{\"a\": tru}|JSON parse error, invalid keyword 'tru'",
        "{\"a\": \"\\x\"}|JSON parse error, invalid escape sequence in string",
        "{\"a\": @}|JSON parse error, stray '@'",
        "{\"a\": -}|JSON parse error, stray '}'",
        "{]|JSON parse error, stray ']'",
    })
    void reportsMalformedInputWithQemuTexts(String text, String message) {
        assertThatThrownBy(() -> parse(text)).isInstanceOfSatisfying(QmpError.class, e -> {
            assertThat(e.errorClass()).isEqualTo(QmpError.GENERIC);
            assertThat(e).hasMessage(message);
        });
    }

    @Test
    void refusesBytesInvalidInTheEncodingTheirStartSuggestsAsAParseError() {
        // "{" then NULs reads as UTF-32; the quote and backslash after them make a code point above U+10FFFF.
        // Found by MonitorFuzzTest: the session used to close without an answer.
        byte[] frame = new byte[64];
        frame[0] = '{';
        byte[] rest = "\"\\E]\\E]]]]]]query-commands\"}".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        byte[] request = java.util.Arrays.copyOf(frame, frame.length + rest.length);
        System.arraycopy(rest, 0, request, frame.length, rest.length);
        assertThatThrownBy(() -> QmpJson.parse(io.netty.buffer.Unpooled.wrappedBuffer(request)))
                .isInstanceOf(QmpError.class).hasMessage("JSON parse error, invalid character encoding");
    }

    @Test
    void refusesAControlCharacterInAString() {
        assertThatThrownBy(() -> parse("{\"a\": \"x\ny\"}")).hasMessage("JSON parse error, control character in string");
    }

    @Test
    void refusesNestingDeeperThanItsLimit() {
        String deep = "[".repeat(QmpJson.MAX_NESTING + 1) + "]".repeat(QmpJson.MAX_NESTING + 1);
        assertThatThrownBy(() -> parse(deep)).hasMessage("JSON parse error, nesting too deep");
        String deepest = "[".repeat(QmpJson.MAX_NESTING) + "]".repeat(QmpJson.MAX_NESTING);
        assertThat(parse(deepest).isArray()).isTrue();
    }

    @Test
    void writesAsQemuPrints() {
        ObjectNode value = QmpJson.object();
        value.putObject("return");
        value.putArray("id").add(1L).add("x\"y").add(true).addObject().put("k", 2.5);
        value.putNull("nil");
        value.putArray("empty");
        assertThat(QmpJson.write(value))
                .isEqualTo("{\"return\": {}, \"id\": [1, \"x\\\"y\", true, {\"k\": 2.5}], \"nil\": null, \"empty\": []}");
    }

    @Test
    void escapesControlCharactersAsQemuDoesAndKeepsOtherTextAsIs() {
        assertThat(QmpJson.write(QmpJson.text("tab\there\u0001é/"))).isEqualTo("\"tab\\there\\u0001é/\"");
    }

    @Test
    void writesRawTextVerbatimInsideATree() {
        ObjectNode answer = QmpJson.object();
        answer.set("return", QmpJson.raw("{\"mbps\": 1.500000}"));
        answer.set("id", JsonNodeFactory.instance.arrayNode().add(1));
        assertThat(QmpJson.write(answer)).isEqualTo("{\"return\": {\"mbps\": 1.500000}, \"id\": [1]}");
    }

    @Test
    void anErrorAnswerCarriesTheIdAsSent() {
        QmpError error = QmpError.generic("no");
        assertThat(QmpJson.write(error.toJson(null)))
                .isEqualTo("{\"error\": {\"class\": \"GenericError\", \"desc\": \"no\"}}");
        assertThat(QmpJson.write(error.toJson(JsonNodeFactory.instance.nullNode())))
                .isEqualTo("{\"error\": {\"class\": \"GenericError\", \"desc\": \"no\"}, \"id\": null}");
    }

    @Test
    void greetsAsQemu() {
        assertThat(QmpJson.write(QmpSession.greeting())).isEqualTo(QmpServerTest.GREETING);
    }
}
