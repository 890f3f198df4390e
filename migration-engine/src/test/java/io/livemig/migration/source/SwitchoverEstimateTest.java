package io.livemig.migration.source;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The switchover decision on the whole downtime: pause, sync, final round and completion against the limit. */
class SwitchoverEstimateTest {

    private static final long MS = 1_000_000;
    private static final long PAGE = 4096;
    private static final long LIMIT = 300;
    /** The bulk round's bandwidth: 1 MiB writes at 128 MiB/s. */
    private static final long BULK_BANDWIDTH = 128L << 20;

    @Test
    void afterTheBulkRoundAloneDirtyPagesNeverSwitchOverEvenWhenTheBandwidthSaysTheyFit() {
        SwitchoverEstimate estimate = new SwitchoverEstimate();
        estimate.round(8192, 250 * MS, true);

        // 100 pages at 128 MiB/s is 4 ms, but scattered pages cost per write, and that cost is not known yet.
        assertThat(estimate.expectedDowntimeMillis(100 * PAGE, 0, BULK_BANDWIDTH)).isEqualTo(4);
        assertThat(estimate.fits(100 * PAGE, 0, BULK_BANDWIDTH, LIMIT)).isFalse();
        // Nothing dirty: nothing to gain by iterating.
        assertThat(estimate.fits(0, 0, BULK_BANDWIDTH, LIMIT)).isTrue();
        // avail-switchover-bandwidth is the user's word for the final round's rate (QEMU's override).
        assertThat(estimate.fits(100 * PAGE, 16L << 20, BULK_BANDWIDTH, LIMIT)).isTrue();
        assertThat(estimate.expectedDowntimeMillis(100 * PAGE, 16L << 20, BULK_BANDWIDTH)).isEqualTo(25);
    }

    @Test
    void theFinalRoundCostsWhatTheLastRoundOfDirtyPagesCostPerPage() {
        SwitchoverEstimate estimate = new SwitchoverEstimate();
        estimate.round(8192, 250 * MS, true);
        estimate.round(400, 200 * MS, false); // 500 us a page

        assertThat(estimate.expectedDowntimeMillis(600 * PAGE, 0, BULK_BANDWIDTH)).isEqualTo(300);
        assertThat(estimate.fits(600 * PAGE, 0, BULK_BANDWIDTH, LIMIT)).isTrue();
        assertThat(estimate.fits(601 * PAGE, 0, BULK_BANDWIDTH, LIMIT)).isFalse();
    }

    @Test
    void theSyncAndTheCompletionExchangesComeOffTheBudget() {
        SwitchoverEstimate estimate = new SwitchoverEstimate();
        estimate.round(400, 200 * MS, false); // 500 us a page
        estimate.dirtySync(20 * MS);
        estimate.exchange(10 * MS); // the completion: 3 exchanges, 30 ms

        // 550 pages: 275 ms of RAM fits 300 ms alone (the old rule switched over), not with 50 ms more.
        assertThat(estimate.fits(550 * PAGE, 0, BULK_BANDWIDTH, LIMIT)).isFalse();
        assertThat(estimate.expectedDowntimeMillis(400 * PAGE, 0, BULK_BANDWIDTH)).isEqualTo(250);
        assertThat(estimate.expectedDowntimeMillis(500 * PAGE, 0, BULK_BANDWIDTH)).isEqualTo(300);
        assertThat(estimate.fits(500 * PAGE, 0, BULK_BANDWIDTH, LIMIT)).isTrue();
        assertThat(estimate.fits(501 * PAGE, 0, BULK_BANDWIDTH, LIMIT)).isFalse();
    }

    @Test
    void aMeasuredSwitchoverRaisesTheNextEstimateAtOnceAndAFasterOneLowersItByHalf() {
        SwitchoverEstimate estimate = new SwitchoverEstimate();
        estimate.round(400, 200 * MS, false);
        estimate.exchange(2 * MS);
        assertThat(estimate.expectedDowntimeMillis(0, 0, BULK_BANDWIDTH)).isEqualTo(6);

        // Paused in 10 ms, then 60 ms from the final round's end to the destination's close, then 20 ms to close.
        estimate.switchedOver(10 * MS, 60 * MS);
        assertThat(estimate.expectedDowntimeMillis(0, 0, BULK_BANDWIDTH)).isEqualTo(70);
        estimate.connectionClosed(20 * MS);
        assertThat(estimate.expectedDowntimeMillis(0, 0, BULK_BANDWIDTH)).isEqualTo(90);
        assertThat(estimate.toString()).isEqualTo(
                "switchover estimate: pause 10 ms, sync 0 ms, page 500 us, completion 80 ms");

        // A faster switchover moves the estimate half way down: pause (10 + 2) / 2, completion (80 + 20) / 2.
        estimate.switchedOver(2 * MS, 20 * MS);
        assertThat(estimate.expectedDowntimeMillis(0, 0, BULK_BANDWIDTH)).isEqualTo(56);
        // A slower one raises it to what was measured.
        estimate.switchedOver(40 * MS, 200 * MS);
        assertThat(estimate.expectedDowntimeMillis(0, 0, BULK_BANDWIDTH)).isEqualTo(240);
    }
}
