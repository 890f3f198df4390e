package io.livemig.transport.rdma.verbs;

import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;

/** Looks verbs providers up by name among those registered with {@link ServiceLoader}. */
public final class Verbs {

    private Verbs() {
    }

    /**
     * Every provider on the class path, available or not.
     *
     * @return the providers in service-loader order
     */
    public static List<VerbsProvider> providers() {
        List<VerbsProvider> providers = new ArrayList<>();
        ServiceLoader.load(VerbsProvider.class, Verbs.class.getClassLoader()).forEach(providers::add);
        return List.copyOf(providers);
    }

    /**
     * The available provider with the given name.
     *
     * @param name the provider name, e.g. {@code "soft"}
     * @return the provider
     * @throws ProviderUnavailableException when no provider has that name, or it is unavailable; the message lists
     *         every provider found and why each unavailable one is unavailable
     */
    public static VerbsProvider provider(String name) throws ProviderUnavailableException {
        List<VerbsProvider> providers = providers();
        for (VerbsProvider provider : providers) {
            if (provider.name().equals(name)) {
                Throwable cause = provider.unavailabilityCause();
                if (cause != null) {
                    throw new ProviderUnavailableException("verbs provider '" + name + "' is unavailable: "
                            + cause.getMessage() + "; " + describe(providers), cause);
                }
                return provider;
            }
        }
        throw new ProviderUnavailableException("no verbs provider named '" + name + "'; " + describe(providers), null);
    }

    private static String describe(List<VerbsProvider> providers) {
        if (providers.isEmpty()) {
            return "no providers are registered in META-INF/services/" + VerbsProvider.class.getName();
        }
        StringBuilder text = new StringBuilder("providers: ");
        for (int i = 0; i < providers.size(); i++) {
            VerbsProvider provider = providers.get(i);
            Throwable cause = provider.unavailabilityCause();
            text.append(i == 0 ? "" : ", ").append(provider.name())
                    .append(cause == null ? " (available)" : " (unavailable: " + cause.getMessage() + ")");
        }
        return text.toString();
    }
}
