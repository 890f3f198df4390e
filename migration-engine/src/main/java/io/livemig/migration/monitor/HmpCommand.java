package io.livemig.migration.monitor;

import java.util.HashMap;
import java.util.Map;
import java.util.StringJoiner;

/** The HMP commands livemig knows, with their argument synopsis and help as QEMU's {@code help} shows them. */
enum HmpCommand {
    MIGRATE("migrate", null, "[-d] uri", "migrate to URI (using -d to not wait for completion)"),
    MIGRATE_CANCEL("migrate_cancel", null, "", "cancel the current VM migration"),
    MIGRATE_CONTINUE("migrate_continue", null, "state", "Continue migration from the given paused state"),
    MIGRATE_INCOMING("migrate_incoming", null, "uri", "start an incoming migration listening on URI"),
    MIGRATE_SET_CAPABILITY("migrate_set_capability", null, "capability state",
            "enable or disable a migration capability (state: on|off)"),
    MIGRATE_SET_PARAMETER("migrate_set_parameter", null, "parameter value",
            "set a migration parameter (max-bandwidth in MiB/s unless suffixed b/k/m/g/t)"),
    INFO("info", null, "[subcommand]", "show various information about the system state"),
    HELP("help", "?", "[cmd]", "show the help"),
    QUIT("quit", "q", "", "quit the monitor and stop this end");

    final String name;
    private final String alias;
    private final String synopsis;
    private final String help;

    HmpCommand(String name, String alias, String synopsis, String help) {
        this.name = name;
        this.alias = alias;
        this.synopsis = synopsis;
        this.help = help;
    }

    /** Every name and alias: a command line is looked up once, not compared with each command in turn. */
    private static final Map<String, HmpCommand> BY_NAME = byName();

    private static Map<String, HmpCommand> byName() {
        Map<String, HmpCommand> names = new HashMap<>();
        for (HmpCommand command : values()) {
            names.put(command.name, command);
            if (command.alias != null) {
                names.put(command.alias, command);
            }
        }
        return Map.copyOf(names);
    }

    /** The command named {@code word} (or its alias), or null. */
    static HmpCommand find(String word) {
        return BY_NAME.get(word);
    }

    /** QEMU's {@code help} line: {@code NAME[|ALIAS] ARGS -- HELP}. */
    String helpLine() {
        return name + (alias != null ? "|" + alias : "") + (synopsis.isEmpty() ? "" : " " + synopsis) + " -- " + help;
    }

    /** {@code info} alone lists its subcommands, as QEMU does. */
    static String infoHelp() {
        StringJoiner out = new StringJoiner("\n");
        out.add("info migrate  -- show migration status");
        out.add("info migrate_capabilities  -- show current migration capabilities");
        out.add("info migrate_parameters  -- show current migration parameters");
        return out.toString();
    }
}
