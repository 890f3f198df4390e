package io.livemig.transport.rdma.verbs.rdmacore;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.livemig.transport.rdma.verbs.AccessFlag;
import io.livemig.transport.rdma.verbs.CmEventType;
import io.livemig.transport.rdma.verbs.SendOpcode;
import io.livemig.transport.rdma.verbs.WcOpcode;
import io.livemig.transport.rdma.verbs.WcStatus;
import java.io.File;
import java.lang.foreign.GroupLayout;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.PaddingLayout;
import java.lang.foreign.StructLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Checks every named field offset and every struct size of {@link VerbsStructs}, {@link CmStructs} and
 * {@link Memlock}, and every constant and enum value the provider passes to rdma-core, against the headers of this
 * machine: it compiles and runs a C program that prints {@code offsetof}/{@code sizeof}. Skipped when no C compiler
 * or no {@code libibverbs-dev}/{@code librdmacm-dev} headers are installed.
 */
class LayoutAbiTest {

    /** The structs whose layout mirrors a C struct of the same name. */
    private static final List<StructLayout> STRUCTS = List.of(VerbsStructs.IBV_SGE, VerbsStructs.IBV_SEND_WR,
            VerbsStructs.IBV_RECV_WR, VerbsStructs.IBV_WC, VerbsStructs.IBV_QP_CAP, VerbsStructs.IBV_QP_INIT_ATTR,
            VerbsStructs.IBV_CONTEXT_OPS, VerbsStructs.IBV_CONTEXT, VerbsStructs.IBV_DEVICE_ATTR,
            VerbsStructs.IBV_DEVICE_ATTR_EX, VerbsStructs.IBV_COMP_CHANNEL, VerbsStructs.IBV_CQ, VerbsStructs.IBV_QP,
            VerbsStructs.IBV_MR, VerbsStructs.IBV_QP_ATTR, CmStructs.SOCKADDR_IN, CmStructs.SOCKADDR_IN6,
            CmStructs.RDMA_EVENT_CHANNEL, CmStructs.RDMA_CM_ID, CmStructs.RDMA_CONN_PARAM, CmStructs.RDMA_CM_EVENT,
            Memlock.RLIMIT);

    private static Map<String, String> fromC;

    @BeforeAll
    static void runCProgram(@TempDir Path dir) throws Exception {
        String compiler = findOnPath("gcc", "cc");
        assumeTrue(compiler != null, "no C compiler (gcc or cc) on PATH");
        assumeTrue(Files.exists(Path.of("/usr/include/infiniband/verbs.h"))
                && Files.exists(Path.of("/usr/include/rdma/rdma_cma.h")),
                "rdma-core headers missing: install libibverbs-dev and librdmacm-dev");
        Path source = dir.resolve("abi.c");
        Files.writeString(source, cProgram());
        Path binary = dir.resolve("abi");
        List<String> output = run(List.of(compiler, "-o", binary.toString(), source.toString()));
        assumeTrue(Files.isExecutable(binary), "the ABI program does not compile: " + String.join("\n", output));
        fromC = new TreeMap<>();
        for (String line : run(List.of(binary.toString()))) {
            int eq = line.indexOf('=');
            fromC.put(line.substring(0, eq), line.substring(eq + 1));
        }
    }

    @Test
    void everyNamedFieldAndEverySizeMatchesTheHeaders() {
        Map<String, String> java = new TreeMap<>();
        for (StructLayout struct : STRUCTS) {
            java.put("sizeof " + struct.name().orElseThrow(), Long.toString(struct.byteSize()));
            fields(struct, "", 0, (field, offset) ->
                    java.put("offsetof " + struct.name().orElseThrow() + "." + field, Long.toString(offset)));
        }

        assertThat(select("sizeof ", "offsetof ")).isEqualTo(java);
    }

    @Test
    void verbsContextTailEndsWhereTheIbvContextStarts() {
        StructLayout tail = VerbsStructs.VERBS_CONTEXT_TAIL;
        Map<String, String> java = new TreeMap<>();
        java.put("vctx context", Long.toString(tail.byteSize()));
        java.put("vctx sz", Long.toString(tail.byteOffset(MemoryLayout.PathElement.groupElement("sz"))));

        assertThat(select("vctx ")).isEqualTo(java);
    }

    @Test
    void constantsAndEnumValuesMatchTheHeaders() {
        Map<String, String> java = new TreeMap<>();
        constants().forEach((name, value) -> java.put("const " + name, Long.toString(value)));

        assertThat(select("const ")).isEqualTo(java);
    }

