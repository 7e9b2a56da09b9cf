// Reproducer for the demo history's planted bug (examples/demo/history.py):
// prctl(PR_SET_RA_HINT, PR_RA_HINT_ADAPTIVE) makes prctl_set_ra_hint()
// dereference the reserved NULL policy. Before the culprit the call fails with
// EINVAL, and before the feature prctl does not know the option at all.
//
// It first writes a page to /dev/null, as the benchmark this was reduced from
// did; that reaches the unrelated null_account() bug of another stretch.
// Built by ktest with `gcc -static`; prints what it did and exits 0.
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#define PR_SET_RA_HINT 0x52414849
#define PR_RA_HINT_ADAPTIVE 3

int main(void)
{
	static char page[4096];
	int fd = open("/dev/null", O_WRONLY);

	if (fd >= 0) {
		memset(page, 0x5a, sizeof(page));
		if (write(fd, page, sizeof(page)) < 0)
			perror("write /dev/null");
		close(fd);
	}
	for (int i = 0; i < 3; i++) {
		long r = prctl(PR_SET_RA_HINT, PR_RA_HINT_ADAPTIVE, 0, 0, 0);
		printf("prctl(PR_SET_RA_HINT, %d) = %ld\n", PR_RA_HINT_ADAPTIVE, r);
	}
	return 0;
}
