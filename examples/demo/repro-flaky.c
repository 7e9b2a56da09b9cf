// The flaky variant of repro.c: it reaches the planted bug in only about 30% of
// boots. The choice is made once per boot (kept in a file on the guest's
// fresh, memory-backed root or /dev), so running it again in the same VM gives
// the same answer, as a reproducer that depends on boot-time state would.
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/auxv.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#ifndef GRND_INSECURE
#define GRND_INSECURE 0x0004
#endif

#define PR_SET_RA_HINT 0x52414849
#define PR_RA_HINT_ADAPTIVE 3
#define PERCENT 30

static const char *const marks[] = { "/tmp/.repro-flaky", "/dev/.repro-flaky", "/.repro-flaky",
				     ".repro-flaky" };

// 1 when this boot is one that hits the bug; decided once per boot.
static int this_boot_hits(void)
{
	unsigned int rnd = 0;
	unsigned char c;

	for (unsigned i = 0; i < sizeof(marks) / sizeof(marks[0]); i++) {
		int fd = open(marks[i], O_RDONLY);
		if (fd >= 0) {
			ssize_t n = read(fd, &c, 1);
			close(fd);
			if (n == 1)
				return c == '1';
		}
	}
	// Never wait for the entropy pool: early in a TCG guest's boot a
	// blocking getrandom() can wait past the run's end, which then ends
	// "ok": the hit rate fell below PERCENT when the host was busy. GRND_INSECURE (5.6+) does not
	// block; the exec-time AT_RANDOM bytes and the clock back it up.
	if (getrandom(&rnd, sizeof(rnd), GRND_INSECURE | GRND_NONBLOCK) != sizeof(rnd)) {
		const unsigned char *at_random = (const unsigned char *)getauxval(AT_RANDOM);
		struct timespec ts;

		if (at_random)
			memcpy(&rnd, at_random, sizeof(rnd));
		clock_gettime(CLOCK_MONOTONIC, &ts);
		rnd ^= (unsigned int)ts.tv_nsec * 2654435761u;
	}
	c = (rnd % 100) < PERCENT ? '1' : '0';
	for (unsigned i = 0; i < sizeof(marks) / sizeof(marks[0]); i++) {
		int fd = open(marks[i], O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd >= 0) {
			ssize_t n = write(fd, &c, 1);
			close(fd);
			if (n == 1)
				break;
		}
	}
	return c == '1';
}

int main(void)
{
	int hint = this_boot_hits() ? PR_RA_HINT_ADAPTIVE : 1;
	long r = prctl(PR_SET_RA_HINT, hint, 0, 0, 0);

	printf("prctl(PR_SET_RA_HINT, %d) = %ld\n", hint, r);
	return 0;
}
