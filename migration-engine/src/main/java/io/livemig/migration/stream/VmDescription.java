package io.livemig.migration.stream;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.livemig.migration.protocol.ProtocolError;
import io.livemig.migration.protocol.ProtocolException;
import io.livemig.migration.protocol.VmStateStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * QEMU's VMDESCRIPTION: the JSON after the end-of-stream marker that makes device sections walkable (their
 * bodies carry no length). It is written as QEMU 7.2's {@code savevm.c} and {@code vmstate.c} write it, with
 * its JSON writer's {@code ", "} and {@code ": "} separators: {@code {"page_size": 4096, "devices": [{"name":
 * ..., "instance_id": ..., "vmsd_name": ..., "version": ..., "fields": [{"name": ..., "type": ..., "size":
 * ...}]}]}}, and read to walk a recorded device-state tail section by section (what QEMU's
 * {@code scripts/analyze-migration.py} does with it).
 */
final class VmDescription {

    /** Target page size QEMU puts first; the reader also uses its key to recognise a description. */
    static final int PAGE_SIZE = 4096;
    /** The bytes every VMDESCRIPTION JSON starts with. */
    static final byte[] PREFIX = "{\"page_size\"".getBytes(StandardCharsets.US_ASCII);

    private static final ObjectMapper JSON = new ObjectMapper();

    private VmDescription() {
    }

    /**
     * One of livemig's own FULL sections: two fields, {@code size} (uint32, the length of what follows) and
     * {@code data} (a buffer of that length), the layout of QEMU's own variable buffers (e.g. globalstate).
     *
     * @param name idstr, also used as vmsd_name
     * @param instanceId instance number
     * @param version section version
     * @param size length of the data field
     */
    record Section(String name, int instanceId, int version, int size) {
    }

    /**
     * The JSON QEMU tooling reads for livemig's own sections, byte for byte as QEMU's writer lays it out.
     *
     * @param sections the FULL sections in stream order
     * @return the JSON text
     */
    static String describe(List<Section> sections) {
        StringBuilder json = new StringBuilder("{\"page_size\": ").append(PAGE_SIZE).append(", \"devices\": [");
        for (int i = 0; i < sections.size(); i++) {
            Section s = sections.get(i);
            json.append(i == 0 ? "" : ", ")
                    .append("{\"name\": ").append(quote(s.name()))
                    .append(", \"instance_id\": ").append(Integer.toUnsignedString(s.instanceId()))
                    .append(", \"vmsd_name\": ").append(quote(s.name()))
                    .append(", \"version\": ").append(Integer.toUnsignedString(s.version()))
                    .append(", \"fields\": [{\"name\": \"size\", \"type\": \"uint32\", \"size\": 4}, ")
                    .append("{\"name\": \"data\", \"type\": \"buffer\", \"size\": ").append(s.size()).append("}]}");
        }
        return json.append("]}").toString();
    }

