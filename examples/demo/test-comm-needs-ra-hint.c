// test-comm.c for a kernel that must also have the readahead-hint prctl
// (PR_GET_RA_HINT, added on the mm tree): where it is missing the test
// cannot run and says so with exit 125, which kbisect takes as "skip", as
// git bisect run does. Exit 0 pass, 1 the PR_GET_NAME regression.
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>

#define PR_GET_RA_HINT 0x52414847

int main(void)
{
	const char *want = "kbisect-comm-15";
	char got[32] = { 0 };

	if (prctl(PR_GET_RA_HINT, 0, 0, 0, 0) < 0 && errno == EINVAL) {
		printf("no PR_GET_RA_HINT here: cannot test\n");
		return 125;
	}
	if (prctl(PR_SET_NAME, want, 0, 0, 0) || prctl(PR_GET_NAME, got, 0, 0, 0))
		return 125;
	if (strcmp(got, want) != 0) {
		printf("PR_GET_NAME gave \"%s\", want \"%s\"\n", got, want);
		return 1;
	}
	return 0;
}
