package io.livemig.migration.monitor;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * A QMP command failed: answered as {@code {"error": {"class": CLASS, "desc": DESC}}}.
 */
final class QmpError extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /** QEMU's class for nearly every error. */
    static final String GENERIC = "GenericError";
    /** QEMU's class for unknown commands and commands before negotiation. */
    static final String COMMAND_NOT_FOUND = "CommandNotFound";

    private final String errorClass;

    QmpError(String errorClass, String desc) {
        super(desc, null, false, false);
        this.errorClass = errorClass;
    }

    static QmpError generic(String desc) {
        return new QmpError(GENERIC, desc);
    }

    String errorClass() {
        return errorClass;
    }

    /**
     * The answer, with the request's id when it had one.
     *
     * @param id the request's {@code id} as sent (JSON null included), or Java null when it had none
     * @return the answer object
     */
    ObjectNode toJson(JsonNode id) {
        ObjectNode answer = QmpJson.object();
        ObjectNode error = answer.putObject("error");
        error.put("class", errorClass);
        error.put("desc", getMessage());
        if (id != null) {
            answer.set("id", id);
        }
        return answer;
    }
}
