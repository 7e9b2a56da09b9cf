// Reproducer for the demo history's planted bug (examples/demo/history.py):
// prctl(PR_SET_RA_HINT, PR_RA_HINT_ADAPTIVE) makes prctl_set_ra_hint()
// dereference the reserved NULL policy. Before the culprit the call fails with
// EINVAL, and before the feature prctl does not know the option at all.
//
// Once per boot it first writes a page to /dev/null, as the benchmark this
// was reduced from did to warm up; that reaches the unrelated null_account()
// bug of another stretch, which then fires in about a third of the boots.
// (ktest runs the reproducer in a loop; the warm-up mark lives on the guest's
// fresh root, so it is per boot, not per iteration.)
// Built by ktest with `gcc -static`; prints what it did and exits 0.
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#define PR_SET_RA_HINT 0x52414849
#define PR_RA_HINT_ADAPTIVE 3

static const char *const marks[] = { "/tmp/.repro-warm", "/dev/.repro-warm", "/.repro-warm", ".repro-warm" };

// 1 the first time in this boot, 0 afterwards.
static int first_in_boot(void)
{
	for (unsigned i = 0; i < sizeof(marks) / sizeof(marks[0]); i++)
		if (access(marks[i], F_OK) == 0)
			return 0;
	for (unsigned i = 0; i < sizeof(marks) / sizeof(marks[0]); i++) {
		int fd = open(marks[i], O_WRONLY | O_CREAT, 0644);
		if (fd >= 0) {
			close(fd);
			break;
		}
	}
	return 1;
}

int main(void)
{
	static char page[4096];
	int fd = first_in_boot() ? open("/dev/null", O_WRONLY) : -1;

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
