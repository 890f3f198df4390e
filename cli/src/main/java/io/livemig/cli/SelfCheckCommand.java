package io.livemig.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.ParentCommand;

/** {@code livemig selfcheck}: the codec against the QEMU RDMA wire vectors. */
@Command(name = "selfcheck", mixinStandardHelpOptions = true,
        description = "Encode and decode the QEMU RDMA wire vectors with this build's codec.")
final class SelfCheckCommand implements Callable<Integer> {

    @ParentCommand
    private Livemig livemig;

    @Override
    public Integer call() {
        return new CodecSelfCheck(livemig.io.out()).run();
    }
}
