package io.livemig.testing;

import net.jqwik.api.lifecycle.AfterContainerHook;
import net.jqwik.api.lifecycle.ContainerLifecycleContext;

/**
 * The jqwik counterpart of {@link LivemigTestExtension}'s leak check (jqwik runs on its own JUnit
 * Platform engine, so Jupiter extensions do not reach it). Use it on every jqwik class that touches
 * Netty buffers: {@code @AddLifecycleHook(JqwikLeakCheck.class)}.
 */
public final class JqwikLeakCheck implements AfterContainerHook {

    /** Creates the hook (instantiated by jqwik). */
    public JqwikLeakCheck() {
    }

    @Override
    public void afterContainer(ContainerLifecycleContext context) {
        LeakCheck.assertNoLeaks();
    }
}
