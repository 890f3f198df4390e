package io.livemig.migration.monitor;

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

    /** The answer's JSON, with the request's id when it had one. */
    String toJson(boolean hasId, Object id) {
        String error = "{\"error\": {\"class\": " + JsonWriter.write(errorClass) + ", \"desc\": "
                + JsonWriter.write(getMessage()) + "}";
        return error + (hasId ? ", \"id\": " + JsonWriter.write(id) : "") + "}";
    }
}