    private static String quote(String s) {
        StringBuilder out = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                default -> {
                    if (c < 0x20) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        return out.append('"').toString();
    }

    /**
     * Checks a device-state tail: device FULL sections, EOF, VMDESCRIPTION, and that the description walks the
     * sections exactly: each section's header names the device, instance and version the description lists,
     * its fields and subsections add up to its body, its footer closes it, and EOF follows the last one.
     *
     * @param tail the bytes
     * @param length how many of them form the tail
     * @return the sections in stream order
     * @throws ProtocolException ({@link ProtocolError#INVALID_FIELD}) naming what does not fit
     */
    static List<DeviceState.Section> walk(byte[] tail, int length) {
        int eof = -1;
        // The last candidate is the real one: a JSON text holds no NUL, so no later "00 06" fits.
        for (int p = length - 6 - PREFIX.length; p >= 0; p--) {
            if (tail[p] == VmStateStream.SECTION_EOF && tail[p + 1] == VmStateStream.SECTION_VMDESCRIPTION
                    && Integer.toUnsignedLong(be32(tail, p + 2)) == length - p - 6L && tail[p + 6] == '{') {
                eof = p;
                break;
            }
        }
        if (eof < 0) {
            throw invalid("device state does not end with EOF and a VMDESCRIPTION");
        }
        JsonNode description;
        try {
            description = JSON.readTree(new String(tail, eof + 6, length - eof - 6, StandardCharsets.UTF_8));
        } catch (JsonProcessingException e) {
            throw invalid("device state's VMDESCRIPTION is not valid JSON: " + e.getOriginalMessage());
        }
        JsonNode devices = description.path("devices");
        if (!description.path("page_size").isIntegralNumber() || !devices.isArray()) {
            throw invalid("device state's VMDESCRIPTION has no page_size and devices");
        }
        Walk walk = new Walk(tail, eof);
        List<DeviceState.Section> sections = new ArrayList<>();
        for (JsonNode device : devices) {
            sections.add(walk.section(device));
        }
        if (walk.at != eof) {
            throw invalid("device state has " + (eof - walk.at) + " bytes after its last section '"
                    + (sections.isEmpty() ? "(none)" : sections.getLast().idstr()) + "' before EOF");
        }
        return List.copyOf(sections);
    }

    /** A cursor over the device sections, up to the EOF marker. */
    private static final class Walk {
        private final byte[] tail;
        private final int end;
        private int at;
        private String section = "(none)";

        Walk(byte[] tail, int end) {
            this.tail = tail;
            this.end = end;
        }

        DeviceState.Section section(JsonNode device) {
            String name = device.path("name").asText();
            int start = at;
            int type = u8("the header of section '" + name + "'");
            if (type != VmStateStream.SECTION_FULL) {
                throw invalid(String.format("device state: expected section '%s' at offset %d, found type 0x%02x",
                        name, start, type));
            }
            int id = be32("the header of section '" + name + "'");
            String idstr = name("the header of section '" + name + "'");
            int instance = be32("the header of section '" + name + "'");
            int version = be32("the header of section '" + name + "'");
            section = idstr;
            if (!idstr.equals(name) || instance != device.path("instance_id").asInt(-1)
                    || device.has("version") && version != device.path("version").asInt(-1)) {
                throw invalid(String.format("device state: section '%s' instance %d version %d at offset %d is not"
                        + " the description's '%s' instance %s version %s", idstr, instance, version, start, name,
                        device.path("instance_id"), device.path("version")));
            }
            body(device);
            int marker = u8("the footer of section '" + idstr + "'");
            int footer = be32("the footer of section '" + idstr + "'");
            if (marker != VmStateStream.SECTION_FOOTER || footer != id) {
                throw invalid(String.format("device state: section '%s' (id %d) does not end with its footer where its"
                        + " description ends (offset %d)", idstr, id, at - 5));
            }
            return new DeviceState.Section(id, idstr, instance, version);
        }

        /** The fields, then the subsections, as {@code vmstate_save_state_v} writes them. */
        private void body(JsonNode vmsd) {
            for (JsonNode field : vmsd.path("fields")) {
                long size = field.path("size").asLong(-1);
                // A compressed array's description holds its first element and the element count.
                long count = field.has("array_len") ? field.path("array_len").asLong(-1) : 1;
                if (size < 0 || count < 0) {
                    throw invalid("device state: field '" + field.path("name").asText() + "' of section '" + section
                            + "' has no size in the VMDESCRIPTION");
                }
                long bytes;
                try {
                    bytes = Math.multiplyExact(size, count);
                } catch (ArithmeticException e) {
                    bytes = Long.MAX_VALUE;
                }
                skip(bytes, "field '" + field.path("name").asText() + "'");
            }
            for (JsonNode sub : vmsd.path("subsections")) {
                String what = "subsection '" + sub.path("vmsd_name").asText() + "'";
                int type = u8(what);
                String name = name(what);
                int version = be32(what);
                if (type != VmStateStream.SECTION_SUBSECTION || !name.equals(sub.path("vmsd_name").asText())
                        || version != sub.path("version").asInt(-1)) {
                    throw invalid("device state: " + what + " of section '" + section
                            + "' is not where its description puts it");
                }
                body(sub);
            }
        }

        private void skip(long n, String what) {
            if (n > end - at) {
                throw invalid("device state: " + what + " of section '" + section + "' runs past EOF");
            }
            at += (int) n;
        }

        private int u8(String what) {
            skip(1, what);
            return tail[at - 1] & 0xff;
        }

        private int be32(String what) {
            skip(4, what);
            return VmDescription.be32(tail, at - 4);
        }

        private String name(String what) {
            int n = u8(what);
            skip(n, what);
            return new String(tail, at - n, n, StandardCharsets.UTF_8);
        }
    }

    private static int be32(byte[] b, int at) {
        return (b[at] & 0xff) << 24 | (b[at + 1] & 0xff) << 16 | (b[at + 2] & 0xff) << 8 | b[at + 3] & 0xff;
    }

    private static ProtocolException invalid(String message) {
        return new ProtocolException(ProtocolError.INVALID_FIELD, message);
    }
}
