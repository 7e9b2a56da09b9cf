// Reproducer for the demo history's config-dependent bug (examples/demo/
// history.py, branch ra-stats): reading /proc/ra_hint_stats makes
// ra_hint_stats_show() dereference the reserved NULL policy of
// PR_RA_HINT_ADAPTIVE (BUG: unable to handle kernel NULL pointer dereference
// in ra_hint_stats_show). The file exists only in kernels built with
// CONFIG_RA_HINT_STATS=y, which the default config lacks (big.fragment has
// it); without it, and before the culprit, the reproducer finds nothing
// wrong.
// Built by ktest with `gcc -static`; prints what it read and exits 0.
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define PATH "/proc/ra_hint_stats"

int main(void)
{
	char buf[4096];

	/* Unbuffered: what was read is on the console before any oops. */
	setvbuf(stdout, NULL, _IONBF, 0);

	for (int i = 0; i < 3; i++) {
		int fd = open(PATH, O_RDONLY);
		ssize_t n, total = 0;

		if (fd < 0) {
			printf("open %s: %s%s\n", PATH, strerror(errno),
			       errno == ENOENT ? " (kernel without CONFIG_RA_HINT_STATS)" : "");
			return 0;
		}
		while ((n = read(fd, buf, sizeof(buf) - 1)) > 0) {
			buf[n] = 0;
			fputs(buf, stdout);
			total += n;
		}
		if (n < 0)
			printf("read %s: %s\n", PATH, strerror(errno));
		printf("read %zd bytes from %s\n", total, PATH);
		close(fd);
	}
	return 0;
}
