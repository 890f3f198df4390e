package io.livemig.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;

/**
 * The seed inputs of a Jazzer fuzz test, kept under {@code src/test/resources/<package>/<Class>Inputs/<method>/}
 * where Jazzer finds them (it runs them as regression inputs in the normal build and starts fuzzing from them).
 *
 * <p>Seeds are made by the project's own encoders, so a test calls {@link #check} with what the encoders produce
 * today: it fails when a checked-in seed differs (the encoders changed and the corpus went stale), and with
 * {@code -Dlivemig.fuzz.writeSeeds=true} it writes the files instead. Run from the module's directory, as Surefire
 * does.
 */
public final class FuzzInputs {

    /** The system property that makes {@link #check} write the seeds rather than compare them. */
    public static final String WRITE_PROPERTY = "livemig.fuzz.writeSeeds";

    private FuzzInputs() {
    }

    /**
     * Compares (or writes) the seed files of one fuzz test method.
     *
     * @param fuzzTestClass the class holding the {@code @FuzzTest}
     * @param method the {@code @FuzzTest} method's name
     * @param seeds file name to content
     * @throws AssertionError when a checked-in seed is missing or differs
     */
    public static void check(Class<?> fuzzTestClass, String method, Map<String, byte[]> seeds) {
        Path dir = directory(fuzzTestClass, method);
        boolean write = Boolean.getBoolean(WRITE_PROPERTY);
        try {
            if (write) {
                Files.createDirectories(dir);
            }
            for (Map.Entry<String, byte[]> seed : new TreeMap<>(seeds).entrySet()) {
                Path file = dir.resolve(seed.getKey());
                if (write) {
                    Files.write(file, seed.getValue());
                } else if (!Files.isRegularFile(file)) {
                    throw new AssertionError("seed " + file + " is missing; run with -D" + WRITE_PROPERTY + "=true");
                } else if (!java.util.Arrays.equals(Files.readAllBytes(file), seed.getValue())) {
                    throw new AssertionError("seed " + file + " differs from what the encoders produce; run with -D"
                            + WRITE_PROPERTY + "=true");
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Where Jazzer looks for a method's inputs, relative to the module's directory.
     *
     * @param fuzzTestClass the class holding the {@code @FuzzTest}
     * @param method the method's name
     * @return {@code src/test/resources/<package path>/<Class>Inputs/<method>}
     */
    public static Path directory(Class<?> fuzzTestClass, String method) {
        return Path.of("src", "test", "resources")
                .resolve(fuzzTestClass.getPackageName().replace('.', '/'))
                .resolve(fuzzTestClass.getSimpleName() + "Inputs")
                .resolve(method);
    }
}