    /** C name → the value the provider uses. */
    private static Map<String, Long> constants() {
        Map<String, Long> constants = new TreeMap<>();
        constants.put("IBV_QPT_RC", (long) VerbsStructs.IBV_QPT_RC);
        constants.put("IBV_SEND_SIGNALED", (long) VerbsStructs.IBV_SEND_SIGNALED);
        constants.put("IBV_SEND_INLINE", (long) VerbsStructs.IBV_SEND_INLINE);
        constants.put("IBV_WC_WITH_IMM", (long) VerbsStructs.IBV_WC_WITH_IMM);
        constants.put("IBV_WC_RECV", (long) VerbsStructs.IBV_WC_RECV);
        constants.put("IBV_WC_RECV_RDMA_WITH_IMM", (long) VerbsStructs.IBV_WC_RECV_RDMA_WITH_IMM);
        constants.put("IBV_QP_STATE", (long) VerbsStructs.IBV_QP_STATE);
        constants.put("IBV_QPS_ERR", (long) VerbsStructs.IBV_QPS_ERR);
        constants.put("IBV_ACCESS_ON_DEMAND", (long) VerbsStructs.IBV_ACCESS_ON_DEMAND);
        constants.put("IBV_ODP_SUPPORT", (long) VerbsStructs.IBV_ODP_SUPPORT);
        constants.put("AF_INET", (long) CmStructs.AF_INET);
        constants.put("AF_INET6", (long) CmStructs.AF_INET6);
        constants.put("RDMA_PS_TCP", (long) CmStructs.RDMA_PS_TCP);
        constants.put("RDMA_OPTION_ID", (long) CmStructs.RDMA_OPTION_ID);
        constants.put("RDMA_OPTION_ID_ACK_TIMEOUT", (long) CmStructs.RDMA_OPTION_ID_ACK_TIMEOUT);
        constants.put("RLIMIT_MEMLOCK", (long) Memlock.RLIMIT_MEMLOCK);
        constants.put("RLIM_INFINITY", Memlock.RLIM_INFINITY);
        constants.put("CAP_IPC_LOCK", (long) Memlock.CAP_IPC_LOCK);
        constants.put("sizeof(struct ibv_async_event)", Ibv.ASYNC_EVENT_SIZE);
        constants.put("sizeof(struct sockaddr_storage)", CmStructs.SOCKADDR_STORAGE_SIZE);
        constants.put("RDMA_MAX_PRIVATE_DATA_RC", (long) RdmaCoreDevice.MAX_PRIVATE_DATA);
        // The SPI's enums carry the native values; the provider passes them straight through.
        for (AccessFlag flag : AccessFlag.values()) {
            constants.put("IBV_ACCESS_" + flag.name(), (long) flag.value());
        }
        for (SendOpcode opcode : SendOpcode.values()) {
            constants.put("IBV_WR_" + opcode.name(), (long) opcode.value());
        }
        for (WcOpcode opcode : WcOpcode.values()) {
            constants.put("IBV_WC_" + opcode.name(), (long) opcode.value());
        }
        for (WcStatus status : WcStatus.values()) {
            constants.put("IBV_WC_" + (status == WcStatus.SUCCESS ? "SUCCESS" : status.name()), (long) status.value());
        }
        for (CmEventType type : CmEventType.values()) {
            constants.put("RDMA_CM_EVENT_" + type.name(), (long) type.value());
        }
        return constants;
    }

    private interface FieldSink {
        void accept(String field, long offset);
    }

    /** Walks named, non-padding members, descending into nested structs ({@code cap.max_send_wr}). */
    private static void fields(GroupLayout group, String prefix, long base, FieldSink sink) {
        long offset = base;
        for (MemoryLayout member : group.memberLayouts()) {
            if (!(member instanceof PaddingLayout) && member.name().isPresent()) {
                String name = prefix + member.name().get();
                if (member instanceof GroupLayout nested) {
                    fields(nested, name + ".", offset, sink);
                } else {
                    sink.accept(name, offset);
                }
            }
            offset += member.byteSize();
        }
    }

    private static String cProgram() {
        StringBuilder c = new StringBuilder("""
                #include <stddef.h>
                #include <stdio.h>
                #include <sys/resource.h>
                #include <sys/socket.h>
                #include <netinet/in.h>
                #include <linux/capability.h>
                #include <infiniband/verbs.h>
                #include <rdma/rdma_cma.h>
                /* IB CM REQ private data (92) less the rdma_cm header (36): see rdma_cma.h and the IBTA CM spec. */
                #define RDMA_MAX_PRIVATE_DATA_RC (92 - 36)
                #define OFF(s, f) printf("offsetof %s.%s=%zu\\n", #s, #f, offsetof(struct s, f))
                #define SIZE(s) printf("sizeof %s=%zu\\n", #s, sizeof(struct s))
                #define CONST(n) printf("const %s=%lld\\n", #n, (long long) (n))
                int main(void) {
                    printf("vctx context=%zu\\n",
                           offsetof(struct verbs_context, context) - offsetof(struct verbs_context, query_device_ex));
                    printf("vctx sz=%zu\\n",
                           offsetof(struct verbs_context, sz) - offsetof(struct verbs_context, query_device_ex));
                """);
        for (StructLayout struct : STRUCTS) {
            String name = struct.name().orElseThrow();
            c.append("    SIZE(").append(name).append(");\n");
            fields(struct, "", 0, (field, offset) ->
                    c.append("    OFF(").append(name).append(", ").append(field).append(");\n"));
        }
        constants().keySet().forEach(name -> c.append("    CONST(").append(name).append(");\n"));
        return c.append("    return 0;\n}\n").toString();
    }

    private static Map<String, String> select(String... prefixes) {
        Map<String, String> selected = new TreeMap<>();
        fromC.forEach((key, value) -> {
            for (String prefix : prefixes) {
                if (key.startsWith(prefix)) {
                    selected.put(key, value);
                }
            }
        });
        return selected;
    }

    private static String findOnPath(String... names) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            for (String name : names) {
                if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, name))) {
                    return Path.of(dir, name).toString();
                }
            }
        }
        return null;
    }

    private static List<String> run(List<String> command) throws Exception {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        List<String> lines = new ArrayList<>();
        try (var reader = process.inputReader(StandardCharsets.UTF_8)) {
            reader.lines().forEach(lines::add);
        }
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly();
        }
        return lines;
    }
}
