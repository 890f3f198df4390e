package io.livemig.transport.rdma.channel;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The credit rules: a reserved credit for grants, grants due by threshold or when the peer starves. */
class CreditsTest {

    @Test
    void startsWithOneImplicitCreditAndGrantsTheRestOfTheWindow() {
        Credits credits = new Credits(true, 16);
        assertThat(credits.canSendData()).as("the implicit credit is reserved for the first grant").isFalse();
        credits.start(16);
        assertThat(credits.grantDue()).isTrue();
        assertThat(credits.spend()).isEqualTo(15);
        assertThat(credits.sendCredits()).isZero();
        assertThat(credits.grantDue()).isFalse();
    }

    @Test
    void dataNeedsTwoCreditsSoTheLastOneIsLeftForAGrant() {
        Credits credits = new Credits(true, 16);
        credits.received(2);
        assertThat(credits.sendCredits()).isEqualTo(3);
        assertThat(credits.canSendData()).isTrue();
        credits.spend();
        credits.spend();
        assertThat(credits.canSendData()).isFalse();
        credits.reposted(true);
        credits.reposted(true);
        credits.reposted(true);
        credits.reposted(true);
        assertThat(credits.grantDue()).as("a quarter of the window is waiting, one credit is left").isTrue();
    }

    @Test
    void aSingleGrantOnlyReceiveDoesNotTriggerAnotherGrant() {
        Credits credits = new Credits(true, 16);
        credits.received(10);
        credits.reposted(false);
        assertThat(credits.grantDue()).isFalse();
    }

    @Test
    void grantsEarlyWhenThePeerIsDownToItsReservedCredit() {
        Credits credits = new Credits(true, 64);
        credits.received(10);
        // The peer spent its implicit credit on this data: its estimate is now 0, one data slot is re-posted.
        credits.reposted(true);
        assertThat(credits.grantDue()).isTrue();
        assertThat(credits.spend()).isEqualTo(1);
    }

    @Test
    void disabledCreditsNeverLimitNorGrant() {
        Credits credits = new Credits(false, 16);
        credits.start(16);
        assertThat(credits.canSendData()).isTrue();
        assertThat(credits.grantDue()).isFalse();
        assertThat(credits.spend()).isZero();
    }
}
