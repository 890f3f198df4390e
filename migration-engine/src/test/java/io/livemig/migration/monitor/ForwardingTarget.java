package io.livemig.migration.monitor;

import io.livemig.migration.params.MigrationCapabilities;
import io.livemig.migration.params.MigrationCapability;
import io.livemig.migration.params.MigrationParameters;
import io.livemig.migration.protocol.MigrationUri;
import io.livemig.migration.status.MigrationInfo;
import java.net.InetSocketAddress;
import java.util.Optional;
import reactor.core.publisher.Flux;

/** A target that hands every command to another; tests override the one they need to change. */
class ForwardingTarget implements MigrationTarget {

    private final MigrationTarget delegate;

    ForwardingTarget(MigrationTarget delegate) {
        this.delegate = delegate;
    }

    @Override
    public Role role() {
        return delegate.role();
    }

    @Override
    public MigrationCapabilities capabilities() {
        return delegate.capabilities();
    }

    @Override
    public void setCapability(MigrationCapability capability, boolean on) {
        delegate.setCapability(capability, on);
    }

    @Override
    public MigrationParameters parameters() {
        return delegate.parameters();
    }

    @Override
    public void setParameters(MigrationParameters parameters) {
        delegate.setParameters(parameters);
    }

    @Override
    public MigrationInfo info() {
        return delegate.info();
    }

    @Override
    public Flux<MigrationInfo> statusChanges() {
        return delegate.statusChanges();
    }

    @Override
    public void migrate(MigrationUri uri) {
        delegate.migrate(uri);
    }

    @Override
    public void cancel() {
        delegate.cancel();
    }

    @Override
    public void incoming(MigrationUri uri) {
        delegate.incoming(uri);
    }

    @Override
    public void quit() {
        delegate.quit();
    }

    @Override
    public Optional<InetSocketAddress> incomingAddress() {
        return delegate.incomingAddress();
    }
}
