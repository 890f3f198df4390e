package io.livemig.migration.monitor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The QMP request reader and the answer writer. */
class JsonReaderTest {

    @Test
    void readsEveryKindOfValue() {
        Object value = JsonReader.parse(" {\"execute\": \"migrate\", \"arguments\": {\"uri\": \"rdma:h:1\"},"
                + " \"n\": -12, \"big\": 12345678901234, \"f\": 1.5e2, \"t\": true, \"no\": false, \"nil\": null,"
                + " \"list\": [1, [], {}], \"esc\": \"a\\\"b\\\\c\\n\\u0041\\/\"} ");
        Map<String, Object> expected = new LinkedHashMap<>();
        expected.put("execute", "migrate");
        expected.put("arguments", Map.of("uri", "rdma:h:1"));
        expected.put("n", -12L);
        expected.put("big", 12345678901234L);
        expected.put("f", 150.0);
        expected.put("t", true);
        expected.put("no", false);
        expected.put("nil", null);
        expected.put("list", List.of(1L, List.of(), Map.of()));
        expected.put("esc", "a\"b\\c\nA/");
        assertThat(value).isEqualTo(expected);
        assertThat(List.copyOf(((Map<?, ?>) value).keySet())).isEqualTo(List.copyOf(expected.keySet()));
    }

    @Test
    void takesSingleQuotedStringsAsQemuDoes() {
        assertThat(JsonReader.parse("{'execute': 'quit'}")).isEqualTo(Map.of("execute", "quit"));
    }

    @Test
    void anIntegerBeyondInt64BecomesADouble() {
        assertThat(JsonReader.parse("18446744073709551616")).isEqualTo(1.8446744073709552E19);
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
        "{} x|JSON parse error, stray 'x'",
        "{\"a\": -}|JSON parse error, stray '}'",
    })
    void reportsMalformedInputWithQemuTexts(String text, String message) {
        assertThatThrownBy(() -> JsonReader.parse(text)).isInstanceOf(JsonReader.JsonException.class)
                .hasMessage(message);
    }

    @Test
    void refusesDeepNesting() {
        char[] open = new char[100];
        Arrays.fill(open, '[');
        assertThatThrownBy(() -> JsonReader.parse(new String(open))).hasMessage("JSON parse error, nesting too deep");
    }

    @Test
    void readsAStreamValueByValueAndSaysWhenInputIsIncomplete() {
        String stream = "{\"execute\": \"a\"}{\"execute\":\n \"b\"} {\"exe";
        JsonReader.Parsed first = JsonReader.next(stream, 0);
        assertThat(first.value()).isEqualTo(Map.of("execute", "a"));
        JsonReader.Parsed second = JsonReader.next(stream, first.end());
        assertThat(second.value()).isEqualTo(Map.of("execute", "b"));
        assertThatThrownBy(() -> JsonReader.next(stream, second.end()))
                .isInstanceOfSatisfying(JsonReader.JsonException.class, e -> assertThat(e.incomplete()).isTrue());
        assertThat(JsonReader.next("   \n", 0)).isNull();
        assertThatThrownBy(() -> JsonReader.next("{\"a\": 12", 0))
                .isInstanceOfSatisfying(JsonReader.JsonException.class, e -> assertThat(e.incomplete()).isTrue());
        assertThatThrownBy(() -> JsonReader.next("{\"a\": }", 0))
                .isInstanceOfSatisfying(JsonReader.JsonException.class, e -> assertThat(e.incomplete()).isFalse());
    }

    @Test
    void writesAsQemuPrints() {
        Map<String, Object> value = new LinkedHashMap<>();
        value.put("return", Map.of());
        value.put("id", List.of(1L, "x\"y", true, Map.of("k", 2.5)));
        value.put("nil", null);
        assertThat(JsonWriter.write(value))
                .isEqualTo("{\"return\": {}, \"id\": [1, \"x\\\"y\", true, {\"k\": 2.5}], \"nil\": null}");
    }
}
