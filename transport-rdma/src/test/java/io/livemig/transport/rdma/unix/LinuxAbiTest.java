package io.livemig.transport.rdma.unix;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.lang.foreign.StructLayout;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
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
 * Checks every struct offset, flag, event bit and errno of this package against the C headers and libc of this
 * machine, by compiling and running a C program that prints them. Skipped where no C compiler is installed.
 */
class LinuxAbiTest {

    private static final List<Class<?>> CONSTANT_HOLDERS =
            List.of(Libc.class, Epoll.class, FileDescriptors.class);

    private static Map<String, String> fromC;

    @BeforeAll
    static void runCProgram(@TempDir Path dir) throws Exception {
        String compiler = findOnPath("gcc", "cc");
        assumeTrue(compiler != null, "no C compiler (gcc or cc) on PATH");
        Path source = dir.resolve("abi.c");
        Files.writeString(source, cProgram());
        Path binary = dir.resolve("abi");
        List<String> compileOutput = run(List.of(compiler, "-o", binary.toString(), source.toString()));
        // libc's headers come with every C compiler here: a program that does not compile is a wrong constant name,
        // and must fail the test rather than skip it.
        assertThat(Files.isExecutable(binary)).as("the ABI probe compiles:%n%s", String.join("\n", compileOutput))
                .isTrue();
        fromC = new TreeMap<>();
        for (String line : run(List.of(binary.toString()))) {
            int eq = line.indexOf('=');
            fromC.put(line.substring(0, eq), line.substring(eq + 1));
        }
    }

    @Test
    void structLayoutsMatchTheHeaders() {
        Map<String, String> java = new TreeMap<>();
        putLayout(java, "epoll_event", EpollEventArray.EPOLL_EVENT, "events", "data");
        putLayout(java, "pollfd", FileDescriptors.POLLFD, "fd", "events", "revents");

        assertThat(select(fromC, "struct ")).isEqualTo(java);
    }

    @Test
    void constantsMatchTheHeaders() throws Exception {
        Map<String, String> java = new TreeMap<>();
        for (Class<?> holder : CONSTANT_HOLDERS) {
            for (Field field : intConstants(holder)) {
                java.put("const " + field.getName(), Integer.toString(field.getInt(null)));
            }
        }

        assertThat(select(fromC, "const ")).isEqualTo(java);
    }

    @Test
    void errnoNumbersAndDescriptionsMatchLibc() throws Exception {
        Map<String, String> java = new TreeMap<>();
        for (Field field : intConstants(Errno.class)) {
            int errno = field.getInt(null);
            java.put("errno " + field.getName(), errno + "|" + Errno.description(errno));
            if (!field.getName().equals("ENOTSUP")) { // an alias: its number is named EOPNOTSUPP
                assertThat(Errno.name(errno)).isEqualTo(field.getName());
            }
        }

        assertThat(select(fromC, "errno ")).isEqualTo(java);
    }

    private static String cProgram() {
        StringBuilder c = new StringBuilder("""
                #include <errno.h>
                #include <fcntl.h>
                #include <poll.h>
                #include <stddef.h>
                #include <stdio.h>
                #include <string.h>
                #include <sys/epoll.h>
                #include <sys/eventfd.h>
                #include <sys/mman.h>
                #include <unistd.h>
                #define SC_PAGESIZE _SC_PAGESIZE
                #define LAYOUT(s, f) printf("struct %s.%s=%zu\\n", #s, #f, offsetof(struct s, f))
                #define SIZE(s) printf("struct %s=%zu\\n", #s, sizeof(struct s))
                #define CONST(n) printf("const %s=%d\\n", #n, (int) (n))
                #define ERRNO(n) printf("errno %s=%d|%s\\n", #n, n, strerror(n))
                int main(void) {
                    SIZE(epoll_event); LAYOUT(epoll_event, events); LAYOUT(epoll_event, data);
                    SIZE(pollfd); LAYOUT(pollfd, fd); LAYOUT(pollfd, events); LAYOUT(pollfd, revents);
                """);
        try {
            for (Class<?> holder : CONSTANT_HOLDERS) {
                for (Field field : intConstants(holder)) {
                    c.append("    CONST(").append(field.getName()).append(");\n");
                }
            }
            for (Field field : intConstants(Errno.class)) {
                c.append("    ERRNO(").append(field.getName()).append(");\n");
            }
        } catch (ReflectiveOperationException e) {
            throw new AssertionError(e);
        }
        return c.append("    return 0;\n}\n").toString();
    }

    private static List<Field> intConstants(Class<?> holder) throws ReflectiveOperationException {
        List<Field> constants = new ArrayList<>();
        for (Field field : holder.getDeclaredFields()) {
            int modifiers = field.getModifiers();
            if (field.getType() == int.class && Modifier.isStatic(modifiers) && Modifier.isFinal(modifiers)
                    && !Modifier.isPrivate(modifiers)) {
                constants.add(field);
            }
        }
        return constants;
    }

    private static void putLayout(Map<String, String> into, String struct, StructLayout layout, String... fields) {
        into.put("struct " + struct, Long.toString(layout.byteSize()));
        for (String field : fields) {
            into.put("struct " + struct + "." + field, Long.toString(layout.byteOffset(groupElement(field))));
        }
    }

    private static Map<String, String> select(Map<String, String> all, String prefix) {
        Map<String, String> selected = new TreeMap<>();
        all.forEach((key, value) -> {
            if (key.startsWith(prefix)) {
                selected.put(key, value);
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
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        // The C locale, so strerror gives the untranslated text that Errno holds.
        builder.environment().put("LC_ALL", "C");
        Process process = builder.start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(process.waitFor(60, TimeUnit.SECONDS)).as("%s finished", command).isTrue();
        return output.lines().toList();
    }
}
