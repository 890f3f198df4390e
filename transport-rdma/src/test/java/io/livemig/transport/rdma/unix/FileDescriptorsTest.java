package io.livemig.transport.rdma.unix;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.foreign.Arena;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileDescriptorsTest {

    @Test
    void setNonBlockingAddsONonblockToABlockingFd(@TempDir Path dir) throws Exception {
        Path file = Files.createFile(dir.resolve("blocking"));
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            Set<Integer> fds = ProcSelf.fdsOpenOn(file);
            assertThat(fds).hasSize(1);
            int fd = fds.iterator().next();
            assertThat(ProcSelf.flags(fd) & Libc.O_NONBLOCK).isZero();

            FileDescriptors.setNonBlocking(fd);
            FileDescriptors.setNonBlocking(fd);

            assertThat(ProcSelf.flags(fd) & Libc.O_NONBLOCK).isEqualTo(Libc.O_NONBLOCK);
            assertThat(channel.isOpen()).isTrue();
        }
    }

    @Test
    void setNonBlockingOnABadFdFailsWithEbadf() {
        assertThatThrownBy(() -> FileDescriptors.setNonBlocking(99_999))
                .hasMessage("fcntl failed: EBADF (Bad file descriptor)");
    }

    @Test
    void pollReturnsZeroOnTimeout() throws Exception {
        try (EventFd eventFd = EventFd.open()) {
            assertThat(FileDescriptors.poll(eventFd.fd(), FileDescriptors.POLLIN, 10)).isZero();
        }
    }

    @Test
    void pollReportsWritableAndReadable() throws Exception {
        try (EventFd eventFd = EventFd.open()) {
            int both = FileDescriptors.POLLIN | FileDescriptors.POLLOUT;
            assertThat(FileDescriptors.poll(eventFd.fd(), both, -1)).isEqualTo(FileDescriptors.POLLOUT);

            eventFd.signal();

            assertThat(FileDescriptors.poll(eventFd.fd(), both, -1)).isEqualTo(both);
        }
    }

    @Test
    void pollOfAFdThatIsNotOpenReportsPollnval() throws Exception {
        assertThat(FileDescriptors.poll(99_999, FileDescriptors.POLLIN, 0)).isEqualTo(FileDescriptors.POLLNVAL);
    }

    @Test
    void closeOfAFdThatIsNotOpenFailsWithEbadf() {
        assertThatThrownBy(() -> FileDescriptors.close(99_999))
                .isInstanceOfSatisfying(NativeIoException.class, e -> assertThat(e.errno()).isEqualTo(Errno.EBADF))
                .hasMessage("close failed: EBADF (Bad file descriptor)");
    }

    @Test
    void closeReleasesTheFd() throws Exception {
        int fd;
        try (Arena arena = Arena.ofConfined()) {
            // A raw eventfd that nothing else owns, so closing it here cannot break an owner.
            fd = Libc.eventfd(Libc.allocateErrnoState(arena), 0, Libc.EFD_CLOEXEC);
        }
        assertThat(fd).isNotNegative();

        FileDescriptors.close(fd);

        assertThat(FileDescriptors.poll(fd, FileDescriptors.POLLIN, 0)).isEqualTo(FileDescriptors.POLLNVAL);
    }

    @Test
    void openFileDescriptorCountSeesANewFd() throws Exception {
        int before = FileDescriptors.openFileDescriptorCount();
        EventFd eventFd = EventFd.open();
        assertThat(FileDescriptors.openFileDescriptorCount()).isEqualTo(before + 1);

        eventFd.close();

        assertThat(FileDescriptors.openFileDescriptorCount()).isEqualTo(before);
    }
}
