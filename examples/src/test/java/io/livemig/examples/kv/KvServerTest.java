package io.livemig.examples.kv;

import static org.assertj.core.api.Assertions.assertThat;

import io.livemig.migration.ram.RamBlock;
import io.livemig.migration.ram.RamBlocks;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A hold of the table's writes ({@link KvTable#holdWrites()}, a migration's soft-dirty harvest): a write that comes
 * during it waits for its end and is then stored, never refused; reads go on.
 */
@Timeout(30)
class KvServerTest {

    private final HttpClient http = HttpClient.newHttpClient();

    @Test
    void aWriteDuringAHoldWaitsForItsEndAndIsStoredWhileReadsGoOn() throws Exception {
        try (RamBlocks memory = RamBlocks.of(List.of(RamBlock.allocate("kv", 1 << 20, 0)));
                KvServer server = KvServer.start("A", new KvTable(memory.get(0), false, KvTable.State.SERVING))) {
            assertThat(put(server, "before", "1").get().statusCode()).isEqualTo(204);
            Runnable release = server.table().holdWrites();

            CompletableFuture<HttpResponse<String>> held = put(server, "during", "2");
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (server.table().waitingWrites() == 0) {
                assertThat(System.nanoTime()).as("the put reached the held table").isLessThan(deadline);
                LockSupport.parkNanos(1_000_000);
            }
            assertThat(get(server, "before")).isEqualTo("200 1");
            assertThat(held).as("answered during the hold").isNotDone();
            assertThat(server.table().get("during")).isEmpty();

            release.run();
            release.run(); // idempotent: a second release ends no other hold
            assertThat(held.get(10, TimeUnit.SECONDS).statusCode()).isEqualTo(204);
            assertThat(get(server, "during")).isEqualTo("200 2");
            assertThat(server.stored()).isEqualTo(2);
        }
    }

    @Test
    void aHeldTableAnswersHeldUntilTheLastHoldEndsAndAPauseStillRefuses() throws Exception {
        try (RamBlocks memory = RamBlocks.of(List.of(RamBlock.allocate("kv", 1 << 20, 0)))) {
            KvTable table = new KvTable(memory.get(0), false, KvTable.State.SERVING);
            byte[] value = "v".getBytes(StandardCharsets.UTF_8);
            Runnable first = table.holdWrites();
            Runnable second = table.holdWrites();
            assertThat(table.put("k", value)).isEqualTo(KvTable.PutResult.HELD);
            CompletableFuture<Void> writable = table.writable();
            first.run();
            first.run();
            assertThat(table.put("k", value)).isEqualTo(KvTable.PutResult.HELD);
            assertThat(writable).isNotDone();
            second.run();
            writable.get(10, TimeUnit.SECONDS);
            assertThat(table.writable()).isDone();
            assertThat(table.put("k", value)).isEqualTo(KvTable.PutResult.STORED);

            Runnable hold = table.holdWrites();
            table.pause();
            assertThat(table.put("k", value)).isEqualTo(KvTable.PutResult.REFUSED);
            hold.run();
        }
    }

    private CompletableFuture<HttpResponse<String>> put(KvServer server, String key, String value) {
        return http.sendAsync(HttpRequest.newBuilder(uri(server, key)).PUT(HttpRequest.BodyPublishers.ofString(value))
                .build(), HttpResponse.BodyHandlers.ofString());
    }

    private String get(KvServer server, String key) throws Exception {
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(uri(server, key)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        return response.statusCode() + " " + response.body();
    }

    private static URI uri(KvServer server, String key) {
        return URI.create("http://127.0.0.1:" + server.address().getPort() + "/kv/" + key);
    }
}
