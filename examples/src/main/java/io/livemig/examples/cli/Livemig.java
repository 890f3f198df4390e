package io.livemig.examples.cli;

import java.io.PrintStream;

/**
 * The {@code livemig} command line. For now: {@code --version}, {@code --help} and {@code selfcheck};
 * the destination, source, demo and bench subcommands arrive with the migration engine.
 */
public final class Livemig {

    private Livemig() {
    }

    /**
     * Entry point.
     *
     * @param args command-line arguments
     */
    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    /**
     * Runs a command and returns its exit status (0 success, 1 failure, 2 usage error).
     *
     * @param args command-line arguments
     * @param out standard output
     * @param err standard error
     * @return the exit status
     */
    static int run(String[] args, PrintStream out, PrintStream err) {
        if (args.length == 0 || args[0].equals("--help") || args[0].equals("-h") || args[0].equals("help")) {
            usage(args.length == 0 ? err : out);
            return args.length == 0 ? 2 : 0;
        }
        return switch (args[0]) {
            case "--version", "-V", "version" -> {
                out.println("livemig " + version() + " (QEMU RDMA migration protocol version 1; Java "
                        + Runtime.version().feature() + ")");
                yield 0;
            }
            case "selfcheck" -> new CodecSelfCheck(out).run();
            default -> {
                err.println("livemig: unknown command '" + args[0] + "'");
                usage(err);
                yield 2;
            }
        };
    }

    static String version() {
        String version = Livemig.class.getPackage().getImplementationVersion();
        return version != null ? version : "0.1.0-SNAPSHOT";
    }

    private static void usage(PrintStream out) {
        out.println("""
                usage: livemig <command>

                commands:
                  selfcheck    encode and decode the QEMU RDMA wire vectors with this build's codec
                  --version    print the version
                  --help       print this help

                (destination, source, demo and bench arrive with the migration engine)""");
    }
}
