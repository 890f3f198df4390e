package io.livemig.migration.monitor;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.JsonNodeType;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.livemig.migration.params.MigrationCapability;
import io.livemig.migration.params.MigrationParameters;
import io.livemig.migration.protocol.MigrationUri;
import io.livemig.migration.status.MigrationStatus;
import java.net.InetSocketAddress;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;

/**
 * The QMP commands after negotiation, each answering its {@code return} value or throwing a
 * {@link QmpError}; the session handles {@code qmp_capabilities} and {@code quit}. Shapes and
 * texts are QEMU's (qapi/migration.json, migration/migration.c, migration/options.c).
 */
final class QmpCommands {

    /** Every command a session answers, for {@code query-commands}. */
    static final List<String> NAMES = List.of("qmp_capabilities", "query-commands", "query-version",
            "query-status", "query-migrate", "query-migrate-capabilities", "query-migrate-parameters",
            "migrate-set-capabilities", "migrate-set-parameters", "migrate", "migrate_cancel", "migrate-continue", "migrate-incoming",
            "quit");

    private final MigrationTarget target;

    QmpCommands(MigrationTarget target) {
        this.target = target;
    }

    /**
     * The {@code version} member of the greeting and {@code query-version}: livemig 0.1.0 as QEMU 0.1.0. A new
     * node each time, as nodes are mutable.
     *
     * @return {@code {"qemu": {"micro": 0, "minor": 1, "major": 0}, "package": "livemig 0.1.0"}}
     */
    static ObjectNode version() {
        ObjectNode version = QmpJson.object();
        version.putObject("qemu").put("micro", 0).put("minor", 1).put("major", 0);
        version.put("package", "livemig 0.1.0");
        return version;
    }

    /**
     * The empty {@code return} of commands that answer nothing.
     *
     * @return {@code {}}
     */
    static ObjectNode nothing() {
        return QmpJson.object();
    }

    /**
     * Runs one command.
     *
     * @return the {@code return} value
     * @throws QmpError with QEMU's class and text
     */
    JsonNode execute(String command, QmpArguments args) {
        try {
            return switch (command) {
                case "query-commands" -> none(args, this::queryCommands);
                case "query-version" -> none(args, QmpCommands::version);
                case "query-status" -> none(args, this::queryStatus);
                case "query-migrate" -> none(args, this::queryMigrate);
                case "query-migrate-capabilities" -> none(args, this::queryCapabilities);
                case "query-migrate-parameters" -> none(args, this::queryParameters);
                case "migrate-set-capabilities" -> setCapabilities(args);
                case "migrate-set-parameters" -> setParameters(args);
                case "migrate" -> migrate(args);
                case "migrate_cancel" -> none(args, () -> {
                    target.cancel();
                    return nothing();
                });
                case "migrate-continue" -> continueMigration(args);
                case "migrate-incoming" -> incoming(args);
                default -> throw new QmpError(QmpError.COMMAND_NOT_FOUND, "The command " + command
                        + " has not been found");
            };
        } catch (QmpError e) {
            throw e;
        } catch (RuntimeException e) {
            // The engine's refusals (IllegalStateException, IllegalArgumentException) carry QEMU's texts.
            throw QmpError.generic(e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage());
        }
    }

    /** {@code migrate-continue {"state": "pre-switchover"}} (qapi/migration.json). */
    private JsonNode continueMigration(QmpArguments args) {
        args.only(Set.of("state"));
        String name = args.string("state");
        io.livemig.migration.status.MigrationStatus state;
        try {
            state = io.livemig.migration.status.MigrationStatus.fromQmpName(name);
        } catch (IllegalArgumentException e) {
            throw QmpError.generic("Parameter 'state' does not accept value '" + name + "'");
        }
        target.continueMigration(state);
        return nothing();
    }

    private static JsonNode none(QmpArguments args, Supplier<JsonNode> command) {
        args.only(Set.of());
        return command.get();
    }

    private JsonNode queryCommands() {
        ArrayNode commands = JsonNodeFactory.instance.arrayNode();
        for (String name : NAMES) {
            commands.addObject().put("name", name);
        }
        return commands;
    }

    /**
     * QEMU's run states as they look around a migration: the source runs until it pauses for the switchover
     * and stays stopped once the destination took over; the destination is {@code inmigrate} until the
     * migration completed.
     */
    private JsonNode queryStatus() {
        MigrationStatus status = target.info().status();
        String state;
        if (target.role() == MigrationTarget.Role.DESTINATION) {
            state = status == MigrationStatus.COMPLETED ? "running" : "inmigrate";
        } else if (status == MigrationStatus.COMPLETED) {
            state = "postmigrate";
        } else if (status == MigrationStatus.PRE_SWITCHOVER || status == MigrationStatus.DEVICE) {
            state = "finish-migrate";
        } else {
            state = "running";
        }
        ObjectNode answer = QmpJson.object();
        answer.put("status", state);
        answer.put("singlestep", false);
        answer.put("running", state.equals("running"));
        return answer;
    }

