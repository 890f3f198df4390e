package io.livemig.testing;

import java.util.Optional;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.LifecycleMethodExecutionExceptionHandler;
import org.opentest4j.TestAbortedException;
import org.junit.jupiter.api.extension.TestWatcher;

/**
 * Applied to every JUnit Jupiter test class of the build (registered through
 * {@code META-INF/services/org.junit.jupiter.api.extension.Extension}, enabled by Surefire's
 * {@code junit.jupiter.extensions.autodetection.enabled=true}).
 *
 * <ul>
 *   <li>After each test class, fails the class if a Netty buffer leaked ({@link LeakCheck}).</li>
 *   <li>Prints why a test was skipped (an assumption such as "no RDMA device", "Docker not
 *       available", "needs root"), since Surefire's summary only counts skips.</li>
 * </ul>
 */
public final class LivemigTestExtension implements AfterAllCallback, TestWatcher,
        LifecycleMethodExecutionExceptionHandler {

    /** Creates the extension (instantiated by JUnit's service loader). */
    public LivemigTestExtension() {
    }

    @Override
    public void afterAll(ExtensionContext context) {
        LeakCheck.assertNoLeaks();
    }

    @Override
    public void testAborted(ExtensionContext context, Throwable cause) {
        System.out.println("SKIPPED " + testName(context) + ": " + reason(cause));
    }

    /**
     * The class and the test, and for a test of a {@code @ParameterizedClass} the invocation between them, as in
     * {@code RdmaChannelEchoTest[verbs].echoesManyMessagesWrittenBeforeOneFlush()}: which variant skipped.
     */
    private static String testName(ExtensionContext context) {
        String invocation = context.getParent().filter(LivemigTestExtension::isClassTemplateInvocation)
                .map(ExtensionContext::getDisplayName).orElse("");
        return context.getRequiredTestClass().getSimpleName() + invocation + "." + context.getDisplayName();
    }

    private static boolean isClassTemplateInvocation(ExtensionContext context) {
        String uniqueId = context.getUniqueId();
        return uniqueId.substring(uniqueId.lastIndexOf("/[") + 1).startsWith("[class-template-invocation:");
    }

    /** An assumption that fails in {@code @BeforeAll} skips the whole class: say so, then let JUnit skip it. */
    @Override
    public void handleBeforeAllMethodExecutionException(ExtensionContext context, Throwable cause) throws Throwable {
        if (cause instanceof TestAbortedException) {
            System.out.println("SKIPPED " + context.getRequiredTestClass().getSimpleName() + " (all tests): "
                    + reason(cause));
        }
        throw cause;
    }

    private static String reason(Throwable cause) {
        String reason = String.valueOf(cause.getMessage());
        // JUnit prefixes the assumption's own message; the reason is what the reader needs.
        return reason.startsWith("Assumption failed: ") ? reason.substring("Assumption failed: ".length()) : reason;
    }

    @Override
    public void testDisabled(ExtensionContext context, Optional<String> reason) {
        System.out.println("SKIPPED " + testName(context) + ": " + reason.orElse("disabled"));
    }
}
