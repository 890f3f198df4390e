package io.livemig.migration.monitor;

import io.livemig.migration.params.MigrationCapability;
import io.livemig.migration.params.MigrationParameters;
import io.livemig.migration.protocol.MigrationUri;
import io.livemig.migration.status.MigrationStatus;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;

/**
 * The QMP commands after negotiation, each answering the JSON text of its {@code return} value or
 * throwing a {@link QmpError}; the session handles {@code qmp_capabilities} and {@code quit}. Shapes and
 * texts are QEMU's (qapi/migration.json, migration/migration.c, migration/options.c).
 */
final class QmpCommands {

    /** Every command a session answers, for {@code query-commands}. */
    static final List<String> NAMES = List.of("qmp_capabilities", "query-commands", "query-version",
            "query-status", "query-migrate", "query-migrate-capabilities", "query-migrate-parameters",
            "migrate-set-capabilities", "migrate-set-parameters", "migrate", "migrate_cancel", "migrate-incoming",
            "quit");

    /** The {@code version} member of the greeting and {@code query-version}: livemig 0.1.0 as QEMU 0.1.0. */
    static final String VERSION = "{\"qemu\": {\"micro\": 0, \"minor\": 1, \"major\": 0},"
            + " \"package\": \"livemig 0.1.0\"}";

    private static final String NOTHING = "{}";

    private final MigrationTarget target;

    QmpCommands(MigrationTarget target) {
        this.target = target;
    }

    /**
     * Runs one command.
     *
     * @return the {@code return} value as JSON
     * @throws QmpError with QEMU's class and text
     */
    String execute(String command, QmpArguments args) {
        try {
            return switch (command) {
                case "query-commands" -> none(args, this::queryCommands);
                case "query-version" -> none(args, () -> VERSION);
                case "query-status" -> none(args, this::queryStatus);
                case "query-migrate" -> none(args, this::queryMigrate);
                case "query-migrate-capabilities" -> none(args, this::queryCapabilities);
                case "query-migrate-parameters" -> none(args, this::queryParameters);
                case "migrate-set-capabilities" -> setCapabilities(args);
                case "migrate-set-parameters" -> setParameters(args);
                case "migrate" -> migrate(args);
                case "migrate_cancel" -> none(args, () -> {
                    target.cancel();
                    return NOTHING;
                });
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

    private static String none(QmpArguments args, Supplier<String> command) {
        args.only(Set.of());
        return command.get();
    }

    private String queryCommands() {
        List<Object> commands = new ArrayList<>();
        for (String name : NAMES) {
            commands.add(Map.of("name", name));
        }
        return JsonWriter.write(commands);
    }

    /**
     * QEMU's run states as they look around a migration: the source runs until it pauses for the switchover
     * and stays stopped once the destination took over; the destination is {@code inmigrate} until the
     * migration completed.
     */
    private String queryStatus() {
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
        return "{\"status\": " + JsonWriter.write(state) + ", \"singlestep\": false, \"running\": "
                + state.equals("running") + "}";
    }

    /** {@code query-migrate}, with QEMU's {@code socket-address} while an incoming migration listens. */
    private String queryMigrate() {
        String info = target.info().toQmpJson();
        Optional<InetSocketAddress> listening = target.incomingAddress();
        if (listening.isEmpty()) {
            return info;
        }
        InetSocketAddress address = listening.get();
        Map<String, Object> socket = new LinkedHashMap<>();
        socket.put("port", Integer.toString(address.getPort()));
        socket.put("ipv6", address.getHostString().indexOf(':') >= 0);
        socket.put("host", address.getHostString());
        socket.put("type", "inet");
        String member = "\"socket-address\": " + JsonWriter.write(List.of(socket));
        return info.equals(NOTHING) ? "{" + member + "}" : info.substring(0, info.length() - 1) + ", " + member + "}";
    }

    private String queryCapabilities() {
        List<Object> list = new ArrayList<>();
        for (MigrationCapability capability : MigrationCapability.values()) {
            Map<String, Object> status = new LinkedHashMap<>();
            status.put("capability", capability.qmpName());
            status.put("state", target.capabilities().isOn(capability));
            list.add(status);
        }
        return JsonWriter.write(list);
    }

    private String queryParameters() {
        MigrationParameters parameters = target.parameters();
        Map<String, Object> members = new LinkedHashMap<>();
        for (MigrationParameter parameter : MigrationParameter.values()) {
            members.put(parameter.qmpName(), parameter.get(parameters));
        }
        return JsonWriter.write(members);
    }

    /** All or nothing, as QEMU checks the whole list before applying any of it. */
    private String setCapabilities(QmpArguments args) {
        List<?> list = args.only(Set.of("capabilities")).list("capabilities");
        Map<MigrationCapability, Boolean> changes = new LinkedHashMap<>();
        for (int i = 0; i < list.size(); i++) {
            String path = "capabilities[" + i + "]";
            Map<?, ?> item = QmpArguments.expect(path, list.get(i), Map.class, "object");
            for (Object key : item.keySet()) {
                if (!key.equals("capability") && !key.equals("state")) {
                    throw QmpError.generic("Parameter '" + path + "." + key + "' is unexpected");
                }
            }
            if (!item.containsKey("capability")) {
                throw QmpError.generic("Parameter '" + path + ".capability' is missing");
            }
            if (!item.containsKey("state")) {
                throw QmpError.generic("Parameter '" + path + ".state' is missing");
            }
            String name = QmpArguments.expect(path + ".capability", item.get("capability"), String.class, "string");
            boolean state = QmpArguments.expect(path + ".state", item.get("state"), Boolean.class, "boolean");
            MigrationCapability capability;
            try {
                capability = MigrationCapability.fromQmpName(name);
            } catch (IllegalArgumentException e) {
                throw QmpError.generic("Parameter '" + path + ".capability' does not accept value '" + name + "'");
            }
            changes.put(capability, state);
        }
        changes.forEach(target::setCapability);
        return NOTHING;
    }

    /** QMP takes plain integers in QMP's units (bytes/s, ms, percent); the range checks are QEMU's. */
    private String setParameters(QmpArguments args) {
        MigrationParameters next = target.parameters();
        for (Map.Entry<String, Object> member : args.members().entrySet()) {
            MigrationParameter parameter;
            try {
                parameter = MigrationParameter.fromQmpName(member.getKey());
            } catch (IllegalArgumentException e) {
                throw QmpError.generic("Parameter '" + member.getKey() + "' is unexpected");
            }
            next = parameter.with(next, integer(parameter, member.getValue()));
        }
        target.setParameters(next);
        return NOTHING;
    }

    private static long integer(MigrationParameter parameter, Object value) {
        String name = parameter.qmpName();
        Number number = QmpArguments.expect(name, value, Number.class, "integer");
        String type = parameter.isUint8() ? "uint8" : "size";
        if (!(number instanceof Long l) || l < 0 || (parameter.isUint8() && l > 255)) {
            throw QmpError.generic("Parameter '" + name + "' expects " + type);
        }
        return l;
    }

    private String migrate(QmpArguments args) {
        // QEMU's migrate runs detached from QMP whatever "detach" says.
        args.only(Set.of("uri", "detach"));
        args.optionalBoolean("detach", true);
        target.migrate(MigrationUri.parse(args.string("uri")));
        return NOTHING;
    }

    private String incoming(QmpArguments args) {
        args.only(Set.of("uri"));
        target.incoming(MigrationUri.parse(args.string("uri")));
        return NOTHING;
    }
}
