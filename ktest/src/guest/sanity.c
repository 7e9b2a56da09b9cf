/* kbisect guest sanity test: syzbot's "basic kernel testing" in miniature.
 * Checks fork+wait, execve, anonymous and file mmap, and a file write/read
 * on tmpfs. On failure prints one "@@kbisect@@ sanity-failed: WHAT" line
 * on stdout (the console) and exits 1. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

static void fail(const char *what)
{
	printf("@@kbisect@@ sanity-failed: %s: %s\n", what, strerror(errno));
	fflush(stdout);
	exit(1);
}

int main(void)
{
	/* fork + wait */
	pid_t pid = fork();
	if (pid < 0)
		fail("fork");
	if (pid == 0)
		_exit(42);
	int status = 0;
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 42)
		fail("fork/wait");

	/* fork + execve */
	pid = fork();
	if (pid < 0)
		fail("fork for exec");
	if (pid == 0) {
		char *argv[] = {"busybox", "true", NULL};
		char *envp[] = {NULL};
		execve("/bin/busybox", argv, envp);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail("execve /bin/busybox true");

	/* anonymous mmap */
	size_t len = 1 << 20;
	unsigned char *mem = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		fail("mmap anonymous");
	for (size_t i = 0; i < len; i += 4096)
		mem[i] = (unsigned char)i;
	for (size_t i = 0; i < len; i += 4096)
		if (mem[i] != (unsigned char)i)
			fail("mmap anonymous readback");
	munmap(mem, len);

	/* file write, read back, mmap */
	const char msg[] = "kbisect sanity\n";
	int fd = open("/tmp/kbisect-sanity", O_CREAT | O_RDWR | O_TRUNC, 0600);
	if (fd < 0)
		fail("open /tmp/kbisect-sanity");
	if (write(fd, msg, sizeof(msg)) != (ssize_t)sizeof(msg))
		fail("write");
	if (fsync(fd) != 0)
		fail("fsync");
	char buf[sizeof(msg)];
	if (pread(fd, buf, sizeof(buf), 0) != (ssize_t)sizeof(buf) || memcmp(buf, msg, sizeof(msg)) != 0)
		fail("read back");
	char *map = mmap(NULL, sizeof(msg), PROT_READ, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED)
		fail("mmap file");
	if (memcmp(map, msg, sizeof(msg)) != 0)
		fail("mmap file contents");
	munmap(map, sizeof(msg));
	close(fd);
	unlink("/tmp/kbisect-sanity");
	return 0;
}