    /**
     * {@code query-migrate}, with QEMU's {@code socket-address} while an incoming migration listens. The engine
     * renders the snapshot itself ({@link io.livemig.migration.status.MigrationInfo#toQmpJson()}, numbers printed
     * as QEMU prints them); it travels verbatim, with the socket address spliced in as its last member.
     */
    private JsonNode queryMigrate() {
        String info = target.info().toQmpJson();
        Optional<InetSocketAddress> listening = target.incomingAddress();
        if (listening.isEmpty()) {
            return QmpJson.raw(info);
        }
        InetSocketAddress address = listening.get();
        ArrayNode sockets = JsonNodeFactory.instance.arrayNode();
        ObjectNode socket = sockets.addObject();
        socket.put("port", Integer.toString(address.getPort()));
        socket.put("ipv6", address.getHostString().indexOf(':') >= 0);
        socket.put("host", address.getHostString());
        socket.put("type", "inet");
        String member = "\"socket-address\": " + QmpJson.write(sockets);
        return QmpJson.raw(info.equals("{}") ? "{" + member + "}"
                : info.substring(0, info.length() - 1) + ", " + member + "}");
    }

    private JsonNode queryCapabilities() {
        ArrayNode list = JsonNodeFactory.instance.arrayNode();
        for (MigrationCapability capability : MigrationCapability.values()) {
            list.addObject().put("capability", capability.qmpName())
                    .put("state", target.capabilities().isOn(capability));
        }
        return list;
    }

    private JsonNode queryParameters() {
        MigrationParameters parameters = target.parameters();
        ObjectNode members = QmpJson.object();
        for (MigrationParameter parameter : MigrationParameter.values()) {
            members.put(parameter.qmpName(), parameter.get(parameters));
        }
        return members;
    }

    /** All or nothing, as QEMU checks the whole list before applying any of it. */
    private JsonNode setCapabilities(QmpArguments args) {
        ArrayNode list = args.only(Set.of("capabilities")).list("capabilities");
        Map<MigrationCapability, Boolean> changes = new LinkedHashMap<>();
        for (int i = 0; i < list.size(); i++) {
            String path = "capabilities[" + i + "]";
            JsonNode item = QmpArguments.expect(path, list.get(i), JsonNodeType.OBJECT, "object");
            for (Map.Entry<String, JsonNode> member : item.properties()) {
                String key = member.getKey();
                if (!key.equals("capability") && !key.equals("state")) {
                    throw QmpError.generic("Parameter '" + path + "." + key + "' is unexpected");
                }
            }
            if (!item.has("capability")) {
                throw QmpError.generic("Parameter '" + path + ".capability' is missing");
            }
            if (!item.has("state")) {
                throw QmpError.generic("Parameter '" + path + ".state' is missing");
            }
            String name = QmpArguments.expect(path + ".capability", item.get("capability"), JsonNodeType.STRING,
                    "string").textValue();
            boolean state = QmpArguments.expect(path + ".state", item.get("state"), JsonNodeType.BOOLEAN, "boolean")
                    .booleanValue();
            MigrationCapability capability;
            try {
                capability = MigrationCapability.fromQmpName(name);
            } catch (IllegalArgumentException e) {
                throw QmpError.generic("Parameter '" + path + ".capability' does not accept value '" + name + "'");
            }
            changes.put(capability, state);
        }
        changes.forEach(target::setCapability);
        return nothing();
    }

    /** QMP takes plain integers in QMP's units (bytes/s, ms, percent); the range checks are QEMU's. */
    private JsonNode setParameters(QmpArguments args) {
        MigrationParameters next = target.parameters();
        for (Map.Entry<String, JsonNode> member : args.members()) {
            MigrationParameter parameter;
            try {
                parameter = MigrationParameter.fromQmpName(member.getKey());
            } catch (IllegalArgumentException e) {
                throw QmpError.generic("Parameter '" + member.getKey() + "' is unexpected");
            }
            next = parameter.with(next, integer(parameter, member.getValue()));
        }
        target.setParameters(next);
        return nothing();
    }

    /** Any JSON number passes the type check; fractions, negatives and integers beyond int64 fail the range. */
    private static long integer(MigrationParameter parameter, JsonNode value) {
        String name = parameter.qmpName();
        QmpArguments.expect(name, value, JsonNodeType.NUMBER, "integer");
        String type = parameter.isUint8() ? "uint8" : "size";
        if (!value.isIntegralNumber() || !value.canConvertToLong() || value.longValue() < 0
                || (parameter.isUint8() && value.longValue() > 255)) {
            throw QmpError.generic("Parameter '" + name + "' expects " + type);
        }
        return value.longValue();
    }

    private JsonNode migrate(QmpArguments args) {
        // QEMU's migrate runs detached from QMP whatever "detach" says.
        args.only(Set.of("uri", "detach"));
        args.optionalBoolean("detach", true);
        target.migrate(MigrationUri.parse(args.string("uri")));
        return nothing();
    }

    private JsonNode incoming(QmpArguments args) {
        args.only(Set.of("uri"));
        target.incoming(MigrationUri.parse(args.string("uri")));
        return nothing();
    }
}
