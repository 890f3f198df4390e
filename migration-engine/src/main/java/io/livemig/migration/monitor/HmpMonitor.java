package io.livemig.migration.monitor;

import io.livemig.migration.params.MigrationCapability;
import io.livemig.migration.protocol.MigrationUri;
import io.livemig.migration.status.MigrationInfo;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import reactor.core.Disposable;

/**
 * QEMU's human monitor (HMP) for migration: parses one command line at a time and renders its answer as
 * QEMU prints it.
 *
 * <p>Commands: {@code migrate [-d] URI}, {@code migrate_cancel}, {@code migrate_continue STATE},
 * {@code migrate_incoming URI},
 * {@code migrate_set_capability NAME on|off}, {@code migrate_set_parameter NAME VALUE},
 * {@code info migrate|migrate_capabilities|migrate_parameters}, {@code help [CMD]}, {@code quit}.
 * Values are read as QEMU's {@code hmp_migrate_set_parameter} reads them ({@code max-bandwidth 40} is
 * 40 MiB/s, {@code 40g} is 40 GiB/s, see {@link QemuSize}).
 *
 * <p>A failed command answers one line {@code Error: TEXT}, as QEMU's {@code hmp_handle_error} does;
 * argument errors answer QEMU's parser texts ({@code migrate: string expected}, then
 * {@code Try "help migrate" for more information}); an unknown command answers
 * {@code unknown command: 'NAME'}.
 *
 * <p>{@code migrate URI} without {@code -d} waits for the migration to end, as QEMU's HMP does, and then
 * prints {@code Error: ERROR-DESC} if it failed (nothing when it completed or was cancelled);
 * {@code migrate -d URI} returns once the migration started. Both refuse a second migration with
 * {@code Error: There's a migration process in progress}.
 */
public final class HmpMonitor {

    /** The prompt {@link #serve} prints before reading each line. */
    public static final String PROMPT = "(livemig) ";

    private static final long WAIT_POLL_MILLIS = 1000;

    private final MigrationTarget target;

    /**
     * A monitor of one end.
     *
     * @param target what the commands act on
     */
    public HmpMonitor(MigrationTarget target) {
        this.target = Objects.requireNonNull(target, "target");
    }

    /**
     * Runs one command line.
     *
     * @param line e.g. {@code migrate_set_parameter max-bandwidth 40g}
     * @return what to print, lines separated by {@code \n} without a final newline (empty when nothing);
     *         errors are returned as QEMU prints them
     */
    public String execute(String line) {
        List<String> words = words(line);
        if (words.isEmpty()) {
            return "";
        }
        HmpCommand command = HmpCommand.find(words.getFirst());
        if (command == null) {
            return "unknown command: '" + words.getFirst() + "'";
        }
        List<String> args = words.subList(1, words.size());
        try {
            return run(command, args);
        } catch (Usage usage) {
            return usage.getMessage() + "\nTry \"help " + command.name + "\" for more information";
        } catch (RuntimeException e) {
            return error(e);
        }
    }

    /**
     * The words of a command line, split at runs of ASCII white space (what QEMU's HMP parser treats as separators),
     * after dropping the line's leading and trailing white space. By hand rather than {@code split("\\s+")}: a
     * command line is parsed twice per line (the session asks {@link #isQuit} first), and the regular expressions
     * took a third of the HMP fuzz target's time.
     *
     * @param line a command line
     * @return its words, none empty
     */
    static List<String> words(String line) {
        String stripped = line.strip();
        List<String> words = new java.util.ArrayList<>();
        int start = -1;
        for (int i = 0; i <= stripped.length(); i++) {
            boolean separator = i == stripped.length() || isAsciiSpace(stripped.charAt(i));
            if (separator && start >= 0) {
                words.add(stripped.substring(start, i));
                start = -1;
            } else if (!separator && start < 0) {
                start = i;
            }
        }
        return words;
    }

    /** The characters of {@code \s}: space, tab, newline, vertical tab, form feed, carriage return. */
    private static boolean isAsciiSpace(char c) {
        return c == ' ' || c == '\t' || c == '\n' || c == '\u000B' || c == '\f' || c == '\r';
    }

    /**
     * Whether a line is {@code quit} (or {@code q}): {@link #serve} stops after it.
     *
     * @param line a command line
     * @return true for quit
     */
    public static boolean isQuit(String line) {
        List<String> words = words(line);
        return !words.isEmpty() && HmpCommand.find(words.getFirst()) == HmpCommand.QUIT;
    }

    /**
     * Reads commands until end of input or {@code quit}, printing a {@code (livemig) } prompt and answers.
     *
     * @param in command lines
     * @param out answers
     * @throws IOException if reading fails
     */
    public void serve(BufferedReader in, PrintStream out) throws IOException {
        serve(in, out, false);
    }

    /**
     * {@link #serve(BufferedReader, PrintStream)}, echoing each line read after its prompt when {@code echo} is
     * set, as QEMU's readline does: commands piped in then read in the transcript as they would on a
     * terminal ({@code (livemig) info migrate}), not as prompts run together ({@code (livemig) (livemig) ...}).
     *
     * @param in command lines
     * @param out answers
     * @param echo whether to print each line read (true when the input is not a terminal, which echoes itself)
     * @throws IOException if reading fails
     */
    public void serve(BufferedReader in, PrintStream out, boolean echo) throws IOException {
        while (true) {
            out.print(PROMPT);
            out.flush();
            String line = in.readLine();
            if (line == null) {
                if (echo) {
                    out.println(); // the last prompt's line ends, as a terminal's would after Ctrl-D
                    out.flush();
                }
                return;
            }
            if (echo) {
                out.println(line);
            }
            String answer = execute(line);
            if (!answer.isEmpty()) {
                out.println(answer);
            }
            out.flush();
            if (endsSession(line, answer)) {
                return;
            }
        }
    }

