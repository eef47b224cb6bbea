//go:build race

package sockio

import "syscall"

// Under the race detector, the ordinary system calls: the detector learns
// from syscall's Read and Write that what one goroutine did before
// writing happened before what another does after reading it, as it does
// for the standard library's I/O. Raw calls would hide that ordering and
// make every exchange over a socket look like a race.
func sysRead(fd uintptr, p []byte) (int, syscall.Errno) {
	n, err := syscall.Read(int(fd), p)
	return max(n, 0), errno(err)
}

func sysWrite(fd uintptr, p []byte) (int, syscall.Errno) {
	n, err := syscall.Write(int(fd), p)
	return max(n, 0), errno(err)
}

func errno(err error) syscall.Errno {
	if err == nil {
		return 0
	}
	return err.(syscall.Errno)
}
