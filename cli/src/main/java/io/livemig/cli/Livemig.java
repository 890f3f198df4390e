package io.livemig.cli;

import java.io.InputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code livemig} command line: {@code destination} and {@code source} (the two ends of a migration, as
 * QEMU's {@code -incoming} and {@code migrate}), {@code demo} (both in one process), {@code bench} and
 * {@code selfcheck}. Exit status: 0 success, 1 failure, 2 usage error; every error is one line on standard
 * error.
 */
@Command(name = "livemig", mixinStandardHelpOptions = true, versionProvider = Livemig.Version.class,
        subcommands = {DestinationCommand.class, SourceCommand.class, DemoCommand.class, BenchCommand.class,
                SelfCheckCommand.class, CommandLine.HelpCommand.class},
        description = "Live migration of off-heap memory over RDMA, wire-compatible with QEMU's RDMA migration.",
        footer = {"", "Start with: livemig demo", "Each command has --help."})
public final class Livemig implements Callable<Integer> {

    /** Exit status of a failed command. */
    static final int FAILURE = 1;
    /** Exit status of a usage error. */
    static final int USAGE = 2;

    final Terminal io;

    private Livemig(Terminal io) {
        this.io = io;
    }

    /**
     * Entry point.
     *
     * @param args command-line arguments
     */
    public static void main(String[] args) {
        System.exit(run(args, System.in, System.out, System.err));
    }

    /**
     * Runs a command without standard input and returns its exit status.
     *
     * @param args command-line arguments
     * @param out standard output
     * @param err standard error
     * @return 0 success, 1 failure, 2 usage error
     */
    static int run(String[] args, PrintStream out, PrintStream err) {
        return run(args, InputStream.nullInputStream(), out, err);
    }

    /**
     * Runs a command and returns its exit status.
     *
     * @param args command-line arguments
     * @param in standard input
     * @param out standard output
     * @param err standard error
     * @return 0 success, 1 failure, 2 usage error
     */
    static int run(String[] args, InputStream in, PrintStream out, PrintStream err) {
        CommandLine cli = new CommandLine(new Livemig(new Terminal(in, out, err)));
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        cli.setParameterExceptionHandler((e, arguments) -> {
            err.println(usageError(e));
            return USAGE;
        });
        cli.setExecutionExceptionHandler((e, command, parseResult) -> {
            if (e instanceof UsageError) {
                String name = command.getCommandSpec().qualifiedName();
                err.println(name + ": " + e.getMessage() + " (see '" + name + " --help')");
                return USAGE;
            }
            err.println(command.getCommandSpec().qualifiedName() + ": " + describe(e));
            if (System.getenv("LIVEMIG_DEBUG") != null) {
                e.printStackTrace(err);
            }
            return FAILURE;
        });
        return cli.execute(args);
    }

    private static String usageError(CommandLine.ParameterException e) {
        CommandLine command = e.getCommandLine();
        String name = command.getCommandSpec().qualifiedName();
        String message = e.getMessage();
        if (e instanceof CommandLine.UnmatchedArgumentException unmatched && command.getParent() == null
                && !unmatched.getUnmatched().isEmpty() && !unmatched.getUnmatched().getFirst().startsWith("-")) {
            message = "unknown command '" + unmatched.getUnmatched().getFirst() + "'";
        }
        return name + ": " + message + " (see '" + name + " --help')";
    }

    private static String describe(Throwable e) {
        if (e instanceof CommandFailure) {
            return e.getMessage();
        }
        // The innermost message usually says the most (an IOException under an UncheckedIOException).
        String message = e.getMessage();
        for (Throwable cause = e; cause != null; cause = cause.getCause()) {
            if (cause.getMessage() != null && message == null) {
                message = cause.getMessage();
            }
        }
        return message != null ? message.replace('\n', ' ') : e.getClass().getName();
    }

    /** Without a command: the usage, on standard error, as a usage error. */
    @Override
    public Integer call() {
        new CommandLine(this).usage(io.err());
        return USAGE;
    }

    static String version() {
        String version = Livemig.class.getPackage().getImplementationVersion();
        return version != null ? version : "0.1.0-SNAPSHOT";
    }

    /** {@code --version}: livemig's version, the protocol it speaks and the Java it runs on. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"livemig " + version() + " (QEMU RDMA migration protocol version 1; Java "
                    + Runtime.version().feature() + ")"};
        }
    }
}
