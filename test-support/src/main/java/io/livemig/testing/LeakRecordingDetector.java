package io.livemig.testing;

import io.netty.util.ResourceLeakDetector;

/**
 * A Netty {@link ResourceLeakDetector} that, besides logging, records every leak it reports in
 * {@link LeakCheck} so that tests can fail on it.
 *
 * <p>Installed for every test JVM by the build with
 * {@code -Dio.netty.customResourceLeakDetector=io.livemig.testing.LeakRecordingDetector}; Netty's
 * default factory instantiates it reflectively through one of the two public constructors below.
 *
 * @param <T> the tracked resource type
 */
public final class LeakRecordingDetector<T> extends ResourceLeakDetector<T> {

    private final String resourceType;

    /**
     * Called by Netty's default {@code ResourceLeakDetectorFactory}.
     *
     * @param resourceType the tracked class
     * @param samplingInterval sampling interval (ignored at PARANOID level)
     * @param maxActive ignored, as in Netty
     */
    public LeakRecordingDetector(Class<?> resourceType, int samplingInterval, long maxActive) {
        this(resourceType, samplingInterval);
    }

    /**
     * Called by Netty's default {@code ResourceLeakDetectorFactory}.
     *
     * @param resourceType the tracked class
     * @param samplingInterval sampling interval (ignored at PARANOID level)
     */
    @SuppressWarnings("deprecation")
    public LeakRecordingDetector(Class<?> resourceType, int samplingInterval) {
        super(resourceType, samplingInterval, Long.MAX_VALUE);
        this.resourceType = resourceType.getSimpleName();
    }

    @Override
    protected boolean needReport() {
        // Always produce the report, even when the error log level is switched off.
        return true;
    }

    @Override
    protected void reportTracedLeak(String resourceType, String records) {
        LeakCheck.record("LEAK: " + resourceType + ".release() was not called before it was garbage-collected."
                + records);
        super.reportTracedLeak(resourceType, records);
    }

    @Override
    protected void reportUntracedLeak(String resourceType) {
        LeakCheck.record("LEAK: " + resourceType + ".release() was not called before it was garbage-collected"
                + " (no access records; tracked type " + this.resourceType + ").");
        super.reportUntracedLeak(resourceType);
    }
}