    /**
     * Whether a line and its answer end the session: a {@code quit} that ran (a {@code quit} with a usage error
     * leaves the session open). Shared by {@link #serve} and the socket sessions.
     *
     * @param line the command line
     * @param answer what {@link #execute} answered to it
     * @return true when nothing more is read
     */
    static boolean endsSession(String line, String answer) {
        return isQuit(line) && answer.isEmpty();
    }

    private String run(HmpCommand command, List<String> args) {
        return switch (command) {
            case MIGRATE -> migrate(args);
            case MIGRATE_CANCEL -> {
                arguments(command, args, 0);
                target.cancel();
                yield "";
            }
            case MIGRATE_CONTINUE -> {
                arguments(command, args, 1);
                target.continueMigration(io.livemig.migration.status.MigrationStatus.fromQmpName(args.getFirst()));
                yield "";
            }
            case MIGRATE_INCOMING -> {
                arguments(command, args, 1);
                target.incoming(MigrationUri.parse(args.getFirst()));
                yield "";
            }
            case MIGRATE_SET_CAPABILITY -> setCapability(args);
            case MIGRATE_SET_PARAMETER -> setParameter(args);
            case INFO -> info(args);
            case HELP -> help(args);
            case QUIT -> {
                arguments(command, args, 0);
                target.quit();
                yield "";
            }
        };
    }

    private String migrate(List<String> args) {
        boolean detach = false;
        List<String> rest = new ArrayList<>();
        for (String arg : args) {
            if (rest.isEmpty() && arg.startsWith("-") && arg.length() > 1) {
                if (!arg.equals("-d")) {
                    throw new Usage("migrate: unsupported option " + arg);
                }
                detach = true;
            } else {
                rest.add(arg);
            }
        }
        arguments(HmpCommand.MIGRATE, rest, 1);
        MigrationUri uri = MigrationUri.parse(rest.getFirst());
        if (detach) {
            target.migrate(uri);
            return "";
        }
        return migrateAndWait(uri);
    }

    /** QEMU's HMP suspends the monitor and polls once a second until the migration left setup/active. */
    private String migrateAndWait(MigrationUri uri) {
        CountDownLatch ended = new CountDownLatch(1);
        Disposable watch = target.statusChanges().filter(i -> i.status().isFinished())
                .subscribe(i -> ended.countDown(), e -> ended.countDown(), ended::countDown);
        try {
            target.migrate(uri);
            MigrationInfo info = target.info();
            while (!info.status().isFinished()) {
                ended.await(WAIT_POLL_MILLIS, TimeUnit.MILLISECONDS);
                info = target.info();
            }
            return info.errorDesc() != null ? "Error: " + info.errorDesc() : "";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "";
        } finally {
            watch.dispose();
        }
    }

    private String setCapability(List<String> args) {
        arguments(HmpCommand.MIGRATE_SET_CAPABILITY, args, 2);
        boolean on = switch (args.get(1)) {
            case "on" -> true;
            case "off" -> false;
            default -> throw new Usage("Expected 'on' or 'off'");
        };
        target.setCapability(MigrationCapability.fromQmpName(args.getFirst()), on);
        return "";
    }

    private String setParameter(List<String> args) {
        arguments(HmpCommand.MIGRATE_SET_PARAMETER, args, 2);
        MigrationParameter parameter = MigrationParameter.fromQmpName(args.getFirst());
        long value = parameter.parseHmp(args.get(1));
        target.setParameters(parameter.with(target.parameters(), value));
        return "";
    }

    private String info(List<String> args) {
        if (args.isEmpty()) {
            return HmpCommand.infoHelp();
        }
        String what = args.getFirst();
        String answer = switch (what) {
            case "migrate" -> HmpInfo.migrate(target.info(), target.incomingAddress());
            case "migrate_capabilities" -> HmpInfo.capabilities(target.capabilities());
            case "migrate_parameters" -> HmpInfo.parameters(target.parameters());
            default -> null;
        };
        if (answer == null) {
            return "unknown command: 'info " + what + "'";
        }
        if (args.size() > 1) {
            throw new Usage("info: extraneous characters at the end of line");
        }
        return answer;
    }

    private static String help(List<String> args) {
        if (args.isEmpty()) {
            return Arrays.stream(HmpCommand.values()).map(HmpCommand::helpLine).collect(Collectors.joining("\n"));
        }
        HmpCommand command = HmpCommand.find(args.getFirst());
        return command == null ? "unknown command: '" + args.getFirst() + "'"
                : command == HmpCommand.INFO ? HmpCommand.infoHelp() : command.helpLine();
    }

    /** QEMU's argument parser: a missing string argument, then extra words, are usage errors. */
    private static void arguments(HmpCommand command, List<String> args, int count) {
        if (args.size() < count) {
            throw new Usage(command.name + ": string expected");
        }
        if (args.size() > count) {
            throw new Usage(command.name + ": extraneous characters at the end of line");
        }
    }

    private static String error(RuntimeException e) {
        String message = e instanceof UncheckedIOException u && u.getMessage() == null ? u.getCause().getMessage()
                : e.getMessage();
        return "Error: " + (message == null ? e.getClass().getSimpleName() : message);
    }

    /** A command line QEMU's parser would reject before running the command. */
    private static final class Usage extends RuntimeException {
        private static final long serialVersionUID = 1L;

        Usage(String message) {
            super(message, null, false, false);
        }
    }
}
