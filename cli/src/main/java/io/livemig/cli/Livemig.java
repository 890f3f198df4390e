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

    /** The environment variable that adds the stack trace of a failure to its one line. */
    static final String DEBUG_VARIABLE = "LIVEMIG_DEBUG";

    final Terminal io;
    /** What SIGTERM does: the command's quit, registered by the commands that wait. */
    final Termination termination;

    private Livemig(Terminal io, Termination termination) {
        this.io = io;
        this.termination = termination;
    }

    /**
     * Entry point.
     *
     * @param args command-line arguments
     */
    public static void main(String[] args) {
        Diagnostics.install(System.err, debug());
        Termination termination = Termination.install(System.err);
        termination.exit(run(args, System.in, System.out, System.err, termination));
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
        return run(args, in, out, err, Termination.none());
    }

    private static int run(String[] args, InputStream in, PrintStream out, PrintStream err,
            Termination termination) {
        CommandLine cli = new CommandLine(new Livemig(new Terminal(in, out, err), termination));
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
            fail(err, command.getCommandSpec().qualifiedName() + ": " + describe(e), e);
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

    /**
     * Whether {@value #DEBUG_VARIABLE} asks for stack traces: set to anything but empty or {@code 0}.
     *
     * @return true to print stack traces
     */
    static boolean debug() {
        String value = System.getenv(DEBUG_VARIABLE);
        return value != null && !value.isEmpty() && !value.equals("0");
    }

    /**
     * Reports a failure: one line, and with {@value #DEBUG_VARIABLE} the stack trace of its cause.
     *
     * @param err standard error
     * @param line the whole line, command name included
     * @param cause what failed, or null
     */
    static void fail(PrintStream err, String line, Throwable cause) {
        err.println(line);
        if (cause != null && debug()) {
            cause.printStackTrace(err);
        }
        err.flush();
    }

    /**
     * The line that explains a failure: its own message, else its first cause's, never a class name.
     * Wrappers whose message is only their cause's {@code toString()} ({@code new RuntimeException(cause)},
     * {@code CompletionException}, {@code UncheckedIOException(cause)}) are looked through.
     *
     * @param e the failure
     * @return one line
     */
    static String describe(Throwable e) {
        Throwable failure = e;
        while (failure.getCause() != null && (failure.getMessage() == null
                || failure.getMessage().equals(failure.getCause().toString()))) {
            failure = failure.getCause();
        }
        String message = failure.getMessage();
        if (message == null || message.isBlank()) {
            return "failed without an explanation (set " + DEBUG_VARIABLE + "=1 for the stack trace)";
        }
        return message.replace('\n', ' ');
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
